#!/usr/bin/env bash
# Token-endpoint benchmark: Keyport (release) on SQLite and on PostgreSQL, and node-oidc-provider,
# each alone on this machine, driven by the same wrk load over loopback with a registered
# confidential client (client credentials, ES256 JWT access tokens). Prints a markdown table:
# tokens/s, p50/p99 latency, p99 at a paced ~12,000 requests/s, peak RSS, errors, and the
# Keyport / node-oidc-provider ratios. Then, against the same Keyport servers, the
# refresh-token grant (a durable write per request): refreshes/s, p50/p99, p99 at a paced
# ~2,000/s, and where the time goes (CPU of server, database and wrk; the disk's writes and
# flushes). See bench/README.md.
#
# Usage: bench/run.sh [--seconds N] [--only LIST] [--results FILE] [--no-build] [--help]
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bench/run.sh [options]

  --seconds N      length of each measured run (env BENCH_SECONDS, default 10)
  --warmup N       warm-up before the measured run (env BENCH_WARMUP, default 3)
  --only LIST      comma-separated subset of keyport-sqlite,keyport-pg,oidc-provider
                   (env BENCH_ONLY)
  --results FILE   also write the report (markdown) to FILE, e.g. bench/RESULTS.md
  --no-build       use the existing release binary instead of running cargo build
                   (env BENCH_NO_BUILD=1)
  --pages          only the page section (bench/pages.sh) against the existing release binary
  --flood          only the sign-in flood section (bench/signin_flood.sh), likewise
  -h, --help       this text

Other settings (environment): BENCH_THREADS (wrk -t, default 1), BENCH_CONNECTIONS
(wrk -c, default 64), BENCH_RATE (paced run, default 12000), BENCH_BODY (form body,
default "grant_type=client_credentials&scope=orders:read"), BENCH_PG_URL (server URL,
default postgres://postgres@127.0.0.1:5432), KEYPORT_BIN (binary to run instead of
building), BENCH_STRICT=1 (also exit 3 when a target in bench/README.md is missed).
The refresh-token grant: BENCH_REFRESH_CONNECTIONS (wrk -c, default 16), BENCH_REFRESH_RATE
(paced run, default 2000), BENCH_REFRESH_TOKENS (live refresh tokens made for each wrk run,
default 4 x BENCH_REFRESH_CONNECTIONS; at least 2 x).

Exit status: 0 when every target ran without errors, 1 when one could not be started or
answered with errors (its row says why), 2 on bad usage, 3 with BENCH_STRICT=1 when a
performance target was missed.
EOF
}

BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_WARMUP=${BENCH_WARMUP:-3}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}
BENCH_RATE=${BENCH_RATE:-12000}
BENCH_BODY=${BENCH_BODY:-grant_type=client_credentials&scope=orders:read}
BENCH_PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}
BENCH_ONLY=${BENCH_ONLY:-keyport-sqlite,keyport-pg,oidc-provider,nginx-floor}
BENCH_NO_BUILD=${BENCH_NO_BUILD:-0}
BENCH_STRICT=${BENCH_STRICT:-0}
BENCH_REFRESH_CONNECTIONS=${BENCH_REFRESH_CONNECTIONS:-16}
BENCH_REFRESH_RATE=${BENCH_REFRESH_RATE:-2000}
BENCH_REFRESH_TOKENS=${BENCH_REFRESH_TOKENS:-}
RESULTS_FILE=""

while (($#)); do
  case "$1" in
    --seconds) BENCH_SECONDS=${2:?--seconds needs a number}; shift 2 ;;
    --seconds=*) BENCH_SECONDS=${1#*=}; shift ;;
    --warmup) BENCH_WARMUP=${2:?--warmup needs a number}; shift 2 ;;
    --warmup=*) BENCH_WARMUP=${1#*=}; shift ;;
    --only) BENCH_ONLY=${2:?--only needs a list}; shift 2 ;;
    --only=*) BENCH_ONLY=${1#*=}; shift ;;
    --results) RESULTS_FILE=${2:?--results needs a file}; shift 2 ;;
    --results=*) RESULTS_FILE=${1#*=}; shift ;;
    --no-build) BENCH_NO_BUILD=1; shift ;;
    --pages) exec "$(dirname "$0")/pages.sh" ;;
    --flood) exec "$(dirname "$0")/signin_flood.sh" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
positive() { # names of variables that must hold positive whole numbers (BENCH_WARMUP may be 0)
  local n
  for n in "$@"; do
    if ! [[ ${!n} =~ ^[0-9]+$ ]] || { [[ $n != BENCH_WARMUP ]] && ((${!n} == 0)); }; then
      echo "bench: $n must be a positive whole number, not '${!n}'" >&2
      exit 2
    fi
  done
}
positive BENCH_SECONDS BENCH_WARMUP BENCH_THREADS BENCH_CONNECTIONS BENCH_RATE \
  BENCH_REFRESH_CONNECTIONS BENCH_REFRESH_RATE
BENCH_REFRESH_TOKENS=${BENCH_REFRESH_TOKENS:-$((4 * BENCH_REFRESH_CONNECTIONS))}
positive BENCH_REFRESH_TOKENS
# Each connection holds one token while its request is out; the rest of the pool is slack for
# failed refreshes, which lose their token.
if ((BENCH_REFRESH_TOKENS < 2 * BENCH_REFRESH_CONNECTIONS)); then
  echo "bench: BENCH_REFRESH_TOKENS must be at least 2 x BENCH_REFRESH_CONNECTIONS" >&2
  exit 2
fi
for t in ${BENCH_ONLY//,/ }; do
  case "$t" in
    keyport-sqlite | keyport-pg | oidc-provider | nginx-floor) ;;
    *) echo "bench: unknown target '$t' in --only (keyport-sqlite, keyport-pg, oidc-provider, nginx-floor)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BENCH_DIR=$ROOT/bench
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'bench: %s\n' "$*" >&2; }
wants() { [[ ",$BENCH_ONLY," == *",$1,"* ]]; }

# ---------------------------------------------------------------------------------------------
# Cleanup: every process this script started, the PostgreSQL database, the temp dir.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/keyport-bench.XXXXXX")
PIDS=()
PG_DB=""
PG_CREATED=0

stop_pid() {
  local pid=$1 i p rest=()
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || rest+=("$p"); done
  PIDS=("${rest[@]}")
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  PIDS=()
  if ((PG_CREATED)); then
    psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL/postgres" \
      -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 ||
      warn "could not drop PostgreSQL database $PG_DB"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Tools.
apt_install() {
  say "installing $* from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v curl >/dev/null 2>&1 || apt_install curl
if wants keyport-pg; then command -v psql >/dev/null 2>&1 || apt_install postgresql-client; fi
if wants keyport-sqlite || wants keyport-pg; then command -v python3 >/dev/null 2>&1 || apt_install python3; fi

# A free loopback port (not perfect: another process may take it before the server does).
free_port() {
  local port
  for ((;;)); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Results, one associative array per field, keyed by target; a Keyport target's refresh-token
# runs by TARGET/refresh.
declare -A RPS P50 P99 PACED_P99 PACED_RPS RSS ERRORS STATUS SERVER_CORES CPU_US MACHINE_BUSY \
  WRK_CORES DB_CORES DISK_WPS DISK_WMS DISK_FPS
TARGETS=()
REFRESH_TARGETS=()
FAILED=0

fail_target() { # target reason
  STATUS[$1]="not run: $2"
  FAILED=1
  warn "$1: $2"
}

# Waits until URL answers 200, or the process dies, or 30 s pass.
wait_ready() { # pid url log
  local pid=$1 url=$2 log=$3 i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      warn "the server exited during start-up; its last lines:"
      tail -n 20 "$log" >&2 || true
      return 1
    fi
    if [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null) == 200 ]]; then
      return 0
    fi
    sleep 0.1
  done
  warn "$url did not answer 200 within 30 s; the server's last lines:"
  tail -n 20 "$log" >&2 || true
  return 1
}

b64url_decode() {
  local s=${1//-/+}
  s=${s//_//}
  case $((${#s} % 4)) in 2) s+="==" ;; 3) s+="=" ;; esac
  printf '%s' "$s" | base64 -d 2>/dev/null
}

# One token request by hand: must be 200 with an ES256 JWT access token. Sets CHECK_REASON.
check_token() { # target url auth
  local target=$1 url=$2 auth=$3 out=$WORK/$1.check.json code token header
  code=$(curl -s -o "$out" -m 10 -w '%{http_code}' -X POST \
    -H "Authorization: $auth" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "$BENCH_BODY" "$url" 2>/dev/null) || code=000
  if [[ $code == 404 ]]; then
    CHECK_REASON="token endpoint /${url#http://*/} answers 404 (not implemented in this build?)"
    return 1
  elif [[ $code != 200 ]]; then
    CHECK_REASON="token request answered $code: $(head -c 300 "$out" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  token=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$out")
  if [[ $token != *.*.* ]]; then
    CHECK_REASON="200 without a JWT access_token: $(head -c 300 "$out")"
    return 1
  fi
  header=$(b64url_decode "${token%%.*}")
  if ! grep -q '"alg" *: *"ES256"' <<<"$header"; then
    CHECK_REASON="access token is not ES256; JWT header: $header"
    return 1
  fi
  if ! grep -q '"scope" *: *"orders:read"' "$out"; then
    warn "$target: the token answer has no \"scope\":\"orders:read\": $(head -c 300 "$out")"
  fi
  say "$target: token check ok ($(wc -c <"$out") bytes, JWT header $header)"
  return 0
}

# Runs wrk with bench/token.lua; prints the RESULT line's fields as "key=value" words, after
# wrk_cpu_s=<CPU seconds wrk used>. With POOL-FILE, the refresh-token grant spends its tokens.
run_wrk() { # url auth seconds connections [rate] [pool-file]
  local url=$1 auth=$2 seconds=$3 conns=$4 rate=${5:-} pool=${6:-} out cpu
  out=$(
    BENCH_AUTH=$auth BENCH_BODY=$BENCH_BODY BENCH_RATE=$rate BENCH_THREADS=$BENCH_THREADS \
      BENCH_POOL=$pool timeout $((seconds + 30)) wrk -t"$BENCH_THREADS" -c"$conns" \
      -d"${seconds}s" --timeout 2s -s "$BENCH_DIR/token.lua" "$url" 2>&1
    rc=$?
    # The CPU time of this subshell's children, timeout and wrk: the last line of `times`
    # (not piped, since a forked builtin would count its own children).
    times
    exit $rc
  ) || {
    warn "wrk failed: $out"
    return 1
  }
  cpu=$(tail -n 1 <<<"$out" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
    printf "%.2f", t }')
  grep '^RESULT ' <<<"$out" | tail -n 1 | sed "s/^RESULT /wrk_cpu_s=${cpu:-0} /" || {
    warn "wrk printed no RESULT line: $out"
    return 1
  }
}

field() { # "k=v k=v ... first_error=..." key
  awk -v key="$2" '{ sub(/ first_error=.*/, ""); for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) print substr($i, length(key) + 2) }' <<<"$1"
}

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# CPU time a process has used so far, in clock ticks (utime + stime of /proc/PID/stat; the
# fields after the parenthesised command name, which may itself hold spaces).
process_ticks() { # pid
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# Busy and total clock ticks of the whole machine (every core) so far.
machine_ticks() {
  awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
# CPU ticks of every PostgreSQL server process on this machine (its backends do keyport-pg's
# database work), or nothing when none runs here. cat, because a process may end mid-read.
postgres_ticks() {
  cat /proc/[0-9]*/stat 2>/dev/null |
    awk '$2 == "(postgres)" { t += $14 + $15; n++ } END { if (n) print t }'
}
# The block device (as /proc/diskstats names it) that holds PATH, or nothing.
disk_of() { # path
  local src
  src=$(findmnt -no SOURCE -T "$1" 2>/dev/null | head -n 1) || return 0
  [[ $src == /dev/* ]] || return 0
  src=$(basename "$(readlink -f "$src")")
  awk -v d="$src" '$3 == d { print d; exit }' /proc/diskstats
}
# Writes completed, milliseconds spent writing, and flushes completed so far on DEVICE.
disk_counters() { # device
  [[ -z $1 ]] || awk -v d="$1" '$3 == d { print $8, $11, $19; exit }' /proc/diskstats
}

# The load itself, against a server that passed its check: a warm-up, a flat-out run and a
# paced one. With POOL-PREFIX (the refresh-token grant) run R spends the tokens of
# POOL-PREFIX.R. DEVICE is the disk holding the database; PG=1 counts PostgreSQL's CPU.
measure() { # target pid url auth connections rate [pool-prefix] [device] [pg]
  local target=$1 pid=$2 url=$3 auth=$4 conns=$5 rate=$6 pool=${7:-} device=${8:-} pg=${9:-0} r errs rss
  if ((BENCH_WARMUP > 0)); then
    say "$target: warm-up ${BENCH_WARMUP}s"
    run_wrk "$url" "$auth" "$BENCH_WARMUP" "$conns" "" "${pool:+$pool.warmup}" >/dev/null || true
  fi
  say "$target: ${BENCH_SECONDS}s flat out (wrk -t$BENCH_THREADS -c$conns)"
  local ticks0 busy0 total0 db0="" disk0="" started ticks1 busy1 total1 db1="" disk1="" ended
  if ((pg)); then db0=$(postgres_ticks); fi
  disk0=$(disk_counters "$device")
  ticks0=$(process_ticks "$pid")
  read -r busy0 total0 < <(machine_ticks)
  started=$(date +%s.%N)
  r=$(run_wrk "$url" "$auth" "$BENCH_SECONDS" "$conns" "" "${pool:+$pool.flat}") ||
    { fail_target "$target" "wrk failed"; return; }
  ended=$(date +%s.%N)
  ticks1=$(process_ticks "$pid")
  read -r busy1 total1 < <(machine_ticks)
  disk1=$(disk_counters "$device")
  if ((pg)); then db1=$(postgres_ticks); fi
  say "$target: $r"
  # Cores the server kept busy on average, its CPU time per token, and how busy the whole
  # machine was (server, wrk and the kernel's loopback work together).
  SERVER_CORES[$target]=$(awk -v t="$((ticks1 - ticks0))" -v hz="$CLK_TCK" -v s="$started" -v e="$ended" \
    'BEGIN { printf "%.2f", t / hz / (e - s) }')
  MACHINE_BUSY[$target]=$(awk -v b="$((busy1 - busy0))" -v t="$((total1 - total0))" \
    'BEGIN { if (t > 0) printf "%.0f", 100 * b / t; else print "?" }')
  RPS[$target]=$(field "$r" rps)
  CPU_US[$target]=$(awk -v c="${SERVER_CORES[$target]}" -v r="${RPS[$target]}" \
    'BEGIN { if (r > 0) printf "%.0f", c * 1e6 / r; else print "?" }')
  WRK_CORES[$target]=$(awk -v c="$(field "$r" wrk_cpu_s)" -v s="$started" -v e="$ended" \
    'BEGIN { printf "%.2f", c / (e - s) }')
  if [[ -n $db0 && -n $db1 ]]; then
    DB_CORES[$target]=$(awk -v t="$((db1 - db0))" -v hz="$CLK_TCK" -v s="$started" -v e="$ended" \
      'BEGIN { printf "%.2f", t / hz / (e - s) }')
  fi
  if [[ -n $disk0 && -n $disk1 ]]; then
    # Writes and flushes per second of the database's disk, and the time each write took.
    read -r DISK_WPS[$target] DISK_WMS[$target] DISK_FPS[$target] < <(
      awk -v a="$disk0" -v b="$disk1" -v s="$started" -v e="$ended" 'BEGIN {
        split(a, x, " "); split(b, y, " "); w = y[1] - x[1]; d = e - s
        printf "%.0f %s %.0f\n", w / d, (w > 0 ? sprintf("%.2f", (y[2] - x[2]) / w) : "-"), (y[3] - x[3]) / d }')
  fi
  P50[$target]=$(field "$r" p50_ms)
  P99[$target]=$(field "$r" p99_ms)
  errs=$(($(field "$r" non2xx) + $(field "$r" socket_errors) + 0))
  local first
  first=$(sed -n 's/.*first_error=//p' <<<"$r")

  say "$target: ${BENCH_SECONDS}s paced at ~$rate/s"
  r=$(run_wrk "$url" "$auth" "$BENCH_SECONDS" "$conns" "$rate" "${pool:+$pool.paced}") ||
    { fail_target "$target" "wrk failed"; return; }
  say "$target: $r"
  PACED_RPS[$target]=$(field "$r" rps)
  PACED_P99[$target]=$(field "$r" p99_ms)
  errs=$((errs + $(field "$r" non2xx) + $(field "$r" socket_errors) + 0))
  [[ $first != - ]] || first=$(sed -n 's/.*first_error=//p' <<<"$r")

  if ! kill -0 "$pid" 2>/dev/null; then
    fail_target "$target" "the server died during the run"
    return
  fi
  rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
  RSS[$target]=$(awk -v kb="${rss:-0}" 'BEGIN { printf "%.1f", kb / 1024 }')
  ERRORS[$target]=$errs
  if ((errs > 0)); then
    STATUS[$target]="INVALID: $errs errors, first: $first"
    FAILED=1
    warn "$target: $errs failed requests; first: $first"
  else
    STATUS[$target]=ok
  fi
}

# A started server, from ready to stopped: waits for READY_URL, checks one token by hand,
# measures, and stops it whatever happened.
check_and_measure() { # target pid ready-url log not-ready-reason token-url auth
  local target=$1 pid=$2 ready_url=$3 log=$4 not_ready=$5 token_url=$6 auth=$7
  if ! wait_ready "$pid" "$ready_url" "$log"; then
    fail_target "$target" "$not_ready"
  elif ! check_token "$target" "$token_url" "$auth"; then
    fail_target "$target" "$CHECK_REASON"
  else
    measure "$target" "$pid" "$token_url" "$auth" "$BENCH_CONNECTIONS" "$BENCH_RATE"
  fi
  stop_pid "$pid"
}

# ---------------------------------------------------------------------------------------------
# Keyport.
KEYPORT_BIN=${KEYPORT_BIN:-}
KEYPORT_BIN_GIVEN=$KEYPORT_BIN # another binary: the crypto of this checkout may not be its
KEYPORT_READY=0
KEYPORT_ERROR="keyport was not prepared"
prepare_keyport() {
  if [[ -n $KEYPORT_BIN ]]; then
    [[ -x $KEYPORT_BIN ]] || { KEYPORT_ERROR="KEYPORT_BIN=$KEYPORT_BIN is not an executable"; return 1; }
  else
    KEYPORT_BIN=$TARGET_DIR/release/keyport
    if ((BENCH_NO_BUILD)); then
      [[ -x $KEYPORT_BIN ]] || { KEYPORT_ERROR="$KEYPORT_BIN missing (--no-build)"; return 1; }
    else
      # The binary as shipped: the portal's assets built and compressed into it.
      say "building keyport (release): cargo leptos build --release --precompress --split"
      if ! (cd "$ROOT" && PATH="$ROOT/node_modules/.bin:$PATH" cargo leptos build --release --precompress --split) >&2; then
        KEYPORT_ERROR="cargo leptos build --release --precompress --split failed"
        return 1
      fi
    fi
  fi
  KEYPORT_READY=1
}

# `keyport client create ARGS` on DB-URL: sets CLIENT_ID and CLIENT_SECRET, or returns 1 with
# CREATE_ERROR saying why.
create_client() { # db-url err-file args...
  local db_url=$1 err=$2 out
  shift 2
  CLIENT_ID="" CLIENT_SECRET=""
  if ! out=$(KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" \
    client create "$@" 2>"$err"); then
    CREATE_ERROR="keyport client create failed: $(tail -n 3 "$err" | tr '\n' ' ')"
    return 1
  fi
  CLIENT_ID=$(sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  CLIENT_SECRET=$(sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  if [[ -z $CLIENT_ID || -z $CLIENT_SECRET ]]; then
    CREATE_ERROR="cannot read client_id/client_secret from 'keyport client create': $out"
    return 1
  fi
}

# The refresh-token runs sign a person in to an app with a callback URL (so it may use the
# code and refresh grants). Nothing listens at the callback: the browser is never sent there,
# its code is read from the redirect.
REFRESH_CALLBACK=http://127.0.0.1/bench/callback
REFRESH_EMAIL=bench@example.com
REFRESH_SCOPE=orders:read

# One refresh by hand: must be 200 with a new refresh token and an ES256 JWT access token.
# Sets CHECK_REASON.
check_refresh() { # target url auth refresh-token
  local target=$1 url=$2 auth=$3 presented=$4 out=$WORK/${1//\//-}.check.json code token fresh header
  code=$(curl -s -o "$out" -m 10 -w '%{http_code}' -X POST \
    -H "Authorization: $auth" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "grant_type=refresh_token&refresh_token=$presented" "$url" 2>/dev/null) || code=000
  if [[ $code != 200 ]]; then
    CHECK_REASON="refresh answered $code: $(head -c 300 "$out" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  fresh=$(sed -n 's/.*"refresh_token" *: *"\([^"]*\)".*/\1/p' "$out")
  if [[ $fresh != kpr_* || $fresh == "$presented" ]]; then
    CHECK_REASON="200 without a new refresh_token: $(head -c 300 "$out")"
    return 1
  fi
  token=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$out")
  header=$(b64url_decode "${token%%.*}")
  if [[ $token != *.*.* ]] || ! grep -q '"alg" *: *"ES256"' <<<"$header"; then
    CHECK_REASON="200 without an ES256 JWT access_token: $(head -c 300 "$out")"
    return 1
  fi
  say "$target: refresh check ok ($(wc -c <"$out") bytes, a new refresh token, JWT header $header)"
}

# The refresh-token grant against a running server: makes the live refresh tokens (one for the
# check by hand, then BENCH_REFRESH_TOKENS for each wrk run, since a run ends with tokens in
# flight whose successors it never reads), checks one, and measures.
bench_refresh() { # target pid base-url auth client-id client-secret password device pg
  local target=$1 pid=$2 base=$3 auth=$4 client_id=$5 client_secret=$6 password=$7 device=$8 pg=$9
  local dir=$WORK/${target//\//-} runs=(flat paced) n i run
  ((BENCH_WARMUP > 0)) && runs=(warmup "${runs[@]}")
  n=$((1 + BENCH_REFRESH_TOKENS * ${#runs[@]}))
  mkdir -p "$dir"
  say "$target: making $n refresh tokens (sign-in, consent, then a code exchange each)"
  if ! BENCH_CLIENT_SECRET=$client_secret BENCH_USER_PASSWORD=$password \
    timeout 120 python3 "$BENCH_DIR/refresh_seed.py" --url "$base" --client-id "$client_id" \
    --callback "$REFRESH_CALLBACK" --email "$REFRESH_EMAIL" --scope "$REFRESH_SCOPE" \
    --count "$n" >"$dir/tokens" 2>"$dir/seed.err"; then
    fail_target "$target" "making refresh tokens failed: $(tail -n 1 "$dir/seed.err")"
    return
  fi
  say "$target: $(tail -n 1 "$dir/seed.err")"
  if ! check_refresh "$target" "$base/oauth/token" "$auth" "$(head -n 1 "$dir/tokens")"; then
    fail_target "$target" "$CHECK_REASON"
    return
  fi
  i=0
  for run in "${runs[@]}"; do
    sed -n "$((2 + i * BENCH_REFRESH_TOKENS)),$((1 + (i + 1) * BENCH_REFRESH_TOKENS))p" \
      "$dir/tokens" >"$dir/pool.$run"
    i=$((i + 1))
  done
  measure "$target" "$pid" "$base/oauth/token" "$auth" "$BENCH_REFRESH_CONNECTIONS" \
    "$BENCH_REFRESH_RATE" "$dir/pool" "$device" "$pg"
}

bench_keyport() { # target database-url device-of-the-database pg
  local target=$1 db_url=$2 device=$3 pg=$4 dir=$WORK/$1 port pid out auth
  local rt=$1/refresh refresh_id="" refresh_secret="" refresh_auth="" password refresh_error=""
  TARGETS+=("$target")
  REFRESH_TARGETS+=("$target")
  if ((!KEYPORT_READY)); then
    fail_target "$target" "$KEYPORT_ERROR"
    fail_target "$rt" "$KEYPORT_ERROR"
    return
  fi
  mkdir -p "$dir"
  # The master key sealing the stored keys: PostgreSQL needs one configured, and every command
  # below (client create, serve) must use the same.
  (umask 077 && head -c32 /dev/urandom | base64 >"$dir/master.key")
  export KEYPORT_MASTER_KEY_FILE=$dir/master.key
  if ! out=$(KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" migrate 2>&1); then
    fail_target "$target" "keyport migrate failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    fail_target "$rt" "keyport migrate failed"
    return
  fi
  if ! create_client "$db_url" "$dir/client.err" --tenant bench --create-tenant --name bench \
    --scope "$REFRESH_SCOPE"; then
    fail_target "$target" "$CREATE_ERROR"
    fail_target "$rt" "$CREATE_ERROR"
    return
  fi
  auth="Basic $(printf '%s:%s' "$CLIENT_ID" "$CLIENT_SECRET" | base64 -w0)"
  # The refresh runs' own app, so the client-credentials runs keep the app they always had,
  # and a person of tenant bench to sign in to it.
  password=$(head -c 24 /dev/urandom | base64 -w0)
  if ! create_client "$db_url" "$dir/refresh-client.err" --tenant bench --name bench-refresh \
    --scope "$REFRESH_SCOPE" --callback-url "$REFRESH_CALLBACK"; then
    refresh_error=$CREATE_ERROR
  elif ! out=$(KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" \
    user create --email "$REFRESH_EMAIL" --tenant bench <<<"$password" 2>&1); then
    refresh_error="keyport user create failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
  else
    refresh_id=$CLIENT_ID
    refresh_secret=$CLIENT_SECRET
    refresh_auth="Basic $(printf '%s:%s' "$refresh_id" "$refresh_secret" | base64 -w0)"
  fi

  port=$(free_port)
  say "$target: starting keyport on 127.0.0.1:$port"
  KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" \
    serve --addr "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! wait_ready "$pid" "http://127.0.0.1:$port/readyz" "$dir/server.log"; then
    fail_target "$target" "keyport did not become ready (GET /readyz)"
    fail_target "$rt" "keyport did not become ready (GET /readyz)"
  else
    if check_token "$target" "http://127.0.0.1:$port/oauth/token" "$auth"; then
      measure "$target" "$pid" "http://127.0.0.1:$port/oauth/token" "$auth" \
        "$BENCH_CONNECTIONS" "$BENCH_RATE"
    else
      fail_target "$target" "$CHECK_REASON"
    fi
    if [[ -n $refresh_error ]]; then
      fail_target "$rt" "$refresh_error"
    else
      bench_refresh "$rt" "$pid" "http://127.0.0.1:$port" "$refresh_auth" "$refresh_id" \
        "$refresh_secret" "$password" "$device" "$pg"
    fi
  fi
  stop_pid "$pid"
}

if wants keyport-sqlite || wants keyport-pg; then
  prepare_keyport || warn "$KEYPORT_ERROR"
fi

# The cryptography alone, on one thread of the still idle machine: how much of a token's cost
# is its signature (bench/signing.rs).
declare -A CRYPTO_US=()
measure_crypto() {
  local out line op us
  say "crypto: cargo bench -p server --bench signing"
  if ! out=$(cargo bench -q -p server --bench signing 2>"$WORK/crypto.err"); then
    warn "the signing benchmark failed: $(tail -n 5 "$WORK/crypto.err" | tr '\n' ' ')"
    return 0
  fi
  while read -r line; do
    op=$(field "$line" op)
    us=$(field "$line" us)
    [[ -n $op && -n $us ]] && CRYPTO_US[$op]=$us
  done < <(sed -n 's/^CRYPTO //p' <<<"$out")
  say "crypto: $(sed -n 's/^CRYPTO //p' <<<"$out" | paste -sd ';' | sed 's/;/; /g')"
}
if (wants keyport-sqlite || wants keyport-pg) && ((KEYPORT_READY)) && [[ -z ${KEYPORT_BIN_GIVEN:-} ]]; then
  measure_crypto
fi

# The portal on the wire: what a first visit to the landing page downloads (CSS + JS + WASM,
# brotli) from the release binary started alone in an empty directory, and Lighthouse's
# desktop performance score (bench/portal.mjs).
PORTAL=""
measure_portal() {
  say "portal: asset size and Lighthouse (node bench/portal.mjs)"
  # Its one JSON line; node:test, loaded with the browser tests' helpers, adds a TAP summary.
  if ! PORTAL=$(KEYPORT_RELEASE_BIN="$KEYPORT_BIN" node "$ROOT/bench/portal.mjs" --runs 3 2>"$WORK/portal.err" | grep '^{' | tail -n 1) ||
    [[ -z $PORTAL ]]; then
    warn "the portal benchmark failed: $(tail -n 5 "$WORK/portal.err" | tr '\n' ' ')"
    PORTAL=""
    return 0
  fi
  say "portal: $PORTAL"
}
if (wants keyport-sqlite || wants keyport-pg) && ((KEYPORT_READY)); then
  measure_portal
fi
# Pages: /healthz, the landing page and a signed-in app page under wrk (bench/pages.sh).
PAGES=""
if (wants keyport-sqlite || wants keyport-pg) && ((KEYPORT_READY)); then
  say "pages: bench/pages.sh"
  PAGES=$(KEYPORT_BIN="$KEYPORT_BIN" BENCH_SECONDS=$BENCH_SECONDS "$BENCH_DIR/pages.sh") ||
    { warn "the page benchmark failed"; PAGES=""; }
fi
# Sign-in flood: 1,000 wrong sign-ins at once, password checks and peak RSS (bench/signin_flood.sh).
FLOOD_SECTION=""
if (wants keyport-sqlite || wants keyport-pg) && ((KEYPORT_READY)); then
  say "sign-in flood: bench/signin_flood.sh"
  FLOOD_SECTION=$(KEYPORT_BIN="$KEYPORT_BIN" "$BENCH_DIR/signin_flood.sh") ||
    { warn "the sign-in flood benchmark failed"; FLOOD_SECTION=""; }
fi
portal_field() { # name
  [[ -n $PORTAL ]] && python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$PORTAL" "$1"
}

# What a refresh, a committed write, is measured against: how long one small write and its
# fdatasync take on the SQLite file's disk (the floor under a commit that waits for the disk),
# and PostgreSQL's durability settings and disk.
FSYNC_MS=""
SQLITE_DEVICE=""
PG_DEVICE=""
PG_SETTINGS=""
measure_fsync() {
  FSYNC_MS=$(python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
block, n, start = b"\0" * 8192, 0, time.perf_counter()
while time.perf_counter() - start < 1 or n < 20:
    os.pwrite(fd, block, 0)
    os.fdatasync(fd)
    n += 1
print(f"{(time.perf_counter() - start) * 1000 / n:.2f}")' "$WORK/fsync.probe" 2>/dev/null) || FSYNC_MS=""
  rm -f "$WORK/fsync.probe"
  say "disk: one 8 kB write + fdatasync in $WORK: ${FSYNC_MS:-?} ms"
}
if wants keyport-sqlite || wants keyport-pg; then
  measure_fsync
  SQLITE_DEVICE=$(disk_of "$WORK")
fi
if wants keyport-pg; then
  PG_SETTINGS=$(psql -tAX "$BENCH_PG_URL/postgres" -c "SELECT 'fsync ' || current_setting('fsync') \
    || ', synchronous_commit ' || current_setting('synchronous_commit') \
    || ', wal_sync_method ' || current_setting('wal_sync_method') \
    || ', commit_delay ' || current_setting('commit_delay')" 2>/dev/null || true)
  pg_data=$(psql -tAX "$BENCH_PG_URL/postgres" -c 'SHOW data_directory' 2>/dev/null || true)
  # Only when PostgreSQL runs on this machine (its data directory is here to look at).
  if [[ -n $pg_data && -d $pg_data ]]; then PG_DEVICE=$(disk_of "$pg_data"); fi
fi

if wants keyport-sqlite; then
  bench_keyport keyport-sqlite "sqlite://$WORK/keyport.db" "$SQLITE_DEVICE" 0
fi

if wants keyport-pg; then
  PG_DB=keyport_bench_$$
  if ((!KEYPORT_READY)); then
    TARGETS+=(keyport-pg)
    REFRESH_TARGETS+=(keyport-pg)
    fail_target keyport-pg "$KEYPORT_ERROR"
    fail_target keyport-pg/refresh "$KEYPORT_ERROR"
  elif ! out=$(psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL/postgres" -c "CREATE DATABASE \"$PG_DB\"" 2>&1); then
    TARGETS+=(keyport-pg)
    REFRESH_TARGETS+=(keyport-pg)
    fail_target keyport-pg "cannot create database $PG_DB at $BENCH_PG_URL: $(tr '\n' ' ' <<<"$out")"
    fail_target keyport-pg/refresh "cannot create database $PG_DB"
  else
    PG_CREATED=1
    bench_keyport keyport-pg "$BENCH_PG_URL/$PG_DB" "$PG_DEVICE" 1
  fi
fi

# ---------------------------------------------------------------------------------------------
# node-oidc-provider.
OIDC_VERSION=""
bench_oidc_provider() {
  local target=oidc-provider dir=$BENCH_DIR/oidc-provider port pid id=bench secret auth log=$WORK/oidc-provider.log
  TARGETS+=("$target")
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    fail_target "$target" "node and npm are needed (Node.js 20 or later)"
    return
  fi
  if ! (cd "$dir" && npm ls --depth=0 >/dev/null 2>&1); then
    say "$target: npm ci in bench/oidc-provider"
    if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
      fail_target "$target" "npm ci in bench/oidc-provider failed"
      return
    fi
  fi
  OIDC_VERSION=$(sed -n 's/^ *"version" *: *"\([^"]*\)".*/\1/p' "$dir/node_modules/oidc-provider/package.json" | head -n 1)
  secret=$(head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')
  auth="Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)"
  port=$(free_port)
  say "$target: starting oidc-provider $OIDC_VERSION (node $(node --version)) on 127.0.0.1:$port"
  NODE_ENV=production PORT=$port BENCH_CLIENT_ID=$id BENCH_CLIENT_SECRET=$secret \
    node "$dir/server.mjs" >"$log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  check_and_measure "$target" "$pid" "http://127.0.0.1:$port/.well-known/openid-configuration" "$log" \
    "node-oidc-provider did not start" "http://127.0.0.1:$port/token" "$auth"
}
if wants oidc-provider; then bench_oidc_provider; fi

# ---------------------------------------------------------------------------------------------
# The HTTP floor: nginx (Debian's nginx-light) answering every POST with a fixed token-sized
# body (a token response Keyport gave above, or one of the same size), one process, under
# the same wrk load. What a request costs with no work behind it: Keyport's CPU per token less
# this floor and less its ES256 signature is its own cost (issue 26 item 3).
bench_nginx_floor() {
  local target=nginx-floor dir=$WORK/nginx port pid body
  TARGETS+=("$target")
  if ! command -v nginx >/dev/null 2>&1 && [[ ! -x /usr/sbin/nginx ]]; then
    fail_target "$target" "nginx is needed (apt-get install nginx-light)"
    return
  fi
  mkdir -p "$dir"
  body=$(cat "$WORK/keyport-sqlite.check.json" 2>/dev/null || true)
  if [[ -z $body ]]; then # an ES256 JWT's shape and size, for a run without keyport-sqlite
    body="{\"access_token\":\"$(printf '{"alg":"ES256","typ":"at+jwt","kid":"floor"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').$(head -c 330 /dev/zero | base64 -w0 | tr -d '=').$(head -c 64 /dev/zero | base64 -w0 | tr -d '=')\",\"token_type\":\"Bearer\",\"expires_in\":3600,\"scope\":\"orders:read\"}"
  fi
  if [[ $body == *[\'\$\\]* ]]; then
    fail_target "$target" "the fixed body holds a quote, a dollar sign or a backslash"
    return
  fi
  port=$(free_port)
  cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir;
  proxy_temp_path $dir;
  fastcgi_temp_path $dir;
  uwsgi_temp_path $dir;
  scgi_temp_path $dir;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / {
      default_type application/json;
      add_header Cache-Control no-store;
      # Any method, any path: the fixed body, from memory (no file, no variables in it).
      return 200 '$body';
    }
  }
}
CONF
  say "$target: starting nginx $(nginx -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$port"
  "$(command -v nginx || echo /usr/sbin/nginx)" -p "$dir" -c "$dir/nginx.conf" >"$dir/nginx.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  check_and_measure "$target" "$pid" "http://127.0.0.1:$port/readyz" "$dir/error.log" \
    "nginx did not start" "http://127.0.0.1:$port/oauth/token" "Basic floor"
}
if wants nginx-floor; then bench_nginx_floor; fi

# ---------------------------------------------------------------------------------------------
# Report.
dash=—
cell() { # array-name target
  local -n arr=$1
  echo "${arr[$2]:-$dash}"
}
status_cell() { # target: 0 errors, or why the row is not valid
  if [[ ${STATUS[$1]:-} == ok ]]; then
    echo 0
  else
    echo "${STATUS[$1]:-not run}"
  fi
}
paced_cell() { # target: p99 at the paced rate (achieved rate)
  if [[ -n ${PACED_P99[$1]:-} ]]; then
    echo "${PACED_P99[$1]} ($(printf '%.0f' "${PACED_RPS[$1]}")/s)"
  else
    echo "$dash"
  fi
}
rate_cell() { # target
  if [[ -n ${RPS[$1]:-} ]]; then printf '%.0f' "${RPS[$1]}"; else echo "$dash"; fi
}
ratio() { # a b
  awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.1f×", a / b; else print "n/a" }'
}
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git -C "$ROOT" status --porcelain -- app server frontend Cargo.toml Cargo.lock migrations 2>/dev/null) ]]; then
  commit+=" + uncommitted changes"
fi
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
pg_version=""
if wants keyport-pg; then
  pg_version=$(psql -tAX "$BENCH_PG_URL/postgres" -c 'SHOW server_version' 2>/dev/null || true)
fi

report() {
  echo "## Token endpoint benchmark"
  echo
  echo "- date: $(date -u)"
  echo "- machine: ${cpu:-unknown CPU}, nproc $(nproc), ${mem:-? memory}, $(uname -sr)"
  echo "- keyport: $commit (release)${pg_version:+; PostgreSQL $pg_version}"
  echo "- node-oidc-provider: ${OIDC_VERSION:-not run}${OIDC_VERSION:+ on node $(node --version 2>/dev/null), NODE_ENV=production, one process}"
  echo "- load: $(wrk --version 2>&1 | head -n 1 | awk '{ print $1, $2 }'), -t$BENCH_THREADS -c$BENCH_CONNECTIONS, keep-alive, ${BENCH_WARMUP}s warm-up + ${BENCH_SECONDS}s measured + ${BENCH_SECONDS}s paced at ~$BENCH_RATE/s; body \`$BENCH_BODY\`, client_secret_basic"
  echo
  echo "| target | tokens/s | p50 ms | p99 ms | p99 ms at ~$((BENCH_RATE / 1000))k/s (achieved rate) | peak RSS MB | server CPU cores | server CPU µs/token | machine busy % | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  local t
  for t in "${TARGETS[@]}"; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(rate_cell "$t")" \
      "$(cell P50 "$t")" "$(cell P99 "$t")" "$(paced_cell "$t")" "$(cell RSS "$t")" \
      "$(cell SERVER_CORES "$t")" "$(cell CPU_US "$t")" "$(cell MACHINE_BUSY "$t")" "$(status_cell "$t")"
  done
  echo
  if wants oidc-provider; then
    local k
    for k in keyport-sqlite keyport-pg; do
      wants "$k" || continue
      echo "- $k / oidc-provider: $(ratio "${RPS[$k]:-0}" "${RPS[oidc-provider]:-0}") the tokens/s; $(ratio "${CPU_US[oidc-provider]:-0}" "${CPU_US[$k]:-0}") less server CPU per token"
    done
  fi
  if [[ -n ${CPU_US[nginx-floor]:-} && ${CPU_US[nginx-floor]} != "?" ]]; then
    local k sig=${CRYPTO_US[sign-ES256]:-}
    for k in keyport-sqlite keyport-pg oidc-provider; do
      [[ -n ${CPU_US[$k]:-} && ${CPU_US[$k]} != "?" ]] || continue
      awk -v k="$k" -v c="${CPU_US[$k]}" -v f="${CPU_US[nginx-floor]}" -v s="$sig" 'BEGIN {
        if (s != "" && k != "oidc-provider") printf "- %s: %d µs of server CPU per token, %d µs above the nginx floor (%d µs), %.0f µs above floor plus its ES256 signature (%.1f µs)\n", k, c, c - f, f, c - f - s, s
        else printf "- %s: %d µs of server CPU per token, %d µs above the nginx floor (%d µs)\n", k, c, c - f, f }'
    done
  fi
  if ((${#CRYPTO_US[@]})); then
    echo "- one thread, no load (\`cargo bench -p server --bench signing\`): sign ES256 ${CRYPTO_US[sign-ES256]:-?} µs, EdDSA ${CRYPTO_US[sign-EdDSA]:-?} µs, RS256 ${CRYPTO_US[sign-RS256]:-?} µs; hash a presented secret ${CRYPTO_US[secret-hash]:-?} µs"
    if [[ -n ${RPS[oidc-provider]:-} && -n ${CRYPTO_US[sign-ES256]:-} ]]; then
      awk -v r="${RPS[oidc-provider]}" -v us="${CRYPTO_US[sign-ES256]}" -v n="$(nproc)" 'BEGIN {
        printf "- 10× oidc-provider is %.0f tokens/s: their ES256 signatures alone would keep %.2f of the %d cores busy\n", 10 * r, 10 * r * us / 1e6, n }'
    fi
  fi
  echo "- targets: ≥15,000 tokens/s SQLite, ≥10,000 PostgreSQL, p99 ≤5 ms at 12,000/s, peak RSS ≤64 MB, ≥10× node-oidc-provider"
  ((${#REFRESH_TARGETS[@]})) && refresh_report
  portal_report
  [[ -z $PAGES ]] || printf '\n%s\n' "$PAGES"
  [[ -z $FLOOD_SECTION ]] || printf '\n%s\n' "$FLOOD_SECTION"
  return 0
}

portal_report() {
  [[ -n $PORTAL ]] || return 0
  echo
  echo "## Portal"
  echo
  echo "- the release binary copied alone into an empty directory; the landing page's assets fetched with \`Accept-Encoding: gzip, deflate, br, zstd\` (they answered $(portal_field encoding)); Lighthouse $(node -p 'require("lighthouse/package.json").version' 2>/dev/null) desktop profile against Debian's $(chromium --version 2>/dev/null | awk '{ print $1, $2 }'), median of 3"
  echo
  echo "| CSS bytes | JS bytes | WASM bytes | first visit bytes (target ≤300,000) | Lighthouse performance (runs) | LCP ms | TBT ms |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  printf '| %s | %s | %s | %s | %s (%s) | %s | %s |\n' "$(portal_field css_bytes)" "$(portal_field js_bytes)" \
    "$(portal_field wasm_bytes)" "$(portal_field first_visit_bytes)" "$(portal_field lighthouse_performance)" \
    "$(portal_field lighthouse_scores | tr -d '[] ')" "$(portal_field lcp_ms)" "$(portal_field tbt_ms)"
  echo
  echo "- targets: first visit ≤300,000 bytes with brotli, Lighthouse performance ≥95"
}

refresh_report() {
  local t rt disk
  echo
  echo "## Refresh-token grant"
  echo
  echo "- the same Keyport servers, after their client-credentials runs; a second app of tenant bench with a callback URL, and one person of the tenant who signed in and consented once; scope \`$REFRESH_SCOPE\` (no \`openid\`: an access token and a new refresh token, no ID token)"
  echo "- load: -t$BENCH_THREADS -c$BENCH_REFRESH_CONNECTIONS, keep-alive, ${BENCH_WARMUP}s warm-up + ${BENCH_SECONDS}s measured + ${BENCH_SECONDS}s paced at ~$BENCH_REFRESH_RATE/s; body \`grant_type=refresh_token&refresh_token=kpr_…\`, client_secret_basic; each run starts from $BENCH_REFRESH_TOKENS live refresh tokens made by code exchanges, each request spends one and puts back the one it gets"
  echo "- durability: SQLite WAL with synchronous=FULL (every commit waits for an fsync of the WAL file)${PG_SETTINGS:+; PostgreSQL $PG_SETTINGS}"
  echo "- disk: one 8 kB write + fdatasync on the SQLite file's disk${SQLITE_DEVICE:+ ($SQLITE_DEVICE)} took ${FSYNC_MS:-?} ms before the load$([[ -n $FSYNC_MS ]] && awk -v m="$FSYNC_MS" 'BEGIN { if (m > 0) printf " (%.0f/s one after another)", 1000 / m }')${PG_DEVICE:+; the PostgreSQL data directory is on $PG_DEVICE}"
  echo
  echo "| target | refreshes/s | p50 ms | p99 ms | p99 ms at ~$(awk -v r="$BENCH_REFRESH_RATE" 'BEGIN { printf "%g", r / 1000 }')k/s (achieved rate) | server CPU cores | server CPU µs/refresh | PostgreSQL CPU cores | wrk CPU cores | machine busy % | disk writes/s (ms each) | disk flushes/s | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for t in "${REFRESH_TARGETS[@]}"; do
    rt=$t/refresh
    disk=$dash
    [[ -z ${DISK_WPS[$rt]:-} ]] || disk="${DISK_WPS[$rt]} (${DISK_WMS[$rt]})"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(rate_cell "$rt")" \
      "$(cell P50 "$rt")" "$(cell P99 "$rt")" "$(paced_cell "$rt")" "$(cell SERVER_CORES "$rt")" \
      "$(cell CPU_US "$rt")" "$(cell DB_CORES "$rt")" "$(cell WRK_CORES "$rt")" "$(cell MACHINE_BUSY "$rt")" \
      "$disk" "$(cell DISK_FPS "$rt")" "$(status_cell "$rt")"
  done
  echo
  echo "- targets: ≥2,000 refreshes/s on SQLite and on PostgreSQL, p99 ≤20 ms at 2,000/s"
}

targets_missed() {
  local t missed=()
  ge() { awk -v a="${1:-0}" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
  le() { [[ -n ${1:-} ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }
  if [[ -n ${RPS[keyport-sqlite]:-} ]]; then ge "${RPS[keyport-sqlite]}" 15000 || missed+=("keyport-sqlite tokens/s"); fi
  if [[ -n ${RPS[keyport-pg]:-} ]]; then ge "${RPS[keyport-pg]}" 10000 || missed+=("keyport-pg tokens/s"); fi
  for t in keyport-sqlite keyport-pg; do
    wants "$t" && [[ -n ${RPS[$t]:-} ]] || continue # a target that did not run is reported above
    le "${PACED_P99[$t]:-}" 5 || missed+=("$t p99 at ~${BENCH_RATE}/s")
    ge "${PACED_RPS[$t]:-}" "$((BENCH_RATE * 95 / 100))" || missed+=("$t achieved paced rate")
    le "${RSS[$t]:-}" 64 || missed+=("$t RSS")
    if wants oidc-provider; then
      ge "$(awk -v a="${RPS[$t]:-0}" -v b="${RPS[oidc-provider]:-0}" 'BEGIN { print (b > 0 ? a / b : 0) }')" 10 ||
        missed+=("$t ≥10× oidc-provider")
    fi
  done
  for t in keyport-sqlite keyport-pg; do
    wants "$t" && [[ -n ${RPS[$t/refresh]:-} ]] || continue
    ge "${RPS[$t/refresh]}" 2000 || missed+=("$t refreshes/s")
    le "${PACED_P99[$t/refresh]:-}" 20 || missed+=("$t refresh p99 at ~${BENCH_REFRESH_RATE}/s")
    ge "${PACED_RPS[$t/refresh]:-}" "$((BENCH_REFRESH_RATE * 95 / 100))" ||
      missed+=("$t achieved paced refresh rate")
  done
  if [[ -n $PORTAL ]]; then
    le "$(portal_field first_visit_bytes)" 300000 || missed+=("portal first-visit bytes")
    ge "$(portal_field lighthouse_performance)" 95 || missed+=("portal Lighthouse performance")
  fi
  printf '%s\n' "${missed[@]}"
}

echo >&2
out=$(report)
echo "$out"
if [[ -n $RESULTS_FILE ]]; then
  printf '%s\n' "$out" >"$RESULTS_FILE"
  say "report written to $RESULTS_FILE"
fi
missed=$(targets_missed)
if [[ -n $missed ]]; then
  echo
  echo "targets missed: $(paste -sd ';' <<<"$missed" | sed 's/;/; /g')"
fi
if ((FAILED)); then
  warn "at least one target could not be started or answered with errors (see its row)"
  exit 1
fi
if [[ -n $missed ]] && ((BENCH_STRICT)); then exit 3; fi
exit 0

#!/usr/bin/env bash
# Token-endpoint benchmark: Keyport (release) on SQLite and on PostgreSQL, and node-oidc-provider,
# each alone on this machine, driven by the same wrk load over loopback with a registered
# confidential client (client credentials, ES256 JWT access tokens). Prints a markdown table:
# tokens/s, p50/p99 latency, p99 at a paced ~12,000 requests/s, peak RSS, errors, and the
# Keyport / node-oidc-provider ratios. See bench/README.md.
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
  -h, --help       this text

Other settings (environment): BENCH_THREADS (wrk -t, default 1), BENCH_CONNECTIONS
(wrk -c, default 64), BENCH_RATE (paced run, default 12000), BENCH_BODY (form body,
default "grant_type=client_credentials&scope=orders:read"), BENCH_PG_URL (server URL,
default postgres://postgres@127.0.0.1:5432), KEYPORT_BIN (binary to run instead of
building), BENCH_STRICT=1 (also exit 3 when a target in bench/README.md is missed).

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
BENCH_ONLY=${BENCH_ONLY:-keyport-sqlite,keyport-pg,oidc-provider}
BENCH_NO_BUILD=${BENCH_NO_BUILD:-0}
BENCH_STRICT=${BENCH_STRICT:-0}
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
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for n in BENCH_SECONDS BENCH_WARMUP BENCH_THREADS BENCH_CONNECTIONS BENCH_RATE; do
  if ! [[ ${!n} =~ ^[0-9]+$ ]] || { [[ $n != BENCH_WARMUP ]] && ((${!n} == 0)); }; then
    echo "bench: $n must be a positive whole number, not '${!n}'" >&2
    exit 2
  fi
done
for t in ${BENCH_ONLY//,/ }; do
  case "$t" in
    keyport-sqlite | keyport-pg | oidc-provider) ;;
    *) echo "bench: unknown target '$t' in --only (keyport-sqlite, keyport-pg, oidc-provider)" >&2; exit 2 ;;
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
# Results, one associative array per field, keyed by target.
declare -A RPS P50 P99 PACED_P99 PACED_RPS RSS ERRORS STATUS SERVER_CORES CPU_US MACHINE_BUSY
TARGETS=()
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

# Runs wrk with bench/token.lua; prints the RESULT line's fields as "key=value" words.
run_wrk() { # url auth seconds [rate]
  local url=$1 auth=$2 seconds=$3 rate=${4:-} out
  out=$(BENCH_AUTH=$auth BENCH_BODY=$BENCH_BODY BENCH_RATE=$rate BENCH_THREADS=$BENCH_THREADS \
    timeout $((seconds + 30)) wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"${seconds}s" \
    --timeout 2s -s "$BENCH_DIR/token.lua" "$url" 2>&1) || {
    warn "wrk failed: $out"
    return 1
  }
  grep '^RESULT ' <<<"$out" | tail -n 1 | sed 's/^RESULT //' || {
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

# The load itself, against a server that passed the token check.
measure() { # target pid url auth
  local target=$1 pid=$2 url=$3 auth=$4 r errs rss
  if ((BENCH_WARMUP > 0)); then
    say "$target: warm-up ${BENCH_WARMUP}s"
    run_wrk "$url" "$auth" "$BENCH_WARMUP" >/dev/null || true
  fi
  say "$target: ${BENCH_SECONDS}s flat out (wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS)"
  local ticks0 busy0 total0 started ticks1 busy1 total1 ended
  ticks0=$(process_ticks "$pid")
  read -r busy0 total0 < <(machine_ticks)
  started=$(date +%s.%N)
  r=$(run_wrk "$url" "$auth" "$BENCH_SECONDS") || { fail_target "$target" "wrk failed"; return; }
  ended=$(date +%s.%N)
  ticks1=$(process_ticks "$pid")
  read -r busy1 total1 < <(machine_ticks)
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
  P50[$target]=$(field "$r" p50_ms)
  P99[$target]=$(field "$r" p99_ms)
  errs=$(($(field "$r" non2xx) + $(field "$r" socket_errors) + 0))
  local first
  first=$(sed -n 's/.*first_error=//p' <<<"$r")

  say "$target: ${BENCH_SECONDS}s paced at ~$BENCH_RATE/s"
  r=$(run_wrk "$url" "$auth" "$BENCH_SECONDS" "$BENCH_RATE") || { fail_target "$target" "wrk failed"; return; }
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
    measure "$target" "$pid" "$token_url" "$auth"
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
      say "building keyport (release): cargo build --release -p server --bin keyport"
      if ! cargo build --release -p server --bin keyport >&2; then
        KEYPORT_ERROR="cargo build --release -p server --bin keyport failed"
        return 1
      fi
    fi
  fi
  KEYPORT_READY=1
}

bench_keyport() { # target database-url
  local target=$1 db_url=$2 dir=$WORK/$1 port pid out client_id client_secret auth
  TARGETS+=("$target")
  if ((!KEYPORT_READY)); then
    fail_target "$target" "$KEYPORT_ERROR"
    return
  fi
  mkdir -p "$dir"
  if ! out=$(KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" migrate 2>&1); then
    fail_target "$target" "keyport migrate failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
    return
  fi
  if ! out=$(KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" \
    client create --tenant bench --create-tenant --name bench --scope orders:read 2>"$dir/client.err"); then
    fail_target "$target" "keyport client create failed: $(tail -n 3 "$dir/client.err" | tr '\n' ' ')"
    return
  fi
  client_id=$(sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  client_secret=$(sed -n 's/.*"client_secret" *: *"\([^"]*\)".*/\1/p' <<<"$out")
  if [[ -z $client_id || -z $client_secret ]]; then
    fail_target "$target" "cannot read client_id/client_secret from 'keyport client create': $out"
    return
  fi
  auth="Basic $(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)"

  port=$(free_port)
  say "$target: starting keyport on 127.0.0.1:$port"
  KEYPORT_LOG=warn "$KEYPORT_BIN" --log-level warn --database-url "$db_url" \
    serve --addr "127.0.0.1:$port" >"$dir/server.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  check_and_measure "$target" "$pid" "http://127.0.0.1:$port/readyz" "$dir/server.log" \
    "keyport did not become ready (GET /readyz)" "http://127.0.0.1:$port/oauth/token" "$auth"
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

if wants keyport-sqlite; then
  bench_keyport keyport-sqlite "sqlite://$WORK/keyport.db"
fi

if wants keyport-pg; then
  PG_DB=keyport_bench_$$
  if ((!KEYPORT_READY)); then
    TARGETS+=(keyport-pg)
    fail_target keyport-pg "$KEYPORT_ERROR"
  elif ! out=$(psql -q -X -v ON_ERROR_STOP=1 "$BENCH_PG_URL/postgres" -c "CREATE DATABASE \"$PG_DB\"" 2>&1); then
    TARGETS+=(keyport-pg)
    fail_target keyport-pg "cannot create database $PG_DB at $BENCH_PG_URL: $(tr '\n' ' ' <<<"$out")"
  else
    PG_CREATED=1
    bench_keyport keyport-pg "$BENCH_PG_URL/$PG_DB"
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
# Report.
dash=—
cell() { # array-name target
  local -n arr=$1
  echo "${arr[$2]:-$dash}"
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
  local t e paced
  for t in "${TARGETS[@]}"; do
    if [[ ${STATUS[$t]:-} == ok ]]; then
      e=0
    elif [[ -n ${ERRORS[$t]:-} ]]; then
      e="${STATUS[$t]}"
    else
      e="${STATUS[$t]:-not run}"
    fi
    paced=$dash
    [[ -z ${PACED_P99[$t]:-} ]] || paced="${PACED_P99[$t]} ($(printf '%.0f' "${PACED_RPS[$t]}")/s)"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" \
      "$( [[ -n ${RPS[$t]:-} ]] && printf '%.0f' "${RPS[$t]}" || echo $dash)" \
      "$(cell P50 "$t")" "$(cell P99 "$t")" "$paced" "$(cell RSS "$t")" \
      "$(cell SERVER_CORES "$t")" "$(cell CPU_US "$t")" "$(cell MACHINE_BUSY "$t")" "$e"
  done
  echo
  if wants oidc-provider; then
    local k
    for k in keyport-sqlite keyport-pg; do
      wants "$k" || continue
      echo "- $k / oidc-provider: $(ratio "${RPS[$k]:-0}" "${RPS[oidc-provider]:-0}") the tokens/s; $(ratio "${CPU_US[oidc-provider]:-0}" "${CPU_US[$k]:-0}") less server CPU per token"
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

#!/usr/bin/env bash
# The page section of `make bench` (issue 26 item 3), also run alone: bench/pages.sh or
# bench/run.sh --pages. Starts the release binary on a fresh SQLite file, signs a person in
# through the portal's form (bench/refresh_seed.py's Browser), and drives with wrk (64
# connections, keep-alive, the session cookie on every request) in turn: /healthz, the landing
# page, and a signed-in app page's OAuth tab. Then 60 s of landing and app pages for the RSS
# after page load. Prints a markdown section for bench/RESULTS.md.
#
# Environment: KEYPORT_BIN (default $CARGO_TARGET_DIR/release/keyport), BENCH_SECONDS (each
# measured run, default 10), BENCH_PAGE_CONNECTIONS (64), BENCH_PAGE_SOAK (60 s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${KEYPORT_BIN:-$TARGET_DIR/release/keyport}
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_PAGE_CONNECTIONS:-64}
SOAK=${BENCH_PAGE_SOAK:-60}
[[ -x $BIN ]] || { echo "bench/pages: $BIN missing (cargo leptos build --release --precompress --split)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/pages: wrk missing (apt-get install wrk)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keyport-pages.XXXXXX")
PID=""
cleanup() {
  [[ -z $PID ]] || { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { printf '==> %s\n' "$*" >&2; }

export KEYPORT_MASTER_KEY_FILE=$WORK/master.key
(umask 077 && head -c32 /dev/urandom | base64 >"$KEYPORT_MASTER_KEY_FILE")
DB=sqlite://$WORK/keyport.db
run() { KEYPORT_LOG=warn "$BIN" --log-level warn --database-url "$DB" "$@"; }
run migrate >/dev/null
client=$(run client create --tenant bench --create-tenant --name bench-pages --scope orders:read)
client_id=$(sed -n 's/.*"client_id" *: *"\([^"]*\)".*/\1/p' <<<"$client")
password=$(head -c 24 /dev/urandom | base64 -w0)
run user create --email pages@example.com --tenant bench --admin <<<"$password" >/dev/null
port=$((20000 + RANDOM % 20000))
# Not through run(): the background PID must be keyport itself (RSS below), not a subshell.
KEYPORT_LOG=warn "$BIN" --log-level warn --database-url "$DB" serve --addr "127.0.0.1:$port" >"$WORK/server.log" 2>&1 &
PID=$!
base=http://127.0.0.1:$port
for ((i = 0; i < 300; i++)); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz") == 200 ]] && break
  sleep 0.1
done

# The session cookie of a person signed in through the portal's own form.
cookie=$(BENCH_USER_PASSWORD=$password python3 - "$base" <<'PY'
import os, sys
sys.path.insert(0, "bench")
from refresh_seed import Browser, Forms
b = Browser(sys.argv[1])
_, _, page = b.send("GET", "/signin")
action, inputs = Forms(page).with_inputs(email=None, password=None)
b.post_form(action, {**inputs, "email": "pages@example.com", "password": os.environ["BENCH_USER_PASSWORD"]})
print("; ".join(f"{k}={v}" for k, v in b.cookies.items()))
PY
)
app_page=/apps/$client_id?tab=oauth
code=$(curl -s -o "$WORK/app.html" -w '%{http_code}' -H "Cookie: $cookie" "$base$app_page")
if [[ $code != 200 ]] || ! grep -q 'bench-pages' "$WORK/app.html"; then
  echo "bench/pages: the signed-in app page answered $code without the app's name" >&2
  exit 1
fi

declare -A RPS P50 P99 ERR
measure() { # name path seconds
  local out
  out=$(wrk -t1 -c"$CONNS" -d"$3s" --timeout 2s --latency -H "Cookie: $cookie" "$base$2" 2>&1)
  RPS[$1]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) v = v / 1000; else if (v ~ /ms$/) v = v + 0; else if (v ~ /s$/) v = v * 1000; printf "%.2f", v }'; }
  P50[$1]=$(ms 50% <<<"$out")
  P99[$1]=$(ms 99% <<<"$out")
  ERR[$1]=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
  say "$1: ${RPS[$1]}/s p50 ${P50[$1]} ms p99 ${P99[$1]} ms errors ${ERR[$1]}"
}
wrk -t1 -c"$CONNS" -d3s -H "Cookie: $cookie" "$base/" >/dev/null 2>&1 || true
measure /healthz /healthz "$SECONDS_EACH"
measure landing / "$SECONDS_EACH"
measure "app page, OAuth tab" "$app_page" "$SECONDS_EACH"
say "${SOAK}s of landing and app pages for the RSS after page load"
wrk -t1 -c"$((CONNS / 2))" -d"${SOAK}s" --timeout 2s -H "Cookie: $cookie" "$base/" >/dev/null 2>&1 &
w1=$!
wrk -t1 -c"$((CONNS / 2))" -d"${SOAK}s" --timeout 2s -H "Cookie: $cookie" "$base$app_page" >/dev/null 2>&1
wait "$w1" || true
rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")
hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$PID/status")

echo "## Pages"
echo
echo "- the release binary on a fresh SQLite file; wrk -t1 -c$CONNS, keep-alive, ${SECONDS_EACH}s each after a 3 s warm-up, every request with the session cookie of a tenant admin signed in through the portal's form"
echo
echo "| page | pages/s | p50 ms | p99 ms | target /s | errors |"
echo "|---|---:|---:|---:|---:|---|"
for row in "/healthz:20000" "landing:5000" "app page, OAuth tab:2000"; do
  name=${row%:*}
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "${RPS[$name]}" "${P50[$name]}" "${P99[$name]}" "${row##*:}" "${ERR[$name]}"
done
echo
echo "- RSS after ${SOAK}s of landing and app pages ($((CONNS / 2)) + $((CONNS / 2)) connections): $rss MB (peak $hwm MB; target ≤64 MB)"
echo "- targets: /healthz ≥20,000/s, landing ≥5,000/s, app page OAuth tab ≥2,000/s, p99 ≤20 ms each, RSS ≤64 MB"

#!/usr/bin/env bash
# The sign-in flood section of `make bench` (issue 26 item 2), also run alone: bench/run.sh
# --flood. Starts the release binary behind a trusted loopback proxy on a fresh SQLite file,
# sends BENCH_FLOOD (1,000) wrong sign-ins for one email from one forwarded address at once,
# and meanwhile the right password from another address. Prints a markdown section: how many
# passwords were checked (401s; the limit allows 5), how many were refused (429), whether the
# owner signed in, and the server's peak RSS (VmHWM; target <= 128 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${KEYPORT_BIN:-$TARGET_DIR/release/keyport}
FLOOD=${BENCH_FLOOD:-1000}
[[ -x $BIN ]] || { echo "bench/signin_flood: $BIN missing (cargo leptos build --release --precompress --split)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keyport-flood.XXXXXX")
PID=""
cleanup() {
  [[ -z $PID ]] || { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

export KEYPORT_MASTER_KEY_FILE=$WORK/master.key
(umask 077 && head -c32 /dev/urandom | base64 >"$KEYPORT_MASTER_KEY_FILE")
DB=sqlite://$WORK/keyport.db
run() { KEYPORT_LOG=warn "$BIN" --log-level warn --database-url "$DB" "$@"; }
run migrate >/dev/null
password=$(head -c 24 /dev/urandom | base64 -w0)
run user create --email owner@example.com <<<"$password" >/dev/null
port=$((20000 + RANDOM % 20000))
# Not through run(): the background PID must be keyport itself (its peak RSS), not a subshell.
KEYPORT_LOG=warn "$BIN" --log-level warn --database-url "$DB" serve --addr "127.0.0.1:$port" --trusted-proxies 127.0.0.1 >"$WORK/server.log" 2>&1 &
PID=$!
base=http://127.0.0.1:$port
for ((i = 0; i < 300; i++)); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/readyz") == 200 ]] && break
  sleep 0.1
done
rss_before=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status")

# The sign-in form's action, as a browser without the WASM posts it.
action=$(curl -s "$base/signin" | grep -o 'action="[^"]*sign_in[^"]*"' | head -1 | sed 's/action="//; s/"$//')
[[ -n $action ]] || { echo "bench/signin_flood: no sign-in form on /signin" >&2; exit 1; }

result=$(BASE=$base ACTION=$action FLOOD=$FLOOD OWNER_PASSWORD=$password node --input-type=module <<'JS'
const { BASE, ACTION, FLOOD, OWNER_PASSWORD } = process.env;
const post = (ip, password) => fetch(BASE + ACTION, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, accept: 'application/json' },
  body: new URLSearchParams({ email: 'owner@example.com', password }),
}).then((r) => r.status, (e) => `error ${e.cause?.code ?? e.message}`);
const started = performance.now();
const flood = Array.from({ length: Number(FLOOD) }, () => post('198.51.100.66', 'wrong wrong wrong'));
const owner = post('203.0.113.5', OWNER_PASSWORD);
const statuses = await Promise.all(flood);
const ownerStatus = await owner;
const count = (s) => statuses.filter((x) => x === s).length;
console.log(JSON.stringify({
  checked: count(401), throttled: count(429), other: statuses.length - count(401) - count(429),
  owner: ownerStatus, seconds: ((performance.now() - started) / 1000).toFixed(1),
}));
JS
)
peak=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$PID/status")
rss_after=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$PID/status")
read -r checked throttled other owner seconds < <(python3 -c '
import json, sys; r = json.loads(sys.argv[1])
print(r["checked"], r["throttled"], r["other"], r["owner"], r["seconds"])' "$result")
ok() { if eval "$1"; then echo "met"; else echo "**not met**"; fi; }
cat <<MD
## Sign-in flood

$FLOOD wrong sign-ins for one email from one address, sent at once (behind a trusted loopback
proxy, \`X-Forwarded-For\`), and the right password from another address meanwhile; release
binary, SQLite. Finished in ${seconds} s.

| figure | value | target | |
|---|---|---|---|
| passwords checked (401) | $checked | <= 5 (the per-account-and-address limit) | $(ok "(( checked <= 5 ))") |
| refused before hashing (429, \`Retry-After\`) | $throttled | the rest | $(ok "(( throttled + checked == FLOOD ))") |
| other answers | $other | 0 | $(ok "(( other == 0 ))") |
| the owner, from another address | $owner | signed in (200/302) | $(ok "[[ $owner == 200 || $owner == 302 ]]") |
| server RSS before / after | $rss_before MB / $rss_after MB | | |
| server peak RSS (VmHWM) | $peak MB | <= 128 MB | $(ok "(( peak <= 128 ))") |
MD

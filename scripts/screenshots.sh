#!/usr/bin/env bash
# Screenshots of every hallcall page at its target size, into docs/screenshots/.
#
#   scripts/screenshots.sh                # uses target/release/hallcall
#   HALLCALL_BIN=/path/to/hallcall scripts/screenshots.sh
#
# Starts the demo hall on a temporary data directory, makes some activity with
# curl (clerks log in, tickets are issued, numbers called, a window paused, a
# tidal window opened), then drives headless Chromium through playwright-core
# (display-client/tests/screenshots.mjs). Needs: chromium, fonts-noto-cjk,
# node, and `npm ci` in display-client/tests (done here when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${HALLCALL_BIN:-$ROOT/target/release/hallcall}"
OUT="${OUT:-$ROOT/docs/screenshots}"
PORT="${PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
BASE="http://127.0.0.1:$PORT"
H="$BASE/api/v1/halls/demo"
KIOSK=kiosk-demo
SUPERVISOR=supervisor-demo

[ -x "$BIN" ] || { echo "no hallcall binary at $BIN (cargo build --release --bin hallcall)" >&2; exit 1; }
if [ ! -d "$ROOT/display-client/tests/node_modules/playwright-core" ]; then
  (cd "$ROOT/display-client/tests" && npm ci --no-audit --no-fund)
fi

DATA="$(mktemp -d /tmp/hallcall-shots-XXXXXX)"
"$BIN" serve --data "$DATA/data" --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

for _ in $(seq 1 300); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { cat "$DATA/server.log" >&2; exit 1; }

# json FIELD: read a field of the JSON on stdin.
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(process.argv[1].split(".").reduce((o,k)=>o[k],v))})' "$1"; }
post() { # post PATH TOKEN BODY
  curl -fsS -X POST "$H$1" ${2:+-H "Authorization: Bearer $2"} -H 'Content-Type: application/json' -d "${3:-{\}}"
}
login() { # login STAFF WINDOW -> token
  local pin; pin="$(echo "$1" | tr -dc 0-9)"; pin="$pin$pin"
  curl -fsS -X POST "$H/sessions" -H 'Content-Type: application/json' -d "{\"staff\":\"$1\",\"pin\":\"$pin\",\"window\":$2}" | json token
}
issue() { # issue CATEGORY [PRIORITY] -> id
  local body="{\"category\":\"$1\"${2:+,\"priority\":\"$2\"}}"
  post /tickets "$KIOSK" "$body" | json id
}

echo "activity on $BASE"
T1=$(login s01 1); T2=$(login s03 2); T3=$(login s05 3); T4=$(login s07 4)
T6=$(login s11 6); T7=$(login s12 7)
post /windows/8/open "$SUPERVISOR" '{"staff":"s06"}' >/dev/null
T8=$(login s06 8 2>/dev/null || true)

for c in general general social general civil general market social general estate general social veterans general crosscity market social general civil market estate social general; do
  issue "$c" >/dev/null
done
issue general elderly >/dev/null
issue social pregnant >/dev/null
WAITING=$(issue general)

post /windows/4/pause "$T4" '{"reason":"break"}' >/dev/null
DONE=$(post /windows/1/call-next "$T1" | json ticket.id)
post /windows/1/start "$T1" >/dev/null
post /windows/1/complete "$T1" >/dev/null
post "/tickets/$DONE/rating" "" '{"score":5}' >/dev/null
# A 不满意 with a reason from window 1's evaluator, for the 差评回访 panel.
BAD=$(post /windows/1/call-next "$T1" | json ticket.id)
post /windows/1/start "$T1" >/dev/null
post /windows/1/complete "$T1" >/dev/null
post /windows/1/evaluator/rating evaluator-demo-01 "{\"ticket\":\"$BAD\",\"score\":2,\"reason\":\"等候时间太长\"}" >/dev/null || echo "(no 不满意 rating: $?)"
post /windows/1/call-next "$T1" >/dev/null
post /windows/2/call-next "$T2" >/dev/null
post /windows/2/start "$T2" >/dev/null
post /windows/6/call-next "$T6" >/dev/null
post /windows/6/start "$T6" >/dev/null
post /windows/7/call-next "$T7" >/dev/null
[ -n "$T8" ] && post /windows/8/call-next "$T8" >/dev/null || true
CALLED=$(post /windows/3/call-next "$T3" | json ticket.id)

echo "screenshots into $OUT"
mkdir -p "$OUT"
# PAGES_BASE: take the pages from another origin that proxies this server's
# API (to try page edits without rebuilding the binary that embeds them).
# --bin: screenshots.mjs also starts the big hall (20 windows, 12 categories,
# 300 waiting; display-client/tests/fixtures/big-hall.toml) for the hall-big-* shots.
# TZ=UTC: the pages must show hall time (Asia/Shanghai) by themselves.
TZ=UTC node "$ROOT/display-client/tests/screenshots.mjs" --base "${PAGES_BASE:-$BASE}" --out "$OUT" \
  --waiting "$WAITING" --called "$CALLED" --done "$DONE" --bin "$BIN"
ls -l "$OUT"

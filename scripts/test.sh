#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
# Installs what cargo does not bring when it is missing (Debian, as root):
# Chromium + chromedriver and CJK fonts for the browser tests, ALSA headers
# for the announcer's `speaker` feature.
set -euo pipefail
cd "$(dirname "$0")/.."
# CI builds once from a clean clone: incremental caches only cost disk there
# (they were 14 GB of a 66 GB target). A developer can set it back to 1.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "== disk before the build: $(df -h --output=avail . | tail -n 1 | tr -d ' ') free"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)  # not `fc-list | grep -q`: under pipefail its SIGPIPE read as missing
dpkg -s libasound2-dev >/dev/null 2>&1 || need+=(libasound2-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)  # tests/cluster.rs: three nodes behind deploy/haproxy.cfg
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p hallcall-announcer --features speaker --all-targets -- -D warnings

echo "== cargo deny (bans, licenses, sources; offline checks only)"
command -v cargo-deny >/dev/null 2>&1 || cargo install --locked --quiet cargo-deny --version 0.20.2
mkdir -p target
if ! cargo deny check bans licenses sources >target/deny.log 2>&1; then cat target/deny.log; exit 1; fi
tail -n 1 target/deny.log

eval "$(scripts/pg.sh || echo "exit 1")"  # throwaway PostgreSQL for the store tests (HALLCALL_TEST_PG); stops the run if it cannot start
export HALLCALL_TEST_CLUSTER_REQUIRED=1  # tests/cluster.rs fails instead of skipping without PostgreSQL or haproxy
echo "== cargo test (workspace)"
mkdir -p target
cargo test --workspace -- --skip kill_nine_loses_nothing_acknowledged --skip three_nodes_behind_haproxy 2>&1 | tee target/test.log
echo "== crash test: SIGKILL at random moments (prints its kill count)"
cargo test --test crash kill_nine_loses_nothing_acknowledged -- --nocapture
echo "== cluster test: 3 nodes + PostgreSQL + HAProxy; SIGKILL x10, SIGSTOP, SIGTERM (prints each failover time)"
cargo test --test cluster three_nodes_behind_haproxy -- --nocapture

echo "== announcer with the speaker feature"
cargo test -p hallcall-announcer --features speaker -q

# Every display-client/tests/*.test.mjs (each exits non-zero on a failure; see
# the top of display-client/tests/harness.mjs), in TZ=UTC so a page showing
# browser time instead of the hall's (Asia/Shanghai) is caught. All files run;
# the step fails if any did.
if compgen -G "display-client/tests/*.test.mjs" >/dev/null; then
  echo "== browser tests (headless Chromium)"
  cargo build --bin hallcall -q
  (cd display-client/tests && npm ci --no-audit --no-fund --silent)
  browser_failed=()
  for t in display-client/tests/*.test.mjs; do
    echo "-- $t"
    t0=$SECONDS
    TZ=UTC HALLCALL_BIN="$PWD/target/debug/hallcall" node "$t" || browser_failed+=("$t")
    echo "-- $t: $((SECONDS - t0)) s"
  done
  if [ ${#browser_failed[@]} -gt 0 ]; then echo "browser tests failed: ${browser_failed[*]}"; exit 1; fi
fi
echo "== target after the suite: $(du -sh target | cut -f1), disk $(df -h --output=avail . | tail -n 1 | tr -d ' ') free"
echo "== all tests passed"

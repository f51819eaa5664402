#!/usr/bin/env bash
# berth's whole test suite, from a fresh machine: installs the real tools the tests judge
# output with (tests/setup.sh, idempotent), builds, runs every test, checks formatting and
# lints, and fuzzes the parser and checker and the state and plan readers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/setup.sh
cargo build -p berth
cargo test --workspace --no-fail-fast
python3 -m unittest discover -s tests/kube-standin
target/debug/berth fmt --check examples stdlib/modules providers/*/tests/specs tests/fuzz/corpus tests/bench/apply tests/fixtures
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
tests/fuzz.sh "${BERTH_FUZZ_SECONDS:-60}" parse_check
tests/fuzz.sh "${BERTH_FUZZ_SECONDS:-30}" state_plan

#!/usr/bin/env bash
# Bounded fuzzing:  tests/fuzz.sh [SECONDS] [TARGET]
# Targets: parse_check (parse + resolve + check + graph of a spec), state_plan (reading state
# documents and saved plans).
# Installs cargo-fuzz if needed. cargo fuzz wants nightly flags: RUSTC_BOOTSTRAP lets the one
# stable toolchain here accept them. Seeds: tests/fuzz/corpus/<target>/ (small specs and
# minimised findings) plus the examples, stdlib modules and tests/bad at run time; new inputs
# go to a scratch copy, so a run leaves the repository unchanged.
set -euo pipefail
secs="${1:-60}" target="${2:-parse_check}"
cd "$(dirname "$0")/fuzz"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "corpus/$target/." "$work/"
if [ "$target" = parse_check ]; then
  for f in ../../examples/*/*.hcl ../../stdlib/modules/*/*.hcl ../bad/*.hcl; do
    cp "$f" "$work/$(echo "$f" | tr / _)"
  done
fi
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" "$work" -- \
  -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 | tail -n 25

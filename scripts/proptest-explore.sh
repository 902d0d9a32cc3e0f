#!/usr/bin/env bash
# Runs the property tests again and again with fresh random seeds, to look
# for the rare input that CI's fixed seed (PROPTEST_RNG_SEED in .ci/run)
# does not reach. A failure is shrunk and saved to proptest-regressions/,
# which is committed, so every later run (CI's too) replays it first.
#
#   scripts/proptest-explore.sh          # 20 rounds
#   ROUNDS=200 scripts/proptest-explore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
unset PROPTEST_RNG_SEED
rounds="${ROUNDS:-20}"
cargo test --locked --release --no-run --lib --test properties --test presenter
for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds"
  # Every target with a proptest! block (the library's are in
  # src/pane/alacritty_emulator.rs and src/pane/utf8_carry.rs).
  cargo test --locked --release -q --lib
  cargo test --locked --release -q --test properties
  cargo test --locked --release -q --test presenter
done
echo "no failure in $rounds rounds"

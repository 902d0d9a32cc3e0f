#!/bin/sh
# A long soak of loop-tui: the soak test of tests/load_e2e.rs with as many
# cycles as asked (default 2000, about 15 minutes), in a release build.
# Each cycle sends a message through the bridge socket, approves it and
# waits until it is typed into its target, scrolls a pane back, restarts
# a pane that exited, resizes the terminal and rewrites PLAN.md. The test
# samples loop-tui's RSS, open file descriptors and threads after every
# cycle, prints them every 50 cycles and at the end, and fails if the
# descriptors or threads grew after the warm-up or the memory grew beyond
# what the stored messages explain.
#
#   scripts/soak.sh            # 2000 cycles
#   scripts/soak.sh 20000      # a long night
#
# CARGO_TARGET_DIR is honoured as usual.
set -eu
cycles=${1:-2000}
case $cycles in
    ''|*[!0-9]*) echo "usage: scripts/soak.sh [CYCLES]  (a number, default 2000)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
LOOP_TUI_SOAK_CYCLES=$cycles exec cargo test --release --locked --test load_e2e \
    a_long_soak_of_everyday_cycles -- --nocapture 2>&1

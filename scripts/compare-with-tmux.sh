#!/usr/bin/env bash
# Measures loop-tui side by side with tmux (and a bare PTY) on this machine,
# in one run, with the shared harness ../shared/perf/muxbench.py.
#
#   scripts/compare-with-tmux.sh            # everything in docs/performance.md
#                                           # (throughput split latency idle rss startup idle2 rss2)
#   REPS=5 scripts/compare-with-tmux.sh     # more pairs per throughput figure
#   TESTS="throughput latency" scripts/compare-with-tmux.sh
#   LATENCY_RUNS=5 TESTS=latency scripts/compare-with-tmux.sh
#
# Ratios against the bare PTY of the same invocation are what to compare:
# absolute seconds drift with machine load (see ../shared/perf/RESULTS.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
perf="${MUXBENCH_DIR:-$root/../shared/perf}"
[ -f "$perf/muxbench.py" ] || { echo "muxbench.py not found in $perf; set MUXBENCH_DIR" >&2; exit 2; }
command -v tmux >/dev/null || { echo "tmux is needed for the comparison: apt-get install tmux" >&2; exit 2; }

reps="${REPS:-3}"
tests="${TESTS:-throughput split latency idle rss startup idle2 rss2}"
out="${OUT:-$root/target/perf/compare-$(date +%Y%m%d-%H%M%S).jsonl}"
mkdir -p "$(dirname "$out")"

(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/loop-tui"

for test in $tests; do
  case "$test" in
    idle2|rss2)
      # Two-pane figures (loop-tui always runs two agents): scripts/perf-two-panes.py.
      python3 "$root/scripts/perf-two-panes.py" "$test" --out "$out" --mux tmux
      python3 "$root/scripts/perf-two-panes.py" "$test" --out "$out" --mux loop-tui --bin "$bin"
      continue ;;
  esac
  args=("$test" --out "$out")
  case "$test" in
    throughput) args+=(--files mixed --reps "$reps") ;;
    split|startup) args+=(--reps "$reps") ;;
    idle) args+=(--idle-secs "${IDLE_SECS:-30}") ;;
    # The same history for both: loop-tui's default, 10 000 lines.
    rss) args+=(--scrollback 10000) ;;
    # 400 keys print 50 lines of tokens: with 60 rows nothing scrolls, so
    # every key is timed for both. In 50 rows the pane scrolls, and a
    # multiplexer that writes only the cells that changed (loop-tui) leaves
    # some tokens split in the byte stream, where muxbench cannot see them:
    # those keys would silently drop out of its figures.
    latency) args+=(--keys 400 --rows 60) ;;
  esac
  # Latency is noisy on a shared machine: several runs, alternating.
  rounds=1
  [ "$test" = latency ] && rounds="${LATENCY_RUNS:-3}"
  for _ in $(seq "$rounds"); do
    # --bin applies to every profile of a call, so each multiplexer gets its own call.
    python3 "$perf/muxbench.py" "${args[@]}" --mux tmux
    python3 "$perf/muxbench.py" "${args[@]}" --mux loop-tui --bin "$bin"
  done
done

python3 "$perf/report.py" "$out" || true
python3 "$root/scripts/perf-summary.py" "$out"
echo "raw records: $out"

#!/usr/bin/env python3
"""Summarises a comparison run (scripts/compare-with-tmux.sh) as the table in
docs/performance.md: each figure for tmux and loop-tui from the same run, and
whether loop-tui meets its target against tmux.

    scripts/perf-summary.py target/perf/compare-YYYYMMDD-HHMMSS.jsonl
"""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pick(records, **want):
    """The last record matching every field in `want`."""
    found = [r for r in records if all(r.get(k) == v for k, v in want.items())]
    return found[-1] if found else None


def latency_added(records, mux):
    """(p50, p99, missed) added over the bare PTY measured right before each
    latency run of `mux`, one per run, in order."""
    out = []
    floor = None
    for r in records:
        if r.get("test") != "latency":
            continue
        if r["mux"] == "none":
            floor = r
        elif r["mux"] == mux and floor is not None:
            out.append((r["p50_ms"] - floor["p50_ms"], r["p99_ms"] - floor["p99_ms"], r.get("missed", 0)))
    return out


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2


def row(name, tmux, loop, verdict):
    return "| %s | %s | %s | %s |" % (name, tmux, loop, verdict)


def main():
    records = load(sys.argv[1])
    lines = ["| figure | tmux | loop-tui | target |", "|---|---|---|---|"]

    for test, label in (("throughput", "throughput, 50 MB coloured, one pane"),
                        ("split", "throughput, 50 MB coloured in each of two panes")):
        t = pick(records, test=test, mux="tmux", file="mixed")
        l = pick(records, test=test, mux="loop-tui", file="mixed")
        if t and l:
            speedup = t["wall_med"] / l["wall_med"]
            lines.append(row(label,
                             "%.2f s (%.1fx bare PTY)" % (t["wall_med"], t["ratio_med"]),
                             "%.2f s (%.1fx bare PTY)" % (l["wall_med"], l["ratio_med"]),
                             "loop-tui %.2fx faster (want >= 1.5x): %s"
                             % (speedup, "met" if speedup >= 1.5 else "MISSED")))

    t, l = latency_added(records, "tmux"), latency_added(records, "loop-tui")
    if t and l:
        # Each run is paired with the next of the other multiplexer; the
        # medians over the runs are what is compared.
        t50, t99 = median([x[0] for x in t]), median([x[1] for x in t])
        l50, l99 = median([x[0] for x in l]), median([x[1] for x in l])
        pairs = list(zip(t, l))
        lower50 = sum(1 for a, b in pairs if b[0] < a[0])
        lower99 = sum(1 for a, b in pairs if b[1] < a[1])
        missed = "; keys not seen: tmux %d, loop-tui %d" % (sum(x[2] for x in t), sum(x[2] for x in l))
        ok = l50 < t50 and l99 < t99
        lines.append(row("key echo added over a bare PTY, p50 / p99 (median of %d runs)" % len(pairs),
                         "%.3f / %.3f ms" % (t50, t99), "%.3f / %.3f ms" % (l50, l99),
                         "lower than tmux: %s (p50 lower in %d of %d runs, p99 in %d%s)"
                         % ("met" if ok else "MISSED", lower50, len(pairs), lower99, missed)))

    for test, workload, label in (("idle", "shell", "idle CPU, 30 s, one idle shell"),
                                  ("idle", "status10hz", "idle CPU, 30 s, 10 Hz status line"),
                                  ("idle2", "two-shells", "idle CPU, 30 s, two idle panes"),
                                  ("idle2", "status10hz+shell", "idle CPU, 30 s, 10 Hz status line + idle pane")):
        t = pick(records, test=test, mux="tmux", workload=workload)
        l = pick(records, test=test, mux="loop-tui", workload=workload)
        if t and l:
            lines.append(row(label, "%.2f s" % t["mux_cpu_s"], "%.2f s" % l["mux_cpu_s"],
                             "at most tmux's: %s" % ("met" if l["mux_cpu_s"] <= t["mux_cpu_s"] else "MISSED")))

    for test, label, key in (("rss", "RSS after 100k lines, 10 000 lines of scrollback, one pane", "rss_kb_after"),
                             ("rss2", "RSS after 100k lines in each of two panes, 10 000 lines of scrollback each", "rss_kb_after")):
        t = pick(records, test=test, mux="tmux")
        l = pick(records, test=test, mux="loop-tui")
        if t and l:
            lines.append(row(label, "%.1f MB" % (t[key] / 1024), "%.1f MB" % (l[key] / 1024),
                             "at most tmux's: %s" % ("met" if l[key] <= t[key] else "MISSED")))

    t = pick(records, test="startup", mux="tmux")
    l = pick(records, test="startup", mux="loop-tui")
    if t and l:
        lines.append(row("time to first frame (pane content visible), median",
                         "%.1f ms" % t["pane_visible_ms_med"], "%.1f ms" % l["pane_visible_ms_med"],
                         "reported (no target)"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Two-pane measurements that ../shared/perf/muxbench.py only makes for one pane.

loop-tui always runs two agents, so its idle CPU and memory matter with two
panes. This reuses muxbench's harness (its outer PTY, process accounting and
markers) and adds:

  idle2  CPU over --idle-secs with two idle shells, then with a 10 Hz status
         line (an agent's "Thinking..." spinner) beside an idle shell
  rss2   RSS after both panes print 100 000 lines, with --scrollback lines
         of history configured (default 10 000, loop-tui's default)

    scripts/perf-two-panes.py idle2 --mux tmux
    scripts/perf-two-panes.py rss2 --mux loop-tui --bin target/release/loop-tui

Records are appended to --out as JSON lines, like muxbench's.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PERF = os.environ.get("MUXBENCH_DIR", os.path.join(HERE, "..", "..", "shared", "perf"))
sys.path.insert(0, PERF)
import muxbench as mb  # noqa: E402

# loop-tui's two-pane template with a scrollback setting (muxbench's own
# loop-tui template leaves the scrollback at loop-tui's default).
LOOP_TUI_SPLIT = "{bin} --scrollback {scrollback} --pane '{argv_a}' --pane '{argv_b}'"


def options(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", choices=["idle2", "rss2"])
    ap.add_argument("--mux", action="append", required=True)
    ap.add_argument("--bin")
    ap.add_argument("--idle-secs", type=float, default=30.0)
    ap.add_argument("--scrollback", type=int, default=10000)
    ap.add_argument("--start-timeout", type=float, default=20.0)
    ap.add_argument("--run-timeout", type=float, default=300.0)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "target", "perf", "two-panes.jsonl"))
    o = ap.parse_args(argv)
    # The fields muxbench's Run and Outer read.
    o.exe = None
    o.single_template = None
    o.split_template = LOOP_TUI_SPLIT if o.bin else None
    o.data = mb.DEFAULT_DATA
    o.mb = 50
    o.settle = 1.0
    o.rows, o.cols = mb.ROWS, mb.COLS
    o.no_bars = False
    os.makedirs(os.path.dirname(os.path.abspath(o.out)), exist_ok=True)
    return o


def shell(ready):
    return "%s\nPS1='$ ' exec bash --norc --noprofile -i" % mb._pf(ready)


def idle2(o):
    for mux in o.mux:
        for kind in ("two-shells", "status10hz+shell"):
            r = mb.Run(o, mux, "split", {"a": ":", "b": ":"})
            ready_a, ready_b = mb.marker("R", r.nonce), mb.marker("Q", r.nonce)
            if kind == "two-shells":
                body_a = shell(ready_a)
            else:
                py = os.path.join(r.dir, "status.py")
                with open(py, "w") as f:
                    f.write(mb.STATUS_PY % {"ready": mb._pf(ready_a)})
                body_a = "exec python3 %s" % py
            mb.write_script(os.path.join(r.dir, "a.sh"), body_a, os.path.join(r.dir, "a.pid"))
            mb.write_script(os.path.join(r.dir, "b.sh"), shell(ready_b), os.path.join(r.dir, "b.pid"))
            out = r.start()
            try:
                out.wait([ready_a, ready_b], o.start_timeout)
                out.pump(2.0)
                out.answering = False
                c0, _ = out.mux_cpu()
                t0 = time.perf_counter()
                n0 = out.nbytes
                out.pump(o.idle_secs)
                dt = time.perf_counter() - t0
                c1, per1 = out.mux_cpu()
                mem = out.mux_mem()
                mb.emit(o, dict(test="idle2", mux=mux, workload=kind, secs=round(dt, 2),
                                mux_cpu_s=round(c1 - c0, 3), mux_cpu_pct=round(100 * (c1 - c0) / dt, 3),
                                procs=len(per1), out_bytes_per_s=round((out.nbytes - n0) / dt, 1),
                                rss_kb_total=sum(m.get("VmRSS", 0) for m in mem.values())))
            finally:
                r.close()


def rss2(o):
    files = mb.ensure_data(o.data, o.mb)
    for mux in o.mux:
        r = mb.Run(o, mux, "split", {"a": ":", "b": ":"})
        marks = {k: (mb.marker("R" + k, r.nonce), mb.marker("E" + k, r.nonce)) for k in "ab"}
        for k, (ready, end) in marks.items():
            mb.write_script(os.path.join(r.dir, k + ".sh"),
                            # The screen is cleared (and drawn) before the end marker, so a
                            # diffing renderer draws the marker as one run of characters
                            # rather than around cells that happen to be unchanged.
                            "%s\nsleep 1\ncat %s\nprintf '\\033[2J\\033[H'\nsleep 0.5\n%s\nexec sleep 100000"
                            % (mb._pf(ready), files["lines100k"], mb._pf(end)),
                            os.path.join(r.dir, k + ".pid"))
        out = r.start()
        try:
            out.wait([m[0] for m in marks.values()], o.start_timeout)
            out.pump(0.5)
            mem0 = out.mux_mem()
            out.wait([m[1] for m in marks.values()], o.run_timeout)
            out.pump(2.0)
            mem1 = out.mux_mem()
            mb.emit(o, dict(test="rss2", mux=mux, scrollback=o.scrollback, lines_per_pane=100000,
                            rss_kb_before=sum(m.get("VmRSS", 0) for m in mem0.values()),
                            rss_kb_after=sum(m.get("VmRSS", 0) for m in mem1.values()),
                            hwm_kb_after=sum(m.get("VmHWM", 0) for m in mem1.values()),
                            procs=list(mem1.values())))
        finally:
            r.close()


def main():
    o = options(sys.argv[1:])
    {"idle2": idle2, "rss2": rss2}[o.test](o)


if __name__ == "__main__":
    main()

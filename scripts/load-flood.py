#!/usr/bin/env python3
"""load-flood: key-to-screen latency and memory while two panes flood.

Runs the real loop-tui attached to a headless outer terminal (a PTY this
script owns, 200x50, TERM=xterm-256color), with two panes that each stream
--mb MB of coloured output (default 100) once released, and measures:

* key-to-screen latency: the time from writing a key to the outer PTY
  until loop-tui has drawn it (its bytes arrive on the outer PTY), first
  without the flood (baseline), then during it. With --target editor (the
  default) the keys go to the bridge pane's compose editor (prefix b, then
  m); each key is a different CJK character that appears nowhere else in
  the output, so the first time its bytes arrive is the moment it is drawn.
  With --target pane they go to a third pane running a raw-mode echo
  program that prints a unique CJK character per key (muxbench's method
  with one-cell tokens: a multi-character token can be drawn in pieces
  when a redraw leaves some of its cells unchanged).
* the flood: how long both panes take to stream their data (until `cat`
  ends in both) and at what rate; loop-tui's CPU time.
* memory: loop-tui's VmRSS sampled as the flood goes (after 25 %, 50 % and
  100 % of the data) and its VmHWM (peak) at the end, with --scrollback
  lines of history per pane; RSS that grew with the amount streamed would
  show as a rising series.

Python 3 standard library only. Figures go to stdout as text and, with
--json FILE, as one JSON object appended to FILE.

  cargo build --release
  python3 scripts/load-flood.py                      # 2 x 100 MB, editor keys
  python3 scripts/load-flood.py --target pane --mb 50
  python3 scripts/load-flood.py --scrollback 100000  # history grows RSS
"""
import argparse
import fcntl
import json
import os
import random
import select
import shlex
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = b"\x1d"  # Ctrl-], loop-tui's default prefix
ESC = b"\x1b"
COMPOSE_TITLE = b"Message to all agents"
HZ = os.sysconf("SC_CLK_TCK")

# Answers to the start-up queries loop-tui (or a pane) may wait for.
QUERIES = [
    (b"\x1b[6n", b"\x1b[1;1R"),
    (b"\x1b[c", b"\x1b[?62;22c"),
    (b"\x1b[>c", b"\x1b[>1;10;0c"),
]

WORDS = ("the quick brown fox jumps over lazy dog error warning info debug compile "
         "crate module function return value struct impl trait async await tokio "
         "request response buffer terminal render frame pane cursor scroll line "
         "test passed failed ok running build release target src main lib").split()
SYMBOLS = ["✓", "✗", "→", "│", "─", "⠋", "⠙", "…", "é", "█", "▌", "•"]


def coloured_block(size, seed=42):
    """Build-log, diff and agent-transcript lines with 16/256/truecolour
    SGR, bold, UTF-8 symbols and some long wrapping lines; no CJK, so the
    editor keys stay unique in the output."""
    rng = random.Random(seed)
    out, n = [], 0
    while n < size:
        r = rng.random()
        ws = [rng.choice(WORDS) for _ in range(rng.randint(3, 28))]
        if r < 0.25:
            s = "\x1b[1m\x1b[32m%12s\x1b[0m %s v0.%d.%d" % (
                rng.choice(["Compiling", "Checking", "Running"]), ws[0], rng.randint(0, 40), rng.randint(0, 9))
        elif r < 0.35:
            s = "\x1b[1;31merror\x1b[0m\x1b[1m: %s\x1b[0m \x1b[38;5;%dm%s\x1b[39m \x1b[38;2;%d;%d;%dm%s\x1b[0m" % (
                " ".join(ws[:6]), rng.randint(16, 231), " ".join(ws[6:10]),
                rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255), " ".join(ws[10:]))
        elif r < 0.45:
            s = "%s %s\x1b[m" % (rng.choice(["\x1b[32m+", "\x1b[31m-", "\x1b[36m@@"]), " ".join(ws))
        elif r < 0.55:
            s = "%s %s %s" % (rng.choice(SYMBOLS), " ".join(ws), rng.choice(SYMBOLS) * rng.randint(1, 8))
        elif r < 0.60:
            s = " ".join(ws * rng.randint(3, 8))
        else:
            s = " ".join(ws)
        out.append(s)
        n += len(s.encode()) + 1
    return ("\n".join(out) + "\n").encode()


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / HZ
    except (OSError, IndexError):
        return None


def quantile(xs, f):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * f
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


class Outer:
    """The outer terminal: runs argv on a PTY's slave side and drains the
    master, keeping the output since a mark for token searches."""

    def __init__(self, argv, env, cwd, rows, cols):
        m, s = os.openpty()
        fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, cols * 8, rows * 16))
        self.proc = subprocess.Popen(argv, stdin=s, stdout=s, stderr=s, env=env, cwd=cwd,
                                     close_fds=True, start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(s)
        self.fd = m
        os.set_blocking(m, False)
        self.poller = select.poll()
        self.poller.register(m, select.POLLIN)
        self.since = bytearray()  # output since the last mark()
        self.tail = b""           # the end of the previous chunk, for queries split across reads
        self.nbytes = 0

    def mark(self):
        self.since = bytearray()

    def pump(self, timeout):
        """Reads for up to `timeout` s; returns after the first chunk."""
        if not self.poller.poll(max(timeout, 0) * 1000):
            return False
        try:
            chunk = os.read(self.fd, 1 << 18)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            raise SystemExit("load-flood: loop-tui's terminal closed (did it exit?)")
        if not chunk:
            raise SystemExit("load-flood: loop-tui's terminal closed (did it exit?)")
        window = self.tail + chunk
        for query, answer in QUERIES:
            if query in window and query not in self.tail:
                os.write(self.fd, answer)
        self.tail = window[-8:]
        self.nbytes += len(chunk)
        self.since += chunk
        # Only the recent output is searched; keep memory flat in a flood.
        if len(self.since) > (8 << 20):
            del self.since[:-(1 << 20)]
        return True

    def drain(self, seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            self.pump(end - time.perf_counter())

    def wait_for(self, token, timeout, what):
        """Waits until `token` is in the output since the last mark; returns
        the arrival time of the chunk that completed it."""
        end = time.perf_counter() + timeout
        start = 0
        while True:
            if token in self.since[start:]:
                return time.perf_counter()
            start = max(0, len(self.since) - len(token))
            left = end - time.perf_counter()
            if left <= 0:
                raise TimeoutError("%s: %r not drawn within %.0f s" % (what, token, timeout))
            self.pump(left)

    def send(self, data):
        os.write(self.fd, data)

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.close(self.fd)
        except OSError:
            pass


ECHO_PY = r'''
import os, sys, tty
tty.setraw(0)
sys.stdout.write("echo-ready-" + "%(nonce)s\r\n")
sys.stdout.flush()
n = 0
while True:
    b = os.read(0, 256)
    if not b:
        break
    out = []
    for c in b:
        # Key n is echoed as its own CJK character, drawn once in a cell no
        # earlier key used, so the multiplexer's redraw cannot split it.
        out.append(chr(0x5E00 + n))
        n += 1
        if n %% 30 == 0:
            out.append("\r\n")
    os.write(1, "".join(out).encode())
'''


class Keys:
    """What to type and what shows that it was drawn."""

    def __init__(self, target):
        self.target = target
        self.n = 0

    def next(self):
        i = self.n
        self.n += 1
        if self.target == "editor":
            # CJK unified ideographs: one key each, never in the flood data.
            ch = chr(0x4E00 + i)
            return ch.encode(), ch.encode()
        letter = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        return letter.encode(), chr(0x5E00 + i).encode()


def open_editor(out, timeout):
    out.mark()
    out.send(b"m")
    out.wait_for(COMPOSE_TITLE, timeout, "the compose editor")


def type_keys(out, keys, o, stop=None, on_tick=None):
    """Types keys until `count` are done or `stop()` says the flood is
    over; returns the latencies (ms) and the keys lost."""
    rng = random.Random(7)
    lat, lost = [], 0
    typed_in_editor = 0
    while True:
        if stop is not None and stop():
            break
        if stop is None and len(lat) + lost >= o.keys:
            break
        if stop is not None and len(lat) + lost >= o.max_keys:
            break
        if keys.target == "editor" and typed_in_editor >= 40:
            # A fresh editor keeps the text on one row, so no key makes the
            # editor scroll and redraw earlier ones.
            out.send(ESC)
            out.drain(0.05)
            open_editor(out, o.timeout)
            typed_in_editor = 0
            # Leave the usual gap after the editor's frame, so the next key
            # is not held back by the frame interval (16 ms) it started.
            out.drain(rng.uniform(o.key_gap * 0.5, o.key_gap * 1.5))
        key, token = keys.next()
        out.mark()
        t0 = time.perf_counter()
        out.send(key)
        try:
            t1 = out.wait_for(token, o.timeout, "key %d" % keys.n)
            lat.append((t1 - t0) * 1000)
        except TimeoutError:
            lost += 1
        typed_in_editor += 1
        if on_tick:
            on_tick()
        out.drain(rng.uniform(o.key_gap * 0.5, o.key_gap * 1.5))
    return lat, lost


def summary(lat):
    if not lat:
        return dict(keys=0)
    return dict(keys=len(lat), p50_ms=round(quantile(lat, .5), 2), p90_ms=round(quantile(lat, .9), 2),
                p99_ms=round(quantile(lat, .99), 2), max_ms=round(max(lat), 2),
                mean_ms=round(statistics.mean(lat), 2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "loop-tui"))
    ap.add_argument("--mb", type=float, default=100, help="MB each of the two panes streams (default 100)")
    ap.add_argument("--scrollback", type=int, default=1000, help="loop-tui --scrollback (default 1000)")
    ap.add_argument("--target", choices=["editor", "pane"], default="editor",
                    help="where the keys go: the bridge's compose editor, or a third pane echoing them")
    ap.add_argument("--keys", type=int, default=200, help="keys typed for the baseline")
    ap.add_argument("--max-keys", type=int, default=5000, help="at most this many keys during the flood")
    ap.add_argument("--key-gap", type=float, default=0.05, help="mean seconds between keys (25 to 75 ms)")
    ap.add_argument("--timeout", type=float, default=10.0, help="a key not drawn within this is lost")
    ap.add_argument("--rows", type=int, default=50)
    ap.add_argument("--cols", type=int, default=200)
    ap.add_argument("--emulator", choices=["alacritty", "vt100"], default=None)
    ap.add_argument("--json", help="append the figures as one JSON line to this file")
    o = ap.parse_args()
    if not os.access(o.bin, os.X_OK):
        raise SystemExit("load-flood: %s is not an executable; run `cargo build --release` or pass --bin" % o.bin)

    run = tempfile.mkdtemp(prefix="loop-tui-load-")
    block_path = os.path.join(run, "block.txt")
    block = coloured_block(4 << 20)
    with open(block_path, "wb") as f:
        f.write(block)
    total_per_pane = int(o.mb * 1e6)
    blocks = max(1, round(total_per_pane / len(block)))
    nonce = "%08x" % random.getrandbits(32)
    panes = []
    for name in ("a", "b"):
        fifo = os.path.join(run, "go-" + name)
        os.mkfifo(fifo)
        # The ready marker is printed in two halves, so the pane's command
        # line can never show it early.
        script = os.path.join(run, name + ".sh")
        with open(script, "w") as f:
            f.write("printf '%%s%%s\\n' flood-ready- '%s-%s'\n" % (name, nonce))
            f.write("read _ < %s\n" % fifo)
            f.write("i=0\nwhile [ $i -lt %d ]; do cat %s; i=$((i+1)); echo $i > %s/progress-%s; done\n"
                    % (blocks, shlex.quote(block_path), run, name))
            f.write("date +%%s.%%N > %s/done-%s\nexec sleep 1000000\n" % (run, name))
        panes += ["--pane", "%s:sh %s" % (name, script)]
    if o.target == "pane":
        echo = os.path.join(run, "echo.py")
        with open(echo, "w") as f:
            f.write(ECHO_PY % {"nonce": nonce})
        panes += ["--pane", "echo:exec python3 %s" % echo]
    argv = [o.bin, "--scrollback", str(o.scrollback)] + (["--emulator", o.emulator] if o.emulator else []) + panes
    env = dict(os.environ)
    for k in ("TMUX", "TMUX_PANE", "COLORTERM"):
        env.pop(k, None)
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8", SHELL="/bin/sh",
               XDG_STATE_HOME=os.path.join(run, "state"), XDG_CONFIG_HOME=os.path.join(run, "config"))
    out = Outer(argv, env, run, o.rows, o.cols)
    pid = out.proc.pid
    rec = dict(test="load-flood", target=o.target, mb_per_pane=o.mb, panes=2, scrollback=o.scrollback,
               size="%dx%d" % (o.cols, o.rows), bin=o.bin, emulator=o.emulator or "alacritty")
    try:
        out.wait_for(("flood-ready-a-%s" % nonce).encode(), 20, "pane a")
        out.wait_for(("flood-ready-b-%s" % nonce).encode(), 20, "pane b")
        out.drain(1.0)
        rss_idle = proc_status(pid)
        keys = Keys(o.target)
        if o.target == "editor":
            out.send(PREFIX + b"b")
            out.drain(0.2)
            open_editor(out, o.timeout)
        else:
            out.send(PREFIX + b"3")
            out.drain(0.3)
        out.drain(0.5)
        base, base_lost = type_keys(out, keys, o)

        if o.target == "editor":
            out.send(ESC)
            out.drain(0.1)
            open_editor(out, o.timeout)
        out.drain(0.5)
        cpu0 = cpu_seconds(pid)
        samples = []
        done = {}

        def progress():
            total = 0
            for name in ("a", "b"):
                try:
                    with open(os.path.join(run, "progress-" + name)) as f:
                        total += int(f.read().strip() or 0) * len(block)
                except (OSError, ValueError):
                    pass
            return total

        def flood_over():
            for name in ("a", "b"):
                if name not in done and os.path.exists(os.path.join(run, "done-" + name)):
                    done[name] = time.perf_counter()
            return len(done) == 2

        last_sample = [0.0]

        def tick():
            now = time.perf_counter()
            if now - last_sample[0] >= 0.25:
                last_sample[0] = now
                st = proc_status(pid)
                samples.append(dict(t=round(now - t0, 2), bytes=progress(), rss_kb=st.get("VmRSS"),
                                    threads=st.get("Threads")))

        t0 = time.perf_counter()
        for name in ("a", "b"):
            fd = os.open(os.path.join(run, "go-" + name), os.O_WRONLY)
            os.write(fd, b"go\n")
            os.close(fd)
        flood, flood_lost = type_keys(out, keys, o, stop=flood_over, on_tick=tick)
        while not flood_over():
            tick()
            out.drain(0.1)
        wall = max(done.values()) - t0
        cpu1 = cpu_seconds(pid)
        out.drain(1.0)
        end = proc_status(pid)
        total = 2 * blocks * len(block)

        def rss_at(fraction):
            want = total * fraction
            hits = [s for s in samples if s["bytes"] >= want and s["rss_kb"]]
            return hits[0]["rss_kb"] if hits else None

        rec.update(
            baseline=dict(summary(base), lost=base_lost),
            during_flood=dict(summary(flood), lost=flood_lost),
            flood_mb=round(total / 1e6, 1), flood_wall_s=round(wall, 2),
            flood_mb_per_s=round(total / 1e6 / wall, 1),
            loop_tui_cpu_s=round(cpu1 - cpu0, 2) if cpu0 is not None and cpu1 is not None else None,
            rss_kb_idle=rss_idle.get("VmRSS"), rss_kb_25pct=rss_at(.25), rss_kb_50pct=rss_at(.5),
            rss_kb_end=end.get("VmRSS"), hwm_kb_end=end.get("VmHWM"), threads_end=end.get("Threads"),
            ts=time.strftime("%Y-%m-%dT%H:%M:%S"))
    finally:
        out.close()
        subprocess.run(["rm", "-rf", run])

    b, d = rec["baseline"], rec["during_flood"]
    print("loop-tui %s, keys to the %s, 2 panes x %g MB, scrollback %d, %s"
          % (o.bin, o.target, o.mb, o.scrollback, rec["size"]))
    print("  key-to-screen without flood: %d keys, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, lost %d"
          % (b["keys"], b.get("p50_ms", 0), b.get("p90_ms", 0), b.get("p99_ms", 0), b.get("max_ms", 0), b["lost"]))
    print("  key-to-screen during flood:  %d keys, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, lost %d"
          % (d["keys"], d.get("p50_ms", 0), d.get("p90_ms", 0), d.get("p99_ms", 0), d.get("max_ms", 0), d["lost"]))
    print("  flood: %.1f MB in %.2f s (%.1f MB/s), loop-tui CPU %.2f s"
          % (rec["flood_mb"], rec["flood_wall_s"], rec["flood_mb_per_s"], rec["loop_tui_cpu_s"] or 0))
    print("  RSS: idle %s kB, after 25%% %s kB, 50%% %s kB, end %s kB; peak (VmHWM) %s kB; threads %s"
          % (rec["rss_kb_idle"], rec["rss_kb_25pct"], rec["rss_kb_50pct"], rec["rss_kb_end"], rec["hwm_kb_end"],
             rec["threads_end"]))
    if o.json:
        with open(o.json, "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    if b["lost"] or d["lost"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

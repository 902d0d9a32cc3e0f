#!/bin/bash
# Runs the same offline agent session in loop-tui (one pane, 100x30 inside a
# 102x33 window) and directly in tmux (a 100x30 window), captures both
# screens with colours (tmux capture-pane -e -N) and compares them cell by
# cell; see docs/agent-fidelity.md.
#
# usage: docs/compare-with-tmux.sh AGENT [ARGS...]    AGENT: claude|codex|gemini
#   DIRECT_ENV='COLORTERM=truecolor'  environment for the agent run in tmux
#   LOOP_TUI=path  AGENTS_OFFLINE=dir  AGENTS_BIN=dir  OUT=dir
# Needs tmux, python3 and the CLIs (../shared/agents-offline/install-agents.sh).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
AGENT=$1; shift
ARGS="$*"
A=${AGENTS_OFFLINE:-$ROOT/../shared/agents-offline}
BIN=${AGENTS_BIN:-$HOME/.cache/loop-tui-agents/node_modules/.bin}
LOOP_TUI=${LOOP_TUI:-$ROOT/target/debug/loop-tui}
OUT=${OUT:-$PWD/compare-$AGENT}
SOCK=loop-tui-compare-$$
rm -rf "$OUT"; mkdir -p "$OUT/project"
python3 - "$OUT/scenario.json" <<'PY'
import json, sys
def reply(turn, end):
    return "".join(f"- {turn} answer, line {n}\n" for n in range(1, 25)) + "\n" + end
json.dump({"rules": [
    {"match": "FIRST-TURN", "text": reply("first", "END-OF-FIRST")},
    {"match": "SECOND-TURN", "text": reply("second", "END-OF-SECOND")}],
    "default_text": "ok"}, open(sys.argv[1], "w"))
PY
python3 "$A/fake_llm.py" --port 0 --scenario "$OUT/scenario.json" --log "$OUT/llm.jsonl" > "$OUT/port" 2>/dev/null &
MODEL=$!
trap 'tmux -L $SOCK kill-server 2>/dev/null || true; kill $MODEL 2>/dev/null || true' EXIT
until [ -s "$OUT/port" ]; do sleep 0.1; done
URL=http://127.0.0.1:$(head -1 "$OUT/port")
CMD="PATH=$BIN:\$PATH FAKE_LLM_URL=$URL $A/$AGENT-offline $ARGS"
cd "$OUT/project"
# A session that stays alive for the whole run (see agents-offline README).
tmux -L $SOCK -f /dev/null new-session -d -s keep -x 80 -y 24
tmux -L $SOCK new-session -d -s lt -x 102 -y 33 \
  "AGENT_STATE=$OUT/state-lt $LOOP_TUI --pane \"$CMD\""
tmux -L $SOCK new-session -d -s direct -x 100 -y 30 "AGENT_STATE=$OUT/state-direct ${DIRECT_ENV:-} $CMD"
wait_for() { # session text
  for _ in $(seq 1 300); do
    tmux -L $SOCK capture-pane -p -t "$1" | grep -q -- "$2" && return 0; sleep 0.1
  done; echo "timeout waiting for $2 in $1" >&2; return 1
}
case $AGENT in claude) READY='? for shortcuts';; codex) READY='gpt-fake';; *) READY='Type your message';; esac
for s in lt direct; do wait_for $s "$READY"; done
sleep 1
for turn in FIRST SECOND; do
  for s in lt direct; do tmux -L $SOCK send-keys -t $s -l "$turn-TURN please"; done
  sleep 0.6
  for s in lt direct; do tmux -L $SOCK send-keys -t $s Enter; done
  for s in lt direct; do wait_for $s "END-OF-$turn"; done
done
sleep 1.5
for s in lt direct; do
  tmux -L $SOCK capture-pane -N -e -p -t $s > "$OUT/$s.ansi"
  tmux -L $SOCK capture-pane -N -p -t $s > "$OUT/$s.txt"
done
# The whole history: tmux's own, and loop-tui's through its scroll mode.
tmux -L $SOCK capture-pane -p -S - -t direct > "$OUT/direct-history.txt"
tmux -L $SOCK send-keys -t lt C-] '['; sleep 0.3; tmux -L $SOCK send-keys -t lt g; sleep 0.5
tmux -L $SOCK capture-pane -p -t lt > "$OUT/lt-top.txt"
python3 - "$OUT" <<'PY'
import re, sys, unicodedata
from collections import Counter
out = sys.argv[1]

def parse(path):
    """tmux capture-pane -e output as rows of (text, fg, bg, attributes)."""
    # tmux writes an attribute only where it changes, also from the end of
    # one line to the next, so the state carries over.
    rows = []; fg = bg = None; attrs = set()
    for line in open(path, encoding="utf-8").read().split("\n"):
        row = []
        for m in re.finditer(r"\x1b\[([0-9;:]*)m|([^\x1b])", line):
            if m.group(1) is None:
                ch = m.group(2)
                row.append((ch, fg, bg, frozenset(attrs)))
                if unicodedata.east_asian_width(ch) in "WF":
                    row.append(("", fg, bg, frozenset(attrs)))
                continue
            ps = [int(p) if p else 0 for p in re.split("[;:]", m.group(1))] or [0]
            j = 0
            while j < len(ps):
                p = ps[j]
                if p == 0: fg = bg = None; attrs = set()
                elif p in (1, 2, 3, 4, 7, 9): attrs.add(p)
                elif p == 22: attrs -= {1, 2}
                elif p in (23, 24, 27): attrs.discard(p - 20)
                elif 30 <= p <= 37: fg = ("idx", p - 30)
                elif 90 <= p <= 97: fg = ("idx", p - 82)
                elif 40 <= p <= 47: bg = ("idx", p - 40)
                elif 100 <= p <= 107: bg = ("idx", p - 92)
                elif p == 39: fg = None
                elif p == 49: bg = None
                elif p in (38, 48):
                    if ps[j + 1] == 5: c = ("idx", ps[j + 2]); j += 2
                    else: c = ("rgb", tuple(ps[j + 2:j + 5])); j += 4
                    if p == 38: fg = c
                    else: bg = c
                j += 1
        rows.append(row)
    return rows

def cell(rows, r, c):
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else (" ", None, None, frozenset())

lt, direct = parse(f"{out}/lt.ansi"), parse(f"{out}/direct.ansi")
kinds = Counter(); examples = {}
for r in range(30):
    for c in range(100):
        a, b = cell(lt, r + 1, c + 1), cell(direct, r, c)   # loop-tui's pane is inside a border
        if a == b or (not a[0].strip() and not b[0].strip() and a[2] == b[2] and a[3] == b[3]):
            continue
        k = "+".join(n for n, x, y in zip(("text", "fg", "bg", "attrs"), a, b) if x != y)
        kinds[k] += 1
        examples.setdefault(k, (r, c, a, b))
print("cells that differ, by kind:", dict(kinds) or "none")
for k, (r, c, a, b) in examples.items():
    print(f"  e.g. {k} at row {r} col {c}: loop-tui {a}, tmux {b}")
top = [l[1:101].rstrip() for l in open(f"{out}/lt-top.txt", encoding="utf-8").read().split("\n")[1:31]]
hist = [l.rstrip() for l in open(f"{out}/direct-history.txt", encoding="utf-8").read().split("\n")[:30]]
same = sum(x == y for x, y in zip(top, hist))
print(f"top of history: {same} of 30 lines identical")
PY

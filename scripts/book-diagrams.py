#!/usr/bin/env python3
"""Draws the concept diagrams of the book's chapter "Build it step by step" as SVG files in
book/src/diagrams/ (committed; run this again after changing it: python3 scripts/book-diagrams.py).

Made to be read on a phone as well as on a desktop: a viewBox 480 units wide, scaled to the text
column (max-width 100%), text of 16 units or more (so at least 12 px wherever the picture is
shown 360 px wide or more, a phone's text column), time flowing downwards. Colours from the Okabe-Ito palette, which
stays distinguishable with the common colour-vision deficiencies; every meaning is also carried
by a word or a symbol. An explicit white background keeps it legible in the dark themes."""
import os
from xml.sax.saxutils import escape

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "book", "src", "diagrams")
W = 480
INK = "#1a1a1a"
GREY = "#6b6b6b"
BLUE = "#0072B2"      # Okabe-Ito blue: the producer, the bound
ORANGE = "#E69F00"    # Okabe-Ito orange: consumers
VERMILLION = "#D55E00"  # Okabe-Ito vermillion: what goes wrong
GREEN = "#009E73"     # Okabe-Ito bluish green: what goes right
SKY = "#56B4E9"
FILL = {BLUE: "#d9ebf7", ORANGE: "#fcefd2", VERMILLION: "#f9dfd0", GREEN: "#d4f0e6", GREY: "#eeeeee"}
FONT = "font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\""


class Svg:
    def __init__(self, height, title, desc):
        self.h = height
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
            f'role="img" aria-labelledby="t d" style="max-width:100%;height:auto">',
            f"<title id=\"t\">{escape(title)}</title><desc id=\"d\">{escape(desc)}</desc>",
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{INK}"/></marker></defs>',
            f'<rect x="0" y="0" width="{W}" height="{height}" rx="8" fill="#ffffff" stroke="#cccccc"/>',
        ]

    def text(self, x, y, lines, size=16, anchor="middle", color=INK, weight="normal", italic=False):
        if isinstance(lines, str):
            lines = [lines]
        style = ' font-style="italic"' if italic else ""
        out = [f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{color}" '
               f'font-weight="{weight}"{style} {FONT}>']
        for i, line in enumerate(lines):
            dy = 0 if i == 0 else round(size * 1.22, 1)
            out.append(f'<tspan x="{x}" dy="{dy}">{escape(line)}</tspan>')
        out.append("</text>")
        self.parts.append("".join(out))

    def box(self, x, y, w, h, lines, color, size=16, dashed=False, text_color=INK):
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{FILL.get(color, "#ffffff")}" '
                          f'stroke="{color}" stroke-width="2"{dash}/>')
        n = 1 if isinstance(lines, str) else len(lines)
        first = y + h / 2 - (n - 1) * size * 1.22 / 2 + size * 0.35
        self.text(x + w / 2, round(first, 1), lines, size, color=text_color)

    def line(self, x1, y1, x2, y2, color=INK, width=2, arrow=True, dashed=False):
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        head = ' marker-end="url(#arrow)"' if arrow else ""
        self.parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}" stroke-width="{width}"{dash}{head}/>')

    def rect(self, x, y, w, h, fill, stroke="none", opacity=1.0):
        self.parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" stroke="{stroke}" opacity="{opacity}"/>')

    def save(self, name):
        self.parts.append("</svg>\n")
        with open(os.path.join(OUT, name), "w") as f:
            f.write("\n".join(self.parts))


COLS = [84, 240, 396]   # centres of three lanes
CW = 148                # lane box width


def lanes(s, names, colors, bottom, top=20):
    for x, name, c in zip(COLS, names, colors):
        s.text(x, top + 18, name, 17, color=c, weight="bold")
        s.line(x, top + 30, x, bottom, color="#bbbbbb", width=2, arrow=False, dashed=True)


def lane_box(s, col, y, lines, color, h=54, **kw):
    s.box(COLS[col] - CW / 2, y, CW, h, lines, color, **kw)


def gap(s, y, h):
    """The shaded span where the bug can strike, labelled."""
    s.rect(10, y, W - 20, h, VERMILLION, opacity=0.10)
    s.text(18, y + 20, "the gap", 16, anchor="start", color=VERMILLION, weight="bold")


def stolen():
    s = Svg(576, "A stolen wake-up",
            "Consumer A sleeps on an empty queue. The producer pushes one item and signals; A wakes "
            "but must take the mutex again first. Consumer B, which was not asleep, takes the mutex "
            "first and pops the item. When A gets the mutex, the queue is empty again: a while loop "
            "goes back to sleep, an if would pop from an empty queue.")
    lanes(s, ["consumer A", "producer", "consumer B"], [ORANGE, BLUE, ORANGE], bottom=376)
    lane_box(s, 0, 64, ["lock; queue", "empty: wait"], ORANGE)
    s.text(COLS[0], 136, ["unlocks and", "sleeps at once"], 16, color=GREY, italic=True)
    lane_box(s, 1, 170, ["lock; push;", "signal; unlock"], BLUE)
    s.line(COLS[1] - CW / 2, 197, COLS[0] + 8, 236, color=BLUE)
    # The gap: A is awake but does not hold the mutex.
    gap(s, 232, 128)
    lane_box(s, 0, 262, ["woken: waits", "for the mutex"], ORANGE, dashed=True)
    lane_box(s, 2, 262, ["arrives; locks;", "pops the item"], ORANGE)
    s.text(COLS[2], 338, ["B never slept"], 16, color=GREY, italic=True)
    lane_box(s, 0, 376, ["holds the mutex:", "queue empty"], ORANGE)
    s.box(14, 446, 212, 58, ["while: sleep again ✓", "(correct)"], GREEN)
    s.box(254, 446, 212, 58, ["if: pop an empty", "queue ✗ (the bug)"], VERMILLION)
    s.line(COLS[0], 430, 120, 446, color=INK)
    s.line(COLS[0] + 30, 430, 300, 446, color=INK)
    s.text(W / 2, 526, ["Unlock-and-sleep is atomic;", "retaking the mutex is not."], 16, color=INK)
    s.save("stolen-wakeup.svg")


def lost():
    s = Svg(520, "A lost wake-up",
            "Left: a consumer checks the queue without holding the mutex across the check and the "
            "sleep. In between, the producer pushes and signals; nobody is asleep yet, so the signal "
            "is lost, and the consumer then sleeps with an item in the queue. With a condition "
            "variable the check and the start of the sleep are one step under the mutex.")
    lanes(s, ["consumer", "producer", "the queue"], [ORANGE, BLUE, GREY], bottom=330)
    lane_box(s, 0, 64, ["check: empty", "(then unlock)"], ORANGE)
    lane_box(s, 2, 64, ["0 items"], GREY, h=40)
    gap(s, 132, 100)
    lane_box(s, 1, 160, ["push; signal:", "nobody asleep"], BLUE)
    lane_box(s, 2, 166, ["1 item"], GREY, h=40)
    s.text(COLS[1], 246, ["the signal is", "not remembered"], 16, color=VERMILLION, italic=True)
    lane_box(s, 0, 250, ["sleep: never", "woken ✗"], VERMILLION)
    lane_box(s, 2, 256, ["1 item, waiting", "forever"], GREY, h=54)
    s.box(14, 344, W - 28, 118, ["The fix, in every language: check and sleep",
                                 "under one mutex; the wait unlocks it only as",
                                 "the thread goes to sleep (pthread_cond_wait,",
                                 "Condition.wait, Condvar::wait)."], GREEN)
    s.text(W / 2, 492, "A signal reaches only threads already asleep.", 16, color=INK)
    s.save("lost-wakeup.svg")


def broadcast():
    s = Svg(540, "A broadcast on close",
            "Three consumers sleep in pop on an empty queue. Close sets the closed flag and wakes "
            "them. With notify_one (pthread_cond_signal) one wakes, sees the flag and returns; two "
            "sleep forever. With notify_all (pthread_cond_broadcast) all three wake, see the flag "
            "and return.")
    s.text(W / 2, 36, "three consumers asleep in pop; then close()", 17, weight="bold")
    s.box(140, 52, 200, 50, ["closed = true"], BLUE)
    for half, (title, woken, color) in enumerate([("notify_one", 1, VERMILLION), ("notify_all", 3, GREEN)]):
        x0 = 14 + half * 232
        s.text(x0 + 110, 140, title, 17, color=color, weight="bold")
        s.text(x0 + 110, 160, "signal" if half == 0 else "broadcast", 16, color=GREY, italic=True)
        s.line(240, 102, x0 + 110, 124, color=INK)
        for i in range(3):
            y = 178 + i * 86
            if i < woken:
                s.box(x0, y, 220, 66, [f"consumer {i + 1}: wakes,", "sees the flag ✓"], GREEN)
            else:
                s.box(x0, y, 220, 66, [f"consumer {i + 1}: asleep", "forever ✗ zZ"], VERMILLION, dashed=True)
    s.text(W / 2, 460, ["Close changes what every sleeper waits for,", "so it must wake them all."], 16)
    s.text(W / 2, 516, "An item wakes one (notify_one); close wakes all.", 16, color=GREY, italic=True)
    s.save("broadcast-on-close.svg")


def budget():
    s = Svg(470, "The bound as a memory budget",
            "Memory held by the queue over time, with a fast producer and a slow consumer. "
            "Unbounded: it grows without end until the machine's memory runs out and the process "
            "is killed. Bounded: it rises to capacity times item size and stays there, because the "
            "producer waits.")
    x0, y0, x1, y1 = 64, 380, 456, 70  # axes: origin (x0, y0), top-right (x1, y1)
    s.line(x0, y0, x1, y0, color=INK)
    s.line(x0, y0, x0, y1 - 10, color=INK)
    s.text((x0 + x1) / 2, y0 + 30, "time →", 16)
    s.text(24, (y0 + y1) / 2, "memory", 16, anchor="middle")
    s.parts[-1] = s.parts[-1].replace("<text ", f'<text transform="rotate(-90 24 {(y0 + y1) / 2})" ', 1)
    # The machine's memory: a dashed line near the top.
    s.line(x0, 110, x1, 110, color=GREY, arrow=False, dashed=True)
    s.text(x1 - 4, 102, "all the memory there is", 16, anchor="end", color=GREY)
    # Unbounded: a straight rise through the limit, ending in a cross.
    s.line(x0, y0, 300, 110, color=VERMILLION, width=4, arrow=False)
    s.text(284, 140, ["unbounded: killed", "(out of memory) ✗"], 16, anchor="start", color=VERMILLION, weight="bold")
    s.text(300, 118, "✕", 22, color=VERMILLION, weight="bold")
    # Bounded: rises, then flat at the budget.
    yb = 300
    s.parts.append(f'<polyline points="{x0},{y0} {x0 + 30},{yb} {x1},{yb}" fill="none" stroke="{BLUE}" stroke-width="4"/>')
    s.text(x1 - 4, yb - 12, "bounded: the producer waits ✓", 16, anchor="end", color=BLUE, weight="bold")
    s.text(x1 - 4, yb + 24, "budget = capacity × item size", 16, anchor="end", color=BLUE)
    s.text(W / 2, 446, "Capacity 16 × 1 KiB = at most 16 KiB buffered.", 16)
    s.save("memory-budget.svg")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    stolen()
    lost()
    broadcast()
    budget()
    print("wrote", ", ".join(sorted(f for f in os.listdir(OUT) if f.endswith(".svg"))), "in", os.path.normpath(OUT))

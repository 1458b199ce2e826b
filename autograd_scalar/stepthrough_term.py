"""The step-through in a terminal: one screen per step, keys to move, or a plain transcript.

On a terminal, :func:`run` shows the graph's nodes (value, and gradient so far) and one step at a
time: ``n``, space, enter or → for the next step, ``b``, ``p`` or ← for the previous one, ``q`` to
quit. Keys are read raw with :mod:`termios` (no curses), and the terminal's settings are restored
however the view ends. When input or output is not a terminal (a pipe, CI), it prints the whole
transcript instead, ready to paste.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
from typing import TextIO

from .engine import Value
from .stepthrough import (
    BackwardStep,
    fmt_num,
    format_naive,
    format_transcript,
    naive_backward,
    trace_backward,
    trace_forward,
)

NEXT_KEYS = ("n", " ", "\r", "\n", "\x1b[C", "j", "l")
BACK_KEYS = ("b", "p", "\x1b[D", "k", "h")
QUIT_KEYS = ("q", "Q", "\x03", "\x04", "")


class Screens:
    """The screens of the interactive view: the forward pass, each backward step, then (optionally)
    the naive pass. Kept apart from the terminal so it can be tested as text."""

    def __init__(self, root: Value, *, title: str, naive: bool = False, digits: int = 4, rows: int = 40) -> None:
        self.title = title
        self.digits = digits
        self.forward = trace_forward(root, digits=digits)
        self.backward = trace_backward(root, digits=digits)
        self.naive = format_naive(naive_backward(root), digits) if naive else None
        per_page = max(5, rows - 7)  # the forward pass takes as many screens as it needs at this height
        self.pages = [self.forward[i : i + per_page] for i in range(0, len(self.forward), per_page)]
        self.count = len(self.pages) + len(self.backward) + (1 if naive else 0)

    def render(self, k: int, width: int = 100, height: int = 40) -> list[str]:
        """The lines of screen ``k``: the forward pass, then one backward step each, then the naive pass."""
        head = [f"[{k + 1}/{self.count}]  {self.title}", "keys: n/space/enter next · b/p back · q quit", ""]
        if k < len(self.pages):
            part = f" ({k + 1} of {len(self.pages)})" if len(self.pages) > 1 else ""
            body = [f"Forward pass{part} (topological order: each node after its inputs)"]
            body += ["  " + step.text for step in self.pages[k]]
            last = k == len(self.pages) - 1
            body += ["", "Next: the backward pass, from the output back to the inputs." if last else "Next: more."]
            return _clip(head + body, width, height)
        k -= len(self.pages) - 1
        if k > len(self.backward):
            return _clip(head + self.naive.splitlines(), width, height)
        step = self.backward[k - 1]
        body = ["", *str(step).splitlines()]
        if k == len(self.backward):
            body += ["", "Done: every gradient is final." + ("" if self.naive is None else " Next: a naive pass.")]
        room = max(3, height - len(head) - len(body) - 2)
        return _clip(head + self._table(step, room) + body, width, height)

    def _table(self, step: BackwardStep, room: int) -> list[str]:
        """Every node with its value and its gradient so far (``·`` before it receives any)."""
        grads: dict[Value, str] = {}
        for done in self.backward[: step.index + 1]:
            grads[done.node] = fmt_num(done.upstream, self.digits)
            for c in done.contributions:
                if c.parent not in grads or grads[c.parent].endswith("…"):
                    grads[c.parent] = fmt_num(c.after, self.digits) + " …"
        rows = list(self.forward)
        if len(rows) > room - 1:
            involved = {step.topo_index} | {self._index(c.parent) for c in step.contributions}
            by_distance = sorted(range(len(rows)), key=lambda i: (i not in involved, abs(i - step.topo_index)))
            rows = [rows[i] for i in sorted(by_distance[: room - 2])]
        width = max(len(r.name) for r in rows)
        lines = [f"    {'node':<{width}}  {'data':>9}  {'grad':>11}"]
        for r in rows:
            mark = "->" if r.index == step.topo_index else "  "
            lines.append(f"  {mark}{r.name:<{width}}  {fmt_num(r.node.data, self.digits):>9}  "
                         f"{grads.get(r.node, '·'):>11}")
        if len(rows) < len(self.forward):
            lines.append(f"    ({len(self.forward) - len(rows)} more nodes not shown; … = its step has not come yet)")
        else:
            lines.append("    (… = its step has not come yet: more contributions may be added)")
        return lines

    def _index(self, node: Value) -> int:
        return next(s.index for s in self.forward if s.node is node)


def _clip(lines: list[str], width: int, height: int) -> list[str]:
    lines = [line if len(line) <= width else line[: width - 1] + "…" for line in lines]
    return lines[:height]


def run(root: Value, *, title: str | None = None, naive: bool = False, digits: int = 4,
        stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Step through ``root``'s backward pass: interactively on a terminal, else print the transcript."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    title = title or f"Backpropagation through {trace_forward(root)[-1].name}"
    if not (_isatty(stdin) and _isatty(stdout) and _has_termios()):
        stdout.write(format_transcript(root, naive=naive, digits=digits, title=title) + "\n")
        return 0
    rows = shutil.get_terminal_size((100, 40)).lines
    return _interactive(Screens(root, title=title, naive=naive, digits=digits, rows=rows), stdin, stdout)


def _has_termios() -> bool:
    """Raw keys need termios (POSIX); elsewhere (Windows) the view prints the transcript."""
    try:
        import termios  # noqa: F401
        import tty  # noqa: F401
    except ImportError:
        return False
    return True


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _interactive(screens: Screens, stdin: TextIO, stdout: TextIO) -> int:
    import termios
    import tty

    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    k = 0
    try:
        tty.setcbreak(fd)  # keys arrive one by one, unechoed; Ctrl-C still interrupts
        stdout.write("\x1b[?25l")  # hide the cursor
        while True:
            size = shutil.get_terminal_size((100, 40))
            lines = screens.render(k, size.columns, size.lines - 1)
            stdout.write("\x1b[H\x1b[2J" + "\r\n".join(lines) + "\r\n")
            stdout.flush()
            key = _read_key(fd)
            if key in QUIT_KEYS:
                break
            if key in NEXT_KEYS:
                k = min(k + 1, screens.count - 1)
            elif key in BACK_KEYS:
                k = max(k - 1, 0)
    except KeyboardInterrupt:
        pass
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        stdout.write("\x1b[?25h\n")
        stdout.flush()
    return 0


def _read_key(fd: int) -> str:
    """One key press: a character, an arrow's escape sequence (``\\x1b[C``), or ``""`` at end of input."""
    first = os.read(fd, 1)
    if first != b"\x1b":
        return first.decode("utf-8", "replace")
    sequence = first
    while len(sequence) < 3 and select.select([fd], [], [], 0.05)[0]:
        sequence += os.read(fd, 1)
    return sequence.decode("utf-8", "replace")

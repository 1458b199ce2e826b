"""The step-through in a terminal: one screen per step, keys to move, or a plain transcript.

On a terminal, :func:`run` shows the boxes of the current view (value, and gradient so far) and
one step at a time: ``n``, space, enter or → for the next step, ``b``, ``p`` or ← for the previous
one, ``o`` to open the group of the current step and step through its nodes, ``u`` to go back up,
``q`` to quit. The screen fits the terminal (80×24 included): long lines wrap, and each ``+=``
keeps its ``before → after`` on the line below when the two do not fit side by side. On a colour
terminal the head, final and partial gradients are coloured (plain ANSI codes; none when
``NO_COLOR`` is set or ``TERM=dumb``). Keys are read raw with :mod:`termios` (no curses), and the
terminal's settings are restored however the view ends. When input or output is not a terminal
(a pipe, CI), it prints the whole transcript instead, without colour, ready to paste.
"""

from __future__ import annotations

import os
import select
import shutil
import sys
import textwrap
from typing import TextIO

from .engine import Value
from .steptrace import Frame, View, build_views, fmt_num, format_naive, format_transcript, naive_backward, trace

NEXT_KEYS = ("n", " ", "\r", "\n", "\x1b[C", "j", "l")
BACK_KEYS = ("b", "p", "\x1b[D", "k", "h")
OPEN_KEYS = ("o", "+")
UP_KEYS = ("u", "-", "\x1b")
QUIT_KEYS = ("q", "Q", "\x03", "\x04", "")

COLOURS = {"head": "\x1b[1m", "final": "\x1b[32m", "partial": "\x1b[33m", "current": "\x1b[35;1m",
           "change": "\x1b[32m", "dim": "\x1b[2m"}
RESET = "\x1b[0m"


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and not under ``NO_COLOR`` (https://no-color.org) or ``TERM=dumb``.

    >>> import io
    >>> use_colour(io.StringIO())          # a pipe or a file: never
    False
    """
    return _isatty(stream) and "NO_COLOR" not in os.environ and os.environ.get("TERM", "") != "dumb"


class Screens:
    """The screens of the interactive view, kept apart from the terminal so it can be tested as text.

    ``position`` is a stack of ``[view, frame]``: the whole graph first, then each group opened.

    >>> from autograd_scalar.examples import example
    >>> screens = Screens(example("branch"), title="branch")
    >>> for _ in range(5):
    ...     screens.next()
    >>> lines = screens.render(80, 24)
    >>> for line in lines[:3] + lines[-3:]:
    ...     print(line)
    [6/7] branch
    n/space next · b back · o open group · u up · q quit
       box          data        grad
      rule: d(a*a)/da = a, for each of its two factors
      a.grad += a × (a*a).grad = 3.0 × 1.0 = 3.0  a.grad: 1.0 → 4.0
      a.grad += a × (a*a).grad = 3.0 × 1.0 = 3.0  a.grad: 4.0 → 7.0
    """

    def __init__(self, root: Value, *, title: str, naive: bool = False, digits: int = 4,
                 colour: bool = False) -> None:
        self.title = title
        self.trace = trace(root, digits=digits)
        self.views = build_views(self.trace)
        self.view_of = {view.group: i for i, view in enumerate(self.views)}
        self.naive = format_naive(naive_backward(root), digits) if naive else None
        self.colour = colour
        self.position = [[0, 0]]

    @property
    def view(self) -> View:
        return self.views[self.position[-1][0]]

    @property
    def count(self) -> int:
        """The number of screens of the current view (the naive pass, when asked for, is one more)."""
        return len(self.view.frames) + (1 if self.naive is not None and len(self.position) == 1 else 0)

    def next(self) -> None:
        top = self.position[-1]
        top[1] = min(top[1] + 1, self.count - 1)

    def back(self) -> None:
        top = self.position[-1]
        top[1] = max(top[1] - 1, 0)

    def open(self) -> None:
        """Step inside the group of the current frame, at its backward pass if the frame is backward."""
        frame = self._frame()
        if frame is None or frame.group is None:
            return
        inner = self.view_of[frame.group]
        frames = self.views[inner].frames
        k = next((i for i, f in enumerate(frames) if f.phase == "backward"), 0) if frame.phase == "backward" else 0
        self.position.append([inner, k])

    def up(self) -> None:
        if len(self.position) > 1:
            self.position.pop()

    def _frame(self) -> Frame | None:
        k = self.position[-1][1]
        return self.view.frames[k] if k < len(self.view.frames) else None

    def _paint(self, text: str, style: str) -> str:
        return f"{COLOURS[style]}{text}{RESET}" if self.colour and text else text

    def render(self, width: int = 80, height: int = 24) -> list[str]:
        """The lines of the current screen, at most ``width`` columns (before colour codes) and ``height`` lines."""
        k = self.position[-1][1]
        where = "" if len(self.position) == 1 else f"{self.view.title} · "
        head = [_cut(f"[{k + 1}/{self.count}] {where}{self.title}", width),
                _cut("n/space next · b back · o open group · u up · q quit", width)]
        frame = self._frame()
        if frame is None:  # the naive pass
            return [self._paint(head[0], "head"), head[1], *[_cut(line, width) for line in self.naive.splitlines()]
                    ][:height]
        body = self._body(frame, width)
        if k == len(self.view.frames) - 1:
            body.append("Done: every gradient here is final." + ("" if len(self.position) == 1 else " u: back up."))
        most = max(height - len(head) - 5, 2)  # leave the table its header, the current box and two more
        if len(body) > most:
            hidden = len(body) - most + 1
            body = body[: most - 1] + [self._paint(_cut(f"  … {hidden} more lines here: the transcript (piped) "
                                                        "and the page (--html) show every one", width), "dim")]
        room = height - len(head) - len(body)
        table = self._table(frame, k, max(room, 3), width)
        lines = [self._paint(head[0], "head"), head[1], *table, *body]
        return lines[:height]

    def _body(self, frame: Frame, width: int) -> list[str]:
        """The step's text, wrapped to ``width``; a ``+=`` keeps ``before → after`` beside it, or below it."""
        out = [self._paint(line, "head") for line in _wrap(frame.head, width, "")]
        if frame.phase == "forward" and frame.group is not None:
            out += _wrap("o: open the group to step through its nodes", width, "  ")
        for line in frame.lines:
            out += _wrap(line, width, "  ")
        full = all(len(e) + len(ch) + 4 <= width for e, ch in frame.sends)
        for equation, change in frame.sends:
            target, _, numbers = change.partition(": ")
            if full:
                out.append(f"  {equation}  {self._paint(change, 'change')}")
            elif equation.startswith(target) and len(equation) + len(numbers) + 6 <= width:
                out.append(f"  {equation}  {self._paint('(' + numbers + ')', 'change')}")  # the name once
            else:
                out += _wrap(equation, width, "  ")
                out += [self._paint(line, "change") for line in _wrap(change, width, "      ")]
        if frame.group is not None and frame.phase == "backward":
            out += _wrap("o: open the group to see each of its steps", width, "  ")
        return out

    def _table(self, frame: Frame, k: int, room: int, width: int) -> list[str]:
        """The view's boxes with value and gradient so far; ``partial`` until a box's gradient is complete."""
        seen: set[int] = set()
        grads: dict[int, tuple[str, bool]] = {}
        for f in self.view.frames[: k + 1]:
            if f.phase == "backward":
                seen = set(range(len(self.view.boxes)))
            seen.update(f.datas)
            for box, text, final in f.grads:
                grads[box] = (text, final)
        boxes = self.view.boxes
        rows = list(range(len(boxes)))
        if len(rows) > room - 1:
            involved = {frame.box, *frame.targets} - {None}
            centre = frame.box if frame.box is not None else 0
            by_distance = sorted(rows, key=lambda i: (i not in involved, abs(i - centre)))
            rows = sorted(by_distance[: max(room - 2, 1)])
        name_width = min(max([len(boxes[i].name) for i in rows] + [4]), max(10, width - 36))
        lines = [f"   {'box':<{name_width}} {'data':>10} {'grad':>11}"]
        for i in rows:
            box = boxes[i]
            name = box.name if len(box.name) <= name_width else box.name[: name_width - 1] + "…"
            data = fmt_num(box.node.data, self.trace.digits) if i in seen else ""
            text, final = grads.get(i, ("", False))
            state = "" if not text else "final" if final else "partial"
            marker = "->" if i == frame.box else "  "
            row = f"{marker} {name:<{name_width}} {data:>10} {text:>11} "
            row = self._paint(row[:2], "current") + row[2:] if i == frame.box else row
            lines.append(row + self._paint(state, "final" if final else "partial"))
        if len(rows) < len(boxes):
            lines.append(self._paint(f"   ({len(boxes) - len(rows)} more not shown)", "dim"))
        return lines


def _cut(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _wrap(line: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent + "    ",
                         break_long_words=True, break_on_hyphens=False) or [indent]


def run(root: Value, *, title: str | None = None, naive: bool = False, digits: int = 4,
        stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Step through ``root``'s backward pass: interactively on a terminal, else print the transcript."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    if not (_isatty(stdin) and _isatty(stdout) and _has_termios()):
        stdout.write(format_transcript(root, naive=naive, digits=digits, title=title) + "\n")
        return 0
    screens = Screens(root, title=title or "Backpropagation", naive=naive, digits=digits, colour=use_colour(stdout))
    return _interactive(screens, stdin, stdout)


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
    try:
        tty.setcbreak(fd)  # keys arrive one by one, unechoed; Ctrl-C still interrupts
        stdout.write("\x1b[?25l")  # hide the cursor
        while True:
            size = shutil.get_terminal_size((80, 24))
            lines = screens.render(size.columns, size.lines - 1)
            stdout.write("\x1b[H\x1b[2J" + "\r\n".join(lines) + "\r\n")
            stdout.flush()
            key = _read_key(fd)
            if key in QUIT_KEYS:
                break
            if key in NEXT_KEYS:
                screens.next()
            elif key in BACK_KEYS:
                screens.back()
            elif key in OPEN_KEYS:
                screens.open()
            elif key in UP_KEYS:
                screens.up()
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

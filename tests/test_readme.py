"""The README's quick start: exactly two commands, and CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    heading = re.search(r"^#+ .*quick[ -]?start.*$", text, re.I | re.M)
    assert heading, "README has no quick start heading"
    block = re.search(r"^```[\w+-]*[ \t]*\n(.*?)^```", text[heading.end():], re.S | re.M)
    assert block, "README's quick start has no code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_is_two_commands():
    commands = _quick_start()
    assert len(commands) == 2
    assert "demo" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _quick_start()[1] in [line.strip() for line in ci]
    assert "ruff check ." in [line.strip() for line in ci]

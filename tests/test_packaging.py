"""Packaging: CI runs the wheel check (.ci/wheel-check: build, twine check, install the wheel into a
fresh venv and run the documented commands there) before the README's test command, the script is
valid bash and executable, and pyproject offers the extras the package's ImportErrors name."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_COMMAND = 'pip install -e ".[test]" && python -m pytest'


def test_ci_runs_the_wheel_check_before_the_test_command():
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ".ci/wheel-check" in lines and README_COMMAND in lines
    assert lines.index(".ci/wheel-check") < lines.index(README_COMMAND)
    installs = [line for line in lines[: lines.index(".ci/wheel-check")] if "pip install" in line]
    assert any("build" in line and "twine" in line for line in installs)


def test_the_wheel_check_is_an_executable_bash_script_that_checks_what_the_issue_asks():
    script = ROOT / ".ci" / "wheel-check"
    assert os.access(script, os.X_OK)
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    subprocess.run([bash, "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    for step in ("-m build", "twine check", "-m venv", "autograd-scalar\" --version", "autograd-scalar\" demo",
                 "autograd-scalar\" step sigmoid --html x.html", "set -euo pipefail"):
        assert step in text, step


def test_the_extras_named_by_import_errors_exist():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extras = set(re.findall(r"^(\w+) = \[", pyproject.split("[project.optional-dependencies]")[1], re.M))
    named = set()
    for path in (ROOT / "autograd_scalar").rglob("*.py"):
        named |= set(re.findall(r"autograd-scalar\[(\w+)\]", path.read_text(encoding="utf-8")))
    assert {"datasets", "plot"} <= named
    assert named <= extras, f"ImportErrors name extras pyproject lacks: {sorted(named - extras)}"
    assert re.search(r'^datasets = \["scikit-learn', pyproject, re.M)

"""The teaching notebooks: what keeps them honest, beside nbmake, which executes them.

``python -m pytest`` runs every notebook in ``notebooks/`` top to bottom (``--nbmake`` in
pyproject's ``addopts``, ``notebooks`` in ``testpaths``), and a cell that raises fails the run.
These tests pin down the rest: the notebooks exist and are collected by that command, they
are stored without outputs (so a diff shows only what changed), each asserts the numbers it
states, each opens with its title and the questions it answers, their maths is well formed, they
fetch nothing from the network, and the README links each one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_module

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
EXPECTED = [
    "01_sigmoid_neuron.ipynb",
    "02_branching_and_accumulation.ipynb",
    "03_scalars_to_matrices.ipynb",
    "04_training_an_mlp.ipynb",
    "05_digits.ipynb",
    "06_the_backward_pass_written_out.ipynb",
]


def _load(name: str) -> dict:
    return json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))


def _cells(name: str, kind: str) -> list[str]:
    return ["".join(cell["source"]) for cell in _load(name)["cells"] if cell["cell_type"] == kind]


def test_the_four_notebooks_are_there():
    assert sorted(path.name for path in NOTEBOOK_DIR.glob("*.ipynb")) == EXPECTED


def test_the_test_command_executes_every_notebook():
    # The README's `python -m pytest` must collect each notebook as a test item (nbmake), so
    # that a notebook that raises fails CI. Collection only: executing them is the items' job.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "notebooks"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    collected = sorted(line for line in result.stdout.splitlines() if line.startswith("notebooks/"))
    assert collected == [f"notebooks/{name}::{name}" for name in EXPECTED]


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_without_outputs(name):
    notebook = _load(name)
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{name}: cell {i} has stored outputs"
            assert cell["execution_count"] is None, f"{name}: cell {i} has an execution count"
    assert "widgets" not in notebook["metadata"]


@pytest.mark.parametrize("name", EXPECTED)
def test_valid_notebook_for_the_local_python_kernel(name):
    nbformat = require_module("nbformat", 'pip install -e ".[test]" (nbmake brings it)')
    notebook = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", EXPECTED)
def test_asserts_the_numbers_it_states(name):
    code = _cells(name, "code")
    with_asserts = [source for source in code if re.search(r"^\s*assert ", source, re.M)]
    assert len(with_asserts) >= 4, f"{name}: only {len(with_asserts)} cells assert anything"
    assert sum(len(re.findall(r"^\s*assert ", source, re.M)) for source in code) >= 10


@pytest.mark.parametrize("name", EXPECTED)
def test_opens_with_its_title_and_questions(name):
    first = _load(name)["cells"][0]
    text = "".join(first["source"])
    number = name[:2].lstrip("0")
    assert first["cell_type"] == "markdown"
    assert text.startswith(f"# {number}. ")
    assert "Questions answered here:" in text


def _math_delimiters(markdown: str) -> int:
    """The number of ``$`` math delimiters outside code, counting ``$$`` as one."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", "", prose)
    prose = prose.replace(r"\$", "")
    return len(re.findall(r"\$\$|\$", prose))


@pytest.mark.parametrize("name", EXPECTED)
def test_math_is_balanced(name):
    for i, text in enumerate(_cells(name, "markdown")):
        assert _math_delimiters(text) % 2 == 0, f"{name}: markdown cell {i} has an unclosed $: {text[:80]!r}"


def test_math_check_sees_an_unclosed_dollar():
    assert _math_delimiters("$a$ and $$b$$ and `$x`") == 4
    assert _math_delimiters("$a$ and $b") % 2 == 1


@pytest.mark.parametrize("name", EXPECTED)
def test_fetches_nothing_from_the_network(name):
    code = "\n".join(_cells(name, "code"))
    for marker in ("http://", "https://", "urllib", "requests", "urlopen", "pip install"):
        assert marker not in code, f"{name} mentions {marker!r} in code"


def test_readme_links_each_notebook_with_its_question():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Notebooks\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, "README has no '## Notebooks' section before another section"
    for name in EXPECTED:
        lines = [line for line in section.group(1).splitlines() if f"](notebooks/{name})" in line]
        assert len(lines) == 1, f"README's Notebooks section should link {name} on one line"
        assert "?" in lines[0] or ":" in lines[0], f"the line for {name} should say what it answers"

"""The benchmarks run (quick mode) and stay honest: every engine's output and gradients are checked
against the hand-written floor before its time counts, and the JSON, Markdown and table hold every
workload, engine and target. No timing is asserted: speed is measured only in benchmarks/."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_module

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import engines  # noqa: E402
from benchmarks.micrograd_design import Value as BaselineValue  # noqa: E402
from benchmarks.report import targets  # noqa: E402
from benchmarks.runner import compare  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One ``python -m benchmarks --quick`` in a subprocess: (its JSON, its Markdown, its stdout)."""
    require_module("torch", "pip install torch==2.13.0")  # torch is one of the engines compared
    out = tmp_path_factory.mktemp("results")
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads((out / "quick.json").read_text()), (out / "quick.md").read_text(), done.stdout


def test_every_engine_runs_every_workload_it_can(quick_run):
    results, _, _ = quick_run
    assert results["engines"] == list(engines.ENGINES)
    rows = {(r["row"], r["engine"]): r for r in results["rows"]}
    keys = {r["row"] for r in results["rows"]}
    assert {k.split("-")[0] for k in keys} == set(engines.WORKLOADS)
    assert any(k.endswith("-gc-off") for k in keys)
    runs = {  # which engine runs which workload
        "autograd_scalar": set(engines.WORKLOADS), "floor": set(engines.WORKLOADS),
        engines.BASELINE: {"chain", "fan_out", "mlp"},  # no higher-order gradients; no softmax digits model
        "torch": {"chain", "fan_out", "mlp", "second_derivative"},  # digits would take minutes in 0-d tensors
        "compiled": {"mlp", "digits"},  # the training workloads, where compiling pays
    }  # fmt: skip
    for key in keys:
        for engine in engines.ENGINES:
            r = rows[key, engine]
            assert r["supported"] == (key.split("-")[0] in runs[engine]), (key, engine)


def test_every_time_counted_comes_from_an_engine_checked_against_the_floor(quick_run):
    results, _, _ = quick_run
    timed = [r for r in results["rows"] if r["supported"]]
    assert timed
    for r in timed:
        assert r["checked"] is True, r
        assert 0 <= r["max_relative_error"] <= 1e-9
        assert r["gradients_compared"] >= 1
        assert len(r["times"]) == 3 and all(t > 0 for t in r["times"])
        assert r["us_per_node"] == pytest.approx(1e6 * r["median_seconds"] / r["nodes"])
        if r["engine"] == engines.FLOOR:
            assert r["times_floor"] == 1.0
        if "speedup_vs_baseline" in r and r["speedup_vs_baseline"] is not None and r["engine"] == engines.BASELINE:
            assert r["speedup_vs_baseline"] == 1.0


def test_memory_is_measured_for_python_engines_only(quick_run):
    results, _, _ = quick_run
    for r in results["rows"]:
        if r["supported"] and r["row"] in ("chain-2000", "fan_out-200", "mlp-8"):
            assert ("peak_bytes_per_node" in r) == (r["engine"] != "torch")
            if r["engine"] == "autograd_scalar":
                assert 50 < r["peak_bytes_per_node"] < 1000


def test_outputs_name_every_target_and_the_machine(quick_run):
    results, markdown, stdout = quick_run
    names = [t["target"] for t in results["targets"]]
    assert len(names) == 14 and all(t["measured"] is not None for t in results["targets"])
    assert results["import_ms"] > 0
    assert results["machine"]["python"] and results["machine"]["cores"]
    for text in (markdown, stdout):
        assert "autograd_scalar" in text and engines.BASELINE in text
        assert "import autograd_scalar" in text
        for name in names:
            assert name in text
    assert markdown.count("\n| ") >= len(results["rows"])
    assert results["machine"]["cpu"] in markdown


def test_a_wrong_gradient_is_caught_and_not_timed():
    want = {"output": 1.0, "grads": [2.0, -3.0]}
    assert compare({"output": 1.0, "grads": [2.0, -3.0]}, want) == 0.0
    assert compare({"output": 1.0, "grads": [2.0, -3.0 + 1e-6]}, want) > 1e-9
    assert compare({"output": 1.0, "grads": [2.0]}, want) == math.inf
    results = {
        "import_ms": 10.0,
        "rows": [{"row": "chain-2", "title": "t", "workload": "chain", "size": 2, "gc": True, "engine": e,
                  "supported": True, "checked": False, "max_relative_error": 1.0, "times": []}
                 for e in engines.ENGINES],
    }  # fmt: skip
    assert all(t["met"] is None for t in targets(results) if t["unit"] == "×")


@pytest.mark.parametrize("engine", ["autograd_scalar", engines.BASELINE])
@pytest.mark.parametrize("workload", ["chain", "fan_out", "mlp"])
def test_the_baseline_and_ours_agree_with_the_floor(engine, workload):
    size = {"chain": 40, "fan_out": 7, "mlp": 3}[workload]
    want = engines.load(engines.FLOOR)[workload](size).check()
    got = engines.load(engine)[workload](size).check()
    assert len(got[1]) == len(want[1]) == {"chain": 1, "fan_out": 7, "mlp": 337}[workload]
    assert compare({"output": got[0], "grads": got[1]}, {"output": want[0], "grads": want[1]}) <= 1e-12


def test_the_baseline_has_the_micrograd_design():
    a, b = BaselineValue(2.0), BaselineValue(-3.0)
    y = a * b + a
    assert callable(y._backward) and isinstance(y._prev, set)  # a closure per node, parents in a set
    assert all(isinstance(c, BaselineValue) for c in (a * 3)._prev)  # numbers are wrapped as nodes
    y.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)


def test_the_readme_quotes_the_committed_full_run():
    committed = json.loads((ROOT / "benchmarks" / "results" / "results.json").read_text())
    assert committed["quick"] is False and committed["command"] == "python -m benchmarks"
    assert all(r["checked"] for r in committed["rows"] if r["supported"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    speed = readme[readme.index("## Speed") : readme.index("## Testing")]
    table = (ROOT / "benchmarks" / "results" / "results.md").read_text(encoding="utf-8")
    for line in table.splitlines():
        if line.startswith("|"):
            assert line in speed
    assert "python -m benchmarks" in speed and committed["machine"]["cpu"] in speed


def test_the_compiled_engine_agrees_with_the_floor_and_reports_its_build():
    for workload, size, n in (("mlp", 3, 337), ("digits", 40, 2410)):
        want = engines.load(engines.FLOOR)[workload](size).check()
        case = engines.load("compiled")[workload](size)
        got = case.check()
        assert len(got[1]) == len(want[1]) == n
        assert compare({"output": got[0], "grads": got[1]}, {"output": want[0], "grads": want[1]}) <= 1e-12
        build = case.build()
        assert build["nodes"] > 100 and all(build[k] > 0 for k in ("trace", "codegen", "compile"))


def test_the_digits_workload_runs_the_interpreter_against_the_floor():
    want = engines.load(engines.FLOOR)["digits"](8).check()
    got = engines.load("autograd_scalar")["digits"](8).check()
    assert compare({"output": got[0], "grads": got[1]}, {"output": want[0], "grads": want[1]}) <= 1e-12


def test_the_run_reports_the_compiled_build_apart_from_the_step(quick_run):
    results, markdown, stdout = quick_run
    built = [r for r in results["rows"] if r.get("build")]
    assert {(r["workload"], r["engine"]) for r in built} == {("mlp", "compiled"), ("digits", "compiled")}
    for text in (markdown, stdout):
        assert text.count("compiled, building one") == 2 and "µs/node" in text

"""Run every workload on every engine, interleaved, and report µs per node and the ratios.

Each workload gets a fresh worker process per engine (:mod:`benchmarks.worker`). Before any
engine's time counts, its output and gradients are compared with the floor's (relative tolerance
1e-9, scaled by the largest value). Then, round after round, the workload is timed once on each
engine in turn (the order rotating), with Python's garbage collector on, as users run it; the
medians of the rounds are reported with their spread (half the interquartile range, in % of the
median). Peak memory is measured in separate runs under tracemalloc. The MLP step is also timed
with the collector off, and ``import autograd_scalar`` in a fresh interpreter.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engines import BASELINE, ENGINES, FLOOR

RESULTS = Path(__file__).resolve().parent / "results"
OURS = "autograd_scalar"
TOLERANCE = 1e-9
BUILT = ("mlp", "digits")  # the workloads whose compiled engine reports its build (trace, codegen, compile)


@dataclass(frozen=True)
class Row:
    """One line of the table: a workload at a size, timed ``repeats`` times per engine."""

    workload: str
    size: int
    title: str
    repeats: int
    collect: bool = False  # include freeing the graph (gc.collect()) in the time
    gc: bool = True
    memory: bool = True

    @property
    def key(self) -> str:
        return f"{self.workload}-{self.size}" + ("" if self.gc else "-gc-off")


def plan(quick: bool, repeats: int | None) -> list[Row]:
    r = repeats or (3 if quick else 15)
    big = 20_000 if quick else 1_000_000
    chain, fan, batch, second = (2_000, 200, 8, 300) if quick else (100_000, 10_000, 64, 10_000)
    digits = 64 if quick else 320  # 320 of the 1,797 images: an epoch is 5.6 times this
    return [
        Row("chain", chain, f"chain y = y*c + d, {chain:,} nodes", r),
        Row("chain", big, f"chain, {big:,} nodes: build, backward, free", max(r // 3, 2) if not quick else r,
            collect=True, memory=False),
        Row("fan_out", fan, f"fan-out tanh(Σ wᵢ·xᵢ), {fan:,} terms, xᵢ numbers", r),
        Row("mlp", batch, f"MLP(2, [16, 16, 1]) relu, {batch} points, MSE, SGD step", r),
        Row("mlp", batch, "same MLP step, garbage collector off", r, gc=False, memory=False),
        Row("second_derivative", second, f"second derivative, {second:,}-node graph", r),
        Row("digits", digits, f"digits: MLP(64, [32, 10]) tanh, softmax cross-entropy, {digits // 32} batches "
            "of 32, SGD", 3, memory=False),
    ]


class Worker:
    """A running ``python -m benchmarks.worker ENGINE``."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", engine],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=root,
        )  # fmt: skip

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"benchmarks: the {self.engine} worker died during {request}")
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.ask_quit()
        self.process.wait(timeout=60)

    def ask_quit(self) -> None:
        assert self.process.stdin
        self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
        self.process.stdin.flush()


def available_engines() -> list[str]:
    return [e for e in ENGINES if e != "torch" or importlib.util.find_spec("torch") is not None]


def compare(got: dict[str, Any], want: dict[str, Any]) -> float:
    """The largest difference between two results, relative to the largest value compared."""
    values = [want["output"], *want["grads"]]
    mine = [got["output"], *got["grads"]]
    if len(values) != len(mine):
        return float("inf")
    scale = max(abs(v) for v in values) or 1.0
    return max(abs(a - b) for a, b in zip(mine, values)) / scale


def run(quick: bool = False, repeats: int | None = None, engines: list[str] | None = None,
        log: Any = None) -> dict[str, Any]:  # fmt: skip
    """Measure everything; return the results as a JSON-ready dict (see ``write``)."""
    engines = engines or available_engines()
    rows = plan(quick, repeats)
    say = log or (lambda text: None)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        say(f"{row.title}: checking, then {row.repeats} rounds")
        results[row.key] = measure(row, engines)
    summary = summarise(rows, results)
    return {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": "python -m benchmarks" + (" --quick" if quick else ""),
        "quick": quick,
        "engines": engines,
        "rows": summary,
        "import_ms": import_time(runs=3 if quick else 11),
    }


def measure(row: Row, engines: list[str]) -> dict[str, dict[str, Any]]:
    """One row on every engine, each in a fresh worker process (so no workload runs on a heap
    that another one has filled and fragmented): check against the floor, time, then memory."""
    workers = {e: Worker(e) for e in engines}
    entries: dict[str, dict[str, Any]] = {}
    try:
        want = workers[FLOOR].ask(cmd="check", workload=row.workload, size=row.size)
        for e in engines:
            got = workers[e].ask(cmd="check", workload=row.workload, size=row.size)
            entry = entries[e] = {"supported": "unsupported" not in got, "times": []}
            if entry["supported"]:
                error = compare(got, want)
                entry.update(nodes=want["nodes"], checked=error <= TOLERANCE, max_relative_error=error,
                             gradients_compared=len(want["grads"]))  # fmt: skip
        timed = [e for e in engines if entries[e].get("checked")]
        for r in range(row.repeats):
            for e in timed[r % len(timed):] + timed[: r % len(timed)]:  # each round starts one engine later
                answer = workers[e].ask(cmd="time", workload=row.workload, size=row.size, gc=row.gc,
                                        collect=row.collect)  # fmt: skip
                entries[e]["times"].append(answer["seconds"])
        for e in timed:
            if row.workload in BUILT and row.gc:  # the compiled engine: building one sample's code, apart from the step
                builds = [workers[e].ask(cmd="build", workload=row.workload, size=row.size) for _ in range(3)]
                if "unsupported" not in builds[0]:
                    entries[e]["build"] = {key: statistics.median(b[key] for b in builds) for key in builds[0]}
            if row.memory and e != "torch":  # torch allocates in C++, where tracemalloc cannot see
                answer = workers[e].ask(cmd="memory", workload=row.workload, size=row.size)
                entries[e]["peak_bytes"] = answer["peak_bytes"]
    finally:
        for worker in workers.values():
            worker.close()
    return entries


def summarise(rows: list[Row], results: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        entries = results[row.key]
        medians = {e: statistics.median(v["times"]) for e, v in entries.items() if v.get("times")}
        for e, entry in entries.items():
            record: dict[str, Any] = {"row": row.key, "title": row.title, "workload": row.workload,
                                      "size": row.size, "gc": row.gc, "engine": e, **entry}  # fmt: skip
            if e in medians:
                times = entry["times"]
                median = medians[e]
                q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (median, 0, median)
                nodes = entry["nodes"]
                record.update(
                    median_seconds=median,
                    spread_percent=100 * (q3 - q1) / 2 / median,
                    us_per_node=1e6 * median / nodes,
                    speedup_vs_baseline=medians[BASELINE] / median if BASELINE in medians else None,
                    times_floor=median / medians[FLOOR] if FLOOR in medians else None,
                )
            if "peak_bytes" in entry:
                record["peak_bytes_per_node"] = entry["peak_bytes"] / entry["nodes"]
            out.append(record)
    return out


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "system": f"{platform.system()} {platform.release()}", "cpu": cpu, "cores": os.cpu_count()}  # fmt: skip


def import_time(runs: int) -> float:
    """Milliseconds to ``import autograd_scalar`` in a fresh interpreter (``-X importtime``), median."""
    root = str(Path(__file__).resolve().parent.parent)
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import autograd_scalar"],
                              capture_output=True, text=True, cwd=root, check=True)  # fmt: skip
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == "autograd_scalar":
                times.append(int(parts[1]) / 1000)
    return statistics.median(times)

"""The results as a table on the terminal, as Markdown, and as JSON files; and the targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .engines import BASELINE, FLOOR

OURS = "autograd_scalar"
COMPILED = "compiled"


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 9's targets, each with its measured figure (medians of the same run)."""

    def find(workload: str, engine: str, *, gc: bool = True, largest: bool = False) -> dict[str, Any]:
        rows = [r for r in results["rows"] if r["workload"] == workload and r["engine"] == engine and r["gc"] == gc]
        rows = [r for r in rows if "median_seconds" in r]
        if not rows:
            return {}
        return max(rows, key=lambda r: r["size"]) if largest else min(rows, key=lambda r: r["size"])

    def target(name: str, measured: float | None, goal: float, at_least: bool, aim: float | None = None,
               unit: str = "×") -> dict[str, Any]:  # fmt: skip
        met = None if measured is None else (measured >= goal if at_least else measured <= goal)
        return {"target": name, "measured": measured, "goal": goal, "aim": aim, "unit": unit,
                "at_least": at_least, "met": met}  # fmt: skip

    chain, fan, mlp = find("chain", OURS), find("fan_out", OURS), find("mlp", OURS)
    mlp_off, big = find("mlp", OURS, gc=False), find("chain", OURS, largest=True)
    return [
        target("chain: speed-up vs micrograd design", chain.get("speedup_vs_baseline"), 6, True, 10),
        target("fan-out: speed-up vs micrograd design", fan.get("speedup_vs_baseline"), 6, True, 10),
        target("MLP step: speed-up vs micrograd design", mlp.get("speedup_vs_baseline"), 20, True, 30),
        target("MLP step, GC off: speed-up vs micrograd design", mlp_off.get("speedup_vs_baseline"), 3, True),
        target("MLP step: times the floor's time", mlp.get("times_floor"), 3, False),
        target("chain: peak bytes per node", chain.get("peak_bytes_per_node"), 150, False, unit=" B"),
        target(f"chain of {big.get('size', 0):,} nodes: build, backward, free", big.get("median_seconds"), 1.5,
               False, unit=" s"),
        target("import autograd_scalar", results.get("import_ms"), 50, False, unit=" ms"),
        *compiled_targets(results, find),
    ]


def _ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if "median_seconds" not in a or "median_seconds" not in b:
        return None
    return a["median_seconds"] / b["median_seconds"]


def compiled_targets(results: dict[str, Any], find: Any) -> list[dict[str, Any]]:
    """Issue 13's targets for ``ag.compile`` (the compiled engine), from the same run."""

    def target(name: str, measured: float | None, goal: float, at_least: bool, aim: float | None = None,
               unit: str = "×") -> dict[str, Any]:  # fmt: skip
        met = None if measured is None else (measured >= goal if at_least else measured <= goal)
        return {"target": name, "measured": measured, "goal": goal, "aim": aim, "unit": unit,
                "at_least": at_least, "met": met}  # fmt: skip

    mlp, ours, base = find("mlp", COMPILED), find("mlp", OURS), find("mlp", BASELINE)
    digits, digits_ours = find("digits", COMPILED), find("digits", OURS)
    build = mlp.get("build") or {}
    step_64 = None  # one interpreted step of 64 points, scaled from the row's size
    if "median_seconds" in ours:
        step_64 = ours["median_seconds"] * 64 / ours["size"]
    total = sum(build.get(k, 0.0) for k in ("trace", "codegen", "compile")) if build else None
    return [
        target("MLP step, compiled: times the floor's time", mlp.get("times_floor"), 0.35, False),
        target("MLP step: compiled speed-up vs the interpreter", _ratio(ours, mlp), 25, True, 40),
        target("MLP step: compiled speed-up vs micrograd design", _ratio(base, mlp), 250, True),
        target("building one MLP sample (trace, codegen, compile) vs one interpreted 64-point step",
               None if total is None or step_64 is None else total / step_64, 1, False),
        target("code generation per node", 1e6 * build["codegen"] / build["nodes"] if build else None, 15, False,
               unit=" µs"),
        target("digits epoch: compiled speed-up vs the interpreter", _ratio(digits_ours, digits), 50, True),
    ]


def build_lines(results: dict[str, Any]) -> list[str]:
    """The compiled engine's cost of building one sample's code, apart from its step time."""
    lines = []
    for r in results["rows"]:
        b = r.get("build")
        if r["engine"] != COMPILED or not b:
            continue
        total = b["trace"] + b["codegen"] + b["compile"]
        lines.append(f"compiled, building one {r['workload']} sample ({b['nodes']:,.0f} nodes): trace "
                     f"{1e3 * b['trace']:.1f} ms, code generation {1e3 * b['codegen']:.1f} ms "
                     f"({1e6 * b['codegen'] / b['nodes']:.1f} µs/node), compile() {1e3 * b['compile']:.1f} ms; "
                     f"total {1e3 * total:.1f} ms")
    return lines


def _number(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _cells(r: dict[str, Any]) -> list[str]:
    """engine, µs/node, spread, speed-up vs baseline, × floor, bytes/node, gradients."""
    if not r["supported"]:
        why = "cannot (no higher-order gradients)" if r["workload"] == "second_derivative" else "not run on this engine"
        return [r["engine"], "n/a", "", "", "", "", why]
    if not r.get("checked"):
        return [r["engine"], "—", "", "", "", "", f"WRONG (relative error {r['max_relative_error']:.1e}): not timed"]
    speedup = r.get("speedup_vs_baseline")
    return [
        r["engine"],
        _number(r["us_per_node"]),
        f"±{r['spread_percent']:.0f}%",
        "—" if speedup is None else f"{_number(speedup)}×",
        f"{_number(r['times_floor'])}×",
        _number(r.get("peak_bytes_per_node")) if r["engine"] != "torch" or r.get("peak_bytes_per_node") else "—",
        f"match ({r['gradients_compared']})" if r["engine"] != FLOOR else "(reference)",
    ]


HEADER = ["engine", "µs/node", "spread", f"speed-up vs {BASELINE}", "× floor time", "peak B/node",
          "gradients vs floor"]  # fmt: skip


def text_table(results: dict[str, Any]) -> str:
    """The results for a terminal: one block per workload, one line per engine, aligned."""
    blocks: dict[str, list[dict[str, Any]]] = {}
    for r in results["rows"]:
        blocks.setdefault(r["title"], []).append(r)
    lines = []
    widths = [len(h) for h in HEADER]
    rendered = {title: [_cells(r) for r in rows] for title, rows in blocks.items()}
    for cells in rendered.values():
        for row in cells:
            widths = [max(w, len(c)) if i < 6 else w for i, (w, c) in enumerate(zip(widths, row))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        middle = [c.rjust(w) for c, w in zip(cells[1:6], widths[1:6])]
        return "  " + "  ".join([first, *middle, cells[6]])

    lines.append(line(HEADER))
    for title, cells in rendered.items():
        lines.append(title)
        lines.extend(line(c) for c in cells)
    lines.append(f"import autograd_scalar: {results['import_ms']:.1f} ms")
    lines.extend(build_lines(results))
    lines.append("")
    lines.append("targets (medians of this run):")
    for t in targets(results):
        lines.append("  " + _target_text(t))
    return "\n".join(lines)


def _target_text(t: dict[str, Any]) -> str:
    sign = "≥" if t["at_least"] else "≤"
    verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
    aim = f", aim {t['aim']}{t['unit']}" if t["aim"] else ""
    return f"{t['target']}: {_number(t['measured'])}{t['unit']} (target {sign} {t['goal']}{t['unit']}{aim}): {verdict}"


def markdown(results: dict[str, Any]) -> str:
    """A Markdown table of the run, with the machine and the command, for the README."""
    m = results["machine"]
    lines = [
        f"| workload (forward + backward) | {' | '.join(HEADER)} |",
        "|---|" + "---|" * len(HEADER),
    ]
    previous = None
    for r in results["rows"]:
        title = "" if r["title"] == previous else r["title"]
        previous = r["title"]
        lines.append(f"| {title} | " + " | ".join(_cells(r)) + " |")
    lines += [
        "",
        f"`import autograd_scalar`: {results['import_ms']:.1f} ms. "
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['system']}, {m['implementation']} {m['python']}; "
        f"`{results['command']}`, {results['when']}.",
        "",
        *(line + "." for line in build_lines(results)),
        "",
        "| target | measured | goal | |",
        "|---|---|---|---|",
    ]
    for t in targets(results):
        sign = "≥" if t["at_least"] else "≤"
        verdict = {True: "met", False: "**not met**", None: "not measured"}[t["met"]]
        measured = f"{_number(t['measured'])}{t['unit']}"
        lines.append(f"| {t['target']} | {measured} | {sign} {t['goal']}{t['unit']} | {verdict} |")
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """``results.json`` and ``results.md`` in ``directory`` (``quick-`` prefixed in quick mode)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = "quick" if results["quick"] else "results"
    json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
    json_path.write_text(json.dumps({**results, "targets": targets(results)}, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path

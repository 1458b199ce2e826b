"""One engine in its own process: ``python -m benchmarks.worker ENGINE``.

It reads one JSON request per line on stdin and answers with one JSON line on stdout, so the
runner can interleave engines (one request to each in turn) while each keeps its own imports,
garbage and recursion limit. Requests: ``{"cmd": "check" | "time" | "memory", "workload": ...,
"size": ..., "gc": true, "collect": false}``; ``{"cmd": "quit"}`` ends it.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from typing import Any

from .engines import BASELINE, load
from .workloads import Case

# The micrograd design sorts recursively: one Python frame per node of depth.
BASELINE_RECURSION_LIMIT = 3_000_000


def serve(engine: str) -> None:
    makers = load(engine)
    cases: dict[tuple[str, int], Case] = {}

    def case(request: dict[str, Any]) -> Case:
        key = (request["workload"], request["size"])
        if key not in cases:
            cases[key] = makers[key[0]](key[1])
        return cases[key]

    for line in sys.stdin:
        request = json.loads(line)
        cmd = request["cmd"]
        if cmd == "quit":
            break
        if request.get("workload") not in makers:
            answer: dict[str, Any] = {"unsupported": True}
        elif cmd == "check":
            output, grads = case(request).check()
            answer = {"output": output, "grads": grads, "nodes": case(request).nodes}
        elif cmd == "time":
            answer = {"seconds": _time(case(request), request.get("gc", True), request.get("collect", False))}
        elif cmd == "memory":
            answer = {"peak_bytes": _peak(case(request))}
        elif cmd == "build":
            build = case(request).build
            answer = {"unsupported": True} if build is None else build()
        else:
            answer = {"error": f"unknown command {cmd!r}"}
        print(json.dumps(answer), flush=True)


def _time(case: Case, gc_on: bool, collect: bool) -> float:
    """Seconds for one ``case.run()``; with ``collect``, freeing the graph's cycles is included."""
    if not gc_on:
        gc.collect()
        gc.disable()
    try:
        start = time.perf_counter()
        case.run()
        if collect:
            gc.collect()
        return time.perf_counter() - start
    finally:
        gc.enable()


def _peak(case: Case) -> int:
    """Peak bytes allocated by Python during one ``case.run()`` (tracemalloc, a separate run)."""
    gc.collect()
    tracemalloc.start()
    try:
        case.run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.collect()


if __name__ == "__main__":
    name = sys.argv[1]
    if name == BASELINE:
        sys.setrecursionlimit(BASELINE_RECURSION_LIMIT)
    serve(name)

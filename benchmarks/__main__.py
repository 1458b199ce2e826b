"""``python -m benchmarks [--quick]``: run the benchmarks, print the table, write JSON and Markdown."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .report import text_table, write
from .runner import RESULTS, available_engines, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 rounds: a few seconds (for CI)")
    parser.add_argument("--repeats", type=int, default=None, help="rounds per workload (default 15, quick 3)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON and Markdown")
    parser.add_argument("--engines", nargs="+", choices=available_engines(), default=None,
                        help="a subset of the engines (the floor is always included)")
    args = parser.parse_args(argv)
    engines = None if args.engines is None else sorted(set(args.engines) | {"floor"}, key=available_engines().index)
    results = run(quick=args.quick, repeats=args.repeats, engines=engines,
                  log=lambda text: print(text, file=sys.stderr, flush=True))
    print(text_table(results))
    json_path, md_path = write(results, args.out)
    print(f"\nwritten: {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

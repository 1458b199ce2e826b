"""The ``autograd-scalar`` command: ``demo``, and the commands of the other modules.

Each subcommand is a function ``cmd_NAME(args) -> int`` registered in :func:`build_parser`;
the modules it needs are imported only when it runs, so ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def sigmoid_neuron():
    """The CS231n neuron ``f = sigmoid(w0*x0 + w1*x1 + w2)`` with w = [2, -3, -3], x = [-1, -2].

    Returns ``(f, {name: leaf})``; nothing has been differentiated yet.
    """
    from .engine import Value

    leaves = {
        "w0": Value(2.0, label="w0"),
        "x0": Value(-1.0, label="x0"),
        "w1": Value(-3.0, label="w1"),
        "x1": Value(-2.0, label="x1"),
        "w2": Value(-3.0, label="w2"),
    }
    w0, x0, w1, x1, w2 = leaves.values()
    z = w0 * x0 + w1 * x1 + w2
    z.label = "z"
    f = z.sigmoid()
    f.label = "f"
    return f, leaves


def cmd_demo(args: argparse.Namespace) -> int:
    """Forward and backward through the CS231n sigmoid neuron, with every number printed."""
    f, leaves = sigmoid_neuron()
    z = f.parents[0]
    print("The CS231n sigmoid neuron: f = sigmoid(w0*x0 + w1*x1 + w2)")
    print("  inputs:  " + ", ".join(f"{name} = {v.data:g}" for name, v in leaves.items()))
    print(f"  forward: z = w0*x0 + w1*x1 + w2 = {z.data:g}")
    print(f"           f = sigmoid(z) = 1 / (1 + exp(-z)) = {f.data:.10f}")
    f.backward()
    print("  backward (f.backward()):")
    print(f"    df/dz  = f * (1 - f) = {z.grad:.4f}")
    for name, v in leaves.items():
        partner = {"w0": "x0", "x0": "w0", "w1": "x1", "x1": "w1"}.get(name)
        why = f"{partner} * df/dz" if partner else "1 * df/dz   (the bias is added: local derivative 1)"
        print(f"    df/d{name} = {why:<52} = {v.grad:+.4f}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograd-scalar",
        description="A scalar autograd engine you can read and step through.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="forward and backward through the CS231n sigmoid neuron")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

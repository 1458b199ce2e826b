"""The ``autograd-scalar`` command: ``demo``, and the commands of the other modules.

Each subcommand is a function ``cmd_NAME(args) -> int`` registered in :func:`build_parser`;
the modules it needs are imported only when it runs, so ``--help`` stays instant. Before it runs,
:func:`autograd_scalar.arguments.check` checks its paths and options. Exit status, the same for
every command: 0 done; 2 refused before the work (a bad option, path or expression), with one
line ``autograd-scalar CMD: --option: problem``; 1 the work failed on the way (a full disk, a
missing extra, ``dot`` missing for a PNG).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .arguments import Parser, report
from .examples import sigmoid_neuron  # noqa: F401  (also importable from here, as before)


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


def cmd_graph(args: argparse.Namespace) -> int:
    """Draw an expression's graph with data and gradients: .svg (no graphviz needed), .png or .dot."""
    from .expr import parse_assignments, parse_expression
    from .viz import render

    try:
        root, _ = parse_expression(args.expression, parse_assignments(args.set or ""))
        if not args.no_grad:
            root.backward()
        path = render(root, args.output, show_grad=not args.no_grad, max_nodes=args.max_nodes)
    except (ValueError, TypeError, ArithmeticError) as error:  # the input: exit 2, as in every command
        print(f"autograd-scalar graph: {error}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError) as error:  # dot or the disk failed on the way
        print(f"autograd-scalar graph: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


def cmd_step(args: argparse.Namespace) -> int:
    """Step through backpropagation: on a terminal one step per key press, else the whole transcript."""
    from . import stepthrough
    from .stepthrough_term import run

    if args.expr is not None:
        if args.example is not None:
            print("autograd-scalar step: give an example name or --expr, not both", file=sys.stderr)
            return 2
        from .expr import parse_assignments, parse_expression

        try:
            root, _ = parse_expression(args.expr, parse_assignments(args.set or ""))
        except (ValueError, TypeError, ArithmeticError) as error:
            print(f"autograd-scalar step: {error}", file=sys.stderr)
            return 2
        title = f"Backpropagation through {args.expr}"
    else:
        from .examples import EXAMPLES, example

        name = args.example or "sigmoid"
        root = example(name)
        title = f"Backpropagation through {EXAMPLES[name]}"
    if args.html:
        try:
            path = stepthrough.export_html(root, args.html, title=title, digits=args.digits, naive=args.naive)
        except ValueError as error:
            print(f"autograd-scalar step: {error}", file=sys.stderr)
            return 2
        except OSError as error:  # the path was checked; the write failed on the way (a full disk)
            print(f"autograd-scalar step: {error}", file=sys.stderr)
            return 1
        print(f"wrote {path}", file=sys.stderr)
    return run(root, title=title, naive=args.naive, digits=args.digits)


def cmd_train(args: argparse.Namespace) -> int:
    """Train an MLP on a toy dataset with a progress bar; save the model and plot the decision boundary."""
    from .train import train_command

    try:
        return train_command(args)
    except ValueError as error:  # a bad option or option value: refused before training
        print(f"autograd-scalar train: {error}", file=sys.stderr)
        return 2
    except (ImportError, OSError) as error:  # a missing extra, a write that failed
        print(f"autograd-scalar train: {error}", file=sys.stderr)
        return 1


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: ...)`` only where there is one; options whose default depends on the data say it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        return action.help if action.default is None else super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="autograd-scalar",
        description="A scalar autograd engine you can read and step through.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"autograd-scalar {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="forward and backward through the CS231n sigmoid neuron")
    demo.set_defaults(func=cmd_demo)
    graph = sub.add_parser(
        "graph",
        help='draw an expression\'s graph with data and gradients, e.g. graph "tanh(x*w + b)" --set x=1,w=2,b=-1',
        description="Build the graph of an expression (no eval: a safe parser), run backward and draw it. "
        "The format follows the file name: .svg (built-in layout when graphviz's dot is missing), .png, .dot.",
    )
    graph.add_argument("expression", help='e.g. "tanh(x*w + b)": numbers, names, + - * / **, exp log tanh ...')
    graph.add_argument("--set", help="values of the expression's names, e.g. x=1,w=2,b=-1")
    graph.add_argument("-o", "--output", default="graph.svg", help="file to write: .svg, .png or .dot")
    graph.add_argument("--no-grad", action="store_true", help="draw the forward values only (no backward)")
    graph.add_argument("--max-nodes", type=int, default=500, help="refuse larger graphs (default 500)")
    graph.set_defaults(func=cmd_graph)
    step = sub.add_parser(
        "step",
        help="step through backpropagation node by node (sigmoid, tanh, mazur, branch, naive, mlp, or --expr)",
        description="Show each backward step: the upstream gradient, each local derivative and each +=. "
        "Keys on a terminal: n/space/enter next, b/p back, q quit; a plain transcript when piped.",
    )
    step.add_argument("example", nargs="?", choices=["sigmoid", "tanh", "mazur", "branch", "naive", "mlp"],
                      help="a built-in graph (default: sigmoid, the CS231n neuron)")
    step.add_argument("--expr", help='your own expression, e.g. "tanh(x*w+b)" (no eval: a safe parser)')
    step.add_argument("--set", help="values for the expression's names, e.g. x=1,w=2,b=-1")
    step.add_argument("--naive", action="store_true",
                      help="also run a naive recursive backward pass and show where it goes wrong")
    step.add_argument("--html", metavar="PATH", help="also write the step-through as a self-contained web page")
    step.add_argument("--digits", type=int, default=4, help="significant digits shown (default 4)")
    step.set_defaults(func=cmd_step)
    train = sub.add_parser(
        "train",
        help="train an MLP on moons, circles, spirals, spirals3, xor or digits: progress bar, held-out accuracy, plot",
        description="Train an MLP (the data's inputs, the --hidden layers, one output scoring class 1 for bce and "
        "hinge, one per class for cross_entropy) on a dataset, holding out --test-fraction of it to measure "
        "accuracy on data it has not seen. The defaults reach >= 97% training accuracy on the moons, and "
        ">= 95% held-out accuracy on the digits (--dataset digits, which needs scikit-learn: pip install "
        "'autograd-scalar[datasets]').",
        formatter_class=_Defaults,
    )
    train.add_argument("--dataset", choices=["moons", "circles", "spirals", "spirals3", "xor", "digits"],
                       default="moons", help="two classes in the plane; spirals3: three; digits: 8x8 images of 0-9")
    train.add_argument("--points", type=int, help="number of points in a toy dataset (default: 100)")
    train.add_argument("--noise", type=float,
                       help="standard deviation of the noise added to a toy dataset's points (default: 0.1)")
    train.add_argument("--test-fraction", type=float, default=0.2,
                       help="fraction of each class held out to measure accuracy on unseen data; 0 holds out none")
    train.add_argument("--hidden", help="hidden layer sizes, comma-separated (default: 16,16; digits: 32)")
    train.add_argument("--activation", choices=["tanh", "relu", "sigmoid"], default="tanh",
                       help="activation of the hidden layers")
    train.add_argument("--loss", choices=["bce", "hinge", "cross_entropy"],
                       help="binary cross-entropy on the logit, the max-margin hinge loss, or softmax cross-entropy "
                       "over k classes (default: bce for two classes, cross_entropy for more)")
    train.add_argument("--optimizer", choices=["adam", "sgd"], default="adam", help="how to step the parameters")
    train.add_argument("--lr", type=float, help="learning rate (default: 0.05; digits: 0.01)")
    train.add_argument("--momentum", type=float, default=None, help="momentum (sgd only; default 0.9 with sgd)")
    train.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay")
    train.add_argument("--epochs", type=int, help="passes over the training set (default: 100; digits: 10)")
    train.add_argument("--batch-size", type=int,
                       help="samples per step; 0 means the whole training set (default: 0; digits: 32)")
    train.add_argument("--seed", type=int, default=0, help="seed of the data, the initial weights and the shuffling")
    train.add_argument("--out", metavar="PATH", help="save the trained model here as JSON")
    train.add_argument("--no-compile", action="store_true",
                       help="train on the interpreter, not the compiled path (ag.compile); same results, bit for bit")
    train.add_argument("--plot", metavar="PATH", help="draw the loss and accuracy curves and the decision boundary "
                       "(digits: the confusion matrix and the misclassified images) to this PNG "
                       "(needs matplotlib: pip install 'autograd-scalar[plot]')")
    train.set_defaults(func=cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    refused = report(args)  # every path and option checked before the work (arguments.py)
    if refused is not None:
        return refused
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

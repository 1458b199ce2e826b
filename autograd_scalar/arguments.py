"""Checking the command line before any work starts: one place for every command's limits and paths.

``autograd-scalar CMD ...`` either does its work or stops at once with exit status 2 and one line
``autograd-scalar CMD: --option: problem``, never a traceback, and never after minutes of
training. Exit status 1 is kept for work that fails on the way (a disk that fills up, ``dot``
missing for a PNG).

- :class:`Parser` is ``argparse.ArgumentParser`` with argparse's own errors on that one line (an
  unknown option, ``--epochs x``), and a hint when an expression that starts with ``-`` is read as
  an option: ``autograd-scalar graph -- "-x*2"``.
- :func:`check` runs the command's checks on the parsed arguments: every size has a limit that
  is stated in the message (so that no option alone can ask for a run that cannot finish or fit),
  every number that could not train is refused (``--lr 1e308``, ``--momentum 1``), and every output
  path is checked to be writable as a file *before* the work (``--out DIR``,
  ``--plot /nonexistent/p.png``, ``--out /dev/full``, ``--plot p.txt``).

>>> check_output("--out", "/nonexistent/model.json")
Traceback (most recent call last):
...
autograd_scalar.arguments.UsageError: --out: the folder '/nonexistent' does not exist
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from .serialize import MAX_PARAMETERS

MAX_POINTS = 100_000
"""``--points``: the most points a toy dataset may have."""

MAX_EPOCHS = 100_000
"""``--epochs``: the most passes over the data."""

MAX_STEP = 10_000_000
"""Samples in one step times parameters: a step builds about two graph nodes per parameter and
sample, at about 135 bytes each, so this caps one step's graph near 20 million nodes (2.5 GiB)."""

MAX_LR = 10.0
"""``--lr``: larger steps only overflow the weights."""

MAX_NOISE = 10.0
"""``--noise``: the toy datasets lie within a few units of 0, so more noise is all noise."""

MAX_DIGITS = 17
"""``--digits``: 17 significant digits show every float exactly; more shows nothing new."""

MAX_GRAPH_NODES = 10_000
"""``graph --max-nodes``: the built-in layout and ``dot`` are both slow beyond this."""

MAX_LAYER = 10_000
"""``--hidden``: the most neurons in one layer."""


class UsageError(ValueError):
    """A command-line argument that cannot work: ``str(error)`` is ``"--option: problem"``."""

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"{option}: {problem}")
        self.option = option


class Parser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose errors are one line, ``PROG CMD: --option: problem``, exit 2."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument ([^:]+): ", r"\1: ", message)
        self.exit(2, f"{self.prog}: {message}{_hint(self.prog, message)}\n")

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        """As argparse's, but an unknown argument is reported by the command it was given to."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            message = f"unrecognized arguments: {' '.join(extras)}"
            self.exit(2, f"{prog}: {message}{_hint(prog, message)}\n")
        return parsed


def _hint(prog: str, message: str) -> str:
    """How to pass an expression that argparse took for an option."""
    if prog.endswith(" graph") and ("required: expression" in message or "arguments: -" in message):
        return "; an expression that starts with '-' goes after '--': autograd-scalar graph [options] -- '-x*2'"
    if prog.endswith(" step") and message.startswith("--expr: expected one argument"):
        return "; an expression that starts with '-' is written --expr='-x*2'"
    return ""


def check(args: argparse.Namespace) -> None:
    """Run the checks of ``args.command`` (a :class:`UsageError` for the first problem found)."""
    checks = {"train": check_train, "step": check_step, "graph": check_graph}
    command = checks.get(getattr(args, "command", None) or "")
    if command is not None:
        command(args)


def check_int(option: str, value: Any, low: int, high: int, why: str = "") -> None:
    """Refuse an int outside ``low..high``, saying the limit (``why`` explains a high limit)."""
    if value is None:
        return
    if value < low:
        raise UsageError(option, f"must be at least {low}, got {value!r}")
    if value > high:
        raise UsageError(option, f"{value!r} is more than the limit of {high:,}" + (f" ({why})" if why else ""))


def check_float(option: str, value: Any, low: float, high: float, *, below_high: bool = False,
                above_low: bool = False, why: str = "") -> None:
    """Refuse a float that is not finite or is outside ``[low, high]`` (open ends as asked)."""
    if value is None:
        return
    if not math.isfinite(value):
        raise UsageError(option, f"must be a finite number, got {value!r}")
    if value < low or (above_low and value == low):
        raise UsageError(option, f"must be {'more than' if above_low else 'at least'} {low:g}, got {value!r}")
    if value > high or (below_high and value == high):
        limit = f"below {high:g}" if below_high else f"at most {high:g}"
        raise UsageError(option, f"must be {limit}, got {value!r}" + (f" ({why})" if why else ""))


def check_output(option: str, path: Any, suffixes: Sequence[str] | None = None) -> None:
    """Refuse an output path that cannot be written as a file, before any work is done.

    The path must not be a folder or a device, its folder must exist and be writable (files are
    written to a temporary file beside the target, then moved over it), and its suffix, when
    ``suffixes`` are given, one of them.

    >>> check_output("--plot", "curves.txt", (".png", ".svg", ".pdf"))
    Traceback (most recent call last):
    ...
    autograd_scalar.arguments.UsageError: --plot: cannot tell the format of 'curves.txt'; use a .png, .svg or .pdf name
    """
    if path is None:
        return
    text = os.fspath(path)
    if not text:
        raise UsageError(option, "needs a file name, got ''")
    target = Path(text)
    if target.is_dir() or text.endswith(("/", os.sep)):
        raise UsageError(option, f"{text!r} is a folder; give a file name inside it")
    if target.exists() and not target.is_file():
        raise UsageError(option, f"{text!r} is not a regular file (a device or a pipe); give a file name")
    if suffixes and target.suffix.lower() not in suffixes:
        names = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else suffixes[0]
        raise UsageError(option, f"cannot tell the format of {text!r}; use a {names} name")
    folder = target.parent
    if not folder.is_dir():
        if folder.exists():
            raise UsageError(option, f"{str(folder)!r} is a file, not a folder")
        raise UsageError(option, f"the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(option, f"cannot write in the folder {str(folder)!r} (permission denied)")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(option, f"cannot write {text!r} (permission denied)")


def parse_hidden(text: str) -> list[int]:
    """``"16,16"`` -> ``[16, 16]``: the hidden layer sizes of the ``train`` command.

    Sizes are ASCII digits separated by commas (spaces allowed), each from 1 to ``MAX_LAYER``:
    ``16,,16``, ``16,``, ``,16``, ``1_6`` and ``٣`` (which ``int`` would read as 3) are refused.

    >>> parse_hidden("16, 8")
    [16, 8]
    >>> parse_hidden("16,,16")
    Traceback (most recent call last):
    ...
    ValueError: --hidden: expected positive layer sizes separated by commas, like 16,16; got '16,,16'
    """
    if not isinstance(text, str) or not re.fullmatch(r" *[0-9]+ *(, *[0-9]+ *)*", text):
        raise ValueError(f"--hidden: expected positive layer sizes separated by commas, like 16,16; got {text!r}")
    sizes = [int(part) for part in text.split(",")]
    for n in sizes:
        if n < 1:
            raise ValueError(f"--hidden: expected positive layer sizes separated by commas, like 16,16; got {text!r}")
        if n > MAX_LAYER:
            raise ValueError(f"--hidden: a layer of {n:,} neurons is more than the limit of {MAX_LAYER:,}")
    return sizes


def _outputs_of(dataset: str | None) -> tuple[int, int]:
    """(inputs, outputs) of the model the train command builds for ``dataset``."""
    return {"digits": (64, 10), "spirals3": (2, 3)}.get(dataset or "", (2, 1))


def check_train(args: argparse.Namespace) -> None:
    """The train command's sizes, numbers and paths (see the module docstring)."""
    value = vars(args).get
    check_int("--points", value("points"), 1, MAX_POINTS)
    check_int("--epochs", value("epochs"), 0, MAX_EPOCHS)
    check_int("--batch-size", value("batch_size"), 0, MAX_POINTS)
    check_float("--noise", value("noise"), 0.0, MAX_NOISE)
    check_float("--lr", value("lr"), 0.0, MAX_LR, above_low=True, why="larger steps overflow the weights")
    check_float("--momentum", value("momentum"), 0.0, 1.0, below_high=True, why="1 or more never settles")
    if value("momentum") is not None and value("optimizer") == "adam":
        raise UsageError("--momentum", "applies to --optimizer sgd only (adam keeps its own running averages)")
    check_float("--weight-decay", value("weight_decay"), 0.0, 1.0)
    if value("hidden") is not None:
        try:
            hidden = parse_hidden(value("hidden"))
        except ValueError as error:
            raise UsageError("--hidden", str(error).removeprefix("--hidden: ")) from None
        nin, nout = _outputs_of(value("dataset"))
        sizes = [nin, *hidden, nout]
        count = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))
        if count > MAX_PARAMETERS:
            raise UsageError("--hidden", f"MLP({nin}, {[*hidden, nout]}) has {count:,} parameters, more than the "
                                         f"limit of {MAX_PARAMETERS:,} (a saved model must load again)")
        batch = value("batch_size") or value("points")
        if batch and batch * count > MAX_STEP:
            raise UsageError("--batch-size", f"a step over {batch:,} samples of a {count:,}-parameter model is "
                                             f"more than the limit of {MAX_STEP:,} samples x parameters (about "
                                             f"{2 * MAX_STEP // 10**6} million graph nodes); use --batch-size "
                                             f"{max(1, MAX_STEP // count)} or less")
    check_output("--out", value("out"))
    check_output("--plot", value("plot"), (".png", ".svg", ".pdf"))


def check_step(args: argparse.Namespace) -> None:
    """The step command's ``--digits``, ``--html`` and ``--set`` (which needs ``--expr``)."""
    check_int("--digits", vars(args).get("digits"), 1, MAX_DIGITS, "17 show every float exactly")
    check_output("--html", vars(args).get("html"))
    if vars(args).get("set") is not None and vars(args).get("expr") is None:
        raise UsageError("--set", "gives values to the names of --expr; it needs --expr")


def check_graph(args: argparse.Namespace) -> None:
    """The graph command's ``--output`` and ``--max-nodes``."""
    check_int("--max-nodes", vars(args).get("max_nodes"), 1, MAX_GRAPH_NODES)
    check_output("--output", vars(args).get("output"), (".svg", ".png", ".dot"))


def report(args: argparse.Namespace) -> int | None:
    """Run :func:`check`; print its one-line message and return 2, or return None when all is well."""
    try:
        check(args)
    except UsageError as error:
        print(f"autograd-scalar {args.command}: {error}", file=sys.stderr)
        return 2
    return None

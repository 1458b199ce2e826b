"""Save and load a model's document as JSON: readable, diffable, and never pickle (loading runs no code).

This module knows *documents*: a format name and version, the architecture, and every parameter
as a flat list in ``parameters()`` order (layer by layer, neuron by neuron, weights in input
order, then bias)::

    {"format": "autograd_scalar.MLP", "version": 1,
     "architecture": {"nin": 2, "nouts": [16, 16, 1], "activation": "tanh", "output_activation": "linear"},
     "parameters": [0.4196..., -0.5587..., ...]}

It never builds a model: :mod:`autograd_scalar.nn` imports it, and ``MLP.load(path)`` builds an
``MLP`` from the document :func:`read` returns (one direction only: this module imports nothing
of ``nn``). :func:`save` and :func:`load_into` take any model with ``architecture()`` and
``named_parameters()``.

Floats are written with ``repr``, which Python reads back to the same bits, so a round trip is
exact. :func:`save` writes through :mod:`autograd_scalar.atomic`, so a failed write (a full disk,
Ctrl-C) leaves the previous file as it was. A path that is not a regular file (a folder, a named
pipe, a device) is refused before it is opened, so a pipe with no writer cannot block. A file that
is too large, not JSON, truncated, of another format or version, of the wrong shape, describing
more than ``MAX_PARAMETERS`` parameters, or holding NaN, infinity, a number too large for a float
or anything but numbers where numbers go, raises a ``ValueError`` naming the problem; everything
is checked before anything is built or assigned, so a failed load leaves the model as it was.

>>> import os, tempfile
>>> from autograd_scalar.nn import MLP
>>> model = MLP(2, [3, 1], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> save(model, path)
>>> read(path)["architecture"]
{'nin': 2, 'nouts': [3, 1], 'activation': 'tanh', 'output_activation': 'linear'}
>>> MLP.load(path).state_dict() == model.state_dict()
True
"""

from __future__ import annotations

import json
import math
import numbers
import os
import stat
from typing import Any, Union

from .atomic import file_kind, write_atomic

FORMAT = "autograd_scalar.MLP"
VERSION = 1

MAX_PARAMETERS = 500_000
"""Files describing more parameters than this are refused before any model is built.

Building a model costs memory per parameter: each is a ``Value`` with its name, about 260 bytes
kept and 480 bytes at the peak of loading, so the cap implies at most about 230 MiB to load (a
file at the cap loads in about 25 s here). A file that asks for more is refused after reading at
most ``MAX_PARAMETERS`` numbers (about 16 MiB at the peak). The ``train`` command refuses models
over the same cap, so whatever it saves loads."""

MAX_BYTES = 16 * 2**20
"""Files larger than this (16 MiB: room for ``MAX_PARAMETERS`` values of 17 significant digits
and more) are refused before parsing."""

_MAX_BRACKETS = 16
_MAX_QUOTES = 200
# A saved file has 2 lists, 2 objects and 11 strings. Capping them, and the count of numbers at
# MAX_PARAMETERS (plus the architecture's), bounds what parsing a hostile file can allocate: at
# most a few times MAX_BYTES, however the file is built (a list of 5 million empty lists would
# otherwise cost 300 MiB).

PathLike = Union[str, "os.PathLike[str]"]


def to_dict(model: Any) -> dict[str, Any]:
    """The JSON-ready document of ``model``: format, version, architecture, parameters."""
    if not callable(getattr(model, "architecture", None)) or not callable(getattr(model, "named_parameters", None)):
        raise TypeError(f"save: expected an MLP (with architecture() and named_parameters()), got {model!r}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.architecture(),
        "parameters": [p.data for _, p in model.named_parameters()],
    }


def save(model: Any, path: PathLike) -> None:
    """Write ``model`` to ``path`` as JSON, atomically (a parameter that is NaN or infinite raises ValueError).

    The file is written beside ``path`` and moved over it only when complete, so a write that
    fails part way leaves the previous file as it was.
    """
    data = to_dict(model)
    for (name, _), value in zip(model.named_parameters(), data["parameters"]):
        if not math.isfinite(value):
            raise ValueError(f"save: parameter {name!r} is {value!r}; refusing to write a non-finite model")
    _check_target(f"save {os.fspath(path)!r}", path)
    write_atomic(path, json.dumps(data, allow_nan=False) + "\n")


def _check_target(where: str, path: PathLike) -> None:
    """Refuse to replace a folder, a pipe or a device: only regular files are (over)written."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise ValueError(f"{where}: {file_kind(mode)}, not a regular file; give a file name")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


class _TooManyNumbers(Exception):
    pass


def _read_bytes(where: str, path: PathLike) -> bytes:
    """The file's bytes, at most ``MAX_BYTES``; anything but a regular file is refused unopened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{where}: no such file") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"{where}: {file_kind(mode)}, not a regular file; not a saved model")
    # O_NONBLOCK: if the path became a pipe since the check, opening it still returns at once.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{where}: {file_kind(info.st_mode)}, not a regular file; not a saved model")
        if info.st_size > MAX_BYTES:
            raise ValueError(f"{where}: file is {info.st_size} bytes, more than the limit of {MAX_BYTES}; "
                             "not a saved model")
        raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValueError(f"{where}: file is more than the limit of {MAX_BYTES} bytes; not a saved model")
    return raw


def read(path: PathLike) -> dict[str, Any]:
    """Read and check a saved file; returns ``{"architecture": ..., "parameters": [float, ...]}``.

    Every check of the module docstring happens here, before anything is built, so that callers
    build and assign nothing until the whole file is known to be good.
    """
    where = f"load {os.fspath(path)!r}"
    raw = _read_bytes(where, path)
    if raw.count(b"[") + raw.count(b"{") > _MAX_BRACKETS or raw.count(b'"') > _MAX_QUOTES:
        raise ValueError(f"{where}: more lists, objects or strings than a saved model holds; not a saved model")
    count = 0

    def number(parse: Any) -> Any:
        def parse_counted(text: str) -> Any:
            nonlocal count
            count += 1
            if count > MAX_PARAMETERS + 64:
                raise _TooManyNumbers
            return parse(text)
        return parse_counted

    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                          parse_int=number(int), parse_float=number(float))
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: not a text file (not UTF-8): {error}") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply; not a saved model") from None
    except _TooManyNumbers:
        raise ValueError(f"{where}: holds more than {MAX_PARAMETERS} numbers, the limit (MAX_PARAMETERS)") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON (truncated, or not a saved model): {error}") from None
    except ValueError as error:  # from _reject_constant (NaN, Infinity) or int() (over 4300 digits)
        raise ValueError(f"{where}: {error}; parameters must be finite numbers") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise ValueError(f"{where}: format is {data.get('format')!r}, expected {FORMAT!r}")
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):
        raise ValueError(f"{where}: format version {data.get('version')!r} is not supported (this reads {VERSION})")
    architecture = _check_architecture(where, data.get("architecture"))
    expected = _count(architecture)
    shape = f"MLP({_short(architecture['nin'])}, {_short(architecture['nouts'])})"
    if expected > MAX_PARAMETERS:
        raise ValueError(f"{where}: {shape} has {_short(expected)} parameters, more than the limit of "
                         f"{MAX_PARAMETERS} (MAX_PARAMETERS); not loaded")
    parameters = data.get("parameters")
    if not isinstance(parameters, list):
        raise ValueError(f"{where}: 'parameters' must be a list of numbers, got {type(parameters).__name__}")
    if len(parameters) != expected:
        raise ValueError(f"{where}: wrong shape: {shape} has {expected} parameters, the file holds {len(parameters)}")
    return {"architecture": architecture, "parameters": [_number(where, i, x) for i, x in enumerate(parameters)]}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_architecture(where: str, arch: Any) -> dict[str, Any]:
    if not isinstance(arch, dict):
        raise ValueError(f"{where}: 'architecture' must be an object, got {_short(arch)}")
    keys = {"nin", "nouts", "activation", "output_activation"}
    if set(arch) != keys:
        raise ValueError(f"{where}: 'architecture' must have exactly the keys {sorted(keys)}, got {sorted(arch)}")
    nin, nouts = arch["nin"], arch["nouts"]
    if not _positive_int(nin):
        raise ValueError(f"{where}: architecture 'nin' must be a positive int, got {_short(nin)}")
    if not isinstance(nouts, list) or not nouts or not all(_positive_int(n) for n in nouts):
        raise ValueError(
            f"{where}: architecture 'nouts' must be a non-empty list of positive ints, got {_short(nouts)}"
        )
    for key in ("activation", "output_activation"):
        if not isinstance(arch[key], str):
            raise ValueError(f"{where}: architecture {key!r} must be an activation name, got {_short(arch[key])}")
    return arch


def _positive_int(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def _count(arch: dict[str, Any]) -> int:
    sizes = [arch["nin"], *arch["nouts"]]
    return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))


def _number(where: str, index: int | str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{where}: parameter {index!r} is {_short(x)}; expected a number")
    try:
        value = float(x)
    except OverflowError:  # an int such as 10**400
        raise ValueError(f"{where}: parameter {index!r} is {_short(x)}, too large for a float") from None
    if not math.isfinite(value):  # 1e999 parses to inf
        raise ValueError(f"{where}: parameter {index!r} is {_short(x)}; expected a finite number")
    return value


def load_into(model: Any, path: PathLike) -> None:
    """Set ``model``'s parameters from ``path``; the architectures must match.

    On any error the model is left exactly as it was.

    >>> import os, tempfile
    >>> from autograd_scalar.nn import MLP
    >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
    >>> save(MLP(2, [3, 1], seed=1), path)
    >>> model = MLP(2, [3, 1], seed=2)
    >>> load_into(model, path)
    >>> model.state_dict() == MLP(2, [3, 1], seed=1).state_dict()
    True
    >>> load_into(MLP(2, [4, 1]), path)
    Traceback (most recent call last):
    ...
    ValueError: load '...model.json': the file holds {...'nouts': [3, 1]...}, but the model is {...'nouts': [4, 1]...}
    """
    data = read(path)
    if data["architecture"] != model.architecture():
        raise ValueError(
            f"load {os.fspath(path)!r}: the file holds {data['architecture']}, but the model is {model.architecture()}"
        )
    for (_, p), value in zip(model.named_parameters(), data["parameters"]):
        p.data = value


def check_state(module: Any, state: Any) -> list[float]:
    """The values of ``state`` (a ``state_dict()``) in ``parameters()`` order, after checking all of them."""
    where = f"{type(module).__name__}.load_state_dict"
    if not isinstance(state, dict):
        raise ValueError(f"{where}: expected a dict of name -> number, got {type(state).__name__}")
    names = [name for name, _ in module.named_parameters()]
    missing = [n for n in names if n not in state]
    unexpected = [n for n in state if n not in set(names)]
    if missing or unexpected:
        raise ValueError(f"{where}: missing names {missing[:5]}, unexpected names {unexpected[:5]}")
    return [_number(where, name, state[name]) for name in names]

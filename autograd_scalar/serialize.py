"""Save and load an ``MLP`` as JSON: readable, diffable, and never pickle (loading runs no code).

A file holds a format name and version, the architecture, and every parameter as a flat list in
``parameters()`` order (layer by layer, neuron by neuron, weights in input order, then bias)::

    {"format": "autograd_scalar.MLP", "version": 1,
     "architecture": {"nin": 2, "nouts": [16, 16, 1], "activation": "tanh", "output_activation": "linear"},
     "parameters": [0.4196..., -0.5587..., ...]}

Floats are written with ``repr``, which Python reads back to the same bits, so a round trip is
exact. A file that is too large, not JSON, truncated, of another format or version, of the wrong
shape, or holding NaN, infinity or anything but numbers where numbers go, raises a ``ValueError``
naming the problem; everything is checked before anything is assigned, so a failed load leaves
the model as it was.

>>> import os, tempfile
>>> from autograd_scalar.nn import MLP
>>> model = MLP(2, [3, 1], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model.json")
>>> save(model, path)
>>> copy = load(path)
>>> copy.state_dict() == model.state_dict()
True
"""

from __future__ import annotations

import json
import math
import numbers
import os
from typing import Any, Union

from .nn import ACTIVATIONS, MLP, Module

FORMAT = "autograd_scalar.MLP"
VERSION = 1
MAX_BYTES = 64 * 2**20
"""Files larger than this (64 MiB, about 2.5 million parameters) are refused before parsing."""

PathLike = Union[str, "os.PathLike[str]"]


def to_dict(model: MLP) -> dict[str, Any]:
    """The JSON-ready description of ``model``: format, version, architecture, parameters."""
    if not isinstance(model, MLP):
        raise TypeError(f"save: expected an MLP, got {model!r}")
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.architecture(),
        "parameters": [p.data for p in model.parameters()],
    }


def save(model: MLP, path: PathLike) -> None:
    """Write ``model`` to ``path`` as JSON (a parameter that is NaN or infinite raises ValueError)."""
    data = to_dict(model)
    for name, value in zip((n for n, _ in model.named_parameters()), data["parameters"]):
        if not math.isfinite(value):
            raise ValueError(f"save: parameter {name!r} is {value!r}; refusing to write a non-finite model")
    text = json.dumps(data, allow_nan=False)
    with open(path, "w", encoding="utf-8") as file:
        file.write(text + "\n")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")


def read(path: PathLike) -> dict[str, Any]:
    """Read and check a saved file; returns ``{"architecture": ..., "parameters": [float, ...]}``.

    Every check of the module docstring happens here, so that callers assign nothing until the
    whole file is known to be good.
    """
    where = f"load {os.fspath(path)!r}"
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise ValueError(f"{where}: file is {size} bytes, more than the limit of {MAX_BYTES}; not a saved model")
    with open(path, "rb") as file:
        raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValueError(f"{where}: file is more than the limit of {MAX_BYTES} bytes; not a saved model")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise ValueError(f"{where}: not a text file (not UTF-8): {error}") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply; not a saved model") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON (truncated, or not a saved model): {error}") from None
    except ValueError as error:  # from _reject_constant: NaN, Infinity, -Infinity
        raise ValueError(f"{where}: {error}; parameters must be finite numbers") from None
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise ValueError(f"{where}: format is {data.get('format')!r}, expected {FORMAT!r}")
    if data.get("version") != VERSION or isinstance(data.get("version"), bool):
        raise ValueError(f"{where}: format version {data.get('version')!r} is not supported (this reads {VERSION})")
    architecture = _check_architecture(where, data.get("architecture"))
    expected = _count(architecture)
    parameters = data.get("parameters")
    if not isinstance(parameters, list):
        raise ValueError(f"{where}: 'parameters' must be a list of numbers, got {type(parameters).__name__}")
    if len(parameters) != expected:
        raise ValueError(
            f"{where}: wrong shape: MLP({architecture['nin']}, {architecture['nouts']}) has {expected} parameters, "
            f"the file holds {len(parameters)}"
        )
    return {"architecture": architecture, "parameters": [_number(where, i, x) for i, x in enumerate(parameters)]}


def _check_architecture(where: str, arch: Any) -> dict[str, Any]:
    if not isinstance(arch, dict):
        raise ValueError(f"{where}: 'architecture' must be an object, got {arch!r}")
    keys = {"nin", "nouts", "activation", "output_activation"}
    if set(arch) != keys:
        raise ValueError(f"{where}: 'architecture' must have exactly the keys {sorted(keys)}, got {sorted(arch)}")
    nin, nouts = arch["nin"], arch["nouts"]
    if not _positive_int(nin):
        raise ValueError(f"{where}: architecture 'nin' must be a positive int, got {nin!r}")
    if not isinstance(nouts, list) or not nouts or not all(_positive_int(n) for n in nouts):
        raise ValueError(f"{where}: architecture 'nouts' must be a non-empty list of positive ints, got {nouts!r}")
    for key in ("activation", "output_activation"):
        if arch[key] not in ACTIVATIONS:
            valid = ", ".join(ACTIVATIONS)
            raise ValueError(f"{where}: architecture {key!r} is {arch[key]!r}; expected one of {valid}")
    return arch


def _positive_int(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def _count(arch: dict[str, Any]) -> int:
    sizes = [arch["nin"], *arch["nouts"]]
    return sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))


def _number(where: str, index: int | str, x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{where}: parameter {index!r} is {x!r}; expected a number")
    value = float(x)
    if not math.isfinite(value):  # 1e999 parses to inf
        raise ValueError(f"{where}: parameter {index!r} is {x!r}; expected a finite number")
    return value


def load(path: PathLike) -> MLP:
    """A new ``MLP`` with the architecture and parameters stored in ``path``."""
    data = read(path)
    model = MLP(**data["architecture"], seed=0)
    for p, value in zip(model.parameters(), data["parameters"]):
        p.data = value
    return model


def load_into(model: MLP, path: PathLike) -> None:
    """Set ``model``'s parameters from ``path``; the architectures must match.

    On any error the model is left exactly as it was.

    >>> import os, tempfile
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
    for p, value in zip(model.parameters(), data["parameters"]):
        p.data = value


def check_state(module: Module, state: Any) -> list[float]:
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

"""Loss functions built from engine operations, so ``loss.backward()`` reaches every parameter.

Each loss takes the model's outputs for a batch and the targets, and returns one ``Value``: the
mean over the batch (``reduction="mean"``, the default) or the sum (``reduction="sum"``).
A single output and a single target are taken as a batch of one. Bad input (lengths that differ,
an empty batch, a label outside the classes) raises a ``ValueError`` that says which.

>>> from autograd_scalar import Value
>>> from autograd_scalar.losses import mse, binary_cross_entropy
>>> mse([Value(1.0), Value(3.0)], [0.0, 0.0]).data          # (1 + 9) / 2
5.0
>>> round(binary_cross_entropy(Value(0.0), 1).data, 6)      # log 2: a logit of 0 is a coin toss
0.693147
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, Union

from .engine import Value

Number = Union[int, float]
Scalar = Union[Value, Number]


def _batch(name: str, outputs: Any, targets: Any) -> tuple[list, list]:
    """``outputs`` and ``targets`` as two lists of the same, non-zero length."""
    if isinstance(outputs, (Value, numbers.Real)):
        outputs = [outputs]
    if isinstance(targets, (Value, numbers.Real)):
        targets = [targets]
    outputs, targets = list(outputs), list(targets)
    if len(outputs) != len(targets):
        raise ValueError(f"{name}: {len(outputs)} outputs but {len(targets)} targets; they must pair up")
    if not outputs:
        raise ValueError(f"{name}: empty batch (no outputs and no targets)")
    return outputs, targets


def _one_per_sample(name: str, outputs: list) -> None:
    """Refuse a row of several outputs where this loss takes one number per sample."""
    for o in outputs:
        if not isinstance(o, (Value, numbers.Real)) and hasattr(o, "__len__"):
            hint = " (a model with that many outputs: use 'cross_entropy' for k classes)" if name != "mse" else ""
            raise ValueError(f"{name}: expects one output per sample, got a row of {len(o)}{hint}")


def _reduce(name: str, terms: list, reduction: str) -> Value:
    """The sum or mean of ``terms``, starting the sum at the first term (no extra ``0 +`` node)."""
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{name}: reduction must be 'mean' or 'sum', got {reduction!r}")
    total = sum(terms[1:], terms[0])
    if not isinstance(total, Value):
        total = Value(total)
    return total / len(terms) if reduction == "mean" else total


def _label(name: str, y: Any, allowed: str, ok: bool) -> None:
    if isinstance(y, bool) or not ok:
        raise ValueError(f"{name}: label {y!r} is outside the classes ({allowed})")


def mse(outputs: Sequence[Scalar] | Scalar, targets: Sequence[Scalar] | Scalar, reduction: str = "mean") -> Value:
    """Mean squared error, ``mean((output - target)**2)``; its gradient is ``2 (output - target) / n``.

    >>> from autograd_scalar import Value
    >>> y = Value(3.0)
    >>> loss = mse([y], [1.0]); loss.backward(); (loss.data, y.grad)
    (4.0, 4.0)
    """
    outputs, targets = _batch("mse", outputs, targets)
    _one_per_sample("mse", outputs)
    return _reduce("mse", [(o - t) ** 2 for o, t in zip(outputs, targets)], reduction)


def _softplus(z: Scalar) -> Value:
    """``log(1 + exp(z))`` for any finite ``z``, never computing ``exp`` of a large positive number.

    For ``z >= 0`` it uses ``z + log(1 + exp(-z))``, for ``z < 0`` ``log(1 + exp(z))``: the same
    function, so the branch (chosen on the value, a constant) does not change the gradient,
    ``sigmoid(z)``, and at ``|z| = 1000`` the exp underflows harmlessly to 0.
    """
    z = z if isinstance(z, Value) else Value(z)
    if z >= 0.0:  # a comparison, not a .data read: under ag.compile it becomes a guard
        return z + (1.0 + (-z).exp()).log()
    return (1.0 + z.exp()).log()


def binary_cross_entropy(logits: Sequence[Scalar] | Scalar, targets: Sequence[Number] | Number,
                         reduction: str = "mean") -> Value:
    """Binary cross-entropy from *logits* (raw scores), stable for any finite logit.

    For a logit ``z`` and a target ``t`` in [0, 1] (a class 0 or 1, or a probability), the loss
    is ``-t log sigmoid(z) - (1 - t) log(1 - sigmoid(z)) = softplus(z) - t*z``, and its gradient is
    ``sigmoid(z) - t``. Written this way no ``log(0)`` occurs, even at ``z = ±1000``
    (PyTorch's ``binary_cross_entropy_with_logits``).

    >>> from autograd_scalar import Value
    >>> z = Value(1000.0)
    >>> loss = binary_cross_entropy([z], [0]); loss.backward(); (loss.data, z.grad)
    (1000.0, 1.0)
    """
    logits, targets = _batch("binary_cross_entropy", logits, targets)
    _one_per_sample("binary_cross_entropy", logits)
    for t in targets:
        _label("binary_cross_entropy", t, "a target is 0, 1 or a probability in between",
               isinstance(t, numbers.Real) and 0.0 <= t <= 1.0)
    terms = [_softplus(z) - t * z if t else _softplus(z) for z, t in zip(logits, targets)]
    return _reduce("binary_cross_entropy", terms, reduction)


def hinge(scores: Sequence[Scalar] | Scalar, labels: Sequence[int] | int, margin: float = 1.0,
          reduction: str = "mean") -> Value:
    """Hinge (max-margin) loss, ``mean(relu(margin - y * score))`` with labels ``y`` in {-1, +1}.

    A sample scored on the right side by at least ``margin`` costs nothing and sends no gradient;
    the others are pushed by ``-y``. (micrograd's demo uses this loss with margin 1.)

    >>> from autograd_scalar import Value
    >>> hinge([Value(2.0), Value(0.5), Value(0.5)], [1, 1, -1]).data     # (0 + 0.5 + 1.5) / 3
    0.6666666666666666
    """
    scores, labels = _batch("hinge", scores, labels)
    _one_per_sample("hinge", scores)
    for y in labels:
        _label("hinge", y, "-1 or +1", y in (-1, 1))
    return _reduce("hinge", [(margin - y * s).relu() for s, y in zip(scores, labels)], reduction)


def softmax_cross_entropy(logits: Sequence[Sequence[Scalar]] | Sequence[Scalar], labels: Sequence[int] | int,
                          reduction: str = "mean") -> Value:
    """Cross-entropy of ``softmax(logits)`` against integer class labels, with a stable log-sum-exp.

    For one sample with logits ``z[0..K-1]`` and label ``c``: ``log(sum(exp(z))) - z[c]``. The
    largest logit ``m`` is subtracted first (``_shift``, in the graph, so a compiled loss follows it):
    ``m + log(sum(exp(z - m)))`` is the same number, but no ``exp`` sees more than 0, so logits of
    1000 do not overflow. The gradient
    with respect to ``z[k]`` is ``softmax(z)[k] - (k == c)``.

    ``logits`` is a list of rows (one per sample) and ``labels`` a list of ints in ``0..K-1``; one
    row and one int are a batch of one.

    >>> from autograd_scalar import Value
    >>> z = [Value(1000.0), Value(0.0)]
    >>> loss = softmax_cross_entropy(z, 0); loss.backward()
    >>> loss.data, z[0].grad, z[1].grad
    (0.0, 0.0, 0.0)
    >>> round(softmax_cross_entropy([[0.0, 0.0, 0.0]], [2]).data, 6)     # log 3
    1.098612
    """
    name = "softmax_cross_entropy"
    if isinstance(labels, numbers.Integral) and not isinstance(labels, bool):
        logits, labels = [logits], [labels]
    rows, labels = _batch(name, logits, labels)
    terms = []
    for row, c in zip(rows, labels):
        if isinstance(row, (Value, numbers.Real)) or not hasattr(row, "__len__"):
            raise ValueError(f"{name}: expects a row of logits (one per class) per sample, got one output "
                             f"{row!r}; a model with one output needs 'bce' (or give it k >= 2 outputs)")
        row = [z if isinstance(z, Value) else Value(z) for z in row]
        if len(row) != len(rows[0]) or not row:
            raise ValueError(f"{name}: every row of logits needs the same number of classes, "
                             f"got rows of {len(rows[0])} and {len(row)}")
        _label(name, c, f"an int from 0 to {len(row) - 1}",
               isinstance(c, numbers.Integral) and 0 <= c < len(row))
        m = _shift(row)
        exps = [(z - m).exp() for z in row]
        terms.append(sum(exps[1:], exps[0]).log() + m - row[c])
    return _reduce(name, terms, reduction)


def _shift(row: Sequence[Value]) -> Value:
    """The largest of ``row``, as a graph operation: ``m = m + relu(z - m)`` over the row.

    The log-sum-exp subtracts it so that no ``exp`` overflows. Built from Values rather than read
    from ``.data``, so that a compiled loss (``ag.compile``) recomputes it at every call. The loss
    does not depend on ``m`` (it cancels), so the gradient through it is zero up to rounding.
    """
    m = row[0]
    for z in row[1:]:
        m = m + (z - m).relu()
    return m


def l2(parameters: Iterable[Value], alpha: float = 1e-4) -> Value:
    """L2 regularisation, ``alpha * sum(p**2)``: add it to a loss to keep the weights small.

    Its gradient, ``2 * alpha * p``, pulls every parameter towards 0 (``weight_decay`` in the
    optimisers does the same inside the update, as PyTorch does, without growing the graph).

    >>> from autograd_scalar import Value
    >>> l2([Value(3.0), Value(-4.0)], alpha=0.5).data      # 0.5 * (9 + 16)
    12.5
    """
    parameters = list(parameters)
    if not parameters:
        raise ValueError("l2: empty list of parameters")
    if not isinstance(alpha, numbers.Real) or not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"l2: alpha must be a finite number >= 0, got {alpha!r}")
    squares = [p * p for p in parameters]
    return alpha * sum(squares[1:], squares[0])

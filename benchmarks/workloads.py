"""The workloads, each written once for every ``Value``-style engine (ours and the micrograd design).

A workload is a function ``make(Value, size) -> Case``: ``case.run()`` does the timed work (build
the graph, backward, and for the MLP the SGD update; the graph is dropped when it returns) and
``case.check()`` does the same once and returns ``(output, gradients)`` for comparison with the
floor (:mod:`benchmarks.floor`). Inputs and initial weights come from :func:`inputs`, the same
numbers for every engine.

``size`` counts the operations of the forward graph (the nodes our engine creates; the micrograd
design makes more, because it wraps every number as a node): that count divides the time into
µs per node.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Callable

C, D, X0 = 0.999999, 1e-6, 0.5  # the chain y = y*C + D, from y = X0
MLP_SIZES = (2, (16, 16, 1))
LR = 0.05


@dataclass
class Case:
    """One prepared workload: ``run()`` is timed, ``check()`` gives ``(output, gradients)``."""

    run: Callable[[], None]
    check: Callable[[], tuple[float, list[float]]]
    nodes: int


def discard(result: object) -> None:
    """Timed calls compute what ``check`` computes and drop it (the graph is freed on return)."""


def fan_inputs(terms: int) -> tuple[list[float], list[float]]:
    """``(w, x)`` for ``tanh(sum w_i x_i)``: small weights, so the tanh is not saturated."""
    return [0.01 * math.cos(1.3 * i) for i in range(terms)], [math.sin(i) for i in range(terms)]


def mlp_inputs(batch: int) -> tuple[list[float], list[list[float]], list[float]]:
    """``(flat initial weights, points, targets)``: He-uniform weights for MLP(2, [16, 16, 1]) relu,
    zero biases, in ``parameters()`` order; ``batch`` moons points with targets -1 and +1."""
    from autograd_scalar.datasets import moons

    rng = random.Random(0)
    nin, nouts = MLP_SIZES
    sizes = [nin, *nouts]
    flat: list[float] = []
    for i in range(len(nouts)):
        bound = math.sqrt(6.0 / sizes[i])
        for _ in range(sizes[i + 1]):
            flat += [rng.uniform(-bound, bound) for _ in range(sizes[i])] + [0.0]
    X, y = moons(batch, noise=0.1, seed=0)
    return flat, X, [2.0 * label - 1.0 for label in y]


def mlp_nodes(batch: int) -> int:
    """The operations in one MLP step's graph: per point, each neuron makes nin products, nin sums
    and (hidden layers) a relu; then a subtraction and a square per point, batch - 1 sums, one division."""
    nin, nouts = MLP_SIZES
    sizes = [nin, *nouts]
    per_point = sum(n * (2 * sizes[i] + (i < len(nouts) - 1)) for i, n in enumerate(nouts))
    return batch * (per_point + 2) + batch


def second_terms(size: int) -> int:
    """``f(x) = sum tanh(w_i * x)`` has three operations per term (mul, tanh, add)."""
    return max(size // 3, 1)


def chain(Value: Any, size: int) -> Case:
    def build():
        x = Value(X0)
        y = x
        for _ in range(size // 2):
            y = y * C + D
        y.backward()
        return x, y

    def run():
        discard(build())

    def check():
        x, y = build()
        return float(y.data), [float(x.grad)]  # float(): torch's .data and .grad are tensors

    return Case(run, check, size // 2 * 2)


def fan_out(Value: Any, size: int) -> Case:
    """``tanh(sum w_i * x_i)``: one wide neuron, ``w_i`` parameters (Values made beforehand),
    ``x_i`` input data (plain numbers, as a first layer sees them)."""
    w_data, x = fan_inputs(size)
    w = [Value(v) for v in w_data]

    def build(w):
        total = w[0] * x[0]
        for i in range(1, size):
            total = total + w[i] * x[i]
        y = total.tanh()
        y.backward()
        return y

    def run():
        discard(build(w))

    def check():
        fresh = [Value(v) for v in w_data]  # new leaves: every engine's gradients start from zero
        y = build(fresh)
        return float(y.data), [float(v.grad) for v in fresh]

    return Case(run, check, 2 * size)


def mlp(Value: Any, size: int, make_model: Callable[[list[float]], tuple[Any, list]]) -> Case:
    """One training step on ``size`` moons points: forward, mean squared error, zero the gradients,
    backward, SGD update. ``make_model(flat_weights) -> (model, parameters)``."""
    flat, X, targets = mlp_inputs(size)
    model, params = make_model(flat)

    def loss_and_backward(model, params):
        outputs = [model(x) for x in X]
        terms = [(o - t) ** 2 for o, t in zip(outputs, targets)]
        loss = sum(terms[1:], terms[0]) / len(terms)
        for p in params:
            p.grad = 0.0
        loss.backward()
        return loss

    def run():
        loss_and_backward(model, params)
        for p in params:
            p.data -= LR * p.grad

    def check():
        fresh, fresh_params = make_model(flat)
        loss = loss_and_backward(fresh, fresh_params)
        return loss.data, [p.grad for p in fresh_params]

    return Case(run, check, mlp_nodes(size))

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
DIGITS_SIZES = (64, (32, 10))  # MLP(64, [32, 10]) tanh, softmax cross-entropy
DIGITS_BATCH = 32
DIGITS_LR = 0.1


@dataclass
class Case:
    """One prepared workload: ``run()`` is timed, ``check()`` gives ``(output, gradients)``."""

    run: Callable[[], None]
    check: Callable[[], tuple[float, list[float]]]
    nodes: int
    build: Callable[[], dict[str, float]] | None = None
    """The compiled engine only: trace, write and compile one sample's code afresh; the seconds of each."""


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


def digits_inputs(size: int) -> tuple[list[float], list[list[float]], list[int], str]:
    """``(flat initial weights, images, labels, source)`` for the digits epoch: the first ``size`` of
    scikit-learn's bundled 8x8 digits (pixels 0..1), or, where scikit-learn is not installed, a seeded
    synthetic stand-in of the same shape (a noisy template per class). Xavier-uniform weights, zero
    biases, in ``parameters()`` order."""
    rng = random.Random(0)
    nin, nouts = DIGITS_SIZES
    sizes = [nin, *nouts]
    flat: list[float] = []
    for i in range(len(nouts)):
        bound = math.sqrt(6.0 / (sizes[i] + sizes[i + 1]))
        for _ in range(sizes[i + 1]):
            flat += [rng.uniform(-bound, bound) for _ in range(sizes[i])] + [0.0]
    try:
        from autograd_scalar.datasets import digits

        X, y = digits()
        source = "scikit-learn digits"
    except ImportError:
        templates = [[rng.random() for _ in range(nin)] for _ in range(nouts[-1])]
        y = [rng.randrange(nouts[-1]) for _ in range(1797)]
        X = [[min(1.0, max(0.0, v + rng.gauss(0.0, 0.2))) for v in templates[c]] for c in y]
        source = "synthetic stand-in"
    return flat, X[:size], y[:size], source


def digits_nodes(size: int) -> int:
    """The operations of one digits epoch: per sample, the hidden layer's 2*64+1 per neuron and the output
    layer's 2*32 per neuron, then the loss (the shift 3(K-1), K subtractions and exps, K-1 sums, a log, +m,
    -z_c); per batch, n - 1 sums and a division."""
    nin, (hidden, k) = DIGITS_SIZES
    per_sample = hidden * (2 * nin + 1) + k * 2 * hidden + 3 * (k - 1) + 2 * k + (k - 1) + 3
    batches = -(-size // DIGITS_BATCH)
    return size * per_sample + size - batches + batches


def digits(size: int, make_model: Callable[[list[float]], tuple[Any, list]],
           step: Callable[[Any, list, list[list[float]], list[int]], Any] | None = None) -> Case:
    """One epoch of ``size`` digits in batches of 32, in order: forward, softmax cross-entropy, zero the
    gradients, backward, SGD update. ``step(model, params, images, labels) -> loss`` replaces the
    interpreted forward and backward (the compiled engine)."""
    from autograd_scalar.losses import softmax_cross_entropy

    flat, X, y, _ = digits_inputs(size)
    model, params = make_model(flat)

    def interpreted(model, params, images, labels):
        loss = softmax_cross_entropy([model(x) for x in images], labels)
        for p in params:
            p.grad = 0.0
        loss.backward()
        return loss.data

    one_batch = step or interpreted

    def run():
        for start in range(0, size, DIGITS_BATCH):
            one_batch(model, params, X[start : start + DIGITS_BATCH], y[start : start + DIGITS_BATCH])
            for p in params:
                p.data -= DIGITS_LR * p.grad

    def check():
        fresh, fresh_params = make_model(flat)
        loss = one_batch(fresh, fresh_params, X[:DIGITS_BATCH], y[:DIGITS_BATCH])
        return float(loss), [p.grad for p in fresh_params]

    return Case(run, check, digits_nodes(size))

"""The worked examples: small graphs with published numbers, built fresh on each call.

The command line (``autograd-scalar demo``, ``autograd-scalar step NAME``), the notebooks, the
README and the tests all take their examples from here, so a number quoted in one is the number
computed in the others.

>>> f, leaves = sigmoid_neuron()
>>> f.backward()
>>> round(f.data, 5), round(leaves["w0"].grad, 5), round(leaves["w2"].grad, 5)
(0.73106, -0.19661, 0.19661)
>>> sorted(EXAMPLES)
['branch', 'mazur', 'mlp', 'naive', 'sigmoid', 'tanh']
"""

from __future__ import annotations

from .engine import Value


def _labelled(node: Value, label: str) -> Value:
    node.label = label
    return node


def sigmoid_neuron() -> tuple[Value, dict[str, Value]]:
    """The CS231n neuron ``f = sigmoid(w0*x0 + w1*x1 + w2)`` with w = [2, -3, -3], x = [-1, -2].

    Returns ``(f, {name: leaf})``; nothing has been differentiated yet. ``w2`` is the bias: it is
    added, so its local derivative is 1 and its gradient is ``1 * df/dz`` (the CS231n question).

    >>> f, leaves = sigmoid_neuron()
    >>> f.parents[0].label, f.parents[0].data
    ('z', 1.0)
    """
    leaves = {
        "w0": Value(2.0, label="w0"),
        "x0": Value(-1.0, label="x0"),
        "w1": Value(-3.0, label="w1"),
        "x1": Value(-2.0, label="x1"),
        "w2": Value(-3.0, label="w2"),
    }
    w0, x0, w1, x1, w2 = leaves.values()
    z = _labelled(w0 * x0 + w1 * x1 + w2, "z")
    return _labelled(z.sigmoid(), "f"), leaves


def tanh_neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron ``o = tanh(x1*w1 + x2*w2 + b)``: x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432.

    The bias is chosen so that ``n = 0.8814`` and ``o = tanh(n) = 0.7071`` (1/sqrt(2)), hence
    ``do/dn = 1 - o**2 = 0.5``. Returns ``(o, {name: leaf})``.

    >>> o, leaves = tanh_neuron()
    >>> o.backward()
    >>> round(o.data, 4), round(leaves["w1"].grad, 4), round(leaves["x1"].grad, 4), leaves["w2"].grad
    (0.7071, 1.0, -1.5, 0.0)
    """
    leaves = {
        "x1": Value(2.0, label="x1"),
        "x2": Value(0.0, label="x2"),
        "w1": Value(-3.0, label="w1"),
        "w2": Value(1.0, label="w2"),
        "b": Value(6.8813735870195432, label="b"),
    }
    x1, x2, w1, w2, b = leaves.values()
    x1w1 = _labelled(x1 * w1, "x1*w1")
    x2w2 = _labelled(x2 * w2, "x2*w2")
    n = _labelled(_labelled(x1w1 + x2w2, "x1*w1 + x2*w2") + b, "n")
    return _labelled(n.tanh(), "o"), leaves


def mazur_network() -> tuple[Value, dict[str, Value]]:
    """Matt Mazur's "A Step by Step Backpropagation Example": a 2-2-2 sigmoid network.

    Inputs 0.05, 0.10; targets 0.01, 0.99; weights w1..w8 = 0.15 0.20 0.25 0.30 0.40 0.45 0.50
    0.55; biases b1 = 0.35 (both hidden units) and b2 = 0.60 (both outputs);
    ``E_total = sum 1/2 (target - out)**2``. Returns ``(E_total, {name: leaf})``.

    >>> E, leaves = mazur_network()
    >>> E.backward()
    >>> round(E.data, 9), round(leaves["w5"].grad, 9), round(leaves["w1"].grad, 9)
    (0.298371109, 0.082167041, 0.000438568)
    """
    names = ["i1", "i2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "b1", "b2"]
    numbers = [0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55, 0.35, 0.60]
    leaves = {name: Value(number, label=name) for name, number in zip(names, numbers)}
    i1, i2, w1, w2, w3, w4, w5, w6, w7, w8, b1, b2 = leaves.values()
    out_h1 = _labelled(_labelled(w1 * i1 + w2 * i2 + b1, "net_h1").sigmoid(), "out_h1")
    out_h2 = _labelled(_labelled(w3 * i1 + w4 * i2 + b1, "net_h2").sigmoid(), "out_h2")
    out_o1 = _labelled(_labelled(w5 * out_h1 + w6 * out_h2 + b2, "net_o1").sigmoid(), "out_o1")
    out_o2 = _labelled(_labelled(w7 * out_h1 + w8 * out_h2 + b2, "net_o2").sigmoid(), "out_o2")
    e_o1 = _labelled(0.5 * (0.01 - out_o1) ** 2, "E_o1")
    e_o2 = _labelled(0.5 * (0.99 - out_o2) ** 2, "E_o2")
    return _labelled(e_o1 + e_o2, "E_total"), leaves


def branch_example() -> Value:
    """``y = a*a + a`` at ``a = 3``: ``a`` feeds two operations, ``dy/da = 2a + 1 = 7``.

    >>> y = branch_example(); y.backward(); y.parents[1].grad
    7.0
    """
    a = Value(3.0, label="a")
    return _labelled(a * a + a, "y")


def naive_example() -> Value:
    """``b = a + a; c = b + b`` at ``a = 1``: the naive recursive pass gives ``dc/da = 6``, not 4.

    >>> c = naive_example(); c.data
    4.0
    """
    a = Value(1.0, label="a")
    b = _labelled(a + a, "b")
    return _labelled(b + b, "c")


def mlp_sample(hidden: tuple[int, ...] = (16, 16), seed: int = 0) -> tuple[Value, object]:
    """One training sample through ``MLP(2, [*hidden, 1])``: ``loss = (model(x) - y)**2``.

    ``x = (0.5, -1.0)`` labelled ``x0``, ``x1``; target ``y = 1``. Every ``Neuron`` call forms a
    group (see :mod:`autograd_scalar.scopes`), so the step-through shows 33 groups, not about 640
    nodes. Returns ``(loss, model)``.

    >>> loss, model = mlp_sample((4,))
    >>> loss.label, len(model.parameters())
    ('loss', 17)
    """
    from .nn import MLP

    model = MLP(2, [*hidden, 1], seed=seed)
    x = [Value(0.5, label="x0"), Value(-1.0, label="x1")]
    prediction = _labelled(model(x), "prediction")
    return _labelled((prediction - 1.0) ** 2, "loss"), model


EXAMPLES = {
    "sigmoid": "the CS231n neuron f = sigmoid(w0*x0 + w1*x1 + w2)",
    "tanh": "the lecture's neuron o = tanh(x1*w1 + x2*w2 + b)",
    "mazur": "Matt Mazur's 2-2-2 sigmoid network, E = sum 1/2 (target - out)**2",
    "branch": "y = a*a + a at a = 3: a feeds two operations, so its gradient is a sum (7)",
    "naive": "b = a + a; c = b + b at a = 1: where a naive recursive pass goes wrong",
    "mlp": "one sample through MLP(2, [16, 16, 1]), loss = (prediction - 1)**2, neuron by neuron",
}
"""The examples' names, as ``autograd-scalar step NAME`` takes them, and what each shows."""


def example(name: str) -> Value:
    """The output of the example called ``name`` (see :data:`EXAMPLES`), freshly built.

    >>> example("branch").data
    12.0
    >>> example("cs231n")
    Traceback (most recent call last):
    ...
    ValueError: example: unknown example 'cs231n'; choose one of sigmoid, tanh, mazur, branch, naive, mlp
    """
    builders = {
        "sigmoid": lambda: sigmoid_neuron()[0],
        "tanh": lambda: tanh_neuron()[0],
        "mazur": lambda: mazur_network()[0],
        "branch": branch_example,
        "naive": naive_example,
        "mlp": lambda: mlp_sample()[0],
    }
    if name not in builders:
        raise ValueError(f"example: unknown example {name!r}; choose one of {', '.join(EXAMPLES)}")
    return builders[name]()

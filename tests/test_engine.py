"""The engine: hand-derived gradients, accumulation, determinism, input checks, numerics, scale."""

from __future__ import annotations

import gc
import math
import operator
import random
import re
import sys
import threading
import tracemalloc
import weakref
from fractions import Fraction

import pytest
from conftest import require_module

from autograd_scalar import Value, detect_anomaly, grad
from autograd_scalar.engine import describe, topological_order
from autograd_scalar.rules import RULES, Rule
from autograd_scalar.testing.ops import random_expression

# ---- hand-derived cases ---------------------------------------------------------------------

CS231N = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}
# f = sigmoid(z), z = w0*x0 + w1*x1 + w2 = 1; df/dz = f(1-f); df/dw0 = x0 df/dz, df/dx0 = w0 df/dz, ...
F = 1 / (1 + math.exp(-1.0))
DZ = F * (1 - F)
EXPECTED = {"w0": -1.0 * DZ, "x0": 2.0 * DZ, "w1": -2.0 * DZ, "x1": -3.0 * DZ, "w2": 1.0 * DZ}


def _neuron(primitive: bool):
    v = {k: Value(x, label=k) for k, x in CS231N.items()}
    z = v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"]
    f = 1 / (1 + (-z).exp()) if primitive else z.sigmoid()
    return f, v


@pytest.mark.parametrize("primitive", [True, False], ids=["primitive-ops", "sigmoid"])
def test_cs231n_sigmoid_neuron(primitive):
    f, v = _neuron(primitive)
    f.backward()
    assert f.data == pytest.approx(0.7310585786300049, abs=1e-15)
    for name, expected in EXPECTED.items():
        assert v[name].grad == pytest.approx(expected, rel=1e-14), name
    assert round(v["x0"].grad, 4) == 0.3932 and round(v["x1"].grad, 4) == -0.5898
    assert round(v["w0"].grad, 4) == -0.1966 and round(v["w1"].grad, 4) == -0.3932
    assert round(v["w2"].grad, 4) == 0.1966


def test_node_used_twice_adds_both_paths():
    a = Value(3.0)
    y = a * a + a
    y.backward()
    assert y.data == 12.0 and a.grad == 7.0  # 2a + 1


def test_backward_twice_doubles_every_grad():
    x = Value(2.0)
    m = 2 * x
    y = m * 3
    y.backward()
    assert (x.grad, m.grad, y.grad) == (6.0, 3.0, 1.0)
    y.backward()
    assert (x.grad, m.grad, y.grad) == (12.0, 6.0, 2.0)  # micrograd's design gives x.grad == 18


def test_backward_twice_on_a_cube():
    x = Value(3.0)
    y = x * x * x
    y.backward()
    y.backward()
    assert x.grad == 54.0  # 2 * 3x**2; re-propagating interior grads would give 72


def test_grads_are_floats():
    x = Value(2)
    (x * 3).backward()
    assert type(x.data) is float and type(x.grad) is float


# ---- structure --------------------------------------------------------------------------------


def test_structure_op_parents_args_label():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    assert (a.op, a.parents, a.label) == ("", (), "a")
    assert c.op == "mul" and c.parents == (a, b) and c.label == ""
    d = b - a
    assert d.parents == (b, a)  # argument order, not creation order
    e = 3 - a
    assert e.op == "sub" and e.parents == (a,) and e.args == (3.0, a)
    assert type(e.args[0]) is float


def test_order_is_deterministic():
    def build():
        xs = [Value(float(i)) for i in range(6)]
        y = xs[0]
        for i, x in enumerate(xs[1:]):
            y = (y * x + xs[i]).tanh() + x
        return y

    ops1 = [(n.op, n.data) for n in topological_order(build())]
    ops2 = [(n.op, n.data) for n in topological_order(build())]
    assert ops1 == ops2
    order = topological_order(build())
    position = {n: i for i, n in enumerate(order)}
    assert all(position[p] < position[n] for n in order for p in n.parents)


def _post_order(root):
    """The textbook order: a recursive depth-first search, parents in argument order, each node
    after its parents (fine for the small graphs below)."""
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(root)
    return order


def test_order_is_the_depth_first_post_order_on_random_dags():
    rng = random.Random(7)
    shared = 0
    for _ in range(2000):
        expression, inputs = random_expression(rng, max_nodes=16, max_inputs=4)
        shared += expression.shared()
        out = expression(*(Value(a) for a in inputs))
        assert topological_order(out) == _post_order(out), str(expression)
    assert shared > 500  # nodes reached by two paths, where the order could go wrong, are common


def test_identity_hashing_and_no_value_equality():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2
    assert Value.__eq__ is object.__eq__ and Value.__hash__ is object.__hash__


def test_orderings_compare_data_and_make_no_node():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and not a > b
    assert a < 1.5 and 0.5 < a and a >= 1 and a <= Fraction(1, 1)
    assert max([a, b]) is b and sorted([b, a]) == [a, b]
    assert a != Value(1.0)  # equality stays identity
    with pytest.raises(TypeError, match=r"<: expected a real number or a Value, got 'x'"):
        operator.lt(a, "x")
    with pytest.raises(ValueError, match=r">=: expected a finite number, got nan"):
        operator.ge(a, math.nan)


def test_numpy_maximum_selects_values():
    np = require_module("numpy", "pip install numpy")
    x = np.array([Value(-1.0), Value(2.0)], dtype=object)
    y = np.maximum(x, 0)
    assert y[0] == 0 and y[1] is x[1]


def test_repr_is_short_and_flat():
    x = Value(2.0, label="x")
    y = x
    for _ in range(5000):
        y = y + 1
    assert repr(x) == "Value(data=2.0, grad=0.0, label='x')"
    assert repr(y).startswith("Value(data=5002.0") and "op='add'" in repr(y)


def test_describe_names_nodes():
    x = Value(4.0, label="x")
    assert describe(x) == "'x'" and describe(x.sqrt()) == "sqrt(x)" and describe(Value(1.0)) == "leaf 1.0"


# ---- inputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [3, 2.5, Fraction(1, 4), -0.0], ids=repr)
def test_accepts_real_numbers(number):
    assert Value(number).data == float(number) and type(Value(number).data) is float


def test_accepts_numpy_numbers():
    np = require_module("numpy", "pip install numpy")
    for number in (np.float64(1.5), np.float32(0.25), np.int64(3)):
        v = Value(number)
        assert type(v.data) is float and v.data == float(number)
        assert (v * number).data == float(number) ** 2


@pytest.mark.parametrize("bad", [True, False, "1.0", "aaa", None, 1j, complex(1, 0), [1.0], (1.0,), {"a": 1}, {1.0}])
def test_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=r"Value: expected a real number.*" + _escaped(bad)):
        Value(bad)


def _escaped(x):
    import re

    return re.escape(repr(x))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_rejects_non_finite(bad):
    with pytest.raises(ValueError, match=r"Value: expected a finite number, got " + _escaped(bad)):
        Value(bad)


def test_rejects_value_of_value_and_bad_label():
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
@pytest.mark.parametrize("bad", ["aaa", None, True, 2j, [1]], ids=repr)
def test_operators_reject_non_numbers_on_either_side(op, bad):
    x = Value(2.0)
    with pytest.raises(TypeError, match=_escaped(bad)):
        op(x, bad)
    with pytest.raises(TypeError):
        op(bad, x)


def test_string_times_value_is_an_error_not_repetition():
    with pytest.raises(TypeError, match="'aaa'"):
        Value(3.0) * "aaa"


# ---- operators on either side ----------------------------------------------------------------


def test_reflected_operators():
    x = Value(2.0)
    cases = {
        "2 + x": (2 + x, 4.0, 1.0),
        "2 - x": (2 - x, 0.0, -1.0),
        "2 * x": (2 * x, 4.0, 2.0),
        "2 / x": (2 / x, 1.0, -0.5),
        "2 ** x": (2**x, 4.0, 4.0 * math.log(2.0)),
        "-x": (-x, -2.0, -1.0),
        "x ** x": (x**x, 4.0, 4.0 * (1 + math.log(2.0))),
        "abs(-x)": (abs(-x), 2.0, 1.0),
        "x.sqrt()": (x.sqrt(), math.sqrt(2.0), 0.5 / math.sqrt(2.0)),
    }
    for name, (y, value, derivative) in cases.items():
        (g,) = grad(y, [x])
        assert y.data == pytest.approx(value, rel=1e-15), name
        assert g.data == pytest.approx(derivative, rel=1e-15), name


# ---- numerics ----------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [1000.0, -1000.0, 750.0, -750.0])
def test_sigmoid_and_tanh_are_stable_far_out(x):
    for method, limit in (("sigmoid", 1.0 if x > 0 else 0.0), ("tanh", math.copysign(1.0, x))):
        v = Value(x)
        y = getattr(v, method)()
        y.backward()
        assert y.data == limit and v.grad == 0.0, method


def test_relu_derivative_at_zero_is_zero():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda x: Value(710.0, label="x").exp(), OverflowError, r"exp: result overflows for input 710.0 \(node 'x'\)"),
        (lambda x: Value(1e308, label="x") * 10, OverflowError, r"mul: result overflows to inf for input 1e\+308"),
        (lambda x: Value(1e308) + 1e308, OverflowError, "add: result overflows"),
        (lambda x: Value(0.0, label="x").log(), ValueError, r"log: input must be > 0, got 0.0 \(node 'x'\)"),
        (lambda x: Value(-3.0, label="x").log(), ValueError, r"log: input must be > 0, got -3.0 \(node 'x'\)"),
        (lambda x: Value(1.0) / Value(0.0, label="d"), ZeroDivisionError, r"div: division by zero.*'d'"),
        (lambda x: 1 / Value(0.0), ZeroDivisionError, "div: division by zero"),
        (lambda x: Value(-8.0, label="b") ** (1 / 3), ValueError, r"pow: negative base -8.0 .* \(node 'b'\)"),
        (lambda x: (-8.0) ** Value(0.5), ValueError, "rpow: negative base -8.0"),
        (lambda x: Value(0.0) ** -1, ZeroDivisionError, "pow: zero base"),
        (lambda x: Value(10.0) ** 400, OverflowError, "pow: result overflows"),
        (lambda x: Value(-1.0, label="s").sqrt(), ValueError, r"sqrt: input must be >= 0, got -1.0 \(node 's'\)"),
    ],
)
def test_errors_name_the_op_and_value(build, error, message):
    with pytest.raises(error, match=message):
        build(None)


def test_negative_base_with_integer_exponent_is_fine():
    x = Value(-2.0)
    y = x**3
    y.backward()
    assert y.data == -8.0 and x.grad == 12.0


def test_no_silent_nan_or_inf_in_backward():
    a, b, c = Value(1e300, label="a"), Value(1e-300, label="b"), Value(1e300, label="c")
    w = a * b * c  # finite forward; dw/db = a * c overflows
    with pytest.raises(FloatingPointError, match="gradient of 'b' is inf"):
        w.backward()
    with pytest.raises(FloatingPointError, match=r"mul\(a, b\) sent the non-finite gradient inf to its input .b."):
        w.backward(check_finite=True)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="detect_anomaly"):
        w.backward()


def test_anomaly_names_the_sqrt_at_zero():
    x = Value(0.0, label="x")
    y = x.sqrt() * 0 + x
    with detect_anomaly(), pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(x\) = 0.0.*0.5/out"):
        y.backward()


# ---- grad() and higher order -------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad_and_unused_input_gets_zero():
    x, y, unused = Value(2.0), Value(3.0), Value(5.0)
    f = x * y + x
    gx, gu = grad(f, [x, unused])
    assert (gx.data, gu.data) == (4.0, 0.0)
    assert all(v.grad == 0.0 for v in (x, y, unused, f))
    (g,) = grad(f, x)
    assert g.data == 4.0


def test_grad_rejects_non_values():
    with pytest.raises(TypeError, match="output must be a Value"):
        grad(3.0, [Value(1.0)])
    with pytest.raises(TypeError, match="inputs must be Values"):
        grad(Value(1.0), [1.0])


def _derivatives(f, x0: float, order: int) -> list[float]:
    x = Value(x0)
    y = f(x)
    out = []
    for _ in range(order):
        (y,) = grad(y, [x], create_graph=True)
        out.append(y.data)
    return out


@pytest.mark.parametrize(
    "name, f, x0, expected",
    [
        ("x**3", lambda x: x**3, 1.7, lambda x: [3 * x**2, 6 * x, 6.0]),
        ("tanh", lambda x: x.tanh(), 0.4, lambda x: [
            1 - math.tanh(x) ** 2,
            -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
            -2 * (1 - math.tanh(x) ** 2) ** 2 + 4 * math.tanh(x) ** 2 * (1 - math.tanh(x) ** 2),
        ]),
        ("sigmoid", lambda x: x.sigmoid(), -0.3, lambda x: [
            (s := 1 / (1 + math.exp(-x))) * (1 - s),
            s * (1 - s) * (1 - 2 * s),
            s * (1 - s) * (1 - 6 * s + 6 * s * s),
        ]),
        ("exp", lambda x: x.exp(), 0.8, lambda x: [math.exp(x)] * 3),
        ("log", lambda x: x.log(), 1.3, lambda x: [1 / x, -1 / x**2, 2 / x**3]),
        ("x**2.5", lambda x: x**2.5, 1.2, lambda x: [2.5 * x**1.5, 3.75 * x**0.5, 1.875 * x**-0.5]),
        ("2**x", lambda x: 2.0**x, 0.7, lambda x: [2**x * math.log(2) ** k for k in (1, 2, 3)]),
        ("x**x", lambda x: x**x, 1.1, lambda x: [
            x**x * (1 + math.log(x)),
            x**x * ((1 + math.log(x)) ** 2 + 1 / x),
            x**x * ((1 + math.log(x)) ** 3 + 3 * (1 + math.log(x)) / x - 1 / x**2),
        ]),
    ],
)
def test_third_derivatives_match_hand_formulas(name, f, x0, expected):
    assert _derivatives(f, x0, 3) == pytest.approx(expected(x0), rel=1e-12)


def test_mixed_second_derivative():
    x, y = Value(0.5), Value(-1.5)
    f = (x * y).tanh() + x.log()
    gx, gy = grad(f, [x, y], create_graph=True)
    (gxy,) = grad(gx, [y])  # d2f/dxdy = sech^2(xy) (1 - 2xy tanh(xy))
    t = math.tanh(x.data * y.data)
    assert gxy.data == pytest.approx((1 - t * t) * (1 - 2 * x.data * y.data * t), rel=1e-13)


# ---- scale and memory ------------------------------------------------------------------------------


def _chain(n: int):
    x = Value(0.5)
    y = x
    for _ in range(n // 2):
        y = y * 0.999999 + 1e-6
    return x, y


def test_million_node_chain_with_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x, y = _chain(1_000_000)
    y.backward()
    assert x.grad == pytest.approx(0.999999**500_000, rel=1e-9)
    assert len(repr(y)) < 200
    del y  # freed by reference counting, without recursion


def test_bytes_per_binary_op_node_at_most_250():
    gc.collect()
    tracemalloc.start()
    try:
        x, y = _chain(200_000)
        y.backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / 200_000 <= 250


def test_dropped_graph_is_freed_by_reference_counting_alone():
    gc.collect()
    gc.disable()
    try:
        x = Value(1.0)
        y = x
        for _ in range(1000):
            y = (y * 1.0001).tanh() + x
        y.backward()
        probes = [weakref.ref(node) for node in topological_order(y) if node is not x]
        assert len(probes) == 3000  # mul, tanh, add per step
        del y
        assert [p for p in probes if p() is not None] == []  # every interior node is gone
    finally:
        gc.enable()


# ---- the walk's bookkeeping: partial sums live in the nodes while backward runs -----------------


def test_a_failed_backward_leaves_nothing_behind():
    x, z = Value(2.0, label="x"), Value(0.0, label="z")
    h = x * 3.0
    bad = z.sqrt() + h * 1.0  # d sqrt(z)/dz is infinite at 0: the walk stops part-way
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(z\)"):
        bad.backward()
    for node in topological_order(bad):
        node.grad = 0.0
    good = h * h  # shares h and x with the failed walk
    good.backward()
    assert (x.grad, h.grad, good.grad) == (36.0, 12.0, 1.0)  # no partial sum of the failed walk remains


def test_a_failed_create_graph_walk_frees_its_partial_gradients():
    x = Value(0.0, label="x")
    y = (x * x).sqrt() + x * x
    probes = []
    real_mul = Value.__mul__

    def spy(self, other):  # the gradient graph's products (local * upstream) come through here
        node = real_mul(self, other)
        probes.append(weakref.ref(node))
        return node

    try:
        Value.__mul__ = spy
        with pytest.raises(ZeroDivisionError):
            grad(y, [x], create_graph=True)
    finally:
        Value.__mul__ = real_mul
    gc.collect()  # the traceback's frames form a cycle; the nodes' marks must not keep anything
    assert probes and all(p() is None for p in probes)


def test_backward_inside_backward_is_an_error_not_a_hang(monkeypatch):
    x = Value(2.0, label="x")
    inner = x * 5.0

    def calls_backward(out, a):
        inner.backward()
        return (1.0,)

    monkeypatch.setitem(RULES, "tanh", Rule("tanh", calls_backward, ("1",)))
    raised = []

    def outer():
        with pytest.raises(RuntimeError, match="backward: called from inside a backward pass") as info:
            x.tanh().backward()
        raised.append(info.value)

    worker = threading.Thread(target=outer, daemon=True)  # a hang fails the test instead of the run
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive() and len(raised) == 1
    monkeypatch.undo()
    x.grad = 0.0
    (x.tanh() * 2.0).backward()  # the engine is usable again
    assert x.grad == pytest.approx(2.0 * (1 - math.tanh(2.0) ** 2))


def test_threads_backward_through_one_graph_without_losing_an_update():
    x = Value(0.5, label="x")
    y = x
    for _ in range(200):
        y = y * 1.001 + x
    (expected,) = grad(y, [x])
    rounds = 50

    def work():
        for _ in range(rounds):
            y.backward()

    threads = [threading.Thread(target=work) for _ in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, so that races show
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert x.grad == pytest.approx(4 * rounds * expected.data, rel=1e-12)


def test_hooks_see_every_made_node_and_every_ordering_and_nest():
    """engine._hooked: what no_grad, scope and the compiler's tracer build on; removed on exit, even on error."""
    from autograd_scalar import engine

    x = Value(2.0)
    made, told = [], []
    with engine._hooked(make=lambda n: made.append(n) or n):
        with engine._hooked(compare=lambda *event: told.append(event)):
            y = (x * 3).tanh()
            assert (y < 0.5) is False and (3 > x) is True
        z = x + 1
    assert made == [y.parents[0], y, z]
    assert [(op, outcome) for op, _, _, outcome in told] == [("<", False), ("<", True)]  # 3 > x is x < 3
    with pytest.raises(KeyError):
        with engine._hooked(make=lambda n: n):
            raise KeyError("x")
    assert engine._make_hooks == () and engine._compare_hooks == ()
    leafy = engine._hooked(make=lambda n: Value(n.data))
    with leafy:
        w = x * x
    assert w.op == "" and w.parents == () and w.data == 4.0


# ---- what PyTorch and micrograd users type (#16) ---------------------------------------------------


def _grads(out, *inputs):
    return tuple(g.data for g in grad(out, list(inputs)))


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda a, b: 0 ** b, (0.0, 0.0)),  # rpow at a zero base: d/db = 0 (PyTorch's limit)
        (lambda a, b: a ** b, (0.0, 0.0)),  # Value(0) ** Value(2)
        (lambda a, b: a ** 0.0 * b, (0.0, 1.0)),  # d/dx x**0 = 0, even at x = 0
        (lambda a, b: a ** (b - 2.0), (0.0, 0.0)),  # Value(0) ** Value(0): 1, both derivatives 0
        (lambda a, b: a ** 3 + a ** b, (0.0, 0.0)),
    ],
    ids=["0**b", "0**b (vpow)", "x**0 at 0", "0**0 (vpow)", "x**3 + x**b at 0"],
)
def test_powers_at_a_zero_base_take_pytorchs_limits(build, expected):
    a, b = Value(0.0, label="a"), Value(2.0, label="b")
    assert _grads(build(a, b), a, b) == expected


def test_powers_at_a_zero_base_agree_with_torch(torch):
    cases = [(0.0, 2.0), (0.0, 3.0), (0.0, 1.0), (0.0, 0.0), (2.0, 0.0), (-2.0, 0.0)]
    for a0, b0 in cases:
        a, b = Value(a0), Value(b0)
        ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a0, b0))
        if a0 >= 0:
            ours = _grads(a**b, a, b)
            theirs = [g.item() for g in torch.autograd.grad(ta**tb, [ta, tb])]
            assert ours == pytest.approx(theirs, abs=0), (a0, b0)
        ours_pow = _grads(a**b0, a)
        theirs_pow = torch.autograd.grad(ta**b0, [ta])[0].item()
        assert ours_pow == pytest.approx((theirs_pow,), abs=0), (a0, b0)


def test_negative_base_with_a_value_exponent_names_vpow_never_nan():
    a, b = Value(-2.0, label="a"), Value(2.0, label="b")
    y = a**b
    assert y.data == 4.0
    with pytest.raises(ValueError, match=r"backward through vpow\(a, b\) = 4.0.*negative base -2.0.*b.item\(\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"rpow.*negative base -2.0"):
        ((-2.0) ** b).backward()
    a.grad = b.grad = 0.0
    (a ** b.item()).backward()  # a constant exponent: the base's derivative exists
    assert a.grad == -4.0


def test_bool_is_data_not_zero():
    assert not Value(0.0) and not Value(-0.0)
    assert Value(1e-300) and Value(-2.0)
    loss = Value(3.0) - 3
    assert (1 if loss else 0) == 0


def test_item_and_format_give_the_number():
    v = Value(1 / 3, label="v")
    assert v.item() == 1 / 3 and type(v.item()) is float
    assert f"{v:.4f}" == "0.3333" and format(v, "e") == format(1 / 3, "e")
    assert f"{v}" == repr(v) == str(v)


@pytest.mark.parametrize(
    "call", [float, int, math.exp, lambda v: math.isclose(v, 1.0)], ids=["float", "int", "exp", "isclose"]
)
def test_float_and_math_say_how_to_get_the_number_or_stay_in_the_graph(call):
    with pytest.raises(TypeError, match=r"v\.item\(\).*v\.exp\(\)"):
        call(Value(1.0))


def test_no_grad_makes_leaves_and_nests_and_ends():
    from autograd_scalar import engine, no_grad

    x = Value(2.0)
    with no_grad():
        y = (x * x).tanh() + x.sin()
        with no_grad():
            z = x ** Value(2.0)
    assert (y.op, y.parents, z.op, z.parents) == ("", (), "", ())
    assert y.data == math.tanh(4.0) + math.sin(2.0) and z.data == 4.0
    assert engine._make_hooks == ()
    assert (x * x).parents == (x, x)  # after the block, graphs again

    @no_grad()
    def evaluate(v):
        return v * 3

    assert evaluate(x).parents == () and (x * 3).parents == (x,)
    with pytest.raises(KeyError), no_grad():
        raise KeyError("x")
    assert engine._make_hooks == ()


def test_no_grad_is_exported():
    import autograd_scalar

    assert autograd_scalar.no_grad is autograd_scalar.engine.no_grad and "no_grad" in autograd_scalar.__all__


def test_detach_is_a_leaf_with_the_same_data():
    x = Value(3.0, label="x")
    y = x * x
    d = y.detach()
    assert (d.data, d.op, d.parents, d.grad) == (9.0, "", (), 0.0) and d is not y
    (d * x).backward()
    assert x.grad == 9.0 and y.grad == 0.0  # nothing reached y's graph through d


def test_backward_gradient_seeds_the_root():
    x = Value(2.0)
    y = x * x
    y.backward(gradient=0.5)
    assert (y.grad, x.grad) == (0.5, 2.0)
    y.backward(3)
    assert x.grad == 2.0 + 12.0
    for bad, error in [(math.nan, ValueError), ("1", TypeError), (True, TypeError), (10**400, ValueError)]:
        with pytest.raises(error, match="backward"):
            y.backward(bad)


def test_an_input_the_output_does_not_depend_on_keeps_grad_zero():
    x, unused = Value(2.0), Value(5.0)
    (x * 3).backward()
    assert (x.grad, unused.grad) == (3.0, 0.0)


# ---- copies and pickles: never a RecursionError ------------------------------------------------


def _labelled_graph():
    x, w = Value(0.5, label="x"), Value(-1.5, label="w")
    h = (x * w).tanh()
    y = h * h + x
    y.backward()
    return x, w, h, y


def test_copy_copy_shares_the_parents():
    import copy

    x, w, h, y = _labelled_graph()
    c = copy.copy(y)
    assert c is not y and c.parents == y.parents and (c.data, c.grad, c.op) == (y.data, y.grad, y.op)
    before = x.grad
    c.backward()
    assert x.grad == pytest.approx(2 * before)  # through the copy, the original leaves receive gradient
    c.data = 0.0
    assert y.data != 0.0


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_deepcopy_and_pickle_copy_the_graph_and_keep_shared_nodes_shared(how):
    import copy
    import pickle

    x, w, h, y = _labelled_graph()
    if how == "deepcopy":
        y2, x2, h2 = copy.deepcopy([y, x, h])
    else:
        y2, x2, h2 = pickle.loads(pickle.dumps([y, x, h]))
    assert [(n.data, n.grad, n.label, n.op) for n in topological_order(y2)] == [
        (n.data, n.grad, n.label, n.op) for n in topological_order(y)
    ]
    assert y2.parents[1] is x2 and h2 in y2.parents[0].parents  # the same nodes, not copies of them
    assert not set(topological_order(y2)) & set(topological_order(y))
    x2.grad = 0.0
    y2.backward()
    assert x2.grad == pytest.approx(x.grad) and x.grad == pytest.approx(x.grad)  # the original is untouched


def test_a_million_node_chain_deepcopies_and_pickles():
    import copy
    import pickle

    assert sys.getrecursionlimit() <= 10_000
    x, y = _chain(1_000_000)
    z = copy.deepcopy(y)
    assert z.data == y.data and z is not y
    del z
    restored = pickle.loads(pickle.dumps(y))
    assert restored.data == y.data
    restored.backward()
    leaf = topological_order(restored)[0]
    assert leaf.grad == pytest.approx(0.999999**500_000, rel=1e-9) and x.grad == 0.0


def test_an_abandoned_pickle_leaves_nothing_that_breaks_the_next():
    import pickle

    x, y = _chain(50_000)

    class Full:
        def write(self, data):
            raise OSError("disk full")

    with pytest.raises(OSError):
        pickle.Pickler(Full()).dump(y)
    assert pickle.loads(pickle.dumps(y)).data == y.data


# ---- micrograd's names --------------------------------------------------------------------------


def test_micrograd_prev_and_op_work_so_its_draw_dot_runs():
    def trace(root):  # micrograd's trace_graph.ipynb, verbatim
        nodes, edges = set(), set()

        def build(v):
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    build(child)

        build(root)
        return nodes, edges

    a, b = Value(2.0), Value(-3.0)
    y = (a * b + a).relu()
    nodes, edges = trace(y)
    assert len(nodes) == 5 and len(edges) == 5  # a, b, a*b, +a, relu
    assert [n._op for n in (y, y.parents[0], a)] == ["relu", "+", ""]


def test_micrograd_constructor_and_backward_closure_say_what_to_do():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match=r"Value\(data, _children, _op\).*a \+ b.*define_op"):
        Value(3.0, (a, b), "+")
    with pytest.raises(TypeError, match="define_op"):
        Value(3.0, (a, b))
    with pytest.raises(AttributeError, match=r"RULES\[v.op\].*backward\(\).*trace_backward"):
        (a + b)._backward()
    with pytest.raises(AttributeError, match="'Value' object has no attribute 'foo'"):
        a.foo  # noqa: B018
    with pytest.raises(AttributeError):  # __slots__: per-parameter state goes in a dict keyed by the Value
        a.m = 0


def test_one_rule_for_fractions_and_decimals():
    from decimal import Decimal

    assert Value(Fraction(1, 3)).data == 1 / 3 and Value(Decimal("0.1")).data == 0.1
    assert (Value(2.0) * Decimal("1.5")).data == 3.0 and (Decimal("1.5") + Value(1.0)).data == 2.5
    assert Value(Fraction(1, 10**400)).data == 0.0  # rounded to the nearest float, as float() does


def test_a_bool_is_refused_saying_why():
    with pytest.raises(TypeError, match=r"got True \(bool\).*comparison"):
        Value(True)
    with pytest.raises(TypeError, match="mul: .*False"):
        Value(1.0) * False


# ---- #15: no silent inf in .grad, numbers outside float range named ------------------------------


def test_an_accumulated_grad_that_overflows_is_named_not_silent():
    x = Value(1.0, label="x")
    y = x * 1e308
    y.backward()
    with pytest.raises(FloatingPointError, match=r"'x''s .grad 1e\+308 \+ this pass's 1e\+308 is inf.*zero_grad"):
        y.backward()
    assert x.grad == 1e308
    for check in ({"check_finite": True}, {}):
        with pytest.raises(FloatingPointError, match="'x'"):
            y.backward(**check)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="'x'"):
        y.backward()


def test_exp_near_its_limit_twice_is_named():
    x = Value(709.78, label="x")
    y = x.exp()
    y.backward()
    with pytest.raises(FloatingPointError, match=r"exp\(x\)'s .grad|'x''s .grad"):
        y.backward()


@pytest.mark.parametrize(
    "build, error, word",
    [
        (lambda x: Value(10**400), ValueError, "Value: expected a number within the float range"),
        (lambda x: Value(-(10**400)), ValueError, "Value: "),
        (lambda x: x + 10**400, ValueError, "add: "),
        (lambda x: 10**400 * x, ValueError, "mul: "),
        (lambda x: x < 10**400, ValueError, "<: "),
        (lambda x: x ** 10**400, ValueError, "pow: "),
        (lambda x: Value(Fraction(10**400, 3)), ValueError, "Value: "),
        (lambda x: Value(10**5000), ValueError, "an int of about 5000 digits"),
    ],
    ids=["Value", "-Value", "add", "rmul", "lt", "pow", "Fraction", "5000 digits"],
)
def test_numbers_beyond_float_range_are_named(build, error, word):
    with pytest.raises(error, match=re.escape(word)) as info:
        build(Value(1.0))
    assert "1000000000" in str(info.value) or "digits" in str(info.value)


def test_numpy_durations_are_not_numbers():
    np = require_module("numpy", "pip install numpy")
    with pytest.raises(TypeError, match=r"Value: expected a real number or a Value, got .*timedelta64"):
        Value(np.timedelta64(3, "D"))
    with pytest.raises(TypeError, match="add: "):
        Value(1.0) + np.timedelta64(1, "ns")


def test_bool_is_a_branch_the_compare_hooks_see_so_compile_guards_it():
    import autograd_scalar as ag
    from autograd_scalar import engine

    told = []
    x = Value(1.0)
    with engine._hooked(compare=lambda *event: told.append(event)):
        assert not (x - 1.0) and x
    assert [(op, other, outcome) for op, _, other, outcome in told] == [("!=", 0.0, False), ("!=", 0.0, True)]

    def f(x):
        return x * 3 if x - 1.0 else x * 5  # traced at 2.0, then called where the branch turns

    compiled = ag.compile(f)
    for point in (2.0, 1.0, 3.0):
        a, b = Value(point), Value(point)
        out = compiled(a)
        f(b).backward()
        assert (out, a.grad) == (f(Value(point)).data, b.grad)


def test_micrograds_own_test_suite_passes_with_its_import_changed(torch):
    """micrograd's test/test_engine.py (MIT), its two tests written as one: the same code on Value and on torch."""

    def sanity(V):
        x = V(-4.0)
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        y = h + q + q * x
        y.backward()
        return [y.item(), x.grad.item() if hasattr(x.grad, "shape") else x.grad]

    def more_ops(V):
        a, b = V(-4.0), V(2.0)
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        e = c - d
        f = e**2
        g = f / 2.0
        g = g + 10.0 / f
        g.backward()
        return [g.item()] + [v.grad.item() if hasattr(v.grad, "shape") else v.grad for v in (a, b)]

    def tensor(x):
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    assert sanity(Value) == sanity(tensor)
    assert more_ops(Value) == pytest.approx(more_ops(tensor), abs=1e-6)


def test_second_derivatives_at_a_zero_base_are_the_limits():
    a, b = Value(0.0), Value(2.0)
    da, db = grad(a**b, [a, b], create_graph=True)
    hessian = [[g.data for g in grad(first, [a, b])] for first in (da, db)]
    assert hessian == [[2.0, 0.0], [0.0, 0.0]]  # b(b-1)a**(b-2) = 2; a**(b-1)(1 + b log a) -> 0; out log(a)**2 -> 0
    with pytest.raises(ZeroDivisionError, match=r"backward through vpow\(0.0, 0.5\).*d/da = b \* a\*\*\(b-1\)"):
        (a ** Value(0.5)).backward()  # d/da = 0.5 / sqrt(a) is infinite at 0: an error, not inf

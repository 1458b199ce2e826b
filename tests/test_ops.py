"""define_op: a user's operation is one row of the rule table, and then everything that reads the
table works on it: backward, grad(create_graph=True), gradcheck, no_grad, the step-through, the
drawings and compile (bit for bit the interpreter's). Bad definitions and bad inputs are named."""

from __future__ import annotations

import math

import pytest

import autograd_scalar as ag
from autograd_scalar import Value, define_op, grad, gradcheck, gradgradcheck, no_grad
from autograd_scalar.engine import topological_order
from autograd_scalar.rules import RULES, cos, exp, log


@pytest.fixture(autouse=True)
def _table_restored():
    """Each test's operations leave the table as it found it."""
    saved = dict(RULES)
    yield
    RULES.clear()
    RULES.update(saved)


def _sine():
    return define_op("sine", math.sin, lambda out, x: (cos(x),), words=("cos(x)",))


def _hypot():
    return define_op("hypot", math.hypot, lambda out, a, b: (a / out, b / out), words=("a/out", "b/out"))


def test_the_readme_sine_matches_the_built_in_sin():
    sine = _sine()
    x1, x2 = Value(0.7, label="x"), Value(0.7, label="x")
    y1, y2 = (sine(x1 * x1) * x1).exp(), (x2 * x2).sin().__mul__(x2).exp()
    y1.backward()
    y2.backward()
    assert (y1.data, x1.grad) == (y2.data, x2.grad)  # the same floats, the same rule: bit for bit
    assert y1.parents[0].parents[0].op == "sine" and RULES["sine"].words == ("cos(x)",)


def test_backward_and_higher_orders_against_hand_formulas():
    sine = _sine()
    x = Value(0.3)
    (d1,) = grad(sine(x), [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    assert (d1.data, d2.data, d3.data) == pytest.approx((math.cos(0.3), -math.sin(0.3), -math.cos(0.3)), rel=1e-15)


def test_a_binary_operation_with_constants_on_either_side():
    hypot = _hypot()
    a, b = Value(3.0), Value(4.0)
    y = hypot(a, b)
    y.backward()
    assert (y.data, a.grad, b.grad) == (5.0, 0.6, 0.8)
    assert hypot(a, 4).args == (a, 4.0) and hypot(3, b).parents == (b,)
    assert gradcheck(lambda a, b: hypot(a, b) * a, [1.3, -0.4]) and gradgradcheck(hypot, [1.3, -0.4])


def test_gradcheck_catches_a_wrong_rule():
    wrong = define_op("wrong_sine", math.sin, lambda out, x: (-cos(x),))
    with pytest.raises(ag.GradcheckError, match=r"\*"):
        gradcheck(wrong, [0.4])
    floats_only = define_op("float_sine", math.sin, lambda out, x: (math.cos(x if x.__class__ is float else x.data),))
    assert gradcheck(floats_only, [0.4])
    with pytest.raises(ag.GradcheckError):
        gradgradcheck(floats_only, [0.4])  # first order right, second order caught


def test_on_plain_numbers_it_is_a_plain_function_so_rules_can_use_it():
    sine = _sine()
    assert sine(0.5) == math.sin(0.5) and type(sine(1)) is float
    cosine = define_op("cosine", math.cos, lambda out, x: (-sine(x),), words=("-sine(x)",))
    x = Value(0.25)
    (d1,) = grad(cosine(x), [x], create_graph=True)  # -sine(x) on a Value: a node
    (d2,) = grad(d1, [x])
    assert (d1.data, d2.data) == pytest.approx((-math.sin(0.25), -math.cos(0.25)), rel=1e-15)


def test_no_grad_and_the_step_through_and_the_drawings():
    from autograd_scalar.stepthrough import replay, trace_backward
    from autograd_scalar.viz import to_dot, to_svg

    sine = _sine()
    with no_grad():
        assert sine(Value(1.0)).parents == ()
    x = Value(0.9, label="x")
    y = sine(x * x)
    steps = trace_backward(y)
    assert [s.node for s in steps] == list(reversed(topological_order(y)))
    replay(steps)
    replayed = x.grad
    x.grad = 0.0
    for node in topological_order(y):
        node.grad = 0.0
    y.backward()
    assert replayed == x.grad
    assert "sine" in to_dot(y) and "sine" in to_svg(y)


def test_compile_gives_the_interpreters_bits():
    sine, hypot = _sine(), _hypot()

    def fn(x, w):
        return hypot(sine(x * w), w) + 2.0 * x

    leaves = [Value(0.4), Value(-1.1)]
    out = fn(*leaves)
    out.backward()
    fresh = [Value(0.4), Value(-1.1)]
    compiled = ag.compile(fn)(*fresh)
    assert compiled.hex() == out.data.hex()
    assert [v.grad.hex() for v in fresh] == [v.grad.hex() for v in leaves]


def test_redefining_replaces_and_built_ins_are_refused():
    _sine()
    twice = define_op("sine", math.sin, lambda out, x: (2 * cos(x),))
    x = Value(0.0)
    twice(x).backward()
    assert x.grad == 2.0
    with pytest.raises(ValueError, match="define_op: 'sin' is a built-in operation"):
        define_op("sin", math.sin, lambda out, x: (cos(x),))


@pytest.mark.parametrize(
    "args, error, message",
    [
        (("no good", math.sin, lambda out, x: (1.0,)), ValueError, "ASCII identifier"),
        (("sïne", math.sin, lambda out, x: (1.0,)), ValueError, "ASCII identifier"),
        (("ok", "sin", lambda out, x: (1.0,)), TypeError, "forward must be a function"),
        (("ok", math.sin, math.cos), TypeError, "local must be a def or lambda"),
        (("ok", math.sin, lambda out, *xs: (1.0,)), TypeError, "local must be a def or lambda"),
        (("ok", math.sin, lambda out, a, b, c: (1.0,)), ValueError, "takes 3 inputs; an operation takes one or two"),
        (("ok", math.sin, lambda out: ()), ValueError, "takes 0 inputs"),
    ],
)
def test_bad_definitions_are_named(args, error, message):
    with pytest.raises(error, match=message):
        define_op(*args)
    with pytest.raises(ValueError, match=r"words must be 1 string\(s\)"):
        define_op("ok", math.sin, lambda out, x: (cos(x),), words=("a", "b"))


def test_bad_inputs_and_forwards_are_named():
    lg = define_op("lg", math.log, lambda out, x: (1 / x,))
    with pytest.raises(ValueError, match=r"lg: math domain error \(for input -1.0\)"):
        lg(Value(-1.0))
    with pytest.raises(TypeError, match=r"lg: takes 1 input\(s\), got 2"):
        lg(Value(1.0), 2.0)
    with pytest.raises(TypeError, match="lg: expected a real number or a Value, got 'a'"):
        lg("a")
    with pytest.raises(ValueError, match="lg: expected a number within the float range"):
        lg(10**400)
    big = define_op("big", lambda x: math.exp(x) * 1e308, lambda out, x: (out,))
    with pytest.raises(OverflowError, match=r"big: result overflows to inf for input 2.0"):
        big(Value(2.0))
    nan = define_op("nan", lambda x: math.nan, lambda out, x: (1.0,))
    with pytest.raises(ValueError, match="nan: forward returned nan for input 1.0"):
        nan(Value(1.0))
    text = define_op("text", lambda x: "1.0", lambda out, x: (1.0,))
    with pytest.raises(TypeError, match="text: forward must return a float, got '1.0'"):
        text(Value(1.0))


def test_a_derivative_that_cannot_be_evaluated_is_named_in_backward():
    root = define_op("root", math.sqrt, lambda out, x: (0.5 / out,), words=("0.5/out",))
    x = Value(0.0, label="x")
    with pytest.raises(ZeroDivisionError, match=r"backward through root\(x\) = 0.0.*d/dx = 0.5/out"):
        root(x).backward()


def test_the_rule_row_carries_the_checked_forward_for_the_compiler():
    softplus = define_op("splus", lambda x: math.log1p(math.exp(x)), lambda out, x: (1 - exp(-out),))
    row = RULES["splus"]
    assert row.forward(0.5) == softplus(Value(0.5)).data == math.log1p(math.exp(0.5))
    assert row.inputs == ("x",) and row.symbol == "splus" and row.words == ("dsplus/dx",)
    assert softplus(0.5) == row.forward(0.5) and log(2.0) == math.log(2.0)

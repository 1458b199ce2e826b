"""gradcheck and gradgradcheck: they pass on every operation, and they catch planted bugs.

For every rule in the table, at least three deliberately wrong versions (sign flipped, an input
used where the output belongs, a term dropped, a rule that drops to floats) are swapped into
``RULES`` one at a time, and the checker that must catch each one raises a GradcheckError whose
message is the table. Also: the table's content, bad arguments, and a property test over drawn
expressions.
"""

from __future__ import annotations

import math
import random

import pytest
from conftest import require_module
from hypothesis import given, settings

from autograd_scalar import GradcheckError, Value, gradcheck, gradgradcheck
from autograd_scalar.rules import RULES, Rule, cos, log, sign, sin, step
from autograd_scalar.testing.ops import OPS
from autograd_scalar.testing.strategies import expressions


def _plain(x):
    """A Value's float: a rule that uses it gives the right number but cannot be differentiated."""
    return x if x.__class__ is float else x.data


# Per rule: the function checked and the point, then the wrong versions of the rule.
FUNCTIONS = {
    "add": (lambda a, b: a + b, [0.7, -1.3]),
    "sub": (lambda a, b: a - b, [0.7, -1.3]),
    "mul": (lambda a, b: a * b, [0.7, -1.3]),
    "div": (lambda a, b: a / b, [0.7, -1.3]),
    "neg": (lambda x: -x, [0.7]),
    "pow": (lambda x: x**3, [1.3]),
    "rpow": (lambda x: 2**x, [0.7]),
    "vpow": (lambda a, b: a**b, [1.3, 0.7]),
    "exp": (lambda x: x.exp(), [0.7]),
    "log": (lambda x: x.log(), [0.7]),
    "tanh": (lambda x: x.tanh(), [0.7]),
    "sigmoid": (lambda x: x.sigmoid(), [0.7]),
    "relu": (lambda x: x.relu(), [0.7]),
    "sqrt": (lambda x: x.sqrt(), [0.7]),
    "abs": (lambda x: abs(x), [-0.7]),
    "sin": (lambda x: x.sin(), [0.7]),
    "cos": (lambda x: x.cos(), [0.7]),
}
BUILT_IN = sorted(name for name, rule in RULES.items() if rule.forward is None)  # not a user's define_op

GC, GGC = "gradcheck", "gradgradcheck"
# (rule, what is wrong, wrong local derivatives, the checker that catches it, point or None)
WRONG = [
    ("add", "sign flipped on b", lambda out, a, b: (1.0, -1.0), GC, None),
    ("add", "term for b dropped", lambda out, a, b: (1.0, 0.0), GC, None),
    ("add", "both signs flipped", lambda out, a, b: (-1.0, -1.0), GC, None),
    ("sub", "sign of b lost", lambda out, a, b: (1.0, 1.0), GC, None),
    ("sub", "term for b dropped", lambda out, a, b: (1.0, 0.0), GC, None),
    ("sub", "signs swapped", lambda out, a, b: (-1.0, 1.0), GC, None),
    ("mul", "inputs swapped: (a, b)", lambda out, a, b: (a, b), GC, None),
    ("mul", "signs flipped", lambda out, a, b: (-b, -a), GC, None),
    ("mul", "term for b dropped", lambda out, a, b: (b, 0.0), GC, None),
    ("mul", "drops to floats", lambda out, a, b: (_plain(b), _plain(a)), GGC, None),
    ("div", "sign flipped on b", lambda out, a, b: (1 / b, out / b), GC, None),
    ("div", "input a where out belongs: -a/b", lambda out, a, b: (1 / b, -a / b), GC, None),
    ("div", "term for b dropped", lambda out, a, b: (1 / b, 0.0), GC, None),
    ("div", "drops to floats", lambda out, a, b: (1 / _plain(b), -_plain(out) / _plain(b)), GGC, None),
    ("neg", "sign flipped", lambda out, x: (1.0,), GC, None),
    ("neg", "dropped", lambda out, x: (0.0,), GC, None),
    ("neg", "input where the constant belongs: -x", lambda out, x: (-x,), GC, None),
    ("pow", "factor c dropped", lambda out, x, c: (x ** (c - 1), 0.0), GC, None),
    ("pow", "exponent not lowered: c*x**c", lambda out, x, c: (c * x**c, 0.0), GC, None),
    ("pow", "sign flipped", lambda out, x, c: (-c * x ** (c - 1), 0.0), GC, None),
    ("pow", "drops to floats", lambda out, x, c: (c * _plain(x) ** (c - 1), 0.0), GGC, None),
    ("rpow", "factor log(c) dropped", lambda out, c, x: (0.0, out), GC, None),
    ("rpow", "sign flipped", lambda out, c, x: (0.0, -out * log(c)), GC, None),
    ("rpow", "input where out belongs: x*log(c)", lambda out, c, x: (0.0, x * log(c)), GC, None),
    ("rpow", "drops to floats", lambda out, c, x: (0.0, _plain(out) * log(c)), GGC, None),
    ("vpow", "factor log(a) dropped", lambda out, a, b: (b * a ** (b - 1), out), GC, None),
    ("vpow", "derivatives swapped", lambda out, a, b: (out * log(a), b * a ** (b - 1)), GC, None),
    ("vpow", "sign flipped on b", lambda out, a, b: (b * a ** (b - 1), -out * log(a)), GC, None),
    ("vpow", "drops to floats", lambda out, a, b: (_plain(b) * _plain(a) ** (_plain(b) - 1), _plain(out) * log(_plain(a))), GGC, None),  # noqa: E501
    ("exp", "sign flipped", lambda out, x: (-out,), GC, None),
    ("exp", "input where out belongs: x", lambda out, x: (x,), GC, None),
    ("exp", "dropped to 1", lambda out, x: (1.0,), GC, None),
    ("exp", "drops to floats", lambda out, x: (_plain(out),), GGC, None),
    ("log", "sign flipped", lambda out, x: (-1 / x,), GC, None),
    ("log", "output where input belongs: 1/out", lambda out, x: (1 / out,), GC, None),
    ("log", "not inverted: x", lambda out, x: (x,), GC, None),
    ("log", "drops to floats", lambda out, x: (1 / _plain(x),), GGC, None),
    ("tanh", "input where out belongs: 1 - x**2", lambda out, x: (1 - x * x,), GC, None),
    ("tanh", "sign flipped", lambda out, x: (out * out - 1,), GC, None),
    ("tanh", "square dropped: 1 - out", lambda out, x: (1 - out,), GC, None),
    ("tanh", "drops to floats", lambda out, x: (1 - _plain(out) ** 2,), GGC, None),
    ("sigmoid", "input where out belongs: x*(1 - x)", lambda out, x: (x * (1 - x),), GC, None),
    ("sigmoid", "factor (1 - out) dropped", lambda out, x: (out,), GC, None),
    ("sigmoid", "sign flipped", lambda out, x: (-out * (1 - out),), GC, None),
    ("sigmoid", "drops to floats", lambda out, x: (_plain(out) * (1 - _plain(out)),), GGC, None),
    ("relu", "sign flipped", lambda out, x: (-step(x),), GC, None),
    ("relu", "step dropped: 1", lambda out, x: (1.0,), GC, [-0.7]),
    ("relu", "output where the step belongs", lambda out, x: (out,), GC, None),
    ("relu", "wrong side: step(-x)", lambda out, x: (step(-x),), GC, None),
    ("sqrt", "input where out belongs: 0.5/x", lambda out, x: (0.5 / x,), GC, None),
    ("sqrt", "factor 0.5 dropped", lambda out, x: (1 / out,), GC, None),
    ("sqrt", "sign flipped", lambda out, x: (-0.5 / out,), GC, None),
    ("sqrt", "drops to floats", lambda out, x: (0.5 / _plain(out),), GGC, None),
    ("abs", "sign flipped", lambda out, x: (-sign(x),), GC, None),
    ("abs", "sign dropped: 1", lambda out, x: (1.0,), GC, None),
    ("abs", "output where the sign belongs", lambda out, x: (out,), GC, None),
    ("sin", "sign flipped", lambda out, x: (-cos(x),), GC, None),
    ("sin", "output where the cosine belongs", lambda out, x: (out,), GC, None),
    ("sin", "derivative of cos instead: -sin(x)", lambda out, x: (-sin(x),), GC, None),
    ("sin", "drops to floats", lambda out, x: (math.cos(_plain(x)),), GGC, None),
    ("cos", "sign flipped: sin(x)", lambda out, x: (sin(x),), GC, None),
    ("cos", "output where the sine belongs", lambda out, x: (-out,), GC, None),
    ("cos", "derivative of sin instead: cos(x)", lambda out, x: (cos(x),), GC, None),
    ("cos", "drops to floats", lambda out, x: (-math.sin(_plain(x)),), GGC, None),
]


def test_every_rule_has_at_least_three_wrong_versions():
    counts = {name: sum(1 for w in WRONG if w[0] == name) for name in BUILT_IN}
    assert set(FUNCTIONS) == set(BUILT_IN)
    assert min(counts.values()) >= 3, counts


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_correct_rules_pass_both_checks(name):
    f, point = FUNCTIONS[name]
    assert gradcheck(f, point) is True
    assert gradgradcheck(f, point) is True


@pytest.mark.parametrize(
    "name, wrong, local, checker, point", WRONG, ids=[f"{w[0]}: {w[1]}" for w in WRONG]
)
def test_a_wrong_rule_is_caught_with_the_table(monkeypatch, name, wrong, local, checker, point):
    f, default_point = FUNCTIONS[name]
    point = point or default_point
    rule = RULES[name]
    monkeypatch.setitem(RULES, name, Rule(rule.symbol, local, rule.words))
    if checker == GGC:
        assert gradcheck(f, point) is True  # right at first order: only the second order shows it
    check = gradcheck if checker == GC else gradgradcheck
    with pytest.raises(GradcheckError) as info:
        check(f, point)
    message = str(info.value)
    lines = message.splitlines()
    assert lines[0].startswith(f"{checker}: ") and "derivatives differ" in lines[0]
    assert lines[1].split() == ["derivative", "at", "x", "analytic", "numeric", "difference"]
    wrong_rows = [line for line in lines[2:] if line.startswith("  * ")]
    assert wrong_rows, message
    for row in wrong_rows:
        _, derivative, at, analytic, numeric, difference = row.split()
        assert float(difference) == pytest.approx(float(analytic) - float(numeric), rel=1e-6, abs=1e-7)
        assert abs(float(difference)) > 1e-5
    assert check(f, point, raise_exception=False) is False


def test_the_table_lists_every_input_and_marks_the_wrong_ones(monkeypatch):
    monkeypatch.setitem(RULES, "tanh", Rule("tanh", lambda out, x: (1 - x * x,), ("1 - x**2",)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: (x * y).tanh() + x.log(), [0.7, -1.3])
    lines = str(info.value).splitlines()
    assert lines[0] == "gradcheck: 2 of 2 derivatives differ (eps=1e-06, atol=1e-05, rtol=0.001)"
    assert lines[2].split()[:3] == ["*", "d/dx0", "0.7"]
    assert lines[3].split()[:3] == ["*", "d/dx1", "-1.3"]
    # numeric d/dx1 = x * (1 - tanh(x*y)**2), whatever the rule says
    t = math.tanh(0.7 * -1.3)
    assert float(lines[3].split()[4]) == pytest.approx(0.7 * (1 - t * t), rel=1e-6)


def test_only_the_wrong_entries_are_marked():
    # y enters through relu at a kink, x smoothly: only d/dy is wrong
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x * x + y.relu(), [1.5, 0.0])
    rows = str(info.value).splitlines()[2:]
    assert not rows[0].startswith("  * ") and rows[0].split()[0] == "d/dx0"
    assert rows[1].startswith("  * ") and rows[1].split()[1:] == ["d/dx1", "0", "0", "0.5", "-0.5"]


def test_gradgradcheck_lists_every_pair():
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x, y: x * y.relu() * y, [1.5, 0.0])  # d2/dy2 jumps at y = 0
    derivatives = [line.split()[-5] for line in str(info.value).splitlines()[2:]]
    assert derivatives == ["d2/dx0dx0", "d2/dx0dx1", "d2/dx1dx0", "d2/dx1dx1"]


def test_labels_of_value_inputs_name_the_rows_and_their_grads_are_untouched():
    w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    w.grad = 7.0
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda w, b: (w * 2 + b).relu() + abs(b), [w, b], atol=0, rtol=0, eps=0.5)
    assert "d/dw" in str(info.value) and "d/db" in str(info.value)
    assert w.grad == 7.0 and b.grad == 0.0


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_every_operation_passes_at_random_points(op):
    rng = random.Random(op.name)
    checked = 0
    while checked < 20:
        point = [rng.uniform(lo, hi) for lo, hi in op.domain]
        if not op.ok(*point):
            continue
        checked += 1
        assert gradcheck(op.call, point)
        if op.higher_order:
            assert gradgradcheck(op.call, point)


def test_a_single_number_is_one_input():
    assert gradcheck(lambda x: x.exp(), 0.5)
    assert gradgradcheck(lambda x: x.exp(), Value(0.5))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: gradcheck(3, [1.0]), TypeError, ["gradcheck: f must be callable", "3"]),
        (lambda: gradcheck(lambda x: 2.0, [1.0]), TypeError, ["gradcheck: f must return a Value", "2.0"]),
        (lambda: gradgradcheck(lambda x: [x], [1.0]), TypeError, ["gradgradcheck: f must return a Value"]),
        (lambda: gradcheck(lambda x: x, [float("nan")]), ValueError, ["input 0 must be a finite number", "nan"]),
        (lambda: gradcheck(lambda x, y: x, [1.0, math.inf]), ValueError, ["input 1", "inf"]),
        (lambda: gradcheck(lambda x: x, ["1.0"]), TypeError, ["input 0 must be a number or a Value", "'1.0'"]),
        (lambda: gradcheck(lambda x: x, [True]), TypeError, ["input 0", "True"]),
        (lambda: gradcheck(lambda x: x, "1.0"), TypeError, ["inputs must be a sequence", "'1.0'"]),
        (lambda: gradcheck(lambda x: x, []), ValueError, ["inputs is empty"]),
        (lambda: gradcheck(lambda x: x, [1.0], eps=0), ValueError, ["eps must be > 0", "0"]),
        (lambda: gradcheck(lambda x: x, [1.0], atol=-1), ValueError, ["atol must be a number >= 0", "-1"]),
        (lambda: gradcheck(lambda x: x, [1.0], rtol=float("nan")), ValueError, ["rtol", "nan"]),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_a_point_too_close_to_the_domain_edge_says_which_side():
    with pytest.raises(ValueError) as info:
        gradcheck(lambda x: x.log(), [1e-7], eps=1e-6)
    message = str(info.value)
    assert message.startswith("gradcheck: f cannot be evaluated at input 0 - eps")
    assert "log: input must be > 0" in message


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


@settings(max_examples=1000)
@given(expressions(ops=[op.name for op in OPS if op.higher_order], max_nodes=8, max_inputs=2))
def test_gradgradcheck_passes_on_drawn_smooth_expressions(expr):
    assert gradgradcheck(expr, expr.inputs, atol=1e-4, rtol=1e-3)


def test_the_point_follows_the_engines_one_rule_for_numbers():
    from decimal import Decimal
    from fractions import Fraction

    assert gradcheck(lambda x: x.tanh(), [Decimal("0.5")]) and gradgradcheck(lambda x: x.tanh(), Fraction(1, 2))
    with pytest.raises(ValueError, match=r"gradcheck: input 0 must be a finite number within float range, got 1000"):
        gradcheck(lambda x: x, [10**400])
    np = require_module("numpy", "pip install numpy")
    with pytest.raises(TypeError, match="gradgradcheck: input 0 must be a number or a Value, got np.timedelta64"):
        gradgradcheck(lambda x: x, [np.timedelta64(1, "D")])

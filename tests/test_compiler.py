"""The compiled path (``ag.compile``): bit for bit the interpreter's results (``.hex()`` equal) on
drawn graphs with every op of the rule table and on MLP batches; guards and their variant cache;
readable, safe source; and every error it promises."""

from __future__ import annotations

import ast
import math
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings

import autograd_scalar as ag
from autograd_scalar import Value, losses
from autograd_scalar.compiler import MAX_VARIANTS
from autograd_scalar.nn import MLP
from autograd_scalar.rules import RULES
from autograd_scalar.testing.ops import OPS
from autograd_scalar.testing.strategies import expressions


def hexes(xs):
    return [x.hex() for x in xs]


def interpreted(fn, args):
    """``fn(*args).backward()`` on fresh leaves: the reference."""
    leaves = [Value(a) for a in args]
    out = fn(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def compiled(fn, args):
    leaves = [Value(a) for a in args]
    out = ag.compile(fn)(*leaves)
    return out, [leaf.grad for leaf in leaves]


def test_compile_is_an_attribute_not_a_star_export():
    assert callable(ag.compile)
    assert "compile" not in ag.__all__


def test_the_compiler_loads_on_first_use_not_on_import():
    """``import autograd_scalar`` stays quick: ag.compile loads the compiler when first asked for."""
    script = (
        "import sys, autograd_scalar as ag\n"
        "before = 'autograd_scalar.compiler' in sys.modules\n"
        "from autograd_scalar import compile as c\n"
        "from autograd_scalar import *\n"
        "print(before, c is ag.compile, compile is __builtins__.compile, 'compile' in dir(ag))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True", "True"]
    with pytest.raises(AttributeError, match="no attribute 'compiled'"):
        getattr(ag, "compiled")  # noqa: B009 - the attribute access is the test


@settings(max_examples=300)
@given(expressions(max_nodes=14, max_inputs=3))
def test_drawn_graphs_with_every_op_are_bit_for_bit(expr):
    out, grads = interpreted(expr, expr.inputs)
    cout, cgrads = compiled(expr, expr.inputs)
    assert cout.hex() == out.hex()
    assert hexes(cgrads) == hexes(grads)


@settings(max_examples=100)
@given(expressions(max_nodes=10, max_inputs=2))
def test_parameters_in_a_closure_are_read_live_and_bit_for_bit(expr):
    params = [Value(a) for a in expr.inputs]
    cf = ag.compile(lambda: expr(*params))
    for step in range(3):
        for p in params:
            p.grad = 0.0
        got, got_grads = cf(), [p.grad for p in params]
        for p in params:
            p.grad = 0.0
        out = expr(*params)
        out.backward()
        assert got.hex() == out.data.hex()
        assert hexes(got_grads) == hexes([p.grad for p in params])
        for p in params:  # an optimiser's step: the compiled code must see it
            p.data = p.data * (1 - 1e-3 * (step + 1))


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_every_op_of_the_rule_table_compiles_bit_for_bit(op):
    rng = random.Random(op.name)
    tried = 0
    for _ in range(200):
        point = [rng.uniform(lo, hi) for lo, hi in op.domain]
        if not op.ok(*point):
            continue
        tried += 1
        fn = lambda *xs: op.call(*xs)  # noqa: E731
        out, grads = interpreted(fn, point)
        cout, cgrads = compiled(fn, point)
        assert (cout.hex(), hexes(cgrads)) == (out.hex(), hexes(grads)), point
    assert tried > 20


@pytest.mark.parametrize("name", sorted(set(RULES) - {op.rule for op in OPS}) or ["(none)"])
def test_rows_without_an_ops_entry_compile_as_methods(name):
    """A row another engineer added before its OPS entry: called as a Value method on (0.3, 1.5)."""
    if name == "(none)":
        return
    method = getattr(Value, name, None)
    if method is None:
        pytest.skip(f"the row {name!r} has no Value method yet")
    for k in range(20):
        point = [0.3 + 0.06 * k]
        fn = lambda x: method(x)  # noqa: E731
        out, grads = interpreted(fn, point)
        cout, cgrads = compiled(fn, point)
        assert (cout.hex(), hexes(cgrads)) == (out.hex(), hexes(grads)), point


def test_constants_on_either_side_and_shared_subexpressions():
    def fn(a, b):
        s = a * b
        return (2.0 - s) / (s + 3.0) + 1.5 ** a - (-2.5) * s + a ** 3 + 0.5 / b + s * s

    out, grads = interpreted(fn, [0.7, -1.3])
    cout, cgrads = compiled(fn, [0.7, -1.3])
    assert (cout.hex(), hexes(cgrads)) == (out.hex(), hexes(grads))


# ---- batches: mean and sum over MLPs ---------------------------------------------------------


def _data(rng, n, nin, kind):
    X = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(n)]
    if kind == "class":
        y = [float(rng.random() < 0.5) for _ in range(n)]
    elif kind == "k":
        y = [rng.randrange(3) for _ in range(n)]
    else:
        y = [rng.uniform(-1, 1) for _ in range(n)]
    return X, y


def _mse(model):
    return lambda x, t: (model(x) - t) ** 2


def _bce(model):
    def term(x, t):
        z = model(x)
        return losses._softplus(z) - t * z

    return term


def _reference(model, X, y, how, loss):
    """What ``fit`` does on the interpreter: the loss module's batch function, then backward."""
    for p in model.parameters():
        p.grad = 0.0
    outputs = [model(x) for x in X]
    total = loss(outputs, y, reduction=how)
    total.backward()
    return total.data, [p.grad for p in model.parameters()]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("how", ["mean", "sum"])
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_mlp_batches_are_bit_for_bit(activation, how, loss):
    rng = random.Random(f"{activation}{how}{loss}")
    model = MLP(3, [6, 5, 1], activation=activation, seed=rng.randrange(100))
    X, y = _data(rng, 17, 3, "class" if loss == "bce" else "real")
    batch_loss = losses.mse if loss == "mse" else losses.binary_cross_entropy
    cf = ag.compile(_mse(model) if loss == "mse" else _bce(model))
    for _ in range(3):
        want, want_grads = _reference(model, X, y, how, batch_loss)
        for p in model.parameters():
            p.grad = 0.0
        got = getattr(cf, how)(X, y)
        assert got.hex() == want.hex()
        assert hexes(p.grad for p in model.parameters()) == hexes(want_grads)
        for p in model.parameters():  # a step of SGD between calls
            p.data -= 0.05 * p.grad
    if loss == "bce":
        assert 1 <= cf.variants <= 2  # softplus compares the logit with 0: one variant per side


def _cross_entropy(model, k):
    def term(x, onehot):
        row = model(x)
        m = losses._shift(row)
        exps = [(z - m).exp() for z in row]
        products = [t * z for t, z in zip(onehot, row)]
        return sum(exps[1:], exps[0]).log() + m - sum(products[1:], products[0])

    return term


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_softmax_cross_entropy_batches_are_bit_for_bit(activation):
    rng = random.Random(activation)
    model = MLP(4, [7, 3], activation=activation, seed=3)
    X, y = _data(rng, 23, 4, "k")
    onehots = [[float(k == c) for k in range(3)] for c in y]
    cf = ag.compile(_cross_entropy(model, 3))
    for _ in range(3):
        want, want_grads = _reference(model, X, y, "mean", losses.softmax_cross_entropy)
        for p in model.parameters():
            p.grad = 0.0
        got = cf.mean(X, onehots)
        assert got.hex() == want.hex()
        assert hexes(p.grad for p in model.parameters()) == hexes(want_grads)
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    assert cf.variants == 1


def test_grads_accumulate_like_backward():
    w = Value(1.5)
    cf = ag.compile(lambda x: (w * x).tanh())
    cf(0.3)
    once = w.grad
    cf(0.3)
    assert w.grad == once + once


# ---- guards ----------------------------------------------------------------------------------


def test_an_if_on_a_value_is_a_guard_and_both_branches_are_right():
    w = Value(0.5)

    def fn(x):
        h = w * x
        if h > 0:
            return h.tanh()
        return h * h

    cf = ag.compile(fn)
    for x in [1.0, -2.0, 3.0, -0.5]:
        _assert_call_is_the_interpreters(cf, fn, w, x)
    assert cf.variants == 2


def _assert_call_is_the_interpreters(cf, fn, w, x):
    """``cf(x)`` and the gradient it leaves in ``w`` equal ``fn(x).backward()``'s, bit for bit."""
    w.grad = 0.0
    got = cf(x)
    g = w.grad
    w.grad = 0.0
    ref = fn(x)
    ref.backward()
    assert (got.hex(), g.hex()) == (ref.data.hex(), w.grad.hex())


def test_max_over_values_is_guarded_in_batches():
    a, b = Value(0.3), Value(-0.2)

    def fn(x, y):
        return max(a * x, b * y, a + b * x).exp()

    cf = ag.compile(fn)
    rng = random.Random(0)
    xs = [rng.uniform(-3, 3) for _ in range(40)]
    ys = [rng.uniform(-3, 3) for _ in range(40)]
    got = cf.sum(xs, ys)
    got_grads = (a.grad, b.grad)
    a.grad = b.grad = 0.0
    terms = [fn(x, y) for x, y in zip(xs, ys)]
    total = sum(terms[1:], terms[0])
    total.backward()
    assert (got.hex(), hexes(got_grads)) == (total.data.hex(), hexes((a.grad, b.grad)))
    assert 2 <= cf.variants <= 4  # max(p, q, r) makes two comparisons


def test_the_variant_cache_is_bounded_and_the_rest_runs_interpreted():
    w = Value(1.0)

    def fn(x):  # a staircase: one guard outcome pattern per step
        out = w * x
        for k in range(20):
            if w * x > k:
                out = out + w
        return out

    cf = ag.compile(fn)
    for x in [0.5 + k for k in range(20)]:
        _assert_call_is_the_interpreters(cf, fn, w, x)
    assert cf.variants == MAX_VARIANTS
    assert cf.full


# ---- frozen .data reads ----------------------------------------------------------------------


def test_a_data_read_that_would_freeze_is_refused():
    w = Value(2.0)
    cf = ag.compile(lambda x: w * x - (w * x).data)
    with pytest.raises(ValueError, match=r"compile: <lambda> turns a Value's \.data into the number"):
        cf.mean([1.0, 2.0])


def test_a_data_read_of_a_parameter_is_refused_after_the_parameter_changes():
    w = Value(2.0)
    cf = ag.compile(lambda x: w * x + w.data)
    cf.mean([1.0, 1.0])
    w.data = 3.0
    with pytest.raises(ValueError, match=r"turns a Value's \.data into the number 2\.0"):
        cf.mean([1.0, 1.0])


def test_a_branch_on_data_is_refused():
    w = Value(1.0)
    cf = ag.compile(lambda x: (w * x).exp() if x.data > 0 else w * x)
    with pytest.raises(ValueError, match="builds a different graph at other inputs"):
        cf.mean([1.0, -1.0])


def test_softmax_cross_entropy_compiles_without_freezing_its_shift():
    model = MLP(2, [3], seed=0)
    cf = ag.compile(lambda x, c: losses.softmax_cross_entropy(model(x), 2))
    assert math.isfinite(cf.mean([[0.1, 0.2], [3.0, -1.0], [-2.0, 0.5]], [0.0, 0.0, 0.0]))


# ---- the source --------------------------------------------------------------------------------


def test_the_neuron_reads_like_staged_code():
    w0, x0, w1, x1, w2 = (Value(v, label=n) for v, n in zip([2.0, -1.0, -3.0, -2.0, -3.0], "w0 x0 w1 x1 w2".split()))
    cf = ag.compile(lambda x0, x1: (w0 * x0 + w1 * x1 + w2).sigmoid())
    cf(-1.0, -2.0)
    src = cf.source
    assert "w0 * x0 + w1 * x1 + w2" in src
    assert src.index("# forward") < src.index("# backward")
    for name in ("dw0", "dw1", "dw2"):
        assert f"{name} += " in src


GLOBALS = {"range", "float", "exp", "log", "tanh", "sqrt", "sin", "cos", "abs", "_inf", "_pow", "_Miss", "_Interpret",
           "_ONCE"}


def _outside(cf, loaded, params, assigned):
    """Names the source reads that are none of: its parameters, its locals, our helpers, a rule's function."""
    rules = {id(r.local) for r in RULES.values()} | {id(r.forward) for r in RULES.values()}
    spare = loaded - params - assigned - GLOBALS
    return {n for n in spare if not (n.startswith(("_l_", "_f_")) and id(cf._code.__globals__[n]) in rules)}


def _names_used(src):
    tree = ast.parse(src)
    (func,) = tree.body
    params = {a.arg for a in func.args.args}
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return params, assigned, loaded


HOSTILE = ["a'b", 'x"); __import__("os").system("echo hi', "line\nbreak", "__import__('os')", "class",
           "lambda", "ünï", "w0", "w0", "_P", "exp", "d", "1abc", "", "dw0", "x0", "None", "_u", "match"]


def test_hostile_labels_become_safe_names_and_the_source_names_nothing_else():
    params = [Value(0.1 * (k + 1), label=label) for k, label in enumerate(HOSTILE)]

    def fn(x0, x1):
        total = params[0] * x0
        for p in params[1:]:
            total = total + (p * x1).tanh()
        return total.exp()

    cf = ag.compile(fn)
    got = cf(0.3, -0.2)
    src = cf.source
    params_, assigned, loaded = _names_used(src)
    assert not _outside(cf, loaded, params_, assigned)
    assert "import" not in src.replace('"""', "")
    assert "os" not in _names_used(src)[2]
    for label in HOSTILE:
        if label and not label.isidentifier():
            assert label not in src
    want = fn(0.3, -0.2).data
    assert got == want


def test_a_hostile_function_name_stays_out_of_the_source():
    w = Value(1.0)

    def fn(x):
        return w * x

    fn.__name__ = '"""\nimport os\n"""'
    cf = ag.compile(fn)
    cf(2.0)
    assert "import" not in cf.source and w.grad == 2.0


def test_the_source_reparses_for_drawn_graphs():
    rng = random.Random(1)
    from autograd_scalar.testing.ops import random_expression

    for _ in range(30):
        expr, inputs = random_expression(rng, max_nodes=12)
        leaves = [Value(a) for a in inputs]
        cf = ag.compile(expr)
        cf(*leaves)
        params, assigned, loaded = _names_used(cf.source)
        assert not _outside(cf, loaded, params, assigned)


# ---- errors ------------------------------------------------------------------------------------


def test_errors_say_what_was_expected():
    w = Value(1.0)
    with pytest.raises(TypeError, match="compile: expected a function, got 3"):
        ag.compile(3)
    with pytest.raises(TypeError, match=r"must return one Value \(a per-sample loss, say\), got 3.0"):
        ag.compile(lambda x: 3.0)(1.0)
    with pytest.raises(TypeError, match=r"must return one Value .*got a list of 2"):
        ag.compile(lambda x: [w * x, w])(1.0)
    cf = ag.compile(lambda x: w * x[0] + x[1])
    cf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"compiled for \(a list of 2 numbers\); got \(a number\)"):
        cf(1.0)
    with pytest.raises(TypeError, match=r"compiled for \(a list of 2 numbers\); got \(a list of 3 numbers\)"):
        cf([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="argument 0 must be a number, a Value or a list/tuple of them, got 'a'"):
        cf("a")
    with pytest.raises(ValueError, match=r"mean\(\) needs columns of one non-zero length"):
        cf.mean([])
    with pytest.raises(TypeError, match="sample 1 has a list of 3"):
        cf.mean([[1.0, 2.0], [1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="a Value made by an operation"):
        ag.compile(lambda v: v * w)(w * 2)


def test_higher_order_inside_the_function_is_refused():
    w = Value(1.0)

    def fn(x):
        (g,) = ag.grad((w * x).tanh(), [w], create_graph=True)
        return g

    with pytest.raises(TypeError, match=r"calls backward\(\) or grad\(\) while it is traced.*create_graph"):
        ag.compile(fn)(1.0)


def test_a_value_computed_outside_is_refused():
    w = Value(1.0)
    outside = w * 2
    with pytest.raises(TypeError, match="a Value computed outside it"):
        ag.compile(lambda x: outside * x)(1.0)


def test_bad_numbers_get_the_interpreters_errors():
    w = Value(1.0)
    cf = ag.compile(lambda x: (w * x).log())
    cf(1.0)
    with pytest.raises(ValueError, match="log: input must be > 0"):
        cf(-1.0)
    with pytest.raises(ValueError, match="expected a finite number, got nan"):
        cf(float("nan"))
    big = ag.compile(lambda x: (w * x) * 1e300)
    with pytest.raises(OverflowError, match="mul: result overflows"):
        big(1e10)


def test_a_masked_overflow_still_raises():
    w = Value(1.0)
    cf = ag.compile(lambda x: ((w * x) * 1e300).tanh())  # tanh(inf) would be a finite 1.0
    assert cf(1.0) == math.tanh(1e300)
    with pytest.raises(OverflowError, match="mul: result overflows"):
        cf(1e10)


def test_an_untraceable_function_says_so():
    w = Value(1.0)
    cf = ag.compile(lambda x: w * math.exp(x))
    with pytest.raises(TypeError, match="cannot be traced with Value inputs"):
        cf(1.0)


# ---- fit ---------------------------------------------------------------------------------------


def _fit_both(make_data, loss, activation, nouts, batch_size, validation=False):
    from autograd_scalar.optim import Adam
    from autograd_scalar.train import fit

    results = []
    for compile_ in (False, True):
        X, y = make_data()
        model = MLP(len(X[0]), nouts, activation=activation, seed=1)
        val = (X[:15], y[:15]) if validation else None
        history = fit(model, X, y, loss, Adam(model.parameters(), lr=0.05), 3, batch_size=batch_size, seed=2,
                      validation=val, compile=compile_)
        results.append((history, [p.data.hex() for p in model.parameters()]))
    return results


@pytest.mark.parametrize("loss, activation", [("bce", "tanh"), ("hinge", "relu"), ("mse", "sigmoid")])
def test_fit_compiled_and_interpreted_agree_bit_for_bit(loss, activation):
    from autograd_scalar.datasets import moons
    from autograd_scalar.train import _CompiledLoss

    assert _CompiledLoss.make(MLP(2, [6, 1]), loss) is not None  # the compiled path is the one compared
    (h0, p0), (h1, p1) = _fit_both(lambda: moons(40, noise=0.1, seed=0), loss, activation, [6, 1], 16, True)
    assert p1 == p0
    assert [x.hex() for x in h1.loss] == [x.hex() for x in h0.loss]
    assert h1.accuracy == h0.accuracy and h1.val_accuracy == h0.val_accuracy
    assert [x.hex() for x in h1.val_loss] == [x.hex() for x in h0.val_loss]


def test_fit_cross_entropy_compiled_and_interpreted_agree_bit_for_bit():
    rng = random.Random(5)

    def data():
        X = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(30)]
        return X, [int(3 * (x[0] + 1) / 2.0001) for x in X]

    state = rng.getstate()
    (h0, p0), (h1, p1) = _fit_both(lambda: (rng.setstate(state), data())[1], "cross_entropy", "tanh", [5, 3], 8, True)
    assert p1 == p0
    assert [x.hex() for x in h1.loss + h1.val_loss] == [x.hex() for x in h0.loss + h0.val_loss]
    assert h1.accuracy == h0.accuracy and h1.val_accuracy == h0.val_accuracy


def test_fit_uses_the_interpreter_where_the_compiled_path_cannot_go():
    from autograd_scalar.optim import SGD
    from autograd_scalar.train import _CompiledLoss, fit

    model = MLP(1, [1], seed=0)
    assert _CompiledLoss.make(model, lambda outputs, targets: losses.mse(outputs, targets)) is None
    assert _CompiledLoss.make(model, "cross_entropy") is None  # one output: the loss's own error
    history = fit(model, [[0.0], [1.0]], [1.0, 3.0], lambda o, t: losses.mse(o, t), SGD(model.parameters(), lr=0.1), 2)
    assert len(history.loss) == 2


def test_train_command_says_which_path_runs_and_both_agree(capsys, tmp_path, monkeypatch):
    from autograd_scalar.cli import main

    monkeypatch.chdir(tmp_path)
    outputs = []
    for extra in ([], ["--no-compile"]):
        assert main(["train", "--epochs", "4", "--points", "40", "--hidden", "4", *extra]) == 0
        outputs.append(capsys.readouterr().out.splitlines())
    (compiled, *rest_c), (interpreted, *rest_i) = outputs
    assert compiled.endswith("compiled (ag.compile; --no-compile for the interpreter)")
    assert interpreted.endswith("on the interpreter")
    strip = [line.rsplit(" ", 1)[0] for line in rest_c], [line.rsplit(" ", 1)[0] for line in rest_i]
    assert strip[0] == strip[1]  # the same numbers; only the seconds differ


def test_the_readme_shows_what_the_neuron_compiles_to():
    import contextlib
    import io
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Compile for speed") :]
    code, shown = re.findall(r"^```(?:python|text)\n(.*?)^```", section, re.S | re.M)[:2]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})  # the README's own example, as a reader would run it
    assert printed.getvalue().rstrip("\n") == shown.rstrip("\n")


def test_the_remaining_errors():
    w = Value(1.0)
    cf = ag.compile(lambda x: w * x)
    with pytest.raises(TypeError, match="the function is compiled already"):
        ag.compile(cf)
    with pytest.raises(TypeError, match=r"mean\(\) needs one column per argument of the function, got none"):
        cf.mean()
    with pytest.raises(TypeError, match=r"sum\(\) takes columns \(lists, one entry per sample\), got 3.0"):
        cf.sum(3.0)
    with pytest.raises(TypeError, match=r"mean\(\) takes columns of numbers"):
        cf.mean([Value(1.0), Value(2.0)])

    def sneaky(x):
        y = w * x
        w.grad = 5.0
        return y

    w.grad = 0.0
    with pytest.raises(TypeError, match=r"changed a \.grad while traced"):
        ag.compile(sneaky)(1.0)


def test_fit_leaves_inputs_it_cannot_take_as_floats_to_the_interpreter():
    from autograd_scalar.optim import SGD
    from autograd_scalar.train import _CompiledLoss, fit

    assert _CompiledLoss.rows([[1, 2.5]]) == [[1.0, 2.5]]
    assert _CompiledLoss.rows([[True, 2.5]]) is None and _CompiledLoss.rows([3.0]) is None
    for compile_ in (True, False):
        model = MLP(2, [3, 1], seed=0)
        with pytest.raises(TypeError, match="expected a real number or a Value, got True"):
            fit(model, [[True, 0.5], [0.1, 0.2]], [0, 1], "bce", SGD(model.parameters(), lr=0.1), 1, compile=compile_)


def test_an_operation_defined_outside_the_engine_compiles_through_its_own_functions():
    from autograd_scalar.rules import cos

    sine = ag.define_op("compiled_test_sine", math.sin, lambda out, x: (cos(x),))
    hyp = ag.define_op("compiled_test_hypot", math.hypot, lambda out, a, b: (a / out, b / out))
    w, v = Value(0.7), Value(-1.2)

    def fn(x):
        return sine(w * x) * hyp(w, v * x) + sine(3.0)

    cf = ag.compile(fn)
    for x in (0.9, -2.0, 0.1):
        w.grad = v.grad = 0.0
        got, grads = cf(x), (w.grad, v.grad)
        w.grad = v.grad = 0.0
        ref = fn(x)
        ref.backward()
        assert (got.hex(), hexes(grads)) == (ref.data.hex(), hexes((w.grad, v.grad)))
    assert "_f_compiled_test_sine" in cf.source and "_l_compiled_test_hypot" in cf.source

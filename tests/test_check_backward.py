"""check_backward on hand-written NumPy layers: the right backward passes (linear, relu, mse, and
mse(relu(x @ W + b))), and each classic mistake gets its own message: the array and index, both
numbers, and the sum of scalar paths that makes the right value. Also the learners' worked example
(dx = [-1.5, 1.5], not the widely copied [-1.6, 1.5]), the upstream default, bad arguments, and
the error without NumPy."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from autograd_scalar import GradcheckError
from autograd_scalar.testing import check_backward

# The learners' worked example: one sample, two features, two outputs.
X = np.array([[1.0, 2.0]])
W = np.array([[0.5, -1.0], [1.5, 0.0]])
B = np.array([0.1, 0.2])
DOUT = np.array([[1.0, 2.0]])

# A batch of three, for the sums over the batch.
X3 = np.array([[1.0, 2.0], [-0.5, 0.25], [3.0, -1.0]])


def linear(x, W, b):
    return x @ W + b


def linear_backward(x, W, b, dout):
    return dout @ W.T, x.T @ dout, dout.sum(0)


def _message(call) -> str:
    with pytest.raises(GradcheckError) as info:
        call()
    return str(info.value)


# ---- the right backward passes ----------------------------------------------------------------


def test_the_correct_linear_layer_passes():
    assert check_backward(linear, linear_backward, upstream=DOUT, x=X, W=W, b=B) is True
    assert check_backward(linear, linear_backward, x=X3, W=W, b=B) is True


def test_a_layer_class_as_users_write_it_passes():
    class Linear:
        def forward(self, x, W, b):
            return x @ W + b

        def backward(self, x, W, b, dout):
            return dout @ W.T, x.T @ dout, dout.sum(0)

    assert check_backward(Linear().forward, Linear().backward, x=X3, W=W, b=B)


def relu(x):
    return np.maximum(x, 0)  # Value compares by .data, so NumPy's own relu runs on the engine


def relu_backward(x, dout):
    return dout * (x > 0)


def test_relu_passes():
    x = np.array([[1.5, -0.5, 2.0], [-1.0, 0.3, -2.5]])
    assert check_backward(relu, relu_backward, x=x)
    assert check_backward(lambda x: (x + abs(x)) / 2, relu_backward, x=x)  # the same relu, written with abs


def test_relu_without_the_mask_is_caught():
    x = np.array([[1.5, -0.5]])
    with pytest.raises(GradcheckError, match=r"dx\[0, 1\]: yours .*, engine 0 \(= 0: no path from it to the output\)"):
        check_backward(relu, lambda x, dout: (dout,), x=x)


def mse(pred, target):
    return ((pred - target) ** 2).mean()


def mse_backward(pred, target):
    diff = 2 * (pred - target) / pred.size
    return diff, -diff


def test_mse_passes_without_an_upstream_gradient():
    pred, target = np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([[1.0, 0.0], [1.5, 0.5]])
    assert check_backward(mse, mse_backward, pred=pred, target=target)


def test_mse_of_relu_of_a_linear_layer_passes_and_none_skips_an_array():
    def forward(x, W, b, y):
        return mse(relu(x @ W + b), y)

    def backward(x, W, b, y):
        z = x @ W + b
        dpred, _ = mse_backward(np.maximum(z, 0), y)
        dz = dpred * (z > 0)
        return dz @ W.T, x.T @ dz, dz.sum(0), None  # no gradient for the targets

    y = np.array([[1.0, 0.5], [0.0, 1.0], [2.0, -1.0]])
    assert check_backward(forward, backward, x=X3, W=W, b=B, y=y)


# ---- the classic mistakes, each with its message ------------------------------------------------


def test_the_widely_copied_minus_1_6_is_caught_with_the_paths_that_make_minus_1_5():
    def backward(x, W, b, dout):
        return np.array([[-1.6, 1.5]]), x.T @ dout, dout.sum(0)

    message = _message(lambda: check_backward(linear, backward, upstream=DOUT, x=X, W=W, b=B))
    assert message.splitlines() == [
        "check_backward: dx is wrong (upstream dout = [[1.0, 2.0]])",
        "dx: 1 of 2 entries wrong",
        "  dx[0, 0]: yours -1.6, engine -1.5 (= dout[0,0]*W[0,0] + dout[0,1]*W[0,1] = 1*0.5 + 2*-1)",
    ]


def test_missing_transpose_dx_is_dout_at_W():
    def backward(x, W, b, dout):
        return dout @ W, x.T @ dout, dout.sum(0)

    message = _message(lambda: check_backward(linear, backward, upstream=DOUT, x=X, W=W, b=B))
    assert message.splitlines() == [
        "check_backward: dx is wrong (upstream dout = [[1.0, 2.0]])",
        "dx: 2 of 2 entries wrong",
        "  dx[0, 0]: yours 3.5, engine -1.5 (= dout[0,0]*W[0,0] + dout[0,1]*W[0,1] = 1*0.5 + 2*-1)",
        "  dx[0, 1]: yours -1, engine 1.5 (= dout[0,0]*W[1,0] + dout[0,1]*W[1,1] = 1*1.5 + 2*0)",
    ]


def test_missing_sum_over_the_batch_db_is_dout():
    def backward(x, W, b, dout):
        return dout @ W.T, x.T @ dout, dout

    dout = np.array([[1.0, 2.0], [0.5, -1.0], [-2.0, 1.5]])
    message = _message(lambda: check_backward(linear, backward, upstream=dout, x=X3, W=W, b=B))
    lines = message.splitlines()
    assert lines[0] == "check_backward: db is wrong (upstream dout = [[1.0, 2.0], [0.5, -1.0], [-2.0, 1.5]])"
    assert lines[1].startswith("db: shape (3, 2), but b has shape (2,): yours [[1.0, 2.0], [0.5, -1.0]")
    assert lines[1].endswith("engine [-0.5, 2.5]")
    assert lines[2] == "  db[0] = -0.5 (= dout[0,0] + dout[1,0] + dout[2,0] = 1 + 0.5 - 2)"
    assert lines[3] == "  db[1] = 2.5 (= dout[0,1] + dout[1,1] + dout[2,1] = 2 - 1 + 1.5)"


def test_db_is_dout_is_caught_even_for_a_batch_of_one():
    def backward(x, W, b, dout):
        return dout @ W.T, x.T @ dout, dout

    message = _message(lambda: check_backward(linear, backward, upstream=DOUT, x=X, W=W, b=B))
    assert "db: shape (1, 2), but b has shape (2,): yours [[1.0, 2.0]], engine [1.0, 2.0]" in message
    assert "  db[0] = 1 (= dout[0,0] = 1)" in message


def test_wrong_order_dW_is_dout_at_x_transposed():
    def backward(x, W, b, dout):
        return dout @ W.T, dout @ x.T, dout.sum(0)

    x2 = np.array([[1.0, 2.0], [3.0, -1.0]])  # two samples: dout @ x.T is 2x2 too, only the values are wrong
    dout = np.array([[1.0, 2.0], [0.5, -1.0]])
    message = _message(lambda: check_backward(linear, backward, upstream=dout, x=x2, W=W, b=B))
    lines = message.splitlines()
    assert lines[0].startswith("check_backward: dW is wrong")
    assert lines[1] == "dW: 4 of 4 entries wrong"
    # dW[i, j] = sum over samples n of x[n, i] * dout[n, j]
    assert lines[2] == "  dW[0, 0]: yours 5, engine 2.5 (= dout[0,0]*x[0,0] + dout[1,0]*x[1,0] = 1*1 + 0.5*3)"
    assert lines[3] == "  dW[0, 1]: yours 1, engine -1 (= dout[0,1]*x[0,0] + dout[1,1]*x[1,0] = 2*1 - 1*3)"


def test_assignment_where_accumulation_was_needed_in_a_residual_layer():
    def forward(x, W):
        return x @ W + x  # x is used twice

    def backward_assigns(x, W, dout):
        dx = dout @ W.T
        dx = dout  # the bug: the second path overwrites the first
        return dx, x.T @ dout

    def backward_adds(x, W, dout):
        dx = dout @ W.T
        dx += dout
        return dx, x.T @ dout

    assert check_backward(forward, backward_adds, upstream=DOUT, x=X, W=W)
    message = _message(lambda: check_backward(forward, backward_assigns, upstream=DOUT, x=X, W=W))
    assert message.splitlines() == [
        "check_backward: dx is wrong (upstream dout = [[1.0, 2.0]])",
        "dx: 2 of 2 entries wrong",
        # x[0,0] reaches out[0,0] twice (through W[0,0], and directly) and out[0,1] once
        "  dx[0, 0]: yours 1, engine -0.5 "
        "(= dout[0,0]*W[0,0] + dout[0,0] + dout[0,1]*W[0,1] = 1*0.5 + 1 + 2*-1)",
        "  dx[0, 1]: yours 2, engine 3.5 (= dout[0,0]*W[1,0] + dout[0,1]*W[1,1] + dout[0,1] = 1*1.5 + 2*0 + 2)",
    ]


def test_swapped_outputs_are_named():
    def backward(x, W, b, dout):
        return dout @ W.T, dout.sum(0), x.T @ dout

    message = _message(lambda: check_backward(linear, backward, x=X3, W=W, b=B))
    assert message.splitlines()[0].startswith("check_backward: dW, db are wrong (upstream dout = [[")
    assert "dW: shape (2,), but W has shape (2, 2)" in message
    assert "db: shape (2, 2), but b has shape (2,)" in message
    assert "dW is the gradient of b (db): are backward's outputs in the order dx, dW, db?" in message
    assert "db is the gradient of W (dW): are backward's outputs in the order dx, dW, db?" in message


def test_a_big_array_is_truncated():
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(20, 30)), rng.normal(size=(30, 10)), rng.normal(size=10)

    def backward(x, W, b, dout):
        return dout @ W.T * 1.01, x.T @ dout, dout.sum(0)

    message = _message(lambda: check_backward(linear, backward, x=x, W=w, b=b))
    lines = message.splitlines()
    assert lines[1] == "dx: 600 of 600 entries wrong"
    assert len(lines) == 2 + 5 + 1 and lines[-1] == "  ... and 595 more wrong entries of dx"
    assert lines[2].startswith("  dx[0, 0]: yours ") and lines[2].endswith("+ ... (10 paths in all))")
    assert "(upstream dout = [" in lines[0] and ", ...])" in lines[0]


# ---- the upstream gradient ----------------------------------------------------------------------


def test_the_default_upstream_catches_what_ones_would_miss():
    def backward_ignores_dout(x, W, b, dout):
        ones = np.ones_like(dout)
        return ones @ W.T, x.T @ ones, ones.sum(0)

    assert check_backward(linear, backward_ignores_dout, upstream=np.ones((3, 2)), x=X3, W=W, b=B)
    first = _message(lambda: check_backward(linear, backward_ignores_dout, x=X3, W=W, b=B))
    again = _message(lambda: check_backward(linear, backward_ignores_dout, x=X3, W=W, b=B))
    assert first == again  # seeded: the same upstream every run
    assert first.startswith("check_backward: dx, dW, db are wrong (upstream dout = [[")


def test_backward_receives_the_upstream_and_copies():
    seen = {}

    def backward(x, W, b, dout):
        seen["dout"] = dout.copy()
        x[:] = 0.0  # a backward that scribbles on its inputs changes nothing
        return dout @ W.T, X.T @ dout, dout.sum(0)

    check_backward(linear, backward, upstream=DOUT, x=X, W=W, b=B)
    assert seen["dout"].tolist() == [[1.0, 2.0]]
    assert X.tolist() == [[1.0, 2.0]]
    default = []

    def record(x, W, b, dout):
        default.append(dout)
        return linear_backward(x, W, b, dout)

    check_backward(linear, record, x=X3, W=W, b=B)
    d = default[0]
    assert d.shape == (3, 2) and np.all(np.abs(d) >= 0.5) and np.all(np.abs(d) <= 2.0)
    assert np.all(np.round(d, 2) == d)


# ---- scalars and bad arguments -------------------------------------------------------------------


def test_plain_numbers_need_no_numpy_and_name_the_paths(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)

    def forward(x, y):
        return (x * y).tanh()

    def backward(x, y, dout):
        import math

        local = 1 - math.tanh(x * y) ** 2
        return dout * local * y, dout * local * y  # dy should use x

    assert check_backward(forward, lambda x, y, dout: (backward(x, y, dout)[0], backward(y, x, dout)[0]), x=0.5, y=2.0)
    message = _message(lambda: check_backward(forward, backward, x=0.5, y=2.0))
    assert message.splitlines()[:2] == ["check_backward: dy is wrong (upstream dout = 1)", "dy: 1 of 1 entries wrong"]
    # d tanh(x*y)/dy = (1 - tanh(x*y)**2) * x: the local derivative of tanh is a number, x keeps its name
    assert message.splitlines()[2] == "  dy: yours 0.839949, engine 0.209987 (= 0.419974*dout*x = 0.419974*1*0.5)"


def test_arrays_without_numpy_say_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    with pytest.raises(ImportError) as info:
        check_backward(linear, linear_backward, x=[[1.0, 2.0]], W=[[0.5, -1.0], [1.5, 0.0]], b=[0.1, 0.2])
    message = str(info.value)
    assert "check_backward: arrays need NumPy (x is a list)" in message
    assert "pip install numpy" in message and "autograd-scalar[numpy]" in message


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: check_backward(linear, "backward", x=X, W=W, b=B), TypeError, ["must be callable", "'backward'"]),
        (lambda: check_backward(linear, linear_backward), TypeError, ["keyword arguments"]),
        (lambda: check_backward(linear, linear_backward, x=[[1.0, float("nan")]], W=W, b=B), ValueError,
         ["x must hold finite numbers", "nan"]),
        (lambda: check_backward(linear, linear_backward, x=[["a", 1.0]], W=W, b=B), TypeError,
         ["x must be an array of numbers", "'a'"]),
        (lambda: check_backward(linear, linear_backward, upstream=np.ones(2), x=X, W=W, b=B), ValueError,
         ["upstream has shape (2,)", "(1, 2)"]),
        (lambda: check_backward(lambda x, W, b: np.zeros((1, 2)), linear_backward, x=X, W=W, b=B),
         TypeError, ["forward returned no Values"]),
        (lambda: check_backward(linear, lambda x, W, b, dout: dout @ W.T, x=X, W=W, b=B), TypeError,
         ["expected a tuple (dx, dW, db)"]),
        (lambda: check_backward(linear, lambda x, W, b, dout: (dout @ W.T, dout), x=X, W=W, b=B), ValueError,
         ["returned 2 gradients; expected 3 (dx, dW, db)"]),
        (lambda: check_backward(mse, mse_backward, upstream=1.0, pred=X, target=X), TypeError,
         ["takes no upstream gradient"]),
    ],
)  # fmt: skip
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_a_gradient_that_is_not_numbers_is_reported():
    message = _message(lambda: check_backward(linear, lambda x, W, b, d: (d @ W.T, "dW", d.sum(0)), x=X, W=W, b=B))
    assert "dW: not an array of numbers: 'dW'" in message


# ---- the README's section "Check your own gradients" runs as written ------------------------------


def _readme_section() -> tuple[list[str], list[str]]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index("## Check your own gradients")
    section = text[start : text.index("\n## ", start + 1)]
    python = re.findall(r"^```python\n(.*?)^```", section, re.S | re.M)
    output = re.findall(r"^```text\n(.*?)^```", section, re.S | re.M)
    return python, output


def test_readme_examples_run_as_written():
    python, _ = _readme_section()
    assert len(python) == 3
    for block in python:
        # a line whose comment says "# True" must evaluate to True
        lines = [f"assert ({line.split('#')[0].strip()}) is True" if line.rstrip().endswith("# True") else line
                 for line in block.splitlines()]  # fmt: skip
        namespace: dict = {}
        exec(compile("\n".join(lines), "README.md", "exec"), namespace)
        if "test_my_engine_matches" in namespace:
            namespace["test_my_engine_matches"]()
    assert sum(line.rstrip().endswith("# True") for block in python for line in block.splitlines()) == 2


def test_readme_outputs_are_what_the_tools_print(monkeypatch):
    from autograd_scalar import gradcheck
    from autograd_scalar.rules import RULES, Rule

    _, output = _readme_section()
    assert len(output) == 2

    def backward(x, W, b, dout):
        return np.array([[-1.6, 1.5]]), x.T @ dout, dout.sum(0)

    assert _message(lambda: check_backward(linear, backward, upstream=DOUT, x=X, W=W, b=B)) == output[1].rstrip()
    monkeypatch.setitem(RULES, "tanh", Rule("tanh", lambda out, x: (1 - x * x,), ("1 - x**2",)))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: (x * y).tanh() + x.log(), [0.7, -1.3])
    assert str(info.value) == output[0].rstrip()

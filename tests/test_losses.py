"""losses: values and gradients by hand and against PyTorch float64, stability at |logit| = 1000,
and a ValueError that says what is wrong for bad batches and labels."""

from __future__ import annotations

import math
import random

import pytest

from autograd_scalar import Value
from autograd_scalar.losses import binary_cross_entropy, hinge, l2, mse, softmax_cross_entropy


def values(xs):
    return [Value(x) for x in xs]


# ---- by hand ---------------------------------------------------------------------------------

def test_mse_by_hand():
    y = values([1.0, 3.0])
    loss = mse(y, [0.0, 1.0])
    loss.backward()
    assert loss.data == (1 + 4) / 2
    assert [v.grad for v in y] == [2 * 1 / 2, 2 * 2 / 2]        # 2 (y - t) / n
    assert mse(values([1.0, 3.0]), [0.0, 1.0], reduction="sum").data == 5.0
    assert mse(Value(2.0), 0.5).data == 2.25                       # one output, one target


def test_bce_by_hand():
    z = Value(0.0)
    loss = binary_cross_entropy([z], [1])
    loss.backward()
    assert loss.data == pytest.approx(math.log(2), abs=1e-15)
    assert z.grad == pytest.approx(-0.5, abs=1e-15)               # sigmoid(0) - 1
    z = Value(2.0)
    loss = binary_cross_entropy([z], [0.25])
    loss.backward()
    p = 1 / (1 + math.exp(-2.0))
    assert loss.data == pytest.approx(-(0.25 * math.log(p) + 0.75 * math.log(1 - p)), rel=1e-14)
    assert z.grad == pytest.approx(p - 0.25, abs=1e-15)


@pytest.mark.parametrize("logit, target, loss_value, gradient", [
    (1000.0, 1, 0.0, 0.0),
    (1000.0, 0, 1000.0, 1.0),
    (-1000.0, 0, 0.0, 0.0),
    (-1000.0, 1, 1000.0, -1.0),
    (1000.0, 0.5, 500.0, 0.5),
])
def test_bce_is_stable_at_large_logits(logit, target, loss_value, gradient):
    z = Value(logit)
    loss = binary_cross_entropy([z], [target])
    loss.backward()
    assert loss.data == loss_value and z.grad == gradient


def test_hinge_by_hand():
    s = values([2.0, 0.5, 0.5])
    loss = hinge(s, [1, 1, -1])
    loss.backward()
    assert loss.data == pytest.approx((0 + 0.5 + 1.5) / 3, abs=1e-15)
    assert [v.grad for v in s] == [0.0, -1 / 3, 1 / 3]             # past the margin: no gradient


def test_softmax_cross_entropy_by_hand():
    z = values([1.0, 2.0, 3.0])
    loss = softmax_cross_entropy([z], [0])
    loss.backward()
    e = [math.exp(v) for v in (1.0, 2.0, 3.0)]
    softmax = [v / sum(e) for v in e]
    assert loss.data == pytest.approx(-math.log(softmax[0]), abs=1e-15)
    assert [v.grad for v in z] == pytest.approx([softmax[0] - 1, softmax[1], softmax[2]], abs=1e-15)


def test_softmax_cross_entropy_is_stable_at_large_logits():
    z = values([1000.0, -1000.0, 999.0])
    loss = softmax_cross_entropy(z, 2)
    loss.backward()
    assert loss.data == pytest.approx(math.log(1 + math.exp(1)), abs=1e-12)   # log(e^1000 + e^999) - 999
    assert z[2].grad == pytest.approx(1 / (1 + math.e) - 1, abs=1e-15)
    assert z[1].grad == 0.0


def test_l2_by_hand():
    p = values([3.0, -4.0])
    reg = l2(p, alpha=0.5)
    reg.backward()
    assert reg.data == 12.5
    assert [v.grad for v in p] == [3.0, -4.0]                       # 2 * alpha * p


# ---- against PyTorch float64 ---------------------------------------------------------------

def _random_batch(seed, n=12, scale=5.0):
    rng = random.Random(seed)
    return [rng.uniform(-scale, scale) for _ in range(n)], rng


@pytest.mark.parametrize("seed", range(3))
def test_mse_bce_hinge_match_torch(torch, seed):
    F = torch.nn.functional
    xs, rng = _random_batch(seed)
    xs[:2] = [800.0, -900.0]                                      # large logits too
    soft = [rng.random() for _ in xs]
    signs = [rng.choice([-1, 1]) for _ in xs]
    cases = [
        (mse, soft, lambda t, y: F.mse_loss(t, y)),
        (binary_cross_entropy, soft, lambda t, y: F.binary_cross_entropy_with_logits(t, y)),
        (hinge, signs, lambda t, y: torch.clamp(1 - y * t, min=0).mean()),
    ]
    for ours, targets, theirs in cases:
        z = values(xs)
        loss = ours(z, targets)
        loss.backward()
        t = torch.tensor(xs, requires_grad=True)
        expected = theirs(t, torch.tensor(targets, dtype=torch.float64))
        expected.backward()
        assert loss.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-12), ours.__name__
        assert [v.grad for v in z] == pytest.approx(t.grad.tolist(), rel=1e-12, abs=1e-15), ours.__name__


@pytest.mark.parametrize("seed", range(3))
def test_softmax_cross_entropy_matches_torch(torch, seed):
    rng = random.Random(seed)
    rows = [[rng.uniform(-8, 8) for _ in range(4)] for _ in range(6)]
    rows[0] = [1000.0, -1000.0, 5.0, 999.5]
    labels = [rng.randrange(4) for _ in rows]
    z = [values(row) for row in rows]
    loss = softmax_cross_entropy(z, labels)
    loss.backward()
    t = torch.tensor(rows, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), rel=1e-12)
    assert [v.grad for row in z for v in row] == pytest.approx(t.grad.flatten().tolist(), abs=1e-15)


def test_sum_reduction_matches_torch(torch):
    xs, _ = _random_batch(7)
    targets = [1.0 if x > 0 else 0.0 for x in xs]
    loss = binary_cross_entropy(values(xs), targets, reduction="sum")
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(xs), torch.tensor(targets), reduction="sum"
    )
    assert loss.data == pytest.approx(expected.item(), rel=1e-12)


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: mse(values([1, 2]), [1.0]), "mse: 2 outputs but 1 targets"),
    (lambda: binary_cross_entropy(values([1, 2, 3]), [0, 1]), "binary_cross_entropy: 3 outputs but 2 targets"),
    (lambda: hinge([], [1]), "hinge: 0 outputs but 1 targets"),
    (lambda: mse([], []), "mse: empty batch"),
    (lambda: softmax_cross_entropy([], []), "softmax_cross_entropy: empty batch"),
    (lambda: binary_cross_entropy(values([0.5]), [2]), r"label 2 is outside the classes \(a target is 0, 1"),
    (lambda: binary_cross_entropy(values([0.5]), [-0.1]), "label -0.1 is outside the classes"),
    (lambda: binary_cross_entropy(values([0.5]), [float("nan")]), "label nan is outside the classes"),
    (lambda: hinge(values([0.5, 1.0]), [1, 0]), r"hinge: label 0 is outside the classes \(-1 or \+1\)"),
    (lambda: hinge(values([0.5]), [True]), "label True is outside the classes"),
    (lambda: softmax_cross_entropy([values([1, 2, 3])], [3]), r"label 3 is outside the classes \(an int from 0 to 2\)"),
    (lambda: softmax_cross_entropy([values([1, 2, 3])], [-1]), "label -1 is outside the classes"),
    (lambda: softmax_cross_entropy([values([1, 2, 3])], [1.0]), "label 1.0 is outside the classes"),
    (lambda: softmax_cross_entropy([values([1, 2, 3]), values([1, 2])], [0, 0]), "same number of classes"),
    (lambda: mse(values([1]), [1], reduction="max"), "reduction must be 'mean' or 'sum', got 'max'"),
    (lambda: l2([]), "l2: empty list"),
    (lambda: l2(values([1]), alpha=-1.0), "alpha must be a finite number >= 0, got -1.0"),
])
def test_bad_input_says_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("loss", ["bce", "hinge", "mse"])
def test_a_k_output_model_with_a_one_output_loss_says_so(loss):
    """#16: "bce" on a 3-output model used to raise "expected a real number or a Value, got [Value, ...]"."""
    from autograd_scalar.nn import MLP
    from autograd_scalar.optim import Adam
    from autograd_scalar.train import fit

    model = MLP(2, [3, 3], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="one output per sample, got a row of 3"):
        fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1], loss, Adam(model.parameters()), epochs=1)
    assert [p.data for p in model.parameters()] == before


def test_cross_entropy_on_a_one_output_model_says_so():
    """#16: it used to raise "'Value' object is not iterable"."""
    from autograd_scalar.nn import MLP
    from autograd_scalar.optim import Adam
    from autograd_scalar.train import fit

    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: expects a row of logits .* needs 'bce'"):
        fit(model, [[0.0, 1.0], [1.0, 0.0]], [0, 1], "cross_entropy", Adam(model.parameters()), epochs=1)
    with pytest.raises(ValueError, match="row of logits"):
        softmax_cross_entropy([1.0, 2.0], [0, 1])      # two samples of one logit each, not one row

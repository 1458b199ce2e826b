"""optim: SGD (momentum, dampening, Nesterov, weight decay) and Adam follow torch.optim step for step
(20 steps on the same network, to 1e-12), by-hand updates, zero_grad, and clear errors."""

from __future__ import annotations

import math

import pytest

from autograd_scalar import Value
from autograd_scalar.datasets import xor
from autograd_scalar.losses import binary_cross_entropy
from autograd_scalar.nn import MLP
from autograd_scalar.optim import SGD, Adam

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
]


@pytest.mark.parametrize("name, options", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_twenty_steps_match_torch(torch, name, options):
    X, y = xor(16, seed=3)
    model = MLP(2, [5, 4, 1], seed=1)
    # the same network in torch: one weight matrix and one bias vector per layer
    layers = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], requires_grad=True)
        layers.append((W, b, layer.activation))
    ours = {"SGD": SGD, "Adam": Adam}[name](model.parameters(), **options)
    theirs = getattr(torch.optim, name)([t for W, b, _ in layers for t in (W, b)], **options)
    inputs, targets = torch.tensor(X), torch.tensor(y, dtype=torch.float64)

    for step in range(20):
        ours.zero_grad()
        binary_cross_entropy([model(x) for x in X], y).backward()
        ours.step()

        theirs.zero_grad()
        h = inputs
        for W, b, activation in layers:
            h = h @ W.T + b
            h = torch.tanh(h) if activation == "tanh" else h
        torch.nn.functional.binary_cross_entropy_with_logits(h.squeeze(1), targets).backward()
        theirs.step()

        expected = [v for W, b, _ in layers for row, bias in zip(W.tolist(), b.tolist()) for v in [*row, bias]]
        got = [p.data for p in model.parameters()]
        assert got == pytest.approx(expected, abs=1e-12, rel=0), f"step {step + 1}"
    assert got != pytest.approx([p.data for p in MLP(2, [5, 4, 1], seed=1).parameters()])  # it moved


def test_sgd_by_hand():
    w = Value(2.0)
    opt = SGD([w], lr=0.1, momentum=0.9, weight_decay=0.5)
    w.grad = 1.0
    opt.step()                                    # g = 1 + 0.5*2 = 2; b = 2; w = 2 - 0.2
    assert w.data == pytest.approx(1.8, abs=1e-15)
    opt.zero_grad()
    assert w.grad == 0.0
    w.grad = 1.0
    opt.step()                                    # g = 1 + 0.9 = 1.9; b = 0.9*2 + 1.9 = 3.7; w = 1.8 - 0.37
    assert w.data == pytest.approx(1.43, abs=1e-15)


def test_nesterov_by_hand():
    w = Value(0.0)
    opt = SGD([w], lr=1.0, momentum=0.5, nesterov=True)
    w.grad = 1.0
    opt.step()                                    # b = 1; g = 1 + 0.5*1 = 1.5
    assert w.data == -1.5
    opt.step()                                    # b = 0.5 + 1 = 1.5; g = 1 + 0.75
    assert w.data == -3.25


def test_adam_by_hand():
    w = Value(1.0)
    opt = Adam([w], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    w.grad = -4.0
    opt.step()
    m, v = 0.1 * -4.0, 0.001 * 16.0
    m_hat, v_hat = m / (1 - 0.9), v / (1 - 0.999)
    assert w.data == pytest.approx(1.0 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8), abs=1e-15)
    assert opt.t == 1
    w1 = w.data
    w.grad = 2.0
    opt.step()
    m, v = 0.9 * m + 0.1 * 2.0, 0.999 * v + 0.001 * 4.0
    expected = w1 - 0.1 * (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    assert w.data == pytest.approx(expected, abs=1e-12)


def test_optimizer_moves_only_its_parameters():
    a, b = Value(1.0), Value(1.0)
    opt = Adam([a], lr=0.1)
    a.grad = b.grad = 1.0
    opt.step()
    assert a.data < 1.0 and b.data == 1.0


def test_non_finite_gradient_raises_and_changes_nothing():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    for opt in (SGD([a, b], lr=0.1), Adam([a, b])):
        a.grad, b.grad = 1.0, float("nan")
        with pytest.raises(FloatingPointError, match="parameter 'b' has gradient nan"):
            opt.step()
        assert (a.data, b.data) == (1.0, 2.0)


@pytest.mark.parametrize("make, error, message", [
    (lambda: SGD([], lr=0.1), ValueError, "SGD: empty parameter list"),
    (lambda: SGD(Value(1.0), lr=0.1), TypeError, "single Value"),
    (lambda: SGD([1.0], lr=0.1), TypeError, "every parameter must be a Value, got 1.0"),
    (lambda: SGD([Value(1.0)] * 2, lr=0.1), ValueError, "appears twice"),
    (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be a finite number >= 0.0, got -0.1"),
    (lambda: SGD([Value(1.0)], lr=float("nan")), ValueError, "lr must be a finite number >= 0.0, got nan"),
    (lambda: SGD([Value(1.0)], lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
    (lambda: SGD([Value(1.0)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "dampening 0"),
    (lambda: Adam([Value(1.0)], betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be .* < 1.0, got 1.0"),
    (lambda: Adam([Value(1.0)], betas=(0.9,)), ValueError, "betas must be a pair"),
    (lambda: Adam([Value(1.0)], eps=-1e-8), ValueError, "eps must be a finite number >= 0.0"),
    (lambda: Adam([Value(1.0)], weight_decay="0.1"), ValueError, "weight_decay must be a finite number"),
])
def test_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_model_instead_of_its_parameters_says_what_to_pass():
    """#16: Adam(model) used to raise "'MLP' object is not iterable"."""
    model = MLP(2, [2, 1], seed=0)
    for optimizer in (SGD, Adam):
        with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
            optimizer(model, lr=0.1)


def test_zero_grad_set_to_none_is_refused_and_changes_nothing():
    """PyTorch habit: zero_grad(set_to_none=True); here a .grad is always a float, so it is refused."""
    model = MLP(2, [2, 1], seed=0)
    for p in model.parameters():
        p.grad = 1.5
    for zero_grad in (model.zero_grad, SGD(model.parameters(), lr=0.1).zero_grad):
        with pytest.raises(ValueError, match="set_to_none=True does not apply"):
            zero_grad(set_to_none=True)
        assert all(p.grad == 1.5 for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad == 0.0 for p in model.parameters())

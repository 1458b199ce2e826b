"""The bridge to PyTorch: ``MLP.to_torch()`` builds a float64 ``torch.nn.Sequential`` with the same
weights, whose outputs and gradients agree with the MLP's to 1e-12; ``MLP.from_torch`` reads one back
bit for bit (and a model trained in torch); anything it cannot read is a ValueError naming the module;
torch stays optional: imported only by these two methods, a clear ImportError without it, and the
global torch random generator is left alone."""

from __future__ import annotations

import doctest
import random
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_scalar import losses
from autograd_scalar.nn import MLP

ROOT = Path(__file__).resolve().parent.parent
SHAPES = [
    (3, [4, 2], "tanh", "linear"),
    (2, [16, 16, 1], "relu", "linear"),
    (5, [7, 3], "sigmoid", "sigmoid"),
    (4, [6, 5, 3], "tanh", "tanh"),
    (1, [1], "tanh", "relu"),
]


def _inputs(nin, count, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-3.0, 3.0) for _ in range(nin)] for _ in range(count)]


@pytest.mark.parametrize("nin, nouts, activation, output_activation", SHAPES)
def test_to_torch_has_the_same_weights_and_layout(torch, nin, nouts, activation, output_activation):
    model = MLP(nin, nouts, activation=activation, output_activation=output_activation, seed=1)
    net = model.to_torch()
    assert isinstance(net, torch.nn.Sequential)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == list(zip([nin, *nouts], nouts))
    assert all(p.dtype == torch.float64 and p.requires_grad for p in net.parameters())
    expected = [activation] * (len(nouts) - 1) + [output_activation]
    names = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
    activations = [type(m) for m in net if not isinstance(m, torch.nn.Linear)]
    assert activations == [names[a] for a in expected if a != "linear"]
    for linear, layer in zip(linears, model.layers):
        assert linear.weight.tolist() == [[w.data for w in n.w] for n in layer.neurons]
        assert linear.bias.tolist() == [n.b.data for n in layer.neurons]


@pytest.mark.parametrize("nin, nouts, activation, output_activation", SHAPES)
def test_outputs_agree_to_1e_12_on_random_inputs(torch, nin, nouts, activation, output_activation):
    model = MLP(nin, nouts, activation=activation, output_activation=output_activation, seed=2)
    net = model.to_torch()
    X = _inputs(nin, 50, seed=3)
    with torch.no_grad():
        theirs = net(torch.tensor(X, dtype=torch.float64)).tolist()
    ours = [[v.data for v in model.forward(x)] for x in X]
    assert max(abs(a - b) for row, other in zip(ours, theirs) for a, b in zip(row, other)) <= 1e-12


def test_loss_gradients_agree_with_torch(torch):
    model = MLP(4, [8, 3], seed=4)
    net = model.to_torch()
    X, y = _inputs(4, 20, seed=5), [i % 3 for i in range(20)]
    loss = losses.softmax_cross_entropy([model(x) for x in X], y)
    loss.backward()
    theirs = torch.nn.functional.cross_entropy(net(torch.tensor(X, dtype=torch.float64)), torch.tensor(y))
    theirs.backward()
    assert abs(loss.data - theirs.item()) <= 1e-12
    torch_grads = []
    for linear in (m for m in net if isinstance(m, torch.nn.Linear)):
        torch_grads += [g for row, b in zip(linear.weight.grad.tolist(), linear.bias.grad.tolist()) for g in (*row, b)]
    assert max(abs(p.grad - g) for p, g in zip(model.parameters(), torch_grads)) <= 1e-12


@pytest.mark.parametrize("nin, nouts, activation, output_activation", SHAPES[:4])
def test_parameters_round_trip_bit_for_bit(torch, nin, nouts, activation, output_activation):
    model = MLP(nin, nouts, activation=activation, output_activation=output_activation, seed=6)
    back = MLP.from_torch(model.to_torch())
    assert back.architecture() == model.architecture()
    assert [p.data.hex() for p in back.parameters()] == [p.data.hex() for p in model.parameters()]
    assert [p.label for p in back.parameters()] == [p.label for p in model.parameters()]


def test_a_model_trained_in_torch_comes_back(torch):
    model = MLP(2, [8, 1], seed=7)
    net = model.to_torch()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    X = torch.tensor(_inputs(2, 30, seed=8), dtype=torch.float64)
    target = (X[:, 0] * X[:, 1] > 0).to(torch.float64).unsqueeze(1)
    for _ in range(5):
        optimizer.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(X), target).backward()
        optimizer.step()
    back = MLP.from_torch(net)
    assert back.state_dict() != model.state_dict()                 # torch moved the weights ...
    with torch.no_grad():
        theirs = net(X).squeeze(1).tolist()
    assert max(abs(back(x).data - t) for x, t in zip(X.tolist(), theirs)) <= 1e-12   # ... and we read them


def test_from_torch_reads_a_float32_module_exactly(torch):
    net = torch.nn.Sequential(torch.nn.Linear(3, 2, dtype=torch.float32), torch.nn.ReLU(),
                              torch.nn.Linear(2, 1, dtype=torch.float32))
    model = MLP.from_torch(net)
    assert model.architecture() == {"nin": 3, "nouts": [2, 1], "activation": "relu", "output_activation": "linear"}
    assert model.layers[0].neurons[1].w[2].data == float(net[0].weight[1, 2].item())
    assert model.layers[1].neurons[0].b.data == float(net[2].bias[0].item())


def _bad_modules(torch):
    nn = torch.nn
    nan = nn.Linear(2, 2)
    with torch.no_grad():
        nan.weight[0, 1] = float("nan")
    return [
        (nn.Linear(2, 1), r"expected a torch.nn.Sequential of Linear layers, got Linear\(in_features=2"),
        (nn.Sequential(), r"no Linear layer in Sequential\(\)"),
        (nn.Sequential(nn.Linear(2, 1, bias=False)), "layer 0 has no bias"),
        (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(), nn.Linear(3, 1)), "module 1 is not Tanh, ReLU or Sigmoid: "
                                                                           "LeakyReLU"),
        (nn.Sequential(nn.Tanh(), nn.Linear(2, 1)), r"module 0 should be a Linear layer, got Tanh\(\)"),
        (nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Tanh(), nn.Linear(3, 1)), "module 2 should be a Linear layer"),
        (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), r"Linear\(in_features=4.* cannot read the 3 outputs"),
        (nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 1)),
         r"the hidden layers must share one activation, got \['relu', 'tanh'\]"),
        (nn.Sequential(nan), "Linear layer 0 holds a parameter that is not finite: nan"),
    ]


def test_from_torch_refuses_what_it_cannot_read(torch):
    for module, message in _bad_modules(torch):
        with pytest.raises(ValueError, match="MLP.from_torch: " + message):
            MLP.from_torch(module)


def test_to_torch_leaves_torchs_random_generator_alone(torch):
    torch.manual_seed(0)
    state = torch.get_rng_state()
    MLP(8, [16, 4], seed=0).to_torch()
    assert torch.equal(torch.get_rng_state(), state)


def test_the_docstring_examples_run_where_torch_is(torch):
    # they are marked +SKIP so that the package's doctests pass without torch; here they run
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for method in (MLP.to_torch, MLP.from_torch):
        test = parser.get_doctest(method.__doc__, {"MLP": MLP}, method.__qualname__, None, 0)
        for example in test.examples:
            example.options.clear()
        assert len(test.examples) >= 2
        result = runner.run(test, out=lambda text: None)
        assert result.failed == 0, f"{method.__qualname__}: {result}"


def test_without_torch_the_error_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)                  # import torch -> ImportError
    with pytest.raises(ImportError, match=r"MLP.to_torch: needs PyTorch \(pip install torch\)"):
        MLP(2, [1], seed=0).to_torch()
    with pytest.raises(ImportError, match=r"MLP.from_torch: needs PyTorch \(pip install torch\)"):
        MLP.from_torch(object())


def test_importing_the_package_imports_neither_torch_nor_scikit_learn():
    code = ("import sys, autograd_scalar, autograd_scalar.nn, autograd_scalar.datasets, autograd_scalar.train\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'numpy', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"

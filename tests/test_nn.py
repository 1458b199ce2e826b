"""nn: parameter order and names, seeded Glorot/He initialisation, what a call returns, clear errors,
no needless nodes in a neuron, and Mazur's 2-2-2 sigmoid network to the published digits."""

from __future__ import annotations

import math
import random

import pytest

from autograd_scalar import Value
from autograd_scalar.engine import topological_order
from autograd_scalar.nn import ACTIVATIONS, MLP, Layer, Neuron, init_bound
from autograd_scalar.optim import SGD


def test_parameter_count_and_order():
    model = MLP(3, [4, 2], seed=0)
    params = model.parameters()
    assert len(params) == (3 + 1) * 4 + (4 + 1) * 2
    expected = []
    for layer in model.layers:
        for neuron in layer.neurons:
            expected += [*neuron.w, neuron.b]
    assert all(a is b for a, b in zip(params, expected)) and len(params) == len(expected)


def test_named_parameters_are_stable_and_label_the_values():
    model = MLP(2, [3, 1], seed=0)
    names = [name for name, _ in model.named_parameters()]
    expected = [f"layers.0.neurons.{n}.{p}" for n in range(3) for p in ("w.0", "w.1", "b")]
    expected += [f"layers.1.neurons.0.{p}" for p in ("w.0", "w.1", "w.2", "b")]
    assert names == expected
    assert [p.label for _, p in model.named_parameters()] == expected
    assert [p for _, p in model.named_parameters()] == model.parameters()


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_seeded_init_follows_the_formula(activation):
    # Glorot: a = sqrt(6 / (fan_in + fan_out)); He: a = sqrt(6 / fan_in); weights U(-a, a) drawn in
    # parameters() order from one random.Random(seed); biases 0.
    model = MLP(2, [3, 1], activation=activation, seed=7)
    rng = random.Random(7)
    expected = []
    for nin, nout, act in ((2, 3, activation), (3, 1, "linear")):
        a = math.sqrt(6 / nin) if act == "relu" else math.sqrt(6 / (nin + nout))
        for _ in range(nout):
            expected += [rng.uniform(-a, a) for _ in range(nin)] + [0.0]
    assert [p.data for p in model.parameters()] == expected


def test_init_bound_values():
    assert init_bound("tanh", 2, 16) == math.sqrt(6 / 18)
    assert init_bound("sigmoid", 10, 5) == math.sqrt(6 / 15)
    assert init_bound("linear", 16, 1) == math.sqrt(6 / 17)
    assert init_bound("relu", 24, 100) == 0.5


def test_same_seed_same_network_other_seed_other_network_and_global_rng_untouched():
    random.seed(123)
    state = random.getstate()
    a = MLP(2, [16, 16, 1], seed=0).state_dict()
    assert random.getstate() == state
    assert MLP(2, [16, 16, 1], seed=0).state_dict() == a
    assert MLP(2, [16, 16, 1], seed=1).state_dict() != a


def test_init_scale_matches_glorot_variance():
    # U(-a, a) has variance a**2 / 3 = 2 / (fan_in + fan_out): the point of Glorot's rule
    layer = Layer(200, 100, seed=3)
    weights = [w.data for n in layer.neurons for w in n.w]
    variance = sum(w * w for w in weights) / len(weights)
    assert variance == pytest.approx(2 / 300, rel=0.03)


def test_neuron_forward_by_hand():
    n = Neuron(3, activation="tanh", seed=0)
    for w, v in zip(n.w, (0.5, -1.0, 2.0)):
        w.data = v
    n.b.data = 0.25
    assert n([1.0, 2.0, 0.5]).data == pytest.approx(math.tanh(0.5 - 2.0 + 1.0 + 0.25), abs=1e-15)
    relu = Neuron(2, activation="relu", seed=0)
    relu.w[0].data, relu.w[1].data = 1.0, 1.0
    assert relu([-3.0, 1.0]).data == 0.0
    sig = Neuron(1, activation="sigmoid", seed=0)
    sig.w[0].data = 0.0
    assert sig([5.0]).data == 0.5


def test_a_neuron_makes_no_needless_nodes():
    # b + w0*x0 + w1*x1 + w2*x2: 3 w + b leaves, 3 mul, 3 add; a sum started at 0 would add one more
    n = Neuron(3, activation="linear", seed=0)
    out = n([1.0, 2.0, 3.0])
    assert len(topological_order(out)) == 10
    assert not any(isinstance(a, float) and a == 0.0 for node in topological_order(out) for a in node.args)


def test_call_returns_one_value_for_one_output_else_a_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, Value) for v in out)
    assert isinstance(Layer(2, 1, seed=0)([1, 2]), Value)
    # a hidden layer of width 1 still feeds the next layer a list
    assert len(MLP(2, [1, 3], seed=0)([1.0, 2.0])) == 3


def test_inputs_may_be_values_and_receive_gradients():
    model = MLP(2, [4, 1], seed=0)
    x = [Value(0.5), Value(-1.0)]
    model(x).backward()
    assert x[0].grad != 0.0 and x[1].grad != 0.0


def test_micrograd_style_loss_backpropagates_to_every_weight():
    model = MLP(2, [4, 4, 1], seed=0)
    loss = (model([1.0, -1.0]) - 1.0) ** 2
    loss.backward()
    assert all(p.grad != 0.0 for n in model.layers[0].neurons for p in n.w)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("make", [
    lambda: Neuron(2, activation="softmax"),
    lambda: Layer(2, 2, activation="Tanh"),
    lambda: MLP(2, [2, 1], activation="gelu"),
    lambda: MLP(2, [2, 1], output_activation="softmax"),
])
def test_unknown_activation_lists_the_valid_ones(make):
    with pytest.raises(ValueError, match="unknown activation .*tanh, relu, sigmoid, linear"):
        make()


@pytest.mark.parametrize("model", [MLP(3, [2, 1], seed=0), Layer(3, 2, seed=0), Neuron(3, seed=0)],
                         ids=["MLP", "Layer", "Neuron"])
def test_wrong_input_length_names_expected_and_got(model):
    with pytest.raises(ValueError, match=r"expected 3 inputs, got 2"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match=r"expected 3 inputs, got 4"):
        model([1.0, 2.0, 3.0, 4.0])


def test_bad_sizes_and_inputs():
    with pytest.raises(ValueError, match="nin must be a positive int, got 0"):
        MLP(0, [1])
    with pytest.raises(ValueError, match="nouts must be a non-empty list"):
        MLP(2, [])
    with pytest.raises(ValueError, match=r"layer size in nouts must be a positive int, got 2.5"):
        MLP(2, [2.5, 1])
    with pytest.raises(TypeError, match="expected a list of 2 numbers"):
        MLP(2, [1], seed=0)(Value(1.0))


def test_state_dict_round_trip_and_failed_load_changes_nothing():
    model = MLP(2, [3, 1], seed=0)
    state = MLP(2, [3, 1], seed=5).state_dict()
    model.load_state_dict(state)
    assert model.state_dict() == state
    before = model.state_dict()
    bad = dict(state, **{"layers.1.neurons.0.b": float("nan")})
    with pytest.raises(ValueError, match="'layers.1.neurons.0.b' is nan"):
        model.load_state_dict(bad)
    missing = dict(state)
    del missing["layers.0.neurons.2.w.1"]
    with pytest.raises(ValueError, match="missing names \\['layers.0.neurons.2.w.1'\\]"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match="expected a number"):
        model.load_state_dict(dict(state, **{"layers.0.neurons.0.w.0": "0.5"}))
    assert model.state_dict() == before


def test_repr_shows_the_architecture():
    assert repr(MLP(2, [16, 16, 1], seed=0)) == "MLP(2, [16, 16, 1], activation='tanh', output_activation='linear')"
    assert repr(Layer(2, 3, activation="relu", seed=0)) == "Layer(2, 3, activation='relu')"
    assert repr(Neuron(4, seed=0)) == "Neuron(4, activation='tanh')"


# ---- Matt Mazur, "A Step by Step Backpropagation Example" (2015) --------------------------------

def mazur_network() -> MLP:
    """The 2-2-2 sigmoid network with Mazur's weights. His hidden neurons share bias b1 = 0.35 and
    his output neurons b2 = 0.60; here each neuron has its own bias, set to those values."""
    model = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
    h1, h2 = model.layers[0].neurons
    o1, o2 = model.layers[1].neurons
    weights = {  # neuron: (weight from the first input, weight from the second input, bias)
        h1: (0.15, 0.20, 0.35),   # w1, w2, b1
        h2: (0.25, 0.30, 0.35),   # w3, w4, b1
        o1: (0.40, 0.45, 0.60),   # w5, w6, b2
        o2: (0.50, 0.55, 0.60),   # w7, w8, b2
    }
    for neuron, (a, b, bias) in weights.items():
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = a, b, bias
    return model


def mazur_error(model: MLP) -> Value:
    out_o1, out_o2 = model([0.05, 0.10])
    return 0.5 * (0.01 - out_o1) ** 2 + 0.5 * (0.99 - out_o2) ** 2


def test_mazur_forward_pass():
    model = mazur_network()
    out_h1 = model.layers[0].neurons[0]([0.05, 0.10])
    out_o1, out_o2 = model([0.05, 0.10])
    assert out_h1.data == pytest.approx(0.593269992, abs=1e-9)
    assert out_o1.data == pytest.approx(0.75136507, abs=1e-8)
    assert out_o2.data == pytest.approx(0.772928465, abs=1e-9)
    assert mazur_error(model).data == pytest.approx(0.298371109, abs=1e-9)


def test_mazur_one_sgd_step_gives_the_published_weights():
    model = mazur_network()
    # Mazur updates the weights only, not the biases: give SGD the weights alone.
    weights = [p for name, p in model.named_parameters() if ".w." in name]
    biases = [p.data for name, p in model.named_parameters() if name.endswith(".b")]
    optimizer = SGD(weights, lr=0.5)
    optimizer.zero_grad()
    mazur_error(model).backward()
    assert model.layers[1].neurons[0].w[0].grad == pytest.approx(0.082167041, abs=1e-9)  # dE/dw5
    assert model.layers[0].neurons[0].w[0].grad == pytest.approx(0.000438568, abs=1e-9)  # dE/dw1
    optimizer.step()
    (h1, h2), (o1, o2) = (layer.neurons for layer in model.layers)
    published = {
        "w1": (h1.w[0], 0.149780716), "w2": (h1.w[1], 0.19956143),
        "w3": (h2.w[0], 0.24975114), "w4": (h2.w[1], 0.29950229),
        "w5": (o1.w[0], 0.35891648), "w6": (o1.w[1], 0.408666186),
        "w7": (o2.w[0], 0.511301270), "w8": (o2.w[1], 0.561370121),
    }
    for name, (w, value) in published.items():
        assert w.data == pytest.approx(value, abs=1e-8), name
    assert [p.data for name, p in model.named_parameters() if name.endswith(".b")] == biases
    # Mazur reports the error after this step as 0.291027924. His own published weights give
    # 0.2910277737 (plain float arithmetic below), 1.5e-7 lower: his figure carries a rounding slip.
    s = lambda z: 1 / (1 + math.exp(-z))
    out_h1 = s(0.149780716 * 0.05 + 0.19956143 * 0.10 + 0.35)
    out_h2 = s(0.24975114 * 0.05 + 0.29950229 * 0.10 + 0.35)
    out_o1 = s(0.35891648 * out_h1 + 0.408666186 * out_h2 + 0.6)
    out_o2 = s(0.511301270 * out_h1 + 0.561370121 * out_h2 + 0.6)
    by_hand = 0.5 * (0.01 - out_o1) ** 2 + 0.5 * (0.99 - out_o2) ** 2
    assert mazur_error(model).data == pytest.approx(by_hand, abs=1e-9)
    assert mazur_error(model).data == pytest.approx(0.291027924, abs=2e-7)


def test_micrograd_nonlin_false_is_a_linear_neuron():
    """micrograd's Neuron(nin, nonlin=False) ports unchanged: it is activation="linear"."""
    assert Neuron(3, nonlin=False, seed=0).activation == "linear"
    assert Neuron(3, nonlin=True, seed=0).activation == "tanh"
    assert [w.data for w in Neuron(3, nonlin=False, seed=0).w] == [w.data for w in Neuron(3, "linear", seed=0).w]
    with pytest.raises(TypeError, match="nonlin must be True or False"):
        Neuron(3, nonlin="no")
    with pytest.raises(ValueError, match="not both"):
        Neuron(3, activation="relu", nonlin=True)


def test_load_on_an_instance_refuses_instead_of_leaving_the_model_unchanged(tmp_path):
    """#16: model.load(path) used to return a new model and leave model as it was, silently."""
    model = MLP(2, [3, 1], seed=0)
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=1).save(path)
    before = [p.data for p in model.parameters()]
    with pytest.raises(TypeError, match=r"model = MLP.load\(path\), or serialize.load_into"):
        model.load(path)
    assert [p.data for p in model.parameters()] == before
    loaded = MLP.load(path)                        # on the class it works as before
    assert [p.data for p in loaded.parameters()] == [p.data for p in MLP(2, [3, 1], seed=1).parameters()]

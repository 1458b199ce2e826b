"""Neural networks on the engine: ``Module``, ``Neuron``, ``Layer`` and ``MLP``.

A neuron computes ``act(w[0]*x[0] + ... + w[n-1]*x[n-1] + b)``; a layer is a list of neurons that
see the same inputs; an MLP is a list of layers, each feeding the next. Every weight and bias is a
leaf ``Value``, so ``loss.backward()`` fills their ``.grad`` and an optimiser (``autograd_scalar.optim``)
moves them.

The order of ``parameters()`` is part of the interface (the save format relies on it): layer by
layer, neuron by neuron, each neuron's weights in input order, then its bias.

>>> from autograd_scalar.nn import MLP
>>> model = MLP(2, [4, 1], seed=0)
>>> len(model.parameters())              # (2 weights + 1 bias) * 4 + (4 weights + 1 bias) * 1
17
>>> y = model([1.0, -2.0])               # one output: a single Value, as in micrograd
>>> loss = (y - 1.0) ** 2
>>> loss.backward()
>>> model.parameters()[0].grad != 0.0
True
"""

from __future__ import annotations

import math
import operator
import random
from collections.abc import Sequence
from typing import Any, Union

from . import serialize
from .engine import Value
from .optim import _refuse_set_to_none
from .scopes import note_neuron

Number = Union[int, float]
Input = Sequence[Union[Value, Number]]

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
"""The activation names a neuron accepts; ``linear`` applies nothing."""

_ACTIVATION_FUNCTIONS = {"tanh": Value.tanh, "relu": Value.relu, "sigmoid": Value.sigmoid, "linear": None}
_mul = operator.mul


def _check_activation(where: str, activation: Any) -> str:
    if activation not in _ACTIVATION_FUNCTIONS:
        raise ValueError(f"{where}: unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


def _check_size(where: str, name: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {n!r}")
    return n


def _check_inputs(where: str, x: Any, nin: int) -> Sequence:
    if isinstance(x, (Value, str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(f"{where}: expected a list of {nin} numbers or Values, got {x!r}")
    if len(x) != nin:
        raise ValueError(f"{where}: expected {nin} inputs, got {len(x)}: {list(x)!r}")
    return x


_TORCH_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid"}


def _import_torch(where: str) -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(f"{where}: needs PyTorch (pip install torch): {error}") from None
    return torch


def init_bound(activation: str, fan_in: int, fan_out: int) -> float:
    """The half-width ``a`` of the uniform range ``[-a, a]`` that initial weights are drawn from.

    Glorot/Xavier for ``tanh``, ``sigmoid`` and ``linear``: ``a = sqrt(6 / (fan_in + fan_out))``,
    which keeps the variance of activations and gradients about equal from layer to layer.
    He/Kaiming for ``relu``: ``a = sqrt(6 / fan_in)``, twice the variance, because relu zeroes half
    of its inputs. Uniform rather than Gaussian draws because ``random.uniform`` is plain
    arithmetic, so a seed gives the same bits on every machine.

    >>> init_bound("tanh", 2, 16) == (6 / 18) ** 0.5, init_bound("relu", 24, 1) == 0.5
    (True, True)
    """
    _check_activation("init_bound", activation)
    if activation == "relu":
        return math.sqrt(6.0 / fan_in)
    return math.sqrt(6.0 / (fan_in + fan_out))


class _constructor(classmethod):
    """A classmethod that refuses to run on an instance, where ``model.load(path)`` would return a
    new model and silently leave ``model`` as it was."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return super().__get__(instance, owner)
        cls, name = type(instance).__name__, self.__func__.__name__

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise TypeError(f"{cls}.{name} makes a new model and leaves this one as it was: write "
                            f"model = {cls}.{name}(path), or serialize.load_into(model, path) to fill this one")

        return refuse


class Module:
    """Anything with parameters: ``parameters()``, ``named_parameters()``, ``zero_grad()``.

    Subclasses define ``named_parameters()``; the rest follows from it.
    """

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(name, Value)`` pairs in ``parameters()`` order, e.g. ``("layers.0.neurons.3.w.1", w)``."""
        return []

    def parameters(self) -> list[Value]:
        """Every trainable ``Value``: layer by layer, neuron by neuron, weights in input order, then bias."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every parameter's ``.grad`` to 0.0: gradients accumulate, so do this before each backward.

        ``set_to_none=True`` is refused (a ``.grad`` here is always a float, never ``None``).
        """
        _refuse_set_to_none(f"{type(self).__name__}.zero_grad", set_to_none)
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """``{name: value}`` for every parameter, in ``parameters()`` order (plain floats, a copy).

        >>> n = Neuron(2, seed=0)
        >>> list(n.state_dict())
        ['w.0', 'w.1', 'b']
        """
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set every parameter from ``state`` (as made by ``state_dict()``).

        Every name must be present, no other name may be, and every value must be a finite real
        number; everything is checked before anything is assigned, so a bad ``state`` raises a
        ``ValueError`` and leaves the module as it was.
        """
        values = serialize.check_state(self, state)
        for p, value in zip(self.parameters(), values):
            p.data = value

    def _label_parameters(self) -> None:
        # Parameters carry their names as labels, so graphs and error messages can show them.
        for name, p in self.named_parameters():
            p.label = name


class Neuron(Module):
    """``act(w · x + b)``: ``nin`` weights, one bias, one activation.

    Weights are drawn uniformly from ``[-a, a]`` with ``a = init_bound(activation, nin, fan_out)``
    using ``rng`` (or ``random.Random(seed)``; never the global generator); the bias starts at 0.

    >>> n = Neuron(2, activation="linear", seed=1)
    >>> n.w[0].data, n.w[1].data, n.b.data = 2.0, -3.0, 0.5
    >>> n([1.0, 1.0])
    Value(data=-0.5, grad=0.0, op='add')
    """

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        fan_out: int = 1,
        nonlin: bool | None = None,
    ) -> None:
        self.nin = _check_size("Neuron", "nin", nin)
        if nonlin is not None:  # micrograd's spelling: Neuron(nin, nonlin=False) is a linear neuron
            if not isinstance(nonlin, bool):
                raise TypeError(f"Neuron: nonlin must be True or False (micrograd's flag), got {nonlin!r}")
            if activation != "tanh" and nonlin:
                raise ValueError(f"Neuron: give activation={activation!r} or nonlin, not both")
            activation = activation if nonlin else "linear"
        self.activation = _check_activation("Neuron", activation)
        self._act = _ACTIVATION_FUNCTIONS[activation]
        rng = rng if rng is not None else random.Random(seed)
        bound = init_bound(activation, nin, fan_out)
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0)
        self._label_parameters()
        note_neuron(self)  # each call then shows as one group in the step-through and viz (scopes.py)

    def __call__(self, x: Input) -> Value:
        if len(x) != self.nin:
            _check_inputs("Neuron", x, self.nin)
        # Start the sum at the bias: b + w0*x0 + w1*x1 + ... makes no extra "0 +" node.
        out = sum(map(_mul, self.w, x), self.b)
        return out if self._act is None else self._act(out)

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def __repr__(self) -> str:
        return f"Neuron({self.nin}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons that all read the same ``nin`` inputs.

    Calling a layer returns a list of ``nout`` Values, or a single Value when ``nout == 1``.

    >>> layer = Layer(3, 2, seed=0)
    >>> len(layer([1, 2, 3])), len(layer.parameters())
    (2, 8)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.nin = _check_size("Layer", "nin", nin)
        self.nout = _check_size("Layer", "nout", nout)
        self.activation = _check_activation("Layer", activation)
        rng = rng if rng is not None else random.Random(seed)
        self.neurons = [Neuron(nin, activation, rng=rng, fan_out=nout) for _ in range(nout)]
        self._label_parameters()

    def forward(self, x: Input) -> list[Value]:
        """The outputs as a list, whatever ``nout`` is."""
        _check_inputs("Layer", x, self.nin)
        return [n(x) for n in self.neurons]

    def __call__(self, x: Input) -> Value | list[Value]:
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"neurons.{i}.{name}", p) for i, n in enumerate(self.neurons) for name, p in n.named_parameters()]

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then one layer per entry of ``nouts``.

    Hidden layers use ``activation``; the last layer uses ``output_activation``, which defaults
    to ``"linear"`` (raw scores, for the losses of ``autograd_scalar.losses``). The initial weights
    come from one ``random.Random(seed)``, drawn layer by layer, neuron by neuron, weight by weight:
    the same seed gives the same network on every machine (``seed=None`` draws a fresh one).

    Calling the model on a list of ``nin`` numbers or Values returns a list of outputs, or a single
    Value when the last layer has one output, so ``(model(x) - y) ** 2`` reads as it should.

    >>> model = MLP(2, [16, 16, 1], seed=0)
    >>> model
    MLP(2, [16, 16, 1], activation='tanh', output_activation='linear')
    >>> len(model.parameters())              # 16*(2+1) + 16*(16+1) + 1*(16+1)
    337
    >>> model.named_parameters()[3][0]
    'layers.0.neurons.1.w.0'
    >>> MLP(2, [16, 16, 1], seed=0).state_dict() == model.state_dict()
    True
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str | None = None,
        seed: int | None = None,
    ) -> None:
        self.nin = _check_size("MLP", "nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nouts = [_check_size("MLP", "each layer size in nouts", n) for n in nouts]
        self.activation = _check_activation("MLP", activation)
        self.output_activation = _check_activation("MLP", "linear" if output_activation is None else output_activation)
        rng = random.Random(seed)
        sizes = [nin, *self.nouts]
        activations = [self.activation] * (len(self.nouts) - 1) + [self.output_activation]
        self.layers = [Layer(sizes[i], sizes[i + 1], activations[i], rng=rng) for i in range(len(self.nouts))]
        self._label_parameters()

    def forward(self, x: Input) -> list[Value]:
        """The outputs of the last layer as a list, whatever its size."""
        _check_inputs("MLP", x, self.nin)
        for layer in self.layers:
            x = [n(x) for n in layer.neurons]
        return x

    def __call__(self, x: Input) -> Value | list[Value]:
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()
        ]

    def architecture(self) -> dict[str, Any]:
        """What ``MLP(**architecture)`` needs to rebuild this network's shape (not its values)."""
        return {
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }

    def save(self, path: Any) -> None:
        """Write the architecture and every parameter to ``path`` as JSON (see ``autograd_scalar.serialize``)."""
        serialize.save(self, path)

    @_constructor
    def load(cls, path: Any) -> MLP:
        """A new MLP read from a file written by ``save``; a bad file raises ``ValueError``.

        Call it on the class, ``model = MLP.load(path)``: on an instance it raises ``TypeError``
        rather than return a new model and leave ``model`` as it was.
        """
        document = serialize.read(path)
        try:
            model = cls(**document["architecture"], seed=0)
        except ValueError as error:  # an activation name nn does not know
            raise ValueError(f"load {str(path)!r}: {error}") from None
        for p, value in zip(model.parameters(), document["parameters"]):
            p.data = value
        return model

    def to_torch(self) -> Any:
        """An equivalent ``torch.nn.Sequential`` in float64: ``Linear`` layers with this MLP's weights.

        Each layer becomes ``torch.nn.Linear(nin, nout)`` whose ``weight[j, i]`` is neuron ``j``'s
        weight ``i`` and ``bias[j]`` its bias, followed by ``Tanh``, ``ReLU`` or ``Sigmoid`` (nothing
        for ``linear``). The floats are copied as they are, so the torch model computes the same
        function (to rounding: it sums in another order) and trains on from here. Needs PyTorch.

        >>> model = MLP(3, [4, 2], seed=0)
        >>> net = model.to_torch()                                  # doctest: +SKIP
        >>> net                                                     # doctest: +SKIP
        Sequential(
          (0): Linear(in_features=3, out_features=4, bias=True)
          (1): Tanh()
          (2): Linear(in_features=4, out_features=2, bias=True)
        )
        """
        torch = _import_torch("MLP.to_torch")
        modules = []
        for layer in self.layers:
            linear = torch.nn.utils.skip_init(torch.nn.Linear, layer.nin, layer.nout, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
                linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
            modules.append(linear)
            if layer.activation != "linear":
                modules.append(getattr(torch.nn, _TORCH_ACTIVATIONS[layer.activation])())
        return torch.nn.Sequential(*modules)

    @classmethod
    def from_torch(cls, module: Any) -> MLP:
        """A new MLP with the weights of a ``torch.nn.Sequential`` of ``Linear`` layers and activations.

        The inverse of ``to_torch``: each ``Linear`` (with a bias) becomes a layer, and the module
        after it, if any, its activation (``Tanh``, ``ReLU`` or ``Sigmoid``); every hidden layer must
        use the same one. Weights are read as float64, so a float64 model comes back bit for bit
        (a float32 one exactly too: every float32 is a float64). Anything else is a ``ValueError``.

        >>> model = MLP(3, [4, 2], seed=0)
        >>> MLP.from_torch(model.to_torch()).state_dict() == model.state_dict()   # doctest: +SKIP
        True
        """
        torch = _import_torch("MLP.from_torch")
        kinds = {getattr(torch.nn, cls_name): name for name, cls_name in _TORCH_ACTIVATIONS.items()}
        if not isinstance(module, torch.nn.Sequential):
            raise ValueError(f"MLP.from_torch: expected a torch.nn.Sequential of Linear layers, got {module!r}")
        children = list(module)
        layers: list[tuple[Any, str]] = []
        for i, child in enumerate(children):
            if isinstance(child, torch.nn.Linear):
                if child.bias is None:
                    raise ValueError(f"MLP.from_torch: layer {i} has no bias (every neuron has one): {child!r}")
                following = children[i + 1] if i + 1 < len(children) else None
                if following is None or isinstance(following, torch.nn.Linear):
                    layers.append((child, "linear"))
                elif type(following) in kinds:
                    layers.append((child, kinds[type(following)]))
                else:
                    raise ValueError(f"MLP.from_torch: module {i + 1} is not Tanh, ReLU or Sigmoid: {following!r}")
            elif i == 0 or not isinstance(children[i - 1], torch.nn.Linear):
                raise ValueError(f"MLP.from_torch: module {i} should be a Linear layer, got {child!r}")
        if not layers:
            raise ValueError(f"MLP.from_torch: no Linear layer in {module!r}")
        for (previous, _), (linear, _) in zip(layers, layers[1:]):
            if linear.in_features != previous.out_features:
                raise ValueError(f"MLP.from_torch: {linear!r} cannot read the {previous.out_features} outputs "
                                 f"of {previous!r}")
        hidden = {activation for _, activation in layers[:-1]}
        if len(hidden) > 1:
            raise ValueError(f"MLP.from_torch: the hidden layers must share one activation, got {sorted(hidden)!r}")
        model = cls(layers[0][0].in_features, [linear.out_features for linear, _ in layers],
                    activation=hidden.pop() if hidden else "tanh", output_activation=layers[-1][1], seed=0)
        values = []
        for index, (linear, _) in enumerate(layers):
            weight = linear.weight.detach().to(torch.float64).tolist()
            bias = linear.bias.detach().to(torch.float64).tolist()
            values += [v for row, b in zip(weight, bias) for v in (*row, b)]
            bad = next((v for v in values if not math.isfinite(v)), None)
            if bad is not None:
                raise ValueError(f"MLP.from_torch: Linear layer {index} holds a parameter that is not finite: {bad!r}")
        for p, value in zip(model.parameters(), values):
            p.data = value
        return model

    def __repr__(self) -> str:
        return (
            f"MLP({self.nin}, {self.nouts!r}, activation={self.activation!r}, "
            f"output_activation={self.output_activation!r})"
        )

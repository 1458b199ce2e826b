"""The engines under test, each as ``{workload name: make(size) -> Case}``.

- ``autograd_scalar``: this project's engine and its ``nn.MLP``.
- ``micrograd design``: :mod:`benchmarks.micrograd_design`, the baseline.
- ``floor``: :mod:`benchmarks.floor`, hand-written floats with hand-derived gradients.
- ``torch``: PyTorch with 0-d float64 tensors, one tensor per scalar (only if torch is installed).

Each engine is loaded by name inside the worker process that runs it, so one engine's imports,
garbage and recursion limit never touch another's measurements.
"""

from __future__ import annotations

from typing import Any, Callable

from . import floor, workloads
from .workloads import LR, MLP_SIZES, X0, Case, fan_inputs, second_terms

WORKLOADS = ("chain", "fan_out", "mlp", "second_derivative", "digits")
ENGINES = ("autograd_scalar", "compiled", "micrograd design", "floor", "torch")
BASELINE, FLOOR = "micrograd design", "floor"


def load(engine: str) -> dict[str, Callable[[int], Case]]:
    """The workloads ``engine`` can run (the micrograd design has no second derivatives)."""
    if engine == "autograd_scalar":
        return _ours()
    if engine == "compiled":
        return _compiled()
    if engine == BASELINE:
        return _micrograd_design()
    if engine == FLOOR:
        return {name: getattr(floor, name) for name in WORKLOADS}
    if engine == "torch":
        return _torch()
    raise ValueError(f"benchmarks: unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def _ours() -> dict[str, Callable[[int], Case]]:
    from autograd_scalar import Value, grad

    def second_derivative(size: int) -> Case:
        w = [Value(v) for v in fan_inputs(second_terms(size))[0]]
        x = Value(X0)

        def build():
            f = (w[0] * x).tanh()
            for wi in w[1:]:
                f = f + (wi * x).tanh()
            (g,) = grad(f, [x], create_graph=True)
            g.backward()
            return g

        def check():
            for v in [x, *w]:
                v.grad = 0.0
            g = build()
            return g.data, [v.grad for v in [x, *w]]

        return Case(lambda: workloads.discard(build()), check, 3 * len(w) - 1)

    return {
        "chain": lambda size: workloads.chain(Value, size),
        "fan_out": lambda size: workloads.fan_out(Value, size),
        "mlp": lambda size: workloads.mlp(Value, size, _mlp_model),
        "second_derivative": second_derivative,
        "digits": lambda size: workloads.digits(size, _digits_model),
    }


def _model(sizes: tuple, activation: str, flat: list[float]) -> tuple[Any, list]:
    """Our ``MLP(*sizes)`` with the workload's weights: ``(model, model.parameters())``."""
    from autograd_scalar.nn import MLP

    nin, nouts = sizes
    model = MLP(nin, list(nouts), activation=activation, seed=0)
    params = model.parameters()
    for p, value in zip(params, flat):
        p.data = value
    return model, params


def _mlp_model(flat: list[float]) -> tuple[Any, list]:
    return _model(MLP_SIZES, "relu", flat)


def _digits_model(flat: list[float]) -> tuple[Any, list]:
    return _model(workloads.DIGITS_SIZES, "tanh", flat)


def _compiled() -> dict[str, Callable[[int], Case]]:
    """``ag.compile``: one sample's loss traced once; the batch loop runs inside the generated code.

    ``build`` times a fresh trace, code generation and ``compile()`` of one sample, apart from the step."""
    import autograd_scalar as ag
    from autograd_scalar.train import _sample_loss

    def mlp(size: int) -> Case:
        flat, X, targets = workloads.mlp_inputs(size)
        model, params = _mlp_model(flat)
        cf = ag.compile(lambda x, t: (model(x) - t) ** 2)

        def loss_and_backward(cf: Any, params: list) -> float:
            for p in params:
                p.grad = 0.0
            return cf.mean(X, targets)

        def run() -> None:
            loss_and_backward(cf, params)
            for p in params:
                p.data -= LR * p.grad

        def check() -> tuple[float, list[float]]:
            fresh, fresh_params = _mlp_model(flat)
            loss = loss_and_backward(ag.compile(lambda x, t: (fresh(x) - t) ** 2), fresh_params)
            return loss, [p.grad for p in fresh_params]

        saved = [p.data for p in params]  # warm up: the trace, and its checks at other inputs and parameters
        run()
        run()
        for p, value in zip(params, saved):
            p.data = value

        def build() -> dict[str, float]:
            fresh, _ = _mlp_model(flat)
            one = ag.compile(lambda x, t: (fresh(x) - t) ** 2)
            one.mean(X[:1], targets[:1])
            return one.timings[0]

        return Case(run, check, workloads.mlp_nodes(size), build)

    def digits(size: int) -> Case:
        k = workloads.DIGITS_SIZES[1][-1]

        def compiled_for(model: Any) -> Any:
            term = _sample_loss(model, "cross_entropy")
            return ag.compile(lambda x, onehot: term(x, onehot)[0])

        made: dict[int, Any] = {}

        def step(model: Any, params: list, images: list, labels: list) -> float:
            if id(model) not in made:
                made[id(model)] = compiled_for(model)
            for p in params:
                p.grad = 0.0
            return made[id(model)].mean(images, [[float(q == c) for q in range(k)] for c in labels])

        case = workloads.digits(size, _digits_model, step)
        case.run()  # warm up: the trace, and its checks at other inputs and (second batch) other parameters
        flat, X, y, _ = workloads.digits_inputs(1)

        def build() -> dict[str, float]:
            one = compiled_for(_digits_model(flat)[0])
            one.mean(X[:1], [[float(q == y[0]) for q in range(k)]])
            return one.timings[0]

        case.build = build
        return case

    return {"mlp": mlp, "digits": digits}


def _micrograd_design() -> dict[str, Callable[[int], Case]]:
    from .micrograd_design import MLP, Value

    def make_model(flat: list[float]) -> tuple[Any, list]:
        model = MLP(MLP_SIZES[0], MLP_SIZES[1], flat)
        return model, model.parameters()

    return {
        "chain": lambda size: workloads.chain(Value, size),
        "fan_out": lambda size: workloads.fan_out(Value, size),
        "mlp": lambda size: workloads.mlp(Value, size, make_model),
    }


def _torch() -> dict[str, Callable[[int], Case]]:
    import torch

    torch.set_num_threads(1)  # one scalar at a time: threads only add overhead

    def scalar(v: float, requires_grad: bool = True) -> Any:
        return torch.tensor(v, dtype=torch.float64, requires_grad=requires_grad)

    def mlp(size: int) -> Case:
        flat, X, targets = workloads.mlp_inputs(size)
        nin, nouts = MLP_SIZES
        sizes = [nin, *nouts]

        def make_model(flat):
            params = [scalar(v) for v in flat]
            layers, k = [], 0
            for i in range(len(nouts)):
                neurons = []
                for _ in range(sizes[i + 1]):
                    neurons.append((params[k : k + sizes[i]], params[k + sizes[i]]))
                    k += sizes[i] + 1
                layers.append(neurons)
            return layers, params

        def forward(layers, x):
            for i, layer in enumerate(layers):
                x = [sum((wi * xi for wi, xi in zip(w, x)), b) for w, b in layer]
                if i < len(layers) - 1:
                    x = [v.relu() for v in x]
            return x[0]

        def loss_and_backward(layers, params):
            terms = [(forward(layers, x) - t) ** 2 for x, t in zip(X, targets)]
            loss = sum(terms[1:], terms[0]) / len(terms)
            for p in params:
                p.grad = None
            loss.backward()
            return loss

        layers, params = make_model(flat)

        def run():
            loss_and_backward(layers, params)
            with torch.no_grad():
                for p in params:
                    p -= LR * p.grad

        def check():
            fresh_layers, fresh_params = make_model(flat)
            loss = loss_and_backward(fresh_layers, fresh_params)
            return loss.item(), [p.grad.item() for p in fresh_params]

        return Case(run, check, workloads.mlp_nodes(size))

    def second_derivative(size: int) -> Case:
        w = [scalar(v) for v in fan_inputs(second_terms(size))[0]]
        x = scalar(X0)

        def build():
            f = (w[0] * x).tanh()
            for wi in w[1:]:
                f = f + (wi * x).tanh()
            (g,) = torch.autograd.grad(f, [x], create_graph=True)
            g.backward()
            return g

        def check():
            for v in [x, *w]:
                v.grad = None
            g = build()
            return g.item(), [v.grad.item() for v in [x, *w]]

        return Case(lambda: workloads.discard(build()), check, 3 * len(w) - 1)

    return {
        "chain": lambda size: workloads.chain(scalar, size),
        "fan_out": lambda size: workloads.fan_out(scalar, size),
        "mlp": mlp,
        "second_derivative": second_derivative,
    }

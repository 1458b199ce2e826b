"""The baseline: a scalar autodiff engine in the micrograd design, written here for comparison.

The design, as karpathy/micrograd has it (this file is our own code, not a copy): every number is
wrapped as a ``Value``; each operation stores a closure in ``_backward`` that pushes the node's
gradient to its inputs; the inputs are kept in a ``set``; ``backward()`` sorts the graph with a
*recursive* depth-first search. The closure holds the node itself, so every node sits in a reference
cycle that only the cyclic garbage collector can free. The recursion needs a raised recursion limit
past ~1000 nodes of depth, which is why the benchmark runs this engine in a subprocess.

We add ``tanh`` and ``exp`` (micrograd has ``relu`` and ``**`` only; the EurekaLabs version adds
``tanh``, ``exp`` and ``log`` the same way) so that every workload runs on it.
"""

from __future__ import annotations

import math


class Value:
    """A scalar with a gradient and a closure that knows how to pass the gradient on."""

    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, other):
        assert isinstance(other, (int, float)), "only int/float powers"
        out = Value(self.data**other, (self,), f"**{other}")

        def _backward():
            self.grad += other * self.data ** (other - 1) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(0 if self.data < 0 else self.data, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo = []
        visited = set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


class Neuron:
    """``relu(w · x + b)`` (or linear), the sum started at the bias, as micrograd's ``nn.Neuron``."""

    def __init__(self, weights, bias, nonlin=True):
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class MLP:
    """Layers of neurons; hidden layers relu, the last linear. Built from a flat list of initial
    weights (layer by layer, neuron by neuron, weights then bias) so every engine starts equal."""

    def __init__(self, nin, nouts, flat):
        flat = iter(flat)
        sizes = [nin] + list(nouts)
        self.layers = []
        for i in range(len(nouts)):
            layer = []
            for _ in range(sizes[i + 1]):
                weights = [next(flat) for _ in range(sizes[i])]
                layer.append(Neuron(weights, next(flat), nonlin=i != len(nouts) - 1))
            self.layers.append(layer)

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]

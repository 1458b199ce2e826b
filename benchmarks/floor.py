"""The floor: each workload written by hand with plain floats and hand-derived gradients.

No graph, no nodes, no rule table: the forward pass keeps only what the backward pass needs, and
the backward pass is the chain rule worked out on paper for that one function. No automatic
differentiation in pure Python can beat this, so it is the yardstick for "how much does the
engine cost". Each function returns ``(output, gradients)`` in the order the engines report them.
"""

from __future__ import annotations

import math

from .workloads import (
    DIGITS_BATCH,
    DIGITS_LR,
    DIGITS_SIZES,
    LR,
    MLP_SIZES,
    X0,
    C,
    Case,
    D,
    digits_inputs,
    digits_nodes,
    discard,
    fan_inputs,
    mlp_inputs,
    mlp_nodes,
    second_terms,
)


def chain(size: int) -> Case:
    """``y = y*C + D`` repeated: ``dy/dx = C ** steps``, one multiplication per step backward."""
    steps = size // 2

    def compute():
        y = X0
        for _ in range(steps):
            y = y * C + D
        dx = 1.0
        for _ in range(steps):
            dx = dx * C  # d(y*C + D)/dy = C
        return y, [dx]

    return Case(lambda: discard(compute()), compute, steps * 2)


def fan_out(size: int) -> Case:
    """``y = tanh(s)``, ``s = sum w_i x_i``: ``dy/dw_i = (1 - y**2) x_i`` (the x_i are data)."""
    w, x = fan_inputs(size)

    def compute():
        s = 0.0
        for wi, xi in zip(w, x):
            s += wi * xi
        y = math.tanh(s)
        ds = 1.0 - y * y
        return y, [ds * xi for xi in x]

    return Case(lambda: discard(compute()), compute, 2 * size)


def mlp(size: int) -> Case:
    """MLP(2, [16, 16, 1]) with relu, mean squared error over ``size`` points, backward by hand, SGD."""
    flat, X, targets = mlp_inputs(size)
    nin, nouts = MLP_SIZES
    sizes = [nin, *nouts]

    def unflatten(flat):
        """``[(W, b) per layer]``, W a list of rows (one per neuron)."""
        layers, k = [], 0
        for i in range(len(nouts)):
            W, b = [], []
            for _ in range(sizes[i + 1]):
                W.append(flat[k : k + sizes[i]])
                b.append(flat[k + sizes[i]])
                k += sizes[i] + 1
            layers.append((W, b))
        return layers

    def gradients(layers):
        grads = [([[0.0] * len(row) for row in W], [0.0] * len(b)) for W, b in layers]
        last = len(layers) - 1
        loss = 0.0
        for x, t in zip(X, targets):
            acts = [x]  # the input of each layer, kept for backward
            for i, (W, b) in enumerate(layers):
                z = [bj + sum(wjk * ak for wjk, ak in zip(row, acts[-1])) for row, bj in zip(W, b)]
                acts.append(z if i == last else [zj if zj > 0.0 else 0.0 for zj in z])
            out = acts[-1][0]
            loss += (out - t) ** 2
            delta = [2.0 * (out - t) / len(X)]  # d loss / d z of the last layer
            for i in range(last, -1, -1):
                W, _ = layers[i]
                dW, db = grads[i]
                a = acts[i]
                for j, dj in enumerate(delta):
                    db[j] += dj
                    row = dW[j]
                    for k, ak in enumerate(a):
                        row[k] += dj * ak
                if i > 0:  # back through W, then through the relu of layer i - 1
                    delta = [
                        sum(W[j][k] * delta[j] for j in range(len(delta))) if a[k] > 0.0 else 0.0
                        for k in range(len(a))
                    ]
        return loss / len(X), grads

    def flatten(grads):
        return [g for dW, db in grads for row, gb in zip(dW, db) for g in (*row, gb)]

    layers = unflatten(list(flat))

    def run():
        _, grads = gradients(layers)
        for (W, b), (dW, db) in zip(layers, grads):
            for row, drow in zip(W, dW):
                for k, g in enumerate(drow):
                    row[k] -= LR * g
            for j, g in enumerate(db):
                b[j] -= LR * g

    def check():
        loss, grads = gradients(unflatten(list(flat)))
        return loss, flatten(grads)

    return Case(run, check, mlp_nodes(size))


def second_derivative(size: int) -> Case:
    """``g = df/dx`` of ``f = sum tanh(w_i x)``, then the gradient of ``g``.

    With ``t_i = tanh(w_i x)`` and ``s_i = 1 - t_i**2``: ``g = sum w_i s_i``,
    ``dg/dx = -2 sum w_i**2 t_i s_i`` and ``dg/dw_i = s_i (1 - 2 w_i x t_i)``.
    """
    w, _ = fan_inputs(second_terms(size))
    x = X0

    def compute():
        g = dx = 0.0
        dw = []
        for wi in w:
            t = math.tanh(wi * x)
            s = 1.0 - t * t
            g += wi * s
            dx -= 2.0 * wi * wi * t * s
            dw.append(s * (1.0 - 2.0 * wi * x * t))
        return g, [dx, *dw]

    return Case(lambda: discard(compute()), compute, 3 * second_terms(size) - 1)


def digits(size: int) -> Case:
    """One digits epoch: MLP(64, [32, 10]) tanh, softmax cross-entropy (shifted by the largest logit),
    batches of 32, SGD; ``d loss/d z_k = (softmax_k - [k == label]) / n`` and ``tanh' = 1 - h**2``."""
    flat, X, y, _ = digits_inputs(size)
    nin, (hidden, k) = DIGITS_SIZES

    def unflatten(flat):
        W1 = [flat[j * (nin + 1) : j * (nin + 1) + nin] for j in range(hidden)]
        b1 = [flat[j * (nin + 1) + nin] for j in range(hidden)]
        base = hidden * (nin + 1)
        W2 = [flat[base + j * (hidden + 1) : base + j * (hidden + 1) + hidden] for j in range(k)]
        b2 = [flat[base + j * (hidden + 1) + hidden] for j in range(k)]
        return W1, b1, W2, b2

    def gradients(W1, b1, W2, b2, images, labels):
        n = len(images)
        gW1, gb1 = [[0.0] * nin for _ in range(hidden)], [0.0] * hidden
        gW2, gb2 = [[0.0] * hidden for _ in range(k)], [0.0] * k
        loss = 0.0
        for x, c in zip(images, labels):
            h = [math.tanh(b + sum(w * xi for w, xi in zip(row, x))) for row, b in zip(W1, b1)]
            z = [b + sum(w * hj for w, hj in zip(row, h)) for row, b in zip(W2, b2)]
            m = max(z)
            e = [math.exp(v - m) for v in z]
            total = sum(e)
            loss += math.log(total) + m - z[c]
            dz = [(ek / total - (q == c)) / n for q, ek in enumerate(e)]
            for q, dq in enumerate(dz):
                gb2[q] += dq
                row = gW2[q]
                for j, hj in enumerate(h):
                    row[j] += dq * hj
            for j, hj in enumerate(h):
                da = sum(W2[q][j] * dz[q] for q in range(k)) * (1.0 - hj * hj)
                gb1[j] += da
                row = gW1[j]
                for i, xi in enumerate(x):
                    row[i] += da * xi
        return loss / n, (gW1, gb1, gW2, gb2)

    def flatten(grads):
        gW1, gb1, gW2, gb2 = grads
        return [g for W, b in ((gW1, gb1), (gW2, gb2)) for row, gb in zip(W, b) for g in (*row, gb)]

    params = unflatten(list(flat))

    def run():
        for start in range(0, size, DIGITS_BATCH):
            _, grads = gradients(*params, X[start : start + DIGITS_BATCH], y[start : start + DIGITS_BATCH])
            for values, deltas in zip(params, grads):
                for j, d in enumerate(deltas):
                    if isinstance(d, list):
                        row = values[j]
                        for i, g in enumerate(d):
                            row[i] -= DIGITS_LR * g
                    else:
                        values[j] -= DIGITS_LR * d

    def check():
        loss, grads = gradients(*unflatten(list(flat)), X[:DIGITS_BATCH], y[:DIGITS_BATCH])
        return loss, flatten(grads)

    return Case(run, check, digits_nodes(size))

"""Grouped step-through on random graphs with random, nested scopes.

Pins down, for graphs built op by op while scopes open and close at random: every view steps each of
its boxes once forward and once backward, in an order the edges allow (a box after its inputs going
forward, after its consumers going backward); every gradient a view marks final is the engine's
(``backward()`` on a twin graph, to the printed digits); the printed equations add up; and the
whole graph's view ends with every box final.
"""

from __future__ import annotations

import random
from contextlib import ExitStack

from hypothesis import given, settings
from hypothesis import strategies as st
from test_stepthrough_numbers import check_lines

from autograd_scalar import Value, scope
from autograd_scalar.engine import topological_order
from autograd_scalar.steptrace import build_views, fmt_num, trace


def _grouped_graph(seed: int) -> Value:
    """A random graph of 3..25 operations, made while scopes (up to 3 deep) open and close at random."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-2, 2), label=f"x{i}") for i in range(rng.randint(1, 4))]
    with ExitStack() as stack:
        depth = 0
        for _ in range(rng.randint(3, 25)):
            if depth < 3 and rng.random() < 0.25:
                stack.enter_context(scope(rng.choice(["layer", "unit", "block"])))
                depth += 1
            elif depth and rng.random() < 0.2:
                stack.close()  # closes every open scope: start again at the top
                depth = 0
            a, b = rng.choice(nodes), rng.choice(nodes)
            op = rng.choice(["add", "mul", "tanh", "sub", "const"])
            if op == "add":
                node = a + b
            elif op == "mul":
                node = a * b
            elif op == "sub":
                node = a - b
            elif op == "tanh":
                node = a.tanh()
            else:
                node = a * rng.choice([0.5, 2.0, -1.5])
            nodes.append(node)
        total = nodes[-1]
        for node in nodes[-4:-1]:  # a few loose ends join the output
            total = total + node
    return total


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_scopes_step_in_a_valid_order_with_the_engines_gradients(seed):
    root, twin = _grouped_graph(seed), _grouped_graph(seed)
    twin.backward()
    engine = [node.grad for node in topological_order(twin)]
    t = trace(root)
    index = t.index
    for view in build_views(t, max_nodes=10_000):
        forward = {f.box: i for i, f in enumerate(view.frames) if f.phase == "forward"}
        backward = {f.box: i for i, f in enumerate(view.frames) if f.phase == "backward"}
        inside = [b.key for b in view.boxes if b.kind != "stub"]
        assert sorted(forward) == sorted(backward) == inside  # each box once each way (stubs are given)
        for source, target, _ in view.edges:
            if source in forward:
                assert forward[source] < forward[target]
                assert backward[target] < backward[source]
        shown: dict[int, tuple[str, bool]] = {}
        for frame in view.frames:
            for key, text, final in frame.grads:
                shown[key] = (text, final)
                if final:
                    assert text == fmt_num(engine[index[view.boxes[key].node]]), (view.title, view.boxes[key].name)
            check_lines([frame.head, *frame.lines, *(f"{e}      {ch}" for e, ch in frame.sends)])
        if view.group is None:
            assert all(shown[b.key][1] for b in view.boxes)  # the end: every gradient final

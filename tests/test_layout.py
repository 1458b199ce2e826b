"""The built-in layered layout: layers from the inputs with late inputs pulled right, long edges
split by dummies, crossings reduced with arguments kept in port order, and vertical positions
that keep every gap while pulling chains straight."""

from __future__ import annotations

import itertools
import random

import pytest

from autograd_scalar.layout import _ordered_fit, assign_layers, place


def test_layers_follow_the_longest_path_and_pull_inputs_right():
    # 0*1 -> 2; 2+3 -> 4; tanh(4) -> 5; 5*6 -> 7, with 3 and 6 inputs used late
    parents = [[], [], [0, 1], [], [2, 3], [4], [], [5, 6]]
    assert assign_layers(parents) == [0, 0, 1, 1, 2, 3, 3, 4]


def test_a_branch_used_once_moves_next_to_its_consumer():
    # tanh(x0) (nodes 0, 1) and the chain 2 -> 3 -> 4 meet at node 5: the short branch moves right
    assert assign_layers([[], [0], [], [2], [3], [1, 4]]) == [1, 2, 0, 1, 2, 3]
    # node 1 feeds both 2 and 4: it keeps its longest-path layer
    assert assign_layers([[], [0], [1], [2], [1, 3]]) == [0, 1, 2, 3, 4]


def test_layers_of_a_shared_input_use_its_first_consumer():
    # input 0 feeds node 1 (layer 1) and node 3 (layer 3): it stays in layer 0
    parents = [[], [0], [1], [2, 0]]
    assert assign_layers(parents) == [0, 1, 2, 3]


def test_layers_need_a_topological_order():
    with pytest.raises(ValueError, match="node 0 has input 1, which is not before it"):
        assign_layers([[1], []])


def test_long_edges_get_one_dummy_per_layer_they_cross():
    p = place([0, 1, 2, 3, 0], [20] * 5, [(0, 1, 0.0), (1, 2, 0.0), (2, 3, -5.0), (4, 3, 5.0)])
    assert p.bends[:3] == [[], [], []]
    assert len(p.bends[3]) == 2
    assert [p.layer[d] for d in p.bends[3]] == [1, 2]
    assert all(d >= 5 for d in p.bends[3])


def test_barycenter_sweeps_remove_avoidable_crossings():
    # initial order [0, 1] over [2, 3] with 0 -> 3 and 1 -> 2 crosses once; swapping removes it
    p = place([0, 0, 1, 1], [20] * 4, [(0, 3, 0.0), (1, 2, 0.0)])
    assert p.crossings == 0


def test_unavoidable_crossing_is_counted():
    p = place([0, 0, 1, 1], [20] * 4, [(0, 2, 0.0), (0, 3, 0.0), (1, 2, 0.0), (1, 3, 0.0)])
    assert p.crossings == 1


def test_arguments_keep_their_port_order():
    # b is listed first, but it enters the operation below a: a must end up above b
    b, a, op = 0, 1, 2
    p = place([0, 0, 1], [20, 20, 20], [(b, op, 5.0), (a, op, -5.0)])
    assert p.order[0] == [a, b]
    assert p.y[a] < p.y[op] < p.y[b]


def test_a_chain_is_straight():
    p = place([0, 1, 2, 3], [30, 20, 40, 20], [(0, 1, 0.0), (1, 2, 0.0), (2, 3, 0.0)])
    assert len({round(y, 6) for y in p.y}) == 1


def test_gaps_are_kept_in_random_graphs():
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(2, 40)
        parents = [[] if i < 2 or rng.random() < 0.3 else rng.sample(range(i), rng.randint(1, min(2, i)))
                   for i in range(n)]  # fmt: skip
        layers = assign_layers(parents)
        heights = [rng.choice([20.0, 36.0, 52.0]) for _ in range(n)]
        edges = [(j, i, (k - 0.5) * 10) for i, ps in enumerate(parents) for k, j in enumerate(ps)]
        p = place(layers, heights, edges, gap=18.0, dummy_height=6.0)
        assert sorted(itertools.chain.from_iterable(p.order)) == list(range(len(p.y)))
        for row in p.order:
            for upper, lower in zip(row, row[1:]):
                space = 18.0 if upper < n and lower < n else 9.0
                needed = (p.height[upper] + p.height[lower]) / 2 + space
                assert p.y[lower] - p.y[upper] >= needed - 1e-6


def test_ordered_fit_is_the_least_squares_solution():
    assert _ordered_fit([0.0, 0.0], [1.0, 1.0], [10.0]) == [-5.0, 5.0]
    assert _ordered_fit([0.0, 0.0], [3.0, 1.0], [8.0]) == [-2.0, 6.0]
    assert _ordered_fit([0.0, 50.0, 51.0], [1.0, 1.0, 1.0], [10.0, 10.0]) == [0.0, 45.5, 55.5]
    # already feasible: unchanged
    assert _ordered_fit([1.0, 20.0, 40.0], [1.0, 2.0, 1.0], [5.0, 5.0]) == [1.0, 20.0, 40.0]


def test_ordered_fit_beats_every_nearby_feasible_point():
    rng = random.Random(3)
    for _ in range(50):
        k = rng.randint(2, 6)
        wanted = [rng.uniform(-30, 30) for _ in range(k)]
        weight = [rng.uniform(0.2, 3) for _ in range(k)]
        seps = [rng.uniform(1, 20) for _ in range(k - 1)]
        y = _ordered_fit(wanted, weight, seps)
        assert all(y[i + 1] - y[i] >= seps[i] - 1e-9 for i in range(k - 1))
        cost = sum(w * (a - b) ** 2 for w, a, b in zip(weight, y, wanted))
        for _ in range(20):
            moved = [v + rng.uniform(-2, 2) for v in y]
            if all(moved[i + 1] - moved[i] >= seps[i] for i in range(k - 1)):
                assert sum(w * (a - b) ** 2 for w, a, b in zip(weight, moved, wanted)) >= cost - 1e-9


def test_place_rejects_edges_that_do_not_go_forward():
    with pytest.raises(ValueError, match="edge 1->0 does not go to a later layer"):
        place([0, 0], [10, 10], [(1, 0, 0.0)])


def _random_clustered_graph(rng: random.Random):
    """A random layered DAG and, for each node, a random path of nested groups (outermost first)."""
    n = rng.randint(4, 40)
    layers = [rng.randint(0, 5) for _ in range(n)]
    edges = [(a, b, rng.choice([-5.0, 0.0, 5.0])) for a in range(n) for b in range(n)
             if layers[a] < layers[b] and rng.random() < 0.15]
    tops = ["g0", "g1", "g2"]
    clusters = []
    for _ in range(n):
        depth = rng.choice([0, 1, 1, 2])
        path = (rng.choice(tops),) + tuple(rng.choice(["a", "b"]) for _ in range(depth - 1)) if depth else ()
        clusters.append(path)
    return layers, [20.0] * n, edges, clusters


@pytest.mark.parametrize("seed", range(200))
def test_groups_stay_together_in_every_layer_and_get_room_for_their_frames(seed):
    """viz.to_svg frames each group (a Neuron call, a scope) layer by layer: in every layer the items of
    a group, at every level of nesting, must be next to each other, and frames must have room."""
    layers, heights, edges, clusters = _random_clustered_graph(random.Random(seed))
    p = place(layers, heights, edges, clusters=clusters, frame=(6.0, 13.0))
    path = clusters + [None] * (len(p.layer) - len(clusters))  # dummies: not checked
    for row in p.order:
        nodes = [item for item in row if item < len(clusters)]
        for depth in (1, 2):
            keys = [path[item][:depth] for item in nodes if len(path[item]) >= depth]
            runs = [k for k, _ in itertools.groupby(keys)]
            assert len(runs) == len(set(runs)), (row, [path[i] for i in nodes])
        for above, below in zip(row, row[1:]):
            if above < len(clusters) and below < len(clusters) and path[above] != path[below]:
                assert p.y[below] - p.y[above] >= 20 + 18 + 6 - 1e-9  # a frame closes or opens between them


def test_without_clusters_the_layout_is_unchanged():
    layers, heights, edges, clusters = _random_clustered_graph(random.Random(7))
    plain = place(layers, heights, edges)
    empty = place(layers, heights, edges, clusters=[()] * len(layers), frame=(6.0, 13.0))
    assert (plain.order, plain.y) == (empty.order, empty.y)
    with pytest.raises(ValueError, match="clusters for"):
        place(layers, heights, edges, clusters=[()])

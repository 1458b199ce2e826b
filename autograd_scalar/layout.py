"""A small layered graph layout in pure Python: the picture :func:`autograd_scalar.viz.to_svg` draws
where graphviz's ``dot`` is not installed.

It follows the classic recipe (Sugiyama et al. 1981) in three steps, each kept simple:

1. **Layers** (:func:`assign_layers`): each node one layer right of its furthest input (the
   longest path from the inputs); then, from the output back, every input and every node used
   only once moves right to just before its first use, so that a bias or a term added late does
   not stretch an edge across the whole picture.
2. **Order within a layer** (:func:`place`): an edge that spans several layers gets a *dummy*
   node in each layer it crosses; then a few sweeps sort each layer by the mean position of its
   neighbours (the barycenter heuristic), and the order with the fewest edge crossings is kept.
   Each edge carries ``dy``, where it enters its target (the argument's port), so ``a*b`` keeps
   ``a`` above ``b``.
3. **Vertical positions**: each node is pulled towards its neighbours' ports, then pushed apart
   just enough to keep the order and the gaps (a least-squares fit solved exactly by pooling
   adjacent violators), a few times in both directions, so that chains come out straight.

Its limits: no edge routing beyond the dummy nodes (an edge may pass close to a box it skips),
crossing reduction is a heuristic, and the crossing count is quadratic in the edges of a layer,
which is fine for the few hundred nodes a drawing of a scalar graph can show.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field


def assign_layers(parents: Sequence[Sequence[int]]) -> list[int]:
    """The layer of each node, given each node's inputs; nodes must be in topological order.

    Each node starts one layer after its furthest parent (the longest path from the inputs). Then
    inputs (nodes without parents) and nodes with a single consumer move right, to one layer
    before their first consumer; a node used by several keeps its place.

    >>> # 0, 1 -> 2;  2, 3 -> 4: input 3 is only used by 4, so it sits in layer 1, not 0
    >>> assign_layers([[], [], [0, 1], [], [2, 3]])
    [0, 0, 1, 1, 2]
    """
    layer = [0] * len(parents)
    for i, inputs in enumerate(parents):
        for j in inputs:
            if j >= i:
                raise ValueError(f"assign_layers: node {i} has input {j}, which is not before it")
            layer[i] = max(layer[i], layer[j] + 1)
    consumers: list[list[int]] = [[] for _ in parents]
    for i, inputs in enumerate(parents):
        for j in inputs:
            consumers[j].append(i)
    for i in reversed(range(len(parents))):
        used_by = consumers[i]
        if used_by and (not parents[i] or len(used_by) == 1):
            layer[i] = min(layer[c] for c in used_by) - 1
    return layer


@dataclass
class Placement:
    """Where :func:`place` put things: the order of each layer, every item's ``y`` (its center),
    and for each edge the dummy items it passes through (in layer order)."""

    order: list[list[int]]
    y: list[float]
    layer: list[int]
    height: list[float]
    bends: list[list[int]] = field(default_factory=list)
    crossings: int = 0

    def is_dummy(self, item: int, n_nodes: int) -> bool:
        return item >= n_nodes


def place(
    layers: Sequence[int],
    heights: Sequence[float],
    edges: Sequence[tuple[int, int, float]],
    *,
    gap: float = 18.0,
    dummy_height: float = 6.0,
    sweeps: int = 8,
    clusters: Sequence[Sequence[Hashable]] | None = None,
    frame: tuple[float, float] = (0.0, 0.0),
) -> Placement:
    """Order every layer and give every node a ``y``, for edges ``(source, target, dy)``.

    ``dy`` is where the edge enters the target, relative to the target's center (ports let an
    operation show its arguments in order, top to bottom). Items ``0..n-1`` are the nodes;
    items from ``n`` on are the dummies of long edges, listed per edge in ``bends``.

    >>> p = place([0, 0, 1], [20, 20, 20], [(0, 2, -5.0), (1, 2, 5.0)])
    >>> p.order, p.crossings, p.y[0] < p.y[2] < p.y[1]
    ([[0, 1], [2]], 0, True)

    ``clusters`` gives each node its groups, outermost first (``()`` for none): the items of a group
    then stay next to each other in every layer, groups inside groups too, and where two neighbours
    differ in their groups they are pushed apart by ``frame = (pad, label)`` per frame between them
    (``pad`` below a group's last item, ``pad + label`` above its first), room for the frames a
    renderer draws around groups. A dummy belongs to the groups both ends of its edge share.

    >>> p = place([0, 0, 0], [20, 20, 20], [], clusters=[("g",), (), ("g",)], frame=(6.0, 13.0))
    >>> p.order, p.y[2] - p.y[0], p.y[1] - p.y[2]      # 20 + 18 within "g"; then 6 for its frame's bottom
    ([[0, 2, 1]], 38.0, 44.0)
    """
    n = len(layers)
    layer = list(layers)
    height = [float(h) for h in heights]
    # segments between adjacent layers: (upper item, lower item, dy at the lower end)
    segments: list[tuple[int, int, float]] = []
    bends: list[list[int]] = []
    path = [tuple(c) for c in clusters] if clusters is not None else [()] * n
    if len(path) != n:
        raise ValueError(f"place: {len(path)} clusters for {n} nodes")
    for source, target, dy in edges:
        if layer[target] <= layer[source]:
            raise ValueError(f"place: edge {source}->{target} does not go to a later layer")
        chain = []
        previous = source
        shared = _common_prefix(path[source], path[target])
        for between in range(layer[source] + 1, layer[target]):
            dummy = len(layer)
            layer.append(between)
            height.append(dummy_height)
            path.append(shared)
            chain.append(dummy)
            segments.append((previous, dummy, 0.0))
            previous = dummy
        segments.append((previous, target, float(dy)))
        bends.append(chain)

    depth = max(layer, default=-1) + 1
    order: list[list[int]] = [[] for _ in range(depth)]
    for item in range(len(layer)):
        order[layer[item]].append(item)
    incoming: list[list[tuple[int, float]]] = [[] for _ in layer]
    outgoing: list[list[tuple[int, float]]] = [[] for _ in layer]
    for upper, lower, dy in segments:
        incoming[lower].append((upper, dy))
        outgoing[upper].append((lower, dy))

    together = (lambda row: _together(row, path)) if clusters is not None else None
    if together is not None:
        order = [together(row) for row in order]
    order = _reduce_crossings(order, incoming, outgoing, segments, layer, sweeps, together)
    crossings = _count_crossings(order, segments, layer)
    pad, label = frame

    def room(a: int, b: int) -> float:  # the frames that close below a and open above b
        common = len(_common_prefix(path[a], path[b]))
        return (len(path[a]) - common) * pad + (len(path[b]) - common) * (pad + label)

    y = _vertical_positions(order, incoming, outgoing, height, gap, n, room)
    return Placement(order=order, y=y, layer=layer, height=height, bends=bends, crossings=crossings)


def _common_prefix(p: tuple, q: tuple) -> tuple:
    k = 0
    while k < len(p) and k < len(q) and p[k] == q[k]:
        k += 1
    return p[:k]


def _together(row: list[int], path: list[tuple], depth: int = 0) -> list[int]:
    """``row`` with each group's items next to each other, each group where its items are on average;
    the same inside every group, level by level. Items outside any group keep their places."""
    units: list[list] = []  # [positions, items, grouped]
    seen: dict[Hashable, list] = {}
    for position, item in enumerate(row):
        p = path[item]
        if len(p) <= depth:
            units.append([[position], [item], False])
        elif p[depth] in seen:
            seen[p[depth]][0].append(position)
            seen[p[depth]][1].append(item)
        else:
            seen[p[depth]] = unit = [[position], [item], True]
            units.append(unit)
    units.sort(key=lambda u: sum(u[0]) / len(u[0]))
    out: list[int] = []
    for _, items, grouped in units:
        out.extend(_together(items, path, depth + 1) if grouped else items)
    return out


def _reduce_crossings(order, incoming, outgoing, segments, layer, sweeps, together=None) -> list[list[int]]:
    """Barycenter sweeps, down then up, keeping the order with the fewest crossings (and, given
    ``together``, each group's items next to each other after every sort)."""
    best = [list(row) for row in order]
    best_count = _count_crossings(best, segments, layer)
    for sweep in range(sweeps):
        down = sweep % 2 == 0
        rows = range(1, len(order)) if down else range(len(order) - 2, -1, -1)
        position = {item: i for row in order for i, item in enumerate(row)}
        for r in rows:
            neighbours = incoming if down else outgoing
            keys = {}
            for item in order[r]:
                links = neighbours[item]
                if links:
                    # a small tilt by the port offset keeps the arguments of one operation in order
                    tilt = 0.0 if down else 1e-3
                    keys[item] = sum(position[other] + tilt * dy for other, dy in links) / len(links)
                else:
                    keys[item] = position[item]
            order[r] = sorted(order[r], key=keys.__getitem__)
            if together is not None:
                order[r] = together(order[r])
            position.update({item: i for i, item in enumerate(order[r])})
        count = _count_crossings(order, segments, layer)
        if count < best_count:
            best, best_count = [list(row) for row in order], count
        if best_count == 0:
            break
    return best


def _count_crossings(order, segments, layer) -> int:
    position = {item: i for row in order for i, item in enumerate(row)}
    by_layer: dict[int, list[tuple[float, float]]] = {}
    for upper, lower, dy in segments:
        by_layer.setdefault(layer[upper], []).append((position[upper], position[lower] + 1e-3 * dy))
    total = 0
    for pairs in by_layer.values():
        pairs.sort()
        for i, (u1, v1) in enumerate(pairs):
            for u2, v2 in pairs[i + 1 :]:
                if u2 > u1 and v2 < v1:
                    total += 1
    return total


def _vertical_positions(order, incoming, outgoing, height, gap, n_nodes, room) -> list[float]:
    """Pull each item towards its neighbours' ports, keeping order and gaps (plus ``room(a, b)``
    between neighbours a above b); a few rounds."""
    y = [0.0] * len(height)
    for row in order:
        top = 0.0
        for i, item in enumerate(row):
            if i:
                top += _separation(row[i - 1], item, height, gap, n_nodes) + room(row[i - 1], item)
            y[item] = top
        for item in row:
            y[item] -= top / 2
    passes = [incoming, outgoing] * 4 + [None]
    for links in passes:
        rows = order if links is not outgoing else list(reversed(order))
        for row in rows:
            wanted, weight = [], []
            for item in row:
                if links is None:
                    pulls = [y[o] - dy for o, dy in incoming[item]] + [y[o] + dy for o, dy in outgoing[item]]
                elif links is incoming:
                    pulls = [y[o] - dy for o, dy in incoming[item]]
                else:
                    pulls = [y[o] + dy for o, dy in outgoing[item]]
                wanted.append(sum(pulls) / len(pulls) if pulls else y[item])
                weight.append(float(len(pulls)) if pulls else 0.25)
            separations = [_separation(a, b, height, gap, n_nodes) + room(a, b) for a, b in zip(row, row[1:])]
            for item, value in zip(row, _ordered_fit(wanted, weight, separations)):
                y[item] = value
    return y


def _separation(a: int, b: int, height, gap, n_nodes) -> float:
    """The least distance between the centers of neighbours ``a`` above ``b`` in a layer."""
    space = gap if a < n_nodes and b < n_nodes else gap / 2
    return (height[a] + height[b]) / 2 + space


def _ordered_fit(wanted: list[float], weight: list[float], separations: list[float]) -> list[float]:
    """The ``y`` closest to ``wanted`` (weighted least squares) with ``y[i+1] - y[i] >= separations[i]``.

    Shifting item i by the sum of the separations before it turns this into isotonic regression,
    which pooling adjacent violators solves exactly.
    """
    offset = [0.0]
    for s in separations:
        offset.append(offset[-1] + s)
    blocks: list[list[float]] = []  # [weighted sum, total weight, count]
    for target, w, off in zip(wanted, weight, offset):
        blocks.append([w * (target - off), w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w2, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += c
    fitted = []
    for s, w, c in blocks:
        fitted.extend([s / w] * int(c))
    return [z + off for z, off in zip(fitted, offset)]

"""Groups of nodes, like TensorBoard's name scopes: ``with scope("name"):`` and every ``Neuron`` call.

A group is a part of a graph that a view can show as one box and open on demand: the
step-through steps through a grouped graph group by group, and :mod:`autograd_scalar.viz` draws
each group as a cluster. Two things make groups:

- ``with autograd_scalar.scope(name):`` puts every node made inside the block into a group
  called ``name`` (blocks nest: a block inside another is a group inside that group);
- each call of a :class:`autograd_scalar.nn.Neuron` makes a group of the nodes it adds,
  ``w0*x0 + ... + b`` and the activation, named after the neuron (``layers.1.neurons.3``).

A leaf (an input or a parameter) belongs to the innermost group that holds every node using it:
a neuron's weights sit inside its group; what a neuron is given as input never does.

Grouping records; it changes nothing: no node's data or gradient, nor what ``backward()`` or a
compiler's trace sees. Nodes carry no extra field: a scope records its nodes in a weak table, and
a ``Neuron`` call records nothing at all. Each neuron is noted once, when it is made (a weak set);
when a view asks, a call is found from the neuron's own bias and weights: the sum
``b + w[0]*x[0] + ... + w[n-1]*x[n-1]`` and its activation. So training pays nothing for groups.

>>> from autograd_scalar import Value, scope
>>> x = Value(2.0, label="x")
>>> with scope("square"):
...     y = x * x
>>> z = y + 1
>>> groups = find_groups([x, y, z])
>>> groups[y].name, groups[x].name, groups[z]
('square', 'square', None)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .engine import Value, _hooked


class Group:
    """One group: a ``with scope(name):`` block, or one call of a ``Neuron``.

    ``name`` is what the views show; ``parent`` the enclosing group (``None`` at the top);
    ``kind`` is ``"scope"`` or ``"neuron"``.

    >>> outer = Group("layer", None)
    >>> inner = Group("unit", outer)
    >>> [g.name for g in inner.path], inner
    (['layer', 'unit'], Group('layer/unit', kind='scope'))
    """

    __slots__ = ("_name", "parent", "kind", "_bias", "output", "roles", "__weakref__")

    def __init__(self, name: str, parent: Group | None, kind: str = "scope", bias: Value | None = None,
                 output: Value | None = None, roles: dict[Value, str] | None = None) -> None:
        self._name = name
        self.parent = parent
        self.kind = kind
        self._bias = bias
        self.output = output
        """A neuron call's output (``None`` for a scope, which may have several)."""
        self.roles: dict[Value, str] = roles or {}
        """For a neuron call, what each of its nodes is: ``wx.2`` (``w.2`` times input 2), ``sum3``
        (``b + wx.0 + wx.1 + wx.2``), ``z`` (the whole sum, before the activation)."""

    @property
    def name(self) -> str:
        """The group's name; a neuron's is read from its bias's label when asked (``layers.0.neurons.3``)."""
        if self._bias is not None:
            label = self._bias.label
            return label[:-2] if label.endswith(".b") else "neuron"
        return self._name

    @property
    def path(self) -> tuple[Group, ...]:
        """The enclosing groups, outermost first, ending with this one."""
        chain: list[Group] = []
        group: Group | None = self
        while group is not None:
            chain.append(group)
            group = group.parent
        return tuple(reversed(chain))

    def __repr__(self) -> str:
        return f"Group({'/'.join(g.name for g in self.path)!r}, kind={self.kind!r})"


_open: list[Group] = []  # the scopes being executed, outermost first
_scoped: weakref.WeakKeyDictionary[Value, Group] = weakref.WeakKeyDictionary()
# every Neuron made, by its bias: (its weights, its activation); an entry lives as long as the bias, which
# every graph of the neuron holds, so a graph that outlives its model still shows its groups
_neurons: weakref.WeakKeyDictionary[Value, tuple[Sequence[Value], str]] = weakref.WeakKeyDictionary()


@contextmanager
def scope(name: str) -> Iterator[Group]:
    """Group every node made inside the ``with`` block under ``name``; blocks nest.

    Views show the group as one box that opens to its nodes: the step-through steps through it as
    one step (or node by node, once opened), and ``viz`` draws it as a cluster. Nothing about the
    nodes changes.

    >>> from autograd_scalar import Value, scope
    >>> x = Value(3.0, label="x")
    >>> with scope("layer") as outer:
    ...     with scope("unit") as inner:
    ...         y = (x * 2).tanh()
    >>> inner.parent is outer, [g.name for g in find_groups([x, y])[y].path]
    (True, ['layer', 'unit'])
    >>> with scope(""):
    ...     pass
    Traceback (most recent call last):
    ...
    ValueError: scope: the name must be a non-empty string, got ''
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"scope: the name must be a non-empty string, got {name!r}")
    group = Group(name, _open[-1] if _open else None)

    def record(node: Value) -> Value:
        _scoped[node] = group  # an inner block's hook runs after this one's, so the innermost wins
        return node

    _open.append(group)
    try:
        with _hooked(make=record):
            yield group
    finally:
        _open.remove(group)


def note_neuron(neuron: Any) -> None:
    """Remember ``neuron`` (weakly), so that :func:`find_groups` can find its calls in a graph.

    ``Neuron.__init__`` calls this; a neuron needs ``.w`` (its weights, in input order), ``.b``
    (its bias) and ``.activation`` (an operation's name, or ``"linear"``).

    >>> from autograd_scalar.engine import topological_order
    >>> from autograd_scalar.nn import Neuron
    >>> n = Neuron(2, seed=0)                     # noted when made
    >>> y = n([1.0, 2.0])
    >>> groups = find_groups(topological_order(y))
    >>> groups[y].kind, groups[y].name, groups[n.b] is groups[y]
    ('neuron', 'neuron', True)
    """
    _neurons[neuron.b] = (neuron.w, getattr(neuron, "activation", "linear"))


def _calls_of(bias: Value, weights: Sequence[Value], activation: str,
              consumers: dict[Value, list[Value]]) -> list[tuple[list[Value], Value, list[Any], dict[Value, str]]]:
    """Each call of the neuron with ``bias`` and ``weights`` in a graph: its nodes, output, inputs and their roles.

    A call is the chain ``b + w[0]*x[0]``, then ``+ w[1]*x[1]``, ... to ``w[n-1]*x[n-1]`` (each
    partial sum used by the next), then the activation of the whole sum; anything else is not one.
    """
    found = []
    for first in consumers.get(bias, ()):
        node, made, inputs, k = first, [], [], 0
        while True:
            if node.op != "add" or node.args[0] is not (bias if k == 0 else made[-1]):
                break
            product = node.args[1]
            if not isinstance(product, Value) or product.op != "mul" or product.args[0] is not weights[k]:
                break
            made += [product, node]
            inputs.append(product.args[1])
            k += 1
            if k == len(weights):
                break
            node = next((c for c in consumers.get(node, ()) if c.op == "add" and c.args[0] is node), None)
            if node is None:
                break
        if k != len(weights):
            continue
        z = made[-1]
        out = z
        if activation != "linear":
            out = next((c for c in consumers.get(z, ()) if c.op == activation and c.args == (z,)), None)
            if out is None:
                continue
            made.append(out)
        # what each part is: wx.i = w[i] * x[i], sum k = b + wx.0 + ... + wx.(k-1), z = the whole sum
        roles = {product: f"wx.{i}" for i, product in enumerate(made[0:2 * len(weights):2])}
        roles.update({s: f"sum{i + 1}" for i, s in enumerate(made[1:2 * len(weights) - 2:2])})
        if out is not z:
            roles[z] = "z"
        found.append((made, out, inputs, roles))
    return found


def find_groups(nodes: Sequence[Value]) -> dict[Value, Group | None]:
    """The innermost group of each of ``nodes`` (a whole graph, e.g. ``topological_order(root)``), or ``None``.

    Nodes made inside a ``scope`` block or a ``Neuron`` call get that group; then each leaf gets the
    innermost group that holds all the nodes that use it (``None`` if they are in different
    top-level groups, or it is used by nothing in ``nodes``).

    >>> from autograd_scalar.engine import topological_order
    >>> from autograd_scalar.nn import Neuron
    >>> n = Neuron(2, seed=0)
    >>> x = [Value(1.0, label="x0"), Value(2.0, label="x1")]
    >>> y = n(x)
    >>> groups = find_groups(topological_order(y))
    >>> groups[y].name, groups[n.w[0]].name, groups[x[0]]
    ('neuron', 'neuron', None)
    """
    members = set(nodes)
    group: dict[Value, Group | None] = {node: _scoped.get(node) for node in nodes}
    consumers: dict[Value, list[Value]] = {}
    for node in nodes:
        for a in node.parents:
            consumers.setdefault(a, []).append(node)
    boundaries: dict[Group, set[int]] = {}
    for bias, (weights, activation) in list(_neurons.items()):
        if bias not in members:
            continue
        for made, out, inputs, roles in _calls_of(bias, weights, activation, consumers):
            g = Group("neuron", _scoped.get(out), "neuron", bias, out, roles)  # inside the scope it was called in
            boundaries[g] = {id(a) for a in inputs}
            for node in made:
                group[node] = g
    for leaf, users in consumers.items():
        if leaf.op:
            continue
        if leaf in members and group.get(leaf) is None:
            # a neuron's input is not part of the neuron, even when only that neuron reads it
            outer = [g.parent if g in boundaries and id(leaf) in boundaries[g] else g
                     for g in map(group.get, users)]
            group[leaf] = _common(outer)
    return group


def _common(groups: list[Group | None]) -> Group | None:
    """The innermost group that contains all of ``groups`` (``None``: the top level)."""
    if any(g is None for g in groups):
        return None
    common = list(groups[0].path)
    for g in groups[1:]:
        path = g.path
        k = 0
        while k < min(len(common), len(path)) and common[k] is path[k]:
            k += 1
        common = common[:k]
    return common[-1] if common else None

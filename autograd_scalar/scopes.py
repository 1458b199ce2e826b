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
compiler's trace sees. Nodes carry no extra field: a scope records its nodes in a weak table,
and a ``Neuron`` call records only its output and its inputs, so the cost is one small entry per
call (the group's nodes are found from them when a view asks).

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

    __slots__ = ("_name", "parent", "kind", "_neuron", "output", "roles", "__weakref__")

    def __init__(self, name: str, parent: Group | None, kind: str = "scope", neuron: Any = None,
                 output: Value | None = None) -> None:
        self._name = name
        self.parent = parent
        self.kind = kind
        self._neuron = neuron
        self.output = output
        """A neuron call's output (``None`` for a scope, which may have several)."""
        self.roles: dict[Value, str] = _roles(neuron, output) if neuron is not None and output is not None else {}
        """For a neuron call, what each of its nodes is: ``wx.2`` (``w.2`` times input 2), ``sum3``
        (``b + wx.0 + wx.1 + wx.2``), ``z`` (the whole sum, before the activation)."""

    @property
    def name(self) -> str:
        """The group's name; a neuron's is read from its bias's label when asked (``layers.0.neurons.3``)."""
        if self._neuron is not None:
            label = self._neuron.b.label
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


def _roles(neuron: Any, out: Value) -> dict[Value, str]:
    """The parts of one ``Neuron`` call, ``act(b + w[0]*x[0] + ... )``, by what they are."""
    roles: dict[Value, str] = {}
    node = out.parents[0] if neuron._act is not None and out.parents else out
    k = len(neuron.w)
    while node.op == "add" and k > 0 and len(node.parents) == 2:
        rest, product = node.args
        if not isinstance(product, Value) or product.op != "mul" or product.args[0] is not neuron.w[k - 1]:
            break
        roles[product] = f"wx.{k - 1}"
        roles[node] = "z" if k == len(neuron.w) else f"sum{k}"
        if not isinstance(rest, Value):
            break
        node, k = rest, k - 1
    return roles


_open: list[Group] = []  # the scopes being executed, outermost first
_scoped: weakref.WeakKeyDictionary[Value, Group] = weakref.WeakKeyDictionary()
_calls: dict[weakref.ref, tuple[Any, tuple, Group | None]] = {}  # Neuron call: ref(out) -> (neuron, inputs, scope)


def _forget(ref: weakref.ref) -> None:
    _calls.pop(ref, None)


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


def note_call(neuron: Any, inputs: Sequence, out: Value) -> None:
    """Record that ``neuron`` turned ``inputs`` into ``out`` (called by ``Neuron.__call__``).

    One weak entry per call, dropped with ``out``: the group's nodes are those between ``out`` and
    ``inputs``, found by :func:`find_groups` only when a view asks.

    >>> from autograd_scalar.engine import topological_order
    >>> x = Value(2.0, label="x")
    >>> y = x * 3
    >>> note_call(None, [x], y)           # as if a module without parameters had turned x into y
    >>> groups = find_groups(topological_order(y))
    >>> groups[y].kind, groups[x]
    ('neuron', None)
    """
    _calls[weakref.ref(out, _forget)] = (neuron, inputs if inputs.__class__ is tuple else tuple(inputs),
                                         _open[-1] if _open else None)


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
    neuron_groups: dict[int, Group] = {}
    boundaries: dict[Group, set[int]] = {}
    for ref, (neuron, inputs, outer) in list(_calls.items()):
        out = ref()
        if out is None or out not in members:
            continue
        g = neuron_groups.setdefault(id(ref), Group("neuron", outer, "neuron", neuron, out))
        boundary = boundaries[g] = {id(a) for a in inputs}
        stack = [out]
        while stack:
            node = stack.pop()
            if group.get(node) is g:
                continue
            group[node] = g
            stack.extend(a for a in node.parents if a.op and id(a) not in boundary and a in members)
    users: dict[Value, list[Value]] = {}
    for node in nodes:
        for a in node.parents:
            if not a.op:
                users.setdefault(a, []).append(node)
    for leaf, consumers in users.items():
        if leaf in members and group.get(leaf) is None:
            # a neuron's input is not part of the neuron, even when only that neuron reads it
            outer = [g.parent if g in boundaries and id(leaf) in boundaries[g] else g
                     for g in map(group.get, consumers)]
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

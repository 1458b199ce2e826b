"""Copying and pickling a graph without recursion: ``copy.deepcopy(v)`` and ``pickle.dumps(v)``.

Python's own ``deepcopy`` and ``pickle`` follow references depth first, so a chain of a few
hundred nodes exceeds the recursion limit. Here both walk the graph in topological order
instead, parents before children, so each node is copied (or written) after its parents and
the depth never grows: a 1,000,000-node chain round-trips. Shared nodes stay shared.

``copy.copy(v)`` is :meth:`Value.__copy__`: a new node with the same parents.

>>> import copy, pickle
>>> from autograd_scalar import Value
>>> x = Value(0.5, label="x")
>>> y = x
>>> for _ in range(10_000):
...     y = y * 1.0001
>>> twin, again = copy.deepcopy(y), pickle.loads(pickle.dumps(y))
>>> twin.data == again.data == y.data, twin is not y
(True, True)

The package itself never pickles: models are saved as JSON (:mod:`autograd_scalar.serialize`).
"""

from __future__ import annotations

import _thread
import weakref

from .engine import Value, _new, topological_order

__all__ = ["deepcopy_graph", "reduce_graph"]


def deepcopy_graph(root: Value, memo: dict) -> Value:
    """``root.__deepcopy__(memo)``: every node below ``root`` copied once, parents first; nodes
    already in ``memo`` (copied with another object of the same ``deepcopy``) are reused."""
    keep = memo.setdefault(id(memo), [])  # copy.deepcopy's convention: the originals stay alive
    for node in topological_order(root):
        if id(node) in memo:
            continue
        twin = node.__copy__()
        a, b = node._a, node._b
        if a is not None and a.__class__ is not float:
            twin._a = memo[id(a)]
        if b is not None and b.__class__ is not float:
            twin._b = memo[id(b)]
        memo[id(node)] = twin
        keep.append(node)
    return memo[id(root)]


# The pickler asks each object for its reduction as it meets it. Asked for an interior node, we
# hand it the whole graph as a list in topological order; asked then for each node of that list,
# we hand it a flat record whose parents it has already written (so it writes a reference).
_pickling = _thread._local()  # per thread: the graph whose records are being written


class _Flat(list):
    """A graph's nodes in topological order, weakly referenced: a pickle abandoned half way (a
    full disk) drops it, so what it left behind cannot be mistaken for a later pickle's."""

    __slots__ = ("__weakref__",)

    def __reduce__(self) -> tuple:
        return list, (list(self),)


def reduce_graph(node: Value) -> tuple:
    """``node.__reduce__()``: a record for a leaf or a node of the graph being written, else the graph."""
    graph = getattr(_pickling, "graph", None)
    if graph is not None and graph[0]() is not None and id(node) in graph[1]:
        if node is graph[2]:  # the root's record comes last: this graph is written
            _pickling.graph = None
        return _restore, (node.data, node.grad, node.label, node.op, node._a, node._b)
    if node._a is None:
        return _restore, (node.data, node.grad, node.label, "", None, None)
    order = _Flat(topological_order(node))
    _pickling.graph = (weakref.ref(order), {id(n) for n in order}, node)
    return _last, (order,)


def _restore(data: float, grad: float, label: str, op: str, a: Value | float | None, b: Value | float | None) -> Value:
    """One node from its record (its parents are restored already)."""
    node = _new(Value)
    node.data, node.grad, node.label, node.op, node._a, node._b, node._mark = data, grad, label, op, a, b, None
    return node


def _last(nodes: list[Value]) -> Value:
    return nodes[-1]

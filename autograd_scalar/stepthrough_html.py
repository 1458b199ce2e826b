"""The step-through as a self-contained web page, and as a notebook cell's HTML.

The page renders the views of one :class:`~autograd_scalar.steptrace.Trace` (see
:func:`~autograd_scalar.steptrace.build_views`): the whole graph, and in a grouped graph one view
per group. Each view holds its drawing as inline SVG (with the final gradients drawn in), every
step as a static ordered list, and the steps again as JSON for the script. Everything is in the
markup before any script runs, so without JavaScript (an untrusted notebook, GitHub, a browser with
scripts off) the reader still has each drawing and every step, a group's steps under its own
heading. With it, buttons and keys (→ / space next, ← back, Home, End; ``o`` opens the current
group, ``u`` goes back up) step through the forward pass, then the backward pass: the current box is
highlighted, gradients fill in on the drawing, and the ``+=`` of a node used by several operations
shows each contribution. A legend says what the colours and line styles mean.

Safety: every label is escaped (HTML here, SVG in ``to_svg`` and in this module's drawing); lone
surrogates and control characters are shown as escapes before anything is written; the script
writes text with ``textContent`` only; the steps travel as JSON inside
``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as ``\\u003c``,
``\\u003e``, ``\\u0026``, so no label can close the element. The page's Content-Security-Policy
(``default-src 'none'``) allows exactly the page's own inline script and style by their SHA-256
hashes, so nothing external loads and no injected script or handler could run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Union

from .atomic import write_atomic
from .engine import Value
from .layout import assign_layers, place
from .rules import RULES
from .steptrace import Frame, Trace, View, build_views, fmt_num, format_naive, format_transcript, naive_backward, trace

PathLike = Union[str, Path]

CSS = """
.asc-step { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2433;
  max-width: 1400px; margin: 0 auto; padding: 8px 12px; }
.asc-step h1 { font-size: 1.25em; margin: 0.2em 0 0.5em; }
.asc-step h2 { font-size: 1.05em; margin: 0.8em 0 0.3em; }
.asc-step .asc-graph { overflow: auto; border: 1px solid #d8dde6; border-radius: 8px; background: #fff;
  max-height: 56vh; }
.asc-step .asc-graph svg { display: block; margin: 0 auto; max-width: none; }
.asc-step .asc-controls { display: flex; gap: 6px; align-items: center; margin: 10px 0; flex-wrap: wrap; }
.asc-step button { font: inherit; padding: 4px 12px; border: 1px solid #9aa5b8; border-radius: 6px;
  background: #fff; cursor: pointer; }
.asc-step button:hover { background: #eef2f8; }
.asc-step button.asc-open { border-color: #7048e8; color: #5233c4; }
.asc-step .asc-pos { margin-left: 8px; color: #556; font-variant-numeric: tabular-nums; }
.asc-step .asc-where { font-weight: 600; color: #5233c4; }
.asc-step .asc-hint { color: #778; font-size: 0.9em; }
.asc-step .asc-legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 0.86em; color: #445; margin: 6px 0 10px; }
.asc-step .asc-legend span { display: inline-flex; align-items: center; gap: 5px; }
.asc-step .asc-legend i { display: inline-block; width: 18px; height: 11px; border-radius: 3px; }
.asc-step .asc-sw-current { border: 3px solid #7048e8; }
.asc-step .asc-sw-target { border: 2px solid #2f6fdd; }
.asc-step .asc-sw-final { color: #2b8a3e; font-weight: 600; }
.asc-step .asc-sw-partial { color: #c2410c; font-style: italic; }
.asc-step .asc-legend i.asc-sw-flow { border-top: 2px solid #7048e8; height: 0; border-radius: 0; }
.asc-step .asc-legend i.asc-sw-arrived { border-top: 2px dashed #2f6fdd; height: 0; border-radius: 0; }
.asc-step .asc-sw-pending { border: 1px solid #888; opacity: 0.28; }
.asc-step .asc-sw-group { border: 3px double #7048e8; }
.asc-step .asc-now { border: 1px solid #d8dde6; border-left: 5px solid #7048e8; border-radius: 8px;
  padding: 8px 12px; background: #fff; min-height: 5.5em; max-height: 40vh; overflow: auto; margin-top: 8px; }
.asc-step .asc-now.asc-forward { border-left-color: #2f6fdd; }
.asc-step .asc-head { font-weight: 600; margin-bottom: 4px; }
.asc-step .asc-rule { color: #556; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace;
  font-size: 0.92em; }
.asc-step .asc-card { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.92em;
  background: #f3f6fb; border-radius: 6px; padding: 3px 8px; margin: 4px 0; display: flex; gap: 14px;
  flex-wrap: wrap; justify-content: space-between; }
.asc-step .asc-change { color: #2b8a3e; }
.asc-step .asc-sum { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 4px 0;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.92em; }
.asc-step .asc-chip { background: #f3f0ff; border: 1px solid #b197fc; border-radius: 12px; padding: 1px 9px; }
.asc-step .asc-list ol { margin: 0; padding-left: 3.2em; font-family: ui-monospace, "DejaVu Sans Mono", Menlo,
  monospace; font-size: 0.85em; }
.asc-step .asc-list li { padding: 2px 4px; border-radius: 4px; }
.asc-step .asc-list li div { white-space: pre-wrap; }
.asc-step .asc-list li div + div { color: #445; }
.asc-step.asc-live .asc-list { max-height: 32vh; overflow: auto; border: 1px solid #e3e7ee; border-radius: 8px; }
.asc-step .asc-list li.asc-active { background: #f3f0ff; }
.asc-step .asc-pending { opacity: 0.28; }
.asc-step .asc-current rect, .asc-step .asc-current ellipse, .asc-step .asc-current polygon,
.asc-step .asc-current path { stroke: #7048e8; stroke-width: 3.5px; }
.asc-step g.asc-current { filter: drop-shadow(0 0 5px rgba(112, 72, 232, 0.55)); }
.asc-step .asc-target rect, .asc-step .asc-target ellipse, .asc-step .asc-target polygon,
.asc-step .asc-target path { stroke: #2f6fdd; stroke-width: 2.5px; }
.asc-step path.edge.asc-flow { stroke: #7048e8; stroke-width: 1.7px; }
.asc-step path.edge.asc-arrived { stroke: #2f6fdd; stroke-width: 1.7px; stroke-dasharray: 5 3; }
.asc-step text.grad.asc-partial { fill: #c2410c; font-style: italic; }
.asc-step text.grad.asc-final { fill: #2b8a3e; font-weight: 600; }
.asc-step g.group rect.outer { stroke: #7048e8; }
.asc-step:focus { outline: none; }
.asc-step [hidden] { display: none !important; }
.asc-step pre.asc-naive { font-size: 0.85em; background: #f8f9fb; border: 1px solid #e3e7ee; border-radius: 8px;
  padding: 8px 12px; overflow: auto; }
.asc-step details { margin: 4px 0; }
"""

# The script finds its own container by id (``__ID__``), so several views can share one notebook page.
SCRIPT = r"""
(function () {
  "use strict";
  var root = document.getElementById("__ID__");
  if (!root || root.getAttribute("data-live") === "1") { return; }
  root.setAttribute("data-live", "1");
  root.classList.add("asc-live");
  var data = JSON.parse(root.querySelector("script.asc-data").textContent);
  var containers = Array.prototype.slice.call(root.querySelectorAll(".asc-view"));
  var now = root.querySelector(".asc-now");
  var pos = root.querySelector(".asc-pos");
  var where = root.querySelector(".asc-where");
  var playButton = root.querySelector('button[data-act="play"]');
  var openButton = root.querySelector('button[data-act="open"]');
  var upButton = root.querySelector('button[data-act="up"]');
  var stack = [[0, 0]];  // [view, frame]: the views opened, the whole graph first
  var timer = null;

  var parts = data.views.map(function (v, i) {
    var c = containers[i], svg = c.querySelector("svg");
    var p = { c: c, graph: c.querySelector(".asc-graph"), boxes: [], ops: [], grads: [], values: [], shown: [],
              edges: svg ? Array.prototype.slice.call(svg.querySelectorAll("path.edge")) : [],
              items: Array.prototype.slice.call(c.querySelectorAll(".asc-list > ol > li")),
              list: c.querySelector(".asc-list") };
    for (var b = 0; b < v.boxes; b++) {
      var box = svg ? svg.querySelector('g.value[data-index="' + b + '"]') : null;
      p.boxes.push(box);
      p.ops.push(svg ? svg.querySelector('g.op[id="op' + b + '"]') : null);
      p.grads.push(box ? box.querySelector("text.grad") : null);
      p.values.push(box ? box.querySelector("text.data") : null);
      p.shown.push(p.values[b] ? p.values[b].textContent : "");
    }
    return p;
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function mark(e, cls, on) { if (e) { e.classList.toggle(cls, on); } }

  function state(v, upto) {
    var frames = data.views[v].frames, n = data.views[v].boxes;
    var s = { seen: [], grad: [], final: [] };
    for (var i = 0; i < n; i++) { s.seen.push(false); s.grad.push(null); s.final.push(false); }
    for (var j = 0; j <= upto; j++) {
      var f = frames[j];
      if (f.phase === "backward") { for (var m = 0; m < n; m++) { s.seen[m] = true; } }
      f.datas.forEach(function (b) { s.seen[b] = true; });
      f.grads.forEach(function (g) { s.grad[g[0]] = g[1]; s.final[g[0]] = g[2]; });
    }
    return s;
  }

  function render() {
    var top = stack[stack.length - 1], v = top[0], k = top[1];
    var view = data.views[v], f = view.frames[k], s = state(v, k), p = parts[v];
    containers.forEach(function (c, i) { c.hidden = i !== v; });
    if (p.graph && now.previousElementSibling !== p.graph) { p.graph.after(now); }  // the step, under its drawing
    for (var i = 0; i < view.boxes; i++) {
      mark(p.boxes[i], "asc-pending", !s.seen[i]);
      mark(p.ops[i], "asc-pending", !s.seen[i]);
      mark(p.boxes[i], "asc-current", f.box === i);
      mark(p.ops[i], "asc-current", f.box === i);
      mark(p.boxes[i], "asc-target", f.targets.indexOf(i) >= 0);
      if (p.values[i]) { p.values[i].textContent = s.seen[i] ? p.shown[i] : ""; }
      if (p.grads[i]) {
        p.grads[i].textContent = s.grad[i] === null ? "" : data.gradPrefix + s.grad[i];
        mark(p.grads[i], "asc-final", s.grad[i] !== null && s.final[i]);
        mark(p.grads[i], "asc-partial", s.grad[i] !== null && !s.final[i]);
      }
    }
    p.edges.forEach(function (e) {
      mark(e, "asc-flow", f.phase === "backward" && f.box !== null && e.getAttribute("data-to") === String(f.box));
      mark(e, "asc-arrived", f.phase === "backward" && f.box !== null && e.getAttribute("data-from") === String(f.box));
    });
    now.textContent = "";
    now.classList.toggle("asc-forward", f.phase !== "backward");
    now.appendChild(el("div", "asc-head", f.head));
    if (f.sum) {
      var row = el("div", "asc-sum");
      row.appendChild(el("span", "", f.sum[0] + ".grad ="));
      f.sum[1].forEach(function (part, j) {
        if (j > 0) { row.appendChild(el("span", "", "+")); }
        row.appendChild(el("span", "asc-chip", part));
      });
      row.appendChild(el("span", "", "= " + f.sum[2]));
      now.appendChild(row);
    }
    f.lines.forEach(function (line) { now.appendChild(el("div", "asc-rule", line)); });
    f.sends.forEach(function (c) {
      var card = el("div", "asc-card");
      card.appendChild(el("span", "", c[0]));
      card.appendChild(el("span", "asc-change", c[1]));
      now.appendChild(card);
    });
    var current = f.box !== null ? p.boxes[f.box] : null;
    if (current && p.graph) {  // keep the current box in view when the drawing is larger than its frame
      var frame = p.graph.getBoundingClientRect(), box = current.getBoundingClientRect();
      if (box.left < frame.left || box.right > frame.right) {
        p.graph.scrollLeft += (box.left + box.right) / 2 - (frame.left + frame.right) / 2;
      }
      if (box.top < frame.top || box.bottom > frame.bottom) {
        p.graph.scrollTop += (box.top + box.bottom) / 2 - (frame.top + frame.bottom) / 2;
      }
    }
    pos.textContent = (k + 1) + " / " + view.frames.length;
    where.textContent = view.title;
    openButton.hidden = f.open === null;
    if (f.open !== null) { openButton.textContent = "open " + data.views[f.open].title.replace(/^inside /, "") + " ▸"; }
    upButton.hidden = stack.length === 1;
    p.items.forEach(function (li, j) { mark(li, "asc-active", j === k); });
    var active = p.items[k];
    if (active && p.list) {
      var top2 = active.offsetTop - p.list.offsetTop;
      if (top2 < p.list.scrollTop || top2 + active.offsetHeight > p.list.scrollTop + p.list.clientHeight) {
        p.list.scrollTop = Math.max(0, top2 - p.list.clientHeight / 3);
      }
    }
  }

  function go(j) {
    var top = stack[stack.length - 1], n = data.views[top[0]].frames.length;
    top[1] = Math.max(0, Math.min(n - 1, j));
    render();
  }
  function here() { return stack[stack.length - 1][1]; }
  function last() { return data.views[stack[stack.length - 1][0]].frames.length - 1; }
  function open() {
    var top = stack[stack.length - 1], f = data.views[top[0]].frames[top[1]];
    if (f.open === null) { return; }
    var inner = data.views[f.open].frames, j = 0;
    if (f.phase === "backward") { while (j < inner.length - 1 && inner[j].phase !== "backward") { j++; } }
    stack.push([f.open, j]);
    render();
  }
  function up() { if (stack.length > 1) { stack.pop(); render(); } }
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; playButton.textContent = "▶ play"; } }
  function play() {
    if (timer !== null) { stop(); return; }
    if (here() === last()) { go(0); }
    playButton.textContent = "❚❚ pause";
    timer = setInterval(function () { if (here() >= last()) { stop(); } else { go(here() + 1); } }, 1100);
  }
  var actions = {
    first: function () { stop(); go(0); }, prev: function () { stop(); go(here() - 1); },
    next: function () { stop(); go(here() + 1); }, last: function () { stop(); go(last()); }, play: play,
    open: function () { stop(); open(); }, up: function () { stop(); up(); }
  };
  Array.prototype.forEach.call(root.querySelectorAll("button[data-act]"), function (b) {
    b.addEventListener("click", function () { actions[b.getAttribute("data-act")](); });
  });
  parts.forEach(function (p, v) {
    p.items.forEach(function (li, j) { li.addEventListener("click", function () {
      stop(); if (stack[stack.length - 1][0] === v) { go(j); } }); });
  });
  var keys = { ArrowRight: "next", " ": "next", n: "next", ArrowLeft: "prev", p: "prev", b: "prev",
               Home: "first", End: "last", o: "open", u: "up", Escape: "up" };
  (data.globalKeys ? document : root).addEventListener("keydown", function (event) {
    var act = keys[event.key];
    if (!act || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === " " && event.target && event.target.tagName === "BUTTON") { return; }
    event.preventDefault();
    actions[act]();
  });
  root.querySelector(".asc-controls").hidden = false;
  root.querySelector(".asc-now").hidden = false;
  root.querySelector(".asc-legend").hidden = false;
  Array.prototype.forEach.call(root.querySelectorAll(".asc-nojs"), function (e) { e.hidden = true; });
  Array.prototype.forEach.call(root.querySelectorAll(".asc-view > details"), function (e) { e.open = true; });
  render();
})();
"""

LEGEND = (  # shown by the script: without it nothing is current, partial or pending
    '<div class="asc-legend" hidden>'
    '<span><i class="asc-sw-current"></i>the current step\'s box</span>'
    '<span><i class="asc-sw-target"></i>boxes it sends a gradient to</span>'
    '<span><span class="asc-sw-final">grad 0.42</span> final: every use has sent its part</span>'
    '<span><span class="asc-sw-partial">grad 0.42</span> partial: more parts to come</span>'
    '<span><i class="asc-sw-flow"></i>edges the gradient goes back along</span>'
    '<span><i class="asc-sw-arrived"></i>edges it arrived by</span>'
    '<span><i class="asc-sw-pending"></i>not computed yet</span>'
    "__GROUP__</div>"
)
LEGEND_GROUP = '<span><i class="asc-sw-group"></i>a group (a Neuron call, a scope): open it to step inside</span>'


# ---- drawings --------------------------------------------------------------------------------------------


@contextmanager
def _drawn_as(t: Trace, grads: dict[Value, float]) -> Iterator[None]:
    """While the SVG is drawn, label each node with its step-through name and give it its final gradient;
    then put every ``.label`` and ``.grad`` back. The root's gradient is drawn as 0 there, so ``to_svg``
    writes no ``+=`` sum, and each box is as wide as the text the page writes into it, not wider."""
    saved = {node: (node.label, node.grad) for node in t.order}
    try:
        for node in t.order:
            node.label = t.name(node)
            node.grad = grads[node]
        t.root.grad = 0.0
        yield
    finally:
        for node, (label, g) in saved.items():
            node.label, node.grad = label, g


def _flat_svg(t: Trace, max_nodes: int) -> str:
    """The whole graph drawn by :func:`autograd_scalar.viz.to_svg`, each box named as the text names it."""
    from .viz import to_svg

    final = {step.node: step.upstream for step in t.backward}
    with _drawn_as(t, final):
        svg = to_svg(t.root, fmt=lambda x: fmt_num(x, t.digits), max_nodes=max_nodes)
    # the root was drawn with gradient 0 (so that no sum widened the boxes): show its seed, 1.0
    start = svg.index(f'data-index="{len(t.order) - 1}"')
    return svg[:start] + re.sub(r'(<text class="grad"[^>]*>)grad 0\.0<', r"\g<1>grad 1.0<", svg[start:], count=1)


FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
_CHAR = 0.61 * 12
_ROW = 16


def _view_svg(t: Trace, view: View) -> str:
    """A view of a grouped graph: a box per node, per closed group and per outside input, laid out in layers."""
    final = {step.node: step.upstream for step in t.backward}
    f = lambda x: fmt_num(x, t.digits)  # noqa: E731
    rows = []
    for box in view.boxes:
        tag = f"{box.size} nodes ▸" if box.kind == "group" else RULES[box.node.op].symbol if box.node.op else ""
        output = t.name(box.node)  # a group's output goes by its own name in the text: show it too
        data = f"{output} = {f(box.node.data)}" if box.kind == "group" and output != box.name else (
            f"data {f(box.node.data)}")
        rows.append((box.name, tag, data, f"grad {f(final[box.node])}"))
    widths = [max(len(a) + len(b) + 2, len(c), len(d), 6) * _CHAR + 16 for a, b, c, d in rows]
    heights = [3 * _ROW + 10.0] * len(rows)
    parents: list[list[int]] = [[] for _ in rows]
    for source, target, _ in view.edges:
        parents[target].append(source)
    layers = assign_layers(parents) if rows else []
    n_in = [len(p) for p in parents]
    edges = [(s, d, (slot - (n_in[d] - 1) / 2) * min(8.0, 30.0 / max(n_in[d], 1))) for s, d, slot in view.edges]
    placement = place(layers, heights, edges)
    depth = max(layers, default=0) + 1
    column_width = [0.0] * depth
    for i, w in enumerate(widths):
        column_width[layers[i]] = max(column_width[layers[i]], w)
    left = [16.0]
    for layer in range(1, depth):
        left.append(left[-1] + column_width[layer - 1] + 60.0)
    width = left[-1] + column_width[-1] + 16.0
    ys = placement.y
    top = min((ys[i] - placement.height[i] / 2 for i in range(len(ys))), default=0.0)
    bottom = max((ys[i] + placement.height[i] / 2 for i in range(len(ys))), default=0.0)
    shift = 16.0 - top
    height = bottom - top + 32.0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.1f} {height:.1f}" font-family="{FONT}" font-size="12" role="img">',
           f"<title>{html.escape(view.title)}</title>",
           '<defs><marker id="asc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,1 L10,5 L0,9 z" fill="context-stroke"/></marker></defs>',
           f'<rect width="{width:.1f}" height="{height:.1f}" fill="white"/>']
    for (source, target, dy), bends in zip(edges, placement.bends):
        points = [(left[layers[source]] + widths[source], ys[source] + shift)]
        for dummy in bends:
            layer = placement.layer[dummy]
            points += [(left[layer] - 20.0, ys[dummy] + shift), (left[layer] + column_width[layer], ys[dummy] + shift)]
        points.append((left[layers[target]], ys[target] + shift + dy))
        d = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            bend = max((x1 - x0) * 0.5, 8.0)
            d += f" C{x0 + bend:.1f},{y0:.1f} {x1 - bend:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
        out.append(f'<path class="edge" data-from="{source}" data-to="{target}" d="{d}" fill="none" stroke="#8c8c8c" '
                   'stroke-width="1.2" marker-end="url(#asc-arrow)"/>')
    colours = {"stub": ("#f6f7f9", "#9aa5b8"), "node": ("#ffffff", "#8a8a8a"), "group": ("#f3f0ff", "#7048e8")}
    for box, (name, tag, data, grad), w, h in zip(view.boxes, rows, widths, heights):
        x, y = left[layers[box.key]], ys[box.key] + shift - h / 2
        fill, stroke = colours[box.kind]
        if not box.node.op and box.kind == "node":
            fill, stroke = "#e8f1fb", "#4a7bb7"
        dash = ' stroke-dasharray="4,3"' if box.kind == "stub" else ""
        out.append(f'<g class="value {box.kind}" data-index="{box.key}">')
        if box.kind == "group":
            out.append(f'<rect class="outer" x="{x - 3:.1f}" y="{y - 3:.1f}" width="{w + 6:.1f}" height="{h + 6:.1f}" '
                       f'rx="8" fill="none" stroke="{stroke}" stroke-width="1"/>')
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="1.2"{dash}/>')
        base = y + 17
        out.append(f'<text class="label" x="{x + 8:.1f}" y="{base:.1f}" font-size="13" font-weight="bold" '
                   f'fill="#222222">{html.escape(name)}</text>')
        if tag:
            out.append(f'<text class="tag" x="{x + w - 8:.1f}" y="{base:.1f}" font-size="10" text-anchor="end" '
                       f'fill="#5233c4">{html.escape(tag)}</text>')
        out.append(f'<text class="data" x="{x + 8:.1f}" y="{base + _ROW:.1f}" fill="#222222" '
                   f'xml:space="preserve">{html.escape(data)}</text>')
        out.append(f'<text class="grad" x="{x + 8:.1f}" y="{base + 2 * _ROW:.1f}" fill="#b2182b" '
                   f'xml:space="preserve">{html.escape(grad)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _enlarged(svg: str, target_width: float = 1000.0, most: float = 1.6) -> str:
    """Draw a small graph larger (up to ``most`` times, towards ``target_width`` pixels); the viewBox keeps
    the drawing itself unchanged."""
    head = re.match(r'<svg [^>]*?width="([\d.]+)" height="([\d.]+)"', svg)
    if head is None:
        return svg
    width, height = float(head.group(1)), float(head.group(2))
    scale = min(most, max(1.0, target_width / width))
    if scale == 1.0:
        return svg
    resized = re.sub(r'width="[\d.]+" height="[\d.]+"', f'width="{width * scale:.0f}" height="{height * scale:.0f}"',
                     head.group(0), count=1)
    return resized + svg[head.end():]


# ---- the page -------------------------------------------------------------------------------------------


def _frame_json(frame: Frame, view_of: dict[Any, int]) -> dict:
    return {"phase": frame.phase, "box": frame.box, "head": frame.head, "lines": frame.lines,
            "sends": [list(s) for s in frame.sends], "targets": frame.targets, "datas": frame.datas,
            "grads": [list(g) for g in frame.grads], "open": view_of.get(frame.group) if frame.group else None,
            "sum": [frame.sum[0], frame.sum[1], frame.sum[2]] if frame.sum else None}


def _frame_text(frame: Frame) -> list[str]:
    lines = [frame.head]
    if frame.sum:
        lines.append(f"{frame.sum[0]}.grad = {' + '.join(frame.sum[1])} = {frame.sum[2]}")
    lines += frame.lines
    lines += [f"{e}      {ch}" for e, ch in frame.sends]
    return lines


def _static_list(view: View) -> str:
    """Every frame of a view as a list item: the same text the script shows, readable without it."""
    items = []
    for frame in view.frames:
        body = "".join(f"<div>{html.escape(line)}</div>" for line in _frame_text(frame))
        items.append(f'<li data-phase="{frame.phase}">{body}</li>')
    return "<ol>" + "".join(items) + "</ol>"


def _json_for_script(data: object) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment: ``< > &`` as unicode escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _parts(root: Value, title: str | None, digits: int, element_id: str, global_keys: bool,
           naive: bool = False, max_nodes: int = 500) -> tuple[str, str, str, str]:
    """The page's body markup, its CSS, its script (kept apart so the page can hash them) and its title."""
    t = trace(root, digits=digits)
    views = build_views(t, max_nodes=max_nodes)
    view_of = {view.group: i for i, view in enumerate(views)}
    title = title or f"Backpropagation through {t.name(root)}"
    data = {"views": [{"title": v.title, "boxes": len(v.boxes), "frames": [_frame_json(fr, view_of) for fr in v.frames]}
                      for v in views],
            "gradPrefix": "grad ", "globalKeys": global_keys}
    sections = []
    for i, view in enumerate(views):
        svg = _enlarged(_flat_svg(t, max_nodes) if not t.grouped else _view_svg(t, view))
        heading = f"Every step, {html.escape(view.title)}"
        listing = f'<div class="asc-list">{_static_list(view)}</div>'
        if i == 0:
            steps = f"<h2>{heading}</h2>{listing}"
        else:
            steps = f"<details><summary>{heading}</summary>{listing}</details>"
        body = f'<div class="asc-graph">{svg}</div>' + steps
        sections.append(f'<div class="asc-view" data-view="{i}"{" hidden" if i else ""}>{body}</div>')
    grouped_note = (" The graph is grouped: each Neuron call (and each ``scope``) is one box and one step; "
                    "the steps inside each group follow, under its name." if t.grouped else "")
    script = SCRIPT.replace("__ID__", element_id)
    body = (
        f'<div class="asc-step" id="{element_id}" tabindex="0">'
        f"<h1>{html.escape(title)}</h1>"
        '<div class="asc-controls" hidden>'
        '<button type="button" data-act="first" title="first (Home)">« first</button>'
        '<button type="button" data-act="prev" title="back (←)">◀ back</button>'
        '<button type="button" data-act="play" title="play / pause">▶ play</button>'
        '<button type="button" data-act="next" title="next (→ or space)">next ▶</button>'
        '<button type="button" data-act="last" title="last (End)">last »</button>'
        '<button type="button" class="asc-open" data-act="open" title="step inside this group (o)" hidden>open</button>'
        '<button type="button" data-act="up" title="back to the enclosing view (u)" hidden>▲ up</button>'
        '<span class="asc-where"></span><span class="asc-pos"></span>'
        '<span class="asc-hint">keys: → or space next, ← back, o open a group, u up</span>'
        "</div>"
        f"{LEGEND.replace('__GROUP__', LEGEND_GROUP if t.grouped else '')}"
        '<p class="asc-nojs">Scripts are off here, so nothing moves: the drawing shows every node with its value '
        "and its final gradient, and below it every step of the forward and the backward pass is listed in order."
        f"{html.escape(grouped_note)}</p>"
        '<div class="asc-now" aria-live="polite" hidden></div>'
        f'{"".join(sections)}'
        f"{_naive_section(root, digits) if naive else ''}"
        f'<script type="application/json" class="asc-data">{_json_for_script(data)}</script>'
        "</div>"
    )
    return body, CSS, script, title


def _naive_section(root: Value, digits: int) -> str:
    text = format_naive(naive_backward(root), digits)
    return f'<h2>Why the order matters</h2><pre class="asc-naive">{html.escape(text)}</pre>'


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_document(root: Value, *, title: str | None = None, digits: int = 4, naive: bool = False,
                  max_nodes: int = 500) -> str:
    """A complete, self-contained HTML document with a strict Content-Security-Policy.

    >>> from autograd_scalar.examples import example
    >>> page = page_document(example("branch"))
    >>> page.startswith("<!DOCTYPE html>"), "default-src 'none'" in page, "a.grad = 1.0 + 3.0 + 3.0 = 7.0" in page
    (True, True, True)
    """
    body, css, script, title = _parts(root, _showable(title), digits, "asc-page", global_keys=True, naive=naive,
                                      max_nodes=max_nodes)
    policy = (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(css)}; "
              "img-src 'none'; base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{css}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{script}</script>\n</body>\n</html>\n"
    )


def _showable(title: str | None) -> str | None:
    """A title with lone surrogates and control characters written as escapes, so it encodes as UTF-8."""
    from .steptrace import shown_text

    return None if title is None else shown_text(str(title))


def page_fragment(root: Value, *, title: str | None = None, digits: int = 4, max_nodes: int = 500) -> str:
    """The same page as markup for a notebook cell: its own id, keys only while it has focus.

    >>> from autograd_scalar.examples import example
    >>> a, b = page_fragment(example("branch")), page_fragment(example("branch"))
    >>> a.startswith("<style>"), a[a.index('id="'):][:14] != b[b.index('id="'):][:14]
    (True, True)
    """
    element_id = f"asc-step-{uuid.uuid4().hex[:12]}"  # unique across kernels: old outputs stay on the page
    body, css, script, _ = _parts(root, _showable(title), digits, element_id, global_keys=False,
                                  max_nodes=max_nodes)
    return f"<style>{css}</style>{body}<script>{script}</script>"


# ---- the notebook view and the file ---------------------------------------------------------------------


class StepView:
    """The step-through page of one graph, for a notebook cell (``_repr_html_``) or a file.

    In Jupyter (classic Notebook and JupyterLab, trusted) its buttons and arrow keys step through
    the forward and backward passes on the drawn graph. Where scripts do not run (an untrusted
    notebook, GitHub) the same output shows the graph with its final gradients and every step as
    a static list.
    """

    def __init__(self, root: Value, *, title: str | None = None, digits: int = 4, max_nodes: int = 500) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"show_steps: expected a Value (the output of a graph), got {root!r}")
        self.root = root
        self.title = title
        self.digits = digits
        self.max_nodes = max_nodes

    def _repr_html_(self) -> str:
        return page_fragment(self.root, title=self.title, digits=self.digits, max_nodes=self.max_nodes)

    def __str__(self) -> str:
        return format_transcript(self.root, title=self.title, digits=self.digits, max_nodes=self.max_nodes)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython in a terminal: the transcript
        printer.text(str(self))

    def save(self, path: PathLike) -> Path:
        """Write the self-contained page to ``path`` (see :func:`export_html`)."""
        return export_html(self.root, path, title=self.title, digits=self.digits, max_nodes=self.max_nodes)


def show_steps(root: Value, *, title: str | None = None, digits: int = 4, max_nodes: int = 500) -> StepView:
    """The step-through of ``root``'s graph, for display in a notebook cell.

    >>> from autograd_scalar import Value
    >>> x = Value(0.5, label="x")
    >>> view = show_steps(x.tanh())
    >>> "x.grad += (1 - (tanh(x))**2) × (tanh(x)).grad" in view._repr_html_()
    True
    """
    return StepView(root, title=title, digits=digits, max_nodes=max_nodes)


def export_html(root: Value, path: PathLike, *, title: str | None = None, digits: int = 4,
                naive: bool = False, max_nodes: int = 500) -> Path:
    """Write the step-through of ``root``'s graph as one self-contained HTML file; return its path.

    Inline SVG, CSS and script; nothing loads from the network (a Content-Security-Policy forbids
    it). Buttons and the arrow keys step through the forward pass, then the backward pass, with
    the gradients filling in on the graph; in a grouped graph each group is one step, and ``o``
    opens it to step through its nodes. Without scripts, the page shows the graph with its final
    gradients and every step as a list. ``naive=True`` adds the naive recursive pass beside the
    real one (see :func:`naive_backward`). A view of more than ``max_nodes`` boxes is refused (a
    ValueError) before anything is written: the limit applies to what is shown, so a grouped MLP
    of a thousand nodes fits. The file is written atomically: a failure leaves any old file as it
    was. No ``.grad`` is changed.

    >>> import tempfile, os
    >>> from autograd_scalar import Value
    >>> x = Value(0.5, label="x")
    >>> path = export_html(x.tanh(), os.path.join(tempfile.mkdtemp(), "tanh.html"))
    >>> "Content-Security-Policy" in path.read_text(encoding="utf-8")
    True
    """
    if not isinstance(root, Value):
        raise TypeError(f"export_html: expected a Value (the output of a graph), got {root!r}")
    path = Path(path)
    page = page_document(root, title=title, digits=digits, naive=naive, max_nodes=max_nodes)
    write_atomic(path, page)
    return path


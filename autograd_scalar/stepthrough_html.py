"""The step-through as a self-contained web page, and as a notebook cell's HTML.

The page holds the graph as inline SVG (from :func:`autograd_scalar.viz.to_svg`, with the final
gradients drawn in), every step as a static ordered list, the steps again as JSON for the script,
the CSS and the script. Everything is in the markup before any script runs, so without JavaScript
(an untrusted notebook, GitHub, a browser with scripts off) the reader still has the graph and
every step. With it, buttons and keys (→ / space next, ← back, Home, End) step through the forward
pass, then the backward pass: the current node is highlighted, gradients fill in on the graph, and
the ``+=`` of a node that feeds several operations shows each contribution.

Safety: every label is escaped (HTML here, SVG in ``to_svg``); the script writes text with
``textContent`` only; the steps travel as JSON inside ``<script type="application/json">`` with
``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026``, so no label can close the
element. The page's Content-Security-Policy (``default-src 'none'``) allows exactly the page's own
inline script and style by their SHA-256 hashes, so nothing external loads and no injected script
or handler could run.
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

from .engine import Value, topological_order
from .stepthrough import fmt_num, trace_backward, trace_forward

CSS = """
.asc-step { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2433;
  max-width: 1400px; margin: 0 auto; padding: 8px 12px; }
.asc-step h1 { font-size: 1.25em; margin: 0.2em 0 0.5em; }
.asc-step h2 { font-size: 1.05em; margin: 0.8em 0 0.3em; }
.asc-step .asc-graph { overflow: auto; border: 1px solid #d8dde6; border-radius: 8px; background: #fff;
  max-height: 62vh; }
.asc-step .asc-graph svg { display: block; margin: 0 auto; max-width: none; }
.asc-step .asc-controls { display: flex; gap: 6px; align-items: center; margin: 10px 0; flex-wrap: wrap; }
.asc-step button { font: inherit; padding: 4px 12px; border: 1px solid #9aa5b8; border-radius: 6px;
  background: #fff; cursor: pointer; }
.asc-step button:hover { background: #eef2f8; }
.asc-step .asc-pos { margin-left: 8px; color: #556; font-variant-numeric: tabular-nums; }
.asc-step .asc-hint { color: #778; font-size: 0.9em; }
.asc-step .asc-now { border: 1px solid #d8dde6; border-left: 5px solid #7048e8; border-radius: 8px;
  padding: 8px 12px; background: #fff; min-height: 5.5em; }
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
.asc-step:focus { outline: none; }
.asc-step [hidden] { display: none !important; }
.asc-step pre.asc-naive { font-size: 0.85em; background: #f8f9fb; border: 1px solid #e3e7ee; border-radius: 8px;
  padding: 8px 12px; overflow: auto; }
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
  var frames = data.frames;
  var n = data.nodes.length;
  var graph = root.querySelector(".asc-graph");
  var svg = graph ? graph.querySelector("svg") : null;
  function inSvg(selector) { return svg ? svg.querySelector(selector) : null; }
  var boxes = [], ops = [], grads = [], values = [], shownData = [];
  for (var i = 0; i < n; i++) {
    var box = inSvg('g.value[data-index="' + i + '"]');
    boxes.push(box);
    ops.push(inSvg('g.op[id="op' + i + '"]'));
    grads.push(box ? box.querySelector("text.grad") : null);
    values.push(box ? box.querySelector("text.data") : null);
    shownData.push(values[i] ? values[i].textContent : "");
  }
  var edges = svg ? Array.prototype.slice.call(svg.querySelectorAll("path.edge")) : [];
  var items = Array.prototype.slice.call(root.querySelectorAll(".asc-list li"));
  var now = root.querySelector(".asc-now");
  var pos = root.querySelector(".asc-pos");
  var list = root.querySelector(".asc-list");
  var playButton = root.querySelector('button[data-act="play"]');
  var k = 0, timer = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function mark(e, cls, on) { if (e) { e.classList.toggle(cls, on); } }

  function state(upto) {
    var s = { seen: [], grad: [], parts: [], final: [] };
    for (var i = 0; i < n; i++) { s.seen.push(false); s.grad.push(null); s.parts.push([]); s.final.push(false); }
    for (var j = 0; j <= upto; j++) {
      var f = frames[j];
      if (f.phase === "forward") { s.seen[f.node] = true; }
      if (f.phase === "backward") {
        for (var m = 0; m < n; m++) { s.seen[m] = true; }
        s.grad[f.node] = f.grad; s.final[f.node] = true;
        f.sends.forEach(function (c) { s.grad[c.to] = c.after; s.parts[c.to].push(c.part); });
      }
    }
    return s;
  }

  function render() {
    var f = frames[k], s = state(k);
    for (var i = 0; i < n; i++) {
      mark(boxes[i], "asc-pending", !s.seen[i]);
      mark(ops[i], "asc-pending", !s.seen[i]);
      mark(boxes[i], "asc-current", f.node === i);
      mark(ops[i], "asc-current", f.node === i);
      mark(boxes[i], "asc-target", (f.targets || []).indexOf(i) >= 0);
      if (values[i]) { values[i].textContent = s.seen[i] ? shownData[i] : ""; }
      if (grads[i]) {
        var sum = s.parts[i].length > 1 ? " = " + s.parts[i].join(" + ") : "";
        grads[i].textContent = s.grad[i] === null ? "" : data.gradPrefix + s.grad[i] + sum;
        mark(grads[i], "asc-final", s.final[i]);
        mark(grads[i], "asc-partial", s.grad[i] !== null && !s.final[i]);
      }
    }
    edges.forEach(function (e) {
      mark(e, "asc-flow", f.node !== null && e.getAttribute("data-to") === String(f.node));
      mark(e, "asc-arrived", f.phase === "backward" && e.getAttribute("data-from") === String(f.node));
    });
    now.textContent = "";
    now.classList.toggle("asc-forward", f.phase !== "backward");
    now.appendChild(el("div", "asc-head", f.head));
    (f.sum ? [f.sum] : []).forEach(function (sum) {
      var row = el("div", "asc-sum");
      row.appendChild(el("span", "", sum.target + ".grad ="));
      sum.parts.forEach(function (p, j) {
        if (j > 0) { row.appendChild(el("span", "", "+")); }
        row.appendChild(el("span", "asc-chip", p));
      });
      row.appendChild(el("span", "", "= " + sum.total));
      now.appendChild(row);
    });
    f.lines.forEach(function (line) { now.appendChild(el("div", "asc-rule", line)); });
    (f.sends || []).forEach(function (c) {
      var card = el("div", "asc-card");
      card.appendChild(el("span", "", c.equation));
      card.appendChild(el("span", "asc-change", c.change));
      now.appendChild(card);
    });
    var current = f.node !== null ? boxes[f.node] : null;
    if (current && graph) {  // keep the current node in view when the graph is larger than its frame
      var frame = graph.getBoundingClientRect(), box = current.getBoundingClientRect();
      if (box.left < frame.left || box.right > frame.right) {
        graph.scrollLeft += (box.left + box.right) / 2 - (frame.left + frame.right) / 2;
      }
      if (box.top < frame.top || box.bottom > frame.bottom) {
        graph.scrollTop += (box.top + box.bottom) / 2 - (frame.top + frame.bottom) / 2;
      }
    }
    pos.textContent = f.position;
    items.forEach(function (li, j) { mark(li, "asc-active", j === k); });
    var active = items[k];
    if (active && list) {
      var top = active.offsetTop - list.offsetTop;
      if (top < list.scrollTop || top + active.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = Math.max(0, top - list.clientHeight / 3);
      }
    }
  }

  function go(j) { k = Math.max(0, Math.min(frames.length - 1, j)); render(); }
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; playButton.textContent = "▶ play"; } }
  function play() {
    if (timer !== null) { stop(); return; }
    if (k === frames.length - 1) { go(0); }
    playButton.textContent = "❚❚ pause";
    timer = setInterval(function () { if (k >= frames.length - 1) { stop(); } else { go(k + 1); } }, 1100);
  }
  var actions = {
    first: function () { stop(); go(0); }, prev: function () { stop(); go(k - 1); },
    next: function () { stop(); go(k + 1); }, last: function () { stop(); go(frames.length - 1); }, play: play
  };
  Array.prototype.forEach.call(root.querySelectorAll("button[data-act]"), function (b) {
    b.addEventListener("click", function () { actions[b.getAttribute("data-act")](); });
  });
  items.forEach(function (li, j) { li.addEventListener("click", function () { stop(); go(j); }); });
  var keys = { ArrowRight: "next", " ": "next", n: "next", ArrowLeft: "prev", p: "prev", b: "prev",
               Home: "first", End: "last" };
  (data.globalKeys ? document : root).addEventListener("keydown", function (event) {
    var act = keys[event.key];
    if (!act || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === " " && event.target && event.target.tagName === "BUTTON") { return; }
    event.preventDefault();
    actions[act]();
  });
  root.querySelector(".asc-controls").hidden = false;
  Array.prototype.forEach.call(root.querySelectorAll(".asc-nojs"), function (e) { e.hidden = true; });
  render();
})();
"""


@contextmanager
def _grads_drawn(grads: dict[Value, float]) -> Iterator[None]:
    """Show ``grads`` in ``.grad`` while the SVG is drawn, then put every ``.grad`` back."""
    saved = {node: node.grad for node in grads}
    try:
        for node, g in grads.items():
            node.grad = g
        yield
    finally:
        for node, g in saved.items():
            node.grad = g


def _frames(root: Value, digits: int) -> tuple[list[dict], list[dict]]:
    """The frames the script steps through (start, forward steps, backward steps), and the nodes."""
    f = lambda x: fmt_num(x, digits)  # noqa: E731
    g = lambda x: format(x, f".{digits}g")  # noqa: E731  (on the graph: as to_svg writes numbers)
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    forward = trace_forward(root, digits=digits)
    backward = trace_backward(root, digits=digits)
    nodes = [{"name": s.name, "data": f(s.node.data)} for s in forward]
    total = len(forward)
    frames: list[dict] = [{
        "phase": "start", "node": None, "position": "start",
        "head": f"The graph of {forward[-1].name}: {total} nodes. Press → (or next) for the forward pass.",
        "lines": ["Forward: each node is computed after its inputs. Backward: each node passes its gradient "
                  "on after all its consumers have added theirs."],
    }]
    for s in forward:
        frames.append({
            "phase": "forward", "node": s.index, "position": f"forward {s.index + 1} of {total}",
            "head": f"Forward {s.index + 1} of {total}: " + ("an input" if not s.node.op else "compute"),
            "lines": [s.text], "targets": [],
        })
    for s in backward:
        explained = list(s.lines[1 : len(s.lines) - len(s.contributions)])
        sum_ = None
        if len(s.incoming) > 1:  # the line "a.grad = 1.0 + 3.0 + 3.0 = 7.0: it is used by ..." becomes chips
            line = next(line for line in explained if not line.lstrip().startswith("rule:"))
            explained[explained.index(line)] = line[line.index(": it is used") + 2 :]
            sum_ = {"target": s.name, "total": f(s.upstream),
                    "parts": [f"{f(c.contribution)} from {forward[index[c.consumer]].name}" for c in s.incoming]}
        rule_lines = [line.strip() for line in explained]
        frames.append({
            "phase": "backward", "node": s.topo_index, "position": f"backward {s.index + 1} of {s.total}",
            "head": s.lines[0], "grad": g(s.upstream), "sum": sum_, "lines": rule_lines,
            "sends": [{"to": index[c.parent], "equation": c.equation, "change": c.change, "after": g(c.after),
                       "part": g(c.contribution)} for c in s.contributions],
            "targets": [index[c.parent] for c in s.contributions],
        })
    return frames, nodes


def _static_list(frames: list[dict]) -> str:
    """Every frame as a list item: the same text the script shows, readable without it."""
    items = []
    for frame in frames:
        lines = [frame["head"]]
        if frame.get("sum"):
            s = frame["sum"]
            lines.append(f"{s['target']}.grad = {' + '.join(s['parts'])} = {s['total']}")
        lines += frame["lines"]
        lines += [f"{c['equation']}      {c['change']}" for c in frame.get("sends", ())]
        body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
        items.append(f'<li data-phase="{frame["phase"]}">{body}</li>')
    return "<ol>" + "".join(items) + "</ol>"


def _json_for_script(data: object) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment: ``< > &`` as unicode escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _svg(root: Value, digits: int, max_nodes: int) -> tuple[str, str]:
    """The graph with its final gradients drawn, and the text that precedes a gradient's number."""
    from .viz import to_svg

    final = {step.node: step.upstream for step in trace_backward(root)}
    with _grads_drawn(final):
        svg = to_svg(root, fmt=f"{{:.{digits}g}}", max_nodes=max_nodes)
    return _enlarged(svg), "grad "


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
    start, end = head.span()
    resized = re.sub(r'width="[\d.]+" height="[\d.]+"', f'width="{width * scale:.0f}" height="{height * scale:.0f}"',
                     head.group(0), count=1)
    return resized + svg[end:]


def _parts(root: Value, title: str | None, digits: int, element_id: str, global_keys: bool,
           naive: bool = False, max_nodes: int = 500) -> tuple[str, str, str]:
    """The page's body markup, its CSS and its script (kept apart so the page can hash them)."""
    frames, nodes = _frames(root, digits)
    svg, grad_prefix = _svg(root, digits, max_nodes)
    title = title or f"Backpropagation through {nodes[-1]['name']}"
    data = {"frames": frames, "nodes": nodes, "gradPrefix": grad_prefix, "globalKeys": global_keys}
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
        '<span class="asc-pos"></span>'
        '<span class="asc-hint">keys: → or space next, ← back</span>'
        "</div>"
        f'<div class="asc-graph">{svg}</div>'
        '<p class="asc-nojs">The graph shows every node with its value and its final gradient. '
        "Below, every step of the forward and backward pass. (With JavaScript on, buttons step "
        "through them on the graph.)</p>"
        '<div class="asc-now" aria-live="polite"></div>'
        f'<h2>All steps</h2><div class="asc-list">{_static_list(frames)}</div>'
        f"{_naive_section(root, digits) if naive else ''}"
        f'<script type="application/json" class="asc-data">{_json_for_script(data)}</script>'
        "</div>"
    )
    return body, CSS, script


def _naive_section(root: Value, digits: int) -> str:
    from .stepthrough import format_naive, naive_backward

    text = format_naive(naive_backward(root), digits)
    return f'<h2>Why the order matters</h2><pre class="asc-naive">{html.escape(text)}</pre>'


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def page_document(root: Value, *, title: str | None = None, digits: int = 4, naive: bool = False,
                  max_nodes: int = 500) -> str:
    """A complete, self-contained HTML document with a strict Content-Security-Policy."""
    body, css, script = _parts(root, title, digits, "asc-page", global_keys=True, naive=naive, max_nodes=max_nodes)
    policy = (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(css)}; "
              "img-src 'none'; base-uri 'none'; form-action 'none'")
    page_title = html.escape(title or f"Backpropagation through {trace_forward(root)[-1].name}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{page_title}</title>\n<style>{css}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{script}</script>\n</body>\n</html>\n"
    )


def page_fragment(root: Value, *, title: str | None = None, digits: int = 4, max_nodes: int = 500) -> str:
    """The same page as markup for a notebook cell: its own id, keys only while it has focus."""
    element_id = f"asc-step-{uuid.uuid4().hex[:12]}"  # unique across kernels: old outputs stay on the page
    body, css, script = _parts(root, title, digits, element_id, global_keys=False, max_nodes=max_nodes)
    return f"<style>{css}</style>{body}<script>{script}</script>"

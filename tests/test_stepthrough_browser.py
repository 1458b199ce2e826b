"""The step-through web page in a real headless browser (Debian's Chromium, driven by Playwright).

Pins down: pressing → steps through the forward pass and then the backward pass, and after every
backward step the gradients shown on the graph are the ones the engine computes (partial sums
marked until a node's own step); the current node is highlighted; at a*a + a the a*a step shows two
contributions to a and a's step their sum, 7; buttons and play work; several notebook views on one page step
independently; without JavaScript the graph shows the final gradients and every step is listed;
hostile labels show as text and run no script; the Content-Security-Policy blocks nothing of ours.
"""

from __future__ import annotations

import re

import pytest
from conftest import require_executable, require_module

from autograd_scalar import Value
from autograd_scalar.engine import topological_order
from autograd_scalar.examples import mlp_sample
from autograd_scalar.stepthrough import example, export_html, fmt_num, show_steps, trace_backward, trace_forward
from autograd_scalar.steptrace import build_views, trace

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
HOSTILE = '"}<b>|x" -> y [color=red]; \n<script>window.pwned = 1; alert(1)</script>'
HOSTILE_IMG = '<img src=x onerror="window.pwned = 2; alert(2)">'


@pytest.fixture(scope="module")
def browser():
    sync_api = require_module("playwright.sync_api", "pip install playwright")
    chromium = require_executable("chromium", "apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []  # console errors (a CSP violation is one), page errors, dialogs
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (page.problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield page
    context.close()


def _open(page, tmp_path, root, name="page.html"):
    path = export_html(root, tmp_path / name)
    page.goto(path.as_uri())
    return path


def _shown_grads(page, n):
    """The gradient text of each value box (``v0``.. ``v{n-1}``), as the reader sees it."""
    return page.evaluate(
        "n => Array.from({length: n}, (_, i) => document.querySelector('#v' + i + ' text.grad').textContent)", n)


def _number(text):
    match = re.search(r"-?\d[\d.]*(?:e[-+]?\d+)?", text)
    return float(match.group()) if match else None


def _expected_after(steps, k, n):
    """What the graph must show after backward step k: final gradients, and running sums marked partial."""
    shown = [None] * n
    final = [False] * n
    for step in steps[: k + 1]:
        shown[step.topo_index], final[step.topo_index] = step.upstream, True
        for c in step.contributions:
            i = next(j for j, node in enumerate(topological_order(steps[0].node)) if node is c.parent)
            if not final[i]:
                shown[i] = c.after
    return shown, final


def test_stepping_fills_in_the_engines_gradients(page, tmp_path):
    f = example("sigmoid")
    _open(page, tmp_path, f)
    steps = trace_backward(f)
    n = len(steps)
    assert all(text == "" for text in _shown_grads(page, n))  # nothing before the backward pass
    for _ in range(n):  # from the start frame, one forward frame per node
        page.keyboard.press("ArrowRight")
    assert page.inner_text(".asc-pos") == f"{n + 1} / {2 * n + 1}"  # one numbering: the list's
    for k, step in enumerate(steps):
        page.keyboard.press("ArrowRight")
        assert page.inner_text(".asc-pos") == f"{n + k + 2} / {2 * n + 1}"
        assert page.get_attribute(".asc-graph g.value.asc-current", "data-index") == str(step.topo_index)
        shown = _shown_grads(page, n)
        classes = page.evaluate(
            "n => Array.from({length: n}, (_, i) => document.querySelector('#v' + i + ' text.grad')"
            ".getAttribute('class'))", n)
        expected, final = _expected_after(steps, k, n)
        for text, cls, value, done in zip(shown, classes, expected, final):
            if value is None:
                assert text == ""
            else:
                assert _number(text) == pytest.approx(value, rel=1e-3, abs=1e-12)
                assert ("asc-final" in cls, "asc-partial" in cls) == (done, not done)
    twin = example("sigmoid")
    twin.backward()
    final_numbers = [_number(text) for text in _shown_grads(page, n)]
    assert final_numbers == pytest.approx([node.grad for node in topological_order(twin)], rel=1e-3)
    assert "w0.grad += x0 × (w0*x0).grad = -1.0 × 0.1966 = -0.1966" in page.inner_text(".asc-list")
    assert "partial: more parts to come" in page.inner_text(".asc-legend")
    assert all(node.grad == 0.0 for node in topological_order(f))  # writing the page changed no .grad
    shot = page.screenshot(path=str(tmp_path / "sigmoid.png"), full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
    assert page.problems == []


def test_branching_node_shows_two_contributions_and_their_sum(page, tmp_path):
    _open(page, tmp_path, example("branch"))
    for _ in range(3 + 2):  # from the start: three forward frames, then backward steps 1 and 2 (a*a)
        page.keyboard.press("ArrowRight")
    assert page.inner_text(".asc-now .asc-head") == "a*a = 9.0: its gradient (a*a).grad = 1.0"
    cards = page.locator(".asc-now .asc-card").all_inner_texts()
    assert len(cards) == 2 and all(card.startswith("a.grad += a × (a*a).grad = 3.0 × 1.0 = 3.0") for card in cards)
    assert "a.grad: 1.0 → 4.0" in cards[0] and "a.grad: 4.0 → 7.0" in cards[1]
    page.click('button[data-act="next"]')
    chips = page.locator(".asc-now .asc-chip").all_inner_texts()
    assert chips == ["1.0 from y", "3.0 from a*a", "3.0 from a*a"]
    assert page.inner_text(".asc-now .asc-sum").endswith("= 7.0")
    page.click('button[data-act="prev"]')
    assert page.inner_text(".asc-pos") == "6 / 7"
    assert page.problems == []


def test_notebook_views_step_independently(page, tmp_path):
    first, second = show_steps(example("branch")), show_steps(example("sigmoid"))
    (tmp_path / "cells.html").write_text(
        "<!DOCTYPE html><meta charset=utf-8><body>" + first._repr_html_() + second._repr_html_(), encoding="utf-8")
    page.goto((tmp_path / "cells.html").as_uri())
    views = page.locator(".asc-step")
    assert views.count() == 2
    views.nth(1).locator('button[data-act="last"]').click()
    assert views.nth(1).locator(".asc-pos").inner_text() == "21 / 21"
    assert views.nth(0).locator(".asc-pos").inner_text() == "1 / 7"
    views.nth(0).focus()
    page.keyboard.press("ArrowRight")  # keys go to the focused view only
    assert views.nth(0).locator(".asc-pos").inner_text() == "2 / 7"
    assert views.nth(1).locator(".asc-pos").inner_text() == "21 / 21"
    assert page.problems == []


def test_without_javascript_the_page_is_a_static_list(browser, tmp_path):
    f = example("branch")
    path = export_html(f, tmp_path / "static.html")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    assert not page.is_visible(".asc-controls") and not page.is_visible(".asc-now")
    assert "Scripts are off here" in page.inner_text(".asc-nojs")  # it says what it shows
    assert "Press" not in page.inner_text("body")
    assert [_number(text) for text in _shown_grads(page, 3)] == [7.0, 1.0, 1.0]  # final gradients, drawn
    items = page.locator(".asc-list li").all_inner_texts()
    assert len(items) == 1 + len(trace_forward(f)) + len(trace_backward(f))
    assert "a.grad = 1.0 from y + 3.0 from a*a + 3.0 from a*a = 7.0" in items[-1]
    context.close()


def test_hostile_labels_are_text_and_run_nothing(page, tmp_path):
    a, b = Value(0.5, label=HOSTILE), Value(-1.5, label=HOSTILE_IMG)
    root = (a * b + a).tanh()
    _open(page, tmp_path, root)
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    labels = page.evaluate("Array.from(document.querySelectorAll('g.value text.label')).map(t => t.textContent)")
    # to_svg shortens long labels; what it shows must be the label's own characters, as text
    assert any(label.startswith("<img src=x onerror=") for label in labels)
    assert any(label.startswith('"}<b>|x" -> y [color=red];') and "<script>" in label for label in labels)
    assert HOSTILE_IMG in page.inner_text(".asc-list")
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("document.querySelectorAll('img, b').length") == 0
    assert page.evaluate("document.scripts.length") == 2  # the steps' JSON and the page's own script
    assert page.problems == []
    shown = [_number(t) for t in _shown_grads(page, len(topological_order(root)))]
    assert all(value is not None for value in shown)
    for step in trace_backward(root):
        assert shown[step.topo_index] == pytest.approx(float(fmt_num(step.upstream)), rel=1e-3)


INSERT_LIKE_JUPYTER = """([markup, trusted]) => {
    // Jupyter puts a cell's HTML in with innerHTML, where scripts do not run; JupyterLab then re-creates
    // each script of a trusted output so that it runs, and drops them from an untrusted one.
    const cell = document.createElement("div");
    document.body.appendChild(cell);
    cell.innerHTML = markup;
    for (const old of Array.from(cell.querySelectorAll("script"))) {
        if (!trusted) { old.remove(); continue; }
        const script = document.createElement("script");
        if (old.type) { script.type = old.type; }
        if (old.className) { script.className = old.className; }
        script.textContent = old.textContent;
        old.replaceWith(script);
    }
}"""


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_notebook_output_as_jupyter_inserts_it(page, tmp_path, trusted):
    (tmp_path / "blank.html").write_text("<!DOCTYPE html><meta charset=utf-8><body></body>", encoding="utf-8")
    page.goto((tmp_path / "blank.html").as_uri())
    page.evaluate(INSERT_LIKE_JUPYTER, [show_steps(example("branch"))._repr_html_(), trusted])
    assert page.locator(".asc-list li").count() == 1 + 3 + 3  # the static list is there either way
    assert page.is_visible(".asc-controls") == trusted
    if trusted:
        page.click('button[data-act="last"]')
        assert page.inner_text(".asc-pos") == "7 / 7"
        assert page.locator(".asc-now .asc-chip").all_inner_texts() == ["1.0 from y", "3.0 from a*a", "3.0 from a*a"]
    else:
        assert _number(_shown_grads(page, 3)[0]) == 7.0  # the final gradients, drawn
    assert page.problems == []


def test_play_steps_on_its_own_and_stops_at_the_end(page, tmp_path):
    page.clock.install()  # the page's timers run on a fake clock: no waiting in the test
    _open(page, tmp_path, example("branch"))
    page.click('button[data-act="play"]')
    assert page.inner_text('button[data-act="play"]') == "❚❚ pause"
    page.clock.run_for(3 * 1100 + 50)
    assert page.inner_text(".asc-pos") == "4 / 7"
    page.clock.run_for(20 * 1100)
    assert page.inner_text(".asc-pos") == "7 / 7"
    assert page.inner_text('button[data-act="play"]') == "▶ play"  # stopped at the last step
    assert page.problems == []


def _view_grads(page, view):
    """The gradient text of each box of one view's drawing (``data-index`` 0..), as the reader sees it."""
    return page.evaluate("""v => Array.from(document.querySelectorAll('.asc-view[data-view="' + v + '"] g.value'))
        .sort((a, b) => a.getAttribute('data-index') - b.getAttribute('data-index'))
        .map(g => [g.querySelector('text.grad').textContent, g.querySelector('text.grad').getAttribute('class')])""",
                         view)


def test_a_grouped_mlp_sample_steps_group_by_group_with_the_engines_gradients(page, tmp_path):
    loss, _ = mlp_sample()
    path = export_html(loss, tmp_path / "mlp.html")
    page.goto(path.as_uri())
    twin, _ = mlp_sample()
    twin.backward()
    engine = {i: node.grad for i, node in enumerate(topological_order(twin))}
    t = trace(loss)
    index = t.index
    views = build_views(t)
    view_of = {v.group: i for i, v in enumerate(views)}
    top = views[0]
    assert len(top.boxes) == 37 < len(t.order)  # the limit is on what is shown: 981 nodes, 37 boxes

    def expect_final(v, boxes):
        shown = _view_grads(page, v)
        for box in boxes:
            text, cls = shown[box.key]
            assert text == "grad " + fmt_num(engine[index[box.node]]), (views[v].title, box.name, text)
            assert "asc-final" in cls

    opened = 0
    for k, frame in enumerate(top.frames):
        assert page.inner_text(".asc-pos") == f"{k + 1} / {len(top.frames)}"
        if frame.phase == "backward" and frame.group is not None:
            assert page.is_visible('button[data-act="open"]')
            page.keyboard.press("o")  # into the group, at its backward pass
            v = view_of[frame.group]
            inner = views[v]
            start = next(j for j, f in enumerate(inner.frames) if f.phase == "backward")
            assert page.inner_text(".asc-where") == inner.title
            for _ in range(start, len(inner.frames) - 1):
                page.keyboard.press("ArrowRight")
            expect_final(v, [b for b in inner.boxes if b.kind != "stub"])  # every node of the neuron
            page.keyboard.press("u")
            assert page.inner_text(".asc-where") == "the whole graph"
            opened += 1
        page.keyboard.press("ArrowRight")
    assert opened == 33
    expect_final(0, top.boxes)
    assert page.problems == []

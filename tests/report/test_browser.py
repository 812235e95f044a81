"""The report in a real browser (Debian's Chromium driven by Playwright, as the Space's browser test): no console
errors, a click on a point opens that scan's page, the grouping control changes the plots, no network needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmrqa.report.browser import CHROMIUM, launch

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = launch(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """An offline page: every request that is not a local file is recorded and aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, offline=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.problems = []  # type: ignore[attr-defined]
    page.network = []  # type: ignore[attr-defined]
    page.on(
        "console", lambda m: page.problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: page.problems.append(f"pageerror: {e}"))

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            page.network.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page
    context.close()


def _open(page, index: Path) -> None:
    page.goto(index.resolve().as_uri(), wait_until="load")
    page.wait_for_selector("#embedding .main-svg")
    page.evaluate("() => document.getElementById('plot-0').scrollIntoView()")  # metric plots are drawn when seen
    page.wait_for_selector("#plot-0 .main-svg")


def test_group_page_loads_offline_without_console_errors(page, report_dir):
    _open(page, report_dir / "index.html")
    page.locator("#plot-40").scroll_into_view_if_needed()  # lazily drawn plots draw cleanly too
    page.wait_for_selector("#plot-40 .main-svg")
    assert page.problems == [] and page.network == []
    assert page.locator("#scan-table tbody tr").count() == 12


def test_click_on_a_point_opens_that_scans_page(page, report_dir):
    _open(page, report_dir / "index.html")
    target = page.evaluate(
        """() => {
          const gd = document.getElementById('plot-0');
          gd.scrollIntoView({block: 'center'});
          const data = JSON.parse(document.getElementById('cohort-data').textContent);
          const trace = gd.calcdata[0];
          const k = 3, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
          const box = gd.querySelector('.nsewdrag').getBoundingClientRect();
          return {x: box.left + xa.d2p(trace[k].x), y: box.top + ya.d2p(trace[k].y), page: data.pages[k]};
        }"""
    )
    page.mouse.move(target["x"], target["y"])
    page.wait_for_timeout(300)
    with page.expect_navigation():
        page.mouse.click(target["x"], target["y"])
    assert page.url.endswith(target["page"])
    page.wait_for_selector("#assessment")
    assert page.problems == [] and page.network == []


def test_grouping_control_changes_the_plot(page, report_dir):
    _open(page, report_dir / "index.html")
    ticks = "() => Array.from(document.querySelectorAll('#plot-0 .xtick text')).map(t => t.textContent)"
    xs = "() => Array.from(document.getElementById('plot-0').data[0].x)"
    assert page.evaluate(ticks) == ["site1", "site2"]
    before = page.evaluate(xs)
    page.select_option("#group-by", "")
    page.wait_for_function("() => document.querySelectorAll('#plot-0 .xtick text').length === 1")
    assert page.evaluate(ticks) == ["(all scans)"]
    assert page.evaluate(xs) != before
    legend = "() => Array.from(document.querySelectorAll('#embedding .legendtext')).map(t => t.textContent)"
    assert page.evaluate(legend) == ["(all scans)"]
    page.select_option("#group-by", "folder")
    page.wait_for_function("() => document.querySelectorAll('#plot-0 .xtick text').length === 2")
    assert page.evaluate(xs) == before and page.problems == []


def test_scan_page_draws_its_profile_offline(page, report_dir):
    scan = next((report_dir / "scans").glob("*.html"))
    page.goto(scan.resolve().as_uri(), wait_until="load")
    page.wait_for_selector("#profile-plot .main-svg")
    images = page.evaluate("() => Array.from(document.images).map(i => i.naturalWidth)")
    assert images and all(w > 0 for w in images)
    assert page.problems == [] and page.network == []


def test_table_sorts_by_outlier_score(page, report_dir):
    _open(page, report_dir / "index.html")
    headers = page.evaluate("() => Array.from(document.querySelectorAll('#scan-table th')).map(t => t.textContent)")
    column = headers.index("outlier score")
    header = page.locator("#scan-table th").nth(column)
    header.click()
    header.click()  # descending
    values = page.evaluate(
        "(c) => Array.from(document.querySelectorAll('#scan-table tbody tr')).map(r => Number(r.cells[c].dataset.v))",
        column,
    )
    assert values == sorted(values, reverse=True)

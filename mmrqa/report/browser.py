"""Headless Chromium for the checks that need a real browser: the report's and the Space's browser tests, the
report benchmark and the documentation screenshots.

Debian's ``chromium`` package (``/usr/bin/chromium``; ``make browser`` installs it) driven by Playwright, never
``playwright install`` (no browser download). The flags keep it offline and quiet: no GPU, no sandbox (containers),
no background networking, component updates or sync, and no ``/dev/shm`` (small in containers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def launch(playwright: Any, **kwargs: Any) -> Any:
    """``playwright.chromium.launch`` of Debian's Chromium with :data:`ARGS` (``playwright`` is the object that
    ``sync_playwright()`` yields)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=list(ARGS), **kwargs)


def screenshot(url: str, path: str | Path, *, width: int = 1400, height: int = 1000, wait_for: str = "body") -> Path:
    """Open ``url`` in a fresh page, wait for ``wait_for`` and save a screenshot of the viewport at ``path``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="load")
            page.wait_for_selector(wait_for)
            page.wait_for_timeout(500)
            page.screenshot(path=str(path))
        finally:
            browser.close()
    return Path(path)

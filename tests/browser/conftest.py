"""The web console in a real headless Chromium (Debian's package; Playwright drives it and downloads no
browser) against a local system started exactly as `make run` starts it, with its own ports."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.local_system import Api, LocalProcess, login_to, stopped_after

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1360, "height": 900}

if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: `make install`")


@pytest.fixture(scope="session")
def console_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A local system of the browser tests' own (fresh capacity for the demo people); its stack."""
    with stopped_after(LocalProcess(tmp_path_factory.mktemp("console-system")), "the browser tests") as process:
        yield process.wait_ready()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def open_console(browser: Any, console_system: dict[str, Any]) -> Iterator[Callable[[], Any]]:
    """`open_console()`: a new page (its own context, so its own sign-in) on the console; the test fails
    on any script error the page raised."""
    contexts, errors = [], []

    def open_page() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(console_system["consoleUrl"])
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"the console raised script errors: {errors}"


@pytest.fixture(scope="session")
def console_api(console_system: dict[str, Any]) -> Callable[[str], Api]:
    """The API as a demo user, for the steps a test does not take through the browser."""
    token = login_to(console_system)
    return lambda username: Api(console_system["apiUrl"], token(username))


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any, str], Path]:
    """`screenshots(page, "inbox")`: a PNG of the page, into $SCREENSHOTS_DIR (`make screenshots` sets
    docs/screenshots) or a temporary folder."""
    given = os.environ.get("SCREENSHOTS_DIR")
    folder = Path(given) if given else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays on top of a full-page picture
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take

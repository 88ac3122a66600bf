"""Real-browser journeys: Playwright for Python driving Debian's Chromium, headless, against the
app served on 127.0.0.1 from a fresh, migrated and demo-seeded database.

Skipped (with the reason) when Playwright or Chromium is missing; `make e2e` installs both.
Screenshots of every journey land in e2e-artifacts/<test name>/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is a browser journey: `make test` deselects it, `make e2e` runs it."""
    for item in items:
        if "/tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)

ARTIFACTS = Path(__file__).resolve().parents[2] / "e2e-artifacts"
DEMO_PASSWORD = "mat-khau-e2e-2026"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a migrated, demo-seeded SQLite database (its BASE_URL names the port it will serve on)."""
    from flask_migrate import upgrade

    from bdg_training import create_app

    folder = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    app = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'e2e.db'}",
        DEMO_CREDENTIALS_FILE=str(folder / "logins.txt"),
        BASE_URL=f"http://127.0.0.1:{port}",
        LOGIN_LIMIT_PER_IP="1000 per minute",
        PAGE_CACHE_VERSION_FILE=str(folder / "page-cache.version"),  # the page cache stays on, as in production
    )
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    """The app served by a threaded WSGI server on 127.0.0.1."""
    from werkzeug.serving import make_server

    port = int(live_app.config["BASE_URL"].rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def build(live_app, live_server):
    """A journey's own data, made on the server side with tests/factories.py, so that no journey
    depends on another's side effects: ``with build() as make: course = make.course(...)``. The
    block runs in an app context of the live app and commits at the end; read what you need
    (ids, names) inside the block."""
    from contextlib import contextmanager

    from bdg_training.extensions import db
    from tests.factories import Factory

    @contextmanager
    def block():
        with live_app.app_context():
            yield Factory()
            db.session.commit()

    return block


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright chưa được cài (make e2e cài nó)")
    if not CHROMIUM:
        pytest.skip("Không tìm thấy Chromium (apt-get install chromium; make e2e cài nó)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


class Journey:
    """A browser page plus the small vocabulary the journeys speak."""

    def __init__(self, page, base_url: str, name: str) -> None:
        self.page = page
        self.base = base_url
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.shots = 0

    def go(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.go("/login")
        self.page.get_by_label("Tên đăng nhập hoặc email").fill(username)
        self.page.get_by_label("Mật khẩu").fill(password)
        self.page.get_by_role("button", name="Đăng nhập").click()
        self.page.wait_for_load_state()

    def menu(self, *labels: str) -> None:
        """Follow the main menu: ``menu("Tập huấn", "Kế hoạch")`` opens the dropdown, then clicks."""
        nav = self.page.get_by_role("navigation", name="Điều hướng chính")
        toggler = nav.locator(".navbar-toggler")
        if toggler.is_visible():
            toggler.click()
        for label in labels[:-1]:
            nav.get_by_role("button", name=label, exact=True).or_(nav.get_by_role("link", name=label, exact=True)).first.click()
        nav.get_by_role("link", name=labels[-1], exact=True).click()
        self.page.wait_for_load_state()

    def logout(self) -> None:
        self.page.context.clear_cookies()

    def shot(self, label: str) -> Path:
        self.shots += 1
        path = self.folder / f"{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check_accessibility(self) -> None:
        """The basics: lang="vi", every visible form control has a label, focus is visible."""
        assert self.page.evaluate("document.documentElement.lang") == "vi"
        unlabeled = self.page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
                .map(el => el.name || el.id || el.outerHTML.slice(0, 60))"""
        )
        assert unlabeled == [], f"inputs without a label on {self.page.url}: {unlabeled}"

    def tab_to(self, name_pattern: str, limit: int = 60) -> None:
        """Reach an element by keyboard alone (Tab), and check the focus is visible on it."""
        pattern = re.compile(name_pattern)
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            text = self.page.evaluate("(document.activeElement.innerText || document.activeElement.value || '').trim()")
            if pattern.search(text or ""):
                outline = self.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
                assert outline != "none", "focus must be visible"
                return
        raise AssertionError(f"{name_pattern!r} not reachable by keyboard on {self.page.url}")


@pytest.fixture
def journey(browser, live_server, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    yield Journey(page, live_server, request.node.name)
    context.close()


@pytest.fixture
def phone(browser, live_server, request):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN")
    page = context.new_page()
    yield Journey(page, live_server, request.node.name + "-phone")
    context.close()

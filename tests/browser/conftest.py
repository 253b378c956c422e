"""Browser tests: Playwright driving Debian's Chromium against the live server.

Each main page is checked with axe-core (no serious or critical violation) and kept as a
screenshot in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GUICHET_CHROMIUM", "/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def AXE_SOURCE(_cache=[]) -> str:  # noqa: B006, N802 — read once
    if not _cache:
        _cache.append(AXE.read_text())
    return _cache[0]


def _watch_csp(page) -> None:
    """Pages run under the application's real CSP: record anything it blocks."""
    page.csp_errors = []
    page.on(
        "console",
        lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )


@pytest.fixture(scope="package")
def browser():
    """One browser for the browser tests only: Playwright's event loop must be gone before
    the other tests run (Django's per-context connections would no longer be the test
    database's own, and the ORM refuses to run beside a loop without the flag below)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # ORM calls beside Playwright's loop
    try:
        with sync_playwright() as p:
            instance = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    _watch_csp(page)
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, user, password):
    page.goto("/connexion/")
    page.get_by_label("Identifiant").fill(user.username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state("networkidle")


DESKTOP, PHONE = 1280, 390
WIDTHS = (DESKTOP, PHONE)

# The page's width, and the cells of the lists laid out as cards on a phone (`table.stack`)
# that would still need a sideways scroll to be read.
_FIT = """() => { const w = document.documentElement.clientWidth, off = [];
  for (const cell of document.querySelectorAll('table.stack > tbody > tr > *')) {
    const b = cell.getBoundingClientRect();
    if (b.width && (b.right > w + 1 || b.left < -1)) off.push(cell.dataset.label || cell.textContent.trim().slice(0, 40));
  }
  return {scroll: document.documentElement.scrollWidth, off: [...new Set(off)]}; }"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _test_name() -> str:
    """The running test's name (``test_x[390]`` → ``test-x-390``), for the screenshots."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    return _slug(current.split("::")[-1].rsplit(" ", 1)[0]) if current else "page"


def fits(page, width: int | None = None) -> None:
    """No horizontal overflow of the page at its width, and every column of a list of
    dossiers (``table.stack``) on screen (a card per row on a phone, no sideways scroll)."""
    width = width or page.viewport_size["width"]
    fit = page.evaluate(_FIT)
    assert fit["scroll"] <= width, f"{page.url}: the page is {fit['scroll']} px wide at {width} px"
    assert not fit["off"], f"{page.url}: off-screen at {width} px: {fit['off']}"


def _axe(page, name: str) -> None:
    assert not page.csp_errors, f"{name}: blocked by the Content-Security-Policy: {page.csp_errors}"
    if not page.evaluate("typeof axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page keeps its real CSP (no bypass).
        page.evaluate(AXE_SOURCE())
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
             resultTypes: ['violations']})"""
    )
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in bad
    )


def check_page(page, name: str, widths=WIDTHS) -> None:
    """The page at each width (desktop 1280 px and phone 390 px by default): it fits
    (``fits``), a full-page screenshot is kept as a CI artefact in
    ``artifacts/screenshots/<test>-<name>-<width>.png``, and axe-core finds no serious or
    critical violation. The viewport is given back as it was."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    try:
        for width in widths:
            if page.viewport_size["width"] != width:
                page.set_viewport_size({"width": width, "height": original["height"]})
            fits(page, width)
            shot = f"{_test_name()}-{_slug(name)}-{width}.png"
            page.screenshot(path=str(SHOTS / shot), full_page=True)
            _axe(page, f"{name} ({width} px)")
    finally:
        if page.viewport_size != original:
            page.set_viewport_size(original)


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _reference_data(request):
    """A transactional test before this one may have flushed the territory and schemes:
    loaded again for every browser test that uses the database."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from schemes.models import EPCI, Scheme
    from tests.reference import reference_data_load

    territory, schemes = not EPCI.objects.exists(), not Scheme.objects.exists()
    if territory or schemes:
        reference_data_load(territory=territory, schemes=schemes)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Logins are not what these tests measure: a cheap hasher keeps the suite fast."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def new_page(browser, live_server):
    """Open another browser context (another user, or nobody) on the live server."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server.url,
            locale="fr-FR",
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        contexts.append(context)
        p = context.new_page()
        _watch_csp(p)
        p.set_default_timeout(15000)
        return p

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def tiny_pdf(tmp_path):
    """make(name) → the path of a small file that really is a PDF (magic bytes checked)."""

    def make(name: str) -> Path:
        path = tmp_path / name
        path.write_bytes(
            b"%PDF-1.4\n%guichet navigateur\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
        )
        return path

    return make


def text(page, selector: str = "main") -> str:
    """The visible text of a region, spaces normalised (French numbers use NBSP)."""
    return re.sub(r"\s+", " ", page.locator(selector).first.inner_text().replace("\u202f", " "))


def focused(page) -> dict:
    return page.evaluate(
        """() => { const e = document.activeElement;
             return {id: e.id, tag: e.tagName.toLowerCase(), text: (e.textContent || '').trim(),
                     name: e.getAttribute('name'), type: e.getAttribute('type')}; }"""
    )


def tab_to(page, matches, limit: int = 150, key: str = "Tab") -> dict:
    """Press Tab until the focused element satisfies ``matches`` (keyboard-only travel)."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if matches(now):
            return now
    raise AssertionError(f"focus never reached the target after {limit} × {key}")

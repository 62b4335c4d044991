"""Fixtures for the browser tests: the real stack (agent, gateway, Redis,
dockerd, containers) and a headless Chromium driven by Selenium.

Session scoped: one agent, one gateway (restartable on its port), one browser
for the whole run; tests run in file order and share the signed-in page.
"""

from __future__ import annotations

import json
import signal

import pytest

import tgharness as h
from tgharness import ARTIFACTS

# Container names (in the private dockerd of the test environment).
NUMBERS = "numbers"
HTML = "html-injection"
DEMO = "checkout-api"
ONESHOT = "nightly-backup"


def pytest_sessionstart(session):
    # Fresh logs and failure artifacts for this run.
    if ARTIFACTS.is_dir():
        for f in ARTIFACTS.iterdir():
            if f.is_file() and (f.suffix in (".log", ".json", ".png")):
                f.unlink()


def _terminate(signum, frame):
    # run.sh's `timeout` (or CI) sends SIGTERM: unwind like Ctrl-C so the
    # fixtures stop the agent, the gateway, the containers and Chromium.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _terminate)


@pytest.fixture(scope="session")
def cfg():
    try:
        return h.Config.from_env()
    except h.HarnessError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="session")
def stack(cfg):
    s = h.Stack(cfg)
    try:
        # Containers first, so they have history before anyone opens them.
        s.docker.run(NUMBERS, h.NUMBERS_SCRIPT)
        s.docker.run(HTML, h.HTML_SCRIPT)
        s.docker.run(DEMO, h.DEMO_SCRIPT)
        s.docker.run(ONESHOT, h.ONESHOT_SCRIPT)
        s.start()
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def gateway(stack):
    return stack.gateway


@pytest.fixture(scope="session")
def driver(stack):
    d = h.make_driver()
    try:
        yield d
    finally:
        try:
            dump_browser_log(d, "session-end")
        finally:
            d.quit()


# ---- failure artifacts ------------------------------------------------------------------------


def dump_browser_log(driver, label: str):
    try:
        entries = driver.get_log("browser")
    except Exception:  # noqa: BLE001
        return
    if entries:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with open(ARTIFACTS / "browser-console.log", "a") as f:
            f.write(f"--- {label}\n")
            for e in entries:
                f.write(json.dumps(e) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or rep.passed:
        return
    driver = item.funcargs.get("driver")
    if driver is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = item.name.replace("/", "_")
    try:
        driver.save_screenshot(str(ARTIFACTS / f"FAIL-{name}.png"))
        state = driver.execute_script(
            "const t = window.tailgate; if (!t) return null;"
            "return {conn: t.connectionState(), paused: t.isPaused(), count: t.lineCount(), shown: t.shownCount(),"
            " markers: t.markers(), subs: t.subscriptions(), stats: t.stats(), route: t.route(),"
            " alerts: window.__tgAlerts, errors: window.__tgErrors, url: location.href,"
            " wsFrames: (window.__tgFrames || []).slice(-60), wsLineFrames: window.__tgFrameCounts}"
        )
        (ARTIFACTS / f"FAIL-{name}.json").write_text(json.dumps(state, indent=2, default=str))
        brief = {k: v for k, v in (state or {}).items() if k != "wsFrames"}
        rep.sections.append(("browser state", json.dumps(brief, default=str)[:3000] + f"  (full: {ARTIFACTS}/FAIL-{name}.json)"))
    except Exception as exc:  # noqa: BLE001
        rep.sections.append(("browser state", f"unavailable: {exc!r}"))
    dump_browser_log(driver, item.name)


# Uncaught errors and unhandled rejections of the page (hooked by tgharness.PAGE_HOOKS),
# collected after every test, so a page reload in between loses none.
PAGE_ERRORS: list[str] = []


@pytest.fixture(autouse=True)
def _collect_page_errors(request):
    yield
    driver = request.node.funcargs.get("driver")
    if driver is None:
        return
    try:
        errors = driver.execute_script("return window.__tgErrors ? window.__tgErrors.splice(0) : []")
        console = driver.get_log("browser")
    except Exception:  # noqa: BLE001 - the page may be gone
        return
    PAGE_ERRORS.extend(f"{request.node.name}: {e}" for e in errors)
    # The console also shows what the Content-Security-Policy blocked (an injection attempt, or
    # UI code the policy does not allow). Network noise (401 before sign-in, refused WebSocket
    # while the gateway restarts) is expected and only logged.
    if console:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with open(ARTIFACTS / "browser-console.log", "a") as f:
            f.write(f"--- {request.node.name}\n")
            for e in console:
                f.write(json.dumps(e) + "\n")
    for e in console:
        msg = str(e.get("message", ""))
        if "Content Security Policy" in msg or "Refused to" in msg or "Uncaught" in msg:
            PAGE_ERRORS.append(f"{request.node.name}: console {e.get('level')}: {msg[:500]}")


@pytest.fixture
def page_errors():
    return PAGE_ERRORS

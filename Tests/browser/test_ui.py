"""The web UI against the real stack: agent → Redis → gateway → Chromium.

Tests run in file order and share one browser page: sign-in first, then the
fleet, then the viewer on the `numbers` container, then gateway restarts, then
hostile log lines. Each test still opens what it needs itself.
"""

from __future__ import annotations

import re
import time
import warnings

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

import tgharness as h
from conftest import DEMO, HTML, NUMBERS, ONESHOT
from tgharness import AGENT_ID, SCREENSHOTS, contiguity_problems, js, shown, wait_until

ROW = '#log-viewport [data-testid="log-row"]:not([hidden])'


# ---- helpers ------------------------------------------------------------------------------------


def tg(driver, call: str):
    """window.tailgate.<call>"""
    return js(driver, "window.tailgate." + call)


def dom_rows(driver) -> list[dict]:
    """The log rows currently in the DOM (the virtual list renders only what is visible)."""
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(r => ({"
        " seq: Number(r.dataset.seq), stream: r.dataset.stream, container: r.dataset.container,"
        " text: r.querySelector('.msg') ? r.querySelector('.msg').textContent : '',"
        " marks: [...r.querySelectorAll('mark')].map(m => m.textContent)}))",
        ROW,
    )


def line_seqs(driver, container: str | None = None) -> list[int]:
    return driver.execute_script(
        "return window.tailgate.lines().filter(l => !arguments[0] || l.container === arguments[0]).map(l => l.seq)",
        container,
    )


def numbered(driver, container: str = NUMBERS) -> tuple[list[int], list[int], list[int]]:
    """(seqs, stdout numbers, stderr numbers) of the `numbers` container's lines in the page."""
    lines = driver.execute_script(
        "return window.tailgate.lines().filter(l => l.container === arguments[0]).map(l => [l.seq, l.stream, l.message])",
        container,
    )
    seqs = [seq for seq, _, _ in lines]
    out = [int(m.split()[1]) for _, s, m in lines if s == "stdout"]
    err = [int(m.split()[1]) for _, s, m in lines if s == "stderr"]
    return seqs, out, err


def assert_numbers_intact(driver, since_stdout: int | None = None):
    """Every seq once and in order; stdout counts up by one; stderr every 5th."""
    seqs, out, err = numbered(driver)
    assert seqs, "no lines of the numbers container in the page"
    problems = contiguity_problems(seqs)
    assert not problems, f"seq not contiguous ({len(problems)} problems): {problems[:10]}"
    out_problems = contiguity_problems(out)
    assert not out_problems, f"stdout line numbers not contiguous: {out_problems[:10]}"
    assert all(n % 5 == 0 for n in err), f"unexpected stderr lines: {[n for n in err if n % 5][:10]}"
    # Each multiple of 5 printed on stdout (except the newest, whose stderr twin may still be on its way)
    # has its stderr twin.
    want_err = [n for n in out if n % 5 == 0 and n < out[-1] - 10 and n >= out[0]]
    missing_err = sorted(set(want_err) - set(err))
    assert not missing_err, f"stderr lines missing: {missing_err[:10]}"
    if since_stdout is not None:
        assert out[0] <= since_stdout, f"lines before stdout {since_stdout} are gone (first is {out[0]})"
    return seqs, out, err


def markers(driver, container: str = NUMBERS, kinds=("gap", "reset", "error"), since: list | None = None) -> list[dict]:
    """Gap/reset/error marker rows of `container` (only those after the `since` list, if given)."""
    found = [m for m in tg(driver, "markers()") if m["container"] == container and m["kind"] in kinds]
    return found[len(since):] if since is not None else found


def wait_connected(driver, timeout: float = 30):
    wait_until(lambda: tg(driver, "connectionState()") == "connected", timeout, "connection-status connected")
    el = driver.find_element(By.CSS_SELECTOR, '[data-testid="connection-status"]')
    assert el.get_attribute("data-state") == "connected"
    assert el.text.strip() == "Connected"


def wait_growing(driver, by: int = 20, timeout: float = 15, container: str = NUMBERS) -> int:
    start = max(line_seqs(driver, container) or [0])
    return wait_until(
        lambda: (m := max(line_seqs(driver, container) or [0])) >= start + by and m,
        timeout,
        f"{by} more lines of {container} (from seq {start})",
    )


def ensure_viewing(driver, gateway, name: str = NUMBERS):
    """Signed in, viewing `name`, no filter, not paused."""
    if not js(driver, "!!window.tailgate") or shown(driver, '[data-testid="sign-in"]'):
        h.sign_in(driver, gateway)
    route = tg(driver, "route()")
    if route["view"] != "logs" or route["targets"] != [{"agentId": AGENT_ID, "containerId": name}]:
        h.open_container(driver, name)
    if tg(driver, "isPaused()"):
        driver.find_element(By.CSS_SELECTOR, '[data-testid="pause-button"]').click()
    Select(driver.find_element(By.CSS_SELECTOR, '[data-testid="stream-filter"]')).select_by_value("all")
    search = driver.find_element(By.CSS_SELECTOR, '[data-testid="search-input"]')
    if search.get_attribute("value"):
        search.send_keys(Keys.ESCAPE)  # the search box clears itself on Escape
        wait_until(lambda: tg(driver, "query()")["kind"] == "none", 5, "the search cleared")
    wait_until(lambda: tg(driver, "lineCount()") > 0, 20, f"lines of {name}")


COUNTER_RE = re.compile(r"^(\d+) of (\d+) lines$")


def counter(driver) -> tuple[int, int]:
    text = driver.find_element(By.CSS_SELECTOR, '[data-testid="match-counter"]').text.strip()
    m = COUNTER_RE.match(text)
    assert m, f"match-counter says {text!r}"
    return int(m.group(1)), int(m.group(2))


# ---- sign-in and fleet ------------------------------------------------------------------------------


def test_sign_in_rejects_a_wrong_token_and_accepts_the_right_one(driver, gateway):
    driver.get(gateway.url + "/")
    driver.delete_all_cookies()
    driver.get(gateway.url + "/")
    wait_until(lambda: shown(driver, '[data-testid="sign-in"]'), 20, "the sign-in form")
    assert not shown(driver, "#app"), "the app is shown before signing in"

    box = driver.find_element(By.CSS_SELECTOR, '[data-testid="token-input"]')
    box.send_keys("not-the-token")
    driver.find_element(By.CSS_SELECTOR, '[data-testid="sign-in-button"]').click()
    wait_until(lambda: shown(driver, '[data-testid="sign-in-error"]'), 10, "the sign-in error")
    error = driver.find_element(By.CSS_SELECTOR, '[data-testid="sign-in-error"]').text
    assert "not accepted" in error, f"sign-in error says {error!r}"
    assert shown(driver, '[data-testid="sign-in"]') and not shown(driver, "#app")
    assert not [c for c in driver.get_cookies() if c["name"] == "tailgate_token"], "a wrong token got a cookie"

    box = driver.find_element(By.CSS_SELECTOR, '[data-testid="token-input"]')
    box.clear()
    box.send_keys(gateway.cfg.token)
    driver.find_element(By.CSS_SELECTOR, '[data-testid="sign-in-button"]').click()
    wait_until(lambda: shown(driver, '[data-testid="fleet"]') and not shown(driver, '[data-testid="sign-in"]'), 10, "the fleet view")
    assert js(driver, "document.body.dataset.view") == "fleet"
    # The session is an HttpOnly cookie; the token is nowhere the page's scripts could read it.
    cookies = [c for c in driver.get_cookies() if c["name"] == "tailgate_token"]
    assert len(cookies) == 1 and cookies[0].get("httpOnly") is True, cookies
    assert "tailgate_token" not in js(driver, "document.cookie")
    storage = js(driver, "JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage}) + location.href")
    assert gateway.cfg.token not in storage, "the token is in web storage or the URL"
    # The session survives a reload (cookie), without asking again.
    driver.refresh()
    wait_until(lambda: shown(driver, '[data-testid="fleet"]'), 10, "the fleet view after reload")
    time.sleep(0.5)
    assert not shown(driver, '[data-testid="sign-in"]'), "asked to sign in again after a reload"


def test_fleet_shows_a_container_that_exited_as_exited(driver, gateway, stack):
    """nightly-backup exits ~5 s after it started (after the agent came up): the list must follow."""
    if not shown(driver, '[data-testid="fleet"]'):
        h.sign_in(driver, gateway)
    driver.execute_script("location.hash = '#/'")
    row_css = f'[data-testid="container-row"][data-agent-id="{AGENT_ID}"][data-container-name="{ONESHOT}"]'
    wait_until(lambda: shown(driver, row_css), 15, f"{ONESHOT} in the fleet list")
    wait_until(lambda: stack.docker.cli("inspect", "-f", "{{.State.Status}}", ONESHOT) == "exited", 20, f"{ONESHOT} to exit")
    # The fleet polls every 5 s; the agent should have re-listed on Docker's "die" event.
    try:
        wait_until(lambda: driver.find_element(By.CSS_SELECTOR, row_css).get_attribute("data-state") == "exited", 20, "exited")
    except TimeoutError:
        listed = [(c.get("state"), c.get("status")) for c in gateway.api(f"/api/agents/{AGENT_ID}/containers") if c.get("name") == ONESHOT]
        pytest.fail(
            f"{ONESHOT} exited more than 20 s ago but the fleet shows it "
            f"{driver.find_element(By.CSS_SELECTOR, row_css).get_attribute('data-state')!r}; "
            f"GET /api/agents/{AGENT_ID}/containers says (state, status) = {listed}"
        )
    assert "exited" in driver.find_element(By.CSS_SELECTOR, row_css).text


def test_fleet_lists_the_agent_and_its_containers(driver, gateway):
    if not shown(driver, '[data-testid="fleet"]'):
        h.sign_in(driver, gateway)
    driver.execute_script("location.hash = '#/'")
    agent_css = f'[data-testid="agent-row"][data-agent-id="{AGENT_ID}"]'
    wait_until(lambda: shown(driver, agent_css), 15, f"agent row {AGENT_ID}")
    wait_until(
        lambda: driver.find_element(By.CSS_SELECTOR, agent_css).get_attribute("data-online") == "true",
        15, "the agent shown online",
    )
    agent = driver.find_element(By.CSS_SELECTOR, agent_css)
    assert AGENT_ID in agent.text

    def names():
        rows = agent.find_elements(By.CSS_SELECTOR, '[data-testid="container-row"]')
        return {r.get_attribute("data-container-name"): r for r in rows}

    wait_until(lambda: {NUMBERS, HTML, DEMO, ONESHOT} <= set(names()), 20, "all test containers in the fleet list")
    rows = names()
    for name in (NUMBERS, HTML, DEMO):
        assert rows[name].get_attribute("data-state") == "running", f"{name}: {rows[name].text}"
        assert re.fullmatch(r"[0-9a-f]{64}", rows[name].get_attribute("data-container-id"))
        assert "running" in rows[name].text
    # The fuzzy filter narrows the list.
    box = driver.find_element(By.CSS_SELECTOR, '[data-testid="fleet-filter"]')
    box.send_keys("chkapi")
    wait_until(lambda: [n for n, r in names().items() if r.is_displayed()] == [DEMO], 5, "only checkout-api after filtering")
    box.send_keys(Keys.ESCAPE)
    wait_until(lambda: len([r for r in names().values() if r.is_displayed()]) >= 4, 5, "all containers after clearing the filter")

    driver.execute_script("document.activeElement && document.activeElement.blur()")
    time.sleep(0.3)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "fleet.png"))


# ---- the viewer -----------------------------------------------------------------------------------


def test_viewer_shows_history_then_live_lines_in_order(driver, gateway, stack):
    if not shown(driver, '[data-testid="fleet"]'):
        h.sign_in(driver, gateway)
    printed = stack.docker.log_line_count(NUMBERS)
    assert printed > 20, f"the numbers container printed only {printed} lines so far"
    link = driver.find_element(
        By.CSS_SELECTOR, f'[data-testid="container-row"][data-container-name="{NUMBERS}"] [data-testid="container-link"]'
    )
    link.click()
    wait_until(lambda: js(driver, "document.body.dataset.view") == "logs", 10, "the log view")
    assert tg(driver, "route()")["targets"] == [{"agentId": AGENT_ID, "containerId": NUMBERS}]
    wait_until(lambda: NUMBERS in driver.find_element(By.CSS_SELECTOR, '[data-testid="viewer-title"]').text, 10, "the title")
    wait_connected(driver)

    # History: everything printed before we opened it (less than the 1000-line history).
    wait_until(lambda: tg(driver, "lineCount()") >= min(printed, 1000), 20, f"{printed} lines of history")
    first = tg(driver, "lines()")[0]
    assert first["container"] == NUMBERS and first["agentId"] == AGENT_ID
    assert re.fullmatch(r"[0-9a-f]{64}", first["containerId"]), first
    if printed < 1000:
        assert first["seq"] == 1 and first["message"] == "line 1", f"history does not start at the beginning: {first}"

    # Then live lines.
    count = tg(driver, "lineCount()")
    wait_growing(driver, by=50)
    assert tg(driver, "lineCount()") > count
    seqs, out, _ = assert_numbers_intact(driver)
    control = [f for f in js(driver, "window.__tgFrames") if f.get("type") in ("log.subscribed", "log.history")]
    assert control, "no log.subscribed/log.history frames recorded"
    if any(f.get("epoch") == "" for f in control):
        # The gateway says epoch "" for a stream with no history yet; the UI reads it as "none" (socket.js).
        warnings.warn("the gateway sent epoch \"\" in log.subscribed/log.history (stream without history yet)")
    # The gateway itself sent no line twice across the history/live seam (the page would hide it).
    assert tg(driver, "stats()")["duplicatesDropped"] == 0, tg(driver, "stats()")
    assert not markers(driver), (
        f"unexpected markers on first open: {markers(driver)} (a 'reset' here means the epoch in "
        "log.subscribed/log.history differed from the epoch of the lines that followed)"
    )
    assert driver.find_element(By.CSS_SELECTOR, '[data-testid="viewer-empty"]').is_displayed() is False

    # Following: the newest line is the last row on screen.
    rows = dom_rows(driver)
    assert rows, "no log rows rendered"
    wait_until(lambda: dom_rows(driver)[-1]["seq"] >= seqs[-1], 5, "the last row to show the newest line")
    assert tg(driver, "isFollowing()") is True
    assert all(r["container"] == NUMBERS for r in dom_rows(driver))


def test_stream_filter_shows_only_the_chosen_stream(driver, gateway):
    ensure_viewing(driver, gateway)
    wait_until(lambda: any(l["stream"] == "stderr" for l in tg(driver, "lines()")), 10, "some stderr lines")
    select = Select(driver.find_element(By.CSS_SELECTOR, '[data-testid="stream-filter"]'))

    select.select_by_value("stderr")
    wait_until(lambda: tg(driver, "query()")["stream"] == "stderr", 5, "the stderr filter")
    shown_lines = tg(driver, "shownLines()")
    assert shown_lines and all(l["stream"] == "stderr" for l in shown_lines)
    rows = wait_until(lambda: dom_rows(driver), 5, "rows with the stderr filter")
    assert all(r["stream"] == "stderr" and r["text"].startswith("err ") for r in rows), rows[:5]
    shown_n, total = counter(driver)
    assert 0 < shown_n < total, (shown_n, total)
    assert "stream=stderr" in driver.current_url
    # Live lines keep being filtered.
    wait_growing(driver, by=25)
    assert all(r["stream"] == "stderr" for r in dom_rows(driver))

    select.select_by_value("stdout")
    wait_until(lambda: tg(driver, "query()")["stream"] == "stdout", 5, "the stdout filter")
    rows = wait_until(lambda: dom_rows(driver), 5, "rows with the stdout filter")
    assert all(r["stream"] == "stdout" and r["text"].startswith("line ") for r in rows), rows[:5]
    assert all(l["stream"] == "stdout" for l in tg(driver, "shownLines()"))

    select.select_by_value("all")
    # In one call: live lines arrive between two calls.
    wait_until(lambda: tg(driver, "shownCount() === window.tailgate.lineCount()"), 5, "all lines shown again")
    assert {r["stream"] for r in dom_rows(driver)} <= {"stdout", "stderr"}


def test_search_filters_counts_and_highlights(driver, gateway):
    ensure_viewing(driver, gateway)
    search = driver.find_element(By.CSS_SELECTOR, '[data-testid="search-input"]')

    search.send_keys("ERR 1")  # case-insensitive text search
    wait_until(lambda: tg(driver, "query()")["kind"] == "text", 5, "the text query")
    wait_until(lambda: (lambda shown, total: shown < total)(*counter(driver)), 5, "the counter to show a subset")
    # One snapshot (one JS call): matching live lines keep arriving between calls.
    snapshot = driver.execute_script(
        "const t = window.tailgate, lines = t.shownLines();"
        "return {lines, shown: t.shownCount(), all: t.lineCount(),"
        " counter: document.querySelector('[data-testid=\"match-counter\"]').textContent.trim()}"
    )
    shown_lines = snapshot["lines"]
    assert shown_lines and all("err 1" in l["message"] for l in shown_lines), shown_lines[:5]
    m = COUNTER_RE.match(snapshot["counter"])
    assert m, f"match-counter says {snapshot['counter']!r}"
    shown_n, total = int(m.group(1)), int(m.group(2))
    assert shown_n == len(shown_lines) == snapshot["shown"]
    assert total <= snapshot["all"]
    rows = dom_rows(driver)
    assert rows and all(r["marks"] and all(m.lower() == "err 1" for m in r["marks"]) for r in rows), rows[:5]
    # Highlighted: a visible <mark> with its own background (one JS call: rows are re-filled live).
    mark = driver.execute_script(
        "const m = document.querySelector(arguments[0] + ' mark'); if (!m) return null;"
        "const r = m.getBoundingClientRect(), cs = getComputedStyle(m), row = getComputedStyle(m.closest('.row'));"
        "return {w: r.width, h: r.height, bg: cs.backgroundColor, rowBg: row.backgroundColor, text: m.textContent}",
        ROW,
    )
    assert mark and mark["w"] > 0 and mark["h"] > 0, mark
    assert mark["bg"] not in ("rgba(0, 0, 0, 0)", "transparent", mark["rowBg"]), f"match not highlighted: {mark}"

    # A regular expression.
    search.clear()
    search.send_keys("/^line \\d*7$/")
    wait_until(lambda: tg(driver, "query()")["kind"] == "regex", 5, "the regex query")
    wait_until(lambda: dom_rows(driver) and all(re.fullmatch(r"line \d*7", r["text"]) for r in dom_rows(driver)), 5, "regex matches")
    assert all(re.fullmatch(r"line \d*7", l["message"]) for l in tg(driver, "shownLines()"))
    assert all(r["marks"] == [r["text"]] for r in dom_rows(driver))

    # An invalid one says so and hides nothing.
    search.clear()
    search.send_keys("/line (/")
    wait_until(lambda: tg(driver, "query()")["kind"] == "invalid", 5, "the invalid regex state")
    text = driver.find_element(By.CSS_SELECTOR, '[data-testid="match-counter"]').text
    assert text.startswith("Invalid regex"), text
    assert search.get_attribute("aria-invalid") == "true"

    # Escape clears it.
    search.send_keys(Keys.ESCAPE)
    wait_until(lambda: search.get_attribute("value") == "", 5, "the cleared search")
    wait_until(lambda: (lambda shown, total: shown == total)(*counter(driver)), 5, "every line counted again")
    assert not driver.find_elements(By.CSS_SELECTOR, f"{ROW} mark")


def test_pause_holds_the_view_and_resume_catches_up(driver, gateway):
    ensure_viewing(driver, gateway)
    wait_growing(driver, by=10)
    markers_before = markers(driver)
    button = driver.find_element(By.CSS_SELECTOR, '[data-testid="pause-button"]')
    button.click()
    wait_until(lambda: tg(driver, "isPaused()"), 5, "paused")
    assert button.get_attribute("aria-pressed") == "true"
    shown0 = tg(driver, "shownCount()")
    last_row0 = dom_rows(driver)[-1]["seq"]
    time.sleep(2.0)
    assert tg(driver, "shownCount()") == shown0, "lines kept coming in while paused"
    assert dom_rows(driver)[-1]["seq"] == last_row0, "the view moved while paused"
    pending = tg(driver, "pendingCount()")
    assert pending >= 5, f"only {pending} lines queued in 2 s of pause"
    assert re.fullmatch(r"Resume \(\d+ new\)", button.text), button.text

    button.click()
    wait_until(lambda: not tg(driver, "isPaused()"), 5, "resumed")
    assert button.get_attribute("aria-pressed") == "false" and button.text == "Pause"
    wait_until(lambda: tg(driver, "shownCount()") >= shown0 + pending, 5, "the queued lines shown")
    wait_until(lambda: dom_rows(driver)[-1]["seq"] > last_row0 + pending, 5, "the view following again")
    wait_growing(driver, by=10)
    assert_numbers_intact(driver)
    assert not markers(driver, since=markers_before), markers(driver, since=markers_before)

    # The space bar toggles it too (focus on the log, not on a control).
    driver.find_element(By.CSS_SELECTOR, '[data-testid="log-viewport"]').send_keys(" ")
    wait_until(lambda: tg(driver, "isPaused()"), 5, "paused by the space bar")
    driver.find_element(By.CSS_SELECTOR, '[data-testid="log-viewport"]').send_keys(" ")
    wait_until(lambda: not tg(driver, "isPaused()"), 5, "resumed by the space bar")


# ---- gateway restarts -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_reconnects_after_the_gateway_restarts_without_losing_or_repeating_lines(driver, gateway, how):
    ensure_viewing(driver, gateway)
    wait_connected(driver)
    wait_growing(driver, by=10)
    seqs_before, out_before, _ = assert_numbers_intact(driver)
    markers_before = markers(driver)
    stats_before = tg(driver, "stats()")
    reconnects = stats_before["reconnects"]

    if how == "sigkill":
        gateway.kill()
    else:
        status = gateway.stop()
        assert status == 0, f"gateway exit status {status} after SIGTERM"
    wait_until(lambda: tg(driver, "connectionState()") != "connected", 10, "the UI to notice the lost connection")
    state = driver.find_element(By.CSS_SELECTOR, '[data-testid="connection-status"]').get_attribute("data-state")
    assert state in ("reconnecting", "offline"), state
    time.sleep(3)  # lines keep coming into Redis meanwhile (~150)
    t_down = time.monotonic()
    gateway.start()
    t_up = time.monotonic()
    wait_connected(driver, timeout=40)
    t_connected = time.monotonic()
    assert tg(driver, "stats()")["reconnects"] > reconnects

    # Caught up past what was printed while the gateway was down, then live again.
    wait_growing(driver, by=200, timeout=30)
    seqs, out, _ = assert_numbers_intact(driver, since_stdout=out_before[0])
    assert seqs[: len(seqs_before)] == seqs_before, "lines from before the restart changed"
    assert not markers(driver, since=markers_before), f"markers after the restart: {markers(driver, since=markers_before)}"
    # The resume (sinceSeq + epoch) replayed exactly the missed lines: none twice.
    dups = tg(driver, "stats()")["duplicatesDropped"] - stats_before["duplicatesDropped"]
    assert dups == 0, f"the gateway re-sent {dups} lines the page already had"
    print(f"{how}: gateway start took {t_up - t_down:.1f}s, page reconnected {t_connected - t_up:.1f}s after it was healthy; "
          f"seq {seqs_before[-1]} -> {seqs[-1]} without gaps or repeats")
    assert not shown(driver, '[data-testid="sign-in"]'), "the restarted gateway asked to sign in again"
    # The title still shows the container as live.
    title = driver.find_element(By.CSS_SELECTOR, '[data-testid="viewer-title"] .title-src')
    assert title.get_attribute("data-state") == "active", title.get_attribute("outerHTML")


# ---- hostile log lines --------------------------------------------------------------------------------


def test_html_in_log_lines_is_shown_as_text(driver, gateway):
    ensure_viewing(driver, gateway, HTML)
    wait_connected(driver)
    script_line = "<script>alert(1)</script>"
    img_line = "<img src=x onerror=alert(1)>"
    wait_until(lambda: sum(1 for l in tg(driver, "lines()") if l["message"].startswith(img_line)) >= 2, 15, "history and a live line")
    time.sleep(1.0)  # give an injected onerror handler its chance to run

    # Hold the view still while we inspect the DOM (rows are pooled and re-filled on every new line).
    driver.find_element(By.CSS_SELECTOR, '[data-testid="pause-button"]').click()
    wait_until(lambda: tg(driver, "isPaused()"), 5, "paused")
    try:
        vp = driver.find_element(By.CSS_SELECTOR, '[data-testid="log-viewport"]')
        assert not vp.find_elements(By.CSS_SELECTOR, "img, script, iframe, object, embed, svg, style, link"), (
            "markup from a log line became DOM: " + vp.get_attribute("innerHTML")[:2000]
        )
        assert js(driver, "window.__tgAlerts") == [], "an alert() ran"
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.text  # noqa: B018

        rows = dom_rows(driver)
        texts = [r["text"] for r in rows]
        assert any(t.startswith(script_line + " #") for t in texts), texts[-6:]
        assert any(t.startswith(img_line + " #") for t in texts), texts[-6:]
        # Visible as text on screen, too.
        visible = vp.text
        assert script_line in visible and img_line in visible, visible[-500:]

        # ANSI colours become styled text, not escape codes.
        ansi = driver.execute_script(
            """
            const rows = [...document.querySelectorAll(arguments[0])].filter(r => r.textContent.includes('red alert'));
            if (!rows.length) return null;
            const msg = rows[rows.length - 1].querySelector('.msg');
            const span = (text) => [...msg.querySelectorAll('span')].find(s => s.textContent.trim() === text);
            const info = (s) => s ? { cls: s.className, color: getComputedStyle(s).color, weight: getComputedStyle(s).fontWeight } : null;
            return { text: msg.textContent, shown: msg.innerText, red: info(span('red alert')), green: info(span('bold green')),
                     plainColor: getComputedStyle(msg).color };
            """,
            ROW,
        )
        assert ansi, "no row with the ANSI line"
        assert re.fullmatch(r"red alert plain bold green #\d+", ansi["text"]), repr(ansi["text"])
        assert ansi["red"] and "a-fg1" in ansi["red"]["cls"].split(), ansi
        assert ansi["green"] and {"a-b", "a-fg2"} <= set(ansi["green"]["cls"].split()), ansi
        assert len({ansi["red"]["color"], ansi["green"]["color"], ansi["plainColor"]}) == 3, f"colours not distinct: {ansi}"
        assert int(ansi["green"]["weight"]) >= 600, ansi
        assert "\x1b" not in vp.text and "[31m" not in vp.text
    finally:
        driver.find_element(By.CSS_SELECTOR, '[data-testid="pause-button"]').click()
    # The raw message keeps the escapes (download / copy get the original).
    raw = [l["message"] for l in tg(driver, "lines()") if "red alert" in l["message"]]
    assert raw and raw[0].startswith("\x1b[31m"), repr(raw[:1])


# ---- screenshot of the viewer -------------------------------------------------------------------------


def test_viewer_screenshot(driver, gateway):
    ensure_viewing(driver, gateway, DEMO)
    wait_connected(driver)
    wait_until(lambda: tg(driver, "lineCount()") >= 30, 30, "a screenful of checkout-api lines")
    wait_until(lambda: any(l["stream"] == "stderr" for l in tg(driver, "lines()")), 30, "an error line")
    # No focus ring or hover left over from earlier clicks.
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, '[data-testid="viewer-title"]')).perform()
    time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "viewer.png"))


def test_no_script_errors_in_the_page(driver, page_errors):
    errors = page_errors + js(driver, "window.__tgErrors || []")
    assert errors == [], f"uncaught errors or CSP violations in the page during the tests: {errors}"

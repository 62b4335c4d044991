#!/usr/bin/env python3
"""Render cost of the log viewer under a log flood, measured in headless Chromium.

A container prints ~5,000 lines/s for 10 s (bursts of 500 lines every 0.1 s;
the real rate is measured from Docker's timestamps). The viewer is opened
before the flood starts. In the page we record every requestAnimationFrame
timestamp and every long task (PerformanceObserver 'longtask'), and sample
the line counter; afterwards we report frame-time percentiles, frames over
50 ms and the long-task total for the flood window, plus what arrived.

Standalone (writes docs/performance-ui.md):
  scripts/with-test-env.sh env TAILGATE_BUILD_DIR="$(swift build --show-bin-path)" \\
      .build-browser-venv/bin/python Tests/browser/measure_render.py
The browser test test_ui_render_perf.py runs the same measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tgharness as h  # noqa: E402

DOC = h.ROOT / "docs" / "performance-ui.md"

BURST = 500
BURSTS = 100  # x 0.1 s = 10 s
LEAD_S = 6  # the container waits this long before the flood, so the viewer is subscribed first

# busybox awk: a realistic access-log line, numbered (req=N) so we can count what arrived.
FLOOD_SCRIPT = (
    f"sleep {LEAD_S}; "
    'awk "BEGIN{n=0; for(b=0;b<%d;b++){for(i=0;i<%d;i++){n++; '
    'printf \\"%%s INFO req=%%d method=GET path=/api/items/%%d status=%%d bytes=%%d dur_ms=%%d\\\\n\\", '
    '\\"http\\", n, n%%977, (n%%53==0)?500:200, (n*37)%%5000, n%%83}; fflush(); system(\\"sleep 0.1\\")}}"; '
    "sleep 3600"
) % (BURSTS, BURST)

# Installed in the page before the flood: frame timestamps, long tasks, counter samples.
INSTRUMENT = r"""
const P = window.__perf = { frames: [], longtasks: [], samples: [], t0: performance.now(), supported: [] };
try { P.supported = PerformanceObserver.supportedEntryTypes || []; } catch (e) {}
(function tick(t) { P.frames.push(t); requestAnimationFrame(tick); })(performance.now());
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) P.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
} catch (e) { P.longtaskError = String(e); }
const counter = document.querySelector('[data-testid="match-counter"]');
P.timer = setInterval(() => {
  P.samples.push([performance.now(), Number(counter.dataset.total || 0), Number(counter.dataset.shown || 0)]);
}, 100);
return true;
"""

COLLECT = r"""
const P = window.__perf;
clearInterval(P.timer);
const t = window.tailgate;
const lines = t.lines();
const reqs = [];
let stamps = [];
for (const l of lines) {
  const m = / req=(\d+) /.exec(l.message);
  if (m) { reqs.push(Number(m[1])); stamps.push(l.timestamp); }
}
return {
  frames: P.frames, longtasks: P.longtasks, samples: P.samples, longtaskError: P.longtaskError || null,
  supported: P.supported,
  lineCount: t.lineCount(), shownCount: t.shownCount(), seqs: lines.map((l) => l.seq),
  reqFirst: reqs.length ? reqs[0] : null, reqLast: reqs.length ? reqs[reqs.length - 1] : null, reqCount: reqs.length,
  tsFirst: stamps[0] || null, tsLast: stamps[stamps.length - 1] || null,
  markers: t.markers(), stats: t.stats(), dropped: t.droppedCount(),
  domRows: document.querySelectorAll('#log-viewport .row:not([hidden])').length,
  heapMB: performance.memory ? performance.memory.usedJSHeapSize / 1048576 : null,
  ua: navigator.userAgent,
};
"""


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def parse_ts(ts: str) -> float:
    # RFC 3339 with nanoseconds: keep microseconds for datetime.
    base, frac = ts.rstrip("Z").split(".") if "." in ts else (ts.rstrip("Z"), "0")
    return dt.datetime.fromisoformat(base).replace(tzinfo=dt.timezone.utc).timestamp() + float("0." + frac)


def gateway_metrics(stack: h.Stack) -> dict:
    """The gateway's Prometheus counters (name -> value), best effort."""
    import urllib.request

    try:
        req = urllib.request.Request(stack.gateway.url + "/metrics", headers={"Authorization": f"Bearer {stack.cfg.token}"})
        with urllib.request.urlopen(req, timeout=5) as res:
            text = res.read().decode()
    except Exception:  # noqa: BLE001
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            parts = line.split()
            if len(parts) >= 2:
                try:
                    out[parts[0]] = float(parts[1])
                except ValueError:
                    pass
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def descendants(pid: int) -> list[int]:
    """pid's children, grandchildren, … (one pass over /proc)."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def browser_cpu_seconds(driver) -> float:
    """CPU time of every Chromium process (children of chromedriver), live ones only."""
    try:
        root = driver.service.process.pid
    except AttributeError:
        return float("nan")
    return sum(cpu_seconds(p) for p in descendants(root))


def renderer_metrics(driver) -> dict:
    """Chromium's own counters for the page's main thread (CDP Performance.getMetrics)."""
    try:
        return {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    except Exception:  # noqa: BLE001
        return {}


def measure(driver, stack: h.Stack, name: str = "flood", query: str = "") -> dict:
    """Run one flood against an open, signed-in page; return the numbers."""
    metrics_before = gateway_metrics(stack)
    try:
        driver.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
    except Exception:  # noqa: BLE001
        pass
    procs = {"agent": stack.agent.proc.pid, "gateway": stack.gateway.proc.pid}
    started = time.monotonic()
    stack.run_container(name, FLOOD_SCRIPT)
    hash_ = f"#/agents/{h.AGENT_ID}/containers/{name}"
    if query:
        hash_ += "?q=" + query
    driver.execute_script("location.hash = arguments[0]", hash_)
    h.wait_until(lambda: h.js(driver, "window.tailgate.subscriptions().some(s => s.state === 'active')"), 15,
                 "the flood container subscribed")
    driver.execute_script(INSTRUMENT)
    renderer_before = renderer_metrics(driver)
    cpu_before = {k: cpu_seconds(pid) for k, pid in procs.items()}
    cpu_before["browser"] = browser_cpu_seconds(driver)
    wall_before = time.monotonic()
    if time.monotonic() - started > LEAD_S - 1:
        raise h.HarnessError("the viewer was not subscribed before the flood started; raise LEAD_S")

    expected = BURST * BURSTS
    # Wait for the flood to arrive in full (or stop growing), sampling from Python only every second.
    deadline = started + LEAD_S + BURSTS * 0.1 * 3 + 30
    last, still = -1, 0
    while time.monotonic() < deadline:
        time.sleep(1)
        n = h.js(driver, "Number(document.querySelector('[data-testid=\"match-counter\"]').dataset.total || 0)")
        if n >= expected:
            break
        still = still + 1 if n == last and n > 0 else 0
        if still >= 5:
            break
        last = n
    time.sleep(1.5)  # a little settled time after the last line
    data = driver.execute_script(COLLECT)
    wall = time.monotonic() - wall_before
    renderer_after = renderer_metrics(driver)
    cpu_after = {k: cpu_seconds(pid) for k, pid in procs.items()}
    cpu_after["browser"] = browser_cpu_seconds(driver)
    metrics_after = gateway_metrics(stack)
    stack.docker.rm(name)
    result = summarize(data, expected, query)
    result["gateway_metrics_delta"] = {
        k.replace("tailgate_gateway_", ""): metrics_after[k] - metrics_before.get(k, 0)
        for k in metrics_after
        if k.endswith("_total")
    }
    # Main-thread time of the page over the whole measurement (flood + settle), by kind, and the
    # CPU the agent and the gateway used meanwhile: what competes with the browser on this machine.
    result["measured_s"] = round(wall, 1)
    result["page_main_thread_s"] = {
        k.replace("Duration", "").lower(): round(renderer_after.get(k, 0) - renderer_before.get(k, 0), 2)
        for k in ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
        if k in renderer_after
    }
    result["cpu_s"] = {k: round(cpu_after[k] - cpu_before[k], 2) for k in cpu_after}
    result["loadavg_1min_after"] = round(os.getloadavg()[0], 2)
    return result


def summarize(data: dict, expected: int, query: str) -> dict:
    samples = data["samples"]
    # The flood window: from the first sample with lines to the first sample at the final count.
    final = samples[-1][1] if samples else 0
    t_start = next((t for t, total, _ in samples if total > 0), None)
    t_end = next((t for t, total, _ in samples if total >= final), None)
    frames = data["frames"]
    if t_start is None or t_end is None:
        window = frames
    else:
        window = [t for t in frames if t_start - 100 <= t <= t_end + 100]
    deltas = [b - a for a, b in zip(window, window[1:])]
    lt = [(s, d) for s, d in data["longtasks"] if t_start is None or (t_start - 100 <= s <= (t_end or s) + 100)]
    rate = None
    if data["tsFirst"] and data["tsLast"] and data["reqLast"] and data["reqFirst"] is not None:
        span = parse_ts(data["tsLast"]) - parse_ts(data["tsFirst"])
        if span > 0:
            rate = (data["reqLast"] - data["reqFirst"]) / span
    seqs = data["seqs"]
    gaps = [m for m in data["markers"] if m["kind"] == "gap"]
    out = {
        "query": query,
        "expected_lines": expected,
        "received_lines": data["reqCount"],
        "first_req": data["reqFirst"],
        "last_req": data["reqLast"],
        "source_rate_lps": rate,
        "flood_window_s": (t_end - t_start) / 1000 if t_start is not None and t_end is not None else None,
        "frames": len(deltas),
        "fps": (len(deltas) / ((window[-1] - window[0]) / 1000)) if len(window) > 1 else None,
        "frame_p50_ms": pct(deltas, 50),
        "frame_p95_ms": pct(deltas, 95),
        "frame_p99_ms": pct(deltas, 99),
        "frame_max_ms": max(deltas) if deltas else None,
        "frames_over_50ms": sum(1 for d in deltas if d > 50),
        "longtasks": len(lt),
        "longtask_total_ms": sum(d for _, d in lt),
        "longtask_max_ms": max((d for _, d in lt), default=0),
        "longtask_supported": "longtask" in (data.get("supported") or []),
        "gap_markers": len(gaps),
        "gaps": [{"fromSeq": m["fromSeq"], "toSeq": m["toSeq"], "text": m["text"]} for m in gaps][:10],
        "seq_problems": len(h.contiguity_problems(seqs)),
        "shown_lines": data["shownCount"],
        "dom_rows": data["domRows"],
        "heap_mb": data["heapMB"],
        "user_agent": data["ua"],
    }
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def fmt(v, spec=".1f"):
    if v is None:
        return "n/a"
    if isinstance(v, float) and v != v:
        return "n/a"
    return format(v, spec)


def busy(r: dict) -> str:
    m = r.get("page_main_thread_s") or {}
    if not m:
        return "n/a"
    return f"{fmt(m.get('task'))} / {fmt(m.get('script'))} / {fmt((m.get('layout') or 0) + (m.get('recalcstyle') or 0))}"


def write_doc(results: list[dict], path: Path = DOC):
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    chromium = subprocess.run(["chromium", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Web UI render performance",
        "",
        f"Measured {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `Tests/browser/measure_render.py` "
        "(also run by the browser test `test_ui_render_perf.py`).",
        "",
        "**Setup.** Real stack on one machine: `tailgate-agent` (debug build) → Redis → `tailgate-gateway` (debug build) → "
        f"headless Chromium ({chromium or 'chromium'}, `--headless=new`, 1280×900) driven by Selenium. "
        f"Machine: {os.cpu_count()} cores{', ' + cpu if cpu else ''}, {platform.system()} {platform.release()}; "
        "the agent, gateway, Redis, dockerd and the browser all share those cores.",
        "",
        f"**Load.** A busybox container prints {BURST}-line bursts every 0.1 s for {BURSTS * 0.1:.0f} s "
        f"({BURST * BURSTS:,} lines of ~90 bytes, nominally 5,000 lines/s; the source rate below is measured from Docker's "
        "timestamps of the first and last line received). The viewer is open and subscribed before the flood starts, "
        "following the newest line (default settings: 100,000 lines kept, all streams).",
        "",
        "**Method.** Injected with `execute_script`: a `requestAnimationFrame` loop recording every frame timestamp, a "
        "`PerformanceObserver` for `longtask` entries, and a 100 ms sampler of the line counter. The window is from the first "
        "line shown to the moment the count reached its final value. Frame time = delta between consecutive rAF callbacks "
        "(16.7 ms = 60 fps). Headless Chromium on a shared 2-core VM is a pessimistic stand-in for a desktop browser: "
        "treat the numbers as relative, for regressions.",
        "",
        "| scenario | source rate (lines/s) | lines received / sent | flood window (s) | frames | p50 frame (ms) | p95 (ms) | p99 (ms) | max (ms) | frames > 50 ms | long tasks (count / total ms / max ms) | page main thread busy (s: all / script / layout+style) | agent / gateway / Chromium CPU (s) | gap markers | seq problems | JS heap (MB) | load avg (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        scen = "follow, no filter" if not r["query"] else f"follow, search `{r['query']}`"
        lines.append(
            f"| {scen} | {fmt(r['source_rate_lps'], ',.0f')} | {r['received_lines']:,} / {r['expected_lines']:,} | "
            f"{fmt(r['flood_window_s'])} | {r['frames']} | {fmt(r['frame_p50_ms'])} | {fmt(r['frame_p95_ms'])} | "
            f"{fmt(r['frame_p99_ms'])} | {fmt(r['frame_max_ms'])} | {r['frames_over_50ms']} | "
            f"{r['longtasks']} / {fmt(r['longtask_total_ms'], '.0f')} / {fmt(r['longtask_max_ms'], '.0f')} | "
            f"{busy(r)} of {fmt(r.get('measured_s'))} | {fmt(r['cpu_s'].get('agent'), '.1f')} / {fmt(r['cpu_s'].get('gateway'), '.1f')} / {fmt(r['cpu_s'].get('browser'), '.1f')} | "
            f"{r['gap_markers']} | {r['seq_problems']} | {fmt(r['heap_mb'])} | {fmt(r.get('loadavg_1min_after'))} |"
        )
    lines += [
        "",
        "Columns: *lines received* counts flood lines in the page at the end (`window.tailgate.lines()`); *gap markers* are "
        "`log.gap` rows (lines the gateway dropped for a slow client); *seq problems* counts places where `seq` did not rise "
        "by exactly one without a gap marker explaining it. *Page main thread busy* is Chromium's own accounting "
        "(CDP `Performance.getMetrics`, thread time) of the tab's main thread over the whole measurement (flood plus a "
        "settle second), split into script and layout + style; *agent / gateway / Chromium CPU* is the CPU time those "
        "processes used meanwhile (agent and gateway are debug builds; Chromium is all its processes: browser, renderer, GPU, "
        "network), i.e. who shared the two cores. *Load avg* is the machine's 1-minute load average right after the "
        "scenario: well above 2 means other work (builds, other test stacks) competed too, and the frame-time tail then "
        "says more about the machine than about the UI.",
        "",
        "Raw results:",
        "",
        "```json",
        json.dumps(results, indent=2, default=str),
        "```",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def run_all(driver, stack: h.Stack, scenarios=("", "status=500")) -> list[dict]:
    results = []
    for i, q in enumerate(scenarios):
        results.append(measure(driver, stack, name=f"flood-{i + 1}", query=q))
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DOC, help=f"markdown file to write (default {DOC})")
    ap.add_argument("--no-search", action="store_true", help="only the unfiltered scenario")
    args = ap.parse_args(argv)
    cfg = h.Config.from_env()
    stack = h.Stack(cfg)
    driver = None
    try:
        stack.start()
        driver = h.make_driver()
        h.sign_in(driver, stack.gateway)
        results = run_all(driver, stack, ("",) if args.no_search else ("", "status=500"))
        write_doc(results, args.out)
        print(json.dumps(results, indent=2, default=str))
        print(f"wrote {args.out}")
    finally:
        if driver:
            driver.quit()
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The real Tailgate stack for browser tests: agent, gateway, containers, Chromium.

Shared by conftest.py (pytest fixtures) and measure_render.py (standalone).
Everything started here is remembered and stopped by pid (processes) or by
name (containers, `docker rm -f`); nothing is ever killed by process name.

Environment (scripts/with-test-env.sh and scripts/test.sh provide the first four):
  TAILGATE_TEST_REDIS_URL    redis://127.0.0.1:PORT of a private Redis
  TAILGATE_TEST_DOCKER_HOST  unix:///…/docker.sock of a private dockerd
  TAILGATE_TEST_IMAGE        busybox image in that engine
  TAILGATE_BUILD_DIR         directory holding tailgate-agent and tailgate-gateway
  TAILGATE_BROWSER_ARTIFACTS where logs and failure screenshots go
                             (default: <repo>/test-artifacts/browser)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TAILGATE_BROWSER_ARTIFACTS") or ROOT / "test-artifacts" / "browser")
SCREENSHOTS = ROOT / "docs" / "screenshots"
AGENT_ID = "browser-host"

REQUIRED_ENV = ("TAILGATE_TEST_REDIS_URL", "TAILGATE_TEST_DOCKER_HOST", "TAILGATE_TEST_IMAGE", "TAILGATE_BUILD_DIR")


class HarnessError(RuntimeError):
    pass


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll predicate() until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - report the last one on timeout
            last_exc = exc
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc!r})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{extra}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Config:
    redis_url: str
    docker_host: str
    image: str
    build_dir: Path
    prefix: str = field(default_factory=lambda: "tgbrowser" + secrets.token_hex(3))
    token: str = field(default_factory=lambda: "browser-" + secrets.token_hex(12))

    @classmethod
    def from_env(cls) -> "Config":
        missing = [n for n in REQUIRED_ENV if not os.environ.get(n)]
        if missing:
            raise HarnessError(
                "missing environment: " + ", ".join(missing) + ". Run through scripts/test.sh, or e.g.\n"
                "  scripts/with-test-env.sh env TAILGATE_BUILD_DIR=$(swift build --show-bin-path) bash Tests/browser/run.sh"
            )
        cfg = cls(
            redis_url=os.environ["TAILGATE_TEST_REDIS_URL"],
            docker_host=os.environ["TAILGATE_TEST_DOCKER_HOST"],
            image=os.environ["TAILGATE_TEST_IMAGE"],
            build_dir=Path(os.environ["TAILGATE_BUILD_DIR"]),
        )
        for binary in ("tailgate-agent", "tailgate-gateway"):
            if not os.access(cfg.build_dir / binary, os.X_OK):
                raise HarnessError(f"{cfg.build_dir / binary} is missing or not executable")
        return cfg


# ---- processes ---------------------------------------------------------------------


class Proc:
    """A background program with its output in a log file; stopped by its pid."""

    def __init__(self, name: str, argv: list[str], env: dict | None = None):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.argv = argv
        self.log_path = ARTIFACTS / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n=== {time.strftime('%H:%M:%S')} start: {' '.join(argv)}\n".encode())
        self._log.flush()
        self.popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C does not reach it; we stop it ourselves
            env=env,
        )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: a crash, no goodbye."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(10)
        self._note("killed (SIGKILL)")

    def stop(self, timeout: float = 8.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`. Returns the exit status."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        self._note(f"stopped, status {self.popen.returncode}")
        return self.popen.returncode

    def _note(self, text: str):
        try:
            self._log.write(f"=== {time.strftime('%H:%M:%S')} {text}\n".encode())
            self._log.flush()
        except ValueError:
            pass

    def close(self):
        if self.alive():
            self.stop()
        self._log.close()


def redis_cli(cfg: Config, *args: str) -> str:
    out = subprocess.run(["redis-cli", "-u", cfg.redis_url, *args], capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


class Agent:
    def __init__(self, cfg: Config, agent_id: str = AGENT_ID):
        self.cfg = cfg
        self.agent_id = agent_id
        self.proc: Proc | None = None

    def start(self):
        self.proc = Proc(
            "agent",
            [
                str(self.cfg.build_dir / "tailgate-agent"),
                "--redis", self.cfg.redis_url,
                "--prefix", self.cfg.prefix,
                "--docker-host", self.cfg.docker_host,
                "--agent-id", self.agent_id,
            ],
        )

        def registered():
            if not self.proc.alive():
                raise HarnessError(f"tailgate-agent exited with {self.proc.popen.returncode}:\n{self.proc.tail()}")
            return redis_cli(self.cfg, "ZSCORE", f"{self.cfg.prefix}:agents", self.agent_id) not in ("", "(nil)")

        wait_until(registered, 30, f"agent {self.agent_id} in {self.cfg.prefix}:agents")
        return self

    def close(self):
        if self.proc:
            self.proc.close()


class Gateway:
    """tailgate-gateway on a fixed port, so it can be killed and started again in its place."""

    def __init__(self, cfg: Config, port: int | None = None):
        self.cfg = cfg
        self.port = port or free_port()
        self.proc: Proc | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30):
        if self.proc and self.proc.alive():
            raise HarnessError("gateway already running")
        self.starts += 1
        self.proc = Proc(
            "gateway",
            [
                str(self.cfg.build_dir / "tailgate-gateway"),
                "--redis", self.cfg.redis_url,
                "--prefix", self.cfg.prefix,
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--token", self.cfg.token,
            ],
        )
        self.wait_healthy(timeout)
        return self

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as res:
                return res.status, json.loads(res.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, {}

    def wait_healthy(self, timeout: float = 30):
        def healthy():
            if not self.proc.alive():
                raise HarnessError(f"tailgate-gateway exited with {self.proc.popen.returncode}:\n{self.proc.tail()}")
            status, body = self.health()
            return status == 200 and body.get("status") == "ok"

        wait_until(healthy, timeout, f"{self.url}/healthz to answer 200 ok", interval=0.1)

    def api(self, path: str):
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.cfg.token}"})
        with urllib.request.urlopen(req, timeout=5) as res:
            return json.loads(res.read())

    def kill(self):
        if self.proc:
            self.proc.kill()

    def stop(self):
        return self.proc.stop() if self.proc else None

    def close(self):
        if self.proc:
            self.proc.close()


# ---- containers ------------------------------------------------------------------------

# Shell scripts for busybox `sh -c`. Numbered so tests can check nothing is lost.
NUMBERS_SCRIPT = (
    'i=0; while true; do i=$((i+1)); echo "line $i"; '
    'if [ $((i % 5)) -eq 0 ]; then echo "err $i" >&2; fi; sleep 0.02; done'
)

HTML_SCRIPT = r"""
i=0
while true; do
  i=$((i+1))
  echo "<script>alert(1)</script> #$i"
  echo "<img src=x onerror=alert(1)> #$i"
  printf '\033[31mred alert\033[0m plain \033[1;32mbold green\033[0m #%d\n' "$i"
  sleep 1
done
"""

# A plausible service log for the README screenshot: levels in colour, JSON, stderr.
DEMO_SCRIPT = r"""
i=0
paths="/api/orders /api/cart /api/items/42 /healthz /api/checkout /api/users/me"
while true; do
  i=$((i+1))
  set -- $paths
  n=$(( (i % 6) + 1 ))
  eval p=\${$n}
  ms=$(( (i * 37) % 180 + 3 ))
  if [ $((i % 11)) -eq 0 ]; then
    printf '\033[33mWARN \033[0m db      slow query on orders (%d ms) req=%04x\n' $((ms * 9)) "$i"
  elif [ $((i % 17)) -eq 0 ]; then
    printf '\033[31mERROR\033[0m payment upstream timeout after 5000 ms req=%04x\n' "$i" >&2
  elif [ $((i % 7)) -eq 0 ]; then
    printf '{"level":"info","msg":"cart updated","cart":%d,"items":%d}\n' $((1000 + i)) $((i % 5 + 1))
  else
    printf '\033[32mINFO \033[0m http    GET %-16s 200 %3d ms req=%04x\n' "$p" "$ms" "$i"
  fi
  sleep 0.4
done
"""

# Exits a few seconds after the agent started: the fleet must then show it exited (Docker "die" event).
ONESHOT_SCRIPT = 'echo "backup started"; sleep 5; echo "copied 1423 files"; echo "backup finished"'


class Docker:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.names: list[str] = []

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        out = subprocess.run(["docker", "-H", self.cfg.docker_host, *args], capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise HarnessError(f"docker {' '.join(args)}: exit {out.returncode}: {out.stderr.strip()}")
        return out.stdout.strip()

    def run(self, name: str, script: str, tty: bool = False) -> str:
        """Start a container (removing an old one of that name first); returns its full id."""
        self.cli("rm", "-f", name, check=False)
        args = ["run", "-d", "--network", "none", "--name", name, "--log-driver", "json-file"]
        if tty:
            args.append("-t")
        cid = self.cli(*args, self.cfg.image, "sh", "-c", script)
        self.names.append(name)
        return cid

    def log_line_count(self, name: str) -> int:
        out = subprocess.run(
            ["docker", "-H", self.cfg.docker_host, "logs", name], capture_output=True, timeout=60
        )
        return out.stdout.count(b"\n") + out.stderr.count(b"\n")

    def rm(self, name: str):
        self.cli("rm", "-f", name, check=False)
        if name in self.names:
            self.names.remove(name)

    def close(self):
        for name in list(self.names):
            self.rm(name)


# ---- browser -----------------------------------------------------------------------------

# Runs before any page script: records alert/confirm/prompt calls (a successful
# injection would show up here) and uncaught errors.
PAGE_HOOKS = r"""
(() => {
  const calls = [];
  Object.defineProperty(window, '__tgAlerts', { value: calls });
  for (const f of ['alert', 'confirm', 'prompt']) {
    window[f] = function (...args) { calls.push([f, String(args[0])]); return undefined; };
  }
  const errors = [];
  Object.defineProperty(window, '__tgErrors', { value: errors });
  window.addEventListener('error', (e) => errors.push(String(e.message || e.type) + ' @ ' + (e.filename || '') + ':' + (e.lineno || '')));
  window.addEventListener('unhandledrejection', (e) => errors.push('unhandled rejection: ' + String(e.reason && (e.reason.stack || e.reason.message) || e.reason)));
  // A log of the WebSocket's control frames, for diagnosing failures (log.line(s) are only counted,
  // so the flood measurement pays next to nothing for it).
  const frames = [];
  const counts = { lineFrames: 0 };
  Object.defineProperty(window, '__tgFrames', { value: frames });
  Object.defineProperty(window, '__tgFrameCounts', { value: counts });
  const Native = window.WebSocket;
  if (Native) {
    class RecordingWebSocket extends Native {
      constructor(...args) {
        super(...args);
        frames.push({ t: Math.round(performance.now()), type: 'open()', url: String(args[0]) });
        this.addEventListener('close', (e) => frames.push({ t: Math.round(performance.now()), type: 'close', code: e.code }));
        this.addEventListener('message', (ev) => {
          const text = typeof ev.data === 'string' ? ev.data : '';
          const at = text.indexOf('"log.line');
          if (at !== -1 && at < 40) { counts.lineFrames++; return; }
          try {
            const f = JSON.parse(text);
            const d = f.data || {};
            frames.push({ t: Math.round(performance.now()), type: f.type, id: f.id, containerId: d.containerId, epoch: d.epoch,
              complete: d.complete, lines: Array.isArray(d.lines) ? d.lines.length : undefined,
              firstSeq: Array.isArray(d.lines) && d.lines.length ? d.lines[0].seq : undefined,
              fromSeq: d.fromSeq, toSeq: d.toSeq, code: d.code, message: d.message });
            if (frames.length > 2000) frames.splice(0, 500);
          } catch (e) { /* not JSON: the app reports it */ }
        });
      }
      send(data) {
        try {
          const f = JSON.parse(data);
          frames.push({ t: Math.round(performance.now()), type: 'sent ' + f.type, id: f.id, data: f.data });
        } catch (e) { /* not JSON */ }
        return super.send(data);
      }
    }
    window.WebSocket = RecordingWebSocket;
  }
})();
"""


def make_driver(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium = os.environ.get("TAILGATE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = os.environ.get("TAILGATE_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not chromedriver:
        raise HarnessError("chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opts = Options()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--password-store=basic",
        "--lang=en-US",
    ):
        opts.add_argument(arg)
    # Keep a real alert from being silently dismissed: we want to see it.
    opts.set_capability("unhandledPromptBehavior", "ignore")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver, log_output=str(ARTIFACTS / "chromedriver.log"))
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_HOOKS})
    return driver


# ---- the whole stack ---------------------------------------------------------------------


class Stack:
    """Agent + gateway + Docker helpers, stopped in reverse order by close()."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.docker = Docker(cfg)
        self.agent = Agent(cfg)
        self.gateway = Gateway(cfg)

    def start(self):
        self.agent.start()
        self.gateway.start()
        return self

    def run_container(self, name: str, script: str, tty: bool = False) -> str:
        """Start a container and wait until the gateway lists it (the agent has seen it)."""
        cid = self.docker.run(name, script, tty=tty)
        wait_until(
            lambda: any(c.get("id") == cid for c in self.gateway.api(f"/api/agents/{self.agent.agent_id}/containers")),
            20, f"container {name} in the gateway's list",
        )
        return cid

    def close(self):
        errors = []
        for step in (self.gateway.close, self.docker.close, self.agent.close):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                errors.append(exc)
        if errors:
            raise errors[0]


# ---- page helpers ---------------------------------------------------------------------------


def js(driver, expr: str, *args):
    """Evaluate a JavaScript expression in the page and return its value."""
    return driver.execute_script("return (" + expr + ");", *args)


def shown(driver, css: str) -> bool:
    from selenium.webdriver.common.by import By

    els = driver.find_elements(By.CSS_SELECTOR, css)
    return bool(els) and els[0].is_displayed()


def sign_in(driver, gateway: Gateway, token: str | None = None, timeout: float = 20):
    """Open the UI and sign in if it asks; returns when the app (fleet) is shown."""
    from selenium.webdriver.common.by import By

    driver.get(gateway.url + "/")
    wait_until(lambda: shown(driver, '[data-testid="sign-in"]') or shown(driver, "#app"), timeout, "sign-in form or app")
    if shown(driver, '[data-testid="sign-in"]'):
        box = driver.find_element(By.CSS_SELECTOR, '[data-testid="token-input"]')
        box.clear()
        box.send_keys(token or gateway.cfg.token)
        driver.find_element(By.CSS_SELECTOR, '[data-testid="sign-in-button"]').click()
    wait_until(lambda: shown(driver, "#app") and not shown(driver, '[data-testid="sign-in"]'), timeout, "the app after sign-in")


def open_container(driver, name: str, agent_id: str = AGENT_ID):
    driver.execute_script("location.hash = arguments[0]", f"#/agents/{agent_id}/containers/{name}")
    wait_until(lambda: js(driver, "document.body.dataset.view") == "logs", 10, "the log view")


def contiguity_problems(seqs: list[int]) -> list[str]:
    """Describe every place where seqs does not rise by exactly one."""
    problems = []
    for a, b in zip(seqs, seqs[1:]):
        if b == a:
            problems.append(f"duplicate seq {a}")
        elif b < a:
            problems.append(f"seq goes back {a} -> {b}")
        elif b != a + 1:
            problems.append(f"missing seq {a + 1}..{b - 1}")
    return problems

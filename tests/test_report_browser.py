"""report.html in a real headless browser (Debian's chromium), driven over the DevTools protocol.

The page must load from file:// without console errors, exceptions or any request leaving the page
(no network at view time), show the score, the stage table and the timeline, and run its hover
script. A screenshot is saved (set LMAC_SCREENSHOT_DIR to keep it).

Chromium is talked to through --remote-debugging-pipe (NUL-separated JSON on fds 3 and 4), so no
port, websocket library or network is involved. `make test` installs chromium when it is missing.
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import lmac
from small_models import narrow

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """Headless chromium with the DevTools protocol on a pipe; one page target."""

    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions", "--mute-audio", "--remote-debugging-pipe"]

    def __init__(self, binary: str, profile: Path):
        to_child_r, self._w = os.pipe()  # we write commands, chromium reads fd 3
        self._r, from_child_w = os.pipe()  # chromium writes fd 4, we read

        def fds():  # in the child: the pipe ends become fds 3 and 4, inheritable across exec
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen([binary, *self.FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session = None

    def _recv(self, timeout: float) -> dict:
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._r], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                raise EOFError(f"chromium closed the DevTools pipe (exit {self.proc.poll()}): {err}")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, params: dict | None = None, timeout: float = 30.0, browser: bool = False) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if self.session and not browser:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._recv(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        end = time.monotonic() + timeout
        while True:
            ev = self._recv(max(0.1, end - time.monotonic()))
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def open_page(self, width: int = 1100, height: int = 1400) -> None:
        target = self.call("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True}, browser=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def goto(self, url: str) -> None:
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str):
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and browser log errors seen so far."""
        out = []
        for ev in self.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('text')} {p['exceptionDetails'].get('exception', {}).get('description', '')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value', a.get('description')) for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                out.append(f"log {p['entry']['level']}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Network.loadingFailed":
                out.append(f"request failed: {p.get('errorText')}")
        return out

    def requests(self) -> list[str]:
        return [ev["params"]["request"]["url"] for ev in self.events if ev.get("method") == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close", browser=True, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self.proc.stderr.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = find_browser()
    if binary is None:
        pytest.skip("no chromium found (apt-get install chromium; `make test` installs it when it can): "
                    "the report is not checked in a browser")
    b = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        b.open_page()
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def reports(tiny_synth, tmp_path_factory):
    """Reports of a trained LMAC-Net run (stages, timeline) and of a stage-less baseline."""
    import torch

    from lmac.config import TrainConfig
    from lmac.data.features import NativeStore
    from lmac.training.trainer import train

    d = tmp_path_factory.mktemp("reports")
    out = {}
    for model, args in (("lmac", narrow("lmac")), ("concat", {})):
        cfg = TrainConfig(task="rg_hoop", model=model, model_args=args, features=str(tiny_synth / "features"),
                          labels=str(tiny_synth), epochs=2, batch_size=8, window=16, progress=False, device="cpu")
        with torch.enable_grad():  # robust to an earlier test leaving autograd off (run_extraction does)
            train(cfg, d / f"run-{model}", log=lambda m: None)
        vid = sorted(i for i in NativeStore(tiny_synth / "features").ids() if i.startswith("Hoop"))[0]
        pred = lmac.load(d / f"run-{model}", device="cpu").predict_features(tiny_synth / "features", video_id=vid)
        pred.save(d / model)
        out[model] = (pred, d / model / "report.html")
    return out


def test_report_renders_in_chromium(browser, reports, tmp_path):
    pred, page = reports["lmac"]
    browser.goto(page.resolve().as_uri())
    assert browser.problems() == []
    urls = browser.requests()
    assert urls and all(u.startswith(("file:", "data:")) for u in urls), urls  # nothing fetched from a network
    # the score, the stage table and the timeline are there and laid out
    assert browser.js("document.getElementById('score').textContent") == f"{pred.score:.2f}"
    assert browser.js("document.querySelectorAll('#stages tbody tr').length") == len(pred.stages) == 5
    box = browser.js("(function(){var r=document.getElementById('timeline').getBoundingClientRect();return [r.width,r.height]})()")
    assert box[0] > 600 and box[1] > 150, box
    assert browser.js("document.querySelectorAll('#timeline polyline').length") == len(pred.stages) * len(pred.modalities)
    lanes = browser.js("Array.from(document.querySelectorAll('#timeline text.lane')).map(t => t.textContent)")
    assert {"rgb", "flow", "audio"} <= set(lanes) and f"S1 {pred.stages[0].score:.1f}" in lanes
    assert browser.js("document.getElementById('timeline-png').complete && document.getElementById('timeline-png').naturalWidth") > 500
    # the hover script runs: hovering stage 2's row dims the other stages everywhere, leaving restores them
    browser.js("document.querySelector('#stages tr[data-stage=\"2\"]').dispatchEvent(new Event('mouseenter'))")
    dimmed = browser.js("Array.from(document.querySelectorAll('[data-stage]')).filter(e => e.classList.contains('dim')).map(e => e.getAttribute('data-stage'))")
    assert dimmed and "2" not in dimmed and set(dimmed) == {"1", "3", "4", "5"}
    browser.js("document.querySelector('#stages tr[data-stage=\"2\"]').dispatchEvent(new Event('mouseleave'))")
    assert browser.js("document.querySelectorAll('.dim').length") == 0
    assert browser.problems() == []

    shot = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})["data"])
    path = tmp_path / "report.png"
    path.write_bytes(shot)
    keep = os.environ.get("LMAC_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / "report.png")
    import matplotlib.image

    img = matplotlib.image.imread(path)  # (H, W, 3 or 4) floats
    assert img.shape[1] >= 1000 and img.shape[0] >= 1000  # 1100 px wide less a scrollbar
    assert float(np.std(img[..., :3])) > 0.05  # not a blank page
    # the score is drawn in its own colour where the page lays it out (the page, not an error screen).
    # Compared with the colour the browser says it uses, in the box it reports: font smoothing and the
    # rasteriser's CPU kernels may move anti-aliased edges, never the filled strokes of 46-px bold digits.
    x, y, w, h = browser.js("(function(){var r=document.getElementById('score').getBoundingClientRect();"
                            "return [r.left, r.top, r.width, r.height]})()")
    rgb = browser.js("getComputedStyle(document.getElementById('score')).color")  # "rgb(11, 79, 138)"
    want = np.array([int(v) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]) / 255.0
    assert w > 50 and h > 30, (w, h)
    box = img[int(y):int(y + h), int(x):int(x + w), :3]
    ink = np.abs(box - want).max(-1) < 0.06  # pixels of the score's colour
    assert ink.sum() > 0.05 * box.shape[0] * box.shape[1], (rgb, ink.sum(), box.shape)
    above = np.abs(img[:int(y + h), :, :3] - want).max(-1) < 0.06  # that colour anywhere down to the score
    assert ink.sum() > 0.5 * above.sum()  # it is the score's colour, not the page's


def test_report_without_stages_renders(browser, reports):
    pred, page = reports["concat"]
    browser.goto(page.resolve().as_uri())
    assert browser.problems() == []
    assert browser.js("document.getElementById('score').textContent") == f"{pred.score:.2f}"
    assert browser.js("document.getElementById('timeline')") is None
    assert "overall score only" in browser.js("document.body.innerText")

#!/usr/bin/python3
"""The web dashboard in a real browser: Debian's headless Chromium driven
through chromedriver (python3-selenium).

  dashboard.py test --url URL --sim-sock SOCK --events FILE --out PNG
      The browser test of 97-dashboard.sh. Tokens come from the environment:
      DASH_STAFF_TOKEN, DASH_ALPHA_TOKEN, DASH_BETA_TOKEN. Opens the page as
      staff and as enterprise alpha, raises beta's and then alpha's day quota
      with the simulator, and checks that each alert appears on the open
      pages within 2 s of its event (the event's ts from MQTT, FILE being
      mosquitto_sub -v output of <prefix>/<park>/events), without a reload,
      and that alpha's page never holds beta's id, name or alert, and that
      the graphs are drawn. With
      --restart DIR, it creates DIR/restart-wanted, waits for
      DIR/restart-done, and checks that both pages reconnect.
  dashboard.py shot --url URL --out PNG [--select ENT/QUOTA]
                    [--wait-alert ENT/NAME[=STATE]] [--width W]
      A screenshot of the whole page (for README), token from DASH_TOKEN,
      e.g. of the demo (scripts/demo.sh): --url http://127.0.0.1:8080 with
      DASH_TOKEN=$(cat run/demo/staff.token).

Exit status 0 on success, 1 with "FAIL: ..." on stderr otherwise.
"""
import argparse
import base64
import json
import os
import random
import signal
import socket
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
LATENCY_LIMIT_MS = 2000


class Fail(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def browser(width=1400, height=1000):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--disable-background-networking",
                "--hide-scrollbars", "--lang=en-US",
                f"--window-size={width},{height}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_window_size(width, height)
    return d


def wait_for(desc, secs, fn, every=0.05):
    """Poll fn until it returns something true; that value, or Fail."""
    deadline = time.monotonic() + secs
    while True:
        try:
            v = fn()
        except WebDriverException:
            v = None
        if v:
            return v
        if time.monotonic() >= deadline:
            raise Fail(f"timeout ({secs} s) waiting for {desc}")
        time.sleep(every)


def js(d, script, *args):
    return d.execute_script(script, *args)


def page_url(base, token):
    return base.rstrip("/") + "/#token=" + urllib.parse.quote(token, safe="")


def is_live(d):
    return js(d, 'const e = document.getElementById("live");'
                 'return !!e && e.dataset.live === "1" && !e.hidden;')


def open_dashboard(d, base, token, who):
    d.get(page_url(base, token))
    wait_for(f"the {who} page to be live (#live[data-live=1])", 20,
             lambda: is_live(d))
    href = d.current_url
    if "token" in href:
        raise Fail(f"{who}: the token is still in the address bar: {href}")
    if js(d, 'return sessionStorage.getItem("ecmond.token")') != token:
        raise Fail(f"{who}: the token is not kept in sessionStorage")
    probe = f"{who}-{random.getrandbits(48):x}"
    js(d, "window.__dashProbe = arguments[0];", probe)
    return {"probe": probe,
            "loaded": js(d, "return window.ecmonDashboard.loadedAt")}


def not_reloaded(d, mark, who):
    probe = js(d, "return window.__dashProbe || null")
    loaded = js(d, "return window.ecmonDashboard.loadedAt")
    if probe != mark["probe"] or loaded != mark["loaded"]:
        raise Fail(f"{who}: the page was reloaded (probe {probe!r})")


def quota_state(d, key):
    return js(d, 'const r = document.querySelector('
                 '`#quotas-body tr[data-key="${arguments[0]}"]`);'
                 'return r ? r.dataset.state : null;', key)


ROW_INFO = """
const r = document.querySelector(`#alerts-body tr[data-key="${arguments[0]}"]`);
return r ? {state: r.dataset.state, shown: Number(r.dataset.shownMs),
            ts: r.dataset.ts ? Number(r.dataset.ts) : null} : null;
"""


def sim(sock, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(cmd.encode() + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
    s.close()
    reply = reply.decode().strip()
    if not reply.startswith("ok"):
        raise Fail(f"ecmon-sim: {cmd}: {reply or 'no reply'}")


def mqtt_events(path):
    """The alert events seen on MQTT: mosquitto_sub -v lines 'topic json'."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                topic, _, payload = line.partition(" ")
                if not topic.endswith("/events"):
                    continue
                try:
                    out.append(json.loads(payload))
                except ValueError:
                    pass
    except FileNotFoundError:
        pass
    return out


def event_ts(path, key, to, not_after):
    """The ts of the last MQTT event taking key to state `to` no later than
    not_after (Unix seconds), or None."""
    ent, _, name = key.partition("/")
    best = None
    for e in mqtt_events(path):
        if (e.get("enterprise") == ent and e.get("alert") == name
                and e.get("to") == to and e.get("ts", 0) <= not_after):
            best = e["ts"] if best is None else max(best, e["ts"])
    return best


def wait_alert(d, who, key, events, secs=60):
    """Wait for the alert row `key`; return its latency in ms against the
    event's ts on MQTT."""
    info = wait_for(f"{who}: the alert row {key}", secs,
                    lambda: js(d, ROW_INFO, key))
    if info["state"] not in ("warn", "critical", "exceeded"):
        raise Fail(f"{who}: alert row {key} in state {info['state']!r}")
    shown = info["shown"]
    ts = wait_for(f"the MQTT event of {key} -> {info['state']}", 10,
                  lambda: event_ts(events, key, info["state"],
                                   shown / 1000 + 0.01))
    latency = shown - ts * 1000
    sse = ""
    if info["ts"] is not None:
        sse = f"; the event stream's ts is {(info['ts'] - ts) * 1000:+.1f} ms off MQTT's"
    log(f"{who}: {key} -> {info['state']} shown {latency:.0f} ms after its "
        f"event{sse}")
    if latency >= LATENCY_LIMIT_MS:
        raise Fail(f"{who}: {key} shown {latency:.0f} ms after its event "
                   f"(limit {LATENCY_LIMIT_MS} ms)")
    if latency < -50:
        raise Fail(f"{who}: {key} shown {-latency:.0f} ms before its event?")
    return latency


def page_text(d):
    return js(d, """
return {
  html: document.documentElement.outerHTML,
  text: document.body.innerText,
  title: document.title,
  keys: [...document.querySelectorAll("[data-key]")].map(e => e.dataset.key),
  owners: [...document.querySelectorAll("[data-owner]")].map(e => e.dataset.owner),
  requests: performance.getEntriesByType("resource").map(e => e.name),
};""")


def assert_hidden_from(d, who, forbidden, owners):
    """Nothing on the page (text, attributes, title, requests made) names a
    forbidden string; no row belongs to another owner."""
    p = page_text(d)
    hay = {"text": p["text"], "markup": p["html"], "title": p["title"],
           "requests": " ".join(p["requests"])}
    for word in forbidden:
        for where, s in hay.items():
            if word.lower() in s.lower():
                raise Fail(f"{who}: the page's {where} holds {word!r}")
    for k in p["keys"] + p["owners"]:
        if k.split("/")[0] not in owners:
            raise Fail(f"{who}: the page holds a row of {k!r}")
    if js(d, 'return !document.getElementById("capacity-card").hidden'):
        raise Fail(f"{who}: the capacity card is shown")


def console_errors(d, who):
    """Fail on script errors and CSP violations in the browser's console."""
    for e in d.get_log("browser"):
        msg = e.get("message", "")
        bad = e.get("level") == "SEVERE" and e.get("source") != "network"
        if bad or "Content Security Policy" in msg:
            raise Fail(f"{who}: browser console: {msg}")


def graphs_shown(d):
    return js(d, """
const figs = [...document.querySelectorAll(".graph")].filter(f => !f.hidden);
return figs.length > 0 && figs.every(f => f.querySelector("img") ||
  /No graph|could not/.test(f.textContent));""")


GRAPHS_LOADED = """
const figs = [...document.querySelectorAll(".graph")].filter(f => !f.hidden);
return figs.length > 0 && figs.every(f => {
  const img = f.querySelector("img");
  return img && img.src.startsWith("blob:") && img.complete && img.naturalWidth > 0;
});"""


def full_page_shot(d, path):
    """The whole page, not just the window (Chrome DevTools Protocol),
    once the highlight of rows just changed has faded."""
    wait_for("the row highlights to fade", 5, lambda: js(
        d, 'return !document.getAnimations().some('
           'a => a.animationName === "fresh");'))
    size = d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = d.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"],
                 "height": size["height"], "scale": 1}})
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    log(f"screenshot: {path} ({size['width']:.0f}x{size['height']:.0f})")


def connects(d):
    return int(js(d, 'return document.getElementById("live").dataset.connects'
                     ' || "0"'))


def restart_ecmond(folder, pages):
    """Ask 97-dashboard.sh to restart ecmond (a file in folder, answered by
    another); every page must reconnect by itself, without a reload."""
    before = {who: connects(d) for who, d in pages.items()}
    t0 = time.monotonic()
    open(os.path.join(folder, "restart-wanted"), "w").close()
    wait_for("ecmond to be restarted", 60, lambda: os.path.exists(
        os.path.join(folder, "restart-done")), every=0.2)
    for who, d in pages.items():
        wait_for(f"{who}: live again after ecmond's restart", 40,
                 lambda d=d, who=who: is_live(d) and connects(d) > before[who])
    log(f"ecmond restarted: every page live again {time.monotonic() - t0:.1f} s "
        f"after the request")


def run_test(a):
    staff_tok = os.environ["DASH_STAFF_TOKEN"]
    alpha_tok = os.environ["DASH_ALPHA_TOKEN"]
    beta_tok = os.environ["DASH_BETA_TOKEN"]
    names = {"alpha": a.alpha_name, "beta": a.beta_name}
    staff = alpha = None
    try:
        staff = browser()
        alpha = browser()
        # The staff page, the token passed in the URL fragment.
        smark = open_dashboard(staff, a.url, staff_tok, "staff")
        for key in ("alpha/effluent-day", "beta/effluent-day"):
            wait_for(f"staff: quota row {key} evaluated ok", 30,
                     lambda key=key: quota_state(staff, key) == "ok")
        text = js(staff, "return document.body.innerText")
        for n in names.values():
            if n not in text:
                raise Fail(f"staff: {n!r} is not on the page")
        if js(staff, 'return document.getElementById("capacity-card").hidden'):
            raise Fail("staff: no capacity card")
        log("staff: live, every quota ok, names in Chinese shown")

        amark = open_dashboard(alpha, a.url, alpha_tok, "alpha")
        wait_for("alpha: its quota row evaluated ok", 30,
                 lambda: quota_state(alpha, "alpha/effluent-day") == "ok")
        if names["alpha"] not in js(alpha, "return document.body.innerText"):
            raise Fail("alpha: its own name is not on the page")
        log("alpha: live")

        # Beta's day quota, then alpha's: new alerts on the open pages.
        sim(a.sim_sock, "set beta-flow flow 360")
        lat = [wait_alert(staff, "staff", "beta/effluent-day", a.events)]
        sim(a.sim_sock, "set alpha-flow flow 360")
        lat.append(wait_alert(staff, "staff", "alpha/effluent-day", a.events))
        lat.append(wait_alert(alpha, "alpha", "alpha/effluent-day", a.events))
        for d, who in ((staff, "staff"), (alpha, "alpha")):
            if not js(d, 'return document.querySelectorAll("#events-list li").length'):
                raise Fail(f"{who}: no recent events listed")

        # alpha saw its own alert, and nothing of beta's, though beta's
        # came first.
        assert_hidden_from(alpha, "alpha", ["beta", names["beta"],
                                            names["beta"].split()[0]],
                           {"alpha"})
        log("alpha: no trace of beta (text, markup, requests)")

        if a.restart:
            restart_ecmond(a.restart, {"staff": staff, "alpha": alpha})

        # Let the ladder go on a little for a telling screenshot.
        try:
            wait_for("staff: beta exceeded", 30,
                     lambda: (js(staff, ROW_INFO, "beta/effluent-day") or {})
                     .get("state") == "exceeded")
        except Fail as e:
            log(f"note: {e}")
        not_reloaded(staff, smark, "staff")
        not_reloaded(alpha, amark, "alpha")
        log("no reload on either page")
        console_errors(staff, "staff")
        console_errors(alpha, "alpha")
        base, ext = os.path.splitext(a.out)
        for d, who, out in ((staff, "staff", a.out),
                            (alpha, "alpha", f"{base}-alpha{ext}")):
            # Fetched with the token, shown through object URLs.
            wait_for(f"{who}: every graph drawn", 30,
                     lambda d=d: js(d, GRAPHS_LOADED))
            full_page_shot(d, out)

        # Another token in the same tab: beta's page, with nothing of
        # alpha's left from before.
        js(alpha, "performance.clearResourceTimings();")
        alpha.get(page_url(a.url, beta_tok))
        wait_for("beta: live after switching tokens", 20,
                 lambda: is_live(alpha) and js(
                     alpha, ROW_INFO, "beta/effluent-day"))
        assert_hidden_from(alpha, "beta", ["alpha", names["alpha"],
                                           names["alpha"].split()[0]],
                           {"beta"})
        log("beta: its alert, no trace of alpha")

        # A refused token: back to the form with a message; then sign in
        # through the form.
        alpha.get(page_url(a.url, "not-a-valid-token-000000"))
        wait_for("the token form after a refused token", 10, lambda: js(
            alpha, 'return !document.getElementById("login").hidden && '
                   'document.getElementById("login-msg").textContent'))
        if js(alpha, 'return sessionStorage.getItem("ecmond.token")'):
            raise Fail("a refused token is kept in sessionStorage")
        if js(alpha, 'return document.getElementById("alerts-body").children.length'):
            raise Fail("the last viewer's alerts are still on the page")
        alpha.find_element(By.ID, "token-input").send_keys(alpha_tok)
        alpha.find_element(By.CSS_SELECTOR, "#token-form button").click()
        wait_for("alpha: live after signing in with the form", 20,
                 lambda: is_live(alpha))
        log("refused token: form with a message; the form signs in")
        console_errors(alpha, "alpha")
        log(f"latency: max {max(lat):.0f} ms over {len(lat)} alerts")
    finally:
        for d in (staff, alpha):
            if d is not None:
                d.quit()


def run_shot(a):
    d = browser(a.width)
    try:
        open_dashboard(d, a.url, os.environ["DASH_TOKEN"], "viewer")
        wait_for("quota rows evaluated", 30, lambda: js(
            d, 'const r = [...document.querySelectorAll("#quotas-body tr.quota")];'
               'return r.length && r.every(t => t.dataset.state !== "none");'))
        if a.wait_alert:
            key, _, state = a.wait_alert.partition("=")
            wait_for(f"the alert {a.wait_alert}", a.wait_max, lambda: (
                js(d, ROW_INFO, key) or {}).get("state") == (state or None) or (
                not state and js(d, ROW_INFO, key)), every=0.5)
        if a.select:
            d.find_element(By.CSS_SELECTOR,
                           f'#quotas-body tr[data-key="{a.select}"]').click()
        wait_for("the graphs", 30, lambda: graphs_shown(d))
        full_page_shot(d, a.out)
        console_errors(d, "viewer")
    finally:
        d.quit()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("test")
    t.add_argument("--url", required=True)
    t.add_argument("--sim-sock", required=True)
    t.add_argument("--events", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--alpha-name", required=True)
    t.add_argument("--beta-name", required=True)
    t.add_argument("--restart", metavar="DIR",
                   help="ask for an ecmond restart through files in DIR")
    s = sub.add_parser("shot")
    s.add_argument("--url", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--select", metavar="ENT/QUOTA",
                   help="click this quota's row for its graph")
    s.add_argument("--wait-alert", metavar="ENT/NAME[=STATE]",
                   help="keep the page open until this alert row shows "
                        "(in STATE), so that recent events gather")
    s.add_argument("--wait-max", type=float, default=600,
                   help="seconds to wait for --wait-alert")
    s.add_argument("--width", type=int, default=1400)
    a = ap.parse_args()
    # Stopped by the test's cleanup: still quit the browsers (finally).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        (run_test if a.cmd == "test" else run_shot)(a)
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

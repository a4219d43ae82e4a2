#!/usr/bin/env python3
"""End-to-end check of the management dashboard, as a manager would use it.

Starts `supportd --demo` on a free loopback port with a fresh data directory, signs in
through the sign-in form with the manager token that supportd wrote, and saves a PNG of each
dashboard page at 1280x800 (desktop) and 390x844 (phone), plus full-page captures, under the
output folder: the four chart pages, the tickets behind an SLA compliance bar (reached by a
click on the bar), a ticket's clocks explained (a click on a ticket of that list), and the What
if page (the form, a result, a mistake shown with the form). No page may carry a script. Headless Chromium (Debian's `chromium` and `chromium-driver`) is driven by
Selenium (PyPI).

Usage: screenshots.py OUTPUT_DIR [--supportd PATH] [--timeout SECONDS] [--capacity N]

--capacity lays a policy file over the default policy with that agent capacity (default 8,
below the demo's busiest agents, so that the Agents page shows overloaded agents marked;
0 keeps the default policy's 25).

Everything stays on 127.0.0.1; the run is bounded by --timeout (default 300 s), and supportd
is stopped (SIGTERM, then SIGKILL after 10 s) whatever happens.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import base64

PAGES = [
    # (file name, path, what to do on the page before the capture)
    ("satisfaction", "/satisfaction", "pick-agent"),
    ("response-times", "/response-times", None),
    ("response-times-business", "/response-times?clock=business", None),
    ("queues", "/queues", None),
    ("agents", "/agents", None),
    # A click on an SLA compliance bar lists the tickets behind it; a click on a ticket there
    # shows its clocks explained.
    ("response-times-tickets", "/response-times", "drill-down"),
    ("ticket-clocks", "/response-times", "clock-explanation"),
    # The What if form, prefilled; submitted with a longer urgent first-reply target; and a
    # mistake in the form, shown with the form again.
    ("what-if-form", "/what-if", None),
    ("what-if-result", "/what-if", "run-what-if"),
    ("what-if-error", "/what-if", "what-if-mistake"),
]
DESKTOP = (1280, 800)
PHONE = (390, 844)


def log(message):
    print(f"[dashboard-screenshots] {message}", flush=True)


def ensure_dependencies():
    """Installs chromium, chromium-driver (apt) and selenium (pip) when missing."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        log("installing chromium and chromium-driver with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update"], check=True, env=env)
        subprocess.run(sudo + ["apt-get", "install", "-y", "chromium", "chromium-driver"], check=True, env=env)
    try:
        import selenium  # noqa: F401
    except ImportError:
        log("installing selenium with pip")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "selenium"], check=True)


def find_supportd(explicit):
    if explicit:
        return explicit
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for scratch in (".build-dashboard", ".build"):
        for config in ("debug", "release"):
            candidate = os.path.join(root, scratch, config, "supportd")
            if os.access(candidate, os.X_OK):
                return candidate
    sys.exit("supportd not found: build it (swift build --product supportd) or pass --supportd PATH")


def start_supportd(binary, data_dir, deadline, capacity):
    """Starts supportd --demo on a free port; returns (process, base URL)."""
    command = [binary, "--data-dir", data_dir, "--host", "127.0.0.1", "--port", "0", "--demo", "--log-level", "warning"]
    if capacity:
        policy = os.path.join(os.path.dirname(data_dir), "policy.json")
        with open(policy, "w") as f:
            json.dump({"capacity": capacity}, f)
        command += ["--policy", policy]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    pattern = re.compile(r"supportd listening on (http://127\.0\.0\.1:\d+)")
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                sys.exit(f"supportd exited with {process.returncode} before listening")
            continue
        # Never echo token lines.
        if not re.search(r"[0-9a-f]{64}", line):
            log("supportd: " + line.rstrip())
        match = pattern.search(line)
        if match:
            # Keep draining its output so that it never blocks on a full pipe.
            import threading
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process, match.group(1)
    stop(process)
    sys.exit("supportd did not start in time")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def manager_token(data_dir):
    with open(os.path.join(data_dir, "tokens.json")) as f:
        tokens = json.load(f)["tokens"]
    return next(t["token"] for t in tokens if t["role"] == "manager")


def make_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-domain-reliability", "--disable-extensions",
                 "--metrics-recording-only", "--password-store=basic",
                 # Only loopback: any other host name fails to resolve.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    service = Service(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


def set_viewport(driver, size, mobile):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile})


def capture(driver, path, full):
    params = {"format": "png"}
    if full:
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        params.update({"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    data = driver.execute_cdp_cmd("Page.captureScreenshot", params)["data"]
    with open(path, "wb") as f:
        f.write(base64.b64decode(data))


def check_page(driver, base, token):
    """The URL never holds the token, and nothing was loaded from anywhere but supportd."""
    assert token not in driver.current_url, "the token is in the URL"
    assert token not in driver.page_source, "the token is in the page"
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    foreign = [r for r in resources if not r.startswith(base) and not r.startswith("data:")]
    assert not foreign, f"loaded from elsewhere: {foreign}"
    assert driver.execute_script("return document.scripts.length") == 0, "the page carries a script"
    svgs = driver.execute_script("return document.querySelectorAll('svg.chart').length")
    return svgs


def drill_down(driver, base, By, WebDriverWait):
    """Clicks the first SLA compliance bar shown (the SVG link around it) and waits for the list."""
    bars = [a for a in driver.find_elements(By.CSS_SELECTOR, "svg[data-chart='sla'] a.drill") if a.is_displayed()]
    assert bars, "no SLA compliance bar links to its tickets"
    bars[0].click()
    WebDriverWait(driver, 30).until(lambda d: "/response-times/tickets?" in d.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "#tickets-table tbody tr")
    assert rows, "the list behind a bar is empty"
    outcomes = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
    ranks = [0 if o.startswith("Breached") else 1 if o == "Achieved" else 2 for o in outcomes]
    assert ranks == sorted(ranks), f"not breached first, then achieved: {outcomes}"
    summary = driver.find_element(By.ID, "tickets-summary").text
    assert summary.split(": ")[1].startswith(f"{len(rows)} value"), f"{summary} for {len(rows)} rows"
    return len(rows)


def clock_explanation(driver, base, By, WebDriverWait):
    """From a bar's list, opens the first ticket's clock explanation."""
    drill_down(driver, base, By, WebDriverWait)
    link = driver.find_element(By.CSS_SELECTOR, "#tickets-table tbody a[href^='/tickets/']")
    ticket = link.text
    link.click()
    WebDriverWait(driver, 30).until(lambda d: re.search(r"/tickets/[^/]+/sla$", d.current_url))
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert heading == f"Clocks of ticket {ticket}", heading
    assert driver.find_elements(By.CSS_SELECTOR, "#intervals-table tbody tr"), "no interval explained"
    return ticket


def run_what_if(driver, base, By, WebDriverWait, mistake=False):
    """Submits the What if form: a 2 h urgent first-reply target, or a Monday that ends before it starts."""
    field = driver.find_element(By.NAME, "mon" if mistake else "urgent.firstReply")
    field.clear()
    field.send_keys("19:00-08:00" if mistake else "7200")
    driver.find_element(By.CSS_SELECTOR, "form.whatif button[name='run']").click()
    WebDriverWait(driver, 120).until(lambda d: "run=1" in d.current_url)
    errors = driver.find_elements(By.ID, "whatif-error")
    if mistake:
        assert errors and errors[0].text.startswith("Monday hours:"), "no clear message for a wrong Monday"
        assert driver.find_element(By.NAME, "mon").get_attribute("value") == "19:00-08:00", "the form lost the input"
        return errors[0].text
    assert not errors, errors[0].text if errors else ""
    charts = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart-wide')).map(s => s.dataset.chart)")
    assert charts == ["whatif-compliance", "whatif-first-reply-weekly", "whatif-first-reply"], charts
    series = set(driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart-wide[data-chart=whatif-compliance] rect.bar'))"
        ".map(r => r.dataset.series)"))
    assert series == {"Current", "Proposed"}, series
    return "both policies"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="folder for the PNG files (created)")
    parser.add_argument("--supportd", help="path of the supportd binary (default: the package's build folder)")
    parser.add_argument("--timeout", type=int, default=300, help="overall time limit in seconds (default 300)")
    parser.add_argument("--capacity", type=int, default=8,
                        help="agent capacity of the policy (default 8, so that some agents show as overloaded; 0: the default 25)")
    args = parser.parse_args()

    ensure_dependencies()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def expired(*_):
        raise TimeoutError(f"time limit of {args.timeout} s reached")
    signal.signal(signal.SIGALRM, expired)
    signal.alarm(args.timeout)
    deadline = time.monotonic() + args.timeout

    os.makedirs(args.output, exist_ok=True)
    binary = find_supportd(args.supportd)
    work = tempfile.mkdtemp(prefix="ledgerdesk-dashboard-")
    data_dir = os.path.join(work, "data")
    process, driver = None, None
    try:
        process, base = start_supportd(binary, data_dir, deadline, args.capacity)
        log(f"supportd is up at {base}")
        token = manager_token(data_dir)
        driver = make_driver()
        set_viewport(driver, DESKTOP, mobile=False)

        # Sign in as a manager would: the form, the token pasted in the password field.
        driver.get(base + "/")
        WebDriverWait(driver, 30).until(lambda d: d.find_elements(By.ID, "token"))
        capture(driver, os.path.join(args.output, "login-desktop.png"), full=False)
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(base + "/satisfaction"))
        cookie = driver.get_cookie("ledgerdesk_session")
        assert cookie and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict", f"session cookie: {cookie}"
        log("signed in as the manager")

        written = []
        for name, path, action in PAGES:
            for device, size, mobile in (("desktop", DESKTOP, False), ("phone", PHONE, True)):
                set_viewport(driver, size, mobile)
                driver.get(base + path)
                if action == "drill-down":
                    log(f"{name} ({device}): {drill_down(driver, base, By, WebDriverWait)} values behind the bar")
                elif action == "clock-explanation":
                    log(f"{name} ({device}): ticket {clock_explanation(driver, base, By, WebDriverWait)}")
                elif action in ("run-what-if", "what-if-mistake"):
                    log(f"{name} ({device}): {run_what_if(driver, base, By, WebDriverWait, mistake=action == 'what-if-mistake')}")
                elif action == "pick-agent":
                    # Pick the first agent in the picker and submit the form, as a person would.
                    select = Select(driver.find_element(By.NAME, "agent"))
                    agents = [o.get_attribute("value") for o in select.options if o.get_attribute("value")]
                    if agents:
                        select.select_by_value(agents[0])
                        driver.find_element(By.CSS_SELECTOR, "form.controls button[type=submit]").click()
                        WebDriverWait(driver, 30).until(lambda d: "agent=" in d.current_url)
                svgs = check_page(driver, base, token)
                for full in (False, True):
                    file = os.path.join(args.output, f"{name}-{device}{'-full' if full else ''}.png")
                    capture(driver, file, full)
                    written.append(file)
                log(f"{name} ({device}): {svgs} chart SVGs, saved")

        # A CSV download answers with the browser's session cookie.
        import urllib.request
        session = driver.get_cookie("ledgerdesk_session")["value"]
        request = urllib.request.Request(base + "/queues.csv?chart=queue-table",
                                         headers={"Cookie": f"ledgerdesk_session={session}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            lines = answer.read().decode().splitlines()
        log(f"queue CSV: {lines[0]} ({len(lines) - 1} rows)")

        # Signing out ends the session.
        set_viewport(driver, DESKTOP, mobile=False)
        driver.get(base + "/queues")
        driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        WebDriverWait(driver, 30).until(lambda d: "/login" in d.current_url)
        driver.get(base + "/queues")
        assert "/login" in driver.current_url, "still signed in after signing out"
        log(f"signed out; {len(written)} pictures in {args.output}")
    finally:
        if driver is not None:
            driver.quit()
        if process is not None:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
        signal.alarm(0)


if __name__ == "__main__":
    main()

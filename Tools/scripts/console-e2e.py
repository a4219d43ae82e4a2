#!/usr/bin/env python3
"""The agent console end to end in headless Chromium (Selenium 4, Debian's chromium and chromedriver).

    Tools/scripts/console-e2e.py --base http://127.0.0.1:PORT --tokens DATA/tokens.json \
        [--screenshots DIR] [--first N] [--counts FILE] [--work DIR]

Run by Tools/scripts/console-e2e.sh against a supportd started with --demo (agents amelie and
bruno, auditor audrey). Each step is a named check printed as `console-e2e: ok N - name` or
`console-e2e: FAILED N - name: reason`; a failed step that later steps depend on ends the run
(the page's screenshot and source go to --work). The phone overflow checks do not end it.
Prints `console-e2e: P passed, F failed` (or, with --counts, writes "P F" there for the wrapper)
and exits 1 when anything failed.
"""

import argparse
import json
import os
import re
import secrets
import sys
import time
import traceback
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 800)
PHONE = (390, 844)
SESSION_COOKIE = "ledgerdesk_session"


class CheckFailed(Exception):
    pass


class Stop(Exception):
    """A critical check failed: the steps after it cannot run."""


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


class Run:
    def __init__(self, args):
        self.args = args
        self.base = args.base.rstrip("/")
        self.passed = 0
        self.failed = 0
        self.number = args.first
        self.drivers = []
        with open(args.tokens) as f:
            self.tokens = {(t["role"], t["id"]): t["token"] for t in json.load(f)["tokens"]}
        self.screenshots = args.screenshots
        os.makedirs(self.screenshots, exist_ok=True)
        self.work = args.work or self.screenshots
        self.marker = secrets.token_hex(3)
        self.documents = []

    # --- Reporting ------------------------------------------------------------------------------

    def check(self, name, function, critical=True):
        """Runs one named check; returns what `function` returns (None when it failed)."""
        self.number += 1
        try:
            result = function()
        except (CheckFailed, WebDriverException, AssertionError, KeyError, ValueError, OSError) as error:
            self.failed += 1
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            print(f"console-e2e: FAILED {self.number} - {name}: {reason}", flush=True)
            if not isinstance(error, CheckFailed):
                traceback.print_exc(file=sys.stderr)
            self.dump(f"failed-{self.number}")
            if critical:
                raise Stop() from error
            return None
        self.passed += 1
        detail = f" ({result})" if isinstance(result, str) and result else ""
        print(f"console-e2e: ok {self.number} - {name}{detail}", flush=True)
        return result

    def dump(self, name):
        """The current page of every open browser, for a failure: its screenshot, source and URL."""
        for index, driver in enumerate(self.drivers):
            try:
                stem = os.path.join(self.work, f"{name}-{index}")
                driver.save_screenshot(stem + ".png")
                with open(stem + ".html", "w") as f:
                    f.write(driver.page_source)
                text = driver.find_element(By.TAG_NAME, "body").text
                print(f"--- browser {index} at {driver.current_url} (saved {stem}.png/.html):", file=sys.stderr)
                print("\n".join(text.splitlines()[:25]), file=sys.stderr)
            except WebDriverException:
                pass

    # --- The browser ----------------------------------------------------------------------------

    def browser(self, javascript=True):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars", "--disable-popup-blocking",
                         f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=en-GB"):
            options.add_argument(argument)
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        # The performance log carries the HTTP status and headers of each page (Network.responseReceived),
        # the browser log its console (script errors, CSP violations).
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(30)
        self.drivers.append(driver)
        self.viewport(driver, DESKTOP)
        return driver

    @staticmethod
    def viewport(driver, size, mobile=False):
        width, height = size
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})

    def close(self):
        for driver in self.drivers:
            try:
                driver.quit()
            except WebDriverException:
                pass

    def url(self, path):
        return self.base + path

    def statuses(self, driver):
        """The (url, status) of each document answered since the last call (all kept in self.documents)."""
        found = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.responseReceived" and message["params"].get("type") == "Document":
                response = message["params"]["response"]
                found.append((response["url"], response["status"]))
                headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
                self.documents.append((response["url"], response["status"], headers))
        return found

    def last_status(self, driver):
        found = self.statuses(driver)
        expect(found, "no document was loaded")
        return found[-1][1]

    @staticmethod
    def path(driver):
        parsed = urllib.parse.urlsplit(driver.current_url)
        return parsed.path + ("?" + parsed.query if parsed.query else "")

    @staticmethod
    def one(driver, selector):
        try:
            return driver.find_element(By.CSS_SELECTOR, selector)
        except NoSuchElementException:
            raise CheckFailed(f"no {selector} on {driver.current_url}") from None

    @staticmethod
    def submit(driver, form):
        """Clicks the form's submit button and waits for the next page."""
        old = driver.find_element(By.TAG_NAME, "html")
        buttons = form.find_elements(By.CSS_SELECTOR, "button[type=submit], input[type=submit], button:not([type])")
        expect(buttons, f"form {form.get_attribute('id') or form.get_attribute('action')} has no submit button")
        buttons[0].click()
        WebDriverWait(driver, 30).until(lambda d: Run.stale(old))

    @staticmethod
    def stale(element):
        try:
            element.tag_name
            return False
        except WebDriverException:
            return True

    def get(self, driver, path):
        self.statuses(driver)
        driver.get(self.url(path))

    @staticmethod
    def state(driver):
        """The ticket page's state: <section id="ticket-state"> <dl> as {dt text: dd text}."""
        section = Run.one(driver, "#ticket-state")
        terms = [t.text.strip().rstrip(":") for t in section.find_elements(By.CSS_SELECTOR, "dl dt")]
        values = [d.text.strip() for d in section.find_elements(By.CSS_SELECTOR, "dl dd")]
        expect(terms and len(terms) == len(values), "#ticket-state has no <dl> of dt/dd pairs")
        return dict(zip(terms, values))

    @staticmethod
    def field(state, name):
        for term, value in state.items():
            if term.lower() == name.lower():
                return value
        raise CheckFailed(f"#ticket-state has no {name} (has {', '.join(state)})")

    @staticmethod
    def waiting(driver, row):
        """The Waiting column of a #team-queues row (found by the table's header), as a number."""
        table = row.find_element(By.XPATH, "./ancestor::table[1]")
        headers = [h.text.strip().lower() for h in table.find_elements(By.CSS_SELECTOR, "thead th")]
        expect("waiting" in headers, f"#team-queues has no Waiting column (has {headers})")
        cells = row.find_elements(By.XPATH, "./th|./td")
        return int(re.sub(r"\D", "", cells[headers.index("waiting")].text) or 0)

    def sign_in(self, driver, role, principal):
        self.get(driver, "/console/login")
        form = self.one(driver, "form#signin")
        self.one(driver, "#token").send_keys(self.tokens[(role, principal)])
        self.submit(driver, form)

    @staticmethod
    def session_cookie(driver):
        return driver.get_cookie(SESSION_COOKIE)

    # --- Screenshots ----------------------------------------------------------------------------

    def shoot(self, driver, name):
        """Desktop and phone screenshots of the current page; the phone's horizontal overflow is a check."""
        self.viewport(driver, DESKTOP)
        # From the top of the page, no field focused (what a person sees on arriving).
        driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
        time.sleep(0.2)
        path = os.path.join(self.screenshots, f"{name}-desktop.png")
        expect(driver.save_screenshot(path), f"could not save {path}")
        self.viewport(driver, PHONE, mobile=True)
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.2)
        path = os.path.join(self.screenshots, f"{name}-phone.png")
        expect(driver.save_screenshot(path), f"could not save {path}")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        self.viewport(driver, DESKTOP)

        def fits():
            expect(width <= PHONE[0] + 1, f"{self.path(driver)} is {width} px wide at {PHONE[0]} px")
            return f"scrollWidth {width}"

        self.check(f"screenshots of {name} (desktop, phone); no horizontal overflow at {PHONE[0]} px", fits,
                   critical=False)

    # --- The API (for the log check) ------------------------------------------------------------

    def api(self, path, role, principal):
        request = urllib.request.Request(self.url(path), headers={
            "Authorization": "Bearer " + self.tokens[(role, principal)], "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    # --- The scenario ---------------------------------------------------------------------------

    def scenario(self):
        browser = self.browser()
        run = {}

        def sign_in_page():
            self.get(browser, "/console/login")
            expect(self.last_status(browser) == 200, "GET /console/login is not 200")
            form = self.one(browser, "form#signin")
            expect(form.get_attribute("method").lower() == "post", "the sign-in form is not POST")
            expect(urllib.parse.urlsplit(form.get_attribute("action")).path == "/console/login",
                   f"the sign-in form posts to {form.get_attribute('action')}")
            token = self.one(browser, "#token")
            expect(token.get_attribute("type") == "password", "#token is not a password field")
            expect(browser.find_elements(By.CSS_SELECTOR, "label[for=token]"), "#token has no <label for=token>")

        self.check("GET /console/login shows the sign-in form (#signin, #token type=password, labelled)", sign_in_page)

        def auditor_refused():
            self.sign_in(browser, "auditor", "audrey")
            status = self.last_status(browser)
            expect(status == 403, f"the auditor's sign-in answered {status}")
            expect(self.session_cookie(browser) is None, "a session cookie was set for the auditor")
            self.get(browser, "/console/queue")
            expect(self.path(browser).startswith("/console/login"), f"/console/queue went to {self.path(browser)}")
            return "403, no cookie, /console/queue still sends to the sign-in page"

        self.check("an auditor's token is refused", auditor_refused)

        def amelie_signs_in():
            self.sign_in(browser, "agent", "amelie")
            expect(self.path(browser) == "/console/queue", f"signing in landed on {self.path(browser)}")
            cookie = self.session_cookie(browser)
            expect(cookie is not None, f"no {SESSION_COOKIE} cookie")
            expect(cookie.get("httpOnly") is True, "the session cookie is not HttpOnly")
            expect(cookie.get("sameSite") == "Strict", f"the session cookie is SameSite={cookie.get('sameSite')}")
            header = self.one(browser, "header.top").text
            expect("amelie" in header and "agent" in header, f"the header does not name amelie (agent): {header!r}")
            return "303 to /console/queue, HttpOnly SameSite=Strict cookie"

        self.check("amelie signs in through the form", amelie_signs_in)

        def my_queue():
            for selector in ("#my-queue", "#team-queues", "#evaluated"):
                self.one(browser, selector)
            expect("Evaluated at" in self.one(browser, "#evaluated").text, "#evaluated does not say when")
            # A meta refresh (it may stand in <noscript>, where the script refreshes the queue in place).
            expect(any('content="30' in m for m in re.findall(r'<meta[^>]*http-equiv="refresh"[^>]*>', browser.page_source)), "no meta refresh of 30 s")
            teams = browser.find_elements(By.CSS_SELECTOR, "#team-queues tr[data-team]")
            expect(teams, "#team-queues lists no team")
            mine = [r.get_attribute("data-ticket") for r in browser.find_elements(By.CSS_SELECTOR, "#my-queue tr[data-ticket]")]
            # The demo desk gives amelie tickets awaiting her: the first goes to bruno at the hand-off.
            expect(mine, "amelie's queue is empty")
            run["queued"] = mine[0]
            return f"{len(mine)} in my queue, {len(teams)} teams"

        self.check("My queue shows #my-queue, #team-queues and #evaluated (refreshing every 30 s)", my_queue)
        self.shoot(browser, "queue")

        def pick_team():
            for row in browser.find_elements(By.CSS_SELECTOR, "#team-queues tr[data-team]"):
                waiting = self.waiting(browser, row)
                forms = row.find_elements(By.CSS_SELECTOR, "form.take-next")
                if waiting > 0 and forms:
                    run["team"] = row.get_attribute("data-team")
                    run["waiting"] = waiting
                    return f"{run['team']}, {waiting} waiting"
            raise CheckFailed("no team queue with waiting tickets and a Take next form")

        self.check("a team queue has waiting tickets and a Take next form", pick_team)

        def team_queue_page():
            entries = self.api(f"/v1/queues/{urllib.parse.quote(run['team'])}", "agent", "amelie")["entries"]
            unassigned = [e["id"] for e in entries if e["assignee"] is None]
            expect(unassigned, f"GET /v1/queues/{run['team']} has no unassigned ticket")
            run["head"] = unassigned[0]
            self.get(browser, f"/console/queues/{run['team']}")
            shown = [r.get_attribute("data-ticket") for r in browser.find_elements(By.CSS_SELECTOR, "#team-queue tr[data-ticket]")]
            expected = [e["id"] for e in entries]
            expect(shown == expected, f"/console/queues/{run['team']} lists {shown[:5]}..., the API {expected[:5]}...")
            return f"{len(shown)} tickets, first unassigned {run['head']}"

        self.check("the team queue page (#team-queue) lists the API's queue in its order", team_queue_page, critical=False)

        def take_next():
            self.get(browser, "/console/queue")
            row = self.one(browser, f"#team-queues tr[data-team='{run['team']}']")
            form = row.find_element(By.CSS_SELECTOR, "form.take-next")
            expect(form.find_elements(By.CSS_SELECTOR, "input[type=hidden][name=csrf]"), "Take next has no csrf field")
            expect(form.find_elements(By.CSS_SELECTOR, "input[type=hidden][name=key]"), "Take next has no key field")
            self.submit(browser, form)
            match = re.fullmatch(r"/console/tickets/([^/?]+)\?done=claimed", self.path(browser))
            expect(match, f"Take next landed on {self.path(browser)}")
            run["ticket"] = urllib.parse.unquote(match.group(1))
            self.one(browser, "#flash")
            state = self.state(browser)
            expect(self.field(state, "Assignee") == "amelie", f"the assignee reads {self.field(state, 'Assignee')!r}")
            run["claimed_version"] = int(re.sub(r"\D", "", self.field(state, "Version")))
            run["customer"] = self.field(state, "Customer")
            run["priority"] = self.field(state, "Priority")
            return f"{run['ticket']} of {run['team']}, version {run['claimed_version']}"

        self.check("Take next lands on the claimed ticket with #flash, assignee amelie", take_next)

        def claimed_head():
            expect(run["ticket"] == run.get("head"), f"claimed {run['ticket']}, the queue's first unassigned was {run.get('head')}")

        self.check("the claimed ticket is the team queue's first unassigned ticket", claimed_head, critical=False)
        ticket = run["ticket"]
        ticket_path = f"/console/tickets/{urllib.parse.quote(ticket)}"

        reply = f"We are looking at it now ({self.marker})."

        def reply_with_status():
            form = self.one(browser, "form#form-reply")
            version = form.find_element(By.CSS_SELECTOR, "input[name=version]").get_attribute("value")
            expect(version == str(run["claimed_version"]), f"form-reply carries version {version}")
            self.one(browser, "#reply-body").send_keys(reply)
            Select(self.one(browser, "#reply-status")).select_by_value("pending")
            self.submit(browser, form)
            expect(self.path(browser) == f"{ticket_path}?done=reply", f"the reply landed on {self.path(browser)}")
            self.one(browser, "#flash")
            entries = browser.find_elements(By.CSS_SELECTOR, "#thread > li")
            expect(entries, "#thread is empty")
            last = entries[-1]
            classes = last.get_attribute("class").split()
            expect("message" in classes and "entry" in classes, f"the thread's last entry is {classes}")
            body = last.find_element(By.CSS_SELECTOR, ".body").text
            expect(body.strip() == reply, f"the thread's last message reads {body!r}")
            status = self.field(self.state(browser), "Status")
            expect(status.lower().replace(" ", "_") == "pending", f"the status reads {status!r}")

        self.check("a reply with status pending ends the thread and the ticket is pending", reply_with_status)

        note = f"Customer is on the legacy pool ({self.marker})."

        def add_note():
            self.one(browser, "#note-body").send_keys(note)
            # A double click: the same form (same key) is sent twice, the first copy into a second
            # window, then the page's own.
            first = browser.current_window_handle
            handles = set(browser.window_handles)
            browser.execute_script("""
                const form = document.getElementById('form-note');
                const copy = form.cloneNode(true);
                copy.id = 'form-note-copy';
                copy.target = 'double-click';
                copy.style.display = 'none';
                copy.querySelector('textarea').value = form.querySelector('textarea').value;
                document.body.append(copy);
                HTMLFormElement.prototype.submit.call(copy);""")
            WebDriverWait(browser, 30).until(lambda d: len(set(d.window_handles) - handles) == 1)
            browser.switch_to.window((set(browser.window_handles) - handles).pop())
            WebDriverWait(browser, 30).until(lambda d: "?done=" in d.current_url)
            expect(self.path(browser) == f"{ticket_path}?done=note", f"the first copy landed on {self.path(browser)}")
            browser.close()
            browser.switch_to.window(first)
            self.submit(browser, self.one(browser, "form#form-note"))
            expect(self.path(browser).startswith(f"{ticket_path}?done="), f"the second copy landed on {self.path(browser)}")
            self.one(browser, "#flash")
            notes = browser.find_elements(By.CSS_SELECTOR, "#thread li.entry.note")
            expect(notes and notes[-1].find_element(By.CSS_SELECTOR, ".body").text.strip() == note,
                   "the note is not the thread's last li.entry.note")
            bodies = [n.find_element(By.CSS_SELECTOR, ".body").text.strip() for n in notes]
            expect(bodies.count(note) == 1, f"the note is in the thread {bodies.count(note)} times")
            return f"the second copy landed on {self.path(browser)}"

        self.check("an internal note sent twice with the same key (a double click) appears once as li.entry.note", add_note)

        stale_note = f"Checked the logs, nothing since ({self.marker})."

        def changed_meanwhile():
            # The page open in the first tab is now stale once the second tab changes the priority.
            first = browser.current_window_handle
            browser.switch_to.new_window("tab")
            self.get(browser, ticket_path)
            current = self.field(self.state(browser), "Priority").lower()
            run["new_priority"] = "urgent" if current != "urgent" else "high"
            Select(self.one(browser, "select#priority")).select_by_value(run["new_priority"])
            self.submit(browser, self.one(browser, "form#form-priority"))
            expect(self.path(browser) == f"{ticket_path}?done=priority", f"the priority landed on {self.path(browser)}")
            browser.close()
            browser.switch_to.window(first)
            self.statuses(browser)
            self.one(browser, "#note-body").send_keys(stale_note)
            self.submit(browser, self.one(browser, "form#form-note"))
            status = self.last_status(browser)
            expect(status == 409, f"the stale note answered {status}")
            error = self.one(browser, "#form-note-error").text
            expect("changed" in error, f"#form-note-error reads {error!r}")
            kept = self.one(browser, "#note-body").get_attribute("value")
            expect(kept == stale_note, f"#note-body holds {kept!r}")
            shown = self.field(self.state(browser), "Priority").lower()
            expect(shown == run["new_priority"], f"the 409 page shows priority {shown!r}")
            version = self.one(browser, "form#form-note input[name=version]").get_attribute("value")
            current = re.sub(r"\D", "", self.field(self.state(browser), "Version"))
            expect(version == current, f"the 409 page's note form carries version {version}, the ticket is at {current}")
            return f"409, {error!r}"

        self.check("a note from a stale page is refused with #form-note-error, the new state shown and the text kept",
                   changed_meanwhile)

        def resubmit():
            self.submit(browser, self.one(browser, "form#form-note"))
            expect(self.path(browser) == f"{ticket_path}?done=note", f"the resubmitted note landed on {self.path(browser)}")
            bodies = [n.text.strip() for n in browser.find_elements(By.CSS_SELECTOR, "#thread li.entry.note .body")]
            expect(bodies.count(stale_note) == 1, f"the note is in the thread {bodies.count(stale_note)} times")

        self.check("submitting the kept note again goes through, once", resubmit)
        self.shoot(browser, "ticket")

        handoff_note = f"Shift change: waiting for the customer ({self.marker})."

        def handoff_page():
            self.get(browser, "/console/handoff")
            self.one(browser, "form#form-handoff")
            for chosen in (ticket, run["queued"]):
                box = self.one(browser, f"#handoff-{chosen}")
                expect(box.get_attribute("type") == "checkbox", f"#handoff-{chosen} is not a checkbox")
                box.click()
            self.one(browser, "#target-agent").click()
            self.one(browser, "#handoff-agent").send_keys("bruno")
            self.one(browser, "#handoff-note").send_keys(handoff_note)
            rows = browser.find_elements(By.CSS_SELECTOR, "#handoff-tickets tr[data-ticket]")
            return f"{len(rows)} open tickets listed, {ticket} and {run['queued']} ticked"

        self.check("the hand-off page lists amelie's open tickets; tick the claimed one and one of her queue, bruno, a note",
                   handoff_page)
        self.shoot(browser, "handoff")

        def handoff():
            self.submit(browser, self.one(browser, "form#form-handoff"))
            results = self.one(browser, "#handoff-results")
            items = results.find_elements(By.CSS_SELECTOR, "li[data-ticket]")
            listed = sorted(i.get_attribute("data-ticket") for i in items)
            expect(listed == sorted([ticket, run["queued"]]), f"#handoff-results lists {listed}")
            for item in items:
                expect("ok" in item.get_attribute("class").split(), f"the hand-off of {item.get_attribute('data-ticket')}: {item.text!r}")
            return " ".join(i.text for i in items)

        self.check("the hand-off to bruno succeeds (#handoff-results li.ok)", handoff)

        def sign_out():
            forms = [f for f in browser.find_elements(By.CSS_SELECTOR, "header.top form")
                     if urllib.parse.urlsplit(f.get_attribute("action")).path == "/console/logout"]
            expect(forms, "no sign-out form in the header")
            self.submit(browser, forms[0])
            expect(self.path(browser).startswith("/console/login"), f"signing out landed on {self.path(browser)}")
            expect(self.session_cookie(browser) is None, "the session cookie is still set")
            self.get(browser, "/console/queue")
            expect(self.path(browser).startswith("/console/login"), "the queue is still shown after signing out")

        self.check("amelie signs out", sign_out)

        def bruno_has_it():
            self.sign_in(browser, "agent", "bruno")
            expect(self.path(browser) == "/console/queue", f"signing in landed on {self.path(browser)}")
            queued = run["queued"]
            row = self.one(browser, f"#my-queue tr[data-ticket='{queued}']")
            link = row.find_element(By.CSS_SELECTOR, "td a, th a")
            expect(urllib.parse.urlsplit(link.get_attribute("href")).path == f"/console/tickets/{queued}", "the row's link")
            # The claimed ticket is pending (awaiting the customer): not in a queue (SPEC 5), but
            # among bruno's open tickets on his hand-off page.
            expect(not browser.find_elements(By.CSS_SELECTOR, f"#my-queue tr[data-ticket='{ticket}']"),
                   f"the pending {ticket} is in bruno's queue")
            self.get(browser, "/console/handoff")
            self.one(browser, f"#handoff-tickets tr[data-ticket='{ticket}']")
            return f"{queued} in #my-queue, the pending {ticket} among his open tickets"

        self.check("bruno signs in; the handed-off tickets are his (#my-queue, hand-off list)", bruno_has_it)

        def find_by_id():
            self.get(browser, "/console/find")
            self.one(browser, "#find-id").send_keys(ticket)
            self.submit(browser, self.one(browser, "form#form-find"))
            expect(self.path(browser) == ticket_path, f"finding {ticket} landed on {self.path(browser)}")
            expect(self.field(self.state(browser), "Assignee") == "bruno", "the found ticket is not bruno's")

        self.check("Find by id lands on the ticket", find_by_id)

        def find_by_customer():
            self.get(browser, "/console/find")
            self.one(browser, "#find-customer").send_keys(run["customer"])
            self.submit(browser, self.one(browser, "form#form-find"))
            for page in range(20):
                self.one(browser, "#find-results")
                links = browser.find_elements(By.CSS_SELECTOR, f"#find-results a[href$='{ticket_path}']")
                if links:
                    return f"on page {page + 1}"
                following = browser.find_elements(By.CSS_SELECTOR, "#find-next")
                expect(following, f"#find-results of {run['customer']} does not list {ticket}")
                following[0].click()
            raise CheckFailed(f"{ticket} not on the first 20 pages")

        self.check("Find by customer lists the ticket in #find-results", find_by_customer)
        # The find page with the customer's tickets, for the screenshots.
        self.get(browser, "/console/find?customer=" + urllib.parse.quote(run["customer"]))
        self.shoot(browser, "find")

        def without_javascript():
            plain = self.browser(javascript=False)
            plain.get("data:text/html,<p id=probe>off</p><script>document.getElementById('probe').textContent='on'</script>")
            expect(plain.find_element(By.ID, "probe").text == "off", "JavaScript is not off in the second browser")
            self.sign_in(plain, "agent", "amelie")
            expect(self.path(plain) == "/console/queue", f"signing in without JavaScript landed on {self.path(plain)}")
            refresh = plain.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")
            expect(refresh and refresh[0].get_attribute("content").startswith("30"), "without JavaScript My queue does not refresh itself")
            # A team whose waiting tickets are all assigned already has nothing to take
            # ("done=empty"): Take next is tried on the next team with tickets waiting.
            tried, landed, match = [], None, None
            for _ in range(8):
                form = None
                for row in plain.find_elements(By.CSS_SELECTOR, "#team-queues tr[data-team]"):
                    team = row.get_attribute("data-team")
                    if team not in tried and self.waiting(plain, row) > 0 and row.find_elements(By.CSS_SELECTOR, "form.take-next"):
                        form = row.find_element(By.CSS_SELECTOR, "form.take-next")
                        tried.append(team)
                        break
                if form is None:
                    break
                self.submit(plain, form)
                landed = self.path(plain)
                match = re.fullmatch(r"/console/tickets/([^/?]+)\?done=claimed", landed)
                if match:
                    break
                self.get(plain, "/console/queue")
            expect(tried, "no team queue to take from")
            expect(match, f"Take next without JavaScript landed on {landed} (teams tried: {tried})")
            self.one(plain, "#flash")
            expect(self.field(self.state(plain), "Assignee") == "amelie", "the ticket is not amelie's")
            run["plain_ticket"] = urllib.parse.unquote(match.group(1))
            return f"claimed {run['plain_ticket']}"

        self.check("without JavaScript: sign in and Take next work", without_javascript)

        def the_log():
            history = self.api(f"/v1/tickets/{urllib.parse.quote(ticket)}/history", "auditor", "audrey")["events"]
            events = [h["event"] for h in history if h["event"]["version"] >= run["claimed_version"]]
            seen = [(e["type"], e["actor"]["kind"], e["actor"]["id"]) for e in events]
            amelie = ("agent", "amelie")
            expected = [("ticket.assigned", *amelie), ("message.posted", *amelie), ("status.changed", *amelie),
                        ("note.added", *amelie), ("priority.changed", *amelie), ("note.added", *amelie),
                        ("note.added", *amelie), ("ticket.assigned", *amelie)]
            expect(seen == expected, f"the events since the claim are {seen}")
            data = [e["data"] for e in events]
            expect(data[0].get("agent") == "amelie", f"the claim: {data[0]}")
            expect(data[1].get("body") == reply and data[2] == {"status": "pending"}, f"the reply: {data[1]}, {data[2]}")
            expect(events[1]["at"] == events[2]["at"], "the reply's message.posted and status.changed differ in at")
            expect(data[3].get("body") == note, f"the note: {data[3]}")
            expect(data[4] == {"priority": run["new_priority"]}, f"the priority: {data[4]}")
            expect(data[5].get("body") == stale_note, f"the resubmitted note: {data[5]}")
            expect(data[6].get("body") == handoff_note, f"the hand-off note: {data[6]}")
            expect(data[7].get("agent") == "bruno", f"the hand-off: {data[7]}")
            queued = self.api(f"/v1/tickets/{urllib.parse.quote(run['queued'])}/history", "auditor", "audrey")["events"]
            last = [(h["event"]["type"], h["event"]["actor"]["id"], h["event"]["data"]) for h in queued[-2:]]
            expect(last == [("note.added", "amelie", {"body": handoff_note}), ("ticket.assigned", "amelie", {"agent": "bruno"})],
                   f"the last events of {run['queued']}: {last}")
            return ", ".join(t for t, _, _ in seen) + f"; {run['queued']} ends with note.added, ticket.assigned"

        self.check("GET /v1/tickets/{id}/history holds exactly the events the API would have appended", the_log)

        def headers():
            self.statuses(browser)
            pages = [(url, headers) for url, _, headers in self.documents
                     if urllib.parse.urlsplit(url).path.startswith("/console")]
            expect(pages, "no console page was seen")
            for url, headers in pages:
                policy = headers.get("content-security-policy", "")
                for directive in ("default-src 'none'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'"):
                    expect(directive in policy, f"{url}: the CSP lacks {directive}: {policy!r}")
                expect("no-store" in headers.get("cache-control", ""), f"{url}: Cache-Control {headers.get('cache-control')!r}")
            return f"{len(pages)} pages"

        self.check("every console page carried the strict CSP and Cache-Control: no-store", headers, critical=False)

        def console_log():
            problems = []
            for driver in self.drivers:
                for entry in driver.get_log("browser"):
                    # The refusals the run provokes (403, 409) are logged as failed loads: expected.
                    if entry["level"] == "SEVERE" and "the server responded with a status of" not in entry["message"]:
                        problems.append(entry["message"])
            expect(not problems, f"{len(problems)} console errors, the first: {problems[:1]}")

        self.check("no script error or CSP violation in the browsers' consoles", console_log, critical=False)

    def main(self):
        try:
            self.scenario()
        except Stop:
            pass
        finally:
            self.close()
        if self.args.counts:
            with open(self.args.counts, "w") as f:
                f.write(f"{self.passed} {self.failed} {self.number}\n")
        else:
            print(f"console-e2e: {self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--screenshots", default=os.environ.get("CONSOLE_E2E_SCREENSHOTS", ".build/console-e2e"))
    parser.add_argument("--work")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--counts")
    return Run(parser.parse_args()).main()


if __name__ == "__main__":
    sys.exit(main())

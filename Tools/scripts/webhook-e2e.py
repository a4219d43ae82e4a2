#!/usr/bin/env python3
"""Signed webhooks end to end: the real supportd as a child process, a receiver on loopback.

    python3 Tools/scripts/webhook-e2e.py --supportd .build/debug/supportd [--keep]

Run by Tools/scripts/webhook-e2e.sh (which builds supportd when it is missing). Three scenarios,
each with its own temporary data directory and supportd (`--host 127.0.0.1 --port 0
--webhook-allow 127.0.0.0/8 --rate-limit 0`):

1. Crash: two endpoints registered by the admin (POST /v1/webhooks): one for every event with
   notes, one for three event types without notes. A few hundred commands are written; the
   receiver answers the first endpoint slowly and holds one of its deliveries while supportd is
   SIGKILLed; supportd restarts on the same data directory and more commands are written; the
   same again (a second SIGKILL while that endpoint is behind, a restart, more commands). Then,
   for each endpoint: every event of the ticket streams after its registration that it asked for
   (and nothing else) arrived at least once; per ticket, the first arrivals are the ticket's
   events in version order; a seq arriving again is a re-send with identical bytes; the delivery
   held at the kill arrived again; every body is byte for byte the envelope GET /v1/events
   writes; every signature (`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`) verifies
   with the registered secret and is within a 5-minute replay window. The secrets never appear in
   GET /v1/events; only admins may read /v1/webhooks.
2. Retries: a receiver answering 500 three times, then 200, gets the event (the same bytes
   each time), then the next one.
3. A slow endpoint: the receiver holds the first delivery until the test lets it go; meanwhile
   commands complete, and a second endpoint receives every event. Then the held one gets all.
   A redelivery (POST /v1/webhooks/{id}/redeliver) sends the events from its seq on again.
4. What may not be reached: ftp, file and userinfo URLs are refused at registration; a delivery
   to 169.254.169.254 is refused before connecting; a 302 is a failure, not followed. A removed
   endpoint is gone. An endpoint named by host name (localhost) receives. supportd stops on
   SIGTERM with exit 0 while an endpoint holds a delivery.

Nothing here is timed: every wait is a bounded poll (a bound exceeded is a failure). Prints one
line per step and ends with `webhook-e2e: N passed, M failed`; exits 1 when a step failed.
"""

import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

PASSED = 0
FAILED = 0
REPLAY_WINDOW = 300


def step(text):
    global PASSED
    PASSED += 1
    print(f"webhook-e2e: ok {PASSED} - {text}", flush=True)


def check(condition, text, detail=""):
    global FAILED
    if condition:
        step(text)
        return True
    FAILED += 1
    print(f"webhook-e2e: FAILED - {text}" + (f": {detail}" if detail else ""), flush=True)
    return False


class Abort(Exception):
    pass


def require(condition, text, detail=""):
    if not check(condition, text, detail):
        raise Abort(text)


def wait_until(predicate, limit, what):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise Abort(f"{what}: not within {limit} s")


# --- The receiver ---------------------------------------------------------------------------------


class Delivery:
    def __init__(self, index, path, headers, body, status, signature_ok, signature_detail):
        self.index = index
        self.path = path
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.body = body
        self.status = status
        self.signature_ok = signature_ok
        self.signature_detail = signature_detail
        self.seq = int(self.headers.get("x-ledgerdesk-delivery", "0") or "0")


def verify_signature(secret, header, body, now):
    """The recipe of docs/webhooks.md: t and v1 from the header; v1 = hex HMAC-SHA256 over "<t>." + body."""
    if not header:
        return False, "no X-Ledgerdesk-Signature"
    parts = {}
    signatures = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "v1":
            signatures.append(value)
        else:
            parts[key] = value
    t = parts.get("t", "")
    if not t.isdigit():
        return False, f"no timestamp in {header!r}"
    if abs(now - int(t)) > REPLAY_WINDOW:
        return False, f"timestamp {t} outside the replay window (now {int(now)})"
    expected = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        return False, f"v1 {signatures} != {expected}"
    return True, ""


class Sink:
    """One endpoint's URL path on the receiver and how it answers."""

    def __init__(self, name, secret, delay=0.0, fail_first=0, hold_all=False, redirect=None):
        self.name = name
        self.secret = secret
        self.delay = delay
        self.fail_first = fail_first
        self.hold_all = hold_all
        self.redirect = redirect  # every request answered 302 to this path
        self.armed = False  # when set, the next request is held until `resume` is set
        self.held = None
        self.release = threading.Event()
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.lock = threading.Lock()
        self.deliveries = []
        self.requests = 0
        self.answered = 0

    def seqs(self):
        with self.lock:
            return {d.seq for d in self.deliveries}

    def snapshot(self):
        with self.lock:
            return list(self.deliveries)


class Receiver:
    def __init__(self):
        self.sinks = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink = receiver.sinks.get(self.path)
                if sink is None:
                    self.answer(404)
                    return
                ok, detail = verify_signature(sink.secret, self.headers.get("X-Ledgerdesk-Signature"), body, time.time())
                with sink.lock:
                    sink.requests += 1
                    n = sink.requests
                    status = 500 if n <= sink.fail_first else 302 if sink.redirect else 200
                    sink.deliveries.append(Delivery(n, self.path, dict(self.headers.items()), body, status, ok, detail))
                    pause = sink.armed
                    if pause:
                        sink.armed = False
                        sink.held = sink.deliveries[-1].seq
                if pause:
                    sink.paused.set()
                    sink.resume.wait(60)
                if sink.hold_all:
                    sink.release.wait(120)
                if sink.delay:
                    time.sleep(sink.delay)
                self.answer(status, sink.redirect)
                with sink.lock:
                    sink.answered += 1

            def answer(self, status, location=None):
                try:
                    self.send_response(status)
                    if location:
                        self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # supportd is gone (SIGKILL): the delivery was received, not acknowledged

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, sink):
        self.sinks[f"/hook/{sink.name}"] = sink
        return f"http://127.0.0.1:{self.port}/hook/{sink.name}"

    def close(self):
        for sink in self.sinks.values():
            sink.release.set()
            sink.resume.set()
        self.server.shutdown()


# --- supportd -------------------------------------------------------------------------------------

TOKENS = {
    "admin": ("admin-e2e-token-0001", "admin", "root"),
    "agent": ("agent-e2e-token-0001", "agent", "amelie"),
    "auditor": ("auditor-e2e-token-0001", "auditor", "aud"),
}


class Supportd:
    running = []

    def __init__(self, binary, data, log):
        self.process = subprocess.Popen(
            [
                binary, "--data-dir", data, "--host", "127.0.0.1", "--port", "0", "--tokens", os.path.join(os.path.dirname(data), "tokens.json"),
                "--log-level", "warning", "--rate-limit", "0", "--webhook-allow", "127.0.0.0/8",
            ],
            stdout=subprocess.PIPE, stderr=log)
        Supportd.running.append(self.process)
        self.port = None
        found = threading.Event()

        def read():
            marker = b"supportd listening on http://127.0.0.1:"
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                if self.port is None and line.startswith(marker):
                    self.port = int(line[len(marker):].strip())
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        found.wait(120)
        if self.port is None:
            raise Abort(f"supportd did not report its port (exit {self.process.poll()})")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(30)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(30)

    def api(self, method, path, who, body=None, timeout=30):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {TOKENS[who][0]}", "Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method, path, who, body=None, expect=(200, 201), timeout=30):
        status, headers, data = self.api(method, path, who, body, timeout)
        if status not in expect:
            raise Abort(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None, headers

    def feed(self, after=0):
        """Every event after `after`, parsed, each with its raw bytes as GET /v1/events writes them."""
        events = []
        while True:
            answer, _ = self.json("GET", f"/v1/events?after={after}&limit=1000", "auditor")
            if not answer["events"]:
                return events
            events += answer["events"]
            after = answer["last"]

    def raw_envelope(self, seq):
        status, _, data = self.api("GET", f"/v1/events?after={seq - 1}&limit=1", "auditor")
        prefix, suffix = b'{"events":[', f'],"last":{seq}}}'.encode()
        if status != 200 or not data.startswith(prefix) or not data.endswith(suffix):
            raise Abort(f"GET /v1/events?after={seq - 1}&limit=1: {status} {data[:200]!r}")
        return data[len(prefix):-len(suffix)]


def write_tokens(work):
    tokens = [{"token": t, "role": role, "id": who} for (t, role, who) in TOKENS.values()]
    path = os.path.join(work, "tokens.json")
    with open(path, "w") as f:
        json.dump({"tokens": tokens}, f)
    os.chmod(path, 0o600)


# --- Commands -------------------------------------------------------------------------------------


def open_ticket(server, n):
    answer, _ = server.json("POST", "/v1/tickets", "agent", {
        "customer": f"c-{n}", "subject": f"Site down #{n}", "body": "HTTP 500 since the migration", "channel": "web",
        "product": "hosting", "priority": "normal"})
    return answer["id"]


def command(server, ticket, k):
    kind = k % 5
    if kind in (0, 1):
        server.json("POST", f"/v1/tickets/{ticket}/messages", "agent", {"body": f"Bonjour, étape {k} : nous avons vidé le cache."})
    elif kind == 2:
        server.json("POST", f"/v1/tickets/{ticket}/notes", "agent", {"body": f"Checked web-12 ({k}): OOM at 03:12."})
    elif kind == 3:
        server.json("POST", f"/v1/tickets/{ticket}/priority", "agent", {"priority": ["low", "normal", "high", "urgent"][k % 4]})
    else:
        server.json("POST", f"/v1/tickets/{ticket}/tags", "agent", {"added": [f"tag-{k % 7}"]})


def register(server, url, secret, **options):
    body = {"url": url, "secret": secret, **options}
    answer, headers = server.json("POST", "/v1/webhooks", "admin", body, expect=(201,))
    return answer, headers


# --- The checks on what a sink received --------------------------------------------------------------


def expected_events(feed, registered_seq, types=None, notes=True):
    chosen = []
    for event in feed:
        if event["seq"] <= registered_seq or event["ticket"].startswith("$"):
            continue
        if types is not None and event["type"] not in types:
            continue
        if event["type"] == "note.added" and not notes:
            continue
        chosen.append(event)
    return chosen


def check_sink(server, sink, webhook_id, expected, label):
    deliveries = sink.snapshot()
    expected_seqs = [e["seq"] for e in expected]
    received = {d.seq for d in deliveries}
    missing = sorted(set(expected_seqs) - received)
    unexpected = sorted(received - set(expected_seqs))
    check(not missing, f"{label}: every event it asked for arrived ({len(expected_seqs)} events, {len(deliveries)} requests)",
          f"missing seqs {missing[:20]}")
    check(not unexpected, f"{label}: nothing it did not ask for arrived", f"unexpected seqs {unexpected[:20]}")
    bad = [d for d in deliveries if not d.signature_ok]
    check(not bad, f"{label}: every signature verifies with the registered secret",
          "; ".join(f"seq {d.seq}: {d.signature_detail}" for d in bad[:5]))
    wrong_headers = [
        d for d in deliveries
        if d.headers.get("x-ledgerdesk-webhook") != webhook_id or not d.headers.get("content-type", "").startswith("application/json")
    ]
    check(not wrong_headers, f"{label}: X-Ledgerdesk-Webhook is {webhook_id}, Content-Type application/json",
          str([(d.seq, d.headers) for d in wrong_headers[:2]]))
    # Duplicates are re-sends of the same seq, byte for byte.
    first = {}
    differing = []
    for d in deliveries:
        if d.seq in first and first[d.seq].body != d.body:
            differing.append(d.seq)
        first.setdefault(d.seq, d)
    duplicates = len(deliveries) - len(first)
    check(not differing, f"{label}: a seq arriving again is a re-send with the same bytes ({duplicates} re-sends)",
          f"seqs {differing[:10]}")
    # In log order per endpoint: each new seq comes after every seq already received.
    order_breaks = []
    highest = 0
    for d in deliveries:
        if d.seq in first and first[d.seq] is d:
            if d.seq < highest:
                order_breaks.append((highest, d.seq))
            highest = max(highest, d.seq)
    check(not order_breaks, f"{label}: new seqs arrive in log order", str(order_breaks[:10]))
    # Per ticket, the first arrivals are the ticket's events in version order.
    by_ticket_expected = {}
    for e in expected:
        by_ticket_expected.setdefault(e["ticket"], []).append(e["version"])
    by_ticket_received = {}
    versions = {e["seq"]: (e["ticket"], e["version"]) for e in expected}
    for d in sorted(first.values(), key=lambda d: d.index):
        if d.seq in versions:
            ticket, version = versions[d.seq]
            by_ticket_received.setdefault(ticket, []).append(version)
    out_of_order = [t for t in by_ticket_expected if by_ticket_received.get(t) != by_ticket_expected[t]]
    check(not out_of_order, f"{label}: each ticket's events arrived in version order ({len(by_ticket_expected)} tickets)",
          "; ".join(f"{t}: got {by_ticket_received.get(t)} want {by_ticket_expected[t]}" for t in out_of_order[:3]))
    # Bodies: the envelope exactly as GET /v1/events writes it; X-Ledgerdesk-Event its type.
    types = {e["seq"]: e["type"] for e in expected}
    wrong_body = []
    for seq, d in sorted(first.items()):
        if seq not in types:
            continue
        if d.body != server.raw_envelope(seq) or d.headers.get("x-ledgerdesk-event") != types[seq]:
            wrong_body.append(seq)
    check(not wrong_body, f"{label}: every body is the envelope of GET /v1/events byte for byte, X-Ledgerdesk-Event its type",
          f"seqs {wrong_body[:10]}")
    return first


# --- Scenarios -----------------------------------------------------------------------------------


def crash_scenario(binary, root, receiver):
    work = tempfile.mkdtemp(prefix="crash-", dir=root)
    write_tokens(work)
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "supportd.log"), "ab")
    every = Sink("every", "every-secret-0123456789abcdef", delay=0.01)
    some = Sink("some", "some-secret-fedcba9876543210")
    every_url, some_url = receiver.add(every), receiver.add(some)

    server = Supportd(binary, data, log)
    step(f"supportd started on port {server.port} (data in {data})")
    status, _, _ = server.api("POST", "/v1/webhooks", "agent", {"url": every_url})
    check(status == 403, "an agent may not register a webhook (403)", str(status))
    early = open_ticket(server, 0)
    command(server, early, 0)
    a, a_headers = register(server, every_url, every.secret, notes=True)
    b, _ = register(server, some_url, some.secret, events=["ticket.opened", "message.posted", "note.added"])
    require(str(a.get("id", "")).startswith("W-") and a.get("secret") == every.secret,
            f"POST /v1/webhooks answers 201 with the endpoint and its secret ({a.get('id')})", str(a))
    check(a_headers.get("Location", "").endswith(f"/v1/webhooks/{a['id']}"), "the answer's Location names the endpoint",
          str(a_headers.get("Location")))
    listed, _ = server.json("GET", "/v1/webhooks", "admin")
    check(every.secret not in json.dumps(listed) and a["id"] in json.dumps(listed),
          "GET /v1/webhooks lists the endpoints without their secrets", json.dumps(listed)[:300])
    status, _, _ = server.api("GET", "/v1/webhooks", "auditor")
    check(status == 403, "an auditor may not read /v1/webhooks (403)", str(status))

    feed = server.feed()
    registrations = {e["data"].get("id"): e["seq"] for e in feed if e["type"] == "webhook.registered"}
    require(a["id"] in registrations and b["id"] in registrations and all(e["ticket"] == "$webhooks" for e in feed
                                                                          if e["type"].startswith("webhook.")),
            "the registrations are events of the stream $webhooks")
    feed_bytes = b"".join(server.raw_envelope(e["seq"]) for e in feed)
    check(every.secret.encode() not in feed_bytes and some.secret.encode() not in feed_bytes,
          "the secrets appear nowhere in GET /v1/events")

    tickets = [early] + [open_ticket(server, n) for n in range(1, 13)]
    for k in range(260):
        command(server, tickets[k % len(tickets)], k)
    step(f"{len(tickets)} tickets, 260 commands written before the crash")
    def crash(server):
        """Holds the next delivery to `every`, SIGKILLs supportd meanwhile, lets the receiver answer (to no one)."""
        every.paused.clear()
        every.resume.clear()
        with every.lock:
            every.armed = True
        if not every.paused.wait(3):
            command(server, early, 1)  # the endpoint had caught up: one more event to hold
        wait_until(every.paused.is_set, 60, "the receiver holds a delivery")
        before = len(every.seqs())
        head = server.feed()[-1]["seq"]
        code = server.kill()
        check(code == -signal.SIGKILL,
              f"supportd SIGKILLed while the receiver held seq {every.held} (received {before} seqs, log at {head})", str(code))
        every.resume.set()
        return every.held

    held = [crash(server)]
    server = Supportd(binary, data, log)
    step(f"supportd restarted on the same data directory (port {server.port})")
    tickets += [open_ticket(server, n) for n in range(13, 16)]
    for k in range(260, 380):
        command(server, tickets[k % len(tickets)], k)
    step("120 commands and 3 tickets written after the restart")
    held.append(crash(server))
    server = Supportd(binary, data, log)
    step(f"supportd restarted again (port {server.port})")
    for k in range(380, 420):
        command(server, tickets[k % len(tickets)], k)
    step("40 commands written after the second restart")

    feed = server.feed()
    expected_every = expected_events(feed, registrations[a["id"]])
    expected_some = expected_events(feed, registrations[b["id"]], types={"ticket.opened", "message.posted", "note.added"}, notes=False)
    wait_until(lambda: every.seqs() >= {e["seq"] for e in expected_every} and some.seqs() >= {e["seq"] for e in expected_some},
               240, "every event delivered to both endpoints")
    time.sleep(1)  # anything delivered late (more than asked for, a re-send) is checked too
    check_sink(server, every, a["id"], expected_every, f"{a['id']} (every event, notes)")
    check_sink(server, some, b["id"], expected_some, f"{b['id']} (three types, no notes)")
    for seq in held:
        check(sum(1 for d in every.snapshot() if d.seq == seq) >= 2, f"seq {seq}, held when supportd was killed, arrived again")
    status, _, data = server.api("GET", f"/v1/webhooks/{a['id']}/deliveries?limit=5", "admin")
    check(status == 200, "GET /v1/webhooks/{id}/deliveries answers the admin", f"{status} {data[:200]!r}")
    code = server.stop()
    check(code == 0, "supportd stops on SIGTERM with exit 0", str(code))
    log.close()


def retry_and_slow_scenarios(binary, root, receiver):
    work = tempfile.mkdtemp(prefix="retry-", dir=root)
    write_tokens(work)
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "supportd.log"), "ab")
    server = Supportd(binary, data, log)
    step(f"supportd started on port {server.port} (data in {data})")
    try:
        # Retries: 500 three times, then 200.
        failing = Sink("failing", "failing-secret-0123456789", fail_first=3)
        w, _ = register(server, receiver.add(failing), failing.secret)
        ticket = open_ticket(server, 1)
        command(server, ticket, 0)
        feed = server.feed()
        expected = expected_events(feed, max(e["seq"] for e in feed if e["type"] == "webhook.registered"))
        wait_until(lambda: failing.seqs() >= {e["seq"] for e in expected}, 120, "the failing endpoint gets both events")
        got = failing.snapshot()
        first_seq = expected[0]["seq"]
        tries = [d for d in got if d.seq == first_seq]
        check([d.status for d in tries][:4] == [500, 500, 500, 200] and len({d.body for d in tries}) == 1,
              f"answered 500 three times, the event is sent again with the same bytes until 200 ({len(tries)} tries)",
              str([(d.seq, d.status) for d in got]))
        check([d.seq for d in got if d.status == 200][:2] == [e["seq"] for e in expected],
              "the next event comes after the first is delivered", str([(d.seq, d.status) for d in got]))
        check(all(d.signature_ok for d in got), "every retry is signed")
        status, _, data = server.api("GET", f"/v1/webhooks/{w['id']}/deliveries?limit=10", "admin")
        check(status == 200 and b"500" in data, "the delivery log shows the failed attempts", f"{status} {data[:300]!r}")

        # A slow endpoint: held until released; commands and the other endpoint go on.
        slow = Sink("slow", "slow-secret-0123456789abcd", hold_all=True)
        fast = Sink("fast", "fast-secret-0123456789abcd")
        s, _ = register(server, receiver.add(slow), slow.secret, notes=True)
        f, _ = register(server, receiver.add(fast), fast.secret, notes=True)
        registered = max(e["seq"] for e in server.feed() if e["type"] == "webhook.registered")
        ticket = open_ticket(server, 2)
        wait_until(lambda: slow.requests >= 1, 60, "the slow endpoint receives its first delivery")
        for k in range(40):
            command(server, ticket, k)
        check(slow.answered == 0 and not slow.release.is_set(),
              "40 commands completed while the slow endpoint had not answered its first delivery")
        expected = expected_events(server.feed(), registered)
        wait_until(lambda: fast.seqs() >= {e["seq"] for e in expected}, 60, "the other endpoint gets every event")
        check(slow.answered == 0, f"the other endpoint received all {len(expected)} events while the slow one still held its first")
        slow.release.set()
        wait_until(lambda: slow.seqs() >= {e["seq"] for e in expected}, 120, "the slow endpoint gets every event once released")
        check_sink(server, slow, s["id"], expected, f"{s['id']} (slow)")
        check_sink(server, fast, f["id"], expected, f"{f['id']} (fast)")

        # Redelivery: the endpoint rewound to a seq gets everything from there again, byte for byte.
        status, _, _ = server.api("POST", f"/v1/webhooks/{f['id']}/redeliver", "agent", {"from": expected[0]["seq"]})
        check(status == 403, "an agent may not ask for a redelivery (403)", str(status))
        status, _, _ = server.api("POST", f"/v1/webhooks/{f['id']}/redeliver", "admin", {"from": 0})
        check(status == 400, "a redelivery from seq 0 is refused (400)", str(status))
        again = expected[len(expected) // 2:]
        status, _, data = server.api("POST", f"/v1/webhooks/{f['id']}/redeliver", "admin", {"from": again[0]["seq"]})
        check(status == 202, f"POST /v1/webhooks/{f['id']}/redeliver from seq {again[0]['seq']} answers 202", f"{status} {data[:200]!r}")

        def sent_twice():
            counts = {}
            for d in fast.snapshot():
                counts[d.seq] = counts.get(d.seq, 0) + 1
            return all(counts.get(e["seq"], 0) >= 2 for e in again)

        wait_until(sent_twice, 60, "the redelivered events arrive again")
        step(f"the {len(again)} events from seq {again[0]['seq']} on arrived again")
        check_sink(server, fast, f["id"], expected, f"{f['id']} (fast, after the redelivery)")

        # What may not be reached: other schemes, userinfo, the metadata address; redirects.
        for url in ("ftp://127.0.0.1/hook", "http://user:pass@127.0.0.1/hook", "file:///etc/passwd"):
            status, _, data = server.api("POST", "/v1/webhooks", "admin", {"url": url})
            check(status == 400, f"registering {url} is refused (400)", f"{status} {data[:200]!r}")
        metadata, _ = register(server, "http://169.254.169.254/latest/meta-data", "metadata-secret-0123456789", notes=True)
        target = Sink("target", "target-secret-0123456789")
        redirecting = Sink("redirecting", "redirecting-secret-0123456789", redirect=f"http://127.0.0.1:{receiver.port}/hook/target")
        receiver.add(target)
        r, _ = register(server, receiver.add(redirecting), redirecting.secret, notes=True)
        command(server, ticket, 100)

        def log_of(webhook):
            return server.json("GET", f"/v1/webhooks/{webhook}/deliveries?limit=10", "admin")[0]["deliveries"]

        wait_until(lambda: log_of(metadata["id"]), 60, "a delivery attempt to the metadata address is logged")
        entry = log_of(metadata["id"])[-1]
        check(not entry["delivered"] and entry["status"] is None and "169.254.169.254" in (entry["error"] or ""),
              "a delivery to 169.254.169.254 is refused before connecting", str(entry))
        wait_until(lambda: log_of(r["id"]), 60, "a delivery attempt to the redirecting endpoint is logged")
        entry = log_of(r["id"])[-1]
        check(not entry["delivered"] and entry["status"] == 302 and target.requests == 0,
              "a 302 is a failure and is not followed", f"{entry}, target got {target.requests}")
        for webhook in (metadata["id"], r["id"]):
            status, _, _ = server.api("DELETE", f"/v1/webhooks/{webhook}", "admin")
            gone, _, _ = server.api("GET", f"/v1/webhooks/{webhook}", "admin")
            check(status == 204 and gone == 404, f"DELETE /v1/webhooks/{webhook} answers 204, then it is gone (404)", f"{status} {gone}")

        # A host name: resolved at delivery, the connection goes to the checked address.
        named = Sink("named", "named-secret-0123456789")
        receiver.add(named)
        register(server, f"http://localhost:{receiver.port}/hook/named", named.secret, notes=True)
        command(server, ticket, 101)
        wait_until(lambda: any(d.status == 200 and d.signature_ok for d in named.snapshot()), 60,
                   "an endpoint named by host name (localhost) receives")
        step("an endpoint named by host name (localhost) receives a signed delivery")

        # Stopping while an endpoint holds a delivery.
        stuck = Sink("stuck", "stuck-secret-0123456789", hold_all=True)
        register(server, receiver.add(stuck), stuck.secret, notes=True)
        command(server, ticket, 102)
        wait_until(lambda: stuck.requests >= 1, 60, "the stuck endpoint receives a delivery")
        step("an endpoint holds a delivery while supportd is asked to stop")
    finally:
        code = server.stop()
        log.close()
    check(code == 0, "supportd stops on SIGTERM with exit 0", str(code))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--supportd", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (with supportd's logs)")
    arguments = parser.parse_args()
    root = tempfile.mkdtemp(prefix="webhook-e2e-")
    receiver = Receiver()
    step(f"receiver on http://127.0.0.1:{receiver.port}")
    try:
        for scenario in (crash_scenario, retry_and_slow_scenarios):
            try:
                scenario(arguments.supportd, root, receiver)
            except Abort as abort:
                global FAILED
                FAILED += 1
                print(f"webhook-e2e: FAILED - {scenario.__name__}: {abort}", flush=True)
                for logfile in sorted(os.popen(f"ls {root}/*/supportd.log").read().split()):
                    print(f"--- last lines of {logfile}", flush=True)
                    print(open(logfile, errors="replace").read()[-3000:], flush=True)
    finally:
        for process in Supportd.running:
            if process.poll() is None:
                process.kill()
                process.wait(30)
        receiver.close()
        if arguments.keep or FAILED:
            print(f"webhook-e2e: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"webhook-e2e: {PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Webhook figures (issue 14), all in one run, loopback only; run by Tools/bench/webhooks.sh.

The receiver is Tools/http-baseline's `POST /hook` (takes the body, answers 204, counts; no
signature check), started once and shared by every part:

1. The peer: the receiver hit directly by wrk with one connection (one request at a time, the
   shape of one endpoint's in-order delivery) and with 10 connections, with the body of a real
   `message.posted` envelope and the webhook headers.
2. Deliveries/s: a fresh supportd with 1,000 tickets and one endpoint; commands from wrk (the
   support-desk mix of commands.lua, 64 connections) for SECONDS; then the backlog drained, and a
   redelivery of everything (POST /v1/webhooks/{id}/redeliver) timed on an otherwise idle server.
3. Command latency under 64 connections with 0, then 10 endpoints registered (fresh supportd and
   1,000 tickets each time, the pair run twice): requests/s, p50, p99, non-2xx, and how far the
   deliveries kept up during the run.

Nothing is asserted; every wait is bounded. Prints the figures.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

AGENT, ADMIN, AUDITOR = "bench-agent", "bench-admin", "bench-auditor"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port):
        self.port = port
        self.connection = None

    def call(self, method, path, token=None, body=None):
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            headers = {}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (ConnectionError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    raise


def wait_for(predicate, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def wrk(arguments, env=None):
    out = subprocess.run(["wrk"] + arguments, capture_output=True, text=True, env={**os.environ, **(env or {})}).stdout

    def number(pattern):
        m = re.search(pattern, out)
        return m.group(1) if m else None

    def millis(text):
        if text is None:
            return None
        value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "rps": float(number(r"Requests/sec:\s+([\d.]+)")),
        "requests": int(number(r"(\d+) requests in")),
        "p50": millis(number(r"50%\s+(\S+)")),
        "p99": millis(number(r"99%\s+(\S+)")),
        "non2xx": int(number(r"Non-2xx or 3xx responses: (\d+)") or 0),
    }


class Receiver:
    def __init__(self, binary):
        self.port = free_port()
        self.process = subprocess.Popen([binary, str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = Client(self.port)
        if not wait_for(lambda: self._answers(), 30):
            raise SystemExit("http-baseline did not start")

    def _answers(self):
        try:
            return self.client.call("GET", "/hook/count")[0] == 200
        except OSError:
            self.client.connection = None
            return False

    def count(self):
        return int(self.client.call("GET", "/hook/count")[1])

    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"


class Supportd:
    def __init__(self, binary, work):
        self.work = tempfile.mkdtemp(dir=work)
        tokens = os.path.join(self.work, "tokens.json")
        with open(tokens, "w") as f:
            json.dump({"tokens": [{"token": AGENT, "role": "agent", "id": "amelie"}, {"token": ADMIN, "role": "admin", "id": "root"},
                                  {"token": AUDITOR, "role": "auditor", "id": "aud"}]}, f)
        os.chmod(tokens, 0o600)
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--data-dir", os.path.join(self.work, "data"), "--port", str(self.port), "--tokens", tokens, "--log-level",
             "warning", "--rate-limit", "0", "--webhook-allow", "127.0.0.0/8"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.work, "supportd.log"), "wb"))
        self.client = Client(self.port)

        def answers():
            try:
                return self.client.call("GET", "/v1/events/head", AUDITOR)[0] == 200
            except OSError:
                self.client.connection = None
                return False

        if not wait_for(answers, 60):
            raise SystemExit(f"supportd did not start: {open(os.path.join(self.work, 'supportd.log')).read()[-2000:]}")

    def open_tickets(self, n):
        for i in range(1, n + 1):
            status, body = self.client.call("POST", "/v1/tickets", AGENT, {
                "customer": f"c-{i}", "subject": "Site down", "body": "HTTP 500 since the migration", "channel": "web",
                "product": "hosting", "priority": "normal"})
            if status != 201:
                raise SystemExit(f"open ticket: {status} {body[:200]!r}")

    def register(self, url):
        status, body = self.client.call("POST", "/v1/webhooks", ADMIN, {"url": url, "notes": True})
        if status != 201:
            raise SystemExit(f"POST /v1/webhooks: {status} {body[:300]!r}")
        return json.loads(body)["id"], self.head()

    def head(self):
        return json.loads(self.client.call("GET", "/v1/events/head", AUDITOR)[1])["seq"]

    def one_envelope(self, type_):
        after = 0
        while True:
            answer = json.loads(self.client.call("GET", f"/v1/events?after={after}&limit=1000", AUDITOR)[1])
            for event in answer["events"]:
                if event["type"] == type_:
                    raw = self.client.call("GET", f"/v1/events?after={event['seq'] - 1}&limit=1", AUDITOR)[1]
                    return raw[len(b'{"events":['):raw.rindex(b'],"last":')]
            if not answer["events"]:
                return None
            after = answer["last"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def settle():
    subprocess.run(["sync"])
    time.sleep(2)


def commands(server, seconds, connections, tickets):
    return wrk(["-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", "Tools/bench/commands.lua", f"http://127.0.0.1:{server.port}"],
               env={"AGENT_TOKEN": AGENT, "TICKETS": str(tickets)})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    a = parser.parse_args()
    work = tempfile.mkdtemp(prefix=".bench-webhooks-", dir=os.getcwd())
    receiver = Receiver(os.path.join(a.bin, "http-baseline"))
    servers = []
    try:
        # 2. Deliveries/s (first: the peer needs a real envelope's bytes).
        print(f"== deliveries/s: one endpoint, {a.tickets} tickets, commands from wrk for {a.seconds} s", flush=True)
        server = Supportd(os.path.join(a.bin, "supportd"), work)
        servers.append(server)
        server.open_tickets(a.tickets)
        webhook, registered = server.register(receiver.url())
        base = receiver.count()
        settle()
        load = commands(server, a.seconds, a.connections, a.tickets)
        stopped, at_stop = time.monotonic(), receiver.count() - base
        events = server.head() - registered
        drained = wait_for(lambda: receiver.count() - base >= events, 600)
        drain_time = time.monotonic() - stopped
        print(f"commands: {load['rps']:.0f}/s ({load['requests']} in {a.seconds} s, p50 {load['p50']:.2f} ms, p99 {load['p99']:.2f} ms,"
              f" non-2xx {load['non2xx']}); events after the registration: {events}")
        print(f"delivered during the load: {at_stop} ({at_stop / a.seconds:.0f}/s); backlog {events - at_stop} drained in"
              f" {drain_time:.2f} s ({(events - at_stop) / drain_time:.0f}/s){'' if drained else ' (NOT drained within 600 s)'}")
        settle()
        base = receiver.count()
        status, body = server.client.call("POST", f"/v1/webhooks/{webhook}/redeliver", ADMIN, {"from": registered})
        if status == 202:
            started = time.monotonic()
            done = wait_for(lambda: receiver.count() - base >= events, 600)
            took = time.monotonic() - started
            print(f"redelivery of all {events} events on an idle server: {took:.2f} s = {events / took:.0f} deliveries/s"
                  f"{'' if done else ' (NOT done within 600 s)'}")
        else:
            print(f"redeliver: {status} {body[:200]!r}")
        envelope = server.one_envelope("message.posted")
        server.stop()

        # 1. The peer: the same receiver, a plain loop.
        body_file = os.path.join(work, "envelope.json")
        with open(body_file, "wb") as f:
            f.write(envelope)
        print(f"== the receiver hit directly (wrk, {len(envelope)}-byte message.posted envelope)", flush=True)
        for c in (1, a.endpoints):
            peer = wrk([f"-t{min(c, 2)}", f"-c{c}", f"-d{a.seconds}s", "--latency", "-s", "Tools/bench/hook.lua", receiver.url()],
                       env={"HOOK_BODY": body_file})
            print(f"{c} connection(s): {peer['rps']:.0f} req/s (p50 {peer['p50']:.3f} ms, p99 {peer['p99']:.3f} ms)", flush=True)

        # 3. Command latency with 0 vs N endpoints.
        print(f"== commands, {a.connections} connections, {a.seconds} s each, 0 vs {a.endpoints} endpoints", flush=True)
        print("| endpoints | commands/s | p50 | p99 | non-2xx | deliveries during the run | of due |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for _ in range(a.rounds):
            for n in (0, a.endpoints):
                server = Supportd(os.path.join(a.bin, "supportd"), work)
                servers.append(server)
                server.open_tickets(a.tickets)
                registered = server.head()
                for _ in range(n):
                    _, registered = server.register(receiver.url())
                base = receiver.count()
                settle()
                load = commands(server, a.seconds, a.connections, a.tickets)
                delivered = receiver.count() - base
                due = n * (server.head() - registered)
                print(f"| {n} | {load['rps']:.0f} | {load['p50']:.2f} ms | {load['p99']:.2f} ms | {load['non2xx']} | {delivered} |"
                      f" {due} |", flush=True)
                server.stop()
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
        receiver.process.send_signal(signal.SIGTERM)
        receiver.process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

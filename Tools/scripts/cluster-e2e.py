#!/usr/bin/env python3
"""The three-node desk end to end: three nats-server (JetStream, clustered on loopback) and three supportd
nodes under a 32-client write load, with leaders killed, paused and NATS servers lost.

    python3 Tools/scripts/cluster-e2e.py --supportd .build/debug/supportd --replay .build/debug/support-replay
        [--only basics|leader-kill|nats-quorum|stale-leader|stream-loss] [--rounds 3] [--keep]
        [--bench [--bench-seconds 30]]

Run by Tools/scripts/cluster-e2e.sh (which builds the binaries when they are missing); Python 3 standard
library only. Everything listens on 127.0.0.1 at free ports; every process started here (the NATS servers
through Tools/scripts/nats-cluster.sh, the supportd nodes directly) is stopped at the end, on a failure and
on Ctrl-C too. Every wait is a bounded poll and the whole run is bounded (--time-limit, default 540 s): a
bound exceeded is a failure, never a hang.

Set-up: `nats-cluster.sh start` (three servers, JetStream, one store each), one tokens file shared by three
`supportd --cluster nats://...,nats://...,nats://... --node sK --advertise http://127.0.0.1:PORT
--lease-seconds 4`, each on its own data directory. 32 writer threads then open tickets and post messages
(each command with its own Idempotency-Key, a marker in its body), sending to the node they believe leads:
a 307 is followed to its Location (loopback only); a 503, a timeout or a refused connection is retried
against another node with the SAME key and the same bytes. Every 2xx is recorded with the answer's
ticket, version and `Ledgerdesk-Seq`.

Scenarios (each a function; --only runs one, after the set-up, and the final checks):
- basics: GET /v1/cluster on every node (mode cluster, one leader that all name, Ledgerdesk-Node); a
  write to a follower is a 307 whose Location is the leader's URL with the same path and query and
  whose problem+json body names the leader; read-your-writes on each follower with Ledgerdesk-Min-Seq;
  an idempotent retry through another node answers the first answer byte for byte and appends nothing.
- leader-kill (--rounds, default 3): SIGKILL the leader under load; the failover time is from the kill
  until a surviving node answers a write 2xx (probes follow 307s), at most --failover-limit (default
  the lease + 4 s); the survivors name one new leader; the killed node restarts on its directory and
  catches up as a follower.
- nats-quorum: SIGKILL the nats-server leading the stream: writes go on. SIGKILL a second: writes
  answer 503 (with Retry-After) and no new write is acknowledged, reads (ticket, /v1/cluster, events
  head, queues) go on on every node. Restore both: writes go on, every node catches up.
- stale-leader: SIGSTOP the leader past its lease (while the others elect a new one and writes go
  on), SIGCONT it: writes sent to it are 307 or 503, never 2xx, and every event its log holds from
  its old head on is the stream's event at that seq (same hash as the new leader's).
- stream-loss (only with --only; not in the default run): the three nats-server stopped, their stores
  deleted, started empty: the nodes write again (restarted when the running ones do not within
  30 s), the stream holds the logs again, and the final checks hold (no acknowledged write lost).
Final checks: the writers stop; every node runs again (restarted when down); every node's head is
the same (seq and hash) and equals the stream's; the logs (GET /v1/events from each node) are equal
seq by seq (same hash, same envelope); every write that got a 2xx is in every log exactly once, with
the ticket and version of its answer, at a seq no greater than its Ledgerdesk-Seq; no write appears
twice (idempotency across failovers); then each node is stopped with SIGTERM (exit 0) and
`support-replay verify --expect-head SEQ:HASH --cluster NATS-URLS` passes on each node's directory
(the hash chain, and the log is the stream's prefix).

Figures (printed as `cluster-e2e: figure ...`): failover p50 and max over the rounds, writes/s and
latency p50/p99 of the acknowledged writes, follower lag (events behind the stream, sampled; and
the time from a write's 2xx at the leader until a follower answers a read with Ledgerdesk-Min-Seq of
that seq). --bench adds, in the same run, a steady load against one single-node supportd and against
the cluster (durable commands/s, p50, p99 for each) and defaults to 5 failover rounds; it prints a
Markdown table for docs/benchmarks.md.

Prints one line per step and ends with `cluster-e2e: N passed, M failed`; exits 1 when a step failed.
Ctrl-C or SIGTERM stops the run (counted as a failure) after killing what it started; SIGUSR1 prints
every thread's stack (faulthandler) to find where a run waits.
"""

import argparse
import ctypes
import faulthandler
import http.client
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

PASSED = 0
FAILED = 0
PRINT = threading.Lock()
DEADLINE = [time.monotonic() + 540]


def say(text):
    with PRINT:
        print(f"cluster-e2e: {text}", flush=True)


def step(text):
    global PASSED
    with PRINT:
        PASSED += 1
        print(f"cluster-e2e: ok {PASSED} - {text}", flush=True)


def check(condition, text, detail=""):
    global FAILED
    if condition:
        step(text)
        return True
    with PRINT:
        FAILED += 1
        print(f"cluster-e2e: FAILED - {text}" + (f": {detail}" if detail else ""), flush=True)
    return False


def figure(text):
    say(f"figure - {text}")


class Abort(Exception):
    """Ends a scenario; `counted` when the failed step was already printed and counted."""

    def __init__(self, text, counted=False):
        super().__init__(text)
        self.counted = counted


def require(condition, text, detail=""):
    if not check(condition, text, detail):
        raise Abort(text, counted=True)


def remaining():
    return DEADLINE[0] - time.monotonic()


def bounded(limit):
    """A deadline `limit` seconds from now, never past the whole run's."""
    if remaining() <= 0:
        raise Abort("the run's time limit is reached")
    return time.monotonic() + min(limit, remaining())


def wait_until(predicate, limit, what, interval=0.1):
    deadline = bounded(limit)
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise Abort(f"{what}: not within {limit} s")


def percentile(values, p):
    """Nearest rank (SPEC §4): the k-th smallest, k = ceil(p * n / 100)."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(1, -(-p * len(ordered) // 100))
    return ordered[int(k) - 1]


def free_ports(n):
    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


# --- HTTP ----------------------------------------------------------------------------------------

TOKENS = {
    "admin": ("admin-cluster-e2e-token-0001", "admin", "root"),
    "agent": ("agent-cluster-e2e-token-0001", "agent", "amelie"),
    "auditor": ("auditor-cluster-e2e-token-0001", "auditor", "aud"),
}


class Answer:
    def __init__(self, status, headers, body, port):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.port = port

    @property
    def seq(self):
        value = self.headers.get("ledgerdesk-seq")
        return int(value) if value and value.isdigit() else None

    @property
    def node(self):
        return self.headers.get("ledgerdesk-node")

    def json(self):
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class Client:
    """Keep-alive connections to the nodes, one per port (one Client per thread)."""

    def __init__(self):
        self.connections = {}

    def request(self, port, method, path, who="agent", body=None, headers=None, timeout=8.0):
        """One request; raises OSError (connection refused, reset, timeout) or http.client errors."""
        connection = self.connections.get(port)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            self.connections[port] = connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        all_headers = {"Authorization": f"Bearer {TOKENS[who][0]}"}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        try:
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            answer = Answer(response.status, response.getheaders(), response.read(), port)
            if response.will_close:
                self.drop(port)
            return answer
        except (OSError, http.client.HTTPException):
            self.drop(port)
            raise

    def drop(self, port):
        connection = self.connections.pop(port, None)
        if connection is not None:
            connection.close()

    def close(self):
        for port in list(self.connections):
            self.drop(port)


def location_port(answer):
    """The loopback port of a 307's Location (None when it is not a loopback http URL)."""
    location = answer.headers.get("location", "")
    parsed = urllib.parse.urlsplit(location)
    if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost") or not parsed.port:
        return None, location
    path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return parsed.port, path


# --- Processes -----------------------------------------------------------------------------------

LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    # PR_SET_PDEATHSIG = 1: a supportd left behind by a killed harness gets SIGKILL.
    LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)


class Nats:
    def __init__(self, script, base):
        self.script = script
        self.base = base
        ports = free_ports(9)
        self.client_ports = ports[0:3]
        self.route_ports = ports[3:6]
        self.http_ports = ports[6:9]
        self.urls = ",".join(f"nats://127.0.0.1:{p}" for p in self.client_ports)
        self.down = set()

    def run(self, *arguments, limit=60):
        result = subprocess.run(["bash", self.script, arguments[0], self.base, *arguments[1:]],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=limit)
        return result.returncode, result.stdout.decode(errors="replace")

    def start(self):
        code, out = self.run("start", "--client-ports", ",".join(map(str, self.client_ports)), "--route-ports",
                             ",".join(map(str, self.route_ports)), "--http-ports", ",".join(map(str, self.http_ports)))
        require(code == 0, f"three nats-server with JetStream clustered on 127.0.0.1 ({self.urls})", out[-1500:])

    def kill(self, n):
        code, out = self.run("kill", str(n))
        self.down.add(n)
        return code == 0, out

    def restore(self, n):
        code, out = self.run("restore", str(n))
        self.down.discard(n)
        return code == 0, out

    def wait(self, seconds=30):
        code, out = self.run("wait", str(seconds), limit=seconds + 10)
        return code == 0, out

    def pids(self):
        found = []
        for n in (1, 2, 3):
            try:
                with open(os.path.join(self.base, f"n{n}", "pid")) as f:
                    found.append(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        return found

    def streams(self, name="LEDGERDESK"):
        """The stream's details from each running server's monitoring (/jsz?streams=true)."""
        found = []
        for n, port in enumerate(self.http_ports, 1):
            if n in self.down:
                continue
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
                connection.request("GET", "/jsz?streams=true")
                details = json.loads(connection.getresponse().read())
                connection.close()
            except (OSError, http.client.HTTPException, ValueError):
                continue
            for account in details.get("account_details") or []:
                for stream in account.get("stream_detail") or []:
                    if stream.get("name") == name:
                        found.append(stream)
        return found

    def stream_last_seq(self, name="LEDGERDESK"):
        """The stream's last seq as the NATS servers' monitoring reports it: the highest of the running
        servers' replicas (None when no server answers)."""
        found = [stream["state"]["last_seq"] for stream in self.streams(name)]
        return max(found) if found else None

    def stream_leader(self, name="LEDGERDESK"):
        """The number (1..3) of the server leading the stream's replicas, or None."""
        for stream in self.streams(name):
            leader = (stream.get("cluster") or {}).get("leader") or ""
            if leader[1:].isdigit():
                return int(leader[1:])
        return None

    def stop(self):
        try:
            self.run("stop")
        except subprocess.TimeoutExpired:
            pass


class Node:
    """One supportd (cluster mode, or single node when `nats_urls` is None) on a fixed port."""

    everyone = []

    def __init__(self, binary, name, work, nats_urls, lease, extra=()):
        self.binary = binary
        self.name = name
        self.work = work
        self.data = os.path.join(work, name)
        self.nats_urls = nats_urls
        self.lease = lease
        self.extra = list(extra)
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log = None
        self.stopped = False  # SIGSTOPped
        self.ended = False  # killed or stopped by the harness
        Node.everyone.append(self)

    def command_line(self):
        line = [self.binary, "--data-dir", self.data, "--host", "127.0.0.1", "--port", str(self.port), "--tokens",
                os.path.join(self.work, "tokens.json"), "--log-level", "warning", "--rate-limit", "0", *self.extra]
        if self.nats_urls:
            line += ["--cluster", self.nats_urls, "--node", self.name, "--advertise", self.url, "--lease-seconds",
                     str(self.lease)]
        return line

    def start(self, limit=60):
        self.log = open(os.path.join(self.work, f"{self.name}.log"), "ab")
        self.log.write(f"--- started {time.strftime('%H:%M:%S')}: {' '.join(self.command_line())}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(self.command_line(), stdout=subprocess.PIPE, stderr=self.log,
                                        preexec_fn=die_with_parent, start_new_session=True)
        self.stopped = False
        self.ended = False
        listening = threading.Event()
        marker = b"supportd listening on http://127.0.0.1:"
        process, log = self.process, self.log

        def read():
            for line in process.stdout:
                log.write(line)
                log.flush()
                if line.startswith(marker):
                    listening.set()
            listening.set()

        threading.Thread(target=read, daemon=True).start()
        listening.wait(max(1, min(limit, remaining())))
        if self.process.poll() is not None or not listening.is_set():
            raise Abort(f"supportd {self.name} did not start listening on {self.port} (exit {self.process.poll()}); "
                        f"see {self.log.name}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        if self.stopped:
            self.cont()
        self.ended = True
        self.process.send_signal(signal.SIGKILL)
        code = self.process.wait(30)
        return code

    def sigstop(self):
        self.process.send_signal(signal.SIGSTOP)
        self.stopped = True

    def cont(self):
        self.process.send_signal(signal.SIGCONT)
        self.stopped = False

    def terminate(self, limit=20):
        """SIGTERM and the exit code (SIGKILL after `limit` s: None)."""
        if not self.alive():
            return self.process.returncode if self.process else None
        if self.stopped:
            self.cont()
        self.ended = True
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(limit)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
            return None

    @classmethod
    def kill_all(cls):
        for node in cls.everyone:
            if node.alive():
                try:
                    node.process.send_signal(signal.SIGCONT)
                    node.process.kill()
                    node.process.wait(30)
                except (OSError, subprocess.TimeoutExpired):
                    pass


def write_tokens(work):
    tokens = [{"token": t, "role": role, "id": who} for (t, role, who) in TOKENS.values()]
    path = os.path.join(work, "tokens.json")
    with open(path, "w") as f:
        json.dump({"tokens": tokens}, f)
    os.chmod(path, 0o600)


# --- The desk seen from outside ----------------------------------------------------------------------


def cluster_view(client, node, timeout=3.0):
    """GET /v1/cluster on a node: the parsed body, or None (down, no answer, not 200)."""
    if not node.alive() or node.stopped:
        return None
    try:
        answer = client.request(node.port, "GET", "/v1/cluster", "auditor", timeout=timeout)
    except (OSError, http.client.HTTPException):
        return None
    return answer.json() if answer.status == 200 else None


def current_leader(client, nodes, limit=30):
    """The node every running node names as leader (and that says it leads), within `limit` s."""

    def agreed():
        views = {n.name: cluster_view(client, n) for n in nodes if n.alive() and not n.stopped}
        if not views or any(v is None for v in views.values()):
            return None
        leaders = [name for name, v in views.items() if v.get("role") == "leader"]
        named = {(v.get("leader") or {}).get("node") for v in views.values()}
        if len(leaders) == 1 and named == {leaders[0]}:
            return next(n for n in nodes if n.name == leaders[0])
        return None

    return wait_until(agreed, limit, "one leader that every running node names", interval=0.2)


def head(client, node, timeout=5.0):
    answer = client.request(node.port, "GET", "/v1/events/head", "auditor", timeout=timeout)
    if answer.status != 200:
        raise Abort(f"GET /v1/events/head on {node.name}: {answer.status} {answer.body[:200]!r}")
    body = answer.json()
    return body["seq"], body["hash"]


def feed(client, node, after=0, limit=None):
    """Every event after `after` as node's GET /v1/events answers it (bounded: 2,000 pages)."""
    events = []
    for _ in range(2000):
        answer = client.request(node.port, "GET", f"/v1/events?after={after}&limit=1000", "auditor", timeout=30)
        if answer.status != 200:
            raise Abort(f"GET /v1/events?after={after} on {node.name}: {answer.status} {answer.body[:200]!r}")
        page = answer.json()["events"]
        if not page:
            return events
        events += page
        after = page[-1]["seq"]
        if limit is not None and len(events) >= limit:
            return events
    raise Abort(f"GET /v1/events on {node.name}: more than 2,000 pages")


# --- The writers -------------------------------------------------------------------------------------


class Record:
    """A write: its key, its marker (in the body), and what answered it."""

    def __init__(self, key, kind, path, body):
        self.key = key
        self.kind = kind  # "open" or "message"
        self.path = path
        self.body = json.dumps(body).encode()
        self.status = None
        self.ticket = None
        self.version = None
        self.seq = None  # the answer's Ledgerdesk-Seq
        self.node = None
        self.sent = None
        self.acked = None  # monotonic time of the 2xx
        self.attempts = 0
        self.redirects = 0
        self.last = None  # the last answer or error, for the messages

    @property
    def marker(self):
        return f"ce2e:{self.key}"


class Ledger:
    """Every write of the run and the answers seen, shared by the threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records = []
        self.unexpected = []  # (key, node, status, body) answers that are neither 2xx, 307 nor 503
        self.statuses = {}
        self.abandoned = []

    def add(self, record):
        with self.lock:
            self.records.append(record)

    def count(self, status):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def acked(self):
        with self.lock:
            return [r for r in self.records if r.acked is not None]

    def acked_between(self, start, end):
        return [r for r in self.acked() if start <= r.acked < end]


def send_write(client, nodes, ledger, record, target, limit=90.0, timeout=8.0, follow=True):
    """Sends `record` until a 2xx (or a final answer), following 307s, retrying 503s and connection errors
    against the next node with the same Idempotency-Key. Returns the node that answered last (or None)."""
    deadline = time.monotonic() + limit
    record.sent = time.monotonic()
    order = list(nodes)
    index = order.index(target) if target in order else 0
    port = order[index].port
    path = record.path
    hops = 0
    while time.monotonic() < deadline and remaining() > 0:
        record.attempts += 1
        try:
            answer = client.request(port, "POST", path, "agent", record.body,
                                    {"Idempotency-Key": record.key}, timeout=timeout)
        except (OSError, http.client.HTTPException) as error:
            ledger.count("connection error")
            record.last = f"port {port}: {error!r}"
            index = (index + 1) % len(order)
            port, path, hops = order[index].port, record.path, 0
            time.sleep(0.05)
            continue
        ledger.count(answer.status)
        record.last = f"port {port}: {answer.status}"
        if 200 <= answer.status < 300:
            body = answer.json() or {}
            record.status = answer.status
            record.ticket = body.get("id")
            record.version = body.get("version")
            record.seq = answer.seq
            record.node = answer.node or str(answer.port)
            record.acked = time.monotonic()
            return next((n for n in nodes if n.port == answer.port), None)
        if answer.status == 307 and follow and hops < 3:
            next_port, next_path = location_port(answer)
            if next_port is None:
                with ledger.lock:
                    ledger.unexpected.append((record.key, answer.port, 307, f"Location {next_path!r}"))
                return None
            record.redirects += 1
            hops += 1
            port, path = next_port, next_path
            continue
        if answer.status in (307, 503):
            index = (index + 1) % len(order)
            port, path, hops = order[index].port, record.path, 0
            time.sleep(0.1 + random.random() * 0.2)
            continue
        record.status = answer.status
        with ledger.lock:
            ledger.unexpected.append((record.key, answer.port, answer.status, answer.body[:300]))
        return None
    if record.key.startswith("lag-"):
        return None  # the lag sampler's writes have a short bound on purpose
    with ledger.lock:
        ledger.abandoned.append(f"{record.key} after {record.attempts} attempts in {time.monotonic() - record.sent:.1f} s "
                                f"(last: {record.last})")
    return None


class Writers:
    """`count` threads writing until stopped: a third of the commands open a ticket, the rest post a message
    to one of the thread's tickets."""

    def __init__(self, nodes, ledger, count=32, prefix="w"):
        self.nodes = nodes
        self.ledger = ledger
        self.count = count
        self.prefix = prefix
        self.stop = threading.Event()
        self.threads = []

    def start(self):
        for k in range(self.count):
            thread = threading.Thread(target=self.run, args=(k,), daemon=True, name=f"{self.prefix}{k}")
            thread.start()
            self.threads.append(thread)

    def run(self, k):
        try:
            self.write(k)
        except Exception as error:  # a harness bug or an answer it cannot read: reported, never silent
            with self.ledger.lock:
                self.ledger.unexpected.append((f"writer {k}", 0, "exception", f"{error!r} {traceback.format_exc()[-600:]}"))

    def write(self, k):
        client = Client()
        rng = random.Random(k)
        tickets = []
        target = self.nodes[k % len(self.nodes)]
        n = 0
        try:
            while not self.stop.is_set() and remaining() > 5:
                n += 1
                key = f"{self.prefix}{k}-{n}-{rng.randrange(1 << 30):08x}"
                if not tickets or rng.random() < 0.3:
                    record = Record(key, "open", "/v1/tickets", {
                        "customer": f"c-{k}", "subject": f"Site down ({key})", "body": f"ce2e:{key}",
                        "channel": "web", "product": "hosting", "priority": "normal"})
                else:
                    ticket = rng.choice(tickets)
                    record = Record(key, "message", f"/v1/tickets/{ticket}/messages", {"body": f"ce2e:{key}"})
                self.ledger.add(record)
                answered = send_write(client, self.nodes, self.ledger, record, target,
                                      limit=max(1.0, min(90.0, remaining() - 5)))
                if answered is not None:
                    target = answered
                    if record.kind == "open" and record.ticket:
                        tickets = (tickets + [record.ticket])[-8:]
                elif record.acked is None:
                    target = self.nodes[rng.randrange(len(self.nodes))]
        finally:
            client.close()

    def finish(self, limit=120):
        self.stop.set()
        deadline = time.monotonic() + limit
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


def opening(label, customer="c-probe"):
    """A write opening a ticket, with its own Idempotency-Key and the key as the marker in its body."""
    key = f"{label}-{random.randrange(1 << 30):08x}"
    return Record(key, "open", "/v1/tickets", {"customer": customer, "subject": f"Probe {label}", "body": f"ce2e:{key}",
                                               "channel": "api", "product": "hosting", "priority": "low"})


def probe_write(client, ledger, label, targets, limit=30.0, timeout=3.0):
    """One write (its own key) sent to `targets` in turn until a 2xx; the time it took, or None."""
    record = opening(f"probe-{label}")
    ledger.add(record)
    start = time.monotonic()
    send_write(client, targets, ledger, record, targets[0], limit=limit, timeout=timeout)
    return (record.acked - start) if record.acked is not None else None, record


def load_figures(records, seconds, label):
    latencies = [r.acked - r.sent for r in records]
    rate = len(records) / seconds if seconds > 0 else 0
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    figure(f"{label}: {len(records)} acknowledged writes in {seconds:.1f} s = {rate:.0f}/s, "
           f"latency p50 {fmt_ms(p50)}, p99 {fmt_ms(p99)}")
    return {"count": len(records), "seconds": seconds, "rate": rate, "p50": p50, "p99": p99}


def cpu_seconds(pid=None):
    """CPU time (user + system) of this script (pid None) or of a process, from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def fmt_ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


# --- The lag sampler -------------------------------------------------------------------------------


class LagSampler:
    """While running: every 0.5 s, GET /v1/cluster on each follower (events behind the stream), and a write
    to the leader followed at once by a read on each follower with Ledgerdesk-Min-Seq of the write's seq
    (the time from the 2xx until the follower answers; its Ledgerdesk-Seq must be at least that seq)."""

    def __init__(self, nodes, ledger):
        self.nodes = nodes
        self.ledger = ledger
        self.stop = threading.Event()
        self.behind = []
        self.delays = []
        self.violations = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        client = Client()
        k = 0
        try:
            while not self.stop.wait(0.5) and remaining() > 10:
                k += 1
                alive = [n for n in self.nodes if n.alive() and not n.stopped]
                views = {n.name: cluster_view(client, n) for n in alive}
                leader = next((n for n in alive if (views.get(n.name) or {}).get("role") == "leader"), None)
                if leader is None:
                    continue
                for n in alive:
                    v = views.get(n.name)
                    if n is leader or not v or v.get("streamSeq") is None or v.get("appliedSeq") is None:
                        continue
                    self.behind.append(max(0, v["streamSeq"] - v["appliedSeq"]))
                record = opening(f"lag-{k}", "c-lag")
                self.ledger.add(record)
                send_write(client, [leader], self.ledger, record, leader, limit=5, timeout=5, follow=False)
                if record.acked is None or record.seq is None:
                    continue
                for n in alive:
                    if n is leader:
                        continue
                    try:
                        answer = client.request(n.port, "GET", f"/v1/tickets/{record.ticket}", "agent",
                                                headers={"Ledgerdesk-Min-Seq": str(record.seq)}, timeout=15)
                    except (OSError, http.client.HTTPException):
                        continue
                    if answer.status == 200:
                        self.delays.append(time.monotonic() - record.acked)
                        if answer.seq is None or answer.seq < record.seq:
                            self.violations.append(f"{n.name} answered Ledgerdesk-Seq {answer.seq} to Ledgerdesk-Min-Seq "
                                                   f"{record.seq} ({record.ticket})")
                    elif answer.status != 503:
                        self.violations.append(f"{n.name} answered {answer.status} to GET /v1/tickets/{record.ticket} "
                                               f"with Ledgerdesk-Min-Seq {record.seq}: {answer.body[:200]!r}")
        finally:
            client.close()

    def start(self):
        self.thread.start()

    def finish(self):
        self.stop.set()
        self.thread.join(30)


# --- Scenarios -----------------------------------------------------------------------------------


class Run:
    def __init__(self, arguments, root):
        self.arguments = arguments
        self.root = root
        self.client = Client()
        self.ledger = Ledger()
        self.nats = None
        self.nodes = []
        self.failovers = []
        self.writers = None
        self.sampler = None
        self.bench = {}
        self.steady_sampler = None

    def alive(self):
        return [n for n in self.nodes if n.alive() and not n.stopped]

    def check_exits(self, when):
        """A node that exited without the harness killing it is a failure (then it is started again)."""
        for node in self.nodes:
            if node.process is not None and not node.alive() and not node.ended:
                check(False, f"{node.name} is running {when}",
                      f"it exited on its own with code {node.process.returncode}; see {node.log.name}")
                node.ended = True

    def leader(self, limit=30):
        return current_leader(self.client, self.alive(), limit)

    def caught_up(self, node, limit=60):
        """Waits until `node` has applied what the stream held when called (its last seq from nats-server's /jsz)."""
        target = wait_until(lambda: self.nats.stream_last_seq(), 30, "nats-server reports the stream's last seq")

        def done():
            view = cluster_view(self.client, node)
            return view is not None and (view.get("appliedSeq") or 0) >= target

        return wait_until(done, limit, f"{node.name} applies the stream through seq {target}", interval=0.2)

    # The set-up.
    def start_cluster(self):
        work = os.path.join(self.root, "cluster")
        os.makedirs(work)
        write_tokens(work)
        self.nats = Nats(self.arguments.nats_cluster, os.path.join(self.root, "nats"))
        self.nats.start()
        self.nodes = [Node(self.arguments.supportd, f"s{k}", work, self.nats.urls, self.arguments.lease_seconds)
                      for k in (1, 2, 3)]
        for node in self.nodes:
            node.start()
        step("three supportd nodes started: " + ", ".join(f"{n.name} on {n.url}" for n in self.nodes))
        leader = self.leader(60)
        step(f"{leader.name} leads; every node names it")

    def start_load(self):
        self.writers = Writers(self.nodes, self.ledger, self.arguments.writers)
        self.writers.start()
        self.sampler = LagSampler(self.nodes, self.ledger)
        self.sampler.start()
        self.load_started = time.monotonic()
        wait_until(lambda: len(self.ledger.acked()) >= 50, 60, "the writers' first 50 acknowledged writes")
        step(f"{self.arguments.writers} writers running ({len(self.ledger.acked())} writes acknowledged so far)")

    # basics
    def basics(self):
        client = self.client
        leader = self.leader()
        followers = [n for n in self.alive() if n is not leader]
        for node in self.alive():
            answer = client.request(node.port, "GET", "/v1/cluster", "auditor")
            body = answer.json() or {}
            check(answer.status == 200 and body.get("mode") == "cluster" and body.get("node") == node.name
                  and (body.get("leader") or {}).get("url") == leader.url and isinstance(body.get("appliedSeq"), int)
                  and answer.node == node.name and answer.seq is not None,
                  f"GET /v1/cluster on {node.name}: mode cluster, node {node.name}, leader {leader.name} at {leader.url}, "
                  f"Ledgerdesk-Node and Ledgerdesk-Seq", f"{answer.status} {answer.headers} {answer.body[:300]!r}")
        record = opening("basics", "c-basics")
        follower = followers[0]
        answer = client.request(follower.port, "POST", "/v1/tickets?source=e2e", "agent", record.body,
                                {"Idempotency-Key": record.key})
        problem = answer.json() or {}
        check(answer.status == 307 and answer.headers.get("location") == f"{leader.url}/v1/tickets?source=e2e"
              and "problem+json" in answer.headers.get("content-type", "")
              and ("leader" in problem or leader.url in str(problem.get("detail"))),
              f"a write to follower {follower.name} answers 307 to {leader.url}/v1/tickets?source=e2e, problem+json naming the leader",
              f"{answer.status} Location {answer.headers.get('location')!r} {answer.body[:300]!r}")
        self.ledger.add(record)
        send_write(client, [follower, leader], self.ledger, record, follower)
        require(record.acked is not None and record.ticket, f"the write followed to the leader is acknowledged ({record.ticket})",
                f"status {record.status}")
        first = client.request(leader.port, "POST", "/v1/tickets", "agent", record.body, {"Idempotency-Key": record.key})
        head_before = head(client, leader)
        again = None
        for node in followers:
            retry = client.request(node.port, "POST", "/v1/tickets", "agent", record.body, {"Idempotency-Key": record.key})
            if retry.status == 307:
                port, path = location_port(retry)
                again = client.request(port, "POST", path, "agent", record.body, {"Idempotency-Key": record.key})
        check(first.status == 201 and again is not None and again.status == 201 and again.body == first.body
              and head(client, leader) == head_before,
              "the same Idempotency-Key sent again through a follower answers the first 201 byte for byte and appends nothing",
              f"{first.status} / {again and again.status}, heads {head_before} / {head(client, leader)}")
        for node in followers:
            answer = client.request(node.port, "GET", f"/v1/tickets/{record.ticket}", "agent",
                                    headers={"Ledgerdesk-Min-Seq": str(record.seq)}, timeout=15)
            check(answer.status == 200 and answer.seq is not None and answer.seq >= record.seq
                  and (answer.json() or {}).get("id") == record.ticket,
                  f"read-your-writes on {node.name}: GET /v1/tickets/{record.ticket} with Ledgerdesk-Min-Seq {record.seq} "
                  f"answers it (Ledgerdesk-Seq {answer.seq})", f"{answer.status} {answer.body[:200]!r}")
        answer = client.request(followers[0].port, "GET", "/v1/tickets", "agent",
                                headers={"Ledgerdesk-Min-Seq": str(10 ** 9)}, timeout=20)
        check(answer.status == 503 and answer.headers.get("retry-after"),
              f"a read on {followers[0].name} with a Ledgerdesk-Min-Seq never reached answers 503 with Retry-After (after its wait)",
              f"{answer.status} {answer.headers}")

    # leader-kill
    def leader_kill(self, rounds=None):
        rounds = rounds or self.arguments.rounds
        for r in range(1, rounds + 1):
            if remaining() < 90:
                say(f"leader-kill: round {r} skipped (time limit)")
                break
            leader = self.leader()
            survivors = [n for n in self.alive() if n is not leader]
            before = len(self.ledger.acked())
            time.sleep(1.0)
            killed_at = time.monotonic()
            code = leader.kill()
            elapsed, record = probe_write(Client(), self.ledger, f"failover-{r}", survivors,
                                          limit=self.arguments.failover_limit + 10)
            if not check(elapsed is not None, f"round {r}: leader {leader.name} SIGKILLed (exit {code}); a survivor "
                         f"acknowledges a write", f"no 2xx within {self.arguments.failover_limit + 10} s from "
                         f"{', '.join(n.name for n in survivors)}"):
                raise Abort(f"no failover in round {r}")
            failover = (record.acked - killed_at)
            self.failovers.append(failover)
            check(failover <= self.arguments.failover_limit,
                  f"round {r}: {record.node} acknowledged a write {failover:.2f} s after the kill (limit "
                  f"{self.arguments.failover_limit} s; seq {record.seq})", f"{failover:.2f} s")
            new = self.leader()
            check(new is not leader and new.name == record.node,
                  f"round {r}: the survivors name one new leader, {new.name}", f"{new.name} / {record.node}")
            leader.start()
            self.caught_up(leader)
            view = cluster_view(self.client, leader) or {}
            check(view.get("role") == "follower" and (view.get("leader") or {}).get("node") == new.name,
                  f"round {r}: {leader.name} restarted on its directory, caught up to the stream as a follower")
            wait_until(lambda: len(self.ledger.acked()) > before + 20, 60, f"round {r}: writes go on")

    # nats-quorum
    def nats_quorum(self):
        # The server leading the stream's replicas goes first (JetStream elects another), then a second one.
        first = self.nats.stream_leader() or 1
        second = next(n for n in (1, 2, 3) if n != first)
        self.nats.kill(first)
        mark = time.monotonic()
        elapsed, record = probe_write(Client(), self.ledger, "one-nats-down", self.alive(), limit=30)
        check(elapsed is not None, f"nats n{first} (the stream's leader) SIGKILLed: writes go on ({record.node} "
              f"acknowledged seq {record.seq} {elapsed and round(elapsed, 2)} s later)")
        wait_until(lambda: len(self.ledger.acked_between(mark, time.monotonic())) >= 50, 60,
                   "50 writes acknowledged with one nats-server down")
        step(f"with one nats-server down: {len(self.ledger.acked_between(mark, time.monotonic()))} writes "
             f"acknowledged in {time.monotonic() - mark:.1f} s")

        self.nats.kill(second)
        lost = time.monotonic()
        client = Client()
        answers = []
        acknowledged = []

        def refused():
            for node in self.alive():
                record = opening("noquorum")
                self.ledger.add(record)
                try:
                    answer = client.request(node.port, "POST", "/v1/tickets", "agent", record.body,
                                            {"Idempotency-Key": record.key}, timeout=15)
                except (OSError, http.client.HTTPException) as error:
                    answers.append((node.name, repr(error)))
                    continue
                answers.append((node.name, answer.status))
                if 200 <= answer.status < 300:
                    acknowledged.append(f"{node.name} acknowledged {record.key} with seq {answer.seq}")
                if answer.status == 503 and answer.headers.get("retry-after") and \
                        "problem+json" in answer.headers.get("content-type", ""):
                    return True
            return False

        try:
            wait_until(refused, 40, "a write answered 503 with two nats-servers down", interval=0.2)
            step(f"nats n{second} SIGKILLed too: a write answers 503 with Retry-After "
                 f"({time.monotonic() - lost:.1f} s later; answers {answers[-6:]})")
        except Abort as abort:
            check(False, "with two nats-servers down, writes answer 503", f"{abort}; answers {answers[-10:]}")
        # Reads go on on every node while writes are refused.
        time.sleep(2)
        settled = time.monotonic()
        sample = next((r for r in self.ledger.acked() if r.kind == "open"), None)
        for node in self.alive():
            for path in (f"/v1/tickets/{sample.ticket}", "/v1/cluster", "/v1/events/head", "/v1/queues"):
                who = "auditor" if path != f"/v1/tickets/{sample.ticket}" else "agent"
                try:
                    answer = client.request(node.port, "GET", path, who, timeout=5)
                    status = answer.status
                except (OSError, http.client.HTTPException) as error:
                    status = repr(error)
                check(status == 200, f"no quorum: GET {path} on {node.name} answers 200", str(status))
        refused()
        check(not acknowledged, "no write sent after the quorum was lost was acknowledged", "; ".join(acknowledged[:5]))
        late = [r for r in self.ledger.acked_between(settled + 1, time.monotonic())]
        check(not late, "no writer got a 2xx while two of the three nats-servers were down",
              "; ".join(f"{r.key} seq {r.seq} from {r.node}" for r in late[:5]))

        for n in (first, second):
            ok, out = self.nats.restore(n)
            require(ok, f"nats n{n} restored on its store", out[-800:])
        ok, out = self.nats.wait(30)
        check(ok, "the nats-servers elect a JetStream meta leader again", out[-500:])
        restored = time.monotonic()
        elapsed, record = probe_write(Client(), self.ledger, "restored", self.alive(), limit=60)
        check(elapsed is not None, f"after the restore writes go on ({record.node} acknowledged seq {record.seq} "
              f"{time.monotonic() - restored:.1f} s after the restore)")
        for node in self.alive():
            check(self.caught_up(node), f"{node.name} caught up with the stream after the restore")

    # stale-leader
    def stale_leader(self):
        client = Client()
        leader = self.leader()
        others = [n for n in self.alive() if n is not leader]
        old_seq, old_hash = head(client, leader)
        leader.sigstop()
        stopped_at = time.monotonic()
        step(f"leader {leader.name} SIGSTOPped at its head {old_seq}")
        elapsed, record = probe_write(client, self.ledger, "stale", others,
                                      limit=self.arguments.failover_limit + 10)
        require(elapsed is not None, f"another node acknowledges a write while {leader.name} is stopped "
                f"({record.node}, seq {record.seq}, {time.monotonic() - stopped_at:.1f} s after the stop)")
        new = current_leader(client, others)
        # Past the lease by a margin, and writes go on meanwhile.
        until = stopped_at + 2 * self.arguments.lease_seconds + 1
        while time.monotonic() < until:
            time.sleep(0.2)
        leader.cont()
        resumed = time.monotonic()
        statuses = []
        wrong = []
        direct = Client()
        while time.monotonic() < resumed + 6:
            probe = opening("stale")
            self.ledger.add(probe)
            try:
                answer = direct.request(leader.port, "POST", "/v1/tickets", "agent", probe.body,
                                        {"Idempotency-Key": probe.key}, timeout=10)
                statuses.append(answer.status)
                if answer.status not in (307, 503):
                    wrong.append(f"{answer.status} (Ledgerdesk-Seq {answer.seq}) {answer.body[:150]!r}")
                    if 200 <= answer.status < 300:
                        probe.acked, probe.sent, probe.seq = time.monotonic(), time.monotonic(), answer.seq
                        body = answer.json() or {}
                        probe.ticket, probe.version, probe.node = body.get("id"), body.get("version"), leader.name
            except (OSError, http.client.HTTPException) as error:
                statuses.append(repr(error))
            time.sleep(0.1)
        check(not wrong and statuses, f"resumed stale leader {leader.name}: every write sent to it answers 307 or 503 "
              f"({len(statuses)} writes: {sorted(set(map(str, statuses)))})", "; ".join(wrong[:5]))
        view = cluster_view(client, leader)
        check(view is not None and view.get("role") == "follower" and (view.get("leader") or {}).get("node") == new.name,
              f"{leader.name} knows it follows {new.name}", str(view))
        self.caught_up(leader)
        mine = feed(client, leader, old_seq)
        theirs = {e["seq"]: e["hash"] for e in feed(client, new, old_seq)}
        compared = [e for e in mine if e["seq"] in theirs]
        differing = [e["seq"] for e in compared if theirs[e["seq"]] != e["hash"]]
        check(compared and not differing and len(compared) == len(mine),
              f"every event {leader.name} holds after its old head {old_seq} is the stream's (same hash as {new.name}'s, "
              f"seqs {old_seq + 1}..{compared[-1]['seq'] if compared else old_seq})",
              f"{len(mine)} events read from {leader.name}, {len(compared)} found at {new.name}; differing seqs {differing[:10]}")

    # stream-loss (not in the default set): every nats-server store wiped.
    def stream_loss(self):
        """All three nats-server stopped and their stores deleted (a lost stream), then started empty: the
        nodes' logs are ahead of the stream; the desk must publish them anew, lose no acknowledged write,
        and go on writing (docs/operations.md, "after a lost tail the first leader publishes it anew")."""
        leader = self.leader()
        before = head(self.client, leader)
        self.nats.stop()
        for n in (1, 2, 3):
            store = os.path.join(self.nats.base, f"n{n}", "store")
            shutil.rmtree(store, ignore_errors=True)
            os.makedirs(store)
        step(f"the three nats-server stopped and their stores deleted (the leader {leader.name} was at seq {before[0]})")
        self.nats.start()
        restored = time.monotonic()
        elapsed, record = probe_write(Client(), self.ledger, "stream-lost", self.alive(), limit=30)
        if not check(elapsed is not None, f"after the stream was lost, the running nodes write again ({record.node} "
                     f"acknowledged seq {record.seq} {time.monotonic() - restored:.1f} s after nats-server restarted)",
                     f"no 2xx within 30 s; last answer {record.last}"):
            # What an operator would do next: restart the nodes (each prepares the stream at its start).
            for node in self.nodes:
                code = node.terminate()
                check(code == 0, f"{node.name} stops on SIGTERM with exit 0 (to restart it)", str(code))
                node.start()
            restarted = time.monotonic()
            elapsed, record = probe_write(Client(), self.ledger, "stream-lost-restarted", self.alive(), limit=60)
            check(elapsed is not None, f"after restarting the nodes, writes go on ({record.node} acknowledged seq "
                  f"{record.seq} {time.monotonic() - restarted:.1f} s after the restart)", f"last answer {record.last}")
        stream = self.nats.stream_last_seq()
        check(stream is not None and stream >= before[0], f"the stream holds the logs again (last seq {stream} >= {before[0]})",
              str(stream))
        for node in self.alive():
            self.caught_up(node)
        step("every node caught up with the republished stream")

    # Steady load (bench).
    def steady(self, nodes, label, seconds, sample=False):
        """A steady load without faults; the sampler's writes are not counted in the figures."""
        ledger = Ledger()
        writers = Writers(nodes, ledger, self.arguments.writers, prefix=f"{label[:1]}")
        writers.start()
        wait_until(lambda: len(ledger.acked()) >= 20, 60, f"{label}: the first writes acknowledged")
        time.sleep(2)  # warm-up
        sampler = LagSampler(nodes, Ledger()) if sample else None
        if sampler:
            sampler.start()
        pids = [n.process.pid for n in nodes if n.alive()] + (self.nats.pids() if self.nats and len(nodes) > 1 else [])
        cpu_before = [cpu_seconds()] + [cpu_seconds(pid) for pid in pids]
        start = time.monotonic()
        time.sleep(min(seconds, max(1, remaining() - 60)))
        end = time.monotonic()
        cpu_after = [cpu_seconds()] + [cpu_seconds(pid) for pid in pids]
        records = ledger.acked_between(start, end)
        used = [b - a for a, b in zip(cpu_before, cpu_after)]
        servers = len([n for n in nodes if n.alive()])
        figure(f"{label}: CPU over the {end - start:.1f} s: this script {used[0]:.1f} s, supportd {sum(used[1:1 + servers]):.1f} s"
               + (f", nats-server {sum(used[1 + servers:]):.1f} s" if len(used) > 1 + servers else ""))
        if sampler:
            sampler.finish()
            self.steady_sampler = sampler
        writers.finish()
        check(not ledger.unexpected, f"{label}: no write answered anything but 2xx, 307 or 503",
              str(ledger.unexpected[:5]))
        return load_figures(records, end - start, label), ledger

    # The final checks.
    def final_checks(self):
        if self.writers:
            check(self.writers.finish(), "the writers stop")
        if self.sampler:
            self.sampler.finish()
        self.check_exits("at the end of the scenarios")
        for n in list(self.nats.down):
            self.nats.restore(n)
        self.nats.wait(30)
        for node in self.nodes:
            if node.stopped:
                node.cont()
            if not node.alive():
                node.start()
                say(f"{node.name} restarted for the final checks")
        leader = self.leader(60)
        client = self.client

        def converged():
            try:
                heads = {n.name: head(client, n) for n in self.nodes}
            except (Abort, OSError, http.client.HTTPException):
                return None
            stream = self.nats.stream_last_seq()
            return heads if len(set(heads.values())) == 1 and stream == next(iter(heads.values()))[0] else None

        try:
            heads = wait_until(converged, 90, "the heads converge", interval=0.5)
            seq, digest = next(iter(heads.values()))
            step(f"every node's head is seq {seq} {digest[:12]}…, the stream's last seq (nats-server's /jsz)")
        except Abort as abort:
            views = {n.name: cluster_view(client, n) for n in self.nodes}
            check(False, "the heads converge on the stream's last seq", f"{abort}: stream (nats /jsz) at "
                  f"{self.nats.stream_last_seq()}; {views}")
        stream = self.nats.stream_last_seq()
        views = {n.name: cluster_view(client, n) for n in self.nodes}
        check(all(v and v.get("streamSeq") == stream and v.get("appliedSeq") == stream for v in views.values()),
              f"GET /v1/cluster on every node says streamSeq = appliedSeq = {stream}, the stream's last seq",
              "; ".join(f"{name}: role {v and v.get('role')}, appliedSeq {v and v.get('appliedSeq')}, streamSeq "
                        f"{v and v.get('streamSeq')}" for name, v in views.items()))
        logs = {n.name: feed(client, n) for n in self.nodes}
        reference = logs[leader.name]
        for name, events in logs.items():
            gaps = [e["seq"] for k, e in enumerate(events) if e["seq"] != k + 1]
            check(not gaps, f"{name}'s log is gap-free from seq 1 ({len(events)} events)", f"first wrong seqs {gaps[:5]}")
            if name == leader.name:
                continue
            differing = [a["seq"] for a, b in zip(events, reference) if a != b]
            check(not differing and len(events) == len(reference),
                  f"{name}'s log equals {leader.name}'s seq by seq (same envelope, same hash)",
                  f"{len(events)} vs {len(reference)} events; differing seqs {differing[:10]}"
                  + (f"; seq {differing[0]}: {name} {logs[name][differing[0] - 1]['hash'][:12]} vs "
                     f"{leader.name} {reference[differing[0] - 1]['hash'][:12]}" if differing else ""))
        places = {}
        for event in reference:
            body = (event.get("data") or {}).get("body")
            if isinstance(body, str) and body.startswith("ce2e:"):
                places.setdefault(body, []).append(event)
        acked = self.ledger.acked()
        missing, wrong, twice = [], [], []
        for record in acked:
            events = places.get(record.marker, [])
            if not events:
                missing.append(f"{record.key} ({record.ticket} v{record.version}, Ledgerdesk-Seq {record.seq} from {record.node})")
                continue
            event = events[0]
            if event["ticket"] != record.ticket or event["version"] != record.version or \
                    (record.seq is not None and event["seq"] > record.seq):
                wrong.append(f"{record.key}: answer {record.ticket} v{record.version} Ledgerdesk-Seq {record.seq} from "
                             f"{record.node}, log {event['ticket']} v{event['version']} seq {event['seq']}")
        for marker, events in places.items():
            if len(events) > 1:
                twice.append(f"{marker} at seqs {[e['seq'] for e in events]}")
        check(not missing, f"every one of the {len(acked)} acknowledged writes is in every node's log", "; ".join(missing[:10]))
        check(not wrong, "each at the ticket and version its answer gave, at a seq <= its Ledgerdesk-Seq", "; ".join(wrong[:10]))
        check(not twice, "no write is in the log twice (idempotency keys across failovers)", "; ".join(twice[:10]))
        check(not self.ledger.unexpected, "no write answered anything but 2xx, 307 or 503",
              "; ".join(f"{k} on port {p}: {s} {b!r}" for k, p, s, b in self.ledger.unexpected[:8]))
        if self.sampler:
            check(not self.sampler.violations, f"read-your-writes: every follower read with Ledgerdesk-Min-Seq reflected it "
                  f"({len(self.sampler.delays)} reads)", "; ".join(self.sampler.violations[:5]))
        final = head(client, leader)
        for node in self.nodes:
            code = node.terminate()
            check(code == 0, f"{node.name} stops on SIGTERM with exit 0", str(code))
        for node in self.nodes:
            result = subprocess.run([self.arguments.replay, "verify", "--data-dir", node.data, "--expect-head",
                                     f"{final[0]}:{final[1]}", "--cluster", self.nats.urls],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=max(10, min(120, remaining())))
            check(result.returncode == 0, f"support-replay verify --expect-head {final[0]}:… --cluster passes on {node.name}'s "
                  f"directory (the chain, and the log is the stream's prefix)", result.stdout.decode(errors="replace")[-600:])

    def figures(self):
        acked = self.ledger.acked()
        if self.failovers:
            figure(f"failover (SIGKILL of the leader until a survivor acknowledges a write): p50 "
                   f"{percentile(self.failovers, 50):.2f} s, max {max(self.failovers):.2f} s over {len(self.failovers)} rounds "
                   f"({', '.join(f'{f:.2f}' for f in self.failovers)})")
        if acked:
            span = max(r.acked for r in acked) - self.load_started
            load_figures(acked, span, "whole run, faults included (retries and redirects in the latency)")
        if self.sampler and self.sampler.behind:
            b = self.sampler.behind
            figure(f"follower lag under load: {percentile(b, 50)} events behind the stream at p50, {percentile(b, 99)} at "
                   f"p99, {max(b)} max ({len(b)} samples)")
        if self.sampler and self.sampler.delays:
            d = self.sampler.delays
            figure(f"follower read-your-writes delay (leader's 2xx until a follower answers with Ledgerdesk-Min-Seq): "
                   f"p50 {fmt_ms(percentile(d, 50))}, p99 {fmt_ms(percentile(d, 99))}, max {fmt_ms(max(d))} ({len(d)} reads)")
        with self.ledger.lock:
            figure(f"answers seen by the writers: {dict(sorted(self.ledger.statuses.items(), key=str))}; "
                   f"writes given up (no 2xx within their bound): {len(self.ledger.abandoned)} {self.ledger.abandoned[:3]}")


def single_node_bench(arguments, root):
    work = os.path.join(root, "single")
    os.makedirs(work)
    write_tokens(work)
    node = Node(arguments.supportd, "single", work, None, arguments.lease_seconds)
    node.start()
    step(f"single-node supportd on {node.url}")
    try:
        figures, _ = Run.steady(Run(arguments, root), [node], "single node", arguments.bench_seconds)
    finally:
        code = node.terminate()
    check(code == 0, "the single-node supportd stops on SIGTERM with exit 0", str(code))
    return figures


SCENARIOS = ["basics", "leader-kill", "nats-quorum", "stale-leader"]
EXTRA_SCENARIOS = ["stream-loss"]  # run with --only


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--supportd", required=True)
    parser.add_argument("--replay", required=True, help="the support-replay binary")
    parser.add_argument("--nats-cluster", default=os.path.join(here, "nats-cluster.sh"))
    parser.add_argument("--only", choices=SCENARIOS + EXTRA_SCENARIOS, action="append",
                        help="run only this scenario (repeatable)")
    parser.add_argument("--rounds", type=int, default=None, help="leader kills (default 3; 5 with --bench)")
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--lease-seconds", type=int, default=4)
    parser.add_argument("--failover-limit", type=float, default=None,
                        help="seconds a failover may take (default: the lease + 4 s; docs/operations.md says about the lease)")
    parser.add_argument("--time-limit", type=float, default=540.0, help="the whole run's bound, in seconds")
    parser.add_argument("--bench", action="store_true", help="also measure a steady load: single node vs cluster")
    parser.add_argument("--bench-seconds", type=float, default=30.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data, stores)")
    arguments = parser.parse_args()
    if arguments.rounds is None:
        arguments.rounds = 5 if arguments.bench else 3
    if arguments.failover_limit is None:
        arguments.failover_limit = arguments.lease_seconds + 4.0
    DEADLINE[0] = time.monotonic() + arguments.time_limit
    chosen = arguments.only or SCENARIOS

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)  # also when started in the background (where SIGINT is ignored)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: every thread's stack on stderr
    root = tempfile.mkdtemp(prefix="cluster-e2e-")
    say(f"working in {root}")
    run = Run(arguments, root)
    global FAILED
    try:
        try:
            single = single_node_bench(arguments, root) if arguments.bench else None
            run.start_cluster()
            if "basics" in chosen:
                run.basics()
            if arguments.bench:
                run.bench["cluster"], _ = run.steady(run.nodes, "cluster", arguments.bench_seconds, sample=True)
                run.bench["single"] = single
            run.start_load()
            for name in chosen:
                if name == "basics":
                    continue
                try:
                    {"leader-kill": run.leader_kill, "nats-quorum": run.nats_quorum, "stale-leader": run.stale_leader,
                     "stream-loss": run.stream_loss}[name]()
                except Abort as abort:
                    if not abort.counted:
                        FAILED += 1
                        say(f"FAILED - {name}: {abort}")
                except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError, AttributeError) as error:
                    FAILED += 1
                    say(f"FAILED - {name}: {error!r}\n{traceback.format_exc()}")
                run.check_exits(f"after {name}")
            run.final_checks()
        except Abort as abort:
            if not abort.counted:
                FAILED += 1
                say(f"FAILED - {abort}")
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError, AttributeError) as error:
            FAILED += 1
            say(f"FAILED - {error!r}\n{traceback.format_exc()}")
        run.figures()
        if arguments.bench and "cluster" in run.bench:
            print_bench_table(arguments, run)
    except KeyboardInterrupt as stop:
        FAILED += 1
        say(f"FAILED - interrupted ({stop})")
    finally:
        if run.writers:
            run.writers.stop.set()
        if run.sampler:
            run.sampler.stop.set()
        Node.kill_all()
        if run.nats:
            run.nats.stop()
        if FAILED:
            for node in Node.everyone:
                if node.log and os.path.exists(node.log.name):
                    with open(node.log.name, errors="replace") as f:
                        say(f"--- last lines of {node.log.name}")
                        print(f.read()[-2000:], flush=True)
        if arguments.keep or FAILED:
            say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"cluster-e2e: {PASSED} passed, {FAILED} failed", flush=True)
    return 1 if FAILED else 0


def print_bench_table(arguments, run):
    single, cluster = run.bench.get("single"), run.bench.get("cluster")
    lines = [
        "",
        f"| {arguments.writers} writers, {arguments.bench_seconds:.0f} s each | durable commands/s | p50 | p99 |",
        "| --- | --- | --- | --- |",
    ]
    for label, f in (("single node", single), ("cluster (3 supportd, 3 nats-server, replicas 3)", cluster)):
        if f:
            lines.append(f"| {label} | {f['rate']:.0f} | {fmt_ms(f['p50'])} | {fmt_ms(f['p99'])} |")
    if run.failovers:
        lines.append("")
        lines.append(f"Failover over {len(run.failovers)} rounds: p50 {percentile(run.failovers, 50):.2f} s, "
                     f"max {max(run.failovers):.2f} s.")
    sampler = run.steady_sampler
    if sampler and sampler.behind:
        b, d = sampler.behind, sampler.delays
        lines.append(f"Follower lag under the steady load: {percentile(b, 50)} events behind the stream at p50, "
                     f"{percentile(b, 99)} at p99, {max(b)} max ({len(b)} samples); a follower answers a read with "
                     f"Ledgerdesk-Min-Seq of a write {fmt_ms(percentile(d, 50))} after the leader's 2xx at p50, "
                     f"{fmt_ms(percentile(d, 99))} at p99 ({len(d)} reads).")
    with PRINT:
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())

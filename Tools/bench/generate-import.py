#!/usr/bin/env python3
"""Writes a valid NDJSON import of about SIZE megabytes to standard output, for measuring an
import's memory: TICKETS tickets are opened, then customer and agent messages (1 kB bodies)
alternate on them until the size is reached, so the number of tickets (and with it the
importer's per-ticket state) stays the same whatever the size.

    Tools/bench/generate-import.py --megabytes 300 --tickets 10000 > /tmp/import.ndjson
"""
import argparse, datetime, json, sys

parser = argparse.ArgumentParser()
parser.add_argument("--megabytes", type=int, default=300)
parser.add_argument("--tickets", type=int, default=10000)
args = parser.parse_args()

start = datetime.datetime(2025, 1, 6, 8, 0, 0, tzinfo=datetime.timezone.utc)
body = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 18)[:1000]
out = sys.stdout
written = 0
limit = args.megabytes * 1_000_000
step = 0

def line(ticket, version, kind, actor, type_, data):
    global written, step
    step += 1
    at = start + datetime.timedelta(milliseconds=step)
    text = json.dumps({"ticket": ticket, "version": version, "type": type_,
                       "at": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
                       "actor": {"kind": kind, "id": actor}, "data": data}, separators=(",", ":"))
    out.write(text + "\n")
    written += len(text) + 1

for i in range(1, args.tickets + 1):
    line(f"B-{i}", 1, "customer", f"c-{i % 500}", "ticket.opened",
         {"customer": f"c-{i % 500}", "subject": f"Benchmark ticket {i}", "body": body,
          "channel": "web", "product": "hosting", "priority": "normal"})
version = 1
while written < limit:
    version += 1
    for i in range(1, args.tickets + 1):
        if version % 2 == 0:
            line(f"B-{i}", version, "agent", f"agent-{i % 20}", "message.posted", {"body": body})
        else:
            line(f"B-{i}", version, "customer", f"c-{i % 500}", "message.posted", {"body": body})
        if written >= limit and i == args.tickets:
            break

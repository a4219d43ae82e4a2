#!/usr/bin/env python3
"""Convert the public ServiceNow incident log (shared/data/uci-servicenow-incident-event-log/
incident_event_log.csv.gz, 141,712 updates of 24,918 incidents) into Ledgerdesk import NDJSON
(SPEC §2.1, §7): the real helpdesk log that Tools/bench/log-vs-postgres.sh imports.

Usage: import-servicenow-csv.py incident_event_log.csv.gz > servicenow.ndjson

Each row is the incident's state after one update; events come from comparing it with the
previous row of the same incident (the data README's suggested mapping). Timestamps have no
zone and no seconds: read as UTC, and never going backwards within a ticket.
- first row: ticket.opened by the caller (customer), at `opened_at`; channel from contact_type,
  product from category, priority from priority (1 Critical .. 4 Low -> urgent .. low);
- assigned_to set or changed -> ticket.assigned; assignment_group changed -> ticket.escalated;
- priority changed -> priority.changed;
- incident_state Active -> status open; Awaiting User Info -> pending; Awaiting Vendor, Problem
  or Evidence -> on_hold; Resolved -> an agent message and status solved; Closed -> closed;
- an update that changes none of these -> an internal note (the update itself);
- nothing after closed (the rules refuse it); a status change to the current status is left out.
The actor of every change is `sys_updated_by`. Python standard library only.
"""
import csv
import gzip
import json
import sys
from datetime import datetime, timezone

PRIORITY = {"1 - Critical": "urgent", "2 - High": "high", "3 - Moderate": "normal", "4 - Low": "low"}
CHANNEL = {"Phone": "phone", "Email": "email", "Self service": "web", "IVR": "phone", "Direct opening": "web"}
STATUS = {"Active": "open", "Awaiting User Info": "pending", "Awaiting Vendor": "on_hold",
          "Awaiting Problem": "on_hold", "Awaiting Evidence": "on_hold", "Resolved": "solved", "Closed": "closed"}


def instant(text):
    stamp = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ident(prefix, value):
    value = value.strip()
    if value in ("", "?"):
        return prefix + "-unknown"
    return prefix + "-" + value.split()[-1]


def convert(rows):
    """Events of one incident as (at, type, actor, data), in version order."""
    events = []
    first = rows[0]
    opened = instant(first["opened_at"])
    customer = ident("customer", first["caller_id"])
    priority = PRIORITY.get(first["priority"], "normal")
    team = ident("product", first["category"])
    events.append((opened, "ticket.opened", {"kind": "customer", "id": customer},
                   {"customer": customer, "subject": "%s (%s)" % (first["number"], first["u_symptom"]),
                    "body": "Incident %s opened by phone or portal" % first["number"],
                    "channel": CHANNEL.get(first["contact_type"], "web"), "product": team, "priority": priority}))
    status, assignee, group, last_at = "new", None, None, opened
    for row in rows:
        at = max(instant(row["sys_updated_at"]), last_at)
        last_at = at
        agent = {"kind": "agent", "id": ident("agent", row["sys_updated_by"])}
        before = len(events)
        if row["assignment_group"] not in ("", "?") and ident("team", row["assignment_group"]) != group:
            group = ident("team", row["assignment_group"])
            events.append((at, "ticket.escalated", agent, {"team": group, "reason": "assignment group"}))
        if row["assigned_to"] not in ("", "?") and ident("agent", row["assigned_to"]) != assignee:
            assignee = ident("agent", row["assigned_to"])
            events.append((at, "ticket.assigned", agent, {"agent": assignee}))
        level = PRIORITY.get(row["priority"], priority)
        if level != priority:
            priority = level
            events.append((at, "priority.changed", agent, {"priority": level}))
        target = STATUS.get(row["incident_state"])
        if target is not None and target != status:
            if target == "solved":
                events.append((at, "message.posted", agent, {"body": "Resolved (%s)" % row["closed_code"]}))
                status = "open" if status == "new" else status
            if target != status:
                status = target
                events.append((at, "status.changed", agent, {"status": target}))
        if len(events) == before:
            events.append((at, "note.added", agent, {"body": "Update %s" % row["sys_mod_count"]}))
        if status == "closed":
            break
    return events


def main(path):
    opener = gzip.open if path.endswith(".gz") else open
    incidents = {}
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            incidents.setdefault(row["number"], []).append(row)
    lines = []
    for number, rows in incidents.items():
        for version, (at, kind, actor, data) in enumerate(convert(rows), 1):
            lines.append((at, {"ticket": number, "version": version, "type": kind, "at": at, "actor": actor, "data": data}))
    # A stable sort by `at` keeps each ticket's versions in order (its `at`s never go back).
    lines.sort(key=lambda line: line[0])
    out = sys.stdout
    for _, event in lines:
        out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1])

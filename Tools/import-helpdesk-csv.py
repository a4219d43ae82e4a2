#!/usr/bin/env python3
"""Convert the public "Helpdesk" event log (shared/data/helpdesk-italian-software/finale.csv)
into Ledgerdesk import NDJSON (SPEC §2.1, §7), as a worked example of migrating another tool.

Usage: import-helpdesk-csv.py finale.csv > helpdesk.ndjson
Then:  support-replay import --data-dir DIR helpdesk.ndjson   (or POST /v1/import as an admin)

Mapping (one case = one ticket `HD-<n>`; timestamps are local Italian time):
- the case's first row opens the ticket, by its customer, channel `web`, product and priority
  from the row (service_level Value 1..4 -> urgent, high, normal, low; absent -> normal);
- "Take in charge ticket" -> ticket.assigned to the resource (a hand-off when it changes);
- "Assign seriousness" -> priority.changed when the service level changed, else a note;
- "Wait" -> status pending; "Resolve ticket" -> an agent message with status solved;
- "Closed" -> status closed; "Require upgrade" -> ticket.escalated to team "upgrade";
- anything else -> an internal note naming the activity;
- a status change to the current status, or anything after closed, is left out (the rules refuse it).
Python standard library only.
"""
import csv
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
PRIORITY = {"Value 1": "urgent", "Value 2": "high", "Value 3": "normal", "Value 4": "low"}


def instant(text):
    local = datetime.strptime(text, "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=ROME)
    utc = local.astimezone(ZoneInfo("UTC"))
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)


def ident(prefix, value):
    return prefix + "-" + value.replace("Value ", "").strip()


def main(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    cases = {}
    order = []
    for row in rows:
        case = row[0]
        if case not in cases:
            cases[case] = []
            order.append(case)
        cases[case].append(row)
    # Emit in global `at` order (cases interleave in time), each ticket's rows in their order.
    lines = []
    for case in order:
        ticket = "HD-" + case.replace("Case ", "")
        events = []
        status, priority, assignee, last_at = None, None, None, None
        for k, row in enumerate(cases[case]):
            activity, resource, at = row[1], ident("agent", row[2]), instant(row[3])
            customer, product, level = ident("customer", row[8]), ident("product", row[9]), PRIORITY.get(row[12], "normal")
            if last_at is not None and at < last_at:
                at = last_at
            last_at = at
            agent = {"kind": "agent", "id": resource}
            if k == 0:
                status, priority = "new", level
                events.append(("ticket.opened", at, {"kind": "customer", "id": customer},
                               {"customer": customer, "subject": "%s: %s" % (case, activity), "body": activity,
                                "channel": "web", "product": product, "priority": level}))
                if activity == "Take in charge ticket":
                    assignee = resource
                    events.append(("ticket.assigned", at, agent, {"agent": resource}))
                continue
            if status == "closed":
                continue
            if activity == "Take in charge ticket":
                if resource != assignee:
                    assignee = resource
                    events.append(("ticket.assigned", at, agent, {"agent": resource}))
            elif activity == "Assign seriousness":
                if level != priority:
                    priority = level
                    events.append(("priority.changed", at, agent, {"priority": level}))
                else:
                    events.append(("note.added", at, agent, {"body": "Seriousness assessed"}))
            elif activity == "Wait":
                if status != "pending":
                    status = "pending"
                    events.append(("status.changed", at, agent, {"status": "pending"}))
            elif activity == "Resolve ticket":
                events.append(("message.posted", at, agent, {"body": "Resolved: " + activity}))
                if status == "new":
                    status = "open"
                if status != "solved":
                    status = "solved"
                    events.append(("status.changed", at, agent, {"status": "solved"}))
            elif activity == "Closed":
                status = "closed"
                events.append(("status.changed", at, agent, {"status": "closed"}))
            elif activity == "Require upgrade":
                events.append(("ticket.escalated", at, agent, {"team": "upgrade", "reason": activity}))
            else:
                events.append(("note.added", at, agent, {"body": activity}))
        for version, (kind, at, actor, data) in enumerate(events, 1):
            lines.append((at, ticket, version, {"ticket": ticket, "version": version, "type": kind, "at": at,
                                                "actor": actor, "data": data}))
    # Stable sort by `at` keeps each ticket's versions in order (its `at`s never go back).
    lines.sort(key=lambda line: line[0])
    out = sys.stdout
    for _, _, _, event in lines:
        out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1])

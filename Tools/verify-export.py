#!/usr/bin/env python3
"""Verify a Ledgerdesk NDJSON export without Swift or the store (SPEC §2.1).

Recomputes every event's hash: SHA-256 over the 64 lowercase hex digits of `prev` followed by
the RFC 8785 (JCS) canonical JSON of the envelope without `prev` and `hash`; checks that each
`prev` is the previous `hash` (64 zeros first), that seq runs 1, 2, 3... and each ticket's
version 1, 2, 3...; optionally that the log extends a head noted earlier.

Usage: verify-export.py EXPORT.ndjson [--expect-head SEQ:HASH] [--from-prev HASH]
Exit 0 when everything holds; otherwise prints the first bad line and exits 1.
Python standard library only.
"""
import hashlib
import json
import math
import sys


def es_number(value):
    """ECMAScript Number.prototype.toString, as RFC 8785 requires."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError("non-finite number")
    if value == 0:
        return "0"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    sign = "-" if value < 0 else ""
    text = repr(abs(value))  # shortest round-trip digits
    mantissa, _, exponent = text.partition("e")
    exponent = int(exponent) if exponent else 0
    if "." in mantissa:
        whole, frac = mantissa.split(".")
    else:
        whole, frac = mantissa, ""
    digits = (whole + frac).lstrip("0")
    n = len(whole) + exponent - (len(whole + frac) - len((whole + frac).lstrip("0")))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    body = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + body + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def jcs_string(s):
    out = ['"']
    for ch in s:
        c = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif c < 0x20:
            out.append({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(c, "\\u%04x" % c))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(value):
    """RFC 8785 canonical JSON text of a parsed JSON value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return es_number(value)
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value.keys(), key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs(value[k]) for k in keys) + "}"
    raise ValueError("unsupported JSON value")


def no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError("duplicate member %r" % key)
        seen[key] = value
    return seen


def main(argv):
    args = argv[1:]
    expect = None
    prev = "0" * 64
    if "--expect-head" in args:
        i = args.index("--expect-head")
        seq_text, _, hash_text = args[i + 1].partition(":")
        expect = (int(seq_text), hash_text)
        del args[i:i + 2]
    if "--from-prev" in args:  # verify a partial export (export --from SEQ)
        i = args.index("--from-prev")
        prev = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        print(__doc__)
        return 2
    partial = prev != "0" * 64
    expected_seq = None
    versions = {}
    seen_head = None
    count = 0
    with open(args[0], "rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                event = json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)
                fields = {"seq", "ticket", "version", "type", "at", "recorded", "actor", "data", "prev", "hash"}
                if set(event) != fields:
                    raise ValueError("fields are %s" % sorted(event))
                body = {k: v for k, v in event.items() if k not in ("prev", "hash")}
                digest = hashlib.sha256((event["prev"] + jcs(body)).encode("utf-8")).hexdigest()
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as problem:
                print("line %d: unreadable: %s" % (number, problem))
                return 1
            seq = event["seq"]
            if expected_seq is not None and seq != expected_seq:
                print("line %d: seq %d, expected %d (a missing or reordered event)" % (number, seq, expected_seq))
                return 1
            if event["prev"] != prev:
                print("line %d (seq %d): prev does not match the previous hash" % (number, seq))
                return 1
            if digest != event["hash"]:
                print("line %d (seq %d): hash mismatch (the event was altered)" % (number, seq))
                return 1
            ticket = event["ticket"]
            # A partial export (--from-prev) may start in the middle of a ticket's stream.
            if ticket in versions or not partial:
                want = versions.get(ticket, 0) + 1
                if event["version"] != want:
                    print("line %d (seq %d): version %d of %s, expected %d" % (number, seq, event["version"], ticket, want))
                    return 1
            versions[ticket] = event["version"]
            prev = event["hash"]
            expected_seq = seq + 1
            seen_head = (seq, event["hash"])
            count += 1
            if expect and seq == expect[0] and event["hash"] != expect[1]:
                print("seq %d has hash %s, not the expected head %s (re-chained or altered)" % (seq, event["hash"], expect[1]))
                return 1
    if expect and (seen_head is None or seen_head[0] < expect[0]):
        print("the export ends before the expected head seq %d (truncated)" % expect[0])
        return 1
    print("OK: %d events, head %s" % (count, "%d:%s" % seen_head if seen_head else "empty"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

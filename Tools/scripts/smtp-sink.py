#!/usr/bin/env python3
"""A local SMTP sink on aiosmtpd, for the SMTP client's tests and Tools/scripts/mail-e2e.sh.

    smtp-sink.py PORT DIR [--starttls CERT KEY] [--auth USER:PASSWORD]
                 [--reject-rcpt ADDR]... [--tempfail-rcpt ADDR]... [--auth-login-only] [--reject-data]
                 [--refuse-ehlo] [--stdin-watch]

Listens on 127.0.0.1:PORT (0: a free port) and prints the port it listens on as the first line of
standard output. Each accepted message is saved in DIR as N.eml (the bytes of DATA, dot-unstuffed,
line endings as received) with N.json beside it (mail_from, rcpt_tos, mail_options, tls, auth);
the .eml is renamed into place after the .json is written, so a poller that sees N.eml sees both
whole. --starttls offers STARTTLS with that certificate and key; --auth requires AUTH (PLAIN or
LOGIN, also without TLS) before MAIL; --reject-rcpt answers RCPT TO for ADDR with 550,
--tempfail-rcpt with 451; --auth-login-only offers LOGIN and not PLAIN; --reject-data answers the
end of DATA with 554; --refuse-ehlo answers EHLO with 502. Stops on SIGTERM or SIGINT, and when its standard input reaches end of
file when started with --stdin-watch (so it never outlives the test process that started it).
"""
import argparse
import asyncio
import itertools
import json
import os
import signal
import ssl
import sys
import threading

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    sys.stderr.write("smtp-sink: the Python package aiosmtpd is missing (python3 -m pip install aiosmtpd, "
                     "or Tools/scripts/ensure-deps.sh)\n")
    sys.exit(3)


class NoEhloSMTP(SMTP):
    async def smtp_EHLO(self, hostname):
        await self.push("502 5.5.2 Error: command not recognized")


class Sink:
    def __init__(self, directory, reject, tempfail, reject_data):
        self.directory = directory
        self.reject_data = reject_data
        self.reject = {a.lower() for a in reject}
        self.tempfail = {a.lower() for a in tempfail}
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if address.lower() in self.tempfail:
            return f"451 4.3.0 <{address}>: Temporary failure, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.reject_data:
            return "554 5.6.0 Message content rejected"
        number = next(self.counter)
        while os.path.exists(os.path.join(self.directory, f"{number}.eml")):
            number = next(self.counter)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": session.ssl is not None,
            "auth": session.authenticated,
        }
        base = os.path.join(self.directory, str(number))
        with open(base + ".json", "w") as out:
            json.dump(meta, out)
        with open(base + ".eml.part", "wb") as out:
            out.write(envelope.original_content)
        os.rename(base + ".eml.part", base + ".eml")
        return f"250 2.0.0 Ok: queued as S{number}"


def main():
    parser = argparse.ArgumentParser(description="SMTP sink for tests")
    parser.add_argument("port", type=int)
    parser.add_argument("directory")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    parser.add_argument("--reject-rcpt", action="append", default=[], metavar="ADDR")
    parser.add_argument("--tempfail-rcpt", action="append", default=[], metavar="ADDR")
    parser.add_argument("--auth-login-only", action="store_true", help="offer AUTH LOGIN only (with --auth)")
    parser.add_argument("--reject-data", action="store_true", help="answer the end of DATA with 554 and keep nothing")
    parser.add_argument("--refuse-ehlo", action="store_true", help="answer EHLO with 502 (the client falls back to HELO)")
    parser.add_argument("--stdin-watch", action="store_true", help="exit when standard input closes")
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)

    handler = Sink(args.directory, args.reject_rcpt, args.tempfail_rcpt, args.reject_data)
    kwargs = {"hostname": "sink.test", "ident": "ledgerdesk smtp-sink", "data_size_limit": 64 * 1024 * 1024}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.starttls[0], args.starttls[1])
        kwargs["tls_context"] = context
    if args.auth:
        user, _, password = args.auth.partition(":")

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=False)
        if args.auth_login_only:
            kwargs["auth_exclude_mechanism"] = ["PLAIN"]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server_class = NoEhloSMTP if args.refuse_ehlo else SMTP
    server = loop.run_until_complete(loop.create_server(lambda: server_class(handler, loop=loop, **kwargs), "127.0.0.1", args.port))
    print(server.sockets[0].getsockname()[1], flush=True)

    stop = loop.stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    if args.stdin_watch:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            loop.call_soon_threadsafe(stop)
        threading.Thread(target=watch, daemon=True).start()
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


if __name__ == "__main__":
    main()

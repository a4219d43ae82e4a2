#!/usr/bin/env bash
# The e-mail channel end to end, with Debian's Postfix on loopback and an aiosmtpd sink.
#
#   Tools/scripts/mail-e2e.sh               # the scenario against .build/debug/supportd and support-mailgate
#   Tools/scripts/mail-e2e.sh --self-test   # only the MTA part: Postfix pipes a local alias, relays the rest to the sink
#
# Runs as root (Postfix's master starts as root). Installs what is missing: Debian's postfix
# (preseeded "No configuration": the machine's own /etc/postfix stays unused) and curl, and the
# Python package aiosmtpd. Then it runs a PRIVATE Postfix instance in a temporary directory: its
# own config_directory (main.cf, master.cf, aliases), queue_directory and data_directory, an smtpd
# on 127.0.0.1 at a free port only, mydestination = desk.test, every other domain relayed to the
# sink ([127.0.0.1]:<sink port>), and the alias
#     support: "|<dir>/bin/support-mailgate --url http://127.0.0.1:<port> --token-file <file>"
# which local(8) runs as default_privs (nobody: the aliases file is root's), so the token file is
# nobody's, mode 0400. Mail is injected with Postfix's `sendmail -C <config dir>`. Everything it
# started (Postfix, the sink, supportd) is stopped at exit, and the directory removed (kept with
# MAIL_E2E_KEEP=1, with Postfix's log in <dir>/maillog).
#
# The scenario: (1) supportd runs with --mail-address support@desk.test --smtp <Postfix>; (2) a
# mail handed to sendmail for support@desk.test goes through the alias and support-mailgate and
# opens a ticket; (3) the agent's reply leaves by SMTP through Postfix to the sink with the
# threading headers, and message.delivered is in the ticket's history; (4) the customer's answer
# (In-Reply-To our Message-ID, quoting it) joins the ticket, reopens it, its quote kept apart;
# (5) an auto-reply opens nothing, a mail handed twice lands once; (6) a DSN naming our reply, and
# Postfix's own bounce of a reply to an unknown local user, become internal notes; (7) the ticket
# is solved and closed, GET /v1/metrics/response-times counts the first replies; (8) GET
# /v1/events shows the mail events. Every wait is a bounded poll.
#
# Prints one line per step and ends with `mail-e2e: N passed, 0 failed`; the first failing step
# prints its reason, the tails of Postfix's and supportd's logs, and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

SELF_TEST=0
case "${1:-}" in
--self-test) SELF_TEST=1 ;;
"") ;;
*) echo "usage: $0 [--self-test]" >&2; exit 2 ;;
esac

PASSED=0
# The summary goes to fd 3 (the script's stdout) even from a command substitution; a failure in a
# subshell (a poll's request) stops the script through SIGUSR1.
exec 3>&1
MAIN_PID=$$
trap 'exit 1' USR1
step() { PASSED=$((PASSED + 1)); echo "mail-e2e: ok $PASSED - $*"; }
fail() {
    if [ -n "${WORK:-}" ] && ! mkdir "$WORK/failed" 2>/dev/null; then exit 1; fi # reported once
    echo "mail-e2e: FAILED - $*" >&2
    if [ -n "${WORK:-}" ] && [ -f "$WORK/maillog" ]; then
        echo "--- last lines of Postfix's log ($WORK/maillog)" >&2
        tail -n 30 "$WORK/maillog" >&2 || true
    fi
    if [ -n "${WORK:-}" ] && [ -f "$WORK/supportd.log" ]; then
        echo "--- last lines of supportd's log" >&2
        tail -n 30 "$WORK/supportd.log" >&2 || true
    fi
    echo "mail-e2e: $PASSED passed, 1 failed" >&3
    [ "$BASHPID" = "$MAIN_PID" ] || kill -USR1 "$MAIN_PID"
    exit 1
}

[ "$(id -u)" -eq 0 ] || { echo "mail-e2e: must run as root (it starts a private Postfix instance)" >&2; exit 2; }

# --- What the test needs -------------------------------------------------------------------------
install_missing() {
    local packages=()
    [ -x /usr/sbin/postfix ] || packages+=(postfix)
    command -v curl >/dev/null || packages+=(curl)
    if [ ${#packages[@]} -gt 0 ]; then
        echo "mail-e2e: installing ${packages[*]} ..." >&2
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    fi
    if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
        echo "mail-e2e: installing aiosmtpd ..." >&2
        if ! python3 -m pip --version >/dev/null 2>&1; then
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
        fi
        python3 -m pip install -q aiosmtpd >&2 || python3 -m pip install -q --break-system-packages aiosmtpd >&2
    fi
    # The package's own instance is not used (and must not hold port 25 or the queue lock).
    if [ -d /run/systemd/system ]; then systemctl disable --now postfix >/dev/null 2>&1 || true; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for DESCRIPTION SECONDS COMMAND...: runs COMMAND every half second until it succeeds.
wait_for() {
    local what=$1 seconds=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "$what: not within ${seconds} s"
        sleep 0.5
    done
}

# --- The private instance ------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/mail-e2e.XXXXXX)
chmod 711 "$WORK"
CONF=$WORK/postfix
SINK_PID=""
SUPPORTD_PID=""
POSTFIX_STARTED=0

cleanup() {
    set +e
    [ $POSTFIX_STARTED -eq 1 ] && postfix -c "$CONF" stop >/dev/null 2>&1
    [ -n "$SUPPORTD_PID" ] && kill "$SUPPORTD_PID" 2>/dev/null && wait "$SUPPORTD_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
    if [ "${MAIL_E2E_KEEP:-0}" = 1 ]; then echo "mail-e2e: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

start_sink() {
    mkdir -p "$WORK/sink"
    python3 Tools/scripts/smtp-sink.py 0 "$WORK/sink" >"$WORK/sink.port" 2>"$WORK/sink.log" &
    SINK_PID=$!
    wait_for "the SMTP sink starts" 20 test -s "$WORK/sink.port"
    SINK_PORT=$(head -n 1 "$WORK/sink.port")
}

# start_postfix ALIAS_COMMAND: the instance with `support: "|ALIAS_COMMAND"`.
start_postfix() {
    local support_command=$1
    POSTFIX_PORT=$(free_port)
    mkdir -p "$CONF" "$WORK/spool" "$WORK/data"
    chown postfix "$WORK/data"
    cat >"$CONF/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $CONF
queue_directory = $WORK/spool
data_directory = $WORK/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
default_privs = nobody
maillog_file_prefixes = $WORK
maillog_file = $WORK/maillog
syslog_name = postfix-e2e
myhostname = mx.desk.test
mydomain = desk.test
myorigin = desk.test
mydestination = desk.test
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
alias_maps = hash:$CONF/aliases
alias_database = hash:$CONF/aliases
recipient_delimiter = +
biff = no
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
${EXTRA_MAIN:-}
EOF
    cat >"$CONF/master.cf" <<EOF
127.0.0.1:$POSTFIX_PORT inet n - n - - smtpd
pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
verify     unix  - - n -    1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -    - proxymap
proxywrite unix  - - n -    1 proxymap
smtp       unix  - - n -    - smtp
relay      unix  - - n -    - smtp
showq      unix  n - n -    - showq
error      unix  - - n -    - error
retry      unix  - - n -    - error
discard    unix  - - n -    - discard
local      unix  - n n -    - local
anvil      unix  - - n -    1 anvil
scache     unix  - - n -    1 scache
postlog    unix-dgram n - n - 1 postlogd
${EXTRA_MASTER:-}
EOF
    printf 'postmaster: root\nsupport: "|%s"\n%s' "$support_command" "${EXTRA_ALIASES:-}" >"$CONF/aliases"
    chown root:root "$CONF/aliases"
    postalias -c "$CONF" "hash:$CONF/aliases" || fail "postalias hash:$CONF/aliases"
    if [ -f "$CONF/transport" ]; then postmap -c "$CONF" "hash:$CONF/transport" || fail "postmap hash:$CONF/transport"; fi
    postfix -c "$CONF" check >"$WORK/postfix-check.log" 2>&1 || fail "postfix check: $(cat "$WORK/postfix-check.log")"
    postfix -c "$CONF" start >"$WORK/postfix-start.log" 2>&1 || fail "postfix start: $(cat "$WORK/postfix-start.log")"
    POSTFIX_STARTED=1
    wait_for "Postfix listens on 127.0.0.1:$POSTFIX_PORT" 20 \
        python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $POSTFIX_PORT), 1).close()"
}

# inject FILE SENDER: hands the message to the private instance's sendmail, envelope from SENDER,
# recipients from its To: header.
inject() {
    /usr/sbin/sendmail -C "$CONF" -i -f "$2" -t <"$1" || fail "sendmail -C $CONF refused $1"
}

# sink_count: the number of messages the sink has taken; sink_has N: at least N.
sink_count() { find "$WORK/sink" -name '*.eml' | wc -l; }
sink_has() { [ "$(sink_count)" -ge "$1" ]; }

# body FILE: the text/plain body of the message in FILE.
body() {
    python3 - "$1" <<'EOF'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    message = email.message_from_binary_file(f, policy=email.policy.default)
print(message.get_body(("plain",)).get_content())
EOF
}

# header FILE NAME: the (unfolded, decoded) value of header NAME of the message in FILE.
header() {
    python3 - "$1" "$2" <<'EOF'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    message = email.message_from_binary_file(f, policy=email.policy.default)
print(message.get(sys.argv[2], ""))
EOF
}

install_missing
start_sink
step "aiosmtpd sink listens on 127.0.0.1:$SINK_PORT"

# --- The self-test: the MTA part alone -----------------------------------------------------------
if [ $SELF_TEST -eq 1 ]; then
    mkdir -p "$WORK/mailbox"
    chown nobody "$WORK/mailbox"
    chmod 700 "$WORK/mailbox"
    # Two commands that answer as support-mailgate does when it cannot take a message.
    EXTRA_ALIASES='dataerr: "|echo mailgate: not an RFC 5322 message; exit 65"
tempfail: "|echo mailgate: supportd unreachable; exit 75"
'
    # docs/email.md's other wiring: a pipe(8) transport chosen by transport_maps, as a given user.
    EXTRA_MASTER="pipetest unix - n n - 4 pipe
  flags=DR user=nobody argv=/usr/bin/tee $WORK/mailbox/pipe.eml"
    EXTRA_MAIN="transport_maps = hash:$CONF/transport
pipetest_destination_recipient_limit = 1"
    EXTRA_ALIASES="$EXTRA_ALIASES"'piped: root
'
    mkdir -p "$CONF"
    echo "piped@desk.test pipetest:" >"$CONF/transport"
    start_postfix "cat > $WORK/mailbox/support.eml"
    step "private Postfix $(postconf -c "$CONF" -h mail_version) listens on 127.0.0.1:$POSTFIX_PORT"

    cat >"$WORK/local.eml" <<EOF
From: Carol <carol@customer.test>
To: support@desk.test
Subject: VPS down
Message-ID: <self-local@customer.test>

My VPS does not answer.
.a line with a leading dot
EOF
    inject "$WORK/local.eml" carol@customer.test
    wait_for "the local alias pipes the message to its command" 30 test -s "$WORK/mailbox/support.eml"
    grep -q '^Subject: VPS down' "$WORK/mailbox/support.eml" || fail "the piped message has no Subject"
    grep -q '^\.a line with a leading dot' "$WORK/mailbox/support.eml" || fail "the piped body lost its dot line"
    step "support@desk.test reaches the pipe alias (as $(stat -c %U "$WORK/mailbox/support.eml"))"
    # local(8) puts an mbox envelope line ("From sender date") and Return-Path, X-Original-To,
    # Delivered-To before the message it pipes: support-mailgate must take a leading "From " line.
    head -n 1 "$WORK/mailbox/support.eml" | grep -q '^From carol@customer.test ' || fail "no mbox From line before the piped message"
    grep -q '^Delivered-To: support@desk.test' "$WORK/mailbox/support.eml" || fail "no Delivered-To in the piped message"
    step "local(8) pipes it as nobody with a leading 'From carol@customer.test ...' line and Delivered-To"

    cat >"$WORK/remote.eml" <<EOF
From: Ledgerdesk <support@desk.test>
To: carol@customer.test
Subject: [T-1] Re: VPS down
Message-ID: <self-remote@desk.test>
In-Reply-To: <self-local@customer.test>

We are on it.
EOF
    inject "$WORK/remote.eml" support@desk.test
    wait_for "Postfix relays carol@customer.test to the sink" 30 sink_has 1
    received=$(find "$WORK/sink" -name '*.eml' | head -n 1)
    [ "$(header "$received" Message-ID)" = "<self-remote@desk.test>" ] || fail "the relayed message lost its Message-ID"
    [ "$(header "$received" In-Reply-To)" = "<self-local@customer.test>" ] || fail "the relayed message lost In-Reply-To"
    step "carol@customer.test is relayed to the sink with its headers"

    # Postfix's SMTP server takes mail for the relay the way supportd --smtp hands it over.
    python3 - "$POSTFIX_PORT" <<'EOF' || fail "Postfix's smtpd did not take a message for relay"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as smtp:
    smtp.sendmail("support@desk.test", ["dave@customer.test"],
                  b"From: support@desk.test\r\nTo: dave@customer.test\r\nSubject: via smtpd\r\n\r\nhello\r\n")
EOF
    wait_for "a message taken by Postfix's smtpd reaches the sink" 30 sink_has 2
    step "Postfix's smtpd on 127.0.0.1:$POSTFIX_PORT relays for loopback clients"

    # Exit 65 (EX_DATAERR) bounces to the envelope sender with the command's output; exit 75
    # (EX_TEMPFAIL) defers: the message stays queued and is retried.
    printf 'From: Carol <carol@customer.test>\nTo: dataerr@desk.test, tempfail@desk.test\nSubject: odd\n\nx\n' >"$WORK/odd.eml"
    inject "$WORK/odd.eml" carol@customer.test
    wait_for "the bounce of the exit-65 delivery reaches the sender" 30 sink_has 3
    bounce=$(grep -l 'not an RFC 5322 message' "$WORK"/sink/*.eml | head -n 1)
    [ -n "$bounce" ] || fail "the bounce does not carry the command's output"
    grep -q '"rcpt_tos": \["carol@customer.test"\]' "${bounce%.eml}.json" || fail "the bounce did not go to the envelope sender"
    step "exit 65 bounced to carol@customer.test with the command's output"
    deferred() { grep -q 'to=<tempfail@desk.test>.*status=deferred' "$WORK/maillog"; }
    wait_for "the exit-75 delivery is deferred" 30 deferred
    [ -n "$(find "$WORK/spool/deferred" -type f)" ] || fail "the deferred message is not in the queue"
    step "exit 75 deferred the message: it stays in the queue for a retry"

    # Through Postfix's SMTP server, which checks the recipient against local_recipient_maps (the
    # alias `piped` makes it valid; transport_maps picks the delivery before any aliasing).
    python3 - "$POSTFIX_PORT" <<'EOF' || fail "Postfix's smtpd refused piped@desk.test"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as smtp:
    smtp.sendmail("carol@customer.test", ["piped@desk.test"],
                  b"From: carol@customer.test\r\nTo: piped@desk.test\r\nSubject: by pipe\r\n\r\nx\r\n")
EOF
    wait_for "the pipe(8) transport delivers piped@desk.test" 30 test -s "$WORK/mailbox/pipe.eml"
    head -n 1 "$WORK/mailbox/pipe.eml" | grep -q '^From ' && fail "pipe(8) with flags=DR wrote an mbox From line"
    grep -q '^Delivered-To: piped@desk.test' "$WORK/mailbox/pipe.eml" || fail "pipe(8) flags=D wrote no Delivered-To"
    [ "$(stat -c %U "$WORK/mailbox/pipe.eml")" = nobody ] || fail "pipe(8) did not run as user=nobody"
    step "a pipe(8) transport (transport_maps, flags=DR, user=nobody) delivers without the From line"
    echo "mail-e2e: $PASSED passed, 0 failed"
    exit 0
fi

# --- The scenario --------------------------------------------------------------------------------
SUPPORTD=$ROOT/.build/debug/supportd
MAILGATE=$ROOT/.build/debug/support-mailgate
[ -x "$SUPPORTD" ] || fail "$SUPPORTD is not built (swift build --product supportd)"
[ -x "$MAILGATE" ] || fail "$MAILGATE is not built (swift build --product support-mailgate)"
# local(8) runs the alias as nobody, who may not traverse the work tree: it gets its own copy.
mkdir -p "$WORK/bin"
install -m 0755 "$MAILGATE" "$WORK/bin/support-mailgate"

SUPPORTD_PORT=$(free_port)
AGENT=agent-$RANDOM$RANDOM
MANAGER=manager-$RANDOM$RANDOM
GATEWAY=gateway-$RANDOM$RANDOM
AUDITOR=auditor-$RANDOM$RANDOM
cat >"$WORK/tokens.json" <<EOF
{"tokens":[
 {"token":"$AGENT","role":"agent","id":"ana"},
 {"token":"$MANAGER","role":"manager","id":"max"},
 {"token":"customer-$RANDOM$RANDOM","role":"customer","id":"carol@customer.test"},
 {"token":"$AUDITOR","role":"auditor","id":"aud"},
 {"token":"$GATEWAY","role":"gateway","id":"mailgate"}
]}
EOF
chmod 600 "$WORK/tokens.json"
printf '%s\n' "$GATEWAY" >"$WORK/gateway.token"
chown nobody "$WORK/gateway.token"
chmod 400 "$WORK/gateway.token"

# Any recipient at desk.test is taken (local_recipient_maps empty): one without a mailbox is
# bounced by local(8), which step 6 uses.
EXTRA_MAIN="local_recipient_maps ="
start_postfix "$WORK/bin/support-mailgate --url http://127.0.0.1:$SUPPORTD_PORT --token-file $WORK/gateway.token"
step "private Postfix listens on 127.0.0.1:$POSTFIX_PORT, relays to the sink"

BASE=http://127.0.0.1:$SUPPORTD_PORT
STARTED=$SECONDS
WINDOW_FROM=$(date -u -d '-5 min' +%Y-%m-%dT%H:%M:%SZ)
start_supportd() {
    "$SUPPORTD" --data-dir "$WORK/data-supportd" --port "$SUPPORTD_PORT" --tokens "$WORK/tokens.json" \
        --mail-address support@desk.test --smtp "127.0.0.1:$POSTFIX_PORT" >>"$WORK/supportd.log" 2>&1 &
    SUPPORTD_PID=$!
    wait_for "supportd answers on $BASE" 60 curl -fs -o /dev/null -H "Authorization: Bearer $AGENT" "$BASE/v1/tickets"
}
start_supportd
step "1. supportd runs with --mail-address support@desk.test --smtp 127.0.0.1:$POSTFIX_PORT"

# api METHOD PATH TOKEN [JSON]: the response body; fails the step on an HTTP error.
api() {
    local method=$1 path=$2 token=$3 body=${4:-}
    if [ -n "$body" ]; then
        curl -fsS -X "$method" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            --data "$body" "$BASE$path" || fail "$method $path"
    else
        curl -fsS -X "$method" -H "Authorization: Bearer $token" "$BASE$path" || fail "$method $path"
    fi
}

# json EXPRESSION: evaluates a Python expression over the JSON document on standard input (`d`).
json() { python3 -c "import json, sys; d = json.load(sys.stdin); r = ($1); print(r if not isinstance(r, (dict, list)) else json.dumps(r))"; }

# 2. Carol writes to support@: Postfix -> alias -> support-mailgate -> supportd.
cat >"$WORK/m1.eml" <<EOF
From: Carol <carol@customer.test>
To: support@desk.test
Subject: VPS down
Message-ID: <m1@customer.test>
Date: $(date -R)
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

My VPS vps-17 does not answer since this morning.
EOF
inject "$WORK/m1.eml" carol@customer.test
tickets_of_carol() { api GET "/v1/tickets?customer=carol@customer.test" "$AGENT"; }
has_ticket() { [ "$(tickets_of_carol | json 'len(d["tickets"])')" -ge 1 ]; }
wait_for "a ticket for carol@customer.test" 60 has_ticket
TICKET=$(tickets_of_carol | json 'd["tickets"][0]["id"]')
ticket_json=$(api GET "/v1/tickets/$TICKET" "$AGENT")
[ "$(echo "$ticket_json" | json 'd["channel"]')" = email ] || fail "ticket $TICKET: channel is not email: $ticket_json"
echo "$ticket_json" | json '"does not answer since this morning" in d["thread"][0]["body"] and d["thread"][0]["author"]["kind"] == "customer"' |
    grep -qx True || fail "ticket $TICKET: the thread does not start with Carol's message: $ticket_json"
step "2. the message to support@desk.test opened ticket $TICKET (channel email)"

# 3. The agent replies; supportd sends it by SMTP through Postfix to the sink.
before=$(sink_count)
api POST "/v1/tickets/$TICKET/messages" "$AGENT" '{"body": "We restarted vps-17; it answers again."}' >/dev/null
wait_for "the agent's reply reaches the sink" 60 sink_has $((before + 1))
reply=$(find "$WORK/sink" -name '*.eml' -newer "$WORK/m1.eml" | sort -V | tail -n 1)
subject=$(header "$reply" Subject)
case "$subject" in *"[$TICKET]"*) ;; *) fail "the reply's subject has no ticket token [$TICKET]: $subject" ;; esac
[ "$(header "$reply" In-Reply-To)" = "<m1@customer.test>" ] || fail "the reply's In-Reply-To is not <m1@customer.test>"
[[ "$(header "$reply" References)" == *"<m1@customer.test>"* ]] || fail "the reply's References lack <m1@customer.test>"
REPLY_ID=$(header "$reply" Message-ID)
[ -n "$REPLY_ID" ] || fail "the reply has no Message-ID"
[[ "$(header "$reply" From)" == *"support@desk.test"* ]] || fail "the reply is not from support@desk.test"
[[ "$(header "$reply" To)" == *"carol@customer.test"* ]] || fail "the reply is not to carol@customer.test"
[[ "$(body "$reply")" == *"We restarted vps-17; it answers again."* ]] || fail "the reply's text/plain body lacks the agent's text"
# delivered ID: the ticket's history records message.delivered of the reply with Message-ID ID.
delivered() {
    api GET "/v1/tickets/$TICKET/history" "$AGENT" |
        json 'any(e["event"]["type"] == "message.delivered" and e["event"]["data"]["messageId"] == "'"$1"'" for e in d["events"])' |
        grep -qx True
}
wait_for "message.delivered in the ticket's history" 60 delivered "$REPLY_ID"
step "3. the agent's reply left by SMTP ($subject, $REPLY_ID) and was recorded as delivered"

# 4. Carol answers the reply, quoting it.
cat >"$WORK/m2.eml" <<EOT
From: Carol <carol@customer.test>
To: support@desk.test
Subject: Re: $subject
Message-ID: <m2@customer.test>
In-Reply-To: $REPLY_ID
References: <m1@customer.test> $REPLY_ID
Date: $(date -R)
Content-Type: text/plain; charset=utf-8

It is down again, sorry.

On $(date -R), Ledgerdesk Support <support@desk.test> wrote:
> We restarted vps-17; it answers again.
EOT
inject "$WORK/m2.eml" carol@customer.test
customer_replied() {
    api GET "/v1/tickets/$TICKET" "$AGENT" | json 'any("It is down again" in m["body"] for m in d["thread"])' | grep -qx True
}
wait_for "Carol's answer on ticket $TICKET" 60 customer_replied
api GET "/v1/tickets/$TICKET" "$AGENT" >"$WORK/ticket.json"
python3 - "$WORK/ticket.json" <<'EOT' || fail "Carol's answer on ticket $TICKET: $(cat "$WORK/ticket.json")"
import json, sys
ticket = json.load(open(sys.argv[1]))
assert ticket["status"] == "open", "status %s" % ticket["status"]
last = [m for m in ticket["thread"] if "It is down again" in m["body"]][-1]
assert last["kind"] == "message" and last["author"]["kind"] == "customer", last
# The quoted history below "On ... wrote:" is kept but marked: in `quoted`, not in the body.
assert "We restarted vps-17" not in last["body"], last
assert "We restarted vps-17" in (last.get("quoted") or ""), last
assert last["email"]["messageId"] == "<m2@customer.test>", last
assert last["email"]["from"] == "carol@customer.test", last
EOT
tickets=$(tickets_of_carol | json 'len(d["tickets"])')
[ "$tickets" = 1 ] || fail "Carol's answer opened a new ticket ($tickets tickets)"
step "4. Carol's answer joined ticket $TICKET (status open, quote kept apart in 'quoted')"

# The next reply answers Carol's last mail and references the whole thread; a new mail that only
# names the ticket in its subject joins it too.
before=$(sink_count)
api POST "/v1/tickets/$TICKET/messages" "$AGENT" '{"body": "Moved vps-17 to another host."}' >/dev/null
wait_for "the agent's second reply reaches the sink" 60 sink_has $((before + 1))
reply2=$(find "$WORK/sink" -name '*.eml' -newer "$WORK/m2.eml" | sort -V | tail -n 1)
REPLY2_ID=$(header "$reply2" Message-ID)
[ "$(header "$reply2" In-Reply-To)" = "<m2@customer.test>" ] || fail "the second reply's In-Reply-To is not <m2@customer.test>"
[ "$(header "$reply2" References)" = "<m1@customer.test> $REPLY_ID <m2@customer.test>" ] ||
    fail "the second reply's References: $(header "$reply2" References)"
wait_for "message.delivered of the second reply" 60 delivered "$REPLY2_ID"
cat >"$WORK/m3.eml" <<EOT
From: carol@customer.test
To: support@desk.test
Subject: [$TICKET] and the backups?
Message-ID: <m3@customer.test>

Are the backups of vps-17 kept?
EOT
inject "$WORK/m3.eml" carol@customer.test
token_joined() { api GET "/v1/tickets/$TICKET" "$AGENT" | json 'any("backups of vps-17" in m["body"] for m in d["thread"])' | grep -qx True; }
wait_for "the mail with [$TICKET] in its subject on ticket $TICKET" 60 token_joined
[ "$(tickets_of_carol | json 'len(d["tickets"])')" = 1 ] || fail "the mail with [$TICKET] in its subject opened a ticket"
step "4b. the next reply is In-Reply-To Carol's answer with References of the thread; a mail naming [$TICKET] joins it"

# A provider's webhook hands the raw message to POST /v1/mail as it came off the wire (CRLF).
printf '%s\r\n' "From: Carol <carol@customer.test>" "To: support@desk.test" "Subject: Re: $subject" \
    "Message-ID: <m5@customer.test>" "In-Reply-To: $REPLY2_ID" "Content-Type: text/plain; charset=utf-8" "" \
    "Thanks, it answers now." "" "On $(date -R), Ledgerdesk Support <support@desk.test> wrote:" \
    "> Moved vps-17 to another host." >"$WORK/m5.eml"
curl -fsS -X POST -H "Authorization: Bearer $GATEWAY" -H 'Content-Type: message/rfc822' --data-binary @"$WORK/m5.eml" \
    "$BASE/v1/mail" >"$WORK/m5.answer" || fail "POST /v1/mail refused the webhook's mail"
[ "$(json 'd["outcome"], d["ticket"]' <"$WORK/m5.answer")" = "('appended', '$TICKET')" ] || fail "POST /v1/mail: $(cat "$WORK/m5.answer")"
api GET "/v1/tickets/$TICKET" "$AGENT" >"$WORK/ticket.json"
python3 - "$WORK/ticket.json" <<'EOT' || fail "the webhook's CRLF mail on ticket $TICKET: $(cat "$WORK/ticket.json")"
import json, sys
last = json.load(open(sys.argv[1]))["thread"][-1]
assert last["body"] == "Thanks, it answers now.", last
assert last["quoted"].startswith("On ") and last["quoted"].endswith("wrote:\n> Moved vps-17 to another host."), last
EOT
step "4c. a CRLF mail handed to POST /v1/mail by webhook joined ticket $TICKET, its quote kept apart"

# 5. An auto-reply opens no ticket; the same message handed twice lands once.
cat >"$WORK/auto.eml" <<EOT
From: Out of office <ooo@customer.test>
To: support@desk.test
Subject: Auto: I am away
Message-ID: <auto1@customer.test>
Auto-Submitted: auto-replied

I am away until Monday.
EOT
cat >"$WORK/twice.eml" <<EOT
From: Erin <erin@customer.test>
To: support@desk.test
Subject: DNS question
Message-ID: <twice@customer.test>

How do I add a TXT record?
EOT
inject "$WORK/auto.eml" ooo@customer.test
inject "$WORK/twice.eml" erin@customer.test
inject "$WORK/twice.eml" erin@customer.test
tickets_of() { api GET "/v1/tickets?customer=$1" "$AGENT" | json 'len(d["tickets"])'; }
# Each copy and the auto-reply were piped to support-mailgate once Postfix logs three deliveries
# to support@desk.test (after Carol's three), all "sent" (delivered, not deferred).
piped() { [ "$(grep -c 'to=<support@desk.test>.*relay=local.*status=sent' "$WORK/maillog")" -ge "$1" ]; }
wait_for "Postfix pipes the auto-reply and both copies to support-mailgate" 60 piped 6
[ "$(tickets_of erin@customer.test)" = 1 ] || fail "the message handed twice did not open exactly one ticket"
ERIN=$(api GET "/v1/tickets?customer=erin@customer.test" "$AGENT" | json 'd["tickets"][0]["id"]')
[ "$(api GET "/v1/tickets/$ERIN" "$AGENT" | json 'len(d["thread"])')" = 1 ] || fail "ticket $ERIN holds the message twice"
[ "$(tickets_of ooo@customer.test)" = 0 ] || fail "the auto-reply opened a ticket"
step "5. the auto-reply opened no ticket; the message handed twice landed once (ticket $ERIN)"

# 6. Bounces become internal notes. (a) A DSN sent to support@ naming our reply's Message-ID in
# a text/rfc822-headers part; (b) one Postfix makes itself: a reply to a customer address at
# desk.test that has no mailbox (the instance takes any local recipient, local(8) bounces it to
# support@desk.test, the envelope sender of the desk's replies).
cat >"$WORK/dsn.eml" <<EOT
From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@desk.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.customer.test>
Date: $(date -R)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test

Final-Recipient: rfc822; carol@customer.test
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 mailbox full

--dsn-boundary
Content-Type: text/rfc822-headers

From: Ledgerdesk Support <support@desk.test>
To: carol@customer.test
Subject: $subject
Message-ID: $REPLY_ID

--dsn-boundary--
EOT
inject "$WORK/dsn.eml" ""
# bounce_note TICKET TEXT: the ticket has an internal note by system naming TEXT.
bounce_note() {
    api GET "/v1/tickets/$1" "$AGENT" |
        json 'any(m["kind"] == "note" and m["author"]["kind"] == "system" and "could not be delivered" in m["body"] and "'"$2"'" in m["body"] for m in d["thread"])' |
        grep -qx True
}
wait_for "the DSN as an internal note on ticket $TICKET" 60 bounce_note "$TICKET" carol@customer.test
[ "$(tickets_of mailer-daemon@mx.customer.test)" = 0 ] || fail "the DSN opened a ticket"
step "6a. a DSN naming $REPLY_ID became an internal note on ticket $TICKET"

cat >"$WORK/ghost.eml" <<EOT
From: Gus <ghost@desk.test>
To: support@desk.test
Subject: Mailbox question
Message-ID: <ghost1@desk.test>

Where is my mailbox?
EOT
inject "$WORK/ghost.eml" ghost@desk.test
ghost_has_ticket() { [ "$(tickets_of ghost@desk.test)" -ge 1 ]; }
wait_for "Gus's ticket" 60 ghost_has_ticket
GHOST=$(api GET "/v1/tickets?customer=ghost@desk.test" "$AGENT" | json 'd["tickets"][0]["id"]')
api POST "/v1/tickets/$GHOST/messages" "$AGENT" '{"body": "Your mailbox is at mail.desk.test."}' >/dev/null
wait_for "Postfix's bounce of the reply to ghost@desk.test as a note on ticket $GHOST" 90 bounce_note "$GHOST" ghost@desk.test
grep -q 'to=<ghost@desk.test>.*status=bounced' "$WORK/maillog" || fail "Postfix did not bounce the reply to ghost@desk.test"
step "6b. Postfix's own bounce of the reply to ghost@desk.test became an internal note on ticket $GHOST"

# 7. Solved, then closed; the first reply is measured (from the mail's arrival).
api POST "/v1/tickets/$TICKET/status" "$AGENT" '{"status": "solved"}' >/dev/null
api POST "/v1/tickets/$TICKET/status" "$AGENT" '{"status": "closed"}' >/dev/null
api GET "/v1/tickets/$TICKET" "$AGENT" | json 'd["status"]' | grep -qx closed || fail "ticket $TICKET is not closed"
WINDOW_TO=$(date -u -d '+5 min' +%Y-%m-%dT%H:%M:%SZ)
api GET "/v1/metrics/response-times?from=$WINDOW_FROM&to=$WINDOW_TO&groupBy=channel" "$MANAGER" >"$WORK/response-times.json"
python3 - "$WORK/response-times.json" "$((SECONDS - STARTED))" <<'EOT' || fail "response times: $(cat "$WORK/response-times.json")"
import json, sys
d = json.load(open(sys.argv[1]))
email = [g for g in d["groups"] if g["key"] == "email"]
assert len(email) == 1, "no email group"
first = email[0]["firstReply"]
# Carol's and Gus's tickets had an agent reply; Erin's has none.
assert first["count"] == 2, first
# Measured from the mail's arrival, within this run.
assert 0 <= first["min"] <= first["max"] <= float(sys.argv[2]), first
EOT
step "7. ticket $TICKET solved then closed; response-times counts the mailed tickets' first replies"

# 8. The auditor's feed shows the mail events.
api GET "/v1/events?after=0&limit=1000" "$AUDITOR" >"$WORK/events.json"
python3 - "$WORK/events.json" "$TICKET" "$GHOST" "$REPLY_ID" "$REPLY2_ID" <<'EOT' || fail "the feed: $(cat "$WORK/events.json")"
import json, sys
events = json.load(open(sys.argv[1]))["events"]
ticket, ghost, reply_id, reply2_id = sys.argv[2:6]
def of(stream, kind):
    return [e for e in events if e["ticket"] == stream and e["type"] == kind]
opened = of(ticket, "ticket.opened")
assert len(opened) == 1 and opened[0]["data"]["email"]["messageId"] == "<m1@customer.test>", opened
delivered = of(ticket, "message.delivered")
assert [e["data"]["messageId"] for e in delivered] == [reply_id, reply2_id], delivered
assert all(e["actor"]["kind"] == "system" and e["data"]["to"] == "carol@customer.test" for e in delivered), delivered
assert not any(e["type"] == "message.delivery_failed" for e in events), "a delivery failed"
assert any(e["data"].get("email", {}).get("messageId") == "<m2@customer.test>" for e in of(ticket, "message.posted")), "no m2"
assert len(of(ticket, "note.added")) == 1, of(ticket, "note.added")
assert [e["data"]["status"] for e in of(ticket, "status.changed")][-2:] == ["solved", "closed"], of(ticket, "status.changed")
assert len(of(ghost, "note.added")) == 1, of(ghost, "note.added")
EOT
step "8. GET /v1/events (auditor) shows the mail's ticket.opened, message.delivered, the customer's answer and the bounce notes"

# 9. While supportd is down the gate answers EX_TEMPFAIL and Postfix keeps the mail; once supportd
# is back (same log), the retried mail opens its ticket, and the outbox, restarted from its
# checkpoint, sends the next reply and none of the earlier ones again.
kill "$SUPPORTD_PID"
wait "$SUPPORTD_PID" || true
SUPPORTD_PID=""
cat >"$WORK/m4.eml" <<EOT
From: Frank <frank@customer.test>
To: support@desk.test
Subject: Invoice 2026-11
Message-ID: <m4@customer.test>

The November invoice is missing.
EOT
sent_before=$(sink_count)
inject "$WORK/m4.eml" frank@customer.test
deferred() { grep -q 'to=<support@desk.test>.*status=deferred' "$WORK/maillog"; }
wait_for "Postfix defers the mail the gate could not hand over" 60 deferred
start_supportd
postqueue -c "$CONF" -f || fail "postqueue -f"
frank_has_ticket() { [ "$(tickets_of frank@customer.test)" = 1 ]; }
wait_for "the retried mail opens Frank's ticket" 90 frank_has_ticket
FRANK=$(api GET "/v1/tickets?customer=frank@customer.test" "$AGENT" | json 'd["tickets"][0]["id"]')
api POST "/v1/tickets/$FRANK/messages" "$AGENT" '{"body": "Here it is."}' >/dev/null
wait_for "the reply to Frank reaches the sink" 60 sink_has $((sent_before + 1))
[[ "$(header "$(find "$WORK/sink" -name '*.eml' | sort -V | tail -n 1)" To)" == *"frank@customer.test"* ]] ||
    fail "the first mail after the restart is not the reply to Frank"
python3 - "$WORK/sink" <<'EOT' || fail "the sink got a reply twice"
import email, email.policy, pathlib, sys
ids = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Message-ID"] for p in pathlib.Path(sys.argv[1]).glob("*.eml")]
assert len(ids) == len(set(ids)), ids
EOT
step "9. a mail that met supportd down was deferred, retried and opened ticket $FRANK; after the restart only the new reply was sent"

echo "mail-e2e: $PASSED passed, 0 failed"

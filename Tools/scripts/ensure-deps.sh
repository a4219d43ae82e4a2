#!/usr/bin/env bash
# Installs what the build and its checks need and the machine lacks: Debian's liblmdb-dev, python3,
# openssl, the Python package aiosmtpd (the SMTP tests' certificates and sink) and nats-server (the
# NATSClient tests' JetStream servers).
set -euo pipefail
if [ ! -f /usr/include/lmdb.h ]; then
  echo "Installing liblmdb-dev ..." >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq liblmdb-dev >/dev/null
fi
if ! command -v python3 >/dev/null; then
  echo "Installing python3 ..." >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 >/dev/null
fi
if ! command -v openssl >/dev/null; then
  # The SMTPDelivery tests make a self-signed certificate with the openssl CLI.
  echo "Installing openssl ..." >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl >/dev/null
fi
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  # The SMTP sink of the SMTPDelivery tests and Tools/scripts/mail-e2e.sh (Tools/scripts/smtp-sink.py).
  echo "Installing aiosmtpd ..." >&2
  python3 -m pip install -q aiosmtpd >&2 || python3 -m pip install -q --break-system-packages aiosmtpd >&2
fi
if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  # The NATSClient tests start real JetStream servers (Debian's nats-server, 2.9).
  echo "Installing nats-server ..." >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server >/dev/null
fi

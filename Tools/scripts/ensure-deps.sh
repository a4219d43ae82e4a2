#!/usr/bin/env bash
# Installs what the build and its checks need and the machine lacks: Debian's liblmdb-dev, python3.
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

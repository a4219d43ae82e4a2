#!/usr/bin/env bash
# Installs what the build needs and the machine lacks: Debian's liblmdb-dev.
set -euo pipefail
if [ ! -f /usr/include/lmdb.h ]; then
  echo "Installing liblmdb-dev ..." >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq liblmdb-dev >/dev/null
fi

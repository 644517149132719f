#!/usr/bin/env bash
# Install the Debian 12 packages ecmond needs to build, test and run its demo.
# Installs only what is missing; uses sudo when not root.
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      libmodbus-dev libmosquitto-dev librrd-dev libconfig-dev libsqlite3-dev
      libjansson-dev libsystemd-dev libcmocka-dev valgrind
      libmicrohttpd-dev nettle-dev curl openssl
      mosquitto mosquitto-clients rrdtool rrdcached sqlite3
      mbpoll socat python3 python3-pymodbus python3-serial-asyncio
      chromium chromium-driver python3-selenium  # the dashboard's browser test
      fonts-noto-cjk)   # Chinese enterprise names in graphs and the dashboard

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# The Debian package starts a system mosquitto on port 1883; the demo and the
# tests run their own brokers, so leave the system one as the admin wants it.

#!/usr/bin/env bash
# Install what the benchmarks need beyond scripts/deps.sh (which the tests
# use): collectd-core, the peer daemon (its modbus, rrdtool and mqtt plugins
# need libmodbus5, librrd8 and libmosquitto1, which scripts/deps.sh brings),
# and perf and valgrind for profiling. Installs only what is missing; uses
# sudo when not root. Debian 12.
set -euo pipefail
"$(dirname "$0")/../scripts/deps.sh"

PKGS=(collectd-core libmodbus5 librrd8 libmosquitto1 linux-perf valgrind)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "bench deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# The package enables a system collectd (cpu, memory, ... into
# /var/lib/collectd); the benchmark runs its own with its own config, so
# the system one is left as the admin wants it.

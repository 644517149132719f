#!/usr/bin/env bash
# Install what the benchmarks need beyond scripts/deps.sh (which the tests
# use): collectd-core, the peer daemon (its modbus, rrdtool and mqtt plugins
# need libmodbus5, librrd8 and libmosquitto1, which scripts/deps.sh brings),
# and perf and valgrind for profiling. Installs only what is missing; uses
# sudo when not root. Debian 12.
set -euo pipefail
# One install path: scripts/deps.sh with the benchmarks' packages added.
# The package enables a system collectd (cpu, memory, ... into
# /var/lib/collectd); the benchmark runs its own with its own config, so
# the system one is left as the admin wants it.
exec "$(dirname "$0")/../scripts/deps.sh" collectd-core libmodbus5 librrd8 \
  libmosquitto1 linux-perf valgrind

#!/usr/bin/env bash
# RRD through rrdcached: with storage.rrdcached set, ecmond creates and
# updates its files through the daemon (held there, not yet on disk) and
# the values read back through rrdcached equal the simulator's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup rrdcached

start_mosquitto
gw=$(free_port)
mkdir -p "$T/rrd" "$T/journal"
rrdcached_bin=$(command -v rrdcached || echo /usr/bin/rrdcached)
# -g: foreground; -w 3600: hold updates for an hour, so only the daemon has them.
("$rrdcached_bin" -g -l "unix:$T/rrdcached.sock" -b "$T/rrd" -B -j "$T/journal" \
   -p "$T/rrdcached.pid" -w 3600 -f 7200 -F) >"$T/rrdcached.log" 2>&1 &
_it_track $!
wait_until 10 "rrdcached socket" test -S "$T/rrdcached.sock"

cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; rrdcached = "unix:$T/rrdcached.sock"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "acme"; name = "Acme"; meters = (
  { id = "acme-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; }
); } );
CONF
start_sim "$T/ecmond.conf"
sim_cmd "set acme-flow flow 36.5" >/dev/null
sim_cmd "set acme-flow total 1000.25" >/dev/null
start_ecmond "$T/ecmond.conf"

file="$T/rrd/acme/acme-flow.rrd"
polls_at_least() {
  "$ECMONCTL" -s "$T/ecmond.sock" -j meters acme-flow |
    python3 -c "import json,sys; sys.exit(json.load(sys.stdin)['meters'][0]['polls'] < $1)"
}
wait_until 15 "3 polls" polls_at_least 3
# On disk the file exists but holds none of the updates: rrdcached has them.
# (Read it before any --daemon command: those flush the file first.)
test -s "$file" || fail "rrdcached did not create the file"
rrdtool lastupdate "$file" > "$T/disk.txt"
grep -q ": 36.5 1000.25$" "$T/disk.txt" && fail "the update went to disk directly, not through rrdcached"
through_daemon() {
  rrdtool lastupdate --daemon "unix:$T/rrdcached.sock" "$file" > "$T/last.txt" 2>&1 || return 1
  grep -q ": 36.5 1000.25$" "$T/last.txt"
}
wait_until 15 "values through rrdcached" through_daemon
cat "$T/last.txt"
rrdtool lastupdate "$file" | grep -q ": 36.5 1000.25$" || fail "flushed file lacks the values"
stop_ecmond || fail "ecmond did not exit 0"
pass "rrdcached: updates held by rrdcached, values equal the simulator's"

#!/usr/bin/env bash
# Reload: SIGHUP with a good new config adds a meter; a bad one is reported
# as file:line: message and the running config keeps polling.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup reload

start_mosquitto
gw=$(free_port)
write_conf() { # EXTRA_METER_LINE
  cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "acme"; name = "Acme"; meters = (
  { id = "acme-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; }$1
); } );
CONF
}
# The simulator serves both meters from the start.
write_conf ', { id = "acme-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }'
start_sim "$T/ecmond.conf"
write_conf ''
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"
wait_until 10 "acme-flow readings" grep -q "acme/acme-flow/flow " "$T/mqtt.log"
grep -q "acme/acme-cod/" "$T/mqtt.log" && fail "acme-cod published before it was configured"

# A good config with a second meter.
write_conf ', { id = "acme-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }'
kill -HUP "$ECMOND_PID"
wait_until 10 "the reload" grep -q "reloaded: 2 meters on 1 buses" "$T/ecmond.log"
wait_until 10 "acme-cod readings" grep -q "acme/acme-cod/cod " "$T/mqtt.log"

# A bad config: the errors are logged with file:line and nothing changes.
write_conf ', { id = "acme-cod"; bus = "nosuchbus"; slave = 2; profile = "cod-analyzer"; interval = -1; }'
"$ECMONCTL" -s "$T/ecmond.sock" reload | grep -q "reload requested" || fail "ecmonctl reload"
wait_until 10 "the failed reload" grep -q "reload failed: 2 errors; the running configuration stays" "$T/ecmond.log"
grep -q "$T/ecmond.conf:[0-9]*: .*nosuchbus" "$T/ecmond.log" || fail "no file:line message for the bus"
grep -q "$T/ecmond.conf:[0-9]*: .*interval" "$T/ecmond.log" || fail "no file:line message for the interval"
n=$(grep -c "acme/acme-cod/cod " "$T/mqtt.log")
wait_until 10 "acme-cod still polled" _it_log_count_above "$T/mqtt.log" "acme/acme-cod/cod " "$n"
kill -0 "$ECMOND_PID" || fail "ecmond died"
grep -q "2 online of 2" <<< "$("$ECMONCTL" -s "$T/ecmond.sock" status)" || fail "not 2 meters online"
stop_ecmond || fail "ecmond did not exit 0"
pass "reload: a good config applied, a bad one reported with file:line and ignored"

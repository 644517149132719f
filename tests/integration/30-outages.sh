#!/usr/bin/env bash
# Outages: the simulator (the meters' gateway) stops for OUTAGE_S seconds
# (default 30) and comes back; mosquitto stops and comes back. ecmond keeps
# running, meter status goes offline then online on MQTT, the log says so
# once each way, and the broker connection comes back by itself.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup outages
OUTAGE_S=${OUTAGE_S:-30}

start_mosquitto
gw=$(free_port)
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; keepalive = 5; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 300; retries = 1; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "acme"; name = "Acme"; meters = (
  { id = "acme-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; },
  { id = "acme-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }
); } );
CONF
start_sim "$T/ecmond.conf"
mqtt_sub_bg "$T/status.log" 'ecmon/itpark/acme/+/status'
mqtt_sub_bg "$T/flow.log" 'ecmon/itpark/acme/acme-flow/flow'
start_ecmond "$T/ecmond.conf"

last_state() { # METER -> online/offline from the last retained status seen
  grep "acme/$1/status" "$T/status.log" | tail -1 | sed 's/.*"state":"\([a-z]*\)".*/\1/'
}
is_state() { [ "$(last_state "$1")" = "$2" ]; }
for m in acme-flow acme-cod; do wait_until 15 "$m online" is_state $m online; done

# 1. The gateway goes away.
stop_sim
t0=$SECONDS
for m in acme-flow acme-cod; do wait_until 15 "$m offline" is_state $m offline; done
# Readings go on, flagged B (HJ 212: communication failure) with no value.
wait_until 10 "a B-flagged reading" grep -q '"value":null,"unit":"m3/h","flag":"B"' "$T/flow.log"
while [ $((SECONDS - t0)) -lt "$OUTAGE_S" ]; do
  kill -0 "$ECMOND_PID" || fail "ecmond died during the outage"
  sleep 1   # the outage itself, not synchronisation
done
start_sim "$T/ecmond.conf"
for m in acme-flow acme-cod; do wait_until 90 "$m online again" is_state $m online; done
kill -0 "$ECMOND_PID" || fail "ecmond died"
for m in acme-flow acme-cod; do
  n_off=$(grep -c "meter $m: offline" "$T/ecmond.log" || true)
  n_on=$(grep -c "meter $m: online" "$T/ecmond.log" || true)
  [ "$n_off" -eq 1 ] || fail "$m: 'offline' logged $n_off times, expected 1"
  [ "$n_on" -eq 2 ] || fail "$m: 'online' logged $n_on times, expected 2 (start, recovery)"
done
n_bus=$(grep -c "bus gw: cannot connect" "$T/ecmond.log" || true)
[ "$n_bus" -eq 1 ] || fail "bus failure logged $n_bus times, expected 1"
echo "gateway outage of ${OUTAGE_S}s: offline and online once each"

# 2. The broker goes away and comes back on the same port.
stop_mosquitto
wait_until 20 "ecmond to notice the broker is gone" grep -q "mqtt 127.0.0.1:$MQTT_PORT: connection lost" "$T/ecmond.log"
kill -0 "$ECMOND_PID" || fail "ecmond died without a broker"
restart_mosquitto
mqtt_sub_bg "$T/after.log" 'ecmon/itpark/#'
wait_until 90 "readings after the broker restart" grep -q "ecmon/itpark/acme/acme-flow/flow " "$T/after.log"
grep -q "ecmon/itpark/status online" "$T/after.log" || fail "park status not online after reconnect"
grep -q "acme/acme-cod/status" "$T/after.log" || fail "meter status not republished"
[ "$(grep -c "mqtt 127.0.0.1:$MQTT_PORT: connected" "$T/ecmond.log")" -eq 2 ] || fail "expected two 'connected' lines"
grep -q "2 online of 2" <<< "$("$ECMONCTL" -s "$T/ecmond.sock" status)" || fail "meters not online"
stop_ecmond || fail "ecmond did not exit 0"
pass "outages: gateway ${OUTAGE_S}s and broker restart survived"

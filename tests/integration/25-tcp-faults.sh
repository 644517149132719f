#!/usr/bin/env bash
# The Modbus TCP engine against ecmon-sim's faults: a meter that does not
# answer is retried `retries` times per poll (counted at both ends), an
# exception 04 flags D and keeps the meter online, a gateway's exception 11
# and an answer from the wrong unit take it offline, a gateway that refuses
# connections is logged once, a gateway that goes away and comes back is
# reconnected, and 40 gateways are served at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup tcpfaults

start_mosquitto
gw=$(free_port)
refused=$(free_port)
f32() { echo "{ name = \"$1\"; kind = \"info\"; unit = \"u\"; table = \"holding\"; address = $2; type = \"float32\"; }"; }
buses="{ id = \"gw\"; tcp = { host = \"127.0.0.1\"; port = $gw; }; timeout_ms = 400; retries = 2; },"
meters="" n=0
for u in ok slow exc gwexc badunit; do
  n=$((n + 1))
  meters="$meters{ id = \"m-$u\"; bus = \"gw\"; slave = $n; profile = \"four\"; interval = 3; },"
done
for i in $(seq 1 40); do
  p=$(free_port)
  buses="$buses{ id = \"fleet$i\"; tcp = { host = \"127.0.0.1\"; port = $p; }; timeout_ms = 500; },"
  meters="$meters{ id = \"f$i\"; bus = \"fleet$i\"; slave = 1; profile = \"four\"; interval = 1; },"
done
# ecmond also has a gateway that nobody serves.
gone_bus="{ id = \"gone\"; tcp = { host = \"127.0.0.1\"; port = $refused; }; timeout_ms = 200; },"
gone_meter="{ id = \"m-gone\"; bus = \"gone\"; slave = 1; profile = \"four\"; interval = 1; },"
write_conf() { # FILE BUSES METERS
  cat > "$1" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( ${2%,} );
profile_dirs = [];
profiles = ( { id = "four"; points = ( $(f32 a 0), $(f32 b 2), $(f32 c 4), $(f32 d 6) ); } );
enterprises = ( { id = "acme"; name = "Acme"; meters = ( ${3%,} ); } );
CONF
}
write_conf "$T/ecmond.conf" "$buses$gone_bus" "$meters$gone_meter"
write_conf "$T/sim.conf" "$buses" "$meters"
start_sim "$T/sim.conf"
sim_cmd "fault m-slow timeout" >/dev/null
sim_cmd "fault m-exc exception:4" >/dev/null
sim_cmd "fault m-gwexc exception:11" >/dev/null
sim_cmd "fault m-badunit badunit" >/dev/null
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"

state_is() { [ "$(meter_field "$1" state)" = "$2" ]; }

for m in m-ok m-slow m-exc m-gwexc m-badunit; do
  wait_until 20 "3 polls of $m" polls_at_least $m 3
done

# Requests per poll, counted at both ends: 1 for a good meter, 1 + retries
# for one that does not answer (exception 11 counts as no answer; so does a
# wrong unit id, a bad answer). ecmond counts a poll's requests when it
# ends, the simulator each as it comes: at most one poll's worth apart.
check_requests() { # METER PER_POLL
  local s1 r p s2
  s1=$(sim_requests "$1")
  read -r r p < <(meter_field "$1" requests polls)
  s2=$(sim_requests "$1")
  [ "$s1" -le $((r + $2)) ] && [ "$r" -le "$s2" ] || fail "$1: simulator counted $s1..$s2 requests, ecmond $r"
  [ "$r" -eq $((p * $2)) ] || fail "$1: $r requests for $p polls, expected $2 per poll"
  echo "$1: $r requests in $p polls (simulator: $s2)"
}
check_requests m-ok 1
check_requests m-slow 3
check_requests m-exc 1
check_requests m-gwexc 3
check_requests m-badunit 3

state_is m-ok online || fail "m-ok not online"
state_is m-exc online || fail "m-exc: an exception 04 is an answer: expected online"
for m in m-slow m-gwexc m-badunit m-gone; do
  wait_until 10 "$m offline" state_is $m offline
done
read -r errors polls < <(meter_field m-ok errors polls)
[ "$errors" -eq 0 ] || fail "m-ok: $errors errors in $polls polls beside a meter that times out"

reason() { grep "meter $1: offline" "$T/ecmond.log" | head -1; }
reason m-slow | grep -q "no answer in 400 ms" || fail "m-slow: reason: $(reason m-slow)"
reason m-gwexc | grep -q "exception 11 (gateway target device failed to respond)" || fail "m-gwexc: reason: $(reason m-gwexc)"
reason m-badunit | grep -q "answer from unit 6 to a request to unit 5" || fail "m-badunit: reason: $(reason m-badunit)"
reason m-gone | grep -q "bus gone: Connection refused" || fail "m-gone: reason: $(reason m-gone)"

# Flags on MQTT: D for the exception, B for no answer.
last_flag() { # METER POINT
  grep "acme/$1/$2 " "$T/mqtt.log" | tail -1 | sed 's/.*"flag":"\([A-Z]\)".*/\1/'
}
[ "$(last_flag m-exc a)" = D ] || fail "m-exc: flag $(last_flag m-exc a), expected D"
[ "$(last_flag m-slow a)" = B ] || fail "m-slow: flag $(last_flag m-slow a), expected B"
[ "$(last_flag m-ok a)" = N ] || fail "m-ok: flag $(last_flag m-ok a), expected N"

# The fleet: 40 gateways, one engine thread, every meter online.
all_fleet_online() {
  "$ECMONCTL" -s "$T/ecmond.sock" -j meters | python3 -c '
import json, sys
ms = [m for m in json.load(sys.stdin)["meters"] if m["id"].startswith("f")]
sys.exit(0 if len(ms) == 40 and all(m["state"] == "online" and m["polls"] >= 2 for m in ms) else 1)'
}
wait_until 20 "40 fleet meters online" all_fleet_online
threads=$(ls "/proc/$ECMOND_PID/task" | wc -l)
echo "ecmond runs $threads threads for 42 TCP buses"
[ "$threads" -le 8 ] || fail "$threads threads for 42 TCP buses"

# A refused gateway is logged once, however many polls fail.
wait_until 10 "polls of m-gone" polls_at_least m-gone 3
[ "$(grep -c "bus gone: cannot connect" "$T/ecmond.log")" -eq 1 ] || fail "refused connection not logged exactly once"

# The gateway goes away and comes back: offline, then online again.
sim_cmd "pause gw" >/dev/null
wait_until 15 "m-ok offline" state_is m-ok offline
sim_cmd "resume gw" >/dev/null
wait_until 90 "m-ok online again" state_is m-ok online
grep -q "bus gw: connected" "$T/ecmond.log" || fail "reconnection not logged"

# A fault cleared: the meter comes back.
sim_cmd "fault m-slow none" >/dev/null
wait_until 15 "m-slow online" state_is m-slow online
[ "$(grep -c "meter m-slow: offline" "$T/ecmond.log")" -le 2 ] || fail "m-slow offline logged too often"

stop_ecmond || fail "ecmond did not exit 0"
pass "tcp engine: retries, exceptions, bad answers, refused and lost gateways, 40 gateways"

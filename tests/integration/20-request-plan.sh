#!/usr/bin/env bash
# Request planning, counted at the simulator: 4 contiguous float32 cost one
# request per poll, two blocks 200 registers apart cost two, and a device
# that rejects part of a block still has every valid point read.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup plan

start_mosquitto
gw=$(free_port)
f32() { echo "{ name = \"$1\"; kind = \"info\"; unit = \"u\"; table = \"holding\"; address = $2; type = \"float32\"; }"; }
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [];
profiles = (
  { id = "four"; points = ( $(f32 a 0), $(f32 b 2), $(f32 c 4), $(f32 d 6) ); },
  { id = "apart"; points = ( $(f32 a 0), $(f32 b 2), $(f32 c 200), $(f32 d 202) ); },
  { id = "six"; points = ( $(f32 a 0), $(f32 b 2), $(f32 c 4), $(f32 d 6), $(f32 e 8), $(f32 f 10) ); },
  { id = "holes"; points = ( $(f32 a 0), $(f32 b 4), $(f32 c 8) ); }
);
enterprises = ( { id = "acme"; name = "Acme"; meters = (
  { id = "m-four"; bus = "gw"; slave = 1; profile = "four"; interval = 1; },
  { id = "m-apart"; bus = "gw"; slave = 2; profile = "apart"; interval = 1; },
  { id = "m-reject"; bus = "gw"; slave = 3; profile = "six"; interval = 1; },
  { id = "m-strict"; bus = "gw"; slave = 4; profile = "holes"; interval = 1; }
); } );
CONF
start_sim "$T/ecmond.conf"
sim_cmd "reject m-reject holding 4 2" >/dev/null   # point c
sim_cmd "strict m-strict on" >/dev/null            # no reading through holes
for p in a b c d e f; do sim_cmd "set m-reject $p 1.5" >/dev/null; done
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"

for m in m-four m-apart m-reject m-strict; do
  wait_until 20 "5 polls of $m" polls_at_least $m 5
done

# Counted at both ends: the simulator's count brackets ecmond's.
check_requests() { # METER PER_POLL
  local s1 r p s2
  s1=$(sim_requests "$1")
  read -r r p < <(meter_field "$1" requests polls)
  s2=$(sim_requests "$1")
  [ "$s1" -le "$r" ] && [ "$r" -le "$s2" ] || fail "$1: simulator counted $s1..$s2 requests, ecmond $r"
  [ "$r" -eq $(( p * $2 )) ] || fail "$1: $r requests for $p polls, expected $2 per poll"
  echo "$1: $r requests in $p polls (simulator: $s2)"
}
check_requests m-four 1
check_requests m-apart 2
[ "$(meter_field m-strict plan_requests)" -eq 3 ] || fail "m-strict: expected 3 requests after splitting at holes"

# The rejected block: every valid point read with the served value, one dead.
[ "$(meter_field m-reject dead_points)" -eq 1 ] || fail "m-reject: expected 1 dead point"
valid_points_read() {
  python3 - "$T" <<'PY'
import json, sys
last = {}
for line in open(sys.argv[1] + "/mqtt.log"):
    topic, _, payload = line.strip().partition(" ")
    if topic.startswith("ecmon/itpark/acme/m-reject/") and not topic.endswith("/status"):
        last[topic.rsplit("/", 1)[1]] = json.loads(payload)
ok = all(p in last and last[p]["value"] == 1.5 and last[p]["flag"] == "N" for p in "abdef")
ok = ok and "c" in last and last["c"]["flag"] == "D" and last["c"]["value"] is None
sys.exit(0 if ok else 1)
PY
}
wait_until 10 "points a,b,d,e,f of the rejected block read" valid_points_read
grep -q "m-reject: exception 2 (illegal data address)" "$T/ecmond.log" || fail "split not logged"
[ "$(grep -c 'point c rejected by the device' "$T/ecmond.log")" -eq 1 ] || fail "dead point not logged exactly once"
for m in m-strict; do
  python3 - "$T" <<'PY' || fail "m-strict: points not read"
import json, sys
seen = set()
for line in open(sys.argv[1] + "/mqtt.log"):
    topic, _, payload = line.strip().partition(" ")
    if topic.startswith("ecmon/itpark/acme/m-strict/") and json.loads(payload).get("flag") == "N":
        seen.add(topic.rsplit("/", 1)[1])
sys.exit(0 if seen >= {"a", "b", "c"} else 1)
PY
done
stop_ecmond
pass "request plan: 1 request for 4 contiguous float32, 2 for blocks 200 apart, rejected block still read"

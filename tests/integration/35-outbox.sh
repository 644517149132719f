#!/usr/bin/env bash
# The outbox (issue 5, point 1): the broker stops for OUTAGE_S seconds
# (default 60; OUTAGE_S=600 is the issue's ten minutes) and ecmond is
# restarted half-way through. Afterwards a subscriber with a persistent
# session has every reading ecmond took from the simulator, in order per
# topic, with its original ts and no gap at the meter interval except while
# ecmond itself was down; the ledger's volume equals the totalizer's growth
# (nothing counted twice); the outbox is empty and counted no drop. A day
# quota crosses its levels during the outage: the alert events arrive in
# order, and the retained alert and quota states are published again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup outbox
OUTAGE_S=${OUTAGE_S:-60}
[ "$OUTAGE_S" -ge 20 ] || fail "OUTAGE_S must be 20 s or more"
# At 36 m3/h (0.01 m3/s) the day quota is exceeded 60 % into the outage:
# warn before ecmond's restart half-way, critical and exceeded after it.
limit=$(python3 -c "print(0.01 * $OUTAGE_S * 0.6)")

# Persistence keeps the subscriber's session across the broker restart;
# no queue limit, as a backlog arrives faster than a subscriber reads it.
MQTT_PERSISTENCE=true MQTT_CONF_EXTRA="max_queued_messages 0" start_mosquitto
gw=$(free_port)
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; keepalive = 5; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 2000; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "acme"; name = "Acme";
  meters = (
    { id = "acme-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; },
    { id = "acme-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }
  );
  outlets = ( { id = "main"; volume = "acme-flow.total"; concentrations = { cod = "acme-cod.cod"; }; } );
  quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = $limit; } );
} );
outbox = { max_mb = 16; max_age_days = 1; };
CONF
start_sim "$T/ecmond.conf"
sim_cmd "set acme-flow flow 36" >/dev/null
MQTT_SUB_OPTS="-c -i it-outbox-sub -q 1" mqtt_sub_bg "$T/sub.log" 'ecmon/itpark/#'
start_ecmond "$T/ecmond.conf"
ctl() { "$ECMONCTL" -s "$T/ecmond.sock" "$@"; }
outbox() { # FIELD: from ecmonctl -j status
  ctl -j status | python3 -c "import json,sys; print(json.load(sys.stdin)['outbox']['$1'])"
}
n_readings() { grep -c "^ecmon/itpark/acme/acme-[a-z]*/[a-z]* {\"ts\"" "$T/sub.log" || true; }
wait_until 20 "readings of both meters" grep -q "acme-cod/cod {" "$T/sub.log"
wait_until 20 "readings of both meters" grep -q "acme-flow/total {" "$T/sub.log"
for m in acme-flow acme-cod; do
  ctl -j meters "$m" | grep -q '"plan_requests": 1' || fail "$m: expected one request per poll"
done

now() { date +%s.%N; }
outage_until() { # SECONDS since the broker stopped; checks ecmond lives
  while python3 -c "import sys; sys.exit(not $(now) - $t_broker_down < $1)"; do
    kill -0 "$ECMOND_PID" || fail "ecmond died during the outage"
    sleep 1   # the outage itself, not synchronisation
  done
}
queued_above() { [ "$(outbox queued)" -gt "$1" ]; }
outbox_empty() { [ "$(outbox queued)" -eq 0 ]; }
readings_at_least() { [ "$(n_readings)" -ge "$1" ]; }

# 1. The broker goes away; ecmond keeps the readings.
stop_mosquitto
t_broker_down=$(now)
wait_until 20 "ecmond to notice the broker is gone" grep -q "mqtt 127.0.0.1:$MQTT_PORT: connection lost" "$T/ecmond.log"
wait_until 20 "readings in the outbox" queued_above 10

# 2. Half-way, ecmond restarts: the outbox survives it.
outage_until $((OUTAGE_S / 2))
queued_before=$(outbox queued)
t_ecmond_down=$(now)
stop_ecmond || fail "ecmond did not exit 0"
start_ecmond "$T/ecmond.conf"
t_ecmond_up=$(now)
found=$(sed -n 's/.*outbox: \([0-9]*\) messages from before to send/\1/p' "$T/ecmond.log")
if [ -z "$found" ] || [ "$found" -lt "$queued_before" ]; then
  fail "the restarted ecmond found ${found:-no} queued messages, expected $queued_before or more"
fi
wait_until 10 "new readings queued after the restart" queued_above "$queued_before"

# 3. The broker comes back on the same port with the subscriber's session.
outage_until "$OUTAGE_S"
queued_peak=$(outbox queued)
restart_mosquitto
t_broker_up=$(now)
wait_until 120 "ecmond to reconnect" _it_log_count_above "$T/ecmond.log" "mqtt 127.0.0.1:$MQTT_PORT: connected" 1
wait_until 60 "the outbox to drain" outbox_empty
t_drained=$(now)
[ "$(outbox dropped)" -eq 0 ] || fail "the outbox dropped messages"
wait_until 10 "the retained outbox state" grep -q '^ecmon/itpark/outbox {"queued":0,"dropped":0}' "$T/sub.log"

# 4. ecmond stops: the simulator's counts are final; the subscriber must
# have one reading per request served, per point.
stop_ecmond || fail "ecmond did not exit 0"
served_flow=$(sim_cmd "stats acme-flow")
served_cod=$(sim_cmd "stats acme-cod")
echo "simulator: acme-flow $served_flow; acme-cod $served_cod"
req() { local r=${1#*requests=}; echo "${r%% *}"; }
for s in "$served_flow" "$served_cod"; do
  grep -q "exceptions=0 unanswered=0" <<< "$s" || fail "the simulator answered with errors: $s"
done
expected=$(($(req "$served_flow") * 2 + $(req "$served_cod")))
wait_until 30 "$expected readings at the subscriber" readings_at_least "$expected"

db="$T/state/ecmond.db"
ledger_m3=$(sqlite3 "$db" "select total(amount) from hourly where owner='acme' and measure='effluent_m3'")
left=$(sqlite3 "$db" "select count(*) from outbox")
[ "$left" -eq 0 ] || fail "$left rows left in the outbox table"

# The alerts: every transition's event, in order; the retained states as
# they are now.
hist=$(sqlite3 "$db" "select to_state from alert_history where key='acme/effluent-day' order by id" | tr '\n' ' ')
n_during=$(sqlite3 "$db" "select count(*) from alert_history where ts between $t_broker_down and $t_broker_up")
[ "$n_during" -gt 0 ] || fail "no alert transition during the outage (history: $hist)"
events=$(python3 - "$T/sub.log" <<'PY'
import json, sys
seen = []
for line in open(sys.argv[1]):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if topic == "ecmon/itpark/events":
        e = json.loads(payload)
        if (e["ts"], e["to"]) not in seen:
            seen.append((e["ts"], e["to"]))
print(" ".join(to for _, to in seen), end=" ")
PY
)
[ "$events" = "$hist" ] || fail "events on MQTT ($events) differ from the alert history ($hist)"
last_state() { # TOPIC: the state in its last message
  grep "^$1 " "$T/sub.log" | tail -1 | sed 's/.*"state":"\([a-z]*\)".*/\1/'
}
final=${hist% }
final=${final##* }
[ "$(last_state ecmon/itpark/alerts/acme/effluent-day)" = "$final" ] ||
  fail "retained alert state not republished as $final"
[ "$(last_state ecmon/itpark/acme/quota/effluent-day)" = "$final" ] ||
  fail "retained quota state not republished as $final"
echo "alerts: ${hist}($n_during during the outage), events in order, retained $final republished"

figures=$(python3 - "$T/sub.log" "$(req "$served_flow")" "$(req "$served_cod")" \
  "$t_broker_down" "$t_broker_up" "$t_ecmond_down" "$t_ecmond_up" \
  "$ledger_m3" "$queued_peak" "$t_drained" <<'PY'
import json, sys
(log, n_flow, n_cod, b_down, b_up, e_down, e_up, ledger, peak,
 drained) = sys.argv[1:]
n_flow, n_cod, ledger = int(n_flow), int(n_cod), float(ledger)
b_down, b_up, e_down, e_up, drained = map(float, (b_down, b_up, e_down, e_up, drained))
served = {"acme-flow/flow": n_flow, "acme-flow/total": n_flow, "acme-cod/cod": n_cod}
seen = {t: [] for t in served}
for line in open(log):
    topic, _, payload = line.rstrip("\n").partition(" ")
    key = topic.removeprefix("ecmon/itpark/acme/")
    if key in seen:
        seen[key].append(json.loads(payload))
bad = []
dups = delivered = in_outage = 0
for key, msgs in seen.items():
    first, order = {}, []
    for m in msgs:
        if m["ts"] in first:
            dups += 1  # QoS 1 is at least once: counted, not an error
            continue
        first[m["ts"]] = m
        order.append(m["ts"])
    delivered += len(order)
    if len(order) != served[key]:
        bad.append(f"{key}: {len(order)} readings delivered, {served[key]} served")
    if any(b <= a for a, b in zip(order, order[1:])):
        bad.append(f"{key}: readings out of order")
    if any(first[t]["flag"] != "N" for t in order):
        bad.append(f"{key}: a reading not flagged N")
    # At the meter interval (1 s) everywhere but across ecmond's restart.
    for a, b in zip(order, order[1:]):
        if b - a > 1.9 and not (a <= e_up and b >= e_down):
            bad.append(f"{key}: a gap of {b - a:.1f} s at ts {a:.3f}")
    in_outage += sum(b_down <= t <= b_up for t in order)
    if key == "acme-flow/total":
        growth = first[order[-1]]["value"] - first[order[0]]["value"]
        if abs(growth - ledger) > 1e-6:
            bad.append(f"ledger {ledger} m3 != totalizer growth {growth} m3")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
print(f"{sum(served.values())} readings served, {delivered} delivered in "
      f"order with their original ts ({in_outage} taken during the "
      f"{b_up - b_down:.0f} s outage, ecmond down {e_up - e_down:.1f} s of "
      f"it; {dups} duplicates); outbox peak {peak}, empty "
      f"{drained - b_up:.1f} s after the broker returned; ledger "
      f"{ledger:.6f} m3 = totalizer growth")
sys.exit(1 if bad else 0)
PY
) || fail "readings lost, out of order or counted twice (see above)"
pass "outbox: $figures"

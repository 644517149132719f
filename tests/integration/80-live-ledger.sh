#!/usr/bin/env bash
# The ledger live: readings from ecmon-sim become exact hourly rows, a small
# day quota goes warn -> critical -> exceeded, ecmonctl usage shows every
# field, bad value-added input (MQTT and ecmonctl) is rejected with a reason
# and changes nothing, and kill -9 + restart loses no volume and
# re-announces nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup live-ledger

start_mosquitto
gw=$(free_port)
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "alpha"; name = "Alpha";
  meters = (
    { id = "alpha-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; },
    { id = "alpha-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }
  );
  outlets = ( { id = "main"; volume = "alpha-flow.total"; concentrations = { cod = "alpha-cod.cod"; };
                limits_mg_l = { cod = 80.0; }; } );
  quotas = (
    { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 1.0; },
    { id = "cod-year"; measure = "cod_kg"; period = "year"; limit = 100000.0; }
  );
} );
alerts = { exec = [ "$T/hook" ]; exec_timeout = 1; };
CONF
# A hook that hangs (and starts a child): killed after exec_timeout, with
# its child, without holding up the daemon.
cat > "$T/hook" <<'HOOK'
#!/bin/sh
echo "$ECMON_ALERT $ECMON_STATE" >> "${0%/hook}/hook.log"
sleep 1234 &
wait
HOOK
chmod +x "$T/hook"
start_sim "$T/ecmond.conf"
sim_cmd "set alpha-flow flow 72" >/dev/null      # 0.02 m3/s: 1 m3 in 50 s
sim_cmd "set alpha-cod cod 50" >/dev/null
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/#'
start_ecmond "$T/ecmond.conf"
db="$T/state/ecmond.db"
q() { sqlite3 "$db" "$1"; }

exceeded() { [ "$(q "select to_state from alert_history where key='alpha/effluent-day' order by id desc limit 1")" = exceeded ]; }
wait_until 120 "the day quota exceeded" exceeded
q "select from_state, to_state from alert_history where key='alpha/effluent-day' order by id" | tr '\n' ' ' > "$T/ladder.txt"
echo "day quota: $(cat "$T/ladder.txt")"
grep -q "ok|warn warn|critical critical|exceeded" "$T/ladder.txt" || fail "the day quota did not climb ok -> warn -> critical -> exceeded"

[ "$(wc -l < "$T/hook.log")" -eq 3 ] || fail "expected 3 hook runs"
wait_until 10 "the hung hooks killed" grep -q "alert hook for alpha/effluent-day exceeded: killed after 1 s" "$T/ecmond.log"
wait_until 10 "no hook child left" bash -c '! pgrep -f "sleep [1]234" >/dev/null'

# ecmonctl usage: text and JSON, every field; the same payload as MQTT.
"$ECMONCTL" -s "$T/ecmond.sock" usage alpha > "$T/usage.txt"
cat "$T/usage.txt"
grep -q "^ENTERPRISE .*USED .*LIMIT .*PROJECTED .*EXHAUSTED AT .*STATE" "$T/usage.txt" || fail "usage header"
grep -q "^alpha .*effluent-day .*exceeded$" "$T/usage.txt" || fail "usage row"
"$ECMONCTL" -s "$T/ecmond.sock" -j usage alpha | python3 -c '
import json, sys
u = json.load(sys.stdin)["usage"]
need = {"used", "limit", "fraction", "expected", "projected", "exhaust_at", "state", "unit", "measure", "period"}
assert len(u) == 2 and all(need <= set(x) for x in u), u
day = [x for x in u if x["measure"] == "effluent_m3"][0]
# 72 m3/h for the rest of the day: the projection is far above the use.
assert day["projected"] > day["used"] + 10, day' || fail "usage -j fields"
"$ECMONCTL" -s "$T/ecmond.sock" usage nosuch 2> "$T/err.txt" && fail "usage of an unknown enterprise succeeded"
grep -q "no such enterprise" "$T/err.txt" || fail "usage error message"
"$ECMONCTL" -s "$T/ecmond.sock" alerts | grep -q "effluent-day .*exceeded" || fail "ecmonctl alerts"

# Bad value added: each rejected with its reason, nothing stored.
pub() { mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "ecmon/itpark/$1/value_added/set" -m "$2"; }
pub nosuch '{"period":"2026-11","yuan":1e8}'
pub alpha '{"period":"2026-13","yuan":1e8}'
pub alpha '{"period":"2026-11","yuan":-5}'
pub alpha '{"period":"2026-11","yuan":"abc"}'
pub alpha '{"period":"2026-11",'
pub alpha '{"period":"2026-11","yuan":1e8,"extra":1}'
wait_until 10 "6 rejections logged" _it_log_count_above "$T/ecmond.log" "via MQTT rejected" 5
for why in "unknown enterprise 'nosuch'" "bad period '2026-13'" "bad amount" "expected {" "malformed JSON"; do
  grep -q "rejected: $why" "$T/ecmond.log" || fail "no rejection saying: $why"
done
"$ECMONCTL" -s "$T/ecmond.sock" value-added alpha 2026-Q5 1e8 2> "$T/err.txt" && fail "bad period accepted"
grep -q "bad period" "$T/err.txt" || fail "ecmonctl: no reason for the bad period"
"$ECMONCTL" -s "$T/ecmond.sock" value-added alpha 2026-11 12abc 2> "$T/err.txt" && fail "bad amount accepted"
[ "$(q "select count(*) from value_added")" -eq 0 ] || fail "bad input changed the ledger"
pub alpha '{"period":"2026-11","yuan":1.0e8}'
"$ECMONCTL" -s "$T/ecmond.sock" value-added alpha 2026 1.2e9 | grep -q "value added set" || fail "ecmonctl value-added"
wait_until 10 "2 value-added rows" test "$(q "select count(*) from value_added")" -eq 2

# kill -9, restart: no volume lost or counted twice, nothing re-announced.
n_alerts=$(q "select count(*) from alert_history")
kill -9 "$ECMOND_PID"
wait "$ECMOND_PID" 2>/dev/null || true
_it_untrack "$ECMOND_PID"
start_ecmond "$T/ecmond.conf"
n=$(grep -c "acme\|alpha-flow/total " "$T/mqtt.log" || true)
wait_until 20 "new readings after the restart" _it_log_count_above "$T/mqtt.log" "alpha-flow/total " "$n"
sleep_until_eval() { [ "$(q "select count(*) from hourly where owner='alpha'")" -gt 0 ]; }
wait_until 15 "an evaluation after restart" grep -q "reloaded\|started: park" "$T/ecmond.log"
stop_ecmond || fail "ecmond did not exit 0"
[ "$(q "select count(*) from alert_history")" -eq "$n_alerts" ] || fail "the restart re-announced an alert"
# Exactness: the ledger's effluent equals the totalizer's growth from the
# first reading to the last one accepted (the baseline in point_state).
first=$(grep -m1 "alpha-flow/total " "$T/mqtt.log" | sed 's/.*"value":\([^,]*\),.*/\1/')
last=$(q "select value from point_state where meter='alpha-flow' and point='total'")
sum=$(q "select total(amount) from hourly where owner='alpha' and measure='effluent_m3'")
python3 -c "import sys; d=$last-$first; sys.exit(abs($sum-d) > 1e-6)" \
  || fail "ledger $sum m3 != totalizer growth $last - $first"
echo "ledger: $sum m3 = totalizer growth $last - $first"
pass "live ledger: day quota ladder, usage, value-added validation, kill -9 restart"

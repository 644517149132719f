#!/usr/bin/env bash
# Reload keeps the ledger and the alert states: a meter removed, one added,
# a quota's limit raised and a quota added by SIGHUP. The ledger loses
# nothing and counts nothing twice, the raised quota goes back to ok once,
# the other alert states stay as they were, and a reload with nothing
# changed announces nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup reload-state

start_mosquitto
gw=$(free_port)
write_conf() { # METERS OUTLET_CONC QUOTAS
  cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "acme"; name = "Acme";
  meters = ( { id = "acme-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; }$1 );
  outlets = ( { id = "main"; volume = "acme-flow.total";$2 } );
  quotas = ( $3 ); } );
CONF
}
cod=', { id = "acme-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }'
power=', { id = "acme-power"; bus = "gw"; slave = 3; profile = "sdm630"; interval = 1; }'
power2=', { id = "acme-power2"; bus = "gw"; slave = 4; profile = "dtsu666"; interval = 1; }'
day_small='{ id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 0.3; }'
day_big='{ id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 100000.0; }'
cod_month='{ id = "cod-month"; measure = "cod_kg"; period = "month"; limit = 0.001; }'
energy='{ id = "energy-month"; measure = "energy_tce"; period = "month"; limit = 1000.0; }'

conc=' concentrations = { cod = "acme-cod.cod"; };'
write_conf "$cod$power$power2" "$conc" "$day_small, $cod_month"
start_sim "$T/ecmond.conf"   # serves all four meters throughout
sim_cmd "set acme-flow flow 360" >/dev/null   # 0.1 m3/s
sim_cmd "set acme-cod cod 50" >/dev/null
write_conf "$cod$power" "$conc" "$day_small, $cod_month"
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"
q() { sqlite3 "$T/state/ecmond.db" "$1"; }
state() { q "select state from alert_state where key='acme/$1'"; }
is() { [ "$(state "$1")" = "$2" ]; }
wait_until 60 "effluent-day exceeded" is effluent-day exceeded
wait_until 60 "cod-month exceeded" is cod-month exceeded
since_cod=$(q "select since from alert_state where key='acme/cod-month'")
hist=$(q "select count(*) from alert_history")
eff0=$(q "select total(amount) from hourly where measure='effluent_m3'")
cod0=$(q "select total(amount) from hourly where measure='cod_kg'")

# acme-power out, acme-power2 in, the day limit raised, an energy quota
# added.
write_conf "$cod$power2" "$conc" "$day_big, $cod_month, $energy"
kill -HUP "$ECMOND_PID"
wait_until 20 "the reload" grep -q "reloaded: 3 meters on 1 buses" "$T/ecmond.log"
wait_until 20 "effluent-day back to ok" is effluent-day ok
wait_until 20 "acme-power2 readings" grep -q "acme/acme-power2/" "$T/mqtt.log"
wait_until 20 "energy-month evaluated" grep -q "acme/quota/energy-month " "$T/mqtt.log"
n_power=$(grep -c "acme/acme-power/" "$T/mqtt.log")
eff1=$(q "select total(amount) from hourly where measure='effluent_m3'")
cod1=$(q "select total(amount) from hourly where measure='cod_kg'")
python3 -c "import sys; sys.exit(not ($eff1 >= $eff0 and $cod1 >= $cod0))" \
  || fail "the ledger lost volume or mass: effluent $eff0 -> $eff1, cod $cod0 -> $cod1"
[ "$(state cod-month)" = exceeded ] || fail "cod-month's state was lost"
[ "$(q "select since from alert_state where key='acme/cod-month'")" = "$since_cod" ] \
  || fail "cod-month's since changed: the reload re-announced it"
[ "$(q "select count(*) from alert_history")" -eq $((hist + 1)) ] \
  || fail "expected exactly one new transition (effluent-day exceeded -> ok): $(q "select key, from_state, to_state from alert_history where id > $hist")"
[ "$(q "select key||' '||from_state||' '||to_state from alert_history order by id desc limit 1")" = "acme/effluent-day exceeded ok" ] \
  || fail "the new transition is not effluent-day exceeded -> ok"

# The removed meter is no longer polled; the ledger keeps what it counted.
wait_until 20 "readings to go on" _it_log_count_above "$T/mqtt.log" "acme/acme-power2/" 20
[ "$(grep -c "acme/acme-power/" "$T/mqtt.log")" -eq "$n_power" ] || fail "acme-power is still polled"
kwh_old=$(q "select total(amount) from hourly where measure='electricity_kwh'")
[ -n "$kwh_old" ] || fail "no electricity in the ledger"
cod2=$(q "select total(amount) from hourly where measure='cod_kg'")

# A reload with nothing changed announces nothing and loses nothing.
hist=$(q "select count(*) from alert_history")
eff2=$(q "select total(amount) from hourly where measure='effluent_m3'")
n_ok=$(grep -c "acme/quota/effluent-day " "$T/mqtt.log")
"$ECMONCTL" -s "$T/ecmond.sock" reload >/dev/null
wait_until 20 "the second reload" _it_log_count_above "$T/ecmond.log" "reloaded: 3 meters" 1
eff3=$(q "select total(amount) from hourly where measure='effluent_m3'")
python3 -c "import sys; sys.exit(not ($eff3 >= $eff2))" || fail "effluent went down: $eff2 -> $eff3"
wait_until 20 "an evaluation after the reload" _it_log_count_above "$T/mqtt.log" "acme/quota/effluent-day " "$n_ok"
[ "$(q "select count(*) from alert_history")" -eq "$hist" ] || fail "an unchanged reload announced an alert"
stop_ecmond || fail "ecmond did not exit 0"
pass "reload: meter out and in, quota raised and added; ledger kept (effluent $eff0 -> $eff3 m3, cod $cod0 -> $cod2 kg), one transition, states kept"

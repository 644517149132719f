#!/usr/bin/env bash
# A replayed month (November 2025, hourly readings) for two enterprises:
# ledger totals, quota states and alert transitions (in order) equal numbers
# computed by hand; a replay split in two (a restart in the middle) gives
# the same totals; replaying it all again counts nothing twice; a
# totalizer reset causes no usage spike and no alert; a value-added change
# changes the intensity state.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup replay

start_mosquitto
gw=$(free_port)
write_conf() { # VALUE_ADDED_ALPHA
  cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; } );
profile_dirs = [];
profiles = (
  { id = "flow"; points = ( { name = "total"; kind = "volume_total"; unit = "m3";
      table = "holding"; address = 0; type = "float64"; } ); },
  { id = "cod"; points = ( { name = "cod"; kind = "concentration"; pollutant = "cod";
      unit = "mg/L"; table = "holding"; address = 0; type = "float32"; } ); },
  { id = "power"; points = ( { name = "kwh"; kind = "electricity_total"; unit = "kWh";
      table = "holding"; address = 0; type = "float64"; } ); }
);
enterprises = (
  { id = "alpha"; name = "Alpha";
    meters = (
      { id = "alpha-flow"; bus = "gw"; slave = 1; profile = "flow"; interval = 3600; },
      { id = "alpha-cod"; bus = "gw"; slave = 2; profile = "cod"; interval = 3600; },
      { id = "alpha-power"; bus = "gw"; slave = 3; profile = "power"; interval = 3600; }
    );
    outlets = ( { id = "main"; volume = "alpha-flow.total"; concentrations = { cod = "alpha-cod.cod"; };
                  limits_mg_l = { cod = 80.0; }; } );
    quotas = (
      { id = "cod-month"; measure = "cod_kg"; period = "month"; limit = 1400.0; },
      { id = "intensity-month"; measure = "energy_intensity"; period = "month"; limit = 0.06; }
    );
    value_added = ( { period = "2025-11"; yuan = $1; } );
  },
  { id = "beta"; name = "Beta";
    meters = ( { id = "beta-flow"; bus = "gw"; slave = 4; profile = "flow"; interval = 3600; } );
    outlets = ( { id = "main"; volume = "beta-flow.total"; } );
    quotas = ( { id = "effluent-month"; measure = "effluent_m3"; period = "month"; limit = 20000.0; } );
  }
);
alerts = { exec = [ "$T/hook", "--from-test" ]; exec_timeout = 5; };
CONF
}
write_conf 2.0e7
# The exec hook records its argv and environment, one line per run.
cat > "$T/hook" <<'HOOK'
#!/bin/sh
echo "$1 $ECMON_PARK $ECMON_ENTERPRISE $ECMON_ALERT $ECMON_FROM $ECMON_STATE $ECMON_TS" >> "${0%/hook}/hook.log"
HOOK
chmod +x "$T/hook"

# Hourly readings from 2025-11-01 00:00 to 2025-11-30 23:00 Asia/Shanghai
# (h = 0 .. 719). alpha: 36 m3/h, COD 50 mg/L (100 mg/L read at h = 300),
# 1000 kWh/h. beta: 30 m3/h; its totalizer resets at h = 100 (99999 + ...
# -> 5), losing that hour.
python3 - "$T" <<'PY'
import sys
T = sys.argv[1]
t0 = 1761926400  # 2025-11-01 00:00:00 +08:00
rows = []
for h in range(720):
    ts = t0 + 3600 * h
    rows.append(f"{ts},alpha,alpha-flow,total,{100000 + 36 * h},N")
    rows.append(f"{ts},alpha,alpha-cod,cod,{100 if h == 300 else 50},N")
    rows.append(f"{ts},alpha,alpha-power,kwh,{500000 + 1000 * h},N")
    beta = 99999 + 30 * h if h < 100 else 5 + 30 * (h - 100)
    rows.append(f"{ts},beta,beta-flow,total,{beta},N")
with open(T + "/all.csv", "w") as f:
    f.write("ts,enterprise,meter,point,value,flag\n" + "\n".join(rows) + "\n")
# The first half (h 0..360) and the rest (h 360..719: h 360 again).
half = [r for r in rows if int(r.split(",")[0]) <= t0 + 3600 * 360]
rest = [r for r in rows if int(r.split(",")[0]) >= t0 + 3600 * 360]
open(T + "/first.csv", "w").write("\n".join(half) + "\n")
open(T + "/rest.csv", "w").write("\n".join(rest) + "\n")
PY

mqtt_sub_bg "$T/events.log" 'ecmon/itpark/events'
"$ECMOND" -c "$T/ecmond.conf" -r "$T/first.csv" > "$T/replay1.out" 2>> "$T/ecmond.log"
cat "$T/replay1.out"
grep -q "replayed 1444 readings .*: 1444 accepted, 0 refused" "$T/replay1.out" || fail "first half"
"$ECMOND" -c "$T/ecmond.conf" -r "$T/rest.csv" > "$T/replay2.out" 2>> "$T/ecmond.log"
cat "$T/replay2.out"
# h = 360 is in both halves: its 4 readings are refused, not counted twice.
grep -q "replayed 1440 readings .*: 1436 accepted, 4 refused" "$T/replay2.out" || fail "second half"
"$ECMOND" -c "$T/ecmond.conf" -r "$T/all.csv" > "$T/replay3.out" 2>> "$T/ecmond.log"
grep -q "2880 readings .*: 0 accepted, 2880 refused" "$T/replay3.out" || fail "the whole month again was not refused"

db="$T/state/ecmond.db"
q() { sqlite3 "$db" "$1"; }
# Hand-computed totals: alpha 719 hours x 36 m3 = 25884 m3; COD 36 * 50e-3
# = 1.8 kg/h, and 3.6 kg in hour 300 (the reading at h = 300 is the
# concentration of the hour that the flowmeter closes at h = 301) -> 719 x
# 1.8 + 1.8 = 1296 kg; 719000 kWh -> 88.3651 tce. beta loses the hour of
# its reset: 718 x 30 = 21540 m3.
check() { # SQL EXPECTED
  local got
  got=$(q "$1")
  python3 -c "import sys; g=float('$got'); e=float('$2'); sys.exit(abs(g-e) > 1e-9*max(1,abs(e)))" \
    || fail "$1: got $got, expected $2"
  echo "ok: $1 = $got"
}
check "select total(amount) from hourly where owner='alpha' and measure='effluent_m3'" 25884
check "select total(amount) from hourly where owner='alpha' and measure='cod_kg'" 1296
# Hour 300's flow-weighted mean: 3.6 kg / 36 m3 x 1e3 = 100 mg/L.
check "select k.amount / v.amount * 1e3 from hourly k join hourly v using (owner, outlet, hour)
       where owner='alpha' and k.measure='cod_kg' and v.measure='cod_conc_m3' and hour=1761926400+3600*300" 100
check "select total(amount) from hourly where owner='alpha' and measure='electricity_kwh'" 719000
check "select total(amount) from hourly where owner='alpha' and measure='energy_tce'" 88.3651
check "select total(amount) from hourly where owner='beta' and measure='effluent_m3'" 21540
check "select count(*) from hourly where owner='alpha' and measure='effluent_m3'" 719
check "select max(amount) from hourly where owner='beta' and measure='effluent_m3'" 30
check "select count(*) from events where meter='beta-flow' and kind='reset'" 1
grep -q "meter beta-flow: total went back from 102969 to 5; not counted as usage" "$T/ecmond.log" \
  || fail "the reset was not logged"

# Alert transitions, in order, at hand-computed hours (evaluated at each
# hour boundary after that hour's readings):
#  beta: projected = 30 x 720 = 21600 > 20000 from the first hour -> warn;
#        critical when 30(h-1) >= 19000 -> h = 635 (the reset hour is lost);
#        exceeded when 30(h-1) >= 20000 -> h = 668.
#  alpha cod: projected about 1.8 x 720 + 1.8 = 1297.8 < 1400; warn when
#        1.8 h + 1.8 >= 1120 -> h = 622.
#  alpha main.cod: hour 300's mean 100 > 80 mg/L -> exceeded when that hour
#        is judged (h = 301); hour 301 (50 mg/L) clears it (h = 302).
#  alpha intensity: 0.1229 tce/h over 2e7 yuan / 720 h: 0.044244 tce per
#        10^4 yuan all month, fraction 0.7374 < 0.8 with limit 0.06: ok.
hour() { echo $((1761926400 + 3600 * $1)); }
expected="beta/effluent-month ok warn $(hour 1)
alpha/main.cod ok exceeded $(hour 301)
alpha/main.cod exceeded ok $(hour 302)
alpha/cod-month ok warn $(hour 622)
beta/effluent-month warn critical $(hour 635)
beta/effluent-month critical exceeded $(hour 668)"
got=$(q "select key, from_state, to_state, cast(ts as integer) from alert_history order by id" | tr '|' ' ')
[ "$got" = "$expected" ] || fail "alert transitions:
$got
expected:
$expected"
echo "alert transitions as computed by hand"
# One event per transition on MQTT, in the same order.
wait_until 10 "6 events on MQTT" _it_log_count_above "$T/events.log" '"to":' 5
grep -o '"alert":"[a-z.-]*","from":"[a-z]*","to":"[a-z]*"' "$T/events.log" > "$T/ev.txt"
[ "$(wc -l < "$T/ev.txt")" -eq 6 ] || fail "expected exactly 6 events, got $(wc -l < "$T/ev.txt")"
[ "$(sed -n 2p "$T/ev.txt")" = '"alert":"main.cod","from":"ok","to":"exceeded"' ] || fail "event order"
[ "$(sed -n 5p "$T/ev.txt")" = '"alert":"effluent-month","from":"warn","to":"critical"' ] || fail "event order"

# Value added: with 1.75e7 yuan the intensity is 0.1229 x 720 / 1750 =
# 0.050565, fraction 0.8427 >= 0.8: the final evaluation of a replay that
# adds nothing says warn, and re-announces nothing else.
write_conf 1.75e7
"$ECMOND" -c "$T/ecmond.conf" -r "$T/all.csv" > "$T/replay4.out" 2>> "$T/ecmond.log"
[ "$(q "select to_state from alert_history where key='alpha/intensity-month'")" = "warn" ] \
  || fail "the value-added change did not raise the intensity alert"
[ "$(q "select count(*) from alert_history")" -eq 7 ] || fail "a replay re-announced an alert"
# Each transition: one hook run, one log line, one retained alert state.
[ "$(wc -l < "$T/hook.log")" -eq 7 ] || fail "expected 7 hook runs, got $(wc -l < "$T/hook.log")"
grep -q "^--from-test itpark beta effluent-month critical exceeded 1764331200.000$" "$T/hook.log" \
  || fail "hook environment"
[ "$(grep -c "alert [a-z]*/[a-z.-]*: [a-z]* -> " "$T/ecmond.log")" -eq 7 ] || fail "expected 7 alert log lines"
timeout 5 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'ecmon/itpark/alerts/#' -v -W 2 > "$T/retained.log" 2>/dev/null || true
grep -q 'alerts/beta/effluent-month {.*"state":"exceeded"' "$T/retained.log" || fail "retained beta alert"
grep -q 'alerts/alpha/cod-month {.*"state":"warn"' "$T/retained.log" || fail "retained alpha alert"
grep -q 'alerts/alpha/intensity-month {.*"state":"warn"' "$T/retained.log" || fail "retained intensity alert"
# Bad lines: each reported as file:line: message, exit status 1, nothing
# counted.
printf '%s\n' 'ts,enterprise,meter,point,value,flag' \
  '1761926400,alpha,nosuch,total,1,N' 'abc,alpha,alpha-flow,total,1,N' \
  '1761926400,beta,alpha-flow,total,1,N' '1761926400,alpha,alpha-flow,nopoint,1,N' \
  '1761926400,alpha,alpha-flow,total,x,N' '1761926400,alpha,alpha-flow,total,1,Q' \
  '1761926400,alpha,alpha-flow,total,,N' '1761926400,alpha' > "$T/bad.csv"
rc=0
"$ECMOND" -c "$T/ecmond.conf" -r "$T/bad.csv" > "$T/bad.out" 2> "$T/bad.err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad lines: exit status $rc"
for m in "bad.csv:2: unknown meter 'nosuch'" "bad.csv:3: bad timestamp 'abc'" \
         "bad.csv:4: meter 'alpha-flow' belongs to 'alpha', not 'beta'" \
         "bad.csv:5: meter 'alpha-flow' has no point 'nopoint'" "bad.csv:6: bad value 'x'" \
         "bad.csv:7: bad flag 'Q'" "bad.csv:8: no value for a reading flagged N" \
         "bad.csv:9: expected ts,enterprise,meter,point,value,flag"; do
  grep -qF "$m" "$T/bad.err" || fail "no message: $m"
done
grep -q "0 readings .*8 bad lines" "$T/bad.out" || fail "bad lines summary: $(cat "$T/bad.out")"

# The quota's RRD file: used, limit and projected at the last evaluation.
rrdtool lastupdate "$T/rrd/beta/quota-effluent-month.rrd" > "$T/qrrd.txt"
grep -q "^ used limit projected" "$T/qrrd.txt" || fail "quota RRD data sources"
grep -q ": 21540 20000 " "$T/qrrd.txt" || fail "quota RRD values: $(tail -1 "$T/qrrd.txt")"
pass "replayed month: totals, transitions and restarts as computed by hand"

#!/usr/bin/env bash
# Meter faults: each fault injected into ecmon-sim's meters gets its HJ 212
# flag on MQTT and in what ecmond keeps (ecmonctl meters, RRD, ledger
# events), is logged once and its end once, and never becomes usage or an
# alert. Faults: timeout, exceptions 04 and 02, NaN, +-infinity, a value out
# of the point's range, a totalizer reset, meters swapped for ones with a
# smaller and a much larger total, a jump beyond max_rate and a flow above
# max_rate for several polls; on RTU (a pty) CRC errors; answers from the
# wrong unit id on RTU and on TCP. Prints the matrix of what was injected and seen.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup faults

start_mosquitto
gw=$(free_port)
# Quotas no false usage may go unnoticed under: a day's projection of the
# real flows (2 x 3.6 m3/h; 10 mg/L of COD) stays below a third of the
# limits, a few m3 (or a few g of COD) counted in the first minutes would
# already project above them (warn), a swapped total far beyond.
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = (
  { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 300; retries = 0; },
  { id = "rs485"; rtu = { device = "$T/ttyRS485"; baud = 19200; parity = "E";
                          data_bits = 8; stop_bits = 1; };
    timeout_ms = 300; retries = 0; frame_gap_ms = 5; }
);
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
profiles = (
  { id = "fm"; points = (
      { name = "flow"; kind = "flow_rate"; unit = "m3/h"; table = "input";
        address = 0x1010; type = "float32"; order = "abcd"; min = 0.0; max = 100.0; },
      { name = "total"; kind = "volume_total"; unit = "m3"; table = "input";
        address = 0x1018; type = "float32"; order = "abcd"; max_rate = 100.0; }
  ); },
  { id = "cod"; points = (
      { name = "cod"; kind = "concentration"; pollutant = "cod"; unit = "mg/L";
        table = "holding"; address = 0x1005; type = "float32"; order = "abcd";
        min = 0.0; max = 1000.0; }
  ); }
);
enterprises = ( { id = "acme"; name = "Acme";
  meters = (
    { id = "acme-flow"; bus = "gw"; slave = 1; profile = "fm"; interval = 1; },
    { id = "acme-cod"; bus = "gw"; slave = 2; profile = "cod"; interval = 1; },
    { id = "acme-rtu"; bus = "rs485"; slave = 3; profile = "flowmeter-emf"; interval = 1; }
  );
  outlets = (
    { id = "main"; volume = "acme-flow.total"; concentrations = { cod = "acme-cod.cod"; };
      limits_mg_l = { cod = 80.0; }; },
    { id = "rtu"; volume = "acme-rtu.total"; }
  );
  quotas = (
    { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 600.0; },
    { id = "cod-day"; measure = "cod_kg"; period = "day"; limit = 3.0; }
  );
} );
CONF
start_sim "$T/ecmond.conf"
[ -L "$T/ttyRS485" ] || fail "the simulator did not make the RTU device"
RATE=3.6 # m3/h, both flowmeters
for m in acme-flow acme-rtu; do sim_cmd "set $m flow $RATE" >/dev/null; done
sim_cmd "set acme-flow total 5000" >/dev/null
sim_cmd "free acme-flow total" >/dev/null
sim_cmd "set acme-rtu total 20000" >/dev/null
sim_cmd "free acme-rtu total" >/dev/null
sim_cmd "set acme-cod cod 10" >/dev/null
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/#'
start_ecmond "$T/ecmond.conf"
db="$T/state/ecmond.db"
q() { sqlite3 "$db" "$1"; }
ctl() { "$ECMONCTL" -s "$T/ecmond.sock" "$@"; }

# ---- helpers over the MQTT and ecmond logs, from a mark on ----

lines() { wc -l < "$1"; }
# readings METER POINT FLAG FROM: readings with FLAG after line FROM
readings() {
  tail -n +$(($4 + 1)) "$T/mqtt.log" | grep -c "^ecmon/itpark/acme/$1/$2 .*\"flag\":\"$3\"" || true
}
seen() { [ "$(readings "$@")" -ge "$5" ]; } # METER POINT FLAG FROM N
# logged PATTERN FROM: lines of ecmond's log after line FROM with PATTERN
logged() { tail -n +$(($2 + 1)) "$T/ecmond.log" | grep -cF -- "$1" || true; }
usage() { q "select printf('%.6f', total(amount)) from hourly where owner='acme' and outlet='$1' and measure='$2'"; }
nevents() { q "select count(*) from events"; }
nalerts() { q "select count(*) from alert_history"; }
# held METER POINT FLAG: ecmond's own view (ecmonctl meters) has that flag
held() {
  ctl -j meters "$1" | python3 -c '
import json, sys
m = json.load(sys.stdin)["meters"][0]
sys.exit(m["points"][sys.argv[1]]["flag"] != sys.argv[2])' "$2" "$3"
}
# rrd_unknown METER: the meter's last RRD update holds no value (after
# ecmond wrote the updates it keeps to write together)
rrd_unknown() {
  ctl flush acme "$1" > /dev/null || return 1
  rrdtool lastupdate "$T/rrd/acme/$1.rrd" | tail -1 | grep -Eq '^[0-9]+:( U)+$'
}
flags_of() { # METER FROM: "point:flag xN ..." of the non-N readings after FROM
  tail -n +$(($2 + 1)) "$T/mqtt.log" | grep "^ecmon/itpark/acme/$1/[a-z_]* .*\"flag\"" |
    grep -v '"flag":"N"' | sed 's|^ecmon/itpark/acme/[^/]*/\([a-z_]*\) .*"flag":"\(.\)".*|\1:\2|' |
    sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "} END {if (!NR) printf "N only"}'
}

MATRIX=$T/matrix.txt
printf '%-26s %-9s %-26s %-8s %-8s %s\n' FAULT METER "FLAGS SEEN (MQTT)" "LOG" "LOG END" \
  "LEDGER DURING THE FAULT" > "$MATRIX"
INJECTED=0
# begin NAME METER: marks in both logs, ledger figures before the fault
begin() {
  PH_NAME=$1 PH_METER=$2
  PH_MQ=$(lines "$T/mqtt.log") PH_LOG=$(lines "$T/ecmond.log") PH_T0=$EPOCHREALTIME
  PH_MAIN=$(usage main effluent_m3) PH_RTU=$(usage rtu effluent_m3) PH_KG=$(usage main cod_kg)
  PH_EV=$(nevents) PH_AL=$(nalerts) PH_FAULT_LOG= PH_END_LOG=
  PH_EVID=$(q "select coalesce(max(id), 0) from events")
  INJECTED=$((INJECTED + 1))
}
# expect_log COUNT PATTERN [end]: the phase logged PATTERN exactly COUNT times
expect_log() {
  local n
  n=$(logged "$2" "$PH_LOG")
  [ "$n" -eq "$1" ] || fail "$PH_NAME: '$2' logged $n times, expected $1"
  if [ "${3:-}" = end ]; then PH_END_LOG=$((${PH_END_LOG:-0} + n)); else PH_FAULT_LOG=$((${PH_FAULT_LOG:-0} + n)); fi
}
# finish [EXTRA_M3]: the ledger gained no more than the real flows deliver
# over the phase (EXTRA_M3 for volume that really flowed faster), no alert;
# one matrix row.
finish() {
  local extra=${1:-0} t1 main rtu kg ev al
  t1=$EPOCHREALTIME
  main=$(usage main effluent_m3) rtu=$(usage rtu effluent_m3) kg=$(usage main cod_kg)
  ev=$(($(nevents) - PH_EV)) al=$(($(nalerts) - PH_AL))
  python3 - "$PH_T0" "$t1" "$RATE" "$extra" "$PH_MAIN" "$main" "$PH_RTU" "$rtu" "$PH_KG" "$kg" <<'PY' > "$T/phase.txt" || fail "$PH_NAME: $(cat "$T/phase.txt")"
import sys
t0, t1, rate, extra, m0, m1, r0, r1, k0, k1 = map(float, sys.argv[1:])
# what the meters can have delivered: the phase, plus a few seconds for
# the readings on either side (late polls on a busy machine)
cap = rate * (t1 - t0 + 4) / 3600
dm, dr, dk = m1 - m0, r1 - r0, k1 - k0
print("+%.4f m3 (<= %.4f), rtu +%.4f m3, COD +%.3f g" % (dm, cap + extra, dr, dk * 1e3))
ok = -1e-9 <= dm <= cap + extra and -1e-9 <= dr <= cap and -1e-9 <= dk <= (cap + extra) * 10e-3
sys.exit(0 if ok else 1)
PY
  [ "$al" -eq 0 ] || fail "$PH_NAME: $al alert(s) raised"
  printf '%-26s %-9s %-26s %-8s %-8s %s, %d event(s), %d alert(s)\n' "$PH_NAME" "$PH_METER" \
    "$(flags_of "$PH_METER" "$PH_MQ")" "${PH_FAULT_LOG:--}" "${PH_END_LOG:--}" \
    "$(cat "$T/phase.txt")" "$ev" "$al" >> "$MATRIX"
}
# normal_again METER FROM POINT...: 2 N readings of each POINT after FROM
normal_again() {
  local m=$1 from=$2 p
  shift 2
  for p in "$@"; do wait_until 15 "$m/$p normal again" seen "$m" "$p" N "$from" 2; done
}
# persistent METER FLAG INJECT CLEAR POINT...: inject, see 3 readings of
# every POINT with FLAG, check ecmond's view and RRD, clear, see N again.
persistent() {
  local m=$1 flag=$2 inject=$3 clear=$4 p mark
  shift 4
  sim_cmd "$inject" >/dev/null || fail "$PH_NAME: simulator refused '$inject'"
  for p in "$@"; do wait_until 15 "$m/$p flagged $flag" seen "$m" "$p" "$flag" "$PH_MQ" 3; done
  for p in "$@"; do held "$m" "$p" "$flag" || fail "$PH_NAME: ecmonctl meters does not show $m/$p $flag"; done
  rrd_unknown "$m" || fail "$PH_NAME: the RRD update of $m holds a value: $(rrdtool lastupdate "$T/rrd/acme/$m.rrd" | tail -1)"
  mark=$(lines "$T/mqtt.log")
  sim_cmd "$clear" >/dev/null
  normal_again "$m" "$mark" "$@"
}

for m in acme-flow acme-cod acme-rtu; do
  wait_until 20 "$m readings" seen $m "$([ $m = acme-cod ] && echo cod || echo total)" N 0 3
done
grep -q "meter acme-.*: offline" "$T/ecmond.log" && fail "a meter went offline before any fault"

# ---- totals: reset, swaps, jumps (one reading each, flagged) ----

# rrd_no_spike METER: the RRD holds no rate above the meter's max_rate
# (100 m3/h): neither the step under way (its m3 so far) nor the last
# steps. A counted swap would be thousands of m3 in one second.
rrd_no_spike() {
  local f="$T/rrd/acme/$1.rrd"
  ctl flush acme "$1" > /dev/null || fail "ecmonctl flush acme $1"
  rrdtool info "$f" | python3 -c '
import sys
v = [float(l.split(" = ")[1]) for l in sys.stdin if l.startswith("ds[total].value")][0]
sys.exit(not v <= 100 / 3600 * 60)' || fail "$PH_NAME: RRD step of $1 holds $(rrdtool info "$f" | grep 'ds\[total\].value')"
  rrdtool fetch "$f" AVERAGE -r 60 -s -3min | python3 -c '
import math, sys
rates = [float(l.split()[2]) for l in sys.stdin if ":" in l and len(l.split()) == 3]
sys.exit(any(not math.isnan(r) and r > 100 / 3600 for r in rates))' || fail "$PH_NAME: RRD of $1 has a spike"
}
# event METER FLAG KIND WHAT: the total's next reading is flagged FLAG, kept
# as one KIND event, logged once as "total WHAT from ..."; it counts on.
event() {
  local mark got
  wait_until 15 "$1/total flagged $2" seen "$1" total "$2" "$PH_MQ" 1
  mark=$(lines "$T/mqtt.log")
  normal_again "$1" "$mark" total
  rrd_no_spike "$1"
  got=$(q "select meter || ' ' || kind from events where id > $PH_EVID")
  [ "$got" = "$1 $3" ] || fail "$PH_NAME: events '$got', expected one '$1 $3'"
  expect_log 1 "meter $1: total $4 from"
  [ "$(tail -n +$((PH_LOG + 1)) "$T/ecmond.log" | grep -F "meter $1: total $4 from" |
      grep -cF "; not counted as usage, flagged $2")" -eq 1 ] || fail "$PH_NAME: the log line does not say flagged $2"
}

begin "swap, smaller total" acme-flow
sim_cmd "set acme-flow total 1000" >/dev/null
sim_cmd "free acme-flow total" >/dev/null
event acme-flow D reset "went back"
finish

begin "swap, larger total" acme-flow
sim_cmd "set acme-flow total 90000" >/dev/null
sim_cmd "free acme-flow total" >/dev/null
event acme-flow T jump jumped
finish

begin "reset to 0" acme-flow
sim_cmd "fault acme-flow reset" >/dev/null
event acme-flow D reset "went back"
finish

begin "jump > max_rate (+5 m3)" acme-flow
now=$(sim_cmd "get acme-flow total" | cut -d' ' -f2)
sim_cmd "set acme-flow total $(python3 -c "print($now + 5)")" >/dev/null
sim_cmd "free acme-flow total" >/dev/null
event acme-flow T jump jumped
finish

# A flow above max_rate for several polls: the flow is out of range (T),
# every reading of the total jumps (T, each kept as an event), and the log
# says so once at the start and once at the end.
begin "flow > max_rate, 4 polls" acme-flow
sim_cmd "set acme-flow flow 150" >/dev/null
wait_until 15 "4 jumps in a row" seen acme-flow total T "$PH_MQ" 4
held acme-flow flow T || fail "$PH_NAME: ecmonctl meters does not show flow T"
mark=$(lines "$T/mqtt.log")
sim_cmd "set acme-flow flow $RATE" >/dev/null
normal_again acme-flow "$mark" flow total
run=$(readings acme-flow total T "$PH_MQ")
[ "$(($(nevents) - PH_EV))" -eq "$run" ] || fail "$PH_NAME: $(($(nevents) - PH_EV)) events for $run jumps"
expect_log 1 "meter acme-flow: total jumped from"
expect_log 1 "meter acme-flow: flow: 150 m3/h outside 0..100; flagged T"
expect_log 1 "meter acme-flow: total counts again after $run readings not counted as usage" end
expect_log 1 "meter acme-flow: flow: normal again" end
# the poll that straddles the change may count up to max_rate's worth
finish "$(python3 -c "print(100 * 2 / 3600)")"

# ---- device and communication faults ----

begin "timeout" acme-flow
persistent acme-flow B "fault acme-flow timeout" "fault acme-flow none" flow total
expect_log 1 "meter acme-flow: offline: "
expect_log 1 "meter acme-flow: online" end
finish

begin "exception 04" acme-flow
persistent acme-flow D "fault acme-flow exception:4" "fault acme-flow none" flow total
expect_log 1 "meter acme-flow: flow, total: exception 4 (server device failure); flagged D"
expect_log 1 "meter acme-flow: flow, total: normal again" end
finish

for f in nan inf -inf; do
  begin "$f in float registers" acme-flow
  persistent acme-flow D "fault acme-flow $f" "fault acme-flow none" flow total
  expect_log 1 "meter acme-flow: flow, total: not a finite number (NaN or infinity); flagged D"
  expect_log 1 "meter acme-flow: flow, total: normal again" end
  finish
done

begin "COD above its max" acme-cod
persistent acme-cod T "set acme-cod cod 5000" "set acme-cod cod 10" cod
expect_log 1 "meter acme-cod: cod: 5000 mg/L outside 0..1000; flagged T"
expect_log 1 "meter acme-cod: cod: normal again" end
finish

begin "CRC error (RTU)" acme-rtu
persistent acme-rtu B "fault acme-rtu badcrc" "fault acme-rtu none" flow total
expect_log 1 "meter acme-rtu: offline: Invalid CRC"
expect_log 1 "meter acme-rtu: online" end
finish

begin "wrong unit id (RTU)" acme-rtu
persistent acme-rtu B "fault acme-rtu badunit" "fault acme-rtu none" flow total
expect_log 1 "meter acme-rtu: offline: Response not from requested slave"
expect_log 1 "meter acme-rtu: online" end
finish

# Modbus TCP: the TCP engine compares the answer's unit id with the
# request's (drivers/mbtcp.c), as libmodbus does for RTU.
begin "wrong unit id (TCP)" acme-flow
persistent acme-flow B "fault acme-flow badunit" "fault acme-flow none" flow total
expect_log 1 "meter acme-flow: offline: answer from unit"
expect_log 1 "meter acme-flow: online" end
finish

# Exception 02: the register is rejected; the point is flagged D and
# retried hourly (the request plan's rule), so it stays D after the fault.
begin "exception 02" acme-cod
sim_cmd "fault acme-cod exception:2" >/dev/null
wait_until 15 "acme-cod/cod flagged D" seen acme-cod cod D "$PH_MQ" 1
sim_cmd "fault acme-cod none" >/dev/null
wait_until 15 "acme-cod/cod still D after the fault" seen acme-cod cod D "$PH_MQ" 4
held acme-cod cod D || fail "$PH_NAME: ecmonctl meters does not show cod D"
rrd_unknown acme-cod || fail "$PH_NAME: the RRD update of acme-cod holds a value"
expect_log 1 "meter acme-cod: point cod rejected by the device; retrying it hourly"
PH_END_LOG="(hourly)"
finish

kill -0 "$ECMOND_PID" || fail "ecmond died"
stop_ecmond || fail "ecmond did not exit 0"

# Nothing else was logged: every line is one of those counted above (or
# start, connect, stop).
allowed='started: park |mqtt 127[.]0[.]0[.]1:[0-9]+: (connected|connection lost)$|terminating$'
allowed+='|meter acme-[a-z]+: (online$|offline: |[a-z, ]+: (exception 4|not a finite|[0-9]+ mg/L outside|150 m3/h outside)|[a-z, ]+: normal again$)'
allowed+='|meter acme-flow: total (went back from|jumped from|counts again after)|meter acme-cod: point cod rejected'
if grep -Ev "$allowed" "$T/ecmond.log" > "$T/unexpected.txt"; then
  fail "unexpected log lines: $(cat "$T/unexpected.txt")"
fi
echo "ecmond logged $(lines "$T/ecmond.log") lines in all"

# ---- the ledger as a whole ----

# No alert, no quota state but ok.
[ "$(nalerts)" -eq 0 ] || fail "alerts raised: $(q "select key, to_state from alert_history")"
[ "$(q "select count(*) from alert_state where state != 'ok'")" -eq 0 ] || fail "a quota is not ok"
# The events are the flagged readings of totals that had a value: 2 resets
# and jumps (2 plus the run) on acme-flow, nothing else.
[ "$(q "select count(*) from events where meter='acme-flow' and kind='reset'")" -eq 2 ] || fail "resets: $(q "select * from events")"
[ "$(q "select count(*) from events where meter='acme-flow' and kind='jump'")" -eq $((2 + run)) ] || fail "jumps"
[ "$(q "select count(*) from events where meter != 'acme-flow'")" -eq 0 ] || fail "events on other meters"
# Every outlet's usage equals the sum of the deltas between consecutive
# readings with a value, counting only those into an N reading (a flagged
# one only moves the baseline), each delta within 0..max_rate; computed
# from what was published, independently of ecmond's accounting.
for o in main:acme-flow:100 rtu:acme-rtu:0; do
  IFS=: read -r outlet meter maxrate <<< "$o"
  want=$(python3 - "$T/mqtt.log" "$meter" "$maxrate" <<'PY'
import json, sys
log, meter, maxrate = sys.argv[1], sys.argv[2], float(sys.argv[3])
topic = "ecmon/itpark/acme/%s/total " % meter
last, used, counted = None, 0.0, 0
for line in open(log):
    if not line.startswith(topic):
        continue
    r = json.loads(line[len(topic):])
    if r["value"] is None:
        continue
    if last is not None and r["flag"] == "N":
        d = r["value"] - last[1]
        dt = r["ts"] - last[0]
        assert d >= 0, ("negative delta counted", last, r)
        assert maxrate == 0 or d <= maxrate * dt / 3600 * (1 + 1e-9), ("implausible delta counted", last, r)
        used += d
        counted += 1
    last = (r["ts"], r["value"])
print("%.9f %d" % (used, counted))
PY
) || fail "$meter: the published readings show a wrong delta"
  got=$(q "select total(amount) from hourly where owner='acme' and outlet='$outlet' and measure='effluent_m3'")
  python3 -c "import sys; sys.exit(abs($got - ${want% *}) > 1e-6)" ||
    fail "$outlet: ledger $got m3, published readings give ${want% *} m3"
  echo "outlet $outlet: ledger $got m3 = ${want#* } published deltas"
done
# COD: the flow-weighted mean is the 10 mg/L served; 5000 never counted.
mean=$(q "select k.a / v.a * 1e3 from (select total(amount) a from hourly where measure='cod_kg') k,
          (select total(amount) a from hourly where measure='cod_conc_m3') v")
python3 -c "import sys; sys.exit(abs($mean - 10) > 1e-4)" || fail "COD mean $mean mg/L, expected 10"
echo "---- fault matrix: $INJECTED faults injected ----"
cat "$MATRIX"
pass "faults: $INJECTED injected; each flagged, logged once, no usage, no alert"

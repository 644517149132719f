#!/usr/bin/env bash
# Crash safety: five days of readings from four enterprises and the park
# (totalizers, a flow rate integrated, concentrations, electricity, gas,
# steam, heat, reuse; a register wrap, a meter swap, a jump, a gap, flagged
# readings) are replayed once without interruption into a reference state.
# Then, from empty state, the same replay is killed with SIGKILL after a
# random delay (0 .. the reference run's time) and restarted until a run
# completes (a round), and again from empty state, until CRASH_RUNS kills.
# After every kill: PRAGMA integrity_check is ok; every RRD file reads back
# (info, lastupdate, fetch); the ledger's complete hours, events and alert
# transitions are the reference's first ones. After every round: every
# hourly row, point baseline, event, alert state and alert transition (with
# its payload and since) equals the reference's exactly; so does each RRD
# file's last update; each alert hook run is one of the reference's.
#
# RRD data is compared and counted, not required equal: librrd 1.7.2
# updates a file in place through mmap and moves each archive's row
# pointer before it writes last_update, so a kill inside rrd_update can
# leave an archive one row ahead; the update done again then shifts that
# archive's older rows by one step. The file stays valid. With
# CRASH_RRDCACHED=1 updates go through rrdcached, which the kill does not
# touch, and the data must be equal.
#   CRASH_RUNS=N  kills (default 50)   CRASH_SEED=S  the kill delays
#   CRASH_DAYS=D  days of readings (default 5)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup crash

runs=${CRASH_RUNS:-50}
days=${CRASH_DAYS:-5}
seed=${CRASH_SEED:-$(( $(date +%s%N) / 1000 % 1000000 ))}
echo "crash test: $runs kills, $days days of readings, seed $seed" \
  "(CRASH_SEED=$seed repeats the kill moments)"

MQTT_LOG_TYPE=warning start_mosquitto   # tens of thousands of messages
cached=
if [ "${CRASH_RRDCACHED:-0}" = 1 ]; then
  mkdir -p "$T/journal"
  # -w 3600: updates wait in rrdcached, as they would in production.
  (_it_exec rrdcached -g -l "unix:$T/rrdcached.sock" -b "$T" -B -j "$T/journal" \
     -p "$T/rrdcached.pid" -w 3600 -f 7200) > "$T/rrdcached.log" 2>&1 &
  _it_track $!
  wait_until 10 "rrdcached socket" test -S "$T/rrdcached.sock"
  cached="rrdcached = \"unix:$T/rrdcached.sock\";"
  echo "RRD updates through rrdcached"
fi
write_conf() { # NAME: $T/NAME.conf with state in $T/NAME/
  cat > "$T/$1.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai";
  wwtp = { capacity_m3_per_day = 3000.0; inflow = "wwtp-in.total"; };
  meters = ( { id = "wwtp-in"; bus = "gw"; slave = 90; profile = "total"; interval = 600; } );
  quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 2300.0; } );
};
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-crash-$1"; };
storage = { state_dir = "$T/$1/state"; rrd_dir = "$T/$1/rrd"; $cached };
control = { socket = "$T/$1/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = 1; }; } );
profile_dirs = [];
profiles = (
  { id = "flow"; points = (
      { name = "flow"; kind = "flow_rate"; unit = "m3/h"; table = "holding"; address = 0; type = "float32"; },
      { name = "total"; kind = "volume_total"; unit = "m3"; table = "holding"; address = 2; type = "float64"; } ); },
  { id = "total"; points = ( { name = "total"; kind = "volume_total"; unit = "m3";
      table = "holding"; address = 0; type = "float64"; max_rate = 400.0; } ); },
  { id = "rate"; points = ( { name = "flow"; kind = "flow_rate"; unit = "m3/h";
      table = "holding"; address = 0; type = "float32"; } ); },
  { id = "count16"; points = ( { name = "total"; kind = "volume_total"; unit = "m3";
      table = "holding"; address = 0; type = "uint16"; scale = 0.1; } ); },
  { id = "cod"; points = ( { name = "cod"; kind = "concentration"; pollutant = "cod";
      unit = "mg/L"; table = "holding"; address = 0; type = "float32"; } ); },
  { id = "nh3n"; points = ( { name = "nh3n"; kind = "concentration"; pollutant = "nh3n";
      unit = "mg/L"; table = "holding"; address = 0; type = "float32"; } ); },
  { id = "kwh"; points = ( { name = "kwh"; kind = "electricity_total"; unit = "kWh";
      table = "holding"; address = 0; type = "float64"; } ); },
  { id = "gas"; points = ( { name = "gas"; kind = "gas_total"; unit = "m3";
      table = "holding"; address = 0; type = "float64"; } ); },
  { id = "steam"; points = ( { name = "steam"; kind = "steam_total"; unit = "t";
      table = "holding"; address = 0; type = "float64"; } ); },
  { id = "heat"; points = ( { name = "heat"; kind = "heat_total"; unit = "GJ";
      table = "holding"; address = 0; type = "float64"; } ); },
  { id = "reuse"; points = ( { name = "reuse"; kind = "reuse_total"; unit = "m3";
      table = "holding"; address = 0; type = "float64"; } ); }
);
enterprises = (
  { id = "alpha"; name = "Alpha";
    meters = (
      { id = "alpha-flow"; bus = "gw"; slave = 1; profile = "flow"; interval = 600; },
      { id = "alpha-cod"; bus = "gw"; slave = 2; profile = "cod"; interval = 600; },
      { id = "alpha-nh3n"; bus = "gw"; slave = 3; profile = "nh3n"; interval = 600; },
      { id = "alpha-power"; bus = "gw"; slave = 4; profile = "kwh"; interval = 600; },
      { id = "alpha-gas"; bus = "gw"; slave = 5; profile = "gas"; interval = 600; } );
    outlets = ( { id = "main"; volume = "alpha-flow.total";
                  concentrations = { cod = "alpha-cod.cod"; nh3n = "alpha-nh3n.nh3n"; };
                  limits_mg_l = { cod = 80.0; nh3n = 15.0; }; } );
    quotas = (
      { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 1000.0; },
      { id = "cod-month"; measure = "cod_kg"; period = "month"; limit = 1500.0; },
      { id = "intensity-month"; measure = "energy_intensity"; period = "month"; limit = 0.05; } );
    value_added = ( { period = "2025-11"; yuan = 1.6e8; }, { period = "2025-12"; yuan = 1.4e8; } );
  },
  { id = "beta"; name = "Beta";
    meters = (
      { id = "beta-flow"; bus = "gw"; slave = 11; profile = "rate"; interval = 600; },
      { id = "beta-cod"; bus = "gw"; slave = 12; profile = "cod"; interval = 600; },
      { id = "beta-steam"; bus = "gw"; slave = 13; profile = "steam"; interval = 600; } );
    outlets = ( { id = "out"; volume = "beta-flow.flow"; concentrations = { cod = "beta-cod.cod"; };
                  limits_mg_l = { cod = 60.0; }; } );
    quotas = (
      { id = "effluent-month"; measure = "effluent_m3"; period = "month"; limit = 18000.0; },
      { id = "cod-day"; measure = "cod_kg"; period = "day"; limit = 31.0; } );
  },
  { id = "gamma"; name = "Gamma";
    meters = (
      { id = "gamma-flow"; bus = "gw"; slave = 21; profile = "count16"; interval = 600; },
      { id = "gamma-power"; bus = "gw"; slave = 22; profile = "kwh"; interval = 600; },
      { id = "gamma-heat"; bus = "gw"; slave = 23; profile = "heat"; interval = 600; },
      { id = "gamma-reuse"; bus = "gw"; slave = 24; profile = "reuse"; interval = 600; } );
    outlets = ( { id = "main"; volume = "gamma-flow.total"; } );
    quotas = (
      { id = "electricity-day"; measure = "electricity_kwh"; period = "day"; limit = 30000.0; },
      { id = "reuse-month"; measure = "reuse_m3"; period = "month"; limit = 3000.0; } );
  },
  { id = "delta"; name = "Delta";
    meters = (
      { id = "delta-flow"; bus = "gw"; slave = 31; profile = "total"; interval = 600; },
      { id = "delta-cod"; bus = "gw"; slave = 32; profile = "cod"; interval = 600; } );
    outlets = ( { id = "main"; volume = "delta-flow.total"; concentrations = { cod = "delta-cod.cod"; };
                  limits_mg_l = { cod = 50.0; }; } );
    quotas = ( { id = "cod-day"; measure = "cod_kg"; period = "day"; limit = 8.0; } );
  }
);
alerts = { exec = [ "$T/hook", "$1" ]; exec_timeout = 5; };
CONF
  mkdir -p "$T/$1"
}
write_conf ref
write_conf crash
# The exec hook: one line per transition, into the run's own file.
cat > "$T/hook" <<'HOOK'
#!/bin/sh
echo "$ECMON_ENTERPRISE/$ECMON_ALERT $ECMON_FROM $ECMON_STATE $ECMON_TS" >> "${0%/hook}/$1/hook.log"
HOOK
chmod +x "$T/hook"

# The readings: every meter every 10 minutes (a few seconds apart, in poll
# order), from 2025-11-27 00:00 +08:00, a fixed pseudo-random series.
python3 - "$T/readings.csv" "$days" <<'PY'
import math, random, sys
out, days = sys.argv[1], int(sys.argv[2])
rnd = random.Random(75)
t0, step = 1764172800, 600
rows = []
tot = {"alpha": 250000.0, "gamma": 60000, "delta": 8000.0, "wwtp": 1e6,
       "apower": 3e6, "gas": 12000.0, "steam": 900.0, "gpower": 4e5,
       "heat": 5000.0, "reuse": 100.0}
def r(ts, meter, point, value, flag="N"):
    rows.append((ts, f"{meter.split('-')[0] if meter != 'wwtp-in' else 'park'},{meter},{point},{value},{flag}"))
for k in range(days * 144):
    ts = t0 + step * k
    h = (k % 144) / 6.0                      # hour of the day
    day = k // 144
    diurnal = 1 + 0.35 * math.sin((h - 8) / 24 * 2 * math.pi)
    dayf = [1.0, 1.12, 0.9, 1.2, 1.05, 0.8, 1.15][day % 7]
    # alpha: flowmeter (rate and total), COD, NH3-N, power, gas.
    qa = 40 * diurnal * dayf * (1 + rnd.uniform(-0.08, 0.08))
    tot["alpha"] += qa * step / 3600
    r(ts, "alpha-flow", "flow", f"{qa:.3f}")
    r(ts, "alpha-flow", "total", repr(tot["alpha"]))
    cod = 45 + rnd.gauss(0, 6) + (55 if (k // 6) % 31 == 7 else 0)
    if k % 47 == 20:
        r(ts + 2, "alpha-cod", "cod", "", "D")      # device fault
    elif k % 101 == 50:
        r(ts + 2, "alpha-cod", "cod", f"{cod:.2f}", "C")  # calibration
    else:
        r(ts + 2, "alpha-cod", "cod", f"{cod:.2f}")
    nh = 6 + rnd.gauss(0, 1) + (14 if (k // 6) % 53 == 20 else 0)
    r(ts + 3, "alpha-nh3n", "nh3n", f"{nh:.3f}")
    tot["apower"] += 1500 * diurnal * step / 3600 * (1 + rnd.uniform(-0.1, 0.1))
    r(ts + 4, "alpha-power", "kwh", f"{tot['apower']:.2f}")
    tot["gas"] += 40 * step / 3600 * (1 + rnd.uniform(-0.2, 0.2))
    r(ts + 5, "alpha-gas", "gas", f"{tot['gas']:.3f}")
    # beta: a flow rate only (integrated), COD near its limit, steam.
    if k % 71 == 35:
        r(ts + 6, "beta-flow", "flow", "", "B")     # communication failure
    else:
        qb = 25 * dayf * (1 + rnd.uniform(-0.1, 0.1))
        r(ts + 6, "beta-flow", "flow", f"{qb:.3f}")
    cb = 50 + rnd.gauss(0, 4) + (18 if (k // 6) % 17 == 5 else 0)
    r(ts + 7, "beta-cod", "cod", f"{cb:.2f}")
    tot["steam"] += 0.8 * step / 3600 * (1 + rnd.uniform(-0.1, 0.1))
    r(ts + 8, "beta-steam", "steam", f"{tot['steam']:.4f}")
    # gamma: a uint16 counter of 0.1 m3 that wraps; power swapped on day 4.
    tot["gamma"] = (tot["gamma"] + round(150 * step / 3600 * diurnal)) % 65536
    r(ts + 9, "gamma-flow", "total", f"{tot['gamma'] / 10:.1f}")
    if k == 4 * 144 + 50:
        tot["gpower"] = 12.0                        # a new meter
    tot["gpower"] += 1250 * step / 3600 * (1 + rnd.uniform(-0.1, 0.1)) * dayf
    r(ts + 10, "gamma-power", "kwh", f"{tot['gpower']:.2f}")
    tot["heat"] += 2 * step / 3600
    r(ts + 11, "gamma-heat", "heat", f"{tot['heat']:.4f}")
    tot["reuse"] += 4.5 * step / 3600 * diurnal
    r(ts + 12, "gamma-reuse", "reuse", f"{tot['reuse']:.3f}")
    # delta: silent for 5 hours on day 2; a jump on day 3; COD.
    if not (2 * 144 + 30 <= k < 2 * 144 + 60):
        tot["delta"] += 10 * step / 3600 * (1 + rnd.uniform(-0.1, 0.1))
        if k == 3 * 144 + 15:
            tot["delta"] += 5000                    # not usage: max_rate
        r(ts + 13, "delta-flow", "total", f"{tot['delta']:.3f}")
        cd = 32 + rnd.gauss(0, 5) + (30 if (k // 6) % 23 == 11 else 0)
        r(ts + 14, "delta-cod", "cod", f"{cd:.2f}")
    # The park's treatment plant inflow.
    tot["wwtp"] += (qa + 25 + 15 + 10) * step / 3600
    r(ts + 15, "wwtp-in", "total", repr(tot["wwtp"]))
rows.sort(key=lambda x: x[0])
with open(out, "w") as f:
    f.write("ts,enterprise,meter,point,value,flag\n")
    for ts, rest in rows:
        f.write(f"{ts},{rest}\n")
print(len(rows), "readings")
PY
nreadings=$(($(wc -l < "$T/readings.csv") - 1))
first_ts=$(sed -n 2p "$T/readings.csv" | cut -d, -f1)
last_ts=$(tail -1 "$T/readings.csv" | cut -d, -f1)

# The checker: `mid REF DB` after a kill, `final REF DB` after a round.
cat > "$T/check.py" <<'PY'
import os, sqlite3, sys
mode, ref_path, db_path = sys.argv[1:4]
def rows(db, sql):
    return db.execute(sql).fetchall()
if not os.path.exists(db_path):
    if mode == "mid":
        print("no ledger yet")   # killed before it was made
        sys.exit(0)
    sys.exit(f"{db_path}: no ledger")
ref = sqlite3.connect(ref_path)
db = sqlite3.connect(db_path)
ic = rows(db, "PRAGMA integrity_check")
if ic != [("ok",)]:
    sys.exit(f"integrity_check: {ic}")
def table(db, name, order):
    try:
        return rows(db, f"SELECT * FROM {name} ORDER BY {order}")
    except sqlite3.OperationalError:
        return []   # killed before the schema was made
hourly = "owner, measure, outlet, hour"
H_ref, H = table(ref, "hourly", hourly), table(db, "hourly", hourly)
A_ref = [r[1:] for r in table(ref, "alert_history", "id")]
A = [r[1:] for r in table(db, "alert_history", "id")]
E_ref = [r[1:] for r in table(ref, "events", "id")]
E = [r[1:] for r in table(db, "events", "id")]
def diff(what, got, want):
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            sys.exit(f"{what}: row {i}: {g} != reference {w}")
    sys.exit(f"{what}: {len(got)} rows, reference {len(want)}")
if mode == "mid":
    # Alert transitions and events so far: the reference's first ones.
    if A != A_ref[:len(A)]:
        diff("alert_history (prefix)", A, A_ref[:len(A)])
    if E != E_ref[:len(E)]:
        diff("events (prefix)", E, E_ref[:len(E)])
    # Hours every point has moved past are complete: equal to the
    # reference's, nothing missing, nothing twice.
    last = rows(db, "SELECT min(ts) FROM point_state")[0][0] if H else None
    n = 0
    if last is not None and len(rows(db, "SELECT 1 FROM point_state")) == \
            len(rows(ref, "SELECT 1 FROM point_state")):
        done = lambda r: r[3] + 3600 <= last - 3600
        a = [r for r in H if done(r)]
        b = [r for r in H_ref if done(r)]
        if a != b:
            diff("complete hourly rows", a, b)
        n = len(a)
    print(f"{len(H)} hourly rows ({n} complete hours checked),"
          f" {len(A)}/{len(A_ref)} transitions, {len(E)}/{len(E_ref)} events")
    sys.exit(0)
for name, got, want in (("hourly", H, H_ref), ("alert_history", A, A_ref),
                        ("events", E, E_ref)):
    if got != want:
        diff(name, got, want)
for name, order in (("point_state", "meter, point"), ("alert_state", "key"),
                    ("value_added", "owner, period")):
    if table(db, name, order) != table(ref, name, order):
        diff(name, table(db, name, order), table(ref, name, order))
tot = "SELECT owner, measure, total(amount) FROM hourly GROUP BY 1, 2 ORDER BY 1, 2"
T, T_ref = rows(db, tot), rows(ref, tot)
if T != T_ref:
    diff("totals", T, T_ref)
print(f"{len(T)} totals, {len(H)} hourly rows, {len(A)} transitions,"
      f" {len(E)} events equal")
PY

# rrd_flush DIR: with rrdcached, have it write what it holds for DIR's files.
rrd_flush() {
  [ -n "$cached" ] && [ -d "$1" ] || return 0
  find "$1" -name '*.rrd' -print0 |
    xargs -0 -r rrdtool flushcached --daemon "unix:$T/rrdcached.sock" \
    || fail "rrdtool flushcached"
}
# RRD files: each must read back (info, lastupdate, fetch through one
# `rrdtool -`); fails on one that does not. Adds the files read to
# rrd_reads.
rrd_reads=0
rrd_check() { # DIR
  local files n out
  [ -d "$1" ] || return 0
  rrd_flush "$1"
  files=$(find "$1" -name '*.rrd' | sort)
  [ -n "$files" ] || return 0
  n=$(echo "$files" | wc -l)
  out=$(echo "$files" | while IFS= read -r f; do
    echo "info $f"
    echo "lastupdate $f"
    echo "fetch $f AVERAGE -r 300 -s $first_ts -e $last_ts"
  done | rrdtool - 2>&1) || true
  if grep -q '^ERROR' <<< "$out" || [ "$(grep -c '^OK u:' <<< "$out")" -ne $((3 * n)) ]; then
    fail "RRD files do not read back: $(grep -m3 '^ERROR' <<< "$out")"
  fi
  rrd_reads=$((rrd_reads + n))
}
# rrd_dump DIR: per file, "NAME last LASTUPDATE" and "NAME data SHA1" of
# its 5-minute averages and hourly maxima.
rrd_dump() {
  rrd_flush "$1"
  python3 - "$1" "$first_ts" "$last_ts" <<'PY'
import hashlib, os, subprocess, sys
top, first, last = sys.argv[1:4]
files = sorted(os.path.relpath(os.path.join(d, f), top)
               for d, _, fs in os.walk(top) for f in fs if f.endswith(".rrd"))
cmds = []
for f in files:
    cmds += [f"lastupdate {f}", f"fetch {f} AVERAGE -r 300 -s {first} -e {last}",
             f"fetch {f} MAX -r 3600 -s {first} -e {last}"]
out = subprocess.run(["rrdtool", "-"], cwd=top, input="\n".join(cmds) + "\n",
                     capture_output=True, text=True).stdout.splitlines()
parts, cur = [], []
for line in out:
    if line.startswith("OK u:") or line.startswith("ERROR"):
        parts.append((line.startswith("OK"), cur))
        cur = []
    else:
        cur.append(line)
for i, f in enumerate(files):
    p = parts[3 * i:3 * i + 3]
    if len(p) < 3 or not all(ok for ok, _ in p):
        print(f"{f} ERROR")
        continue
    print(f"{f} last {p[0][1][-1]}")
    h = hashlib.sha1("\n".join(p[1][1] + p[2][1]).encode()).hexdigest()
    print(f"{f} data {h}")
PY
}

# The reference: one uninterrupted run.
t_start=${EPOCHREALTIME/./}
"$ECMOND" -c "$T/ref.conf" -r "$T/readings.csv" > "$T/ref.out" 2>> "$T/ref.log"
t_ref=$(( (${EPOCHREALTIME/./} - t_start) / 1000 ))
cat "$T/ref.out"
grep -q "replayed $nreadings readings .*: $nreadings accepted, 0 refused" "$T/ref.out" \
  || fail "reference run: $(cat "$T/ref.out")"
ref_db="$T/ref/state/ecmond.db"
rrd_check "$T/ref/rrd"
nrrd=$rrd_reads
rrd_reads=0
rrd_dump "$T/ref/rrd" > "$T/ref.rrd.txt"
! grep -q ' ERROR' "$T/ref.rrd.txt" || fail "reference RRD files: $(grep -m1 ' ERROR' "$T/ref.rrd.txt")"
sqlite3 "$ref_db" "select owner, measure, total(amount) from hourly group by 1, 2" \
  | tr '|' ' ' | sed 's/^/  reference total: /'
ntrans=$(sqlite3 "$ref_db" "select count(*) from alert_history")
nev=$(sqlite3 "$ref_db" "select group_concat(n, ' ') from (select kind || ':' || count(*) as n from events group by kind)")
echo "reference: ${t_ref} ms, $ntrans alert transitions, events $nev, $nrrd RRD files"
[ "$ntrans" -gt 10 ] || fail "the reference raised only $ntrans alerts"

# Kill, check, restart; a round ends with a run that completes, and then
# starts again from empty state.
RANDOM=$seed
kills=0 rounds=0 starts=0 rrd_tmp=0
final_check() {
  python3 "$T/check.py" final "$ref_db" "$T/crash/state/ecmond.db" > "$T/final.txt" \
    || fail "round $rounds: the ledger differs from the reference"
  rrd_dump "$T/crash/rrd" > "$T/crash.rrd.txt"
  diff <(grep -v ' data ' "$T/ref.rrd.txt") <(grep -v ' data ' "$T/crash.rrd.txt") > "$T/rrd.diff" \
    || fail "round $rounds: RRD last updates differ: $(head -5 "$T/rrd.diff")"
  n=$(diff "$T/ref.rrd.txt" "$T/crash.rrd.txt" | grep -c '^> .* data ' || true)
  rrd_differ=$((rrd_differ + n))
  ((n == 0)) || echo "round $rounds: data of $n RRD files differ: $(diff "$T/ref.rrd.txt" "$T/crash.rrd.txt" | grep '^> .* data ' | cut -d' ' -f2 | tr '\n' ' ')"
  # Each transition ran the hook at least once; a kill between running it
  # and the commit runs it again after the restart.
  sort "$T/ref/hook.log" > "$T/hook.ref"
  sort -u "$T/crash/hook.log" > "$T/hook.got"
  diff "$T/hook.ref" "$T/hook.got" > /dev/null \
    || fail "round $rounds: hook runs differ: $(diff "$T/hook.ref" "$T/hook.got" | head -5)"
  hook_dups=$((hook_dups + $(wc -l < "$T/crash/hook.log") - $(wc -l < "$T/hook.got")))
  echo "round $rounds: $(cat "$T/final.txt")"
}
hook_dups=0 rrd_differ=0
while :; do
  delay=$(( (RANDOM * 32768 + RANDOM) % (t_ref + 1) ))
  (_it_exec "$ECMOND" -c "$T/crash.conf" -r "$T/readings.csv") > "$T/crash.out" 2>> "$T/crash.log" &
  pid=$!
  _it_track "$pid"
  starts=$((starts + 1))
  if ((kills < runs)); then
    sleep "$((delay / 1000)).$(printf %03d $((delay % 1000)))"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rc=0
  wait "$pid" 2> /dev/null || rc=$?
  _it_untrack "$pid"
  if [ "$rc" -eq 137 ]; then
    kills=$((kills + 1))
    mid=$(python3 "$T/check.py" mid "$ref_db" "$T/crash/state/ecmond.db" 2>&1) \
      || fail "after kill $kills (${delay} ms): $mid"
    rrd_check "$T/crash/rrd"
    echo "kill $kills at ${delay} ms: integrity ok, RRD ok, $mid"
    continue
  fi
  [ "$rc" -eq 0 ] || fail "replay exited with $rc: $(tail -3 "$T/crash.log")"
  rounds=$((rounds + 1))
  echo "run $starts completed: $(cat "$T/crash.out")"
  rrd_check "$T/crash/rrd"
  final_check
  # rrd_create writes a temporary file and renames it: a kill in between
  # leaves the temporary one behind (harmless; counted).
  rrd_tmp=$((rrd_tmp + $(find "$T/crash/rrd" -name '*.rrd?*' | wc -l)))
  ((kills < runs)) || break
  rm -rf "$T/crash"
  mkdir -p "$T/crash"
done
if [ -n "$cached" ] && [ "$rrd_differ" -ne 0 ]; then
  fail "through rrdcached, $rrd_differ RRD files differ from the reference"
fi
pass "crash: $kills kills (seed $seed) in $starts runs, $rounds rounds from empty state;" \
  "after each kill integrity_check ok and $rrd_reads RRD file reads ok;" \
  "each round: $nreadings readings, $(cut -d' ' -f1 "$T/final.txt") owner/measure totals," \
  "$(cut -d' ' -f3 "$T/final.txt") hourly rows, $ntrans alert transitions equal to the uninterrupted run;" \
  "$hook_dups hook runs repeated; $rrd_differ RRD files with data unlike the reference's${cached:+ (through rrdcached)};" \
  "$rrd_tmp temporary RRD files left"

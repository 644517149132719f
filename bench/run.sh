#!/usr/bin/env bash
# Benchmark ecmond (and collectd) on one simulated Modbus TCP fleet.
#
#   bench/run.sh N INTERVAL SECONDS [DAEMON...]     DAEMON: ecmond collectd
#
# Starts a mosquitto on a free loopback port, ecmon-fleet with N devices, and
# a subscriber that stamps each message's arrival; then runs each daemon in
# turn on the same fleet: a warm-up, SECONDS measured, stop. Prints one
# markdown table row per daemon and writes the raw results as JSON under
# $BENCH_RESULTS (default bench/results). docs/BENCHMARKS.md explains every
# column. Without DAEMONs: ecmond, and collectd when it is installed.
#
# Env: ECMOND ECMONCTL ECMON_FLEET COLLECTD (binaries; default build/ and
# /usr/sbin/collectd), BENCH_WARMUP (seconds after the daemon says it has
# started; default the largest of 5, 3 x INTERVAL and N / 100),
# BENCH_DELAY_MS (fleet answer delay, default 0), BENCH_RESULTS, KEEP=1
# (keep the work directory). Exit 77 when mosquitto is missing.
set -euo pipefail

usage() {
    echo "usage: $0 N INTERVAL SECONDS [ecmond|collectd ...]" >&2
    exit 2
}
[[ $# -ge 3 ]] || usage
N=$1 INTERVAL=$2 SECS=$3
shift 3
[[ $N =~ ^[0-9]+$ && $N -ge 1 && $N -le 12000 ]] || usage
[[ $INTERVAL =~ ^[0-9]+([.][0-9]+)?$ && $SECS =~ ^[0-9]+$ ]] || usage

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
. "$here/lib.sh"
ECMOND=${ECMOND:-$src/build/daemon/ecmond}
ECMONCTL=${ECMONCTL:-$src/build/daemon/ecmonctl}
ECMON_FLEET=${ECMON_FLEET:-$src/build/bench/ecmon-fleet}
COLLECTD=${COLLECTD:-/usr/sbin/collectd}
RESULTS=${BENCH_RESULTS:-$here/results}
DELAY_MS=${BENCH_DELAY_MS:-0}
WARMUP=${BENCH_WARMUP:-$(python3 -c "print(max(5, round(3 * $INTERVAL), $N // 100))")}

for p in mosquitto mosquitto_sub mosquitto_pub; do
    if ! command -v "$p" >/dev/null; then
        echo "SKIP: $p is not installed" >&2
        exit 77
    fi
done
DAEMONS=("$@")
if [[ ${#DAEMONS[@]} -eq 0 ]]; then
    DAEMONS=(ecmond)
    [[ -x $COLLECTD ]] && DAEMONS+=(collectd)
fi
for d in "${DAEMONS[@]}"; do
    case $d in
    ecmond) [[ -x $ECMOND && -x $ECMONCTL ]] || {
        echo "no ecmond at $ECMOND (or ecmonctl at $ECMONCTL)" >&2
        exit 1
    } ;;
    collectd) [[ -x $COLLECTD ]] || {
        echo "no collectd at $COLLECTD (bench/deps.sh installs it)" >&2
        exit 1
    } ;;
    *) usage ;;
    esac
done
[[ -x $ECMON_FLEET ]] || {
    echo "no ecmon-fleet at $ECMON_FLEET" >&2
    exit 1
}

bench_setup
now() { echo "$EPOCHREALTIME"; }

# The descriptors the fleet and the daemons may need: as many as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- the fleet: N devices on 127.0.0.1, served by one ecmon-fleet per
# 5,000 (each device takes a descriptor for its listener and one per
# client, and the hard limit may be 20,000), each on a block of consecutive
# ports that is free now ----
FLEET_CHUNK=5000
FLEET_PIDS=()
FLEET_PORTS=() # BASE:COUNT of each fleet
for ((first = 0, k = 0; first < N; first += FLEET_CHUNK, k++)); do
    n=$((N - first < FLEET_CHUNK ? N - first : FLEET_CHUNK))
    started=
    for _ in 1 2 3; do
        base=$(free_block "$n") || { sleep 1; continue; }
        rm -f "$T/fleet$k.ready"
        "$ECMON_FLEET" -n "$n" -o "$first" -p "$base" -d "$DELAY_MS" \
            -i "$INTERVAL" -s "$T/fleet$k.stats" -r "$T/fleet$k.ready" \
            >>"$T/fleet.log" 2>&1 &
        pid=$!
        track "$pid"
        if wait_for 60 "$pid" test -e "$T/fleet$k.ready"; then
            started=1
            break
        fi
        stop_pid "$pid" 5 || true
    done
    [[ -n $started ]] || { echo "could not start the fleet" >&2; exit 1; }
    FLEET_PIDS+=("$pid")
    FLEET_PORTS+=("$base:$n")
done
FLEET_PORTS_ARG=$(IFS=,; echo "${FLEET_PORTS[*]}")

# fleet_snapshot NAME: every fleet's counters now, into $T/NAME.K.
fleet_snapshot() {
    local k
    for k in "${!FLEET_PIDS[@]}"; do
        snapshot "${FLEET_PIDS[$k]}" "$T/fleet$k.stats" "$T/$1.$k"
    done
}

start_mosquitto || { echo "could not start mosquitto" >&2; exit 1; }

# ---- the subscriber: arrival time (ns), topic, payload ----
SUBLOG=$T/sub.log
PROBE="bench-probe/$$"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -q 0 -F '%U %t %p' \
    -t 'ecmon/bench/#' -t 'collectd/#' -t "$PROBE" >"$SUBLOG" 2>>"$T/sub.log.err" &
SUB_PID=$!
track "$SUB_PID"
probe() {
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t "$PROBE" -m ready 2>/dev/null &&
        grep -q " $PROBE ready" "$SUBLOG"
}
wait_for 10 "$SUB_PID" probe || { echo "the subscriber did not start" >&2; exit 1; }

python3 "$here/genconf.py" "$N" "$INTERVAL" --out "$T" --fleet-ports "$FLEET_PORTS_ARG" \
    --mqtt-port "$MQTT_PORT"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
log_has() { grep -q -- "$2" "$1" 2>/dev/null; } # FILE PATTERN

# run_daemon NAME: start, warm up, measure, stop; leaves $T/NAME.* files
# and appends its record to $T/daemons.jsonl.
run_daemon() {
    local name=$1 pid t_start t0 t1 died="" exitst="" note="" load rrddir
    case $name in
    ecmond)
        rrddir=$T/ecmond-rrd
        "$ECMOND" -d -c "$T/ecmond.conf" >>"$T/ecmond.log" 2>&1 &
        pid=$!
        track "$pid"
        wait_for 600 "$pid" log_has "$T/ecmond.log" " started: park " ||
            note="ecmond did not log its start"
        ;;
    collectd)
        rrddir=$T/collectd-rrd
        "$COLLECTD" -f -C "$T/collectd.conf" >>"$T/collectd.out.log" 2>&1 &
        pid=$!
        track "$pid"
        wait_for 600 "$pid" log_has "$T/collectd.log" "Initialization complete" ||
            note="collectd did not log its start"
        ;;
    esac
    t_start=$(now)
    echo "bench: $name (pid $pid) started; warm-up ${WARMUP} s, then ${SECS} s measured" >&2
    sleep "$WARMUP"
    if kill -0 "$pid" 2>/dev/null; then
        t0=$(now)
        fleet_snapshot "$name.fleetA"
        python3 "$here/report.py" proc "$pid" >"$T/$name.procA.json" || true
        if [[ $name == ecmond ]]; then
            "$ECMONCTL" -s "$T/ecmond.sock" -j meters >"$T/$name.metersA.json" 2>>"$T/ecmonctl.log" || true
        fi
        # Sleep the window (in microseconds, without waking a program that
        # would load the machine); notice an early death.
        local now_us left end_us=$((${t0/./} + SECS * 1000000))
        while :; do
            now_us=${EPOCHREALTIME/./}
            ((now_us < end_us)) || break
            kill -0 "$pid" 2>/dev/null || break
            left=$((end_us - now_us < 500000 ? end_us - now_us : 500000))
            sleep "$(printf '%d.%06d' $((left / 1000000)) $((left % 1000000)))"
        done
        t1=$(printf '%d.%06d' $((end_us / 1000000)) $((end_us % 1000000)))
        python3 "$here/report.py" proc "$pid" >"$T/$name.procB.json" 2>/dev/null ||
            died="before the end of the window"
        fleet_snapshot "$name.fleetB"
        if [[ $name == ecmond && -z $died ]]; then
            "$ECMONCTL" -s "$T/ecmond.sock" -j meters >"$T/$name.metersB.json" 2>>"$T/ecmonctl.log" || true
            # ecmond writes each meter's RRD updates together, once per
            # storage.rrd_flush: have it write what waits before looking.
            "$ECMONCTL" -s "$T/ecmond.sock" flush >/dev/null 2>>"$T/ecmonctl.log" || true
        fi
        python3 "$here/report.py" rrd "$rrddir" \
            "$(python3 -c "print($t1 - max(2 * $INTERVAL, 5))")" >"$T/$name.rrd.json"
    else
        died="during the warm-up"
    fi
    load=$(loadavg)
    # Stop: SIGTERM, up to 60 s to flush and exit.
    stop_pid "$pid" 60 && exitst=0 || exitst=$?
    if [[ -n $died ]]; then
        note="$note exit status $exitst; log: $(grep -v '^$' "$T/$name"*.log | tail -n 2 | tr '\n' ' ' | tr -d '"\\' | cut -c1-300)"
    fi
    python3 - "$T/daemons.jsonl" <<EOF
import json, sys
rec = {"name": "$name", "t_start": $t_start, "exit": $exitst,
       "died": "$died" or None, "note": """$note""".strip(), "load": "$load"}
if "${t0:-}": rec["t0"] = float("${t0:-0}")
if "${t1:-}": rec["t1"] = float("${t1:-0}")
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(rec) + "\n")
EOF
    sleep 2 # the last messages arrive before the next daemon starts
}

LOAD_START=$(loadavg)
for d in "${DAEMONS[@]}"; do
    run_daemon "$d"
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$RESULTS/$stamp-n$N-i$INTERVAL-t$SECS.json"
python3 - "$T" <<EOF
import json, os, sys
T = sys.argv[1]
daemons = [json.loads(l) for l in open(os.path.join(T, "daemons.jsonl"))]
run = {"n": $N, "interval": float("$INTERVAL"), "seconds": $SECS,
       "warmup": float("$WARMUP"), "fleet_delay_ms": float("$DELAY_MS"),
       "load_start": "$LOAD_START", "nproc": os.cpu_count(),
       "ecmond": "$ECMOND", "collectd": "$COLLECTD",
       "sublog": os.path.join(T, "sub.log"), "daemons": daemons}
json.dump(run, open(os.path.join(T, "run.json"), "w"))
EOF
python3 "$here/report.py" summary "$T" "$out"
echo "raw results: $out" >&2

#!/usr/bin/env bash
# How close ecmond comes to the physical limit of one RS-485 line.
#
#   bench/rtu.sh BAUD SECONDS [METERS]
#
# ecmon-sim serves METERS RTU meters (4 float32 points each, one FC 03
# request of 8 registers per poll) on a pty; ecmon-rtu-line paces the bytes
# between that pty and the one ecmond polls at BAUD (8E1: 11 bits a
# character), with 3.5 characters of silence each time the wire turns and
# the device's turnaround. ecmond polls every meter every second; METERS
# defaults to enough to keep the line saturated. Reports the transactions
# per second and the wire time ecmond reaches against the bound
# (docs/BENCHMARKS.md gives the formula), as a markdown row and JSON under
# $BENCH_RESULTS (default bench/results).
#
# Env: ECMOND ECMONCTL ECMON_SIM ECMON_RTU_LINE (binaries, default build/),
# BENCH_PARITY (E; N gives 10-bit characters), BENCH_TURNAROUND_MS (0),
# BENCH_INTERVAL (1), BENCH_WARMUP (5), BENCH_RESULTS, KEEP=1.
set -euo pipefail

usage() {
    echo "usage: $0 BAUD SECONDS [METERS]" >&2
    exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage
BAUD=$1 SECS=$2 M=${3:-}
[[ $BAUD =~ ^[0-9]+$ && $SECS =~ ^[0-9]+$ ]] || usage

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
. "$here/lib.sh"
ECMOND=${ECMOND:-$src/build/daemon/ecmond}
ECMONCTL=${ECMONCTL:-$src/build/daemon/ecmonctl}
ECMON_SIM=${ECMON_SIM:-$src/build/tests/sim/ecmon-sim}
ECMON_RTU_LINE=${ECMON_RTU_LINE:-$src/build/bench/ecmon-rtu-line}
RESULTS=${BENCH_RESULTS:-$here/results}
PARITY=${BENCH_PARITY:-E}
TURN_MS=${BENCH_TURNAROUND_MS:-0}
INTERVAL=${BENCH_INTERVAL:-1}
WARMUP=${BENCH_WARMUP:-5}
for b in "$ECMOND" "$ECMONCTL" "$ECMON_SIM" "$ECMON_RTU_LINE"; do
    [[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 1; }
done
command -v mosquitto >/dev/null || { echo "SKIP: no mosquitto" >&2; exit 77; }

# The bound: one transaction is an 8-byte request, 3.5 characters of
# silence, the device's turnaround, a 21-byte answer (5 + 2 x 8 registers)
# and 3.5 characters of silence before the next request.
read -r BOUND_RPS CHAR_MS GAP_MS TX_MS M_AUTO < <(python3 - "$BAUD" "$PARITY" "$TURN_MS" "$INTERVAL" <<'EOF'
import math, sys
baud, parity, turn_ms, interval = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
bits = 1 + 8 + (parity != "N") + 1
c = bits / baud
gap = 0.00175 if baud > 19200 else 3.5 * c
tx = (8 + 21) * c + 2 * gap + turn_ms / 1000
rps = 1 / tx
m = min(247, math.ceil(1.25 * rps * interval))
print("%.4f %.4f %.4f %.4f %d" % (rps, c * 1000, gap * 1000, tx * 1000, m))
EOF
)
M=${M:-$M_AUTO}

bench_setup
start_mosquitto || { echo "could not start mosquitto" >&2; exit 1; }
python3 "$here/genconf.py" "$M" "$INTERVAL" --out "$T/sim" --work "$T" \
    --rtu "$T/tty-dev" --baud "$BAUD" --parity "$PARITY" --mqtt-port "$MQTT_PORT" \
    --timeout-ms 500
python3 "$here/genconf.py" "$M" "$INTERVAL" --out "$T" \
    --rtu "$T/tty-ecmond" --baud "$BAUD" --parity "$PARITY" --mqtt-port "$MQTT_PORT" \
    --timeout-ms 500

"$ECMON_SIM" -c "$T/sim/ecmond.conf" -C "$T/sim.sock" -r "$T/sim.ready" >>"$T/sim.log" 2>&1 &
SIM_PID=$!
track "$SIM_PID"
wait_for 20 "$SIM_PID" test -e "$T/sim.ready" || { echo "ecmon-sim did not start" >&2; exit 1; }

"$ECMON_RTU_LINE" -b "$BAUD" -P "$PARITY" -T "$TURN_MS" -D "$T/tty-dev" -R 10 \
    -l "$T/tty-ecmond" -S "$T/line.stats" -r "$T/line.ready" >>"$T/line.log" 2>&1 &
LINE_PID=$!
track "$LINE_PID"
wait_for 10 "$LINE_PID" test -e "$T/line.ready" || { echo "the line did not start" >&2; exit 1; }

"$ECMOND" -d -c "$T/ecmond.conf" >>"$T/ecmond.log" 2>&1 &
ECMOND_PID=$!
track "$ECMOND_PID"
wait_for 60 "$ECMOND_PID" grep -q " started: park " "$T/ecmond.log" ||
    { echo "ecmond did not start" >&2; exit 1; }
echo "bench: $M meters at $BAUD baud ($PARITY); warm-up $WARMUP s, then $SECS s measured" >&2
sleep "$WARMUP"

measure() { # SUFFIX
    snapshot "$LINE_PID" "$T/line.stats" "$T/line.$1"
    "$ECMONCTL" -s "$T/ecmond.sock" -j meters >"$T/meters.$1.json"
    python3 "$here/report.py" proc "$ECMOND_PID" >"$T/proc.$1.json"
}
measure A
sleep "$SECS"
measure B
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
SIM_STATS=$(printf 'stats\n' | socat -t 5 - "UNIX-CONNECT:$T/sim.sock" 2>/dev/null || true)
stop_pid "$ECMOND_PID" 30 || echo "ecmond exited with status $?" >&2

stamp=$(date -u +%Y%m%dT%H%M%SZ)
cat >"$T/rtu.json" <<EOF
{"baud": $BAUD, "parity": "$PARITY", "meters": $M, "interval": $INTERVAL,
 "seconds": $SECS, "warmup": $WARMUP, "turnaround_ms": $TURN_MS,
 "char_ms": $CHAR_MS, "gap_ms": $GAP_MS, "transaction_ms": $TX_MS,
 "bound_rps": $BOUND_RPS, "load": "$LOAD", "ecmond": "$ECMOND",
 "sim_stats": "$SIM_STATS"}
EOF
python3 "$here/report.py" rtu "$T" "$RESULTS/$stamp-rtu-$BAUD-t$SECS.json"
echo "raw results: $RESULTS/$stamp-rtu-$BAUD-t$SECS.json" >&2

# shellcheck shell=bash
# Helpers sourced by bench/run.sh and bench/rtu.sh: a work directory $T,
# processes started in the background and stopped at exit, a mosquitto on a
# free loopback port. Background programs are started as `prog &` (a simple
# command), so $! is the program itself.
#
# Functions: bench_setup; track PID; untrack PID; wait_for SECONDS PID CMD...;
#   port_free FIRST COUNT; start_mosquitto (MQTT_PID, MQTT_PORT);
#   stop_pid PID SECONDS (SIGTERM, then SIGKILL; returns the exit status).
# KEEP=1 keeps $T.

BENCH_PIDS=()

bench_setup() {
    T=$(mktemp -d /tmp/ecmon-bench.XXXX)
    trap _bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

track() {
    BENCH_PIDS+=("$1")
}

untrack() {
    local p keep=()
    for p in "${BENCH_PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    BENCH_PIDS=("${keep[@]}")
}

_bench_cleanup() {
    local rc=$? pid f
    set +e
    trap - EXIT INT TERM
    for pid in "${BENCH_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${BENCH_PIDS[@]}"; do
        stop_pid "$pid" 10 >/dev/null 2>&1
    done
    if [[ $rc -ne 0 ]]; then
        for f in "$T"/*.log; do
            [[ -s $f ]] || continue
            echo "---- tail of $f" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}

# wait_for SECONDS PID CMD...: run CMD every 0.1 s until it succeeds; fail
# when PID has exited or the time is up.
wait_for() {
    local secs=$1 pid=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# stop_pid PID SECONDS: SIGTERM, up to SECONDS to exit, then SIGKILL.
# Returns the exit status (128+N when killed by signal N).
stop_pid() {
    local pid=$1 secs=$2 i rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null && echo "pid $pid killed after $secs s" >&2
    wait "$pid" 2>/dev/null || rc=$?
    untrack "$pid"
    return "$rc"
}

# free_block COUNT: print the first port of COUNT consecutive ports that
# can be bound on 127.0.0.1 now, in 2000..32767 (below the ephemeral range),
# where it can outside 20000..31999 (where the test suites pick theirs); a
# random start among the blocks that fit.
free_block() {
    python3 -c '
import random, socket, sys
n = int(sys.argv[1])
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
for lo, hi in ((2000, 20000), (2000, 32768)):
    ok = [free(p) for p in range(lo, hi)]
    starts, run = [], 0
    for i, good in enumerate(ok):
        run = run + 1 if good else 0
        if run >= n:
            starts.append(lo + i - n + 1)
    if starts:
        print(random.choice(starts))
        sys.exit(0)
sys.exit(1)' "$1"
}

# port_free FIRST COUNT: true when ports FIRST..FIRST+COUNT-1 can be bound
# on 127.0.0.1.
port_free() {
    python3 -c 'import socket,sys
for p in range(int(sys.argv[1]), int(sys.argv[1]) + int(sys.argv[2])):
    s = socket.socket(); s.bind(("127.0.0.1", p)); s.close()' "$1" "$2" 2>/dev/null
}

_bench_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_mosquitto: a broker on a free port (free_block: other fleets may
# hold thousands of ports), errors and warnings logged in $T/mosquitto.log.
start_mosquitto() {
    local try port
    MQTT_PORT=
    for try in 1 2 3 4 5; do
        port=$(free_block 1) || continue
        cat >"$T/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
log_dest file $T/mosquitto.log
log_type error
log_type warning
user $(id -un)
EOF
        mosquitto -c "$T/mosquitto.conf" >>"$T/mosquitto.out.log" 2>&1 &
        MQTT_PID=$!
        track "$MQTT_PID"
        if wait_for 10 "$MQTT_PID" _bench_port_open "$port"; then
            MQTT_PORT=$port
            return 0
        fi
        stop_pid "$MQTT_PID" 5 || true
        echo "start_mosquitto: attempt $try on port $port failed" >&2
    done
    return 1
}

# A snapshot of a program that writes its counters on SIGUSR1:
# snapshot PID STATS_FILE COPY.
snapshot() {
    rm -f "$2"
    kill -USR1 "$1"
    wait_for 20 "$1" test -e "$2" || return 1
    mv "$2" "$3"
}

# shellcheck shell=bash
# Helpers sourced by every integration test (tests/integration/NN-*.sh).
# set -euo pipefail friendly. Every server a test needs is started through
# these helpers, on free loopback ports, under $T; the EXIT trap stops them.
# Background programs run as (_it_exec PROG) so that $! is the program
# itself, never a shell wrapper that a signal would stop while PROG lives on.
#
# Functions: it_setup NAME; fail MSG; pass MSG; free_port;
#   wait_until SECONDS DESCRIPTION CMD...;
#   start_mosquitto / stop_mosquitto / restart_mosquitto (MQTT_PORT;
#   MQTT_PERSISTENCE=true keeps sessions and messages across restarts,
#   MQTT_CONF_EXTRA adds lines to mosquitto.conf);
#   mqtt_sub_bg FILE TOPIC... (MQTT_SUB_OPTS: more mosquitto_sub options);
#   start_sim CONF [ARGS...] / stop_sim /
#   sim_cmd "COMMAND" (SIM_PID, SIM_SOCK); start_ecmond CONF / stop_ecmond
#   (ECMOND_PID); meter_field METER FIELD...; polls_at_least METER N;
#   sim_requests METER. KEEP=1 keeps $T.
#
# Env in (set by ctest): ECMOND, ECMONCTL, ECMON_SIM (binaries), ECMON_SRC.

IT_PIDS=()          # processes started through these helpers
IT_PORTS=" "        # ports handed out by free_port (also in $T/ports)
IT_STOP_DEADLINE=${IT_STOP_DEADLINE:-10}   # seconds before SIGKILL

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    echo "PASS: $*"
}

# it_setup NAME: make $T, arrange for cleanup at exit.
it_setup() {
    local name=${1:?it_setup NAME}
    T=$(mktemp -d "/tmp/ecmon-it-$name.XXXX")
    export T
    IT_MAIN_PID=$BASHPID
    trap _it_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# In a background subshell: drop the test's traps, become PROG.
_it_exec() {
    trap - EXIT INT TERM
    exec "$@"
}

_it_track() {
    IT_PIDS+=("$1")
}

_it_untrack() {
    local p keep=()
    for p in "${IT_PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    IT_PIDS=("${keep[@]}")
}

# True once PID has exited (gone, or a zombie not yet reaped).
_it_gone() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
    stat=${stat##*) }
    [[ ${stat%% *} == [ZX] ]]
}

# _it_stop PID [SIGNAL]: signal, wait up to the deadline, then SIGKILL;
# returns the process's exit status (128+N when killed by signal N).
_it_stop() {
    local pid=$1 sig=${2:-TERM} rc=0
    kill "-$sig" "$pid" 2>/dev/null || true
    if ! wait_until "$IT_STOP_DEADLINE" "pid $pid to exit" _it_gone "$pid" \
        2>/dev/null; then
        echo "pid $pid did not exit after SIG$sig; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || rc=$?
    _it_untrack "$pid"
    return "$rc"
}

_it_cleanup() {
    local rc=$? pid f
    # Only the test's own shell cleans up. bash also runs this trap in a
    # background subshell signalled before it could exec its program: that
    # one just dies.
    if [[ $BASHPID != "$IT_MAIN_PID" ]]; then
        trap - EXIT
        kill -KILL "$BASHPID"
    fi
    set +e
    trap - EXIT INT TERM
    for pid in "${IT_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${IT_PIDS[@]}"; do
        wait_until "$IT_STOP_DEADLINE" "pid $pid to exit" _it_gone "$pid" \
            >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    IT_PIDS=()
    if [[ $rc != 0 && -n ${T:-} && -d $T ]]; then
        for f in "$T"/*.log; do
            [[ -s $f ]] || continue
            echo "---- tail of $f ----" >&2
            tail -n 40 "$f" >&2
        done
    fi
    if [[ -n ${T:-} && -d $T ]]; then
        if [[ ${KEEP:-0} == 1 ]]; then
            echo "kept $T" >&2
        else
            rm -rf "$T"
        fi
    fi
    exit "$rc"
}

# wait_until SECONDS DESCRIPTION CMD...: run CMD every 0.1 s until it
# succeeds; after SECONDS print "timeout waiting for DESCRIPTION", return 1.
wait_until() {
    local secs=$1 desc=$2 now deadline whole frac=
    shift 2
    whole=${secs%%.*}
    [[ $secs == *.* ]] && frac=${secs#*.}
    frac=${frac}000000
    now=${EPOCHREALTIME/./}
    deadline=$((now + ${whole:-0} * 1000000 + 10#${frac:0:6}))
    until "$@"; do
        now=${EPOCHREALTIME/./}
        if ((now >= deadline)); then
            echo "timeout waiting for $desc" >&2
            return 1
        fi
        sleep 0.1
    done
}

# For wait_until: CMD's status while process P lives; success (with
# _IT_DIED set) once P has exited, so that waiting stops at once.
_it_alive_and_ok() {
    local p=$1
    shift
    if _it_gone "$p"; then
        _IT_DIED=$p
        return 0
    fi
    "$@"
}

# _it_started PID SECONDS DESCRIPTION CMD...: wait for CMD, fail early if
# PID exits.
_it_started() {
    local pid=$1 secs=$2 desc=$3
    shift 3
    _IT_DIED=
    wait_until "$secs" "$desc" _it_alive_and_ok "$pid" "$@" || return 1
    if [[ -n $_IT_DIED ]]; then
        echo "process $pid exited while waiting for $desc" >&2
        return 1
    fi
}

_it_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# meter_field METER FIELD...: one snapshot of ecmond's view of METER
# (ecmonctl -j meters), the fields' values on one line.
meter_field() {
    local m=$1
    shift
    "$ECMONCTL" -s "$T/ecmond.sock" -j meters "$m" |
        python3 -c "import json,sys; m = json.load(sys.stdin)['meters'][0]; print(*(m[f] for f in sys.argv[1:]))" "$@"
}
# polls_at_least METER N: ecmond has polled METER N times or more.
polls_at_least() { [ "$(meter_field "$1" polls)" -ge "$2" ]; }
# sim_requests METER: the requests ecmon-sim has counted for METER.
sim_requests() { sim_cmd "stats $1" | sed -n 's/.*requests=\([0-9]*\).*/\1/p'; }

# free_port: print a TCP port free on 127.0.0.1, below the ephemeral range
# (so outgoing connections do not take it), not handed out before in this
# test. It is mostly called as $(free_port), a subshell, so the ports
# handed out are kept in $T/ports: a variable would forget them, and a test
# asking for 40 ports would get the same one twice about once in 15 runs.
free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 12000))
        [[ $IT_PORTS == *" $port "* ]] && continue
        [[ -n ${T:-} && -f $T/ports ]] && grep -qx "$port" "$T/ports" && continue
        if python3 -c 'import socket,sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null; then
            IT_PORTS+="$port "
            [[ -n ${T:-} && -d $T ]] && echo "$port" >> "$T/ports"
            echo "$port"
            return 0
        fi
    done
    echo "free_port: no free port found" >&2
    return 1
}

# ---- mosquitto ----

_it_run_mosquitto() {
    (_it_exec mosquitto -c "$T/mosquitto.conf") >>"$T/mosquitto.out.log" 2>&1 &
    MQTT_PID=$!
    _it_track "$MQTT_PID"
    _it_started "$MQTT_PID" 10 "mosquitto on port $MQTT_PORT" \
        _it_port_open "$MQTT_PORT"
}

# start_mosquitto: a broker on $MQTT_PORT (127.0.0.1), log $T/mosquitto.log
# (every message unless MQTT_LOG_TYPE names another mosquitto log_type,
# e.g. warning). Tries another port if the one picked was taken meanwhile.
# With MQTT_PERSISTENCE=true it saves sessions and queued messages in $T
# when stopped and loads them when started again.
start_mosquitto() {
    local try
    for try in 1 2 3; do
        MQTT_PORT=$(free_port)
        cat >"$T/mosquitto.conf" <<EOF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence ${MQTT_PERSISTENCE:-false}
persistence_location $T/
log_dest file $T/mosquitto.log
log_type ${MQTT_LOG_TYPE:-all}
user $(id -un)
${MQTT_CONF_EXTRA:-}
EOF
        if _it_run_mosquitto; then
            return 0
        fi
        stop_mosquitto
        echo "start_mosquitto: attempt $try on port $MQTT_PORT failed" >&2
    done
    return 1
}

stop_mosquitto() {
    [[ -n ${MQTT_PID:-} ]] || return 0
    _it_stop "$MQTT_PID" || true
    MQTT_PID=
}

# restart_mosquitto: stop and start again on the same port.
restart_mosquitto() {
    stop_mosquitto
    _it_run_mosquitto
}

_it_probe() {
    mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t "$1" -m ready \
        2>>"$T/mosquitto_sub.log" || return 1
    grep -q "^$1 ready" "$2"
}

# mqtt_sub_bg FILE TOPIC...: mosquitto_sub -v on TOPICs into FILE, in the
# background (MQTT_SUB_PID); returns once the subscription is active. FILE
# also holds the probe lines used for that: "ecmon-it-probe/... ready".
mqtt_sub_bg() {
    local file=${1:?mqtt_sub_bg FILE TOPIC...} t args=()
    shift
    local probe="ecmon-it-probe/$$-$RANDOM"
    for t in "$@"; do
        args+=(-t "$t")
    done
    # shellcheck disable=SC2086 # MQTT_SUB_OPTS is a list of options
    (_it_exec mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -v ${MQTT_SUB_OPTS:-} \
        "${args[@]}" -t "$probe") >"$file" 2>>"$T/mosquitto_sub.log" &
    MQTT_SUB_PID=$!
    _it_track "$MQTT_SUB_PID"
    _it_started "$MQTT_SUB_PID" 10 "subscription to $*" \
        _it_probe "$probe" "$file"
}

# ---- ecmon-sim ----

# start_sim CONF [ARGS...]: SIM_PID, control socket SIM_SOCK, log
# $T/sim.log; returns once every listener is bound.
start_sim() {
    local conf=${1:?start_sim CONF}
    shift
    : "${ECMON_SIM:?ECMON_SIM not set}"
    SIM_SOCK=$T/sim.sock
    rm -f "$T/sim.ready"
    (_it_exec "$ECMON_SIM" -c "$conf" -C "$SIM_SOCK" -r "$T/sim.ready" "$@") \
        >>"$T/sim.log" 2>&1 &
    SIM_PID=$!
    _it_track "$SIM_PID"
    _it_started "$SIM_PID" 10 "ecmon-sim to be ready" test -e "$T/sim.ready"
}

# stop_sim: SIGTERM, wait; returns its exit status.
stop_sim() {
    [[ -n ${SIM_PID:-} ]] || return 0
    local rc=0
    _it_stop "$SIM_PID" || rc=$?
    SIM_PID=
    return "$rc"
}

# sim_cmd "COMMAND": print the simulator's reply line; return 1 if it is
# an error (or there is none).
sim_cmd() {
    local reply
    reply=$(printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$SIM_SOCK") ||
        true
    echo "$reply"
    [[ -n $reply && $reply != err* ]]
}

# lsan_allow_graphs: librrd's rrd_graph and the font libraries under it
# keep memory to the end (caches, strings made in librrd): not ours, so the
# processes started after this (ecmonctl graph, and ecmond, whose
# dashboard runs it) tell LeakSanitizer to ignore them, with full stacks
# (the fast unwinder loses librrd's frames under vasprintf).
lsan_allow_graphs() {
    {
        cat "${ECMON_SRC:-$(dirname "${BASH_SOURCE[0]}")/../..}/tests/lsan.supp" 2>/dev/null || true
        printf 'leak:librrd.so\nleak:libfontconfig.so\nleak:libpango\nleak:libcairo\nleak:libglib\n'
    } > "$T/lsan-graph.supp"
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0"
    export LSAN_OPTIONS="suppressions=$T/lsan-graph.supp"
}

# ---- ecmond ----

# start_ecmond CONF: $ECMOND -d -c CONF in the background, ECMOND_PID, log
# $T/ecmond.log; returns once it has started (fails if it exits first).
start_ecmond() {
    local conf=${1:?start_ecmond CONF}
    : "${ECMOND:?ECMOND not set}"
    local before
    before=$(grep -c " started: park " "$T/ecmond.log" 2>/dev/null || true)
    (_it_exec "$ECMOND" -d -c "$conf") >>"$T/ecmond.log" 2>&1 &
    ECMOND_PID=$!
    _it_track "$ECMOND_PID"
    # Ready once it logged its start (control socket, RRD, MQTT, workers up).
    _it_started "$ECMOND_PID" 20 "ecmond to start" \
        _it_log_count_above "$T/ecmond.log" " started: park " "${before:-0}"
}

_it_log_count_above() { # FILE PATTERN N: more than N lines match
    [[ $(grep -c -- "$2" "$1" 2>/dev/null || true) -gt $3 ]]
}

# stop_ecmond: SIGTERM, wait up to the deadline; returns its exit status.
stop_ecmond() {
    [[ -n ${ECMOND_PID:-} ]] || return 0
    local rc=0
    _it_stop "$ECMOND_PID" || rc=$?
    ECMOND_PID=
    return "$rc"
}

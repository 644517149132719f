#!/usr/bin/env bash
# ecmon-sim checked by an independent Modbus client, mbpoll: byte orders and
# types as served, control-socket `set`/`get`, stats, exceptions (reject,
# strict, faults, > 125 registers), Modbus TCP and RTU on a pty.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

it_setup sim-mbpoll
PORT=$(free_port)

cat >"$T/ecmond.conf" <<EOF
park = { id = "itpark"; name = "Integration park"; timezone = "Asia/Shanghai"; };
storage = { state_dir = "$T/state"; };
control = { socket = "$T/ecmond.sock"; };
buses = (
  { id = "gw1"; tcp = { host = "127.0.0.1"; port = $PORT; }; },
  { id = "rs485"; rtu = { device = "$T/ttyV0"; baud = 19200; parity = "N";
                          data_bits = 8; stop_bits = 1; }; }
);
profiles = (
  { id = "mag-f32";         # electromagnetic flowmeter: FC 04, float32 abcd
    points = (
      { name = "flow";  kind = "flow_rate";    unit = "m3/h"; table = "input";
        address = 0x1010; type = "float32"; order = "abcd"; },
      { name = "total"; kind = "volume_total"; unit = "m3";   table = "input";
        address = 0x1018; type = "int32+float32"; order = "abcd"; }
    ); },
  { id = "tuf2000";         # ultrasonic: FC 03, float32 cdab, int32 total
    points = (
      { name = "flow";  kind = "flow_rate";    unit = "m3/h"; table = "holding";
        address = 0; type = "float32"; order = "cdab"; },
      { name = "total"; kind = "volume_total"; unit = "m3";   table = "holding";
        address = 8; type = "int32"; order = "abcd"; },
      { name = "signal"; kind = "info"; unit = "dB"; table = "holding";
        address = 12; type = "int32"; order = "cdab"; }
    ); },
  { id = "cod-u16";         # analyzer: FC 03, uint16 in tenths of mg/L
    points = (
      { name = "cod"; kind = "concentration"; pollutant = "cod"; unit = "mg/L";
        table = "holding"; address = 0x1005; type = "uint16"; scale = 0.1; },
      { name = "ph";  kind = "ph"; unit = "pH"; table = "holding";
        address = 0x1006; type = "int16"; scale = 0.01; }
    ); }
);
enterprises = (
  { id = "bomin"; name = "Bomin Electronics";
    meters = (
      { id = "bomin-flow"; bus = "gw1"; slave = 1; profile = "mag-f32"; interval = 10; },
      { id = "bomin-tuf";  bus = "gw1"; slave = 2; profile = "tuf2000"; interval = 10; },
      { id = "bomin-cod";  bus = "gw1"; slave = 3; profile = "cod-u16"; interval = 60; },
      { id = "bomin-rtu";  bus = "rs485"; slave = 5; profile = "mag-f32"; interval = 10; }
    ); }
);
EOF

start_sim "$T/ecmond.conf" -s 42

# mb ARGS...: one mbpoll poll of the TCP bus, 0-based references.
mb() {
    mbpoll -m tcp -p "$PORT" -0 -1 -o 1 "$@" 127.0.0.1
}
mb_rtu() {
    mbpoll -m rtu -b 19200 -P none -0 -1 -o 1 "$@" "$T/ttyV0"
}
# The values of the "[ref]: value" lines of mbpoll's output, one per line.
values() {
    awk '/^\[[0-9]+\]:/ { print $2 }'
}
# expect_eq WHAT GOT WANT
expect_eq() {
    [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"
}

# ---- set through the control socket, read with mbpoll ----
expect_eq "set float32" "$(sim_cmd 'set bomin-flow flow 123.5')" "ok 123.5"
expect_eq "float32 abcd" "$(mb -a 1 -t 3:float -B -r 0x1010 | values)" 123.5

sim_cmd 'set bomin-flow total 98765.25' >/dev/null
expect_eq "int32+float32 integer part" \
    "$(mb -a 1 -t 3:int -B -r 0x1018 | values)" 98765
expect_eq "int32+float32 fraction" \
    "$(mb -a 1 -t 3:float -B -r 0x101A | values)" 0.25
expect_eq "int32+float32 get" "$(sim_cmd 'get bomin-flow total')" \
    "ok 98765.25"

sim_cmd 'set bomin-tuf flow 42.75' >/dev/null
expect_eq "float32 cdab" "$(mb -a 2 -t 4:float -r 0 | values)" 42.75
sim_cmd 'set bomin-tuf total 1234567' >/dev/null
expect_eq "int32 abcd" "$(mb -a 2 -t 4:int -B -r 8 | values)" 1234567
sim_cmd 'set bomin-tuf signal -1234567' >/dev/null
expect_eq "int32 cdab, negative" "$(mb -a 2 -t 4:int -r 12 | values)" \
    -1234567

expect_eq "uint16 x0.1 set" "$(sim_cmd 'set bomin-cod cod 48.7')" \
    "ok 48.700000000000003"
expect_eq "uint16 raw" "$(mb -a 3 -t 4 -r 0x1005 | values)" 487
sim_cmd 'set bomin-cod ph 6.5' >/dev/null
expect_eq "int16 x0.01 raw" "$(mb -a 3 -t 4 -r 0x1006 | values)" 650
# A value the type cannot hold exactly is served as its nearest register.
expect_eq "uint16 rounding" "$(sim_cmd 'set bomin-cod cod 12.34')" \
    "ok 12.300000000000001"
pass "set values read back by mbpoll in every type and order"

# ---- a free value wanders around its default mean ----
sim_cmd 'free bomin-tuf flow' >/dev/null
v=$(mb -a 2 -t 4:float -r 0 | values)
awk -v v="$v" 'BEGIN { exit !(v > 20 && v < 80) }' ||
    fail "free flow $v not around the default 50 m3/h"
sim_cmd 'mean bomin-tuf flow 500' >/dev/null
v=$(mb -a 2 -t 4:float -r 0 | values)
awk -v v="$v" 'BEGIN { exit !(v > 300 && v < 700) }' ||
    fail "flow $v not around the new mean 500 m3/h"
if sim_cmd 'mean bomin-tuf total 10' >/dev/null; then
    fail "mean accepted on a total that integrates a flow point"
fi
pass "wandering values follow their mean"

# ---- the total integrates the flow: 3600 m3/h is 1 m3/s ----
sim_cmd 'set bomin-flow flow 3600' >/dev/null
sim_cmd 'free bomin-flow total' >/dev/null
t0=$(sim_cmd 'get bomin-flow total' | cut -d' ' -f2)
total_grew() {
    local t
    t=$(mb -a 1 -t 3:int -B -r 0x1018 | values)
    ((t >= ${t0%.*} + 1))
}
wait_until 5 "total to grow by 1 m3" total_grew
pass "total grows with the flow"

# ---- stats ----
sim_cmd 'reset-stats' >/dev/null
for _ in 1 2 3; do
    mb -a 2 -t 4:float -r 0 >/dev/null
done
expect_eq "stats after 3 reads" "$(sim_cmd 'stats bomin-tuf')" \
    "ok requests=3 exceptions=0 unanswered=0"

# ---- exceptions ----
sim_cmd 'reject bomin-tuf holding 8 2' >/dev/null
if mb -a 2 -t 4:int -B -r 8 >"$T/out" 2>"$T/err"; then
    fail "read of a rejected range succeeded"
fi
grep -q 'Illegal data address' "$T/err" || fail "reject: $(cat "$T/err")"
mb -a 2 -t 4:float -r 0 >/dev/null || fail "a read outside the reject failed"
sim_cmd 'reject bomin-tuf clear' >/dev/null
mb -a 2 -t 4:int -B -r 8 >/dev/null || fail "read after reject clear failed"
expect_eq "stats after a reject" "$(sim_cmd 'stats bomin-tuf')" \
    "ok requests=6 exceptions=1 unanswered=0"

# Gaps between points read as 0; strict mode refuses them.
gap=$(mb -a 2 -t 4 -r 2 -c 6 | values | sort -u)
expect_eq "gap registers" "$gap" 0
sim_cmd 'strict bomin-tuf on' >/dev/null
if mb -a 2 -t 4 -r 0 -c 10 >/dev/null 2>"$T/err"; then
    fail "strict meter served a gap"
fi
grep -q 'Illegal data address' "$T/err" || fail "strict: $(cat "$T/err")"
mb -a 2 -t 4:float -r 0 >/dev/null || fail "strict meter refused a point"
sim_cmd 'strict bomin-tuf off' >/dev/null

# Registers past the last point: exception 02.
if mb -a 2 -t 4 -r 0 -c 125 >/dev/null 2>"$T/err"; then
    fail "a read past the meter's points succeeded"
fi
grep -q 'Illegal data address' "$T/err" || fail "span: $(cat "$T/err")"

# More than 125 registers: mbpoll refuses to ask, so send the frame by hand.
raw_read() { # UNIT FC ADDR COUNT -> answer PDU in hex, or "none"
    python3 - "$PORT" "$@" <<'PY'
import socket, struct, sys
port, unit, fc, addr, count = (int(a, 0) for a in sys.argv[1:])
s = socket.create_connection(("127.0.0.1", port), timeout=1)
s.sendall(struct.pack(">HHHBBHH", 0x4242, 0, 6, unit, fc, addr, count))
try:
    a = s.recv(512)
except socket.timeout:
    print("none"); sys.exit()
tid, proto, length, u = struct.unpack(">HHHB", a[:7])
assert tid == 0x4242 and proto == 0 and u == unit and length == len(a) - 6
print(a[7:].hex())
PY
}
expect_eq "126 registers" "$(raw_read 2 3 0 126)" 8303
expect_eq "0 registers" "$(raw_read 2 3 0 0)" 8303
expect_eq "FC 04 on a holding-only meter" "$(raw_read 2 4 0 2)" 8402
expect_eq "unknown unit id" "$(raw_read 9 3 0 2)" none

# Faults.
sim_cmd 'fault bomin-cod exception:6' >/dev/null
if mb -a 3 -t 4 -r 0x1005 >/dev/null 2>"$T/err"; then
    fail "exception fault answered normally"
fi
grep -q 'busy' "$T/err" || fail "exception:6: $(cat "$T/err")"
sim_cmd 'fault bomin-cod timeout' >/dev/null
if mbpoll -m tcp -p "$PORT" -0 -1 -o 0.3 -a 3 -t 4 -r 0x1005 127.0.0.1 \
    >/dev/null 2>"$T/err"; then
    fail "timeout fault answered"
fi
sim_cmd 'fault bomin-cod none' >/dev/null
expect_eq "stats after faults" "$(sim_cmd 'stats bomin-cod')" \
    "ok requests=2 exceptions=1 unanswered=1"
pass "exceptions: reject, strict, span, count, function, faults"

# A malformed frame closes that connection only.
python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"\x00\x01\x00\x07\x00\x06\x01\x03\x00\x00\x00\x01")  # protocol 7
assert s.recv(64) == b"", "connection not closed"
PY
mb -a 2 -t 4:float -r 0 >/dev/null || fail "sim dead after a malformed frame"
pass "malformed MBAP frame closes the connection"

# ---- Modbus RTU on the pty ----
[[ -L $T/ttyV0 ]] || fail "no symlink for the RTU bus"
sim_cmd 'set bomin-rtu flow 7.5' >/dev/null
expect_eq "RTU float32" "$(mb_rtu -a 5 -t 3:float -B -r 0x1010 | values)" 7.5
sim_cmd 'fault bomin-rtu badcrc' >/dev/null
if mb_rtu -a 5 -t 3:float -B -r 0x1010 >/dev/null 2>"$T/err"; then
    fail "RTU answer with a bad CRC accepted"
fi
sim_cmd 'fault bomin-rtu none' >/dev/null
expect_eq "RTU after badcrc" "$(mb_rtu -a 5 -t 3:float -B -r 0x1010 | values)" \
    7.5
if sim_cmd 'fault bomin-flow badcrc' >/dev/null; then
    fail "badcrc accepted for a TCP meter"
fi
pass "Modbus RTU on the pty"

# ---- pause / resume ----
sim_cmd 'pause gw1' >/dev/null
if mb -a 2 -t 4:float -r 0 >/dev/null 2>&1; then
    fail "paused bus answered"
fi
sim_cmd 'resume gw1' >/dev/null
mb -a 2 -t 4:float -r 0 >/dev/null || fail "resumed bus did not answer"
pass "pause and resume a bus"

stop_sim || fail "ecmon-sim exited with $?"
[[ ! -e $T/ttyV0 && ! -e $T/sim.sock ]] ||
    fail "symlink or control socket left behind"
pass "ecmon-sim exits cleanly on SIGTERM"

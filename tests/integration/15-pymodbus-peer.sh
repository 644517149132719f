#!/usr/bin/env bash
# ecmond against an independent Modbus server (pymodbus): registers computed
# with Python's struct module for every type and byte order must be published
# as the values Python computes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup pymodbus

start_mosquitto
gw=$(free_port)
python3 - "$T" "$gw" "$MQTT_PORT" <<'PY'
import json, struct, sys
T, gw, mqtt = sys.argv[1], sys.argv[2], sys.argv[3]

def regs_of(b):
    return [b[i] << 8 | b[i + 1] for i in range(0, len(b), 2)]

def order(b, o):
    """Apply a byte order name to big-endian bytes b (2, 4 or 8 long)."""
    if o == "abcd":
        return b
    if o == "badc":   # bytes swapped within each register
        return b"".join(bytes([b[i + 1], b[i]]) for i in range(0, len(b), 2))
    if o == "cdab":   # registers in reverse order
        return b"".join(b[i:i + 2] for i in reversed(range(0, len(b), 2)))
    if o == "dcba":   # little-endian
        return b[::-1]

f32 = lambda v: struct.unpack(">f", struct.pack(">f", v))[0]
cases = {  # type: [(value as sent, big-endian bytes, expected value)]
    "uint16": [(v, struct.pack(">H", v), v) for v in (54321, 1, 65535, 4660)],
    "int16": [(v, struct.pack(">h", v), v) for v in (-12345, -1, 32767, -32768)],
    "uint32": [(v, struct.pack(">I", v), v) for v in (4000000000, 1, 305419896, 4294967295)],
    "int32": [(v, struct.pack(">i", v), v) for v in (-2000000000, -1, 2147483647, 123456)],
    "float32": [(v, struct.pack(">f", v), f32(v)) for v in (123.456, -0.1, 3.4e38, 1e-30)],
    "uint64": [(v, struct.pack(">Q", v), float(v)) for v in (1234567890123456, 1, 2**53, 42)],
    "int64": [(v, struct.pack(">q", v), float(v)) for v in (-1234567890123456, -1, 2**52, -42)],
    "float64": [(v, struct.pack(">d", v), v) for v in (0.1, -123456.789012345, 1e300, -2.5e-300)],
}
orders = ["abcd", "cdab", "badc", "dcba"]
spec, expected, profiles, meters = {}, {}, [], []
unit = 0
for t, vals in cases.items():
    unit += 1
    pts = []
    for k, (v, b, e) in enumerate(vals):
        o = orders[k]
        if len(b) == 2 and o in ("cdab", "dcba"):
            o = {"cdab": "abcd", "dcba": "badc"}[o]
        name = f"{t}_{o}_{k}"
        addr = 10 * k
        spec[f"{unit}:holding:{addr}"] = regs_of(order(b, o))
        expected[f"m-{t}/{name}"] = e
        pts.append(f'{{ name = "{name}"; kind = "info"; unit = "u"; table = "holding"; '
                   f'address = {addr}; type = "{t}"; order = "{o}"; }}')
    profiles.append(f'{{ id = "p-{t}"; points = ( {", ".join(pts)} ); }}')
    meters.append(f'{{ id = "m-{t}"; bus = "gw"; slave = {unit}; profile = "p-{t}"; interval = 1; }}')
# Split totals: int32 + float32 fraction, uint32 + uint16 thousandths.
unit += 1
pts = []
for k, o in enumerate(orders):
    i, frac = 12345 + k, f32(0.678)
    b = order(struct.pack(">i", i), o) + order(struct.pack(">f", frac), o)
    spec[f"{unit}:input:{10 * k}"] = regs_of(b)
    expected[f"m-split/if_{o}"] = i + frac
    pts.append(f'{{ name = "if_{o}"; kind = "volume_total"; unit = "m3"; table = "input"; '
               f'address = {10 * k}; type = "int32+float32"; order = "{o}"; }}')
    u, milli = 4000000000 + k, 999 - k
    b = order(struct.pack(">I", u), o) + order(struct.pack(">H", milli), o if o in ("abcd", "badc") else {"cdab": "abcd", "dcba": "badc"}[o])
    spec[f"{unit}:input:{100 + 10 * k}"] = regs_of(b)
    expected[f"m-split/um_{o}"] = u + milli / 1000
    pts.append(f'{{ name = "um_{o}"; kind = "volume_total"; unit = "m3"; table = "input"; '
               f'address = {100 + 10 * k}; type = "uint32+milli"; order = "{o}"; }}')
profiles.append(f'{{ id = "p-split"; points = ( {", ".join(pts)} ); }}')
meters.append(f'{{ id = "m-split"; bus = "gw"; slave = {unit}; profile = "p-split"; interval = 1; }}')

json.dump(spec, open(T + "/registers.json", "w"))
json.dump(expected, open(T + "/expected.json", "w"))
open(T + "/ecmond.conf", "w").write(f'''
park = {{ id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; }};
mqtt = {{ host = "127.0.0.1"; port = {mqtt}; client_id = "ecmond-it"; }};
storage = {{ state_dir = "{T}/state"; rrd_dir = "{T}/rrd"; }};
control = {{ socket = "{T}/ecmond.sock"; }};
buses = ( {{ id = "gw"; tcp = {{ host = "127.0.0.1"; port = {gw}; }}; timeout_ms = 1000; retries = 1; }} );
profile_dirs = [];
profiles = ( {", ".join(profiles)} );
enterprises = ( {{ id = "acme"; name = "Acme"; meters = ( {", ".join(meters)} ); }} );
''')
PY

/usr/bin/python3 "$ECMON_SRC/tests/integration/pymodbus_server.py" "$gw" \
  "$T/registers.json" "$T/pymodbus.ready" >"$T/pymodbus.log" 2>&1 &
_it_track $!
wait_until 15 "pymodbus server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$gw"
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"

check() {
  python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
exp = json.load(open(T + "/expected.json"))
seen = {}
for line in open(T + "/mqtt.log"):
    topic, _, payload = line.strip().partition(" ")
    parts = topic.split("/")
    if len(parts) == 5 and parts[4] != "status":
        seen[parts[3] + "/" + parts[4]] = json.loads(payload)
missing = [k for k in exp if k not in seen]
if missing:
    print("missing", missing[:3]); sys.exit(1)
bad = [(k, exp[k], seen[k]) for k in exp if seen[k]["value"] != exp[k]]
for b in bad: print("MISMATCH", b)
sys.exit(2 if bad else 0)
PY
}
wait_until 30 "every point from pymodbus on MQTT" check
check
pass "pymodbus peer: $(python3 -c "import json;print(len(json.load(open('$T/expected.json'))))" ) points decoded as Python's struct says"

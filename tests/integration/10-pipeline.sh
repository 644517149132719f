#!/usr/bin/env bash
# Meter -> MQTT -> RRD: every type and byte order that ecmon-sim serves is
# published and stored with exactly the value the simulator served.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup pipeline

start_mosquitto
gw=$(free_port)
types="uint16:1 int16:1 uint32:2 int32:2 float32:2 uint64:4 int64:4 float64:4 int32+float32:4 uint32+milli:3"
# A one-register value has only two byte orders.
orders_for() { case $1 in uint16|int16) echo "abcd badc" ;; *) echo "abcd cdab badc dcba" ;; esac; }

# One meter per type, one point per order, 10 registers apart.
profiles="" meters="" n=0
for tw in $types; do
  t=${tw%%:*}
  tn=$(echo "$t" | tr -d '+' | tr -c 'a-z0-9\n' '_')
  pts="" a=0
  for o in $(orders_for $t); do
    pts="$pts{ name = \"${tn}_$o\"; kind = \"info\"; unit = \"u\"; table = \"holding\"; address = $a; type = \"$t\"; order = \"$o\"; },"
    a=$((a + 10))
  done
  # A scaled point with an offset, and a total with a ratio.
  pts="$pts{ name = \"scaled\"; kind = \"info\"; unit = \"u\"; table = \"input\"; address = 0; type = \"$t\"; scale = 0.01; offset = -5.0; },"
  pts="$pts{ name = \"total\"; kind = \"electricity_total\"; unit = \"kWh\"; table = \"input\"; address = 10; type = \"$t\"; ratio = \"ct*pt\"; }"
  profiles="$profiles{ id = \"p-$tn\"; points = ( $pts ); },"
  n=$((n + 1))
  meters="$meters{ id = \"m-$tn\"; bus = \"gw\"; slave = $n; profile = \"p-$tn\"; interval = 1; ratios = { ct = 4.0; pt = 2.0; }; },"
done
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; prefix = "ecmon"; qos = 1; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; rrd_step = 60; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [];
profiles = ( ${profiles%,} );
enterprises = ( { id = "acme"; name = "Acme"; meters = ( ${meters%,} ); } );
CONF

start_sim "$T/ecmond.conf"
# Freeze every point at a value that tests the type's range and fraction.
for tw in $types; do
  t=${tw%%:*}
  tn=$(echo "$t" | tr -d '+' | tr -c 'a-z0-9\n' '_')
  case $t in
    uint16) vals="54321 1 65535 4660" ;;
    int16) vals="-12345 -1 32767 -32768" ;;
    uint32) vals="4000000000 1 305419896 4294967295" ;;
    int32) vals="-2000000000 -1 2147483647 123456" ;;
    float32) vals="123.456 -0.1 3.4e38 1e-30" ;;
    uint64) vals="1234567890123456 1 9007199254740992 42" ;;
    int64) vals="-1234567890123456 -1 4503599627370496 -42" ;;
    float64) vals="0.1 -123456.789012345 1e300 -2.5e-300" ;;
    int32+float32) vals="12345.678 1 -250.5 2000000000.25" ;;
    uint32+milli) vals="12345.678 0.001 4294967295.999 7" ;;
  esac
  set -- $vals
  for o in $(orders_for $t); do
    sim_cmd "set m-$tn ${tn}_$o $1" >/dev/null
    shift
  done
  sim_cmd "set m-$tn scaled 42.42" >/dev/null
  sim_cmd "set m-$tn total 1000" >/dev/null
done
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"

# The expected values: what the simulator serves, as it decodes them.
python3 - "$T" <<'PY' > "$T/expected.txt"
import socket, sys, re
T = sys.argv[1]
conf = open(T + "/ecmond.conf").read()
pts = []
for prof in re.finditer(r'\{ id = "p-([^"]+)"; points = \((.*?)\); \}', conf):
    for name in re.findall(r'name = "([^"]+)"', prof.group(2)):
        pts.append(("m-" + prof.group(1), name))
for m, p in pts:
    s = socket.socket(socket.AF_UNIX); s.connect(T + "/sim.sock")
    s.sendall(f"get {m} {p}\n".encode()); r = s.makefile().readline().split()
    s.close()
    assert r[0] == "ok", r
    print(m, p, r[1])
PY
npoints=$(wc -l < "$T/expected.txt")
[ "$npoints" -eq 56 ] || fail "expected 56 points, got $npoints"

# Wait for one reading of every point, then compare.
check_mqtt() {
  python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
exp = {}
for line in open(T + "/expected.txt"):
    m, p, v = line.split(); exp[(m, p)] = float(v)
seen = {}
for line in open(T + "/mqtt.log"):
    topic, _, payload = line.strip().partition(" ")
    parts = topic.split("/")
    if len(parts) != 5 or parts[4] == "status": continue
    j = json.loads(payload)
    seen[(parts[3], parts[4])] = j
missing = [k for k in exp if k not in seen]
if missing:
    print("missing", len(missing), missing[:3]); sys.exit(1)
bad = [(k, exp[k], seen[k]) for k in exp if seen[k]["value"] != exp[k] or seen[k]["flag"] != "N"]
if bad:
    for b in bad: print("MISMATCH", b)
    sys.exit(2)
print("mqtt: all", len(exp), "values equal the simulator's")
PY
}
wait_until 30 "a reading of every point on MQTT" check_mqtt
check_mqtt

# RRD: each meter's file holds the same values (rrdtool lastupdate), once
# ecmond has written the updates it keeps to write together (rrd_flush).
check_rrd() {
  "$ECMONCTL" -s "$T/ecmond.sock" flush > /dev/null || return 1
  python3 - "$T" <<'PY'
import subprocess, sys
T = sys.argv[1]
exp = {}
for line in open(T + "/expected.txt"):
    m, p, v = line.split(); exp.setdefault(m, {})[p] = float(v)
for m, pts in exp.items():
    out = subprocess.run(["rrdtool", "lastupdate", f"{T}/rrd/acme/{m}.rrd"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr.strip()); sys.exit(1)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    names = lines[0].split()
    vals = lines[-1].split(":", 1)[1].split()
    got = dict(zip(names, vals))
    for p, v in pts.items():
        if got.get(p) in (None, "U") or float(got[p]) != v:
            print("RRD MISMATCH", m, p, got.get(p), v); sys.exit(2)
print("rrd: all values equal the simulator's")
PY
}
wait_until 15 "RRD files with every value" check_rrd
check_rrd
rrdtool info "$T/rrd/acme/m-float32.rrd" > "$T/info.txt"
grep -q 'ds\[total\].type = "DDERIVE"' "$T/info.txt" || fail "total is not DDERIVE"
grep -q 'ds\[float32_abcd\].type = "GAUGE"' "$T/info.txt" || fail "points are not GAUGE"

# The daemon's own view agrees, and a clean stop exits 0.
grep -q "10 online of 10" <<< "$("$ECMONCTL" -s "$T/ecmond.sock" status)" || fail "status: not 10 meters online"
"$ECMONCTL" -s "$T/ecmond.sock" -j meters | python3 -c '
import json,sys; j=json.load(sys.stdin)
assert all(m["state"]=="online" and m["errors"]==0 for m in j["meters"]), j' || fail "meters not all online"
stop_ecmond || fail "ecmond did not exit 0 on SIGTERM"
grep -q "ecmon/itpark/status offline" "$T/mqtt.log" || true
pass "pipeline: 56 points, every type and order, MQTT and RRD equal the simulator"

#!/usr/bin/env bash
# ecmonctl graph: a replayed week of hourly readings (an enterprise with a
# Chinese name, a park treatment plant) drawn as quota, capacity and meter
# graphs, PNG and SVG, straight from the RRD files with no daemon running:
# PNG size as asked, SVG well-formed with the limit's legend and the
# Chinese name; the in-memory image (-o -) is the file's; unknown names,
# missing files and bad arguments are errors. Through rrdcached, a graph
# drawn right after an update that only rrdcached holds shows it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup graph

start_mosquitto
gw=$(free_port)
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "东升工业园 Dongsheng Park"; timezone = "Asia/Shanghai";
         wwtp = { capacity_m3_per_day = 5000.0; inflow = "wwtp-in.total"; };
         meters = ( { id = "wwtp-in"; bus = "gw"; slave = 9; profile = "flow"; interval = 3600; } ); };
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
  { id = "bomin"; name = "博敏电子 Bomin Electronics";
    meters = (
      { id = "bomin-flow"; bus = "gw"; slave = 1; profile = "flow"; interval = 3600; },
      { id = "bomin-cod"; bus = "gw"; slave = 2; profile = "cod"; interval = 3600; },
      { id = "bomin-power"; bus = "gw"; slave = 3; profile = "power"; interval = 3600; },
      { id = "bomin-spare"; bus = "gw"; slave = 4; profile = "flow"; interval = 3600; }
    );
    outlets = ( { id = "main"; volume = "bomin-flow.total";
                  concentrations = { cod = "bomin-cod.cod"; }; } );
    quotas = (
      { id = "cod-month"; measure = "cod_kg"; period = "month"; limit = 400.0; },
      { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 1000.0; }
    );
  }
);
CONF

# Hourly readings, 2025-11-03 00:00 to 2025-11-10 00:00 Asia/Shanghai:
# bomin 36 m3/h, COD 50..73 mg/L over the day, 1000 kWh/h; the plant's
# inflow 150 m3/h.
from=1762099200 to=1762704000
python3 - "$T" "$from" <<'PY'
import sys
T, t0 = sys.argv[1], int(sys.argv[2])
rows = []
for h in range(7 * 24 + 1):
    ts = t0 + 3600 * h
    rows.append(f"{ts},bomin,bomin-flow,total,{100000 + 36 * h},N")
    rows.append(f"{ts},bomin,bomin-cod,cod,{50 + h % 24},N")
    rows.append(f"{ts},bomin,bomin-power,kwh,{500000 + 1000 * h},N")
    rows.append(f"{ts},park,wwtp-in,total,{2000000 + 150 * h},N")
open(T + "/all.csv", "w").write("\n".join(rows) + "\n")
PY
"$ECMOND" -c "$T/ecmond.conf" -r "$T/all.csv" >> "$T/replay.out" 2>> "$T/ecmond.log"
grep -q "676 accepted, 0 refused" "$T/replay.out" || fail "replay: $(cat "$T/replay.out")"
for f in bomin/quota-cod-month bomin/quota-effluent-day park/capacity \
  bomin/bomin-flow bomin/bomin-cod bomin/bomin-power park/wwtp-in; do
  [ -f "$T/rrd/$f.rrd" ] || fail "replay did not create $f.rrd"
done

# No daemon runs: ecmonctl reads the config and the files.
lsan_allow_graphs
graph() { # with $conf, if set, for the config
  "$ECMONCTL" -c "${conf:-$T/ecmond.conf}" graph "$@"
}
span=(--from "$from" --to "$to")
graph --quota bomin/cod-month "${span[@]}" -o "$T/quota.png"
# The whole month (to 2025-12-01 00:00 +08:00): with the forecast.
graph --quota bomin/cod-month --from 1761926400 --to 1764518400 -o "$T/quota-month.png"
graph --quota bomin/cod-month --from "$from" --to "start+21d" -o "$T/quota.svg"
graph --quota bomin/effluent-day "${span[@]}" --width 1000 --height 500 -o "$T/quota-day.png"
graph --capacity "${span[@]}" --width 640 --height 320 -o "$T/capacity.png"
graph --capacity "${span[@]}" -o "$T/capacity.svg"
graph --meter bomin/bomin-flow --from "end-2d" --to "$to" -o "$T/meter.png"
graph --meter bomin/bomin-power "${span[@]}" -o "$T/meter.svg"
graph --meter park/wwtp-in "${span[@]}" -o "$T/wwtp-in.SVG"

png_size() { # FILE W H: a PNG whose IHDR says W x H
  python3 - "$@" <<'PY'
import struct, sys
f, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b = open(f, "rb").read(33)
if b[:8] != b"\x89PNG\r\n\x1a\n" or b[12:16] != b"IHDR":
    sys.exit(f"{f}: not a PNG")
gw, gh = struct.unpack(">II", b[16:24])
if (gw, gh) != (w, h):
    sys.exit(f"{f}: {gw}x{gh}, expected {w}x{h}")
PY
}
png_size "$T/quota.png" 800 400 || fail "quota.png"
png_size "$T/quota-month.png" 800 400 || fail "quota-month.png"
png_size "$T/quota-day.png" 1000 500 || fail "quota-day.png"
png_size "$T/capacity.png" 640 320 || fail "capacity.png"
png_size "$T/meter.png" 800 400 || fail "meter.png"
echo "ok: PNG signatures and sizes"

svg_has() { # FILE TEXT...: well-formed XML whose text holds every TEXT
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
f, want = sys.argv[1], sys.argv[2:]
root = ET.parse(f).getroot()
text = " ".join(t.strip() for t in root.itertext())
miss = [w for w in want if w not in text]
if miss:
    sys.exit(f"{f}: no {miss} in {text[:400]!r}")
if "path" not in "".join(e.tag for e in root.iter()):
    sys.exit(f"{f}: nothing drawn")
PY
}
svg_has "$T/quota.svg" "博敏电子 Bomin Electronics" "cod-month (cod_kg, 2025-11)" \
  "limit 400 kg" "warn level 320 kg" "pro-rated" "forecast" || fail "quota.svg"
svg_has "$T/capacity.svg" "东升工业园 Dongsheng Park" "capacity (m3/day)" "5000 m3/day" \
  "headroom" || fail "capacity.svg"
svg_has "$T/meter.svg" "博敏电子 Bomin Electronics" "kwh rate (kW)" "last 1000" \
  || fail "meter.svg"
svg_has "$T/wwtp-in.SVG" "东升工业园 Dongsheng Park" "total rate (m3/h)" "last 150" \
  || fail "wwtp-in.SVG"
echo "ok: SVGs parse and hold the legends and names"

# In memory (rrdgraph_render_mem) to stdout: the same image as the file.
graph --quota bomin/cod-month "${span[@]}" -o - > "$T/mem.png"
png_size "$T/mem.png" 800 400 || fail "mem.png"
cmp -s "$T/mem.png" "$T/quota.png" || fail "-o - and -o quota.png differ"
graph --capacity "${span[@]}" --width 640 --height 320 --format PNG -o - \
  > "$T/mem-capacity.png"
png_size "$T/mem-capacity.png" 640 320 || fail "mem-capacity.png"
graph --quota bomin/cod-month --from "$from" --to "start+21d" --format svg -o - \
  > "$T/mem.svg"
cmp -s "$T/mem.svg" "$T/quota.svg" || fail "-o - --format svg and -o quota.svg differ"
python3 - "$T/mem.svg" <<'PY' || fail "mem.svg"
import sys, xml.etree.ElementTree as ET
f = sys.argv[1]
root = ET.parse(f).getroot()
ns = "{http://www.w3.org/2000/svg}"
title, desc = root.find(ns + "title"), root.find(ns + "desc")
if title is None or "博敏电子 Bomin Electronics — cod-month" not in title.text:
    sys.exit(f"{f}: no <title> with the graph's title")
if desc is None or "limit 400 kg" not in desc.text:
    sys.exit(f"{f}: no <desc> with the limit's legend")
PY
echo "ok: in-memory PNG and SVG equal the files"

# Errors: status 1 with a message; usage errors status 2.
expect_err() { # STATUS MESSAGE ARGS...
  local want=$1 msg=$2 rc=0
  shift 2
  graph "$@" > "$T/err.out" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || fail "graph $*: status $rc, expected $want"
  grep -qF -- "$msg" "$T/err.out" || fail "graph $*: no '$msg' in: $(cat "$T/err.out")"
}
expect_err 1 "unknown enterprise 'nope'" --quota nope/cod-month -o "$T/x.png"
expect_err 1 "bomin has no quota 'cod-year'" --quota bomin/cod-year -o "$T/x.png"
expect_err 1 "bomin has no meter 'nope'" --meter bomin/nope -o "$T/x.png"
expect_err 1 "no data yet: $T/rrd/bomin/bomin-spare.rrd (ecmond creates it on its first update)" \
  --meter bomin/bomin-spare -o "$T/x.png"
expect_err 1 "must end in .png or .svg" --capacity -o "$T/x.gif"
expect_err 1 "--from yesterday-ish" --capacity --from yesterday-ish -o "$T/x.png"
expect_err 2 "give one of --quota, --capacity, --meter" --capacity --meter bomin/bomin-flow -o "$T/x.png"
expect_err 2 "-o FILE is required" --capacity
expect_err 2 "--width 10" --capacity --width 10 -o "$T/x.png"
expect_err 1 "image format 'gif': expected png or svg" --capacity --format gif -o -
expect_err 2 "--format goes with -o -" --capacity --format svg -o "$T/x.svg"
if [ -e "$T/x.png" ] || [ -e "$T/x.gif" ] || [ -e "$T/x.svg" ]; then
  fail "an error left an image"
fi
if ls "$T"/*.tmp >/dev/null 2>&1; then fail "a temporary file was left"; fi
echo "ok: errors"

# Through rrdcached, which holds updates for an hour (-w 3600): a graph
# drawn right after an update shows it (rrd_graph --daemon: the meter),
# and so does the forecast (the quota file is flushed before its last
# update is read).
mkdir -p "$T/journal"
rrdcached_bin=$(command -v rrdcached || echo /usr/bin/rrdcached)
("$rrdcached_bin" -g -l "unix:$T/rrdcached.sock" -b "$T/rrd" -B -j "$T/journal" \
   -p "$T/rrdcached.pid" -w 3600 -f 7200 -F) >"$T/rrdcached.log" 2>&1 &
_it_track $!
wait_until 10 "rrdcached socket" test -S "$T/rrdcached.sock"
sed "s|rrd_dir = \"$T/rrd\";|& rrdcached = \"unix:$T/rrdcached.sock\";|" \
  "$T/ecmond.conf" > "$T/cached.conf"
grep -q 'rrdcached = ' "$T/cached.conf" || fail "no rrdcached in cached.conf"
qfile="$T/rrd/bomin/quota-cod-month.rrd" mfile="$T/rrd/bomin/bomin-cod.rrd"
# An hour after the replay's last update: the quota's used, limit,
# projected; the meter's COD.
rrdtool update --daemon "unix:$T/rrdcached.sock" "$qfile" "$((to + 3600)):123.5:400:456.5"
rrdtool update --daemon "unix:$T/rrdcached.sock" "$mfile" "$((to + 3600)):77.25"
rrdtool lastupdate "$qfile" > "$T/disk.txt"
rrdtool lastupdate "$mfile" >> "$T/disk.txt"
if grep -qE "123.5|77.25" "$T/disk.txt"; then
  fail "the updates went to disk, not to rrdcached"
fi
cached_graph() {
  conf="$T/cached.conf" graph "$@" --from "$from" --to "$((to + 7200))" --format svg -o -
}
cached_graph --meter bomin/bomin-cod > "$T/cached-meter.svg"
svg_has "$T/cached-meter.svg" "cod (mg/L)" "last 77.25" \
  || fail "cached-meter.svg lacks the update that rrdcached held"
cached_graph --quota bomin/cod-month > "$T/cached.svg"
svg_has "$T/cached.svg" "last 123.5 kg" "forecast to the period's end (456.5 kg)" \
  || fail "cached.svg lacks the update that rrdcached held"
echo "ok: through rrdcached, the newest update is drawn"

mkdir -p "$T/artifacts"
cp "$T"/*.png "$T"/*.svg "$T"/*.SVG "$T/artifacts/"
cp "$T/quota-month.png" "${ECMON_ARTIFACTS:-/tmp}/ecmon-quota-graph.png"
pass "graphs from a replayed week (kept: ${ECMON_ARTIFACTS:-/tmp}/ecmon-quota-graph.png)"

#!/usr/bin/env bash
# The HTTP API, every endpoint for every role: no token and a wrong token
# answer 401; staff sees everything; an enterprise token gets 403 for any
# other enterprise's id (existing or not) and never a byte of another's data
# in a list, an event stream or a graph; malformed and hostile requests get
# an error and leave the daemon serving. Then ecmonctl, the API and the
# retained MQTT topics are compared for usage, alerts and capacity.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup http

STAFF=staff-token-0123456789
ALPHA=alpha-token-0123456789
BETA=beta-token-0123456789
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

start_mosquitto
gw=$(free_port)
HTTP_PORT=$(free_port)
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai";
  wwtp = { capacity_m3_per_day = 50.0; inflow = "wwtp-in.total"; };
  meters = ( { id = "wwtp-in"; bus = "gw"; slave = 9; profile = "flowmeter-emf"; interval = 1; } ); };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; rrd_step = 1; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 300; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = (
  { id = "alpha"; name = "阿尔法电镀";
    meters = ( { id = "alpha-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; } );
    outlets = ( { id = "main"; volume = "alpha-flow.total"; } );
    quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 0.5; } ); },
  { id = "beta"; name = "贝塔铜箔";
    meters = ( { id = "beta-flow"; bus = "gw"; slave = 2; profile = "flowmeter-emf"; interval = 1; } );
    outlets = ( { id = "main"; volume = "beta-flow.total"; } );
    quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 0.5; } ); }
);
http = { listen = "127.0.0.1:$HTTP_PORT";
  tokens = ( { role = "staff"; sha256 = "$(sha $STAFF)"; },
             { role = "enterprise:alpha"; sha256 = "$(sha $ALPHA)"; },
             { role = "enterprise:beta"; sha256 = "$(sha $BETA)"; } ); };
CONF
start_sim "$T/ecmond.conf"
lsan_allow_graphs  # the dashboard's graphs are drawn by ecmonctl
for m in alpha-flow beta-flow wwtp-in; do sim_cmd "set $m flow 0" >/dev/null; done
start_ecmond "$T/ecmond.conf"
BASE="http://127.0.0.1:$HTTP_PORT"

# Event streams for each role, open before any alert.
for who in STAFF ALPHA BETA; do
  (_it_exec curl -sN -H "Authorization: Bearer ${!who}" "$BASE/api/v1/events") \
    > "$T/events-$who.txt" 2>/dev/null &
  _it_track $!
done
for who in STAFF ALPHA BETA; do
  wait_until 10 "the $who event stream" grep -q "^event: hello" "$T/events-$who.txt"
done
# Now both enterprises run over their day quotas.
sim_cmd "set alpha-flow flow 360" >/dev/null  # 0.1 m3/s
sim_cmd "set beta-flow flow 360" >/dev/null
sim_cmd "set wwtp-in flow 720" >/dev/null
q() { sqlite3 "$T/state/ecmond.db" "$1"; }
exceeded() { [ "$(q "select count(*) from alert_state where state='exceeded'")" -ge 2 ]; }
wait_until 60 "both day quotas exceeded" exceeded
for who in STAFF ALPHA BETA; do
  wait_until 10 "exceeded on the $who stream" grep -q '"to":"exceeded"' "$T/events-$who.txt"
done
# Some RRD rows for the graphs (one step a second).
wait_until 30 "quota RRD files" test -s "$T/rrd/alpha/quota-effluent-day.rrd" -a -s "$T/rrd/park/capacity.rrd"

python3 - "$BASE" "$STAFF" "$ALPHA" "$BETA" "$T" <<'PY'
import http.client, json, socket, sys, urllib.parse
base, staff, alpha, beta, T = sys.argv[1:]
host, port = urllib.parse.urlparse(base).netloc.split(":")
port = int(port)
checked = 0

def get(path, token=None, method="GET", headers=None):
    c = http.client.HTTPConnection(host, port, timeout=10)
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict(r.getheaders()), body

def expect(path, token, status, method="GET"):
    global checked
    st, hd, body = get(path, token, method)
    checked += 1
    if st != status:
        sys.exit(f"FAIL: {method} {path} as {token}: {st}, expected {status}: {body[:200]!r}")
    return hd, body

api = ["/api/v1/whoami", "/api/v1/park", "/api/v1/status", "/api/v1/meters",
       "/api/v1/usage", "/api/v1/alerts", "/api/v1/capacity",
       "/api/v1/meters/alpha", "/api/v1/meters/alpha-flow", "/api/v1/usage/alpha",
       "/api/v1/graph/quota/alpha/effluent-day.png",
       "/api/v1/graph/quota/alpha/effluent-day.svg",
       "/api/v1/graph/meter/alpha/alpha-flow.png",
       "/api/v1/graph/capacity.svg", "/api/v1/graph/capacity.png"]
# No token, a wrong token, a token's hash, another scheme: 401 everywhere.
for p in api + ["/api/v1/events"]:
    for tok in (None, "wrong-token-0123456789"):
        hd, _ = expect(p, tok, 401)
        assert hd.get("WWW-Authenticate", "").startswith("Bearer"), hd
st, _, _ = get("/api/v1/status", headers={"Authorization": "Basic c3RhZmY6eA=="})
assert st == 401, st

# The page needs no token and holds no data.
hd, page = expect("/", None, 200)
assert hd["Content-Type"].startswith("text/html"), hd
assert "default-src 'self'" in hd["Content-Security-Policy"], hd
for f in ("/app.js", "/style.css"):
    expect(f, None, 200)
for text in ("alpha", "beta", "阿尔法", "贝塔"):
    assert text.encode() not in page, text
expect("/nosuch.html", None, 404)
expect("/../../etc/passwd", None, 404)

# Staff: everything, both enterprises.
for p in api:
    hd, body = expect(p, staff, 200)
    if p.endswith(".png"):
        assert body[:8] == b"\x89PNG\r\n\x1a\n" and hd["Content-Type"] == "image/png", p
    elif p.endswith(".svg"):
        assert b"<svg" in body and hd["Content-Type"] == "image/svg+xml", p
    else:
        json.loads(body)
for p in ["/api/v1/usage/beta", "/api/v1/meters/beta-flow",
          "/api/v1/graph/quota/beta/effluent-day.png",
          "/api/v1/graph/meter/beta/beta-flow.svg",
          "/api/v1/graph/meter/park/wwtp-in.png"]:
    expect(p, staff, 200)
_, body = expect("/api/v1/usage", staff, 200)
assert {u["enterprise"] for u in json.loads(body)["usage"]} == {"alpha", "beta"}
_, body = expect("/api/v1/alerts", staff, 200)
assert {a["enterprise"] for a in json.loads(body)["alerts"]} == {"alpha", "beta"}
_, body = expect("/api/v1/whoami", staff, 200)
assert json.loads(body)["role"] == "staff"
# Unknown ids: 404 for staff.
for p in ["/api/v1/usage/nosuch", "/api/v1/meters/nosuch",
          "/api/v1/graph/quota/alpha/nosuch.png",
          "/api/v1/graph/quota/nosuch/effluent-day.png",
          "/api/v1/graph/meter/alpha/beta-flow.png"]:
    expect(p, staff, 404)
# Bad graph arguments: 400, before librrd sees them.
for qs in ["from=now-1d;rm", "from=" + "9" * 50, "width=10", "height=99999",
           "width=abc", "to=%00"]:
    expect("/api/v1/graph/capacity.png?" + qs, staff, 400)
expect("/api/v1/graph/capacity.png?from=now-1h&to=now&width=400&height=300", staff, 200)

# An enterprise: its own data only; every other id 403, existing or not.
def only_own(token, own, other, other_name):
    for p in api:
        if "capacity" in p:
            expect(p, token, 403)
            continue
        p = p.replace("alpha", own)
        _, body = expect(p, token, 200)
        assert other.encode() not in body and other_name.encode() not in body, (p, body[:300])
        assert b"wwtp" not in body, (p, body[:300])
    for p in [f"/api/v1/usage/{other}", f"/api/v1/meters/{other}",
              f"/api/v1/meters/{other}-flow", "/api/v1/meters/wwtp-in",
              "/api/v1/meters/park", "/api/v1/usage/park", "/api/v1/usage/nosuch",
              "/api/v1/meters/nosuch",
              f"/api/v1/graph/quota/{other}/effluent-day.png",
              f"/api/v1/graph/quota/{other}/nosuch.svg",
              f"/api/v1/graph/meter/{other}/{other}-flow.png",
              "/api/v1/graph/meter/park/wwtp-in.png",
              "/api/v1/graph/quota/nosuch/x.png"]:
        _, body = expect(p, token, 403)
        assert other_name.encode() not in body
    _, body = expect("/api/v1/whoami", token, 200)
    w = json.loads(body)
    assert w["role"] == "enterprise" and w["enterprise"] == own, w
    _, body = expect("/api/v1/status", token, 200)
    assert "mqtt" not in json.loads(body) and "config" not in json.loads(body)

only_own(alpha, "alpha", "beta", "贝塔")
only_own(beta, "beta", "alpha", "阿尔法")

# Event streams: each enterprise saw its own transitions, none of the other.
def events(who):
    out = []
    for block in open(f"{T}/events-{who}.txt", encoding="utf-8").read().split("\n\n"):
        lines = block.split("\n")
        if "event: alert" in lines:
            data = [l[6:] for l in lines if l.startswith("data: ")]
            out.append(json.loads("".join(data)))
    return out
for who, own, other in (("ALPHA", "alpha", "beta"), ("BETA", "beta", "alpha")):
    raw = open(f"{T}/events-{who}.txt", encoding="utf-8").read()
    ev = events(who)
    assert ev and all(e["enterprise"] == own for e in ev), (who, ev)
    assert other not in raw and ("贝塔" if own == "alpha" else "阿尔法") not in raw, who
staff_ev = events("STAFF")
assert {e["enterprise"] for e in staff_ev} >= {"alpha", "beta"}, staff_ev

# Methods, malformed and hostile requests.
for m in ("POST", "PUT", "DELETE", "PATCH"):
    hd, _ = expect("/api/v1/status", staff, 405, m)
    assert "GET" in hd.get("Allow", ""), hd
st, _, body = get("/api/v1/status", staff, "HEAD")
assert st == 200 and body == b"", (st, body)

def raw(data, read=True):
    s = socket.create_connection((host, port), timeout=10)
    try:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            out += b
        return out
    finally:
        s.close()

def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.") else None

bad = {
    "garbage": b"\x00\xff\xfe garbage \r\n\r\n",
    "no version": b"GET /api/v1/status\r\n\r\n",
    "bad version": b"GET /api/v1/status HTTP/9.9\r\nHost: x\r\n\r\n",
    "huge header": b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 100000 + b"\r\n\r\n",
    "huge url": b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "no host": b"GET /api/v1/status HTTP/1.1\r\n\r\n",
    "bad chunked": b"POST /api/v1/status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "many headers": b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
    "encoded slash": b"GET /api/v1/usage/alpha%2f..%2fbeta HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alpha.encode() + b"\r\nConnection: close\r\n\r\n",
}
for name, data in bad.items():
    resp = raw(data)
    st = status_of(resp)
    assert st is None or st >= 400, (name, resp[:200])
    assert b"beta" not in resp or name != "encoded slash", resp[:300]
    checked += 1
# Half a request, then hang up; many connections at once.
raw(b"GET /api/v1/sta", read=False)
socks = [socket.create_connection((host, port)) for _ in range(100)]
for s in socks:
    s.close()
st, _, _ = get("/api/v1/status", staff)
assert st == 200, st
print(f"http: {checked} requests checked")
PY

# Still alive and serving.
kill -0 "$ECMOND_PID" || fail "ecmond died"
curl -sf -H "Authorization: Bearer $STAFF" "$BASE/api/v1/status" >/dev/null || fail "not serving after bad requests"

# ecmonctl, the API and MQTT agree: stop the readings so nothing moves,
# let a reload publish the quota and capacity topics at once.
sim_cmd "pause gw" >/dev/null || fail "sim pause"
offline() { ! "$ECMONCTL" -s "$T/ecmond.sock" -j meters | grep -q '"state":"online"'; }
wait_until 20 "every meter offline" offline
"$ECMONCTL" -s "$T/ecmond.sock" reload >/dev/null
wait_until 20 "the reload" _it_log_count_above "$T/ecmond.log" "reloaded:" 0
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -v -W 3 -t 'ecmon/itpark/+/quota/+' \
  -t 'ecmon/itpark/alerts/#' -t 'ecmon/itpark/capacity' > "$T/retained.txt" 2>/dev/null || true
for what in usage alerts capacity; do
  "$ECMONCTL" -s "$T/ecmond.sock" -j "$what" > "$T/ctl-$what.json"
  curl -sf -H "Authorization: Bearer $STAFF" "$BASE/api/v1/$what" > "$T/http-$what.json"
  "$ECMONCTL" -s "$T/ecmond.sock" "$what" > "$T/ctl-$what.txt"
done
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
mqtt = {}
for line in open(f"{T}/retained.txt", encoding="utf-8"):
    topic, payload = line.rstrip("\n").split(" ", 1)
    mqtt[topic] = json.loads(payload)
stable = ("used", "limit", "fraction", "state", "measure", "period", "unit", "since")
n = 0
for what in ("usage", "alerts", "capacity"):
    ctl = json.load(open(f"{T}/ctl-{what}.json"))
    api = json.load(open(f"{T}/http-{what}.json"))
    if what == "capacity":
        m = mqtt["ecmon/itpark/capacity"]
        for k in ("capacity_m3_day", "today_m3", "utilization", "peak30_m3", "headroom_m3_day"):
            assert ctl[k] == api[k] == m[k], (k, ctl[k], api[k], m[k])
            n += 1
        continue
    rows = ctl[what]
    assert len(rows) == len(api[what]) == 2, (what, rows, api)
    for a, b in zip(rows, api[what]):
        assert a["enterprise"] == b["enterprise"] and a["quota"] == b["quota"]
        # The quota topic has the numbers now; the alert topic the state
        # and numbers of the transition (since).
        quota = f"ecmon/itpark/{a['enterprise']}/quota/{a['quota']}"
        alert = f"ecmon/itpark/alerts/{a['enterprise']}/{a['quota']}"
        pairs = [(quota, stable)]
        if what == "alerts":
            pairs.append((alert, ("state", "since", "limit", "measure", "period", "unit")))
        for topic, keys in pairs:
            m = mqtt[topic]
            for k in keys:
                if k in m:
                    assert a.get(k) == b.get(k) == m.get(k), (what, topic, k, a.get(k), b.get(k), m.get(k))
                    n += 1
print(f"ecmonctl = API = MQTT: {n} values compared")
PY
grep -q "alpha .*effluent-day .*exceeded" "$T/ctl-usage.txt" || fail "ecmonctl usage text"
stop_ecmond || fail "ecmond did not exit 0"
pass "http: every endpoint for every role, streams filtered, hostile requests refused, ecmonctl = API = MQTT"

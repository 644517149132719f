#!/usr/bin/env bash
# The web dashboard in headless Chromium (dashboard.py): the staff page and
# enterprise alpha's page open on ecmond fed by ecmon-sim; beta's and then
# alpha's day quota cross into warn, and each alert appears on the open
# pages within 2 s of its event, without a reload; alpha's page never holds
# beta's id, name or alert; the graphs are drawn; after ecmond restarts,
# both pages reconnect by themselves; a refused token brings back the
# sign-in form.
# Keeps a screenshot: ${ECMON_ARTIFACTS:-<build>/test-artifacts}/dashboard.png.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup dashboard

for p in /usr/bin/chromium /usr/bin/chromedriver; do
  [ -x "$p" ] || fail "$p is missing (scripts/deps.sh installs chromium chromium-driver)"
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
  fail "python3-selenium is missing (scripts/deps.sh installs it)"
BUILD=${BUILD:-$(cd "$(dirname "$ECMOND")/.." && pwd)}
ART=${ECMON_ARTIFACTS:-$BUILD/test-artifacts}
mkdir -p "$ART"

start_mosquitto
gw=$(free_port)
http=$(free_port)
token() { head -c 24 /dev/urandom | base64 | tr '+/' '-_'; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
DASH_STAFF_TOKEN=$(token) DASH_ALPHA_TOKEN=$(token) DASH_BETA_TOKEN=$(token)
export DASH_STAFF_TOKEN DASH_ALPHA_TOKEN DASH_BETA_TOKEN
alpha_name="阿尔法电子 Alpha Electronics"
beta_name="贝塔制药 Beta Pharma"
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "东升工业园 Dongsheng Park"; timezone = "Asia/Shanghai";
         wwtp = { capacity_m3_per_day = 500.0; inflow = "wwtp-in.total"; };
         meters = ( { id = "wwtp-in"; bus = "gw"; slave = 9; profile = "flowmeter-emf"; interval = 1; } );
         quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 100000.0; } ); };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
http = { listen = "127.0.0.1:$http";
         tokens = ( { role = "staff"; sha256 = "$(sha "$DASH_STAFF_TOKEN")"; },
                    { role = "enterprise:alpha"; sha256 = "$(sha "$DASH_ALPHA_TOKEN")"; },
                    { role = "enterprise:beta"; sha256 = "$(sha "$DASH_BETA_TOKEN")"; } ); };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = (
  { id = "alpha"; name = "$alpha_name";
    meters = (
      { id = "alpha-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; },
      { id = "alpha-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; }
    );
    outlets = ( { id = "main"; volume = "alpha-flow.total"; concentrations = { cod = "alpha-cod.cod"; };
                  limits_mg_l = { cod = 80.0; }; } );
    quotas = (
      { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 2.0; },
      { id = "cod-year"; measure = "cod_kg"; period = "year"; limit = 100000.0; }
    ); },
  { id = "beta"; name = "$beta_name";
    meters = ( { id = "beta-flow"; bus = "gw"; slave = 3; profile = "flowmeter-emf"; interval = 1; } );
    outlets = ( { id = "main"; volume = "beta-flow.total"; } );
    quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 2.0; } ); }
);
CONF
start_sim "$T/ecmond.conf"
# No discharge at first: every quota ok until the test opens the valves
# (360 m3/h: 0.1 m3/s, a 2 m3 day quota warns within 16 s).
sim_cmd "set alpha-flow flow 0" >/dev/null
sim_cmd "set beta-flow flow 0" >/dev/null
sim_cmd "set alpha-cod cod 50" >/dev/null
sim_cmd "set wwtp-in flow 300" >/dev/null
mqtt_sub_bg "$T/events.log" 'ecmon/itpark/events'
lsan_allow_graphs  # the page's graphs are drawn by ecmonctl children
start_ecmond "$T/ecmond.conf"
api_up() {
  curl -sf -o /dev/null -H "Authorization: Bearer $DASH_STAFF_TOKEN" \
    "http://127.0.0.1:$http/api/v1/whoami"
}
wait_until 10 "the HTTP API on port $http" api_up

# The browser test, in the background: midway it asks for ecmond to be
# restarted (both pages must reconnect by themselves).
(_it_exec /usr/bin/python3 "$(dirname "$0")/dashboard.py" test \
  --url "http://127.0.0.1:$http" --sim-sock "$SIM_SOCK" --events "$T/events.log" \
  --out "$ART/dashboard.png" --alpha-name "$alpha_name" --beta-name "$beta_name" \
  --restart "$T") > "$T/dashboard.log" 2>&1 &
py=$!
_it_track "$py"
restart_wanted() { [ -e "$T/restart-wanted" ] || _it_gone "$py"; }
wait_until 240 "the browser test to ask for a restart" restart_wanted || true
if [ -e "$T/restart-wanted" ]; then
  stop_ecmond || fail "ecmond did not exit 0 when asked to restart"
  start_ecmond "$T/ecmond.conf"
  touch "$T/restart-done"
fi
rc=0
wait "$py" || rc=$?
_it_untrack "$py"
cat "$T/dashboard.log"
[ "$rc" -eq 0 ] || fail "the browser test failed"
[ -s "$ART/dashboard.png" ] || fail "no screenshot"
kill -0 "$ECMOND_PID" || fail "ecmond died"
stop_ecmond || fail "ecmond did not exit 0"
pass "dashboard: $(grep '^latency:' "$T/dashboard.log"); kept $ART/dashboard.png"

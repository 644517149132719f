#!/usr/bin/env bash
# run_as: started as root, ecmond opens the control socket and the HTTP
# port, gives its state to the configured user and becomes it; the ledger,
# RRD files and lock are that user's, mode 0640 (directories 0750), the
# socket 0660; a reload and the dashboard's graphs work as that user; the
# MQTT password never reaches the log. Needs root (skipped otherwise).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
it_setup run-as
chmod 0755 "$T"   # the user must reach its state under $T
user=nobody
group=$(id -gn "$user")

start_mosquitto
gw=$(free_port)
http=$(free_port)
token=run-as-token-0123456789
secret="s3cret-$RANDOM-password"
printf '%s\n' "$secret" > "$T/mqtt.pass"
chmod 0640 "$T/mqtt.pass"
chgrp "$group" "$T/mqtt.pass"   # readable by the user after the drop
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it";
         username = "ecmond"; password_file = "$T/mqtt.pass"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; rrd_step = 1; };
control = { socket = "$T/run/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; retries = 0; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "alpha"; name = "Alpha";
  meters = ( { id = "alpha-flow"; bus = "gw"; slave = 1; profile = "flowmeter-emf"; interval = 1; } );
  outlets = ( { id = "main"; volume = "alpha-flow.total"; } );
  quotas = ( { id = "effluent-day"; measure = "effluent_m3"; period = "day"; limit = 1000.0; } ); } );
run_as = "$user";
http = { listen = "127.0.0.1:$http";
  tokens = ( { role = "staff"; sha256 = "$(printf %s $token | sha256sum | cut -d' ' -f1)"; } ); };
CONF
chmod 0644 "$T/ecmond.conf"
start_sim "$T/ecmond.conf"
lsan_allow_graphs
start_ecmond "$T/ecmond.conf"
grep -q "running as $user" "$T/ecmond.log" || fail "no 'running as $user' in the log"
wait_until 10 "the daemon to be $user" test "$(ps -o user= -p "$ECMOND_PID" | tr -d ' ')" = "$user"
wait_until 20 "ledger rows" test -s "$T/state/ecmond.db"
wait_until 20 "an RRD file" test -s "$T/rrd/alpha/alpha-flow.rrd"
wait_until 20 "a quota RRD file" test -s "$T/rrd/alpha/quota-effluent-day.rrd"
checked=0
check() { # PATH OWNER MODE
  local got
  got=$(stat -c '%U %a' "$1")
  [ "$got" = "$2 $3" ] || fail "$1: $got, expected $2 $3"
  checked=$((checked + 1))
}
check "$T/state" "$user" 750
check "$T/state/ecmond.db" "$user" 640
check "$T/state/ecmond.lock" "$user" 640
check "$T/rrd" "$user" 750
check "$T/rrd/alpha" "$user" 750
check "$T/rrd/alpha/alpha-flow.rrd" "$user" 640
check "$T/rrd/alpha/quota-effluent-day.rrd" "$user" 640
check "$T/run/ecmond.sock" "$user" 660
for f in "$T"/state/ecmond.db-wal "$T"/state/ecmond.db-shm; do
  [ -e "$f" ] && check "$f" "$user" 640
done
# No file in the state is readable by others.
[ -z "$(find "$T/state" "$T/rrd" -perm -o=r)" ] || fail "world-readable state: $(find "$T/state" "$T/rrd" -perm -o=r)"

# As the user: a graph (ecmonctl child), a reload, the control socket.
code=$(curl -s -o "$T/g.png" -w '%{http_code}' -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$http/api/v1/graph/meter/alpha/alpha-flow.png")
[ "$code" = 200 ] || fail "graph as $user: HTTP $code: $(head -c 300 "$T/g.png")"
kill -HUP "$ECMOND_PID"
wait_until 20 "the reload" grep -q "reloaded:" "$T/ecmond.log"
"$ECMONCTL" -s "$T/run/ecmond.sock" status > /dev/null || fail "ecmonctl status after reload"
rows() { [ "$(sqlite3 "$T/state/ecmond.db" "select count(*) from hourly")" -gt 0 ]; }
wait_until 20 "ledger rows written as $user after the reload" rows
grep -q -- "$secret" "$T/ecmond.log" && fail "the MQTT password is in the log"
stop_ecmond || fail "ecmond did not exit 0"
pass "run_as: ecmond ran as $user; $checked files and modes checked; graph, reload and ledger as $user; password not logged"

#!/usr/bin/env bash
# The ACL from `ecmonctl mqtt-acl`, loaded into a real mosquitto with
# passwords: an enterprise's user reads its own readings and nobody else's;
# staff read everything; ecmond publishes with its username and password
# file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup acl

MQTT_PORT=$(free_port)
gw=$(free_port)
printf 'ecmond-secret\n' > "$T/ecmond.pass"
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it";
         username = "ecmond"; password_file = "$T/ecmond.pass"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = (
  { id = "alpha"; name = "Alpha"; meters = ( { id = "alpha-cod"; bus = "gw"; slave = 1; profile = "cod-analyzer"; interval = 1; } ); },
  { id = "beta"; name = "Beta"; meters = ( { id = "beta-cod"; bus = "gw"; slave = 2; profile = "cod-analyzer"; interval = 1; } ); }
);
CONF
"$ECMONCTL" -c "$T/ecmond.conf" mqtt-acl > "$T/acl"
: > "$T/passwd"
for u in ecmond:ecmond-secret staff:staff-pw alpha:alpha-pw beta:beta-pw; do
  mosquitto_passwd -b "$T/passwd" "${u%%:*}" "${u#*:}"
done
cat > "$T/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
allow_anonymous false
password_file $T/passwd
acl_file $T/acl
persistence false
log_dest file $T/mosquitto.log
user $(id -un)
CONF
_it_run_mosquitto
start_sim "$T/ecmond.conf"
start_ecmond "$T/ecmond.conf"

sub_as() { # USER PASSWORD FILE
  (_it_exec mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u "$1" -P "$2" -v -t 'ecmon/#') > "$3" 2>&1 &
  _it_track $!
}
sub_as alpha alpha-pw "$T/alpha.log"
sub_as staff staff-pw "$T/staff.log"
sub_as beta wrong-pw "$T/intruder.log"
wait_until 20 "staff sees both enterprises" bash -c \
  "grep -q 'itpark/alpha/alpha-cod/cod ' '$T/staff.log' && grep -q 'itpark/beta/beta-cod/cod ' '$T/staff.log'"
wait_until 20 "alpha sees its own readings" grep -q 'itpark/alpha/alpha-cod/cod ' "$T/alpha.log"
n=$(grep -c 'itpark/beta/beta-cod/cod ' "$T/staff.log")
wait_until 10 "more beta readings at staff" _it_log_count_above "$T/staff.log" 'itpark/beta/beta-cod/cod ' "$((n + 2))"
grep -q '/beta/' "$T/alpha.log" && fail "alpha's user received beta's data"
grep -q 'ecmon/' "$T/intruder.log" && fail "a wrong password received data"
grep -qi "not authorised\|Connection Refused" "$T/intruder.log" || fail "the wrong password was not refused"
echo "alpha received $(grep -c 'alpha-cod/cod ' "$T/alpha.log") of its readings and none of beta's"
pass "mqtt-acl: each enterprise's user reads only its own subtree"

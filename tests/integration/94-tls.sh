#!/usr/bin/env bash
# MQTT over TLS to a real mosquitto TLS listener with username and
# password (certificates made here by openssl): readings arrive; a broker
# whose certificate the configured CA did not sign and a wrong password are
# each refused, logged once while ecmond keeps retrying, and the daemon
# keeps polling; the password is never logged.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup tls

# A CA, the broker's certificate for 127.0.0.1, and a CA nobody trusts.
cd "$T"
ossl() { openssl "$@" 2>>"$T/openssl.log"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=ecmon test CA" \
  -keyout ca.key -out ca.crt
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
  -keyout other.key -out other.crt
ossl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout broker.key -out broker.csr
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
ossl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
  -days 2 -extfile san.ext -out broker.crt
cd - >/dev/null

MQTT_PORT=$(free_port)
gw=$(free_port)
secret="tls-secret-$RANDOM$RANDOM"
printf '%s\n' "$secret" > "$T/ecmond.pass"
: > "$T/passwd"
mosquitto_passwd -b "$T/passwd" ecmond "$secret"
mosquitto_passwd -b "$T/passwd" staff staff-pw
cat > "$T/mosquitto.conf" <<CONF
listener $MQTT_PORT 127.0.0.1
cafile $T/ca.crt
certfile $T/broker.crt
keyfile $T/broker.key
tls_version tlsv1.2
allow_anonymous false
password_file $T/passwd
persistence false
log_dest file $T/mosquitto.log
user $(id -un)
CONF
_it_run_mosquitto

conf() { # CA_FILE PASSWORD_FILE
  cat <<CONF
park = { id = "itpark"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it";
         username = "ecmond"; password_file = "$2"; tls = { ca_file = "$1"; }; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "gw"; tcp = { host = "127.0.0.1"; port = $gw; }; timeout_ms = 500; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "alpha"; name = "Alpha";
  meters = ( { id = "alpha-cod"; bus = "gw"; slave = 1; profile = "cod-analyzer"; interval = 1; } ); } );
CONF
}
conf "$T/ca.crt" "$T/ecmond.pass" > "$T/ecmond.conf"
start_sim "$T/ecmond.conf"
sub() {
  (_it_exec mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" --cafile "$T/ca.crt" \
     -u staff -P staff-pw -v -t 'ecmon/#') > "$T/sub.log" 2>>"$T/sub.err" &
  _it_track $!
}
sub
start_ecmond "$T/ecmond.conf"
wait_until 20 "readings over TLS" grep -q "^ecmon/itpark/alpha/alpha-cod/cod " "$T/sub.log"
grep -q "mqtt 127.0.0.1:$MQTT_PORT: connected" "$T/ecmond.log" || fail "no connected line"
n_tls=$(grep -c "^ecmon/itpark/alpha/alpha-cod/cod " "$T/sub.log")
stop_ecmond || fail "ecmond did not exit 0"

# A broker certificate the configured CA did not sign: refused, once.
conf "$T/other.crt" "$T/ecmond.pass" > "$T/ecmond-badca.conf"
: > "$T/ecmond.log"
start_ecmond "$T/ecmond-badca.conf"
wait_until 20 "the refused certificate logged" grep -q "mqtt 127.0.0.1:$MQTT_PORT: cannot connect" "$T/ecmond.log"
# Keeps polling and retrying (backoff) while it cannot publish.
polls() { "$ECMONCTL" -s "$T/ecmond.sock" -j meters | python3 -c 'import json,sys; print(json.load(sys.stdin)["meters"][0]["polls"])'; }
polled_more() { [ "$(polls)" -gt "$1" ]; }
p0=$(polls)
wait_until 20 "polling to go on" polled_more "$((p0 + 3))"
[ "$(grep -c "cannot connect" "$T/ecmond.log")" -eq 1 ] || fail "the refusal was logged more than once: $(grep "cannot connect" "$T/ecmond.log")"
grep "cannot connect" "$T/ecmond.log"
stop_ecmond || fail "ecmond did not exit 0"

# A wrong password: refused by the broker, once.
printf 'wrong-password\n' > "$T/wrong.pass"
conf "$T/ca.crt" "$T/wrong.pass" > "$T/ecmond-badpw.conf"
: > "$T/ecmond.log"
start_ecmond "$T/ecmond-badpw.conf"
wait_until 20 "the refused password logged" grep -qi "not authori[sz]ed\|refused" "$T/ecmond.log"
p0=$(polls)
wait_until 20 "polling to go on" polled_more "$((p0 + 3))"
grep -i "not authori[sz]ed\|refused" "$T/ecmond.log"
[ "$(grep -ci "not authori[sz]ed\|refused" "$T/ecmond.log")" -eq 1 ] || fail "the refusal was logged more than once"
stop_ecmond || fail "ecmond did not exit 0"
for f in "$T/ecmond.log"; do
  grep -q -- "$secret" "$f" && fail "the password is in $f"
done
pass "tls: $n_tls readings over TLS with a password; a foreign CA and a wrong password each refused and logged once; password never logged"

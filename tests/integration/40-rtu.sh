#!/usr/bin/env bash
# Modbus RTU: ecmon-sim serves three meters on a pty at 19200 baud; ecmond
# reads them one transaction at a time with frame gaps, publishes exactly the
# served values, and a meter answering with bad CRCs goes offline and back
# online, logged once each way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_setup rtu

start_mosquitto
cat > "$T/ecmond.conf" <<CONF
park = { id = "itpark"; name = "Integration"; timezone = "Asia/Shanghai"; };
mqtt = { host = "127.0.0.1"; port = $MQTT_PORT; client_id = "ecmond-it"; };
storage = { state_dir = "$T/state"; rrd_dir = "$T/rrd"; };
control = { socket = "$T/ecmond.sock"; };
buses = ( { id = "rs485a"; rtu = { device = "$T/ttyRS485"; baud = 19200; parity = "E";
                                   data_bits = 8; stop_bits = 1; };
            timeout_ms = 300; retries = 1; frame_gap_ms = 5; } );
profile_dirs = [ "$ECMON_SRC/drivers/profiles" ];
enterprises = ( { id = "acme"; name = "Acme"; meters = (
  { id = "acme-flow"; bus = "rs485a"; slave = 1; profile = "flowmeter-emf"; interval = 1; },
  { id = "acme-cod"; bus = "rs485a"; slave = 2; profile = "cod-analyzer-cdab"; interval = 1; },
  { id = "acme-main"; bus = "rs485a"; slave = 3; profile = "dtsd1352"; interval = 1;
    ratios = { ct = 40.0; pt = 1.0; }; }
); } );
CONF
start_sim "$T/ecmond.conf"
[ -L "$T/ttyRS485" ] || fail "the simulator did not make the RTU device"
sim_cmd "set acme-flow flow 36.5" >/dev/null
sim_cmd "set acme-flow total 12345.678" >/dev/null
sim_cmd "set acme-cod cod 47.25" >/dev/null
sim_cmd "set acme-main import_kwh 1234.56" >/dev/null
declare -A want
for mp in acme-flow/flow acme-flow/total acme-cod/cod acme-main/import_kwh; do
  want[$mp]=$(sim_cmd "get ${mp%/*} ${mp#*/}" | cut -d' ' -f2)
done
mqtt_sub_bg "$T/mqtt.log" 'ecmon/itpark/acme/#'
start_ecmond "$T/ecmond.conf"

values_equal() {
  local mp v
  for mp in "${!want[@]}"; do
    v=$(grep "^ecmon/itpark/acme/$mp " "$T/mqtt.log" | tail -1 | sed 's/.*"value":\([^,]*\),.*/\1/')
    [ -n "$v" ] || return 1
    python3 -c "import sys; sys.exit(float('$v') != float('${want[$mp]}'))" || return 1
  done
}
wait_until 20 "RTU values on MQTT equal to the simulator's" values_equal
echo "RTU values: $(for mp in "${!want[@]}"; do printf '%s=%s ' "$mp" "${want[$mp]}"; done)"

# Bad CRC answers: the meter goes offline, then online when they stop.
sim_cmd "fault acme-cod badcrc" >/dev/null
state_is() { grep "acme/acme-cod/status" "$T/mqtt.log" | tail -1 | grep -q "\"state\":\"$1\""; }
wait_until 15 "acme-cod offline on bad CRCs" state_is offline
sim_cmd "fault acme-cod none" >/dev/null
wait_until 15 "acme-cod online again" state_is online
[ "$(grep -c 'meter acme-cod: offline' "$T/ecmond.log")" -eq 1 ] || fail "offline not logged once"
[ "$(grep -c 'meter acme-cod: online' "$T/ecmond.log")" -eq 2 ] || fail "online not logged twice (start, recovery)"
grep 'meter acme-cod: offline' "$T/ecmond.log" | grep -qi 'crc' || fail "the reason does not name the CRC"
# The other meters kept going.
grep -q "3 online of 3" <<< "$("$ECMONCTL" -s "$T/ecmond.sock" status)" || fail "other meters not online"
stop_ecmond || fail "ecmond did not exit 0"
pass "RTU: values equal the simulator's; bad CRC offline/online logged once each"

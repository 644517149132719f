#!/usr/bin/env python3
"""Write equivalent ecmond and collectd configs for a benchmark fleet.

Each of the N devices is polled every INTERVAL seconds for 4 float32 points
(holding registers 0..7, big-endian word order, unit id 1), and both daemons
store them in RRD files and publish them on the same MQTT broker.

    genconf.py N INTERVAL --out DIR --fleet-port BASE --mqtt-port PORT
    genconf.py M INTERVAL --out DIR --rtu DEVICE --baud 9600 ...  (ecmond only)

Writes DIR/ecmond.conf and, for TCP fleets, DIR/collectd.conf; state, RRD
and log paths point below --work (default DIR).
"""
import argparse
import os
import sys

POINTS = [  # name, unit, kind with --kinds energy (else info), register
    ("voltage", "V", "info", 0),
    ("current", "A", "info", 2),
    ("power", "kW", "power", 4),
    ("energy", "kWh", "electricity_total", 6),
]
PER_ENTERPRISE = 100


def device_id(i):
    return "d%05d" % i


def enterprise_of(i):
    return "e%03d" % (i // PER_ENTERPRISE)


def ecmond_conf(a, work):
    out = []
    w = out.append
    w("# ecmond side of a benchmark: %d devices, %g s interval (bench/genconf.py)"
      % (a.n, a.interval))
    w('park = { id = "bench"; name = "Benchmark park"; timezone = "UTC"; };')
    w('mqtt = { host = "127.0.0.1"; port = %d; prefix = "ecmon"; qos = %d; '
      'client_id = "ecmond-bench"; };' % (a.mqtt_port, a.qos))
    w('storage = { state_dir = "%s/ecmond-state"; rrd_dir = "%s/ecmond-rrd"; '
      'rrd_step = %d; };' % (work, work, a.rrd_step))
    w('control = { socket = "%s/ecmond.sock"; };' % work)
    w("buses = (")
    if a.rtu:
        gap = ("frame_gap_ms = %d; " % a.frame_gap_ms
               if a.frame_gap_ms is not None else "")
        w('  { id = "rs485"; rtu = { device = "%s"; baud = %d; parity = "%s"; '
          'data_bits = 8; stop_bits = 1; }; timeout_ms = %d; retries = 0; %s}'
          % (a.rtu, a.baud, a.parity, a.timeout_ms, gap))
    else:
        for i in range(a.n):
            w('  { id = "%s"; tcp = { host = "127.0.0.1"; port = %d; }; '
              'timeout_ms = %d; retries = 1; }%s'
              % (device_id(i), a.ports[i], a.timeout_ms,
                 "," if i + 1 < a.n else ""))
    w(");")
    w("profiles = (")
    w('  { id = "bench4f"; points = (')
    for k, (name, unit, kind, reg) in enumerate(POINTS):
        w('      { name = "%s"; kind = "%s"; unit = "%s"; table = "holding"; '
          'address = %d; type = "float32"; order = "abcd"; }%s'
          % (name, kind if a.kinds == "energy" else "info", unit, reg,
             "," if k + 1 < len(POINTS) else ""))
    w("  ); }")
    w(");")
    w("enterprises = (")
    nent = (a.n + PER_ENTERPRISE - 1) // PER_ENTERPRISE
    for e in range(nent):
        first, last = e * PER_ENTERPRISE, min(a.n, (e + 1) * PER_ENTERPRISE)
        w('  { id = "%s"; name = "Enterprise %d"; meters = (' % (
            enterprise_of(first), e))
        for i in range(first, last):
            w('    { id = "%s"; bus = "%s"; slave = %d; profile = "bench4f"; '
              'interval = %g; }%s'
              % (device_id(i), "rs485" if a.rtu else device_id(i),
                 i + 1 if a.rtu else 1, a.interval,
                 "," if i + 1 < last else ""))
        w("  ); }%s" % ("," if e + 1 < nent else ""))
    w(");")
    return "\n".join(out) + "\n"


def collectd_conf(a, work):
    out = []
    w = out.append
    w("# collectd side of a benchmark: %d devices, %g s interval (bench/genconf.py)"
      % (a.n, a.interval))
    w('Hostname "bench"')
    w("FQDNLookup false")
    w('BaseDir "%s/collectd"' % work)
    w('PIDFile "%s/collectd/collectd.pid"' % work)
    w('PluginDir "/usr/lib/collectd"')
    w('TypesDB "/usr/share/collectd/types.db"')
    w("Interval %g" % a.interval)
    w("ReadThreads %d" % a.read_threads)
    w("WriteThreads %d" % a.write_threads)
    w("LoadPlugin logfile")
    w("<Plugin logfile>")
    w("  LogLevel info")
    w('  File "%s/collectd.log"' % work)
    w("  Timestamp true")
    w("</Plugin>")
    w("LoadPlugin modbus")
    w("LoadPlugin rrdtool")
    w("LoadPlugin mqtt")
    w("<Plugin modbus>")
    for name, _unit, _kind, reg in POINTS:
        w('  <Data "%s">' % name)
        w("    RegisterBase %d" % reg)
        w("    RegisterType Float")
        w("    RegisterCmd ReadHolding")
        w("    Type gauge")
        w('    Instance "%s"' % name)
        w("  </Data>")
    for i in range(a.n):
        w('  <Host "%s">' % device_id(i))
        w('    Address "127.0.0.1"')
        w('    Port "%d"' % a.ports[i])
        w("    Interval %g" % a.interval)
        w("    <Slave 1>")
        w('      Instance "meter"')
        for name, _unit, _kind, _reg in POINTS:
            w('      Collect "%s"' % name)
        w("    </Slave>")
        w("  </Host>")
    w("</Plugin>")
    w("<Plugin rrdtool>")
    w('  DataDir "%s/collectd-rrd"' % work)
    w("  StepSize %d" % a.rrd_step)
    w("</Plugin>")
    w("<Plugin mqtt>")
    w('  <Publish "bench">')
    w('    Host "127.0.0.1"')
    w('    Port "%d"' % a.mqtt_port)
    w('    ClientId "collectd-bench"')
    w('    Prefix "collectd"')
    w("    QoS %d" % a.qos)
    w("  </Publish>")
    w("</Plugin>")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", type=int, help="devices (TCP) or meters (RTU)")
    p.add_argument("interval", type=float, help="poll interval, seconds")
    p.add_argument("--out", required=True, help="directory for the configs")
    p.add_argument("--work", help="state, RRD and log directory (default OUT)")
    p.add_argument("--fleet-port", type=int, default=20000,
                   help="port of device 0; device i listens on BASE+i")
    p.add_argument("--fleet-ports", metavar="BASE:COUNT,...",
                   help="the devices' ports as blocks, in device order "
                        "(several fleets); instead of --fleet-port")
    p.add_argument("--mqtt-port", type=int, default=1883)
    p.add_argument("--qos", type=int, default=1, choices=(0, 1, 2),
                   help="QoS of the readings in both daemons (default 1)")
    p.add_argument("--rrd-step", type=int, default=60,
                   help="RRD step of both daemons (default 60)")
    p.add_argument("--timeout-ms", type=int, default=1000)
    p.add_argument("--kinds", choices=("info", "energy"), default="info",
                   help="ecmond point kinds: info (plumbing only, as collectd)"
                        " or energy (power and kWh accounted in the ledger)")
    p.add_argument("--read-threads", type=int, default=5,
                   help="collectd ReadThreads (default 5, collectd's own)")
    p.add_argument("--write-threads", type=int, default=5,
                   help="collectd WriteThreads (default 5, collectd's own)")
    p.add_argument("--rtu", metavar="DEVICE",
                   help="one ecmond RTU bus on DEVICE with N meters "
                        "(slaves 1..N); no collectd config")
    p.add_argument("--baud", type=int, default=9600)
    p.add_argument("--parity", choices=("N", "E", "O"), default="N")
    p.add_argument("--frame-gap-ms", type=int,
                   help="ecmond's silence between RTU transactions "
                        "(default: ecmond's own, 3.5 characters rounded up)")
    a = p.parse_args()
    if a.n < 1 or a.interval <= 0:
        p.error("N must be positive and INTERVAL above 0")
    if a.rtu and a.n > 247:
        p.error("an RTU line has at most 247 slave addresses")
    if a.fleet_ports:
        a.ports = []
        for block in a.fleet_ports.split(","):
            base, _, count = block.partition(":")
            a.ports += range(int(base), int(base) + int(count))
        if len(a.ports) != a.n:
            p.error("--fleet-ports gives %d ports for %d devices"
                    % (len(a.ports), a.n))
    else:
        a.ports = range(a.fleet_port, a.fleet_port + a.n)
    if not a.rtu and max(a.ports) > 65535:
        p.error("ports %d..%d do not fit" % (a.ports[0], a.ports[-1]))
    work = os.path.abspath(a.work or a.out)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "ecmond.conf"), "w") as f:
        f.write(ecmond_conf(a, work))
    if not a.rtu:
        os.makedirs(os.path.join(work, "collectd"), exist_ok=True)
        with open(os.path.join(a.out, "collectd.conf"), "w") as f:
            f.write(collectd_conf(a, work))
    return 0


if __name__ == "__main__":
    sys.exit(main())

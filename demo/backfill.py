#!/usr/bin/python3
"""Backfill for the demo: what the meters' own logs would hold before the
demo starts, replayed with `ecmond -r` so the ledger has a history.

Usage: backfill.py NOW JIAYING_TOTAL WWTP_TOTAL > backfill.csv
Writes hourly readings (Asia/Shanghai, UTC+8) of jiaying's flowmeter and
COD and NH3-N analyzers from January 1 and of the treatment plant's inflow for the
last 30 days, ending a minute before NOW at the totals the simulator
serves at NOW, so live readings continue them. Prints on stderr the
effluent jiaying discharged today so far."""
import math
import sys

now, jiaying_now, wwtp_now = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
tz = 8 * 3600
end = now - 60
local_midnight = (end + tz) // 86400 * 86400 - tz
# January 1 of the current local year.
days = (end + tz) // 86400
y = 1970
while True:
    ylen = 366 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 365
    if days < ylen:
        break
    days -= ylen
    y += 1
jan1 = (end + tz) // 86400 * 86400 - days * 86400 - tz

JIAYING_FLOW = 37.5   # m3/h: 900 m3/d (DESIGN §11)
JIAYING_COD = 70.0    # mg/L
JIAYING_NH3N = 10.0   # mg/L
WWTP_FLOW = 333.3     # m3/h: about 8000 m3/d, near 90 % of 9000


def wwtp_rate(t):
    # A little day-to-day variation so the 30-day peak is a real peak.
    return WWTP_FLOW * (1 + 0.06 * math.sin(t / 86400 * 0.9))


print("ts,enterprise,meter,point,value,flag")
rows = []
t = jan1
while t <= end:
    # The analyzer's reading first: it is the concentration valid for the
    # hour that the flowmeter's reading at the same time closes.
    rows.append((t, f"{t},jiaying,jiaying-cod,cod,{JIAYING_COD},N"))
    rows.append((t, f"{t},jiaying,jiaying-nh3n,nh3n,{JIAYING_NH3N},N"))
    rows.append((t, f"{t},jiaying,jiaying-flow,total,"
                    f"{jiaying_now - JIAYING_FLOW * (now - t) / 3600:.3f},N"))
    t += 3600
# The plant's inflow: integrate the rate backwards from now, hourly.
t = end - (end - jan1) % 3600
total = wwtp_now - WWTP_FLOW * (now - t) / 3600
back = []
while t >= now - 30 * 86400:
    back.append((t, f"{t},park,wwtp-in,total,{total:.3f},N"))
    total -= wwtp_rate(t)  # the hour before t, at that rate
    t -= 3600
rows.extend(reversed(back))
rows.sort(key=lambda r: r[0])  # stable: same-time rows keep their order
print("\n".join(r[1] for r in rows))
today = JIAYING_FLOW * (end - local_midnight) / 3600
print(f"{today:.3f}", file=sys.stderr)

#!/usr/bin/env python3
"""Measurements and the report of bench/run.sh (python3 stdlib only).

    report.py proc PID              CPU seconds, peak and current RSS, threads
    report.py rrd DIR SINCE         RRD files under DIR, and how many were
                                    written at or after Unix time SINCE
    report.py rtu RUNDIR OUT.json   the same for bench/rtu.sh
    report.py summary RUNDIR OUT.json
                                    reads RUNDIR/run.json (what run.sh did),
                                    the snapshots and the subscriber's log;
                                    prints a markdown table, writes OUT.json
All output is JSON except the table.
"""
import glob
import json
import os
import re
import sys

TS_RE = re.compile(r'"ts":\s*([0-9.eE+-]+)')
FLAG_RE = re.compile(r'"flag":\s*"([A-Z])"')
POINTS = ("voltage", "current", "power", "energy")


def proc(pid):
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime 15.
    cpu = (int(fields[11]) + int(fields[12])) / tick
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    kb = lambda k: int(status.get(k, "0 kB").split()[0])
    return {"cpu_s": cpu, "hwm_kb": kb("VmHWM"), "rss_kb": kb("VmRSS"),
            "threads": int(status.get("Threads", "0"))}


def rrd(path, since):
    files = fresh = 0
    for root, _dirs, names in os.walk(path):
        for n in names:
            if not n.endswith(".rrd"):
                continue
            files += 1
            try:
                if os.stat(os.path.join(root, n)).st_mtime >= since:
                    fresh += 1
            except OSError:
                pass
    return {"files": files, "fresh": fresh}


def read_fleet(path):
    """Fleet stats file: totals and per-device [requests, polls, ontime]."""
    tot, dev = {}, {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) == 2:
                tot[parts[0]] = float(parts[1])
            elif len(parts) == 4:
                dev[int(parts[0])] = [int(x) for x in parts[1:]]
    return tot, dev


def read_fleets(paths):
    """Several fleets' stats files: the first one's totals, all devices."""
    tot, dev = read_fleet(paths[0])
    for p in paths[1:]:
        dev.update(read_fleet(p)[1])
    return tot, dev


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def pct(sorted_vals, q):
    if not sorted_vals:
        return None
    k = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def deliveries(sublog, daemon, t0, t1):
    """Reading messages of `daemon` whose reading time is in [t0, t1),
    whenever they arrived: count of good values, of flagged ones, and the
    delays (ms) from the reading's time to the arrival."""
    good = flagged = 0
    delays = []
    prefix = "ecmon/" if daemon == "ecmond" else "collectd/"
    try:
        f = open(sublog, errors="replace")
    except OSError:
        return 0, 0, []
    with f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 3 or not parts[1].startswith(prefix):
                continue
            try:
                arrival = float(parts[0])
            except ValueError:
                continue
            topic, payload = parts[1], parts[2]
            if daemon == "ecmond":
                if topic.rsplit("/", 1)[-1] not in POINTS:
                    continue
                m = TS_RE.search(payload)
                fl = FLAG_RE.search(payload)
                if m is None:
                    continue
                if fl is None or fl.group(1) != "N":
                    flagged += 1
                    continue
                ts = float(m.group(1))
            else:
                t, _, v = payload.partition(":")
                try:
                    ts = float(t)
                    if v.strip().lower() in ("nan", "-nan", ""):
                        flagged += 1
                        continue
                except ValueError:
                    continue
            if ts < t0 or ts >= t1:
                continue
            good += 1
            delays.append((arrival - ts) * 1000.0)
    delays.sort()
    return good, flagged, delays


def summarize_daemon(run, d):
    rd = run["rundir"]
    n, interval, secs = run["n"], run["interval"], run["seconds"]
    r = {"daemon": d["name"], "died": d.get("died"),
         "exit": d.get("exit"), "note": d.get("note", "")}
    t0, t1 = d.get("t0"), d.get("t1")
    if t0 is None or t1 is None:
        r["note"] = (r["note"] + " no measurement window").strip()
        return r
    window = t1 - t0
    r["window_s"] = round(window, 3)
    pa = load_json(os.path.join(rd, d["name"] + ".procA.json"))
    pb = load_json(os.path.join(rd, d["name"] + ".procB.json"))
    if pa and pb:
        r["cpu_s"] = round(pb["cpu_s"] - pa["cpu_s"], 3)
        r["cpu_per_point_us"] = None
        r["peak_rss_mb"] = round(pb["hwm_kb"] / 1024.0, 1)
        r["rss_mb"] = round(pb["rss_kb"] / 1024.0, 1)
        r["threads"] = pb["threads"]
    expected_per_dev = max(1, int(window / interval))
    # Fleet side, the same for every daemon.
    fa = sorted(glob.glob(os.path.join(rd, d["name"] + ".fleetA.*")))
    fb = sorted(glob.glob(os.path.join(rd, d["name"] + ".fleetB.*")))
    if fa and len(fa) == len(fb):
        ta, da = read_fleets(fa)
        tb, db = read_fleets(fb)
        # Slots per device between the fleet's own two snapshots.
        expected_per_dev = max(1, int((tb["time"] - ta["time"]) / interval))
        req = polls = ontime_capped = polled = 0
        for i, (rq, pl, ot) in db.items():
            a = da.get(i, [0, 0, 0])
            req += rq - a[0]
            polls += pl - a[1]
            ontime_capped += min(ot - a[2], expected_per_dev)
            polled += (pl - a[1]) > 0
        r["fleet_requests"] = req
        r["fleet_polls"] = polls
        r["devices_polled"] = polled
        r["requests_per_poll"] = round(req / polls, 3) if polls else None
        r["polls_expected"] = expected_per_dev * n
        r["fleet_on_time"] = round(ontime_capped / (expected_per_dev * n), 5)
    # ecmond's own counters.
    ma = load_json(os.path.join(rd, d["name"] + ".metersA.json"))
    mb = load_json(os.path.join(rd, d["name"] + ".metersB.json"))
    if ma and mb and "meters" in ma and "meters" in mb:
        before = {m["id"]: m for m in ma["meters"]}
        sums = {"polls": 0, "late": 0, "skipped": 0, "errors": 0,
                "requests": 0}
        for m in mb["meters"]:
            a = before.get(m["id"], {})
            for k in sums:
                sums[k] += m.get(k, 0) - a.get(k, 0)
        r["own"] = sums
        # Slots that came due: polls done, and those skipped as too late.
        due = sums["polls"] + sums["skipped"]
        ok = sums["polls"] - sums["late"] - sums["errors"]
        r["own_on_time"] = round(ok / due, 5) if due else None
    good, flagged, delays = deliveries(run["sublog"], d["name"], t0, t1)
    r["points_per_s"] = round(good / window, 1) if window > 0 else None
    r["points_expected_per_s"] = round(4 * n / interval, 1)
    r["flagged"] = flagged
    r["delay_ms_p50"] = round(pct(delays, 0.50), 2) if delays else None
    r["delay_ms_p99"] = round(pct(delays, 0.99), 2) if delays else None
    r["delay_ms_max"] = round(delays[-1], 2) if delays else None
    if r.get("cpu_s") is not None and good:
        r["cpu_per_point_us"] = round(r["cpu_s"] / good * 1e6, 1)
    rr = load_json(os.path.join(rd, d["name"] + ".rrd.json"))
    if rr:
        per_dev = 1 if d["name"] == "ecmond" else 4
        r["rrd_files"] = rr["files"]
        r["rrd_fresh"] = round(rr["fresh"] / (per_dev * n), 4)
    r["load_avg"] = d.get("load")
    return r


def fmt(v, spec="{}"):
    return "–" if v is None else spec.format(v)


def table(run, rows):
    out = ["| daemon | N | interval | CPU s (in %g s) | µs CPU/point | peak RSS MB "
           "| points/s (expected) | polls on time: fleet / own | requests per "
           "device poll | delay p50 / p99 ms | RRD fresh | load avg |"
           % run["seconds"],
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        own = fmt(r.get("own_on_time"), "{:.2%}")
        died = " (died: %s)" % r["died"] if r.get("died") else ""
        out.append("| %s%s | %d | %g s | %s | %s | %s | %s (%s) | %s / %s | %s "
                   "| %s / %s | %s | %s |" % (
                       r["daemon"], died, run["n"], run["interval"],
                       fmt(r.get("cpu_s"), "{:.2f}"),
                       fmt(r.get("cpu_per_point_us"), "{:.1f}"),
                       fmt(r.get("peak_rss_mb"), "{:.1f}"),
                       fmt(r.get("points_per_s"), "{:.1f}"),
                       fmt(r.get("points_expected_per_s"), "{:g}"),
                       fmt(r.get("fleet_on_time"), "{:.2%}"), own,
                       fmt(r.get("requests_per_poll"), "{:.2f}"),
                       fmt(r.get("delay_ms_p50"), "{:.1f}"),
                       fmt(r.get("delay_ms_p99"), "{:.1f}"),
                       fmt(r.get("rrd_fresh"), "{:.1%}"),
                       fmt(r.get("load_avg"))))
    return "\n".join(out)


def summary(rundir, out_json):
    with open(os.path.join(rundir, "run.json")) as f:
        run = json.load(f)
    run["rundir"] = rundir
    rows = [summarize_daemon(run, d) for d in run["daemons"]]
    result = {k: v for k, v in run.items() if k not in ("rundir", "daemons")}
    result["results"] = rows
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    with open(out_json, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(table(run, rows))
    for r in rows:
        if r.get("note"):
            print("\n%s: %s" % (r["daemon"], r["note"]))
    if os.environ.get("BENCH_REQUIRE_NUMBERS") == "1":
        # The smoke run: every daemon measured and delivered something.
        for r in rows:
            if r.get("cpu_s") is None or not r.get("points_per_s"):
                sys.stderr.write("%s: no numbers\n" % r["daemon"])
                return 1
    return 0


def read_kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(" ")
            if v.strip():
                out[k] = float(v)
    return out


def rtu(rundir, out_json):
    with open(os.path.join(rundir, "rtu.json")) as f:
        run = json.load(f)
    la = read_kv(os.path.join(rundir, "line.A"))
    lb = read_kv(os.path.join(rundir, "line.B"))
    window = lb["elapsed"] - la["elapsed"]
    nbytes = sum(lb[k] - la[k] for k in ("bytes_to_device", "bytes_to_host"))
    ma = {m["id"]: m for m in load_json(os.path.join(rundir, "meters.A.json"))["meters"]}
    mb = load_json(os.path.join(rundir, "meters.B.json"))["meters"]
    sums = {"polls": 0, "late": 0, "skipped": 0, "errors": 0, "requests": 0}
    for m in mb:
        a = ma.get(m["id"], {})
        for k in sums:
            sums[k] += m.get(k, 0) - a.get(k, 0)
    pa = load_json(os.path.join(rundir, "proc.A.json"))
    pb = load_json(os.path.join(rundir, "proc.B.json"))
    c = run["char_ms"] / 1000.0
    tx = run["transaction_ms"] / 1000.0
    r = dict(run)
    r.update({
        "window_s": round(window, 3),
        "requests_per_s": round(sums["requests"] / window, 3),
        "fraction_of_bound": round(sums["requests"] / window / run["bound_rps"], 4),
        "wire_bytes_per_s": round(nbytes / window, 1),
        "wire_busy": round(nbytes * c / window, 4),
        "wire_busy_bound": round(29 * c / tx, 4),
        "own": sums,
        "cpu_s": round(pb["cpu_s"] - pa["cpu_s"], 3),
        "peak_rss_mb": round(pb["hwm_kb"] / 1024.0, 1),
        "line_late_max_ms": lb.get("late_max_ms"),
        "line_late_mean_ms": lb.get("late_mean_ms"),
    })
    os.makedirs(os.path.dirname(os.path.abspath(out_json)), exist_ok=True)
    with open(out_json, "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")
    print("| baud | meters | transactions/s (bound) | of bound | wire busy "
          "(bound) | polls / late / skipped / errors | ecmond CPU s | line "
          "lateness mean / max ms | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("| %d %s | %d | %.2f (%.2f) | %.1f%% | %.1f%% (%.1f%%) | %d / %d / %d / %d "
          "| %.2f | %.3f / %.1f | %s |" % (
              run["baud"], "8%s1" % run["parity"], run["meters"],
              r["requests_per_s"], run["bound_rps"],
              100 * r["fraction_of_bound"], 100 * r["wire_busy"],
              100 * r["wire_busy_bound"], sums["polls"], sums["late"],
              sums["skipped"], sums["errors"], r["cpu_s"],
              r["line_late_mean_ms"] or 0, r["line_late_max_ms"] or 0,
              run["load"]))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "proc":
        print(json.dumps(proc(int(argv[2]))))
    elif len(argv) == 4 and argv[1] == "rrd":
        print(json.dumps(rrd(argv[2], float(argv[3]))))
    elif len(argv) == 4 and argv[1] == "rtu":
        return rtu(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "summary":
        return summary(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

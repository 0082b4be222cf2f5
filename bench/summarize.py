#!/usr/bin/env python3
"""Summarizes one bench/run results file: targets met or missed, ratios to raw Kestrel, PNG plots (gnuplot).

    python3 bench/summarize.py bench/results/<stamp>.jsonl

Standard library only. Plots are written next to the results file as <stamp>-latency.png and <stamp>-memory.png;
gnuplot is needed for them (bench/run tries `apt-get install -y gnuplot-nox` when it is missing and we are root).
"""
import json
import os
import shutil
import subprocess
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pick(rows, scenario, target):
    return [r for r in rows if r.get("scenario") == scenario and r.get("target") == target and not r.get("skipped")]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def verdict(ok):
    return "MET" if ok else "MISSED"


def main(path):
    rows = load(path)
    stem = path[:-len(".jsonl")] if path.endswith(".jsonl") else path
    print()
    print("=" * 100)
    print(f"SUMMARY {os.path.basename(path)}")
    print("=" * 100)

    # direct: side by side per rate
    o_direct = {r["target_rate"]: r for r in pick(rows, "direct", "orleans")}
    k_direct = {r["target_rate"]: r for r in pick(rows, "direct", "kestrel")}
    r_direct = {r["target_rate"]: r for r in pick(rows, "direct", "orleans-redis")}
    if o_direct or k_direct:
        print("\ndirect (send -> msg across 2 edges; kestrel: one process)")
        head = ["rate", "target", "delivered/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "lost", "errors", "cpu us/msg", "machine busy %", "sustained"]
        print(" | ".join(head))
        for rate in sorted(set(o_direct) | set(k_direct) | set(r_direct)):
            for name, d in (("orleans", o_direct), ("orleans-redis", r_direct), ("kestrel", k_direct)):
                r = d.get(rate)
                if r:
                    print(" | ".join(fmt(x) for x in [rate, name, r["delivered_per_second"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["max_ms"],
                                                      r["lost"], r["errors"], r["cpu_us_per_delivered"], r["machine_busy_pct"], r["sustained"]]))
            if rate in o_direct and rate in k_direct and o_direct[rate]["cpu_us_per_delivered"] and k_direct[rate]["cpu_us_per_delivered"]:
                print(f"     ratio orleans/kestrel at {fmt(rate)}: cpu per msg x{o_direct[rate]['cpu_us_per_delivered'] / k_direct[rate]['cpu_us_per_delivered']:.2f}"
                      + (f", p99 x{o_direct[rate]['p99_ms'] / k_direct[rate]['p99_ms']:.2f}" if o_direct[rate]["p99_ms"] and k_direct[rate]["p99_ms"] else ""))
    # KEYS=both: the same sweep with an idempotency key on every send (issue #13: at most +10 % CPU per message)
    # o_direct holds the last unkeyed sweep per rate: with KEYS=both the one after the keyed sweep (the warmer one).
    o_keyed = {r["target_rate"]: r for r in pick(rows, "direct-keyed", "orleans")}
    for rate in sorted(set(o_keyed) & set(o_direct)):
        plain, keyed = o_direct[rate], o_keyed[rate]
        if plain["cpu_us_per_delivered"] and keyed["cpu_us_per_delivered"]:
            print(f"keyed at {fmt(rate)}: cpu us/msg {fmt(keyed['cpu_us_per_delivered'])} vs {fmt(plain['cpu_us_per_delivered'])} unkeyed "
                  f"(x{keyed['cpu_us_per_delivered'] / plain['cpu_us_per_delivered']:.3f}), p99 {fmt(keyed['p99_ms'])} ms, lost {fmt(keyed['lost'])}")
    background = {}
    for target in ("orleans", "orleans-redis", "kestrel"):
        for r in pick(rows, "direct-summary", target):
            background[target] = r.get("background_server_cores")
            print(f"max sustained rate ({target}): {fmt(r['max_sustained_rate'])} msg/s (tried {r['rates_tried']}); "
                  f"background CPU with all clients connected and idle: {fmt(r.get('background_server_cores'))} cores")
    if o_direct or k_direct:
        print("\ndirect, where the CPU goes (CPU net of background = (server_cpu_s - background cores x duration) / delivered)")
        print("rate | target | cpu us/msg | net cpu us/msg | alloc KB/msg | GCs gen0/1/2 | GC suspended ms | cpu by thread kind")
        for rate in sorted(set(o_direct) | set(k_direct) | set(r_direct)):
            for name, d in (("orleans", o_direct), ("orleans-redis", r_direct), ("kestrel", k_direct)):
                r = d.get(rate)
                if r:
                    bg = background.get(name)
                    delivered = r["delivered_per_second"] * r["duration_s"]
                    net = max(0.0, r["server_cpu_s"] - bg * r["duration_s"]) * 1e6 / delivered if bg is not None and delivered else None
                    print(" | ".join(fmt(x) for x in [rate, name, r["cpu_us_per_delivered"], net, r.get("server_alloc_kb_per_delivered"),
                                                      r.get("server_gc_count_gen0_1_2"), r.get("server_gc_suspended_ms"), r.get("server_cpu_by_thread")]))

    for scenario in ("idle", "scale", "fanout", "flood", "drain"):
        for r in [r for r in rows if r.get("scenario") == scenario]:
            keys = [k for k in r if k not in ("scenario", "target", "utc")]
            print(f"\n{scenario} ({r['target']}): " + ", ".join(f"{k}={fmt(r[k])}" for k in keys))

    if r_direct:
        both = [rate for rate in sorted(r_direct) if rate in o_direct and r_direct[rate]["sustained"] and o_direct[rate]["sustained"]]
        print("\nRedis durability cost (same rates, both sustained): " + (", ".join(
            f"{fmt(rate)} msg/s: cpu/msg x{r_direct[rate]['cpu_us_per_delivered'] / o_direct[rate]['cpu_us_per_delivered']:.2f}, "
            f"p99 {fmt(o_direct[rate]['p99_ms'])} -> {fmt(r_direct[rate]['p99_ms'])} ms" for rate in both) or "no common sustained rate"))

    # targets
    print("\nTARGETS")
    checks = []
    idle_o = sorted(pick(rows, "idle", "orleans"), key=lambda r: r["connections_ok"])
    idle_k = sorted(pick(rows, "idle", "kestrel"), key=lambda r: r["connections_ok"])
    if idle_o:
        big = idle_o[-1]
        line = f"idle edge <= 10 KB/connection: {fmt(big['edge_kb_per_connection'])} KB at {big['connections_ok']} connections"
        same = [k for k in idle_k if k["connections_ok"] == big["connections_ok"]]
        if same and same[-1]["edge_kb_per_connection"]:
            line += f" (raw Kestrel {fmt(same[-1]['edge_kb_per_connection'])} KB, ratio x{big['edge_kb_per_connection'] / same[-1]['edge_kb_per_connection']:.2f})"
        line += f"; managed heap {fmt(big.get('edge_managed_kb_per_connection'))} KB"
        if same:
            line += f" (raw Kestrel {fmt(same[-1].get('edge_managed_kb_per_connection'))} KB)"
        checks.append((big["edge_kb_per_connection"] is not None and big["edge_kb_per_connection"] <= 10, line))
        s = big.get("silo_kb_per_client_grain")
        checks.append((s is not None and s <= 4, f"silo <= 4 KB per idle client grain: {fmt(s)} KB RSS at {big['connections_ok']} grains; "
                                                 f"managed heap {fmt(big.get('silo_managed_kb_per_client_grain'))} KB"))
    r20 = o_direct.get(20000)
    if r20:
        ok = r20["sustained"] and r20["lost"] == 0 and r20["p99_ms"] is not None and r20["p99_ms"] < 50
        checks.append((ok, f"direct 20,000 msg/s sustained, zero loss, p99 < 50 ms: delivered/s={fmt(r20['delivered_per_second'])} lost={r20['lost']} p99={fmt(r20['p99_ms'])} ms"))
    elif o_direct:
        stopped = any(not r["sustained"] for r in o_direct.values())
        checks.append((False, "direct 20,000 msg/s: " + ("not reached (the sweep stopped at a lower rate that was not sustained)" if stopped else "not measured (not in RATES)")))
    common = [rate for rate in o_direct if rate in k_direct and o_direct[rate]["sustained"] and k_direct[rate]["sustained"]]
    if common:
        ratios = {rate: o_direct[rate]["cpu_us_per_delivered"] / k_direct[rate]["cpu_us_per_delivered"] for rate in sorted(common)}
        checks.append((all(v <= 2 for v in ratios.values()),
                       "CPU per delivered message <= 2x raw Kestrel: " + ", ".join(f"x{v:.2f} at {fmt(k)}" for k, v in ratios.items())))
    r5 = o_direct.get(5000)
    if r5:
        checks.append((r5["p99_ms"] is not None and r5["p99_ms"] < 10, f"p99 < 10 ms at 5,000 msg/s: {fmt(r5['p99_ms'])} ms"))
    for r in pick(rows, "scale", "orleans"):
        checks.append((r["connections_held"] >= 100_000,
                       f"scale 100,000 concurrent connections: {r['connections_held']} held ({r['stopped_because']}); "
                       f"edge {fmt(r['edge_kb_per_connection'])} KB/conn RSS ({fmt(r.get('edge_managed_kb_per_connection'))} KB managed), "
                       f"silo {fmt(r['silo_kb_per_client_grain'])} KB/grain RSS ({fmt(r.get('silo_managed_kb_per_client_grain'))} KB managed)"))
        checks.append((r["edge_kb_per_connection"] is not None and r["edge_kb_per_connection"] <= 10,
                       f"edge <= 10 KB/connection at scale: {fmt(r['edge_kb_per_connection'])} KB at {r['connections_held']}"))
        checks.append((r["silo_kb_per_client_grain"] is not None and r["silo_kb_per_client_grain"] <= 4,
                       f"silo <= 4 KB per client grain at scale: {fmt(r['silo_kb_per_client_grain'])} KB at {r['connections_held']}"))
    for r in pick(rows, "drain", "orleans"):
        t = r.get("all_reconnected_s")
        checks.append((r.get("clients", 0) >= 10_000 and t is not None and t < 10 and r.get("lost") == 0,
                       f"drain: 10,000 clients re-homed in < 10 s, zero loss: {r.get('clients')} clients, all back {fmt(t)} s after the drain request, "
                       f"lost {r.get('lost')}, duplicates {r.get('duplicates')}, recovered:false {r.get('recovered_false')}"))
    for r in pick(rows, "flood", "orleans"):
        ratio = r.get("p99_ratio")
        checks.append((ratio is not None and ratio <= 2 and r["well_behaved_lost"] == 0,
                       f"flood: {r['abusers']} abuser(s) at full speed raise well-behaved p99 by <= 2x on the same edge: "
                       f"{fmt(r['quiet_p99_ms'])} -> {fmt(r['abused_p99_ms'])} ms (x{fmt(ratio)}), well-behaved lost {r['well_behaved_lost']}; "
                       f"abuser sent {fmt(r['abuser_frames_per_second'])} frames/s, {r['abuser_ok']} accepted, "
                       f"{r['abuser_rate_limited']} rate_limited, closed {r['abuser_closed_by_server']}x ({r['abuser_bye_codes']}), "
                       f"reconnects refused {r['abuser_connects_refused']}"))
    for ok, line in checks:
        print(f"  [{verdict(ok)}] {line}")

    plot(rows, stem)


def plot(rows, stem):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("\nplots skipped: gnuplot not found (apt-get install -y gnuplot-nox)")
        return
    files = []
    lat_series = []
    for target in ("orleans", "orleans-redis", "kestrel"):
        pts = sorted((r["target_rate"], r["p50_ms"], r["p99_ms"]) for r in pick(rows, "direct", target) if r["p50_ms"] is not None)
        if pts:
            dat = f"{stem}-direct-{target}.dat"
            with open(dat, "w") as f:
                for p in pts:
                    f.write(f"{p[0]} {p[1]} {p[2]}\n")
            files.append(dat)
            lat_series.append(f"'{dat}' using 1:2 with linespoints title '{target} p50', '{dat}' using 1:3 with linespoints title '{target} p99'")
    mem_series = []
    for target, role in (("orleans", "edge"), ("orleans", "silo"), ("kestrel", "edge")):
        after, before = f"{role}_rss_after_mb", f"{role}_rss_before_mb"
        pts = sorted((r.get("connections_ok", r.get("connections_held")), r[after] - r[before])
                     for r in rows if r.get("target") == target and r.get("scenario") in ("idle", "scale") and r.get(after) and r.get(before) is not None)
        if pts:
            dat = f"{stem}-memory-{target}-{role}.dat"
            with open(dat, "w") as f:
                for p in pts:
                    f.write(f"{p[0]} {p[1]}\n")
            files.append(dat)
            label = "raw Kestrel" if target == "kestrel" else f"orleans {role}s (sum)"
            mem_series.append(f"'{dat}' using 1:2 with linespoints title '{label}'")
    # scale runs use more edges than idle: each point is the sum over the edges that run used
    script = ["set terminal pngcairo size 900,560 noenhanced" if "pngcairo" in terminals(gnuplot) else "set terminal png size 900,560 noenhanced",
              "set grid", "set key top left"]
    if lat_series:
        script += [f"set output '{stem}-latency.png'", "set title 'direct: send -> deliver latency vs total rate'",
                   "set xlabel 'target rate (msg/s)'", "set ylabel 'latency (ms, log)'", "set logscale y",
                   "plot " + ", ".join(lat_series), "unset logscale y"]
    if mem_series:
        script += [f"set output '{stem}-memory.png'", "set title 'server RSS growth (after - before, forced GC both times) vs connections held'",
                   "set xlabel 'connections'", "set ylabel 'RSS delta (MB)'", "plot " + ", ".join(mem_series)]
    subprocess.run([gnuplot], input="\n".join(script) + "\n", text=True, check=False, stderr=subprocess.DEVNULL)
    for f in files:
        os.remove(f)
    for suffix in ("latency", "memory"):
        if os.path.exists(f"{stem}-{suffix}.png"):
            print(f"plot: {stem}-{suffix}.png")


def terminals(gnuplot):
    out = subprocess.run([gnuplot, "-e", "set terminal"], capture_output=True, text=True, check=False)
    return out.stdout + out.stderr


if __name__ == "__main__":
    main(sys.argv[1])

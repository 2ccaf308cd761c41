#!/usr/bin/python3
"""Turns the raw records of bench/run_bench.sh into the printed tables and results.json.

  summarize.py --runs RUNS.jsonl --machine JSON --out results.json [--large]
Medians over the repetitions; ratios against the floor and the original measured in the
same run. Exits 1 when a hard target fails (large: peak RSS >= 200 MiB; ours/original
outputs differ).
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from collections import defaultdict

MIB = 1024.0
RSS_LIMIT_MIB = 200.0

# The targets: the original's three tiers within 1.2x the best floor on resident memory
# (issue 14; all five tiers, 1.5x, are timed by tiers_vs_floor.sh).
WALL_OVER_FLOOR_MAX = 1.2
SPEEDUP_MIN = 5.0
ORT_FP16W_RSS_RATIO_MAX = 0.25


def med(records, key):
    return statistics.median(r[key] for r in records)


def cpu(r):
    return r["user_s"] + r["sys_s"]


def paired_ratio(records, size, a, b):
    """Median over repetitions of a/b, each pair measured back to back."""
    by = {(r["who"], r["rep"]): r["wall_s"] for r in records if r["phase"] == "export" and r["size"] == size}
    return statistics.median(ratio(by[(a, rep)], by[(b, rep)]) for (who, rep) in by if who == a and (b, rep) in by)


def ratio(a, b):
    return a / max(b, 0.005)  # /usr/bin/time reports 10 ms steps


def export_rows(records):
    groups = defaultdict(list)
    for r in records:
        if r["phase"] == "export":
            groups[(r["size"], r["who"])].append(r)
    out = {}
    for (size, who), rs in groups.items():
        out[f"{size}/{who}"] = {
            "size": size, "who": who, "rows": rs[0].get("rows"), "cols": rs[0].get("cols"), "reps": len(rs),
            "wall_s": med(rs, "wall_s"), "cpu_s": statistics.median(cpu(r) for r in rs),
            "user_s": med(rs, "user_s"), "sys_s": med(rs, "sys_s"),
            "peak_rss_mib": med(rs, "rss_kib") / MIB, "bytes_written": rs[0]["bytes_written"],
            "wall_all_s": [r["wall_s"] for r in rs],
        }
    return out


def ort_rows(records):
    groups = defaultdict(list)
    for r in records:
        if r["phase"] == "ort":
            groups[(r["who"], r.get("tier"))].append(r)
    out = {}
    for (who, tier), rs in groups.items():
        row = {"who": who, "tier": tier, "reps": len(rs), "peak_rss_mib": med(rs, "rss_kib") / MIB,
               "wall_s": med(rs, "wall_s"), "runs": rs[0]["probe"].get("lookup", {}).get("runs")}
        if tier is not None:
            row["session_ms"] = statistics.median(r["probe"]["session_ms"] for r in rs)
            row["lookup_median_ms"] = statistics.median(r["probe"]["lookup"]["median_ms"] for r in rs)
            row["lookup_first_ms"] = statistics.median(r["probe"]["lookup"]["first_ms"] for r in rs)
            row["lookup_shape"] = rs[0]["probe"]["lookup"]["shape"]
            split = [r["probe"].get("after_session") for r in rs]
            if all(split):
                row["anon_after_session_mib"] = statistics.median(x["anon_mib"] for x in split)
                row["file_after_runs_mib"] = statistics.median(r["probe"]["after_runs"]["file_mib"] for r in rs)
            if "rows" in rs[0]:
                row["rows_check"] = rs[0]["rows"]
        out[f"{who}/{tier or 'baseline'}"] = row
    return out


def verdict(ok):
    return "met" if ok else "MISSED"


def print_table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


# Rows of the export table, in order; the *_cold ones only when recorded.
EXPORT_WHO = ("floor", "floor_head", "floor_dd32k", "floor_dd1m", "ours", "original", "floor_cold", "ours_cold")


def summarize_granite(records, ex, ort):
    failures = []
    print("\nExport, the original's three tiers (median of {} runs; floor = cat checkpoint + write the same bytes, "
          "best of head -c, dd bs=32k, dd bs=1M per repetition; resident memory unless *_cold)".format(
              ex["V/ours"]["reps"]))
    rows = []
    for size in ("V", "2V"):
        floor = ex[f"{size}/floor"]
        for who in EXPORT_WHO:
            if f"{size}/{who}" not in ex:
                continue
            e = ex[f"{size}/{who}"]
            base = ex.get(f"{size}/floor_cold", floor) if who.endswith("_cold") else floor
            rows.append([f"{size} ({e['rows']} x {e['cols']})", who, e["reps"], f"{e['wall_s']:.2f}",
                         f"{e['user_s']:.2f}", f"{e['sys_s']:.2f}",
                         " ".join(f"{w:.2f}" for w in e["wall_all_s"]),
                         f"{e['peak_rss_mib']:.0f}", f"{e['bytes_written'] / 1e9:.3f}",
                         f"{ratio(e['wall_s'], base['wall_s']):.2f}"])
    print_table(["table", "who", "runs", "wall s", "user s", "sys s", "each run wall s", "peak RSS MiB", "GB written",
                 "/floor"], rows)

    s = {}
    for size in ("V", "2V"):
        s[f"{size}_ours_over_floor"] = ratio(ex[f"{size}/ours"]["wall_s"], ex[f"{size}/floor"]["wall_s"])
        s[f"{size}_ours_over_floor_paired"] = paired_ratio(records, size, "ours", "floor")
        if f"{size}/ours_cold" in ex:
            s[f"{size}_cold_ours_over_floor"] = ratio(ex[f"{size}/ours_cold"]["wall_s"],
                                                      ex[f"{size}/floor_cold"]["wall_s"])
        s[f"{size}_speedup_vs_original"] = ex[f"{size}/original"]["wall_s"] / ex[f"{size}/ours"]["wall_s"]
        s[f"{size}_cpu_ratio_original_over_ours"] = ex[f"{size}/original"]["cpu_s"] / ex[f"{size}/ours"]["cpu_s"]
    for who in ("floor", "ours", "original"):
        s[f"{who}_wall_2V_over_V"] = ratio(ex[f"2V/{who}"]["wall_s"], ex[f"V/{who}"]["wall_s"])
        s[f"{who}_rss_2V_over_V"] = ex[f"2V/{who}"]["peak_rss_mib"] / ex[f"V/{who}"]["peak_rss_mib"]

    print("\nRatios")
    for size in ("V", "2V"):
        print(f"  {size}: ours / floor wall = {s[f'{size}_ours_over_floor']:.2f} (paired {s[f'{size}_ours_over_floor_paired']:.2f})"
              f"  (target <= {WALL_OVER_FLOOR_MAX}: {verdict(s[f'{size}_ours_over_floor'] <= WALL_OVER_FLOOR_MAX)})"
              + (f";  cold memory (no target): {s[f'{size}_cold_ours_over_floor']:.2f}"
                 if f"{size}_cold_ours_over_floor" in s else ""))
        print(f"  {size}: original / ours wall = {s[f'{size}_speedup_vs_original']:.2f}x  (target >= {SPEEDUP_MIN}: "
              f"{verdict(s[f'{size}_speedup_vs_original'] >= SPEEDUP_MIN)}); cpu {s[f'{size}_cpu_ratio_original_over_ours']:.2f}x")
    for who in ("floor", "ours", "original"):
        print(f"  2V / V {who:>8}: wall {s[f'{who}_wall_2V_over_V']:.2f}, peak RSS {s[f'{who}_rss_2V_over_V']:.2f}")
    rss_ok = all(ex[f"{z}/ours"]["peak_rss_mib"] <= RSS_LIMIT_MIB for z in ("V", "2V"))
    print(f"  ours peak RSS: V {ex['V/ours']['peak_rss_mib']:.0f} MiB, 2V {ex['2V/ours']['peak_rss_mib']:.0f} MiB "
          f"(target <= {RSS_LIMIT_MIB:.0f}, flat: {verdict(rss_ok)})")

    base = ort["baseline/baseline"]
    print(f"\nONNX Runtime 1.30 (Node, CPU), fresh process per model, model files evicted from the page cache first, "
          f"V exports, [1, 512] lookup "
          f"(median of {base['reps']} processes x {ort['ours/fp32']['runs']} runs)")
    print(f"  baseline: a Node process that only loads onnxruntime-node peaks at {base['peak_rss_mib']:.0f} MiB")
    rows = []
    for tier in ("fp32", "fp16w", "int8"):
        for who in ("ours", "original"):
            o = ort[f"{who}/{tier}"]
            rows.append([tier, who, f"{o['session_ms']:.0f}", f"{o['lookup_first_ms']:.2f}",
                         f"{o['lookup_median_ms']:.3f}", f"{o['peak_rss_mib']:.0f}",
                         f"{o['peak_rss_mib'] - base['peak_rss_mib']:.0f}", f"{o.get('anon_after_session_mib', 0):.0f}",
                         f"{o.get('file_after_runs_mib', 0):.0f}"])
    print_table(["tier", "export", "session ms", "1st run ms", "lookup ms", "peak RSS MiB", "over baseline",
                 "anon after session", "mapped after runs"], rows)
    for tier in ("fp32", "fp16w", "int8"):
        s[f"ort_{tier}_rss_ours_over_original"] = ort[f"ours/{tier}"]["peak_rss_mib"] / ort[f"original/{tier}"]["peak_rss_mib"]
        s[f"ort_{tier}_session_ours_over_original"] = ort[f"ours/{tier}"]["session_ms"] / ort[f"original/{tier}"]["session_ms"]
    r = s["ort_fp16w_rss_ours_over_original"]
    print(f"  fp16w peak RSS ours / original = {r:.3f}  (target <= {ORT_FP16W_RSS_RATIO_MAX}: "
          f"{verdict(r <= ORT_FP16W_RSS_RATIO_MAX)}); session time ratio {s['ort_fp16w_session_ours_over_original']:.3f}")
    if "ours_warm/fp16w" in ort:
        w, o = ort["ours_warm/fp16w"], ort["original_warm/fp16w"]
        s["ort_fp16w_warm_rss_ours_over_original"] = w["peak_rss_mib"] / o["peak_rss_mib"]
        print(f"  fp16w loaded straight after export (files still cached as written), median of {w['reps']}: "
              f"ours {w['peak_rss_mib']:.0f} MiB / {w['session_ms']:.0f} ms, original {o['peak_rss_mib']:.0f} MiB / "
              f"{o['session_ms']:.0f} ms: RSS ratio {s['ort_fp16w_warm_rss_ours_over_original']:.3f} "
              f"({verdict(s['ort_fp16w_warm_rss_ours_over_original'] <= ORT_FP16W_RSS_RATIO_MAX)})")
    same = {r["tier"]: r["identical"] for r in records if r["phase"] == "same_output"}
    s["same_output"] = same
    print("  ours vs original, same 512 looked-up rows bit for bit: " +
          ", ".join(f"{t} {'yes' if v else 'NO'}" for t, v in same.items()))
    if not all(same.values()):
        failures.append("ours and the original give different outputs")
    return s, failures


def summarize_large(ex, ort):
    failures = []
    e, floor = ex["large/ours"], ex["large/floor"]
    print(f"\nLarge table: {e['rows']} x {e['cols']} bf16 ({e['rows'] * e['cols'] * 2 / 2**30:.2f} GiB in), "
          "all three tiers, one run; floor = best of head -c, dd bs=32k, dd bs=1M")
    print_table(["who", "wall s", "user s", "sys s", "peak RSS MiB", "GB written", "/floor"],
                [[w, f"{x['wall_s']:.2f}", f"{x['user_s']:.2f}", f"{x['sys_s']:.2f}", f"{x['peak_rss_mib']:.0f}",
                  f"{x['bytes_written'] / 1e9:.3f}", f"{ratio(x['wall_s'], floor['wall_s']):.2f}"]
                 for w, x in [(w, ex[f"large/{w}"]) for w in ("floor", "floor_head", "floor_dd32k", "floor_dd1m",
                                                                "ours") if f"large/{w}" in ex]])
    ok = e["peak_rss_mib"] < RSS_LIMIT_MIB
    print(f"  peak RSS {e['peak_rss_mib']:.0f} MiB < {RSS_LIMIT_MIB:.0f} MiB: {'yes' if ok else 'NO'}")
    if not ok:
        failures.append(f"large export peak RSS {e['peak_rss_mib']:.0f} MiB >= {RSS_LIMIT_MIB:.0f} MiB")
    print(f"\n  ONNX Runtime: session + lookup of ids incl. {e['rows'] - 1}, rows compared with the checkpoint")
    rows = []
    for tier in ("fp32", "fp16w", "int8"):
        o = ort[f"ours/{tier}"]
        chk = o["rows_check"]
        rows.append([tier, f"{o['session_ms']:.0f}", f"{o['lookup_median_ms']:.3f}", f"{o['peak_rss_mib']:.0f}",
                     f"{len(chk['ids'])} rows {'bit-exact' if chk['bit_exact'] else 'DIFFER'}"])
        if not chk["bit_exact"]:
            failures.append(f"large {tier}: rows differ")
    print_table(["tier", "session ms", "lookup ms", "peak RSS MiB", "check"], rows)
    return {"wall_over_floor": ratio(e["wall_s"], floor["wall_s"]), "peak_rss_mib": e["peak_rss_mib"]}, failures


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", required=True)
    p.add_argument("--machine", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--large", action="store_true")
    a = p.parse_args()
    records = [json.loads(l) for l in open(a.runs) if l.strip()]
    ex, ort = export_rows(records), ort_rows(records)
    machine = json.loads(a.machine)
    print(f"\nmachine: {machine['nproc']} x {machine['cpu']}, {machine['mem_gib']} GiB, "
          f"{machine['fs_type']} on {machine['fs_device']}, Linux {machine['kernel']}; source {machine.get('source')}")
    if a.large:
        summary, failures = summarize_large(ex, ort)
    else:
        summary, failures = summarize_granite(records, ex, ort)
    result = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "machine": machine,
              "export": ex, "ort": ort, "summary": summary, "failures": failures, "runs": records}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"\nraw numbers: {a.out}")
    for msg in failures:
        print(f"run_bench: FAILED: {msg}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())

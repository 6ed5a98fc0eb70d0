#!/usr/bin/env python3
"""Turns scripts/device_decode_pc_sampling.sh's output folder (per profile: <tag>_source.csv from
`ncu -i <tag>.ncu-rep --page source --csv --print-source sass`, env.txt) into one JSON document:
per profile the split kernel's SASS instructions with their warp-stall samples and executed
(warp) instructions, and four regions: the Q loop (kernel start to the first LDGSTS), the KV
waits (first LDGSTS to the main loop's barrier, which holds every iteration's cp.async wait),
the main loop, the epilogue (PREEXIT on: the warps' merge and the output pass), each with its
share of the samples and its executed instructions per warp.
Usage: pc_sampling_to_json.py DIR > out.json"""
import csv
import json
import os
import sys

# tag -> (shape, variant filter, splits, grid CTAs): the profiles the device script takes.
PROFILES = {
    "q8s32": ("batch=8,heads_q=32,heads_kv=8,q_per_seq=8,seq_kv=8191,head_dim=128", "bn64_st3_mt2_contig", 32, 2048),
    "q8s4": ("batch=8,heads_q=32,heads_kv=8,q_per_seq=8,seq_kv=8191,head_dim=128", "bn64_st3_mt2_contig", 4, 256),
    "q2s32": ("batch=4,heads_q=16,heads_kv=2,q_per_seq=2,seq_kv=24576,head_dim=128", "bn64_st3_mt1_contig", 32, 256),
    "q1s32": ("batch=8,heads_q=32,heads_kv=8,seq_kv=32768,head_dim=128", "bn64_st3_mt1_contig", 32, 2048),
    # 134 MB and 537 MB of KV on 128 CTAs (one per SM): the volume regime the model predicts
    # 11-13 % fast in the timed sweeps.
    "v134s4": ("batch=16,heads_q=16,heads_kv=2,q_per_seq=2,seq_kv=8192,head_dim=128", "bn64_st3_mt1_contig", 4, 128),
    "v537s2": ("batch=8,heads_q=32,heads_kv=8,q_per_seq=4,seq_kv=16381,head_dim=128", "bn64_st3_mt1_contig", 2, 128),
}
# Whole-kernel counters of the same profiled launch (its --page raw export), where present.
RAW_METRICS = ("gpu__time_duration.sum", "dram__bytes_read.sum", "dram__bytes_write.sum",
               "dram__throughput.avg.pct_of_peak_sustained_elapsed", "sm__cycles_elapsed.avg.per_second")
WARPS_PER_CTA = 4  # decode_splitkv_kernel: 128 threads


def profile(path, tag):
    rows = list(csv.reader(open(path)))
    kernel, hdr, data = rows[0][1], rows[1], rows[2:]
    ia, isrc = hdr.index("Address"), hdr.index("Source")
    iall, iex = hdr.index("Warp Stall Sampling (All Samples)"), hdr.index("Instructions Executed")
    base = int(data[0][ia], 16)
    ins = [(int(r[ia], 16) - base, r[isrc].strip(), int(r[iall] or 0), int(r[iex] or 0)) for r in data]
    first_ldgsts = min(o for o, s, _, _ in ins if s.startswith("LDGSTS"))
    first_hmma = min(o for o, s, _, _ in ins if "HMMA" in s)
    loop_start = max(o for o, s, _, _ in ins if s.startswith("BAR") and o < first_hmma)
    preexit = min(o for o, s, _, _ in ins if s.startswith("PREEXIT"))
    shape, variant, splits, ctas = PROFILES[tag]
    total = sum(x[2] for x in ins)
    regions = {}
    for name, lo, hi in (("q_loop", 0, first_ldgsts), ("kv_waits", first_ldgsts, loop_start),
                         ("main_loop", loop_start, preexit), ("epilogue", preexit, 1 << 40)):
        a = sum(x[2] for x in ins if lo <= x[0] < hi)
        n = sum(x[3] for x in ins if lo <= x[0] < hi)
        regions[name] = {"sample_share": a / total, "warp_instructions_executed": n,
                         "per_warp": n / (ctas * WARPS_PER_CTA), "first_offset": lo}
    counters = {}
    raw = path.replace("_source.csv", "_raw.csv")
    if os.path.exists(raw):
        rows = list(csv.reader(open(raw)))
        if len(rows) >= 3:
            for i, name in enumerate(rows[0]):
                if name in RAW_METRICS:
                    counters[name] = {"value": float(rows[2][i].replace(",", "")), "unit": rows[1][i]}
    return {"tag": tag, "kernel_function": kernel, "shape": shape, "variant": variant, "splits": splits,
            "grid_ctas": ctas, "samples": total, "counters": counters, "regions": regions,
            "instruction_fields": ["offset", "samples", "executed", "sass"],
            "instructions": [[o, a, e, s] for o, s, a, e in ins if a or e]}


def main():
    d = sys.argv[1]
    doc = {"schema": "tilesim.pc_sampling.v1",
           "tool": {"name": "ncu", "script": "scripts/device_decode_pc_sampling.sh",
                    "options": "--clock-control none --section SourceCounters --section WarpStateStats "
                               "--section SchedulerStats --section SpeedOfLight -c 1; --page source --csv --print-source sass"},
           "device": open(os.path.join(d, "env.txt")).read().strip(),
           "note": "decode_splitkv on training shapes only, one profiled launch of the split kernel each",
           "profiles": [profile(os.path.join(d, tag + "_source.csv"), tag) for tag in PROFILES
                        if os.path.exists(os.path.join(d, tag + "_source.csv"))]}
    json.dump(doc, sys.stdout, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Copy SemiAnalysis' single-CTA CUTLASS GEMM mainloop timings on B200 into the published set.

Source: SemiAnalysisAI/microbench-blackwell, cutlass_gemm_mainloop/results.csv (commit
9a068d8). Each row is one CUTLASS sm100 kernel (KernelTmaWarpSpecialized1SmSm100, cluster
1x1x1) compiled for one CTA tile and stage count, run on a problem of exactly one tile
(M = TILE_M, N = TILE_N) with K = 131072, so one SM streams both operands from DRAM: the
rows show how the ring depth hides load latency on one SM.

Rows taken (the rule was fixed before any prediction was looked at): TILE_K = 64 (a 128-byte
bf16 row, a 64-byte fp8 row), TILE_M in {64, 128}, TILE_N in {64, 128, 256}, an explicit
stage count (STAGES >= 2; 0 is CUTLASS's automatic count), both dtypes. The entries of this
source in the published file are replaced; everything else is kept.

usage: scripts/published_semianalysis_gemm.py results.csv [data/published/published_results.json]
"""
import csv
import json
import sys

SOURCE = "semianalysis-gemm-mainloop"
TILE_K = 64
TILE_M = (64, 128)
TILE_N = (64, 128, 256)
DTYPES = {"BF16": "bf16", "FP8_E4M3": "fp8"}


def entries(rows):
    out = []
    for r in rows:
        if r["M"].startswith("#"):
            continue  # the sweep's BUILD_FAILED lines
        m, n, k = int(r["M"]), int(r["N"]), int(r["K"])
        tm, tn, tk, stages = int(r["TILE_M"]), int(r["TILE_N"]), int(r["TILE_K"]), int(r["STAGES"])
        if tk != TILE_K or tm not in TILE_M or tn not in TILE_N or stages < 2:
            continue
        dtype = DTYPES[r["dtype"]]
        time_us = float(r["time_ms"]) * 1e3
        tflops = float(r["TFLOPS"])
        # Printed TFLOP/s and time agree under 2*M*N*K (checked here, not assumed).
        assert abs(2.0 * m * n * k / (time_us * 1e-6) / 1e12 - tflops) < 1e-3 * tflops, r
        out.append({
            "id": f"b200-cutlass1sm-{dtype}-{m}x{n}x{k}-s{stages}",
            "gpu": "b200",
            "impl": "cutlass-1sm",
            "model_schedule": "gemm_sm100",
            "problem": {"kind": "gemm", "m": m, "n": n, "k": k, "dtype": dtype},
            "time_us": round(time_us, 3),
            "tflops": tflops,
            "source": SOURCE,
            "where": f"results.csv row M,N,K,TILE_M,TILE_N,TILE_K,STAGES,dtype = "
                     f"{m},{n},{k},{tm},{tn},{tk},{stages},{r['dtype']}",
            "model_tile": {"block_m": tm, "block_n": tn, "block_k": tk, "stages": stages,
                           "cluster_m": 1, "cluster_n": 1, "raster": 1, "acc_stages": 1},
            "tile_source": "the benchmark's compile-time CTA tile and stage count (cutlass_gemm_bench.cu: "
                           "KernelTmaWarpSpecialized1SmSm100, ClusterShape 1x1x1; one tile, so one "
                           "accumulator buffer and no raster)",
        })
    return out


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path = sys.argv[2] if len(sys.argv) == 3 else "data/published/published_results.json"
    with open(sys.argv[1], newline="") as f:
        new = entries(csv.DictReader(f))
    with open(path) as f:
        doc = json.load(f)
    if SOURCE not in doc["sources"]:
        sys.exit(f"{path}: add the source '{SOURCE}' first (citation, timing)")
    doc["entries"] = [e for e in doc["entries"] if e.get("source") != SOURCE] + new
    with open(path, "w") as f:
        f.write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"{path}: {len(new)} entries from {SOURCE}")


if __name__ == "__main__":
    main()

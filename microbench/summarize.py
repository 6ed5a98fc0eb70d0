#!/usr/bin/env python3
"""Prints the measured-vs-peak table of one or more tilesim-microbench JSON outputs.

usage: summarize.py RUN.json [RUN2.json ...]

For each benchmark behind a profile field (README "Output contract") it prints the median
aggregate of the first file: the per-clock rate, the physical peak at the measured clock,
% of peak, the measured SM clock and any flags. With several files it also prints how far
the runs' medians are apart (the issue asks three full runs to agree within 2%).
Standard library only (runs on the GPU machine as is).
"""
import json
import sys

# (profile field, benchmark, counter, peak per clock per SM or None)
ROWS = [
    ("tensor_bf16_flop_per_clk_sm", "wgmma/bf16/ss/n256/throughput", "flop_per_clk_sm", 4096),
    ("tensor_fp16_flop_per_clk_sm", "wgmma/fp16/ss/n256/throughput", "flop_per_clk_sm", 4096),
    ("tensor_fp8_flop_per_clk_sm", "wgmma/e4m3/ss/n256/throughput", "flop_per_clk_sm", 8192),
    ("tensor_tf32_flop_per_clk_sm", "wgmma/tf32/ss/n256/throughput", "flop_per_clk_sm", 2048),
    ("(bf16 rs n256)", "wgmma/bf16/rs/n256/throughput", "flop_per_clk_sm", 4096),
    ("(bf16 ss n128)", "wgmma/bf16/ss/n128/throughput", "flop_per_clk_sm", 4096),
    ("(bf16 ss n64)", "wgmma/bf16/ss/n64/throughput", "flop_per_clk_sm", 4096),
    ("(bf16 rs n64)", "wgmma/bf16/rs/n64/throughput", "flop_per_clk_sm", 4096),
    ("mma_sync_bf16_flop_per_clk_sm", "mma_sync/bf16/throughput", "flop_per_clk_sm", 4096),
    ("(mma_sync fp8)", "mma_sync/e4m3/throughput", "flop_per_clk_sm", 8192),
    ("mufu_ex2_per_clk_sm", "alu/mufu_ex2/throughput", "ops_per_clk_sm", 16),
    ("(exp2 poly on FMA)", "alu/exp2_poly/throughput", "ops_per_clk_sm", None),
    ("fp32_fma_per_clk_sm", "alu/ffma/throughput", "ops_per_clk_sm", 128),
    ("(fmul)", "alu/fmul/throughput", "ops_per_clk_sm", 128),
    ("(fadd)", "alu/fadd/throughput", "ops_per_clk_sm", 128),
    ("(cvt f32->bf16x2)", "alu/cvt_bf16x2/throughput", "ops_per_clk_sm", None),
    ("smem_bytes_per_clk_sm", "smem/ld128/throughput", "bytes_per_clk_sm", 128),
    ("(smem ld32)", "smem/ld32/throughput", "bytes_per_clk_sm", 128),
    ("(smem ldmatrix.x4)", "smem/ldmatrix_x4/throughput", "bytes_per_clk_sm", 128),
    ("(smem st128)", "smem/st128/throughput", "bytes_per_clk_sm", 128),
    ("(smem ld32 2-way conflict)", "smem/ld32_lane_stride:2/throughput", "bytes_per_clk_sm", 128),
    ("(smem ld32 32-way conflict)", "smem/ld32_lane_stride:32/throughput", "bytes_per_clk_sm", 128),
    ("tma_bytes_per_clk_sm", "tma/tensor2d_g2s/src_l2/ctas_per_sm:1", "bytes_per_clk_sm", None),
    ("(tma 2D, 2 CTAs/SM)", "tma/tensor2d_g2s/src_l2/ctas_per_sm:2", "bytes_per_clk_sm", None),
    ("(tma 1-D bulk)", "tma/bulk_g2s/src_l2/ctas_per_sm:1", "bytes_per_clk_sm", None),
    ("(tma from HBM)", "tma/tensor2d_g2s/src_hbm/ctas_per_sm:1", "bytes_per_s", "datasheet"),
    ("l2_bytes_per_s", "l2/read/ws_mb:16", "bytes_per_s", None),
    ("(l2 40 MB)", "l2/read/ws_mb:40", "bytes_per_s", None),
    ("hbm_read_bytes_per_s", "hbm/read", "bytes_per_s", "datasheet"),
    ("hbm_copy_bytes_per_s", "hbm/copy", "bytes_per_s", "datasheet"),
    ("(hbm write)", "hbm/write", "bytes_per_s", "datasheet"),
    ("smem_latency_cycles", "smem/latency", "latency_cycles", None),
    ("l2_latency_cycles", "l2/latency/chase", "latency_cycles", None),
    ("(l2 near)", "l2/latency/near_far", "near_latency_cycles", None),
    ("(l2 far)", "l2/latency/near_far", "far_latency_cycles", None),
    ("(l2 far fraction)", "l2/latency/near_far", "far_fraction", None),
    ("(l2 repeat)", "l2/latency/near_far", "repeat_latency_cycles", None),
    ("hbm_latency_cycles", "hbm/latency", "latency_cycles", None),
    ("wgmma_latency_cycles", "wgmma/bf16/ss/n128/latency", "latency_cycles", None),
    ("(wgmma n256 latency)", "wgmma/bf16/ss/n256/latency", "latency_cycles", None),
    ("(fma latency)", "alu/ffma/latency", "latency_cycles", None),
    ("(mufu latency)", "alu/mufu_ex2/latency", "latency_cycles", None),
    ("launch_overhead_us", "launch/empty_kernel/back_to_back", "launch_overhead_us", None),
    ("(launch e2e us)", "launch/tiny_kernel/sync_e2e", "e2e_us", None),
]


def medians(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for b in doc.get("benchmarks", []):
        if b.get("aggregate_name") != "median":
            continue
        # (binaries before the reporter stripped it appended "/iterations:N/manual_time")
        name = b["run_name"].split("/iterations:")[0]
        out[name] = b
    return doc.get("context", {}), out


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1e9:
        return f"{v / 1e12:.3f}T"
    return f"{v:.4g}"


def main(paths):
    ctx, first = medians(paths[0])
    others = [medians(p)[1] for p in paths[1:]]
    datasheet = float(ctx.get("tilesim_hbm_datasheet_bytes_per_s", "0") or 0)
    print(f"device: {ctx.get('tilesim_gpu_name', '?')}  mode: {ctx.get('tilesim_mode', '?')}  "
          f"runs: {len(paths)}  run max SM clock: {ctx.get('tilesim_run_max_sm_clock_mhz', '?')} MHz")
    print(f"{'field':32s} {'benchmark':40s} {'measured':>10s} {'peak':>8s} {'%peak':>7s} "
          f"{'MHz':>6s} {'runs Δ%':>7s} flags")
    for field, bench, counter, peak in ROWS:
        b = first.get(bench)
        if b is None or counter not in b:
            continue
        v = b[counter]
        pk = datasheet if peak == "datasheet" else peak
        pct = f"{100 * v / pk:.1f}" if pk else "-"
        mhz = b.get("sm_clock_mhz")
        vals = [v] + [o[bench][counter] for o in others if bench in o and counter in o[bench]]
        delta = f"{100 * (max(vals) - min(vals)) / v:.2f}" if len(vals) > 1 and v else "-"
        print(f"{field:32s} {bench:40s} {fmt(v):>10s} {fmt(pk):>8s} {pct:>7s} "
              f"{(f'{mhz:.0f}' if mhz else '-'):>6s} {delta:>7s} {b.get('label', '')}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])

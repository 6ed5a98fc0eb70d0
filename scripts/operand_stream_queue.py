#!/usr/bin/env python3
"""Fits the closed-queue law of the GEMM operand stream to a tilesim-microbench run.

  scripts/operand_stream_queue.py data/measurements/microbench/2026-11-28_h100_operand_stream.json

Reads the `tma/operand_stream` rows without an A box: C CTAs, each with S stages of one
R-row box in flight. Law: each stage is a customer that thinks for z0 + z1 * R SM cycles (the
unloaded box latency) and queues at one server, the chip's streaming HBM rate (the run's
`hbm/read` bytes/s, at the row's measured SM clock); exact mean-value analysis over C * S
customers gives the stage time per CTA, floored at the bench loop's own minimum (the lowest
measured stage time). z0, z1 are fitted by grid search on the mean relative error; prints
them, the error and the points off by more than 10 %. Analysis only: the model does not use
this law (microbench/README.md, Findings, item 10).
"""
import json
import sys


def mva_throughput(customers, think, service):
    queue = 0.0
    thru = 0.0
    for n in range(1, customers + 1):
        resp = service * (1.0 + queue)
        thru = n / (think + resp)
        queue = thru * resp
    return thru


def stream_rows(run, origin):
    """The streaming HBM rate (B/s) and the B-only operand stream rows of a run."""
    med = [b for b in run.get("benchmarks", []) if b.get("aggregate_name") == "median"]
    read = [b for b in med if b["name"].startswith("hbm/read")]
    if not read:
        raise ValueError(f"{origin}: no hbm/read row (the streaming rate)")
    rows = [b for b in med if "operand_stream" in b["name"] and int(b["rows_a_box"]) == 0]
    if not rows:
        raise ValueError(f"{origin}: no tma/operand_stream rows")
    return read[0]["bytes_per_s"], rows


def stage_cycles(b):
    """Measured SM cycles per stage of one CTA."""
    return b["stage_bytes"] / b["bytes_per_clk_sm"]


def law(b, rate, z0, z1, floor):
    ctas, stages, box_rows = int(b["ctas"]), int(b["stages"]), int(b["rows_b"])
    service = box_rows * 128 / (rate / (b["sm_clock_mhz"] * 1e6))
    thru = mva_throughput(ctas * stages, z0 + z1 * box_rows, service)
    return max(ctas / thru, floor)


def fit(rate, rows):
    """(mean relative error, z0, z1, max relative error, floor) of the best grid point."""
    measured = [stage_cycles(b) for b in rows]
    floor = min(measured)
    best = None
    for z0 in range(800, 1801, 20):
        for z1 in [x / 10 for x in range(0, 41)]:
            err = [abs(law(b, rate, z0, z1, floor) - m) / m for b, m in zip(rows, measured)]
            mean = sum(err) / len(err)
            if best is None or mean < best[0]:
                best = (mean, z0, z1, max(err), floor)
    return best


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    with open(argv[1]) as f:
        run = json.load(f)
    try:
        rate, rows = stream_rows(run, argv[1])
    except ValueError as e:
        sys.exit(str(e))
    mean, z0, z1, worst, floor = fit(rate, rows)
    print(f"{run['context'].get('tilesim_gpu_name')}: {len(rows)} points, streaming rate {rate / 1e12:.2f} TB/s, "
          f"floor {floor:.0f} cycles/stage")
    print(f"unloaded box latency {z0} + {z1} x rows cycles: mean error {100 * mean:.1f} %, max {100 * worst:.1f} %")
    for b in rows:
        m, p = stage_cycles(b), law(b, rate, z0, z1, floor)
        if abs(p - m) / m > 0.10:
            print(f"  ctas {int(b['ctas']):3d} stages {int(b['stages'])} rows {int(b['rows_b']):3d}: "
                  f"measured {m:.0f}, law {p:.0f} cycles/stage")


if __name__ == "__main__":
    main(sys.argv)

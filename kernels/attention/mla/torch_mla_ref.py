#!/usr/bin/env python3
"""Vendor reference for MLA decode: torch SDPA on the absorbed form.

Runs on the GPU machine and writes tilesim.measurement.v1 JSON (family "mla", impl
"torch_sdpa_<backend>"): q [batch, heads, 1, 576], K = the latent cache [batch, 1, seq, 576],
V = its first 512 columns, the one KV head expanded to the query heads (enable_gqa where
the backend takes it, else a stride-0 expand). Contiguous KV (torch has no paged SDPA).
torch picks the backend (flash does not take head dim 576); the one that ran is recorded.
gbps counts the latent bytes once (batch * seq * 576 * 2), as tilesim-mla-bench does.
Shapes whose expanded K/V would exceed MAX_EXPANDED_BYTES are skipped with that reason.
Each run is checked against a float32 SDPA (math backend) when that fits in memory.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from torch_ref import MIN_REPS, arg_parser, clocks, copy_run, device_report, rel_err, timed_fields  # noqa: E402

D_QK, D_V = 576, 512
SCALE = 1.0 / math.sqrt(192.0)  # DeepSeek's softmax scale (as tilesim-mla-bench's default)
TOLERANCE = 1e-2
FLUSH_BYTES = 256 << 20
COPY_BYTES = 2 << 30
MAX_EXPANDED_BYTES = 8 << 30     # bf16 K + V if a backend materialises the expanded heads
MAX_REF_BYTES = 6 << 30          # fp32 expanded K + V of the math-backend reference
# (batch, heads, seq_kv): the sweep's shapes at 4k and 16k tokens that fit the limits above.
SHAPES = [(b, h, kv) for kv in (4096, 16384) for b in (1, 4, 16) for h in (16, 32, 64, 128)]
BACKENDS = [("default", None), ("efficient", SDPBackend.EFFICIENT_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]



def main():
    args = arg_parser(__doc__.splitlines()[0]).parse_args()
    if args.reps < MIN_REPS:
        sys.exit(f"--reps must be >= {MIN_REPS}")
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: torch_mla_ref.py must run on the GPU machine")
    torch.manual_seed(1234)
    flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    doc = {"schema": "tilesim.measurement.v1", "family": "mla",
           "tool": {"name": "torch_mla_ref.py", "args": " ".join(sys.argv[1:])}, "device": device_report(),
           "runs": []}
    copy = copy_run(COPY_BYTES, args.reps, flush)
    doc["runs"].append(copy)
    copy_gbps = copy["gbps"]
    print(f"torch D2D copy (read+write): {copy_gbps:.0f} GB/s", flush=True)

    table = []
    for b, h, skv in SHAPES:
        name = f"b{b}_hq{h}_q1_kv{skv}"
        problem = {"kind": "mla", "batch": b, "heads_q": h, "heads_kv": 1, "q_per_seq": 1, "seq_kv": skv,
                   "head_dim": D_QK, "head_dim_v": D_V, "page_size": 0, "dtype": "bf16"}
        kv_bytes = b * skv * D_QK * 2
        expanded = b * h * skv * (D_QK + D_V) * 2
        if expanded > MAX_EXPANDED_BYTES:
            table.append((name, "-", None, None, None, f"skipped: expanded K/V {expanded / 2**30:.1f} GiB"))
            continue
        q = (torch.rand(b, h, 1, D_QK, device="cuda") * 2 - 1).to(torch.bfloat16)
        latent = (torch.rand(b, 1, skv, D_QK, device="cuda") * 2 - 1).to(torch.bfloat16)
        k, v = latent, latent[..., :D_V]
        ref = None
        if 2 * expanded <= MAX_REF_BYTES:
            with sdpa_kernel(SDPBackend.MATH):
                ref = F.scaled_dot_product_attention(q.float(), k.float().expand(b, h, skv, D_QK),
                                                     v.float().expand(b, h, skv, D_V), scale=SCALE)
        for impl, backend in BACKENDS:
            rec = {"impl": f"torch_sdpa_{impl}", "schedule": None, "tile": {}, "problem": problem,
                   "shape_name": name, "kv_bytes": kv_bytes, "softmax_scale": SCALE}
            errors, done = [], False
            for mode in ("enable_gqa", "expand"):
                if mode == "enable_gqa":
                    kk, vv, gqa = k, v, True
                else:
                    kk, vv, gqa = k.expand(b, h, skv, D_QK), v.expand(b, h, skv, D_V), False

                def fn(kk=kk, vv=vv, gqa=gqa):
                    if backend is None:
                        return F.scaled_dot_product_attention(q, kk, vv, scale=SCALE, enable_gqa=gqa)
                    with sdpa_kernel(backend):
                        return F.scaled_dot_product_attention(q, kk, vv, scale=SCALE, enable_gqa=gqa)
                try:
                    out = fn()
                    torch.cuda.synchronize()
                except (RuntimeError, torch.OutOfMemoryError) as e:
                    errors.append(f"{mode}: {str(e).splitlines()[0][:200]}")
                    torch.cuda.empty_cache()
                    continue
                rec["gqa"] = mode
                if ref is not None:
                    err = rel_err(out, ref)
                    rec["check"] = {"rel_err": err if math.isfinite(err) else "nan", "tolerance": TOLERANCE,
                                    "passed": math.isfinite(err) and err <= TOLERANCE,
                                    "reference": "torch_sdpa_math_fp32"}
                else:  # no "passed": validate reads a present "passed" as a boolean
                    rec["check"] = {"skipped": "fp32 reference too large"}
                rec.update(timed_fields(fn, args.reps, flush, kv_bytes))
                done = True
                del out
                break
            if not done:
                rec["error"] = errors
            doc["runs"].append(rec)
            table.append((name, impl, rec.get("gqa"), rec.get("median_ms"), rec.get("gbps"),
                          None if done else "; ".join(errors)[:120]))
        del q, latent, k, v, ref
        torch.cuda.empty_cache()

    doc["clocks_after"] = clocks()
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"\n{'shape':24s} {'impl':10s} {'gqa':10s} {'us':>9s} {'GB/s':>7s} {'%copy':>6s}")
    for name, impl, gqa, med, gbps, msg in table:
        if med is None:
            print(f"{name:24s} {impl:10s} {msg}")
        else:
            print(f"{name:24s} {impl:10s} {gqa:10s} {med * 1e3:9.1f} {gbps:7.0f} {100 * gbps / copy_gbps:6.1f}")


if __name__ == "__main__":
    main()

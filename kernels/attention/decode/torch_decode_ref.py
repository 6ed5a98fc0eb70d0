#!/usr/bin/env python3
"""Vendor reference for decode attention: torch SDPA with the cuDNN and flash backends.

Runs on the GPU machine, on the same decode shapes as tilesim-decode-bench --sweep (contiguous
KV, layout [batch, heads, seq, head_dim], bf16), and writes tilesim.measurement.v1 JSON with
impl "cudnn" / "torch_flash" (plus a torch device-to-device copy as the bandwidth ceiling).

Notes on semantics:
  * q length > 1 (speculative decoding) is run with is_causal=False: torch's is_causal aligns
    the mask top-left when q_len != kv_len, which is not decode semantics. tilesim masks the
    draft tokens bottom-right (at most q_len - 1 of >= 8k rows differ), so times compare.
  * GQA: enable_gqa=True where the backend accepts it; otherwise K/V are expanded to heads_q
    (recorded as "gqa": "expanded"; that backend then reads heads_q/heads_kv times the bytes).
  * gbps always counts the unique K+V bytes once (batch * heads_kv * seq_kv * head_dim * 2 * 2).
Each run is checked against a float32 SDPA (math backend) on the same inputs.
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

# Same shapes as the C++ sweep (name, batch, heads_q, heads_kv, q_len, seq_kv, head_dim).
SHAPES = [
    ("b16_hq32_hkv32_kv8192", 16, 32, 32, 1, 8192, 128),
    ("b8_hq32_hkv8_kv32768_gqa", 8, 32, 8, 1, 32768, 128),
    ("b64_hq32_hkv8_kv4096", 64, 32, 8, 1, 4096, 128),
    ("b8_hq32_hkv8_q4_kv16381_spec", 8, 32, 8, 4, 16381, 128),
    ("b8_hq32_hkv8_q2_kv16381_spec", 8, 32, 8, 2, 16381, 128),
    ("b8_hq32_hkv8_q8_kv8191_spec", 8, 32, 8, 8, 8191, 128),
    ("b16_hq32_hkv32_kv8192_d64", 16, 32, 32, 1, 8192, 64),
]
BACKENDS = [("cudnn", SDPBackend.CUDNN_ATTENTION), ("torch_flash", SDPBackend.FLASH_ATTENTION)]
TOLERANCE = 1e-2  # bf16 output, as in the C++ runner
FLUSH_BYTES = 256 << 20  # > 4x the H200's 60 MB L2
COPY_BYTES = 2 << 30



def main():
    args = arg_parser(__doc__.splitlines()[0]).parse_args()
    if args.reps < MIN_REPS:
        sys.exit(f"--reps must be >= {MIN_REPS}")
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: torch_decode_ref.py must run on the GPU machine")
    torch.manual_seed(1234)
    flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    doc = {"schema": "tilesim.measurement.v1", "family": "decode",
           "tool": {"name": "torch_decode_ref.py", "args": " ".join(sys.argv[1:])},
           "device": device_report(), "runs": []}

    copy = copy_run(COPY_BYTES, args.reps, flush)
    doc["runs"].append(copy)
    copy_gbps = copy["gbps"]
    print(f"torch D2D copy (read+write): {copy_gbps:.0f} GB/s", flush=True)

    table = []
    for name, b, hq, hkv, lq, skv, d in SHAPES:
        q = (torch.rand(b, hq, lq, d, device="cuda") * 4 - 2).to(torch.bfloat16)
        k = (torch.rand(b, hkv, skv, d, device="cuda") * 2 - 1).to(torch.bfloat16)
        v = (torch.rand(b, hkv, skv, d, device="cuda") * 2 - 1).to(torch.bfloat16)
        with sdpa_kernel(SDPBackend.MATH):
            ref = F.scaled_dot_product_attention(q.float(), k.float(), v.float(),
                                                 enable_gqa=hq != hkv)
        kv_bytes = 2 * b * hkv * skv * d * 2
        problem = {"kind": "decode", "batch": b, "heads_q": hq, "heads_kv": hkv, "q_per_seq": lq,
                   "seq_kv": skv, "head_dim": d, "page_size": 0, "dtype": "bf16"}
        for impl, backend in BACKENDS:
            rec = {"impl": impl, "schedule": None, "tile": {}, "problem": problem,
                   "shape_name": name, "kv_bytes": kv_bytes, "causal": False}
            modes = [("enable_gqa", k, v)] if hq != hkv else [("none", k, v)]
            if hq != hkv:
                modes.append(("expanded", None, None))
            err_msgs = []
            done = False
            for mode, kk, vv in modes:
                if mode == "expanded":
                    kk = k.repeat_interleave(hq // hkv, dim=1)
                    vv = v.repeat_interleave(hq // hkv, dim=1)
                gqa = mode == "enable_gqa"

                def fn(kk=kk, vv=vv, gqa=gqa):
                    with sdpa_kernel(backend):
                        return F.scaled_dot_product_attention(q, kk, vv, enable_gqa=gqa)
                try:
                    out = fn()
                    torch.cuda.synchronize()
                except RuntimeError as e:  # backend refuses this shape / option
                    err_msgs.append(f"{mode}: {str(e).splitlines()[0][:300]}")
                    continue
                err = rel_err(out, ref)
                passed = math.isfinite(err) and err <= TOLERANCE
                rec["gqa"] = mode
                rec["check"] = {"rel_err": err if math.isfinite(err) else "nan",
                                "tolerance": TOLERANCE, "passed": passed,
                                "reference": "torch_sdpa_math_fp32"}
                rec.update(timed_fields(fn, args.reps, flush, kv_bytes))
                done = True
                del out
                break
            if not done:
                rec["error"] = err_msgs
            doc["runs"].append(rec)
            table.append((name, impl, rec.get("gqa", "-"), rec.get("median_ms"), rec.get("gbps"),
                          rec.get("check", {}).get("rel_err"), err_msgs if not done else None))
        del q, k, v, ref
        torch.cuda.empty_cache()

    doc["clocks_after"] = clocks()
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"\n{'shape':30s} {'impl':12s} {'gqa':10s} {'us':>9s} {'GB/s':>7s} {'%copy':>6s} err")
    for name, impl, gqa, med, gbps, err, emsg in table:
        if med is None:
            print(f"{name:30s} {impl:12s} unsupported: {emsg}")
            continue
        print(f"{name:30s} {impl:12s} {gqa:10s} {med * 1e3:9.1f} {gbps:7.0f} "
              f"{100 * gbps / copy_gbps:6.1f} {err}")


if __name__ == "__main__":
    main()

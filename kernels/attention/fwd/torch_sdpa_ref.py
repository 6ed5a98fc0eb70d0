#!/usr/bin/env python3
"""Vendor reference for the forward-attention runner: times torch SDPA with the cuDNN
backend and the flash (FA2) backend on the runner's sweep shapes, in the same device call,
and writes JSON in the tilesim.measurement.v1 schema (impl "cudnn" / "torch_flash").

Timing: CUDA events around each call; the same interleaved protocol as the runner's
--sweep (--passes round-robin passes, warm-up and a clock reading per pass); median of
--reps samples; same input distribution (bf16, uniform in [-2, 2), layout [B, H, S, D]).
Check: each backend's output against a float32 math-SDPA reference on a slice of the
batch (rel. Frobenius error), so a silently wrong backend does not pass.
GQA (heads_kv < heads_q) uses SDPA's enable_gqa; a backend that refuses it gets K/V
expanded to heads_q heads (recorded as "gqa": "expanded": more K/V bytes than a GQA kernel).
Usage: python3 torch_sdpa_ref.py --out FILE [--reps 30] [--warmup 5] [--passes 3]
                                 [--shapes-file F]  (F's "attention" list, e.g. the held-out one)
"""
import json
import os
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from torch_ref import MIN_REPS, arg_parser, clocks, device_report  # noqa: E402

SHAPES = [  # (batch, heads_q, heads_kv, seq_q, seq_kv, head_dim, causal): the runner's --sweep shapes
    (4, 16, 16, 4096, 4096, 128, False),
    (1, 16, 16, 16384, 16384, 128, False),
    (4, 16, 16, 4096, 4096, 64, False),
    (2, 16, 16, 8192, 8192, 128, True),
]
BACKENDS = [("cudnn", SDPBackend.CUDNN_ATTENTION), ("torch_flash", SDPBackend.FLASH_ATTENTION)]
AMPLITUDE = 2.0
TOLERANCE = 1e-2



def flops(b, h, sq, skv, d, causal):
    f = 4.0 * b * h * sq * skv * d
    return f / 2 if causal else f


def shapes_from_file(path):
    with open(path) as f:
        doc = json.load(f)
    out = []
    for e in doc["attention"]:
        hq = e["heads_q"]
        out.append((e["batch"], hq, e.get("heads_kv", hq), e["seq_q"], e.get("seq_kv", e["seq_q"]), e["head_dim"],
                    bool(e.get("causal", False))))
    return out


def sdpa(q, k, v, causal, gqa):
    if gqa == "native":
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True)
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def rel_err(x, ref):
    x = x.float()
    if not torch.isfinite(x).all():
        return float("inf")
    return (torch.linalg.vector_norm(x - ref) / torch.linalg.vector_norm(ref)).item()


def main():
    ap = arg_parser(__doc__.splitlines()[0])
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--shapes-file", default=None)
    a = ap.parse_args()
    shapes = shapes_from_file(a.shapes_file) if a.shapes_file else SHAPES
    if a.reps < MIN_REPS or a.passes < 1:
        sys.exit(f"--reps must be >= {MIN_REPS} and --passes >= 1")
    torch.manual_seed(0)
    doc = {"schema": "tilesim.measurement.v1", "family": "attention",
           "tool": {"name": "torch_sdpa_ref.py", "args": " ".join(sys.argv[1:])},
           "device": device_report(), "runs": []}
    for (b, h, hkv, s, skv, d, causal) in shapes:
        q = (torch.rand(b, h, s, d, device="cuda", dtype=torch.float32) * 2 - 1).mul_(AMPLITUDE).to(torch.bfloat16)
        k, v = [(torch.rand(b, hkv, skv, d, device="cuda", dtype=torch.float32) * 2 - 1).mul_(AMPLITUDE)
                .to(torch.bfloat16) for _ in range(2)]
        # float32 reference on one (batch, head) slice: enough to catch a wrong backend.
        with sdpa_kernel(SDPBackend.MATH):
            ref = F.scaled_dot_product_attention(q[:1, :1].float(), k[:1, :1].float(), v[:1, :1].float(),
                                                 is_causal=causal)
        problem = {"kind": "attention", "batch": b, "heads_q": h, "heads_kv": hkv, "seq_q": s, "seq_kv": skv,
                   "head_dim": d, "head_dim_v": d, "causal": causal, "dtype": "bf16"}
        # Same protocol as tilesim-attn-bench --sweep: per shape the backends are timed
        # round-robin in --passes passes of reps/passes samples (warm-up each pass, an
        # nvidia-smi clock reading before each pass), so both sides see the same thermal mix.
        per_pass = (a.reps + a.passes - 1) // a.passes
        runs = {}
        for impl, backend in BACKENDS:
            run = {"impl": impl, "schedule": None, "tile": {}, "problem": problem,
                   "samples_ms": [], "clocks_per_pass": []}
            gqa = "none" if hkv == h else "native"
            kk, vv = k, v
            try:
                with sdpa_kernel(backend):
                    try:
                        out = sdpa(q, kk, vv, causal, gqa)
                    except RuntimeError:
                        if gqa != "native":
                            raise
                        gqa = "expanded"
                        kk, vv = k.repeat_interleave(h // hkv, 1), v.repeat_interleave(h // hkv, 1)
                        out = sdpa(q, kk, vv, causal, gqa)
                err = rel_err(out[:1, :1], ref)
                run["gqa"] = gqa
                run["_args"] = (kk, vv, gqa)
                del out
                run["check"] = {"rel_err": err, "tolerance": TOLERANCE, "passed": err <= TOLERANCE,
                                "reference": "torch_math_fp32_slice"}
            except RuntimeError as e:  # backend refused the shape: recorded, not hidden
                run["error"] = str(e)[:500]
                print("%-12s B%d H%d S%d D%d: error %s" % (impl, b, h, s, d, str(e)[:200]), flush=True)
            runs[impl] = (run, backend)
        for _ in range(a.passes):
            for impl, (run, backend) in runs.items():
                if "error" in run:
                    continue
                kk, vv, gqa = run["_args"]
                with sdpa_kernel(backend):
                    call = lambda: sdpa(q, kk, vv, causal, gqa)
                    run["clocks_per_pass"].append(clocks()["raw"])
                    for _ in range(a.warmup):
                        call()
                    torch.cuda.synchronize()
                    for _ in range(per_pass):
                        st, en = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        st.record()
                        call()
                        en.record()
                        en.synchronize()
                        run["samples_ms"].append(st.elapsed_time(en))
        for impl, (run, backend) in runs.items():
            run.pop("_args", None)
            if "error" not in run:
                samples = run["samples_ms"]
                med = statistics.median(samples)
                run.update({"median_ms": med, "min_ms": min(samples),
                            "tflops": flops(b, h, s, skv, d, causal) / (med * 1e-3) / 1e12})
                print("%-12s B%d H%d/%d S%d/%d D%d%s  %.4f ms  %.1f TFLOP/s  rel_err %.2e  gqa %s" %
                      (impl, b, h, hkv, s, skv, d, " causal" if causal else "", med, run["tflops"],
                       run["check"]["rel_err"], run["gqa"]), flush=True)
            doc["runs"].append(run)
        del q, k, v, ref, runs
    doc["timing"] = {"warmup_per_pass": a.warmup, "passes": a.passes,
                     "repetitions_per_pass": (a.reps + a.passes - 1) // a.passes,
                     "order": "per shape: backends round-robin, pass after pass", "l2_flush": False}
    doc["clocks_after"] = clocks()
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()

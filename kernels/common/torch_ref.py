"""Shared pieces of the torch reference scripts (kernels/attention/*/torch_*_ref.py): the
command line they start from, the device and clock record of a measurement file, event timing with an L2 flush per sample,
the median, the relative error against a float32 reference, and the device-to-device copy
that gives each run its bandwidth ceiling. GPU machine only (imports torch)."""
import argparse
import datetime
import subprocess

import torch

WARMUP = 5  # launches before the timed samples
MIN_REPS = 20  # timed samples per run: fewer make a noisy median (the runners' minimum too)


def arg_parser(description=None, reps=30):
    """The arguments every reference script takes: --out (the measurement JSON, required)
    and --reps (timed samples per run, default `reps`; the script checks it against
    MIN_REPS). Each script adds its own flags to the parser returned."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--out", required=True, help="JSON output path")
    ap.add_argument("--reps", type=int, default=reps, help=f"timed samples per run (>= {MIN_REPS})")
    return ap


def smi(fields):
    """One nvidia-smi query of GPU 0 ('' when nvidia-smi is missing or fails)."""
    try:
        return subprocess.run(["nvidia-smi", "-i", "0", f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clocks():
    q = "clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu"
    return {"query": q, "raw": smi(q), "time_utc": now()}


def device_report():
    p = torch.cuda.get_device_properties(0)
    return {"name": p.name, "compute_capability": f"{p.major}.{p.minor}", "sm_count": p.multi_processor_count,
            "l2_bytes": getattr(p, "L2_cache_size", None), "global_mem_bytes": p.total_memory,
            "driver_version": smi("driver_version"), "nvidia_smi_name": smi("name"), "torch": torch.__version__,
            "torch_cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(), "clocks": clocks(),
            "date_utc": now()}


def time_ms(fn, reps, flush):
    """CUDA-event times (ms) of `reps` calls of fn after WARMUP calls; `flush` (a large
    tensor) is zeroed before each sample so no operand stays in L2."""
    for _ in range(WARMUP):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(reps):
        flush.zero_()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        samples.append(start.elapsed_time(stop))
    return samples


def timed_fields(fn, reps, flush, bytes_counted):
    """time_ms's samples of fn as a run's fields: samples, median, minimum (ms) and the GB/s
    that bytes_counted gives at the median."""
    samples = time_ms(fn, reps, flush)
    med = median(samples)
    return {"samples_ms": samples, "median_ms": med, "min_ms": min(samples),
            "gbps": bytes_counted / (med * 1e-3) / 1e9}


def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def rel_err(out, ref):
    """||out - ref|| / ||ref|| in float32; NaN when out has a non-finite value."""
    out = out.float()
    if not torch.isfinite(out).all():
        return float("nan")
    return (torch.linalg.vector_norm(out - ref) / torch.linalg.vector_norm(ref)).item()


def copy_run(copy_bytes, reps, flush):
    """The device-to-device copy of copy_bytes, as a measurement run; gbps counts bytes
    read + written."""
    src = torch.empty(copy_bytes, dtype=torch.uint8, device="cuda").fill_(60)
    dst = torch.empty_like(src)
    return {"impl": "torch_copy_d2d", "schedule": None, "tile": {},
            "problem": {"kind": "copy", "bytes_copied": copy_bytes, "bytes_counted": 2 * copy_bytes},
            **timed_fields(lambda: dst.copy_(src), reps, flush, 2 * copy_bytes),
            "note": "gbps counts bytes read + bytes written"}

#!/usr/bin/env python3
"""Instruction counts of the compiled kernels' main loops, read from their SASS: the counts
the model's per-warp chains and issue-slot uses take (model/src/schedules/attn_fa3.cpp,
attn_fa2.cpp, gemm_sm80_mma.cpp, gemm_sm90_ws.cpp, decode.cpp) and
tests/model/test_sass_counts.cpp checks against.

For each FA3, FA2, mma.sync GEMM, wgmma GEMM (its consumers' K-step loop) and split-KV
decode kernel of a runner binary: the main
loop is the innermost loop (a backward branch and its target) that holds tensor
instructions (HGMMA / HMMA); its instructions are counted by opcode. The loop body also holds the causal/boundary mask path,
which only the diagonal and last KV blocks run: FSEL and the ISETP around them are counted
apart ("mask") and left out of "unmasked", the count one ordinary iteration executes
(ncu's executed-instruction counts on the held-out runs agree within 2-8 %).

Each kernel also carries the registers per thread ptxas allocated (cuobjdump -res-usage),
which the model's register estimate is checked against.

Usage: sass_counts.py RUNNER_BINARY... > counts.json   (cuobjdump and nvdisasm on PATH:
CUDA toolkit, or the nvidia-cuda-cuobjdump / nvidia-cuda-nvdisasm wheels)."""
import collections
import datetime
import json
import re
import subprocess
import sys

CONFIG = {
    "fa3": re.compile(r"Fa3ConfigILi(\d+)ELi(\d+)ELi(\d+)ELi(\d)ELi(\d)ELi(\d+)ELi(\d+)ELi(\d)E"),
    "fa2": re.compile(r"Fa2ConfigILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)EEELi(\d+)ELi(\d+)E"),
    "sm80": re.compile(r"MmaConfigILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)E"),
    "decode": re.compile(r"decode_splitkv_kernelILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELb(\d)ELb(\d)E"),
    "ws": re.compile(r"WsConfigILi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)ELi(\d+)E"),
}


# A main loop's softmax issues an exp2 (MUFU, or FADDs of the polynomial) and a row-sum FADD
# per score element: >= 32 per thread for any tile (16 elements at block_n 32).
kMinSoftmaxOps = 32


def tile_of(kind, m):
    g = [int(x) for x in m.groups()]
    if kind == "fa3":
        return "attn_fa3", {"head_dim": g[0], "block_n": g[1], "stages": g[2], "pingpong": g[3], "intra_overlap": g[4],
                            "exp_emu_fraction": g[5] / 100.0, "rescale_threshold": g[6], "persistent": g[7]}
    if kind == "fa2":
        return "attn_fa2", {"head_dim": g[0], "block_m": g[1], "block_n": g[2], "stages": g[3]}
    if kind == "ws":  # the bf16 warp-specialized wgmma GEMM; its consumers' K-step loop is counted
        return "gemm_sm90_ws", {"block_m": g[0], "block_n": g[1], "block_k": g[2], "stages": g[3], "consumers": g[4],
                                "cluster_m": g[5], "cluster_n": g[6], "raster": g[7]}
    if kind == "decode":  # head dim, block_n, stages, m tiles (16 rows each), paged, L2 prefetch
        return "decode_splitkv", {"head_dim": g[0], "block_n": g[1], "stages": g[2], "m_tiles": g[3], "paged": g[4],
                                  "l2_prefetch": g[5]}
    return "gemm_sm80_mma", {"block_m": g[0], "block_n": g[1], "block_k": g[2], "stages": g[3], "warps_m": g[4],
                             "warps_n": g[5]}


def opcode(text):
    t = re.sub(r"^@!?U?P[T0-9]+\s+", "", text)
    return t.split()[0].split(".")[0]


def main_loop(body, softmax):
    ins = []
    for line in body.split("\n"):
        m = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?);", line)
        if m:
            ins.append((int(m.group(1), 16), m.group(2).strip()))
    best = None
    for addr, text in ins:
        b = re.search(r"\bBRA\b.*?(0x[0-9a-f]+)", text)
        if not b or int(b.group(1), 16) > addr:
            continue
        loop = [t for a, t in ins if int(b.group(1), 16) <= a <= addr]
        ops = collections.Counter(opcode(t) for t in loop)
        # The innermost loop with tensor instructions (outer loops over tiles contain it)
        # and, for attention, the softmax's exp2 (the first and last KV blocks, peeled off
        # the main loop, sit in loops with few of them).
        is_main = (ops["HGMMA"] or ops["HMMA"]) and (not softmax or ops["MUFU"] + ops["FADD"] >= kMinSoftmaxOps)
        if is_main and (best is None or len(loop) < sum(best.values())):
            best = ops
    return best


def registers_per_thread(binary):
    """Registers per thread ptxas allocated to each kernel (cuobjdump -res-usage: REG)."""
    res = subprocess.run(["cuobjdump", "-res-usage", binary], capture_output=True, text=True, check=True).stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"Function (\S+):\s*\n\s*REG:(\d+)", res)}


def main():
    out = {"schema": "tilesim.sass_counts.v1", "date": datetime.date.today().isoformat(), "kernels": []}
    for binary in sys.argv[1:]:
        regs = registers_per_thread(binary)
        sass = subprocess.run(["cuobjdump", "-sass", binary], capture_output=True, text=True, check=True).stdout
        for func in re.split(r"\n\s*Function : ", sass)[1:]:
            name = func.split("\n", 1)[0].strip()
            for kind, rx in CONFIG.items():
                m = rx.search(name)
                if not m:
                    continue
                ops = main_loop(func, softmax=kind not in ("sm80", "decode", "ws"))
                if ops is None:
                    continue
                schedule, tile = tile_of(kind, m)
                total = sum(ops.values())
                # The mask path: one FSEL per masked element and up to two ISETP per FSEL
                # (row and column bounds); six ISETP belong to the loop's own control.
                mask = ops["FSEL"] + min(max(0, ops["ISETP"] - 6), 2 * ops["FSEL"]) if ops["FSEL"] > 8 else 0
                out["kernels"].append({"schedule": schedule, "config": tile, "function": name[:160],
                                       "registers": regs.get(name),
                                       "total": total, "mask": mask, "unmasked": total - mask,
                                       "tensor_instructions": ops["HGMMA"] + ops["HMMA"],
                                       "mufu": ops["MUFU"], "opcodes": dict(ops.most_common())})
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

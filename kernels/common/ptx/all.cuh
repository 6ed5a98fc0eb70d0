// Every PTX wrapper tilesim's kernels and microbenchmarks use, by topic:
//   smem.cuh      shared-window addresses, ldmatrix
//   mbarrier.cuh  mbarrier init / arrive / expect_tx / wait, cluster-remote arrive
//   tma.cuh       TMA tensor loads (2-D, multicast, 3-D) and stores, bulk copy and groups,
//                 bulk L2 prefetch (with an optional evict_last cache policy)
//   cp_async.cuh  cp.async 16-byte copies and groups (sm_80 rings)
//   mma_sync.cuh  mma.sync m16n8k16 and bf16x2 packing
//   wgmma.cuh     wgmma fence / commit / wait, operand fences, smem descriptors, and the
//                 generated mma_async wrappers (wgmma_ops.cuh, gen_wgmma_ops.py)
//   sync.cuh      async-proxy fence, named barriers, clusters, setmaxnreg, griddepcontrol, global timer
//   pipeline.cuh  ring position (slot index + phase bit) of producer/consumer rings
#pragma once

#include "clock_span.cuh"
#include "cp_async.cuh"
#include "dtype.cuh"
#include "mbarrier.cuh"
#include "mma_sync.cuh"
#include "pipeline.cuh"
#include "smem.cuh"
#include "sync.cuh"
#include "tma.cuh"
#include "wgmma.cuh"

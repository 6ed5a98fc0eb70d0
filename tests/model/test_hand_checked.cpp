// Per-unit cycles per iteration computed on paper, asserted exactly.
#include <gtest/gtest.h>

#include <algorithm>

#include "helpers.hpp"

namespace tilesim::model {
namespace {
using test::op_named;
using test::parse_problem;
using test::unit;
using test::use_work;

const char* kGemm8k = R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"bf16"})";

TEST(HandChecked, GemmSm90WsOnH100) {
  const Profile p = profiles::resolve_profile("h100");
  const Prediction pr = predict(p, parse_problem(kGemm8k), "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=2,cluster_n=1"));
  // Each consumer warpgroup owns 64 rows: wgmma FLOP per K step = 2*64*256*64 = 2,097,152;
  // at 4096 FLOP/clk/SM that is 512 cycles; two consumers -> 1024 cycles on the tensor pipe.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kTensor).cycles_per_iter, 1024.0);
  // SMEM read per consumer: A 64x64 + B 256x64 bf16 = (64+256)*64*2 = 40,960 B; /128 B/clk =
  // 320 cycles; B is read by both consumers -> 640 cycles.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kSmem).cycles_per_iter, 640.0);
  // TMA per CTA: A 128x64x2 = 16,384 B (cluster_n = 1: no A multicast) + B 256x64x2 / 2 (B
  // multicast across cluster_m = 2) = 16,384 B -> 32,768 B through L2.
  EXPECT_DOUBLE_EQ(use_work(op_named(pr.desc.loop, "load_ab"), Unit::kL2), 32768.0);
  // Tiles: (8192/128) x (8192/256) = 64 x 32 = 2048; K steps 8192/64 = 128.
  EXPECT_EQ(pr.work_items, 2048);
  EXPECT_EQ(pr.desc.grid.classes.at(0).iterations, 128);
  // SMEM per CTA: 4 stages x (16,384 + 32,768) + epilogue subtile 128x64x2 = 212,992 B;
  // 233,472 / (212,992 + 1,024 reserved) = 1 CTA per SM, limited by SMEM.
  EXPECT_DOUBLE_EQ(pr.desc.cta.smem_bytes, 212992.0);
  EXPECT_EQ(pr.ctas_per_sm, 1);
  EXPECT_EQ(pr.occupancy_limit, "smem");
  // 2048 tiles on 132 SMs.
  EXPECT_DOUBLE_EQ(pr.waves, 2048.0 / 132.0);
  EXPECT_EQ(pr.bottleneck, "tensor");
  // Useful FLOP 2*8192^3 over the predicted time.
  EXPECT_NEAR(pr.tflops, 2.0 * 8192.0 * 8192.0 * 8192.0 / (pr.time_us * 1e-6) / 1e12, 1e-9);
}

// TMA rows off 128-byte lines: K = 4104 bf16 puts row r of A and B at 16 r mod 128 bytes
// into a line. Per 8 rows (offsets 0, 16, ..., 112) the requests are 1, 3, 2, 4, 2, 4, 2, 3
// (a partly covered sector is a request of its own; a line's full sectors share one) = 21,
// and the sectors 4, 5, 4, 5, 4, 5, 4, 5 = 36. On a line (K = 4096): 1 request, 4 sectors.
TEST(HandChecked, TmaRequestsOfRowsOffTheLine) {
  const Profile p = profiles::resolve_profile("h100");
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=64,stages=6,consumers=2,cluster_m=1,cluster_n=1");
  auto tma_seconds = [&](int k) {
    const std::string prob = R"({"kind":"gemm","m":4096,"n":4096,"k":)" + std::to_string(k) + R"(,"dtype":"bf16"})";
    const Prediction pr = predict(p, parse_problem(prob.c_str()), "gemm_sm90_ws", t);
    return use_work(op_named(pr.desc.loop, "load_ab"), Unit::kTma) / (p.model_clock_mhz() * 1e6);
  };
  const double req_s = p.chip.l2_tma_requests.value, sect_s = p.chip.l2_tma_sectors.value;
  const double rows = 128 + 128;  // A and B rows of one K step (no multicast)
  EXPECT_NEAR(tma_seconds(4096), rows * 1.0 / req_s + rows * 4.0 / sect_s, 1e-15);
  EXPECT_NEAR(tma_seconds(4104), rows * 21.0 / 8.0 / req_s + rows * 36.0 / 8.0 / sect_s, 1e-15);
  // The misaligned stride makes the same tile slower: the chip-wide TMA bound now binds.
  const Prediction off = predict(p, parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4104,"dtype":"bf16"})"),
                                 "gemm_sm90_ws", t);
  EXPECT_EQ(off.bottleneck, "tma");
}

// A profile without TMA rates (B200: not measured) gets no TMA use, not a zero-rate one.
TEST(HandChecked, NoTmaUseWithoutMeasuredRates) {
  const Profile p = profiles::resolve_profile("b200");
  ASSERT_FALSE(p.chip.l2_tma_requests.present);
  const Prediction pr = predict(p, parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4104,"dtype":"bf16"})"),
                                "gemm_sm100", parse_tile("block_m=128,block_n=256,block_k=64,stages=4,cluster_m=1,cluster_n=1,acc_stages=2"));
  EXPECT_EQ(use_work(op_named(pr.desc.loop, "load_ab"), Unit::kTma), 0.0);
}

// Block-scaled fp8: the promotion out of the fp8 tensor core's accumulator is CUDA-core
// work the model must count (one FFMA per accumulator per 128-wide K group).
TEST(HandChecked, GemmSm90Fp8PromotionOnH100) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"fp8"})");
  const Tile t = parse_tile("block_m=128,block_n=128,block_k=128,stages=5,consumers=2,cluster_m=1,cluster_n=1");
  const Prediction pr = predict(p, prob, "gemm_sm90_fp8", t);
  // wgmma FLOP per K group and consumer: 2*64*128*128 = 2,097,152; two consumers at
  // 8192 FLOP/clk/SM (fp8) -> 512 cycles on the tensor pipe.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kTensor).cycles_per_iter, 512.0);
  // Promotion per consumer and group: 64x128 accumulators -> 8192 FFMA, plus 4 combined
  // scales per m64 block per thread: 4 x 1 x 128 = 512 FMUL. Two consumers at 128 FMA
  // ops/clk/SM: 2 x 8704 / 128 = 136 cycles.
  EXPECT_DOUBLE_EQ(use_work(op_named(pr.desc.loop, "promote.wg0"), Unit::kFma), 8704.0);
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kFma).cycles_per_iter, 136.0);
  // The promotion's own warp chain: (8192 + 512) / 128 = 68 FFMA/FMUL + 4 scale loads
  // (2 LDS + 2 LDG) per thread, one FMA-pipe warp instruction per cycle per sub-partition.
  EXPECT_DOUBLE_EQ(op_named(pr.desc.loop, "promote.wg0").chain_cycles, 72.0);
  // TMA per stage: A 128x128 + B 128x128 e4m3 + 128 fp32 row scales of A = 33,280 B.
  EXPECT_DOUBLE_EQ(use_work(op_named(pr.desc.loop, "load_ab_sfa"), Unit::kL2), 33280.0);
  EXPECT_EQ(pr.desc.grid.classes.at(0).iterations, 64);  // 8192 / 128 K groups
  // The bf16 schedule with the same tile has no promotion at all: no FMA-pipe work in its
  // loop (the fp8 schedule's FMA cycles are the promotion's).
  const Prediction bf = predict(p, parse_problem(kGemm8k), "gemm_sm90_ws",
                                parse_tile("block_m=128,block_n=128,block_k=64,stages=5,consumers=2,cluster_m=1,cluster_n=1"));
  EXPECT_DOUBLE_EQ(unit(bf, Unit::kFma).cycles_per_iter, 0.0);
}

// mma_order adds the turn-taking edges between the consumers' wgmma issue.
TEST(HandChecked, GemmSm90Fp8MmaOrderEdges) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096,"dtype":"fp8"})");
  const auto edges = [&](int order) {
    const Prediction pr = predict(p, prob, "gemm_sm90_fp8",
                                  parse_tile("block_m=128,block_n=192,block_k=128,stages=4,consumers=2,cluster_m=1,"
                                             "cluster_n=1,mma_order=" + std::to_string(order)));
    int n = 0;
    for (const auto& o : pr.desc.loop)
      for (const auto& d : o.deps) n += d.barrier == "mma turn";
    return n;
  };
  EXPECT_EQ(edges(0), 0);
  EXPECT_EQ(edges(1), 2);  // wg1 after wg0 (same group), wg0 after wg1 (previous group)
  EXPECT_EQ(edges(2), 2);  // the same turns, handed on when the first K half is done
}

// gemm_sm90_ws on the H100, 256 x 128 tiles, two consumers of 128 x 128: per 64-wide K step
// each consumer issues 2 x 4 wgmma m64n128k16 (2*128*128*64 FLOP = 512 tensor cycles alone).
// Both consumers' wgmmas interleave on the one tensor pipe, so a consumer's results (and the
// stage release) come the pipe's drain plus the other consumer's 512 cycles after its own
// execution; one consumer waits the drain alone. The drain is the profile's dependent-chain
// latency (200.1 cycles of wgmma m64n256k16) less that instruction's execution (2*64*256*16
// FLOP / 4096 per clock = 128 cycles). Each m64 instruction reads its 64 A rows and all of
// B from SMEM: A 128x64 + B 128x64 twice, x 2 B = 49152 B per consumer and K step.
TEST(HandChecked, GemmSm90WsConsumersShareTheTensorPipe) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096,"dtype":"bf16"})");
  const auto mma = [&](int block_m, int consumers) {
    const Prediction pr = predict(p, prob, "gemm_sm90_ws",
                                  parse_tile("block_m=" + std::to_string(block_m) +
                                             ",block_n=128,block_k=64,stages=4,cluster_m=1,cluster_n=1,consumers=" +
                                             std::to_string(consumers)));
    return op_named(pr.desc.loop, "mma.wg0");
  };
  const Op two = mma(256, 2);
  EXPECT_DOUBLE_EQ(use_work(two, Unit::kTensor), 2.0 * 128 * 128 * 64);
  const double drain = p.latency.tensor_mma.value - 2.0 * 64 * 256 * 16 / p.per_sm.tensor_bf16.value;
  EXPECT_NEAR(drain, 72.1, 0.1);
  EXPECT_DOUBLE_EQ(two.latency_cycles, drain + 512.0);
  EXPECT_DOUBLE_EQ(use_work(two, Unit::kSmem), (128.0 * 64 + 2.0 * 128 * 64) * 2.0);
  // 128 x 128 with one consumer of all 128 rows: nobody shares its pipe; it reads B twice too.
  const Op one = mma(128, 1);
  EXPECT_DOUBLE_EQ(one.latency_cycles, drain);
  EXPECT_DOUBLE_EQ(use_work(one, Unit::kSmem), (128.0 * 64 + 2.0 * 128 * 64) * 2.0);
  // 128 x 128 with two consumers of 64 rows: B once each.
  EXPECT_DOUBLE_EQ(use_work(mma(128, 2), Unit::kSmem), (64.0 * 64 + 128.0 * 64) * 2.0);
}

// promote_overlap: a group's wgmmas wait for the promotion two groups back (the other
// accumulator set is free), not the previous one.
TEST(HandChecked, GemmSm90Fp8PromoteOverlapDistance) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096,"dtype":"fp8"})");
  const auto distance = [&](int overlap) {
    const Prediction pr = predict(p, prob, "gemm_sm90_fp8",
                                  parse_tile("block_m=128,block_n=128,block_k=128,stages=5,consumers=2,cluster_m=1,"
                                             "cluster_n=1,promote_overlap=" + std::to_string(overlap)));
    const Op& mma = op_named(pr.desc.loop, "mma.wg0");
    for (const auto& d : mma.deps)
      if (pr.desc.loop[static_cast<size_t>(d.op)].name == "promote.wg0") return d.distance;
    return -1;
  };
  EXPECT_EQ(distance(0), 1);
  EXPECT_EQ(distance(1), 2);
}

// With turns (mma_order) a consumer's next K group waits for the other consumers'
// promotions too: the turn makes each wait for the other, whose promotion runs slowly beside
// the wgmmas. That makes the 128x192 loop slower with turns than without, as the H200 stage
// trace measured (1148-1158 against 1042-1062 cycles per K step); the turn edges alone had
// it faster. Without turns the consumers' promotions are symmetric and the model's cycle
// bound needs no cross edge.
TEST(HandChecked, GemmSm90Fp8TurnsWaitForEveryPromotion) {
  const Profile p = profiles::resolve_profile("h200");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":8192,"n":8192,"k":8192,"dtype":"fp8"})");
  const auto predict_order = [&](int order) {
    return predict(p, prob, "gemm_sm90_fp8",
                   parse_tile("block_m=128,block_n=192,block_k=128,stages=4,consumers=2,cluster_m=2,cluster_n=1,"
                              "mma_order=" + std::to_string(order)));
  };
  // Consumer 0's first wgmma op of a group ("mma.wg0", or its first K half with mma_order 2)
  // and its edge from consumer 1's promotion (-1: none).
  const auto cross_distance = [](const Prediction& pr, const char* first_mma) {
    const Op& mma = op_named(pr.desc.loop, first_mma);
    for (const auto& d : mma.deps)
      if (pr.desc.loop[static_cast<size_t>(d.op)].name == "promote.wg1") return d.distance;
    return -1;
  };
  const Prediction plain = predict_order(0), turns = predict_order(2);
  EXPECT_EQ(cross_distance(plain, "mma.wg0"), -1);
  EXPECT_EQ(cross_distance(turns, "mma.wg0.h0"), 1);
  EXPECT_GT(turns.iteration_cycles, plain.iteration_cycles);
}

// The fp8 consumer's K-group loop takes the bf16 kernel's SASS-counted issue slots around its
// wgmmas: 128 x 128 tile, two consumers of 64 rows, block_k 128 (4 wgmma m64n128k32 per group):
// 35.7 + 11.4 x 4 + 3.7 x 2 = 88.7 instructions per thread; with mma_order 2 the group is two
// halves of 2 wgmmas, each carrying half of it.
TEST(HandChecked, GemmSm90Fp8WgmmaLoopIssueSlots) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"gemm","m":4096,"n":4096,"k":4096,"dtype":"fp8"})");
  const std::string tile = "block_m=128,block_n=128,block_k=128,stages=5,consumers=2,cluster_m=1,cluster_n=1";
  const Prediction whole = predict(p, prob, "gemm_sm90_fp8", parse_tile(tile));
  EXPECT_NEAR(use_work(op_named(whole.desc.loop, "mma.wg0"), Unit::kIssue), 88.7 * 128, 1e-9);
  const Prediction halves = predict(p, prob, "gemm_sm90_fp8", parse_tile(tile + ",mma_order=2"));
  EXPECT_NEAR(use_work(op_named(halves.desc.loop, "mma.wg1.h1"), Unit::kIssue), 88.7 * 128 / 2, 1e-9);
}

TEST(HandChecked, Fa3SoftmaxUnitsOnH100) {
  // The instruction-stream estimate: the H100 without its measured op costs.
  Profile p = profiles::resolve_profile("h100");
  p.ops.clear();
  const Problem prob = parse_problem(
      R"({"kind":"attention","batch":4,"heads_q":16,"heads_kv":16,"seq_q":8192,"seq_kv":8192,"head_dim":128,"causal":false})");
  const Prediction pr = predict(p, prob, "attn_fa3",
                                parse_tile("block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1"));
  // Per warpgroup (64 rows): S = 2*64*128*128 = 2,097,152 FLOP = 512 cycles, PV the same;
  // 2 warpgroups x 2 GEMMs x 512 = 2048 tensor cycles per KV block.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kTensor).cycles_per_iter, 2048.0);
  // Each of the 64 rows is held by a quad of 4 threads, which all do its row work: 256
  // row-threads per warpgroup. MUFU: 64x128 ex2 + 256 row corrections = 8448 / 16 per clk
  // = 528; x2 = 1056.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kMufu).cycles_per_iter, 1056.0);
  // FMA per warpgroup: softmax 64x128x(1 scale + 1 sum) + 256 x 4 row ops = 17,408, O
  // rescale 64x128 = 8192 in the share of iterations whose warp's 16 row maxima grow: 64
  // KV blocks of random scores, mean over i = 2..64 of 1 - (1 - 1/i)^16 = 0.474134 ->
  // (17,408 + 3884.1) / 128 per clk = 166.3 cycles; x2.
  const double share = 0.4741343731804753;
  EXPECT_NEAR(unit(pr, Unit::kFma).cycles_per_iter, 2.0 * (17408.0 + 8192.0 * share) / 128.0, 1e-6);
  // ALU: 64x128 FMNMX + 256 x 6 (shuffles, max, tests) = 9728 / 64 per clk = 152; x2 = 304.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kAlu).cycles_per_iter, 304.0);
  // The consumer warp's own stream per iteration (SASS counts, attn_fa3.cpp): softmax
  // per thread = (8192 x 4.5 + 256 x 11) / 128 = 310 instructions, of them 66 MUFU; loop
  // part 77 + 9.25 x (128/16 + 128/16) + 14 x 2 = 253. Chain = (310 - 66 + 253) x cpi +
  // 66 x 8 cycles (a warp's MUFU on a quarter of 16 ex2/clk).
  const Op* sm = nullptr;
  for (const auto& op : pr.desc.loop)
    if (op.name == "softmax.wg0") sm = &op;
  ASSERT_NE(sm, nullptr);
  EXPECT_NEAR(sm->chain_cycles, 497.0 * default_constants().consumer_cycles_per_instruction + 66.0 * 8.0, 1e-9);
  // O's rescale: 64 FMUL per thread in the share of iterations that rescale.
  const Op* rs = nullptr;
  for (const auto& op : pr.desc.loop)
    if (op.name == "rescale.wg0") rs = &op;
  ASSERT_NE(rs, nullptr);
  EXPECT_NEAR(rs->chain_cycles, 64.0 * share * default_constants().consumer_cycles_per_instruction, 1e-6);
  // CVT: 64x128 / 2 per packed convert = 4096 per warpgroup, x2 = 8192 converts over the
  // profile's rate (measured on the H100: 63.7 F2FP per clk per SM -> 128.5 cycles).
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kCvt).cycles_per_iter, 8192.0 / p.per_sm.cvt_bf16x2.value);
  // SMEM: per warpgroup S reads Q 64x128 + K 128x128 (bf16) = 49,152 B, PV reads V 128x128
  // = 32,768 B -> 81,920 B / 128 = 640 cycles; x2 = 1280.
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kSmem).cycles_per_iter, 1280.0);
  // Work items: 8192/128 = 64 q-blocks x 4 batches x 16 heads = 4096; 64 KV blocks each.
  EXPECT_EQ(pr.work_items, 4096);
  EXPECT_EQ(pr.desc.grid.classes.at(0).iterations, 64);
}

TEST(HandChecked, Fa4ExpEmulationMovesWorkFromMufuToFma) {
  const Profile p = profiles::resolve_profile("b200");
  const Problem prob = parse_problem(
      R"({"kind":"attention","batch":2,"heads_q":16,"heads_kv":16,"seq_q":4096,"seq_kv":4096,"head_dim":128,"causal":false})");
  const auto t0 = parse_tile("block_m=128,block_n=128,stages=2,q_tiles=2,exp_emu_fraction=0");
  const auto t5 = parse_tile("block_m=128,block_n=128,stages=2,q_tiles=2,exp_emu_fraction=0.5");
  const Prediction a = predict(p, prob, "attn_fa4", t0), b = predict(p, prob, "attn_fa4", t5);
  // Per Q tile: 128x128 = 16,384 exp2. f = 0: MUFU 16,384 + 128 rows = 16,512 / 16 = 1032
  // cycles per tile, 2064 for two. f = 0.5: 8192 + 128 = 8320 / 16 = 520 per tile, 1040.
  EXPECT_DOUBLE_EQ(unit(a, Unit::kMufu).cycles_per_iter, 2064.0);
  EXPECT_DOUBLE_EQ(unit(b, Unit::kMufu).cycles_per_iter, 1040.0);
  // FMA per tile (one thread per row after tcgen05.ld): 16,384 x (2 + f x 6) + 128 x 4 + O
  // rescale 128x128 (threshold 0): f = 0: 32,768 + 512 + 16,384 = 49,664 / 128 = 388 -> 776;
  // f = 0.5: +49,152 -> 772 -> 1544.
  EXPECT_DOUBLE_EQ(unit(a, Unit::kFma).cycles_per_iter, 776.0);
  EXPECT_DOUBLE_EQ(unit(b, Unit::kFma).cycles_per_iter, 1544.0);
  // tcgen05 per tile: S 2*128*128*128 + PV 2*128*128*128 = 8,388,608 FLOP / 8192 = 1024;
  // two tiles = 2048 cycles. Emulating half the exp2 takes MUFU (2064) off the top of the
  // units, but each softmax thread issues its row's work itself, in B200's packed forms
  // (fma/add.f32x2, three-input max): per iteration 128 x (half a 3-input FMNMX + half an
  // FFMA2 + half an FADD2 + half an F2FP) = 256, 10 row instructions, 4 tcgen05.ld of S +
  // 2 tcgen05.st of P and 40 fixed = 312 instructions at the Hopper-fitted cost, plus 129
  // MUFU x 8 cycles. f = 0.5 swaps 64 MUFU for 64 x 5 polynomial instructions (3 packed
  // FMA-pipe + 2 ALU). The other Q tile's softmax warp on the same sub-partition issues its
  // exp2 in the same period (no S0/S1 barrier): each MUFU instruction waits half of one of
  // its instructions with the probability that it keeps the MUFU busy over the tile's cycle
  // (softmax alone + S and PV: 512 cycles of execution and 136 of latency each).
  const double cpi = default_constants().consumer_cycles_per_instruction;
  EXPECT_DOUBLE_EQ(unit(a, Unit::kTensor).cycles_per_iter, 2048.0);
  auto chain = [&](double other, double mufu) {
    const double alone = other * cpi + mufu * 8.0;
    const double busy = std::min(1.0, mufu * 8.0 / (alone + 2.0 * (512.0 + 136.0)));
    return alone + mufu * busy * 0.5 * 8.0;
  };
  EXPECT_NEAR(op_named(a.desc.loop, "softmax.q0").chain_cycles, chain(312.0, 129.0), 1e-9);
  EXPECT_NEAR(op_named(b.desc.loop, "softmax.q0").chain_cycles, chain(312.0 + 320.0, 65.0), 1e-9);
  // Halving the MUFU instructions also halves what the other tile's warp queues behind:
  // unlike the ping-ponged FA3 kernels on Hopper (4-21 % slower with emulation), FA4 gains,
  // the FlashAttention-4 paper's reason to emulate part of the exp2.
  EXPECT_LT(b.time_us, a.time_us);
}

// The FA4 paper's per-tile accounting on B200 (Table 1 of arXiv 2603.05451, "feeds and
// speeds" of one 128-row Q tile against a 128-row KV block at head dim 128: MMA 4MNd / 8192
// = 1024 cycles, exp2 MN / 16 = 1024, SMEM 3MNd / 8192 = 768: Q and K for S, V for PV, P
// from TMEM). The model's ops carry the same numbers; its MUFU adds the 128 per-row
// corrections exp2(m_old - m_new) the paper's count leaves out.
TEST(HandChecked, Fa4PerTileAccountingIsThePapers) {
  const Profile p = profiles::resolve_profile("b200");
  const Problem prob = parse_problem(
      R"({"kind":"attention","batch":4,"heads_q":16,"heads_kv":16,"seq_q":8192,"seq_kv":8192,"head_dim":128,"causal":false})");
  const Prediction a = predict(p, prob, "attn_fa4",
                               parse_tile("block_m=128,block_n=128,stages=3,q_tiles=1,exp_emu_fraction=0,cluster_m=1"));
  const Op& s = op_named(a.desc.loop, "s.q0");
  const Op& pv = op_named(a.desc.loop, "pv.q0");
  const Op& sm = op_named(a.desc.loop, "softmax.q0");
  auto cycles = [](const Op& op, Unit u) {
    double c = 0.0;
    for (const auto& x : op.uses)
      if (x.unit == u) c += x.work / x.rate_per_clk;
    return c;
  };
  EXPECT_DOUBLE_EQ(cycles(s, Unit::kTensor) + cycles(pv, Unit::kTensor), 1024.0);
  EXPECT_DOUBLE_EQ(cycles(s, Unit::kSmem) + cycles(pv, Unit::kSmem), 768.0);
  EXPECT_DOUBLE_EQ(cycles(sm, Unit::kMufu), 1024.0 + 128.0 / 16.0);
}

TEST(HandChecked, MlaPaddingWastesTensorCoresOnH20) {
  const Profile p = profiles::resolve_profile("h20");
  const Problem prob = parse_problem(R"({"kind":"mla","batch":64,"heads_q":16,"seq_kv":4096})");
  const Prediction m = predict(p, prob, "mla_decode", parse_tile("block_n=64,splits=1,stages=2,kv_on_m=0"));
  const Prediction t = predict(p, prob, "mla_decode", parse_tile("block_n=64,splits=1,stages=2,kv_on_m=1"));
  // Heads on M: 16 query rows padded to wgmma M = 64: QK 2*64*64*576 + PV 2*64*512*64 =
  // 4,718,592 + 4,194,304 = 8,912,896 FLOP per KV block.
  EXPECT_DOUBLE_EQ(use_work(op_named(m.desc.loop, "qk"), Unit::kTensor) + use_work(op_named(m.desc.loop, "pv"), Unit::kTensor),
                   8912896.0);
  // KV on M: N = 16 rows (multiple of 8): 2*64*16*576 + 2*512*16*64 = 1,179,648 + 1,048,576
  // = 2,228,224 FLOP: exactly 4x less tensor work.
  EXPECT_DOUBLE_EQ(use_work(op_named(t.desc.loop, "qk"), Unit::kTensor) + use_work(op_named(t.desc.loop, "pv"), Unit::kTensor),
                   2228224.0);
  // The whole kernel reads the latent KV once: 64 x 4096 x 576 x 2 B.
  EXPECT_GE(m.bytes_hbm, 64.0 * 4096 * 576 * 2);
}

TEST(HandChecked, DecodeIsHbmBoundAndReadsKvOnce) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(R"({"kind":"decode","batch":16,"heads_q":32,"heads_kv":32,"seq_kv":8192,"head_dim":128})");
  const Prediction pr = predict(p, prob, "decode_splitkv", parse_tile("block_n=64,splits=4,stages=3"));
  // KV bytes: 16 x 32 x 8192 x (128 + 128) x 2 B = 2,147,483,648.
  const double kv = 16.0 * 32 * 8192 * 256 * 2;
  // Beside them, the dirty lines of the runners' memset flush, all written back (2 GB moved):
  // l2_flush_dirty_share of the 50 MiB L2.
  EXPECT_NEAR(pr.l2_writeback_bytes, default_constants().l2_flush_dirty_share * 52428800.0, 1.0);
  EXPECT_GE(pr.bytes_hbm - pr.l2_writeback_bytes, kv);
  EXPECT_LE(pr.bytes_hbm - pr.l2_writeback_bytes, kv * 1.01);
  EXPECT_EQ(pr.bottleneck, "hbm");
  // Time at least the KV bytes at 3.35 TB/s x hbm_efficiency.
  EXPECT_GE(pr.time_us, kv / (3.35e12 * default_constants().hbm_efficiency) * 1e6);
  // One row per kv head (MHA, q = 1) padded to mma.sync M = 16: QK per KV block
  // 2*16*64*128 = 262,144 FLOP, PV the same = 524,288 FLOP over the profile's mma.sync rate
  // (measured on the H100: 2729 FLOP/clk/SM -> 192.1 cycles).
  EXPECT_DOUBLE_EQ(unit(pr, Unit::kTensor).cycles_per_iter, 524288.0 / p.per_sm.mma_sync_bf16.value);
}

TEST(HandChecked, WavesAndTail) {
  const Profile p = profiles::resolve_profile("h100");
  // 128x256 tiles: M=128*132, N=256 -> 132 tiles: one full wave.
  const Tile t = parse_tile("block_m=128,block_n=256,block_k=64,stages=4,consumers=2,cluster_m=1,cluster_n=1");
  Problem prob = parse_problem(R"({"kind":"gemm","m":16896,"n":256,"k":4096})");
  const Prediction one = predict(p, prob, "gemm_sm90_ws", t);
  EXPECT_DOUBLE_EQ(one.waves, 1.0);
  EXPECT_NEAR(one.tail_efficiency, 1.0, 1e-12);
  // 133 tiles: the 133rd tile runs alone in a second wave: busy 133 of 2 x 132 slot-waves.
  prob.m = 128 * 133;
  const Prediction two = predict(p, prob, "gemm_sm90_ws", t);
  EXPECT_NEAR(two.tail_efficiency, 133.0 / 264.0, 1e-3);
  EXPECT_GT(two.makespan_cycles, 1.5 * one.makespan_cycles);
}

TEST(HandChecked, DependencyBoundOfASmallLoop) {
  // a: 100 tensor cycles, latency 10; b: 50 MUFU cycles. b waits for a (done) in the same
  // iteration, a waits for b (done) of the previous one: (100 + 10 + 50) / 1 = 160.
  std::vector<Op> loop(2);
  loop[0].name = "a";
  loop[0].uses = {Use{Unit::kTensor, 409600.0, 4096.0, ""}};
  loop[0].latency_cycles = 10;
  loop[1].name = "b";
  loop[1].uses = {Use{Unit::kMufu, 800.0, 16.0, ""}};
  loop[1].deps = {Dep{0, 0, DepKind::kDone, ""}};
  loop[0].deps = {Dep{1, 1, DepKind::kDone, ""}};
  std::string binding;
  EXPECT_DOUBLE_EQ(loop_dependency_bound(loop, 1.0, &binding), 160.0);
  EXPECT_NE(binding.find("a"), std::string::npos);
  // Two iterations apart (double buffering): 160 / 2 = 80.
  loop[0].deps[0].distance = 2;
  EXPECT_DOUBLE_EQ(loop_dependency_bound(loop, 1.0), 80.0);
  // "after" drops a's latency: (100 + 50) / 2 = 75; "issue" drops a's occupancy too: 50 / 2.
  loop[1].deps[0].kind = DepKind::kAfter;
  EXPECT_DOUBLE_EQ(loop_dependency_bound(loop, 1.0), 75.0);
  loop[1].deps[0].kind = DepKind::kIssue;
  EXPECT_DOUBLE_EQ(loop_dependency_bound(loop, 1.0), 25.0);
}

// A persistent FA3 grid strides over the launch order (fa3_kernel.cuh: CTA c takes Q blocks
// c, c + grid, ...; each head's blocks longest first when causal), it does not hand blocks to
// the CTA that frees first. 132 heads of 512 causal tokens: 4 Q blocks per head (1..4 KV
// blocks), 528 blocks on 132 CTAs; 132 is a multiple of 4, so CTA c runs the same block,
// number 3 - c % 4, four times: the CTAs with the 4-block rows end the grid while those with
// 1-block rows idle. Work on the busy CTAs: 4+3+2+1 = 10 of 4 x 4 = 16 block-units, about
// 62 % of the grid's slot-time plus the per-item parts; the plain grid (the hardware hands
// CTAs to free SMs) balances.
TEST(HandChecked, PersistentCausalFa3StridesOverTheLaunchOrder) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = parse_problem(
      R"({"kind":"attention","batch":1,"heads_q":132,"heads_kv":132,"seq_q":512,"seq_kv":512,"head_dim":128,"causal":true})");
  const std::string tile = "block_m=128,block_n=128,stages=2,consumers=2,pingpong=1,intra_overlap=1,persistent=";
  const Prediction strided = predict(p, prob, "attn_fa3", parse_tile(tile + "1"));
  ASSERT_EQ(strided.desc.grid.scheduler, Scheduler::kStaticStride);
  const auto& classes = strided.desc.grid.classes;
  ASSERT_EQ(classes.size(), 4u);
  EXPECT_EQ(classes[0].iterations, 1);  // ascending m: Q block 0 sees one KV block
  EXPECT_EQ(classes[3].iterations, 4);
  EXPECT_EQ(strided.desc.grid.launch_pattern, (std::vector<int>{3, 2, 1, 0}));  // longest first
  EXPECT_LT(strided.tail_efficiency, 0.8);
  EXPECT_GT(strided.tail_efficiency, 0.6);
  const Prediction plain = predict(p, prob, "attn_fa3", parse_tile(tile + "0"));
  EXPECT_EQ(plain.desc.grid.scheduler, Scheduler::kPlain);
  EXPECT_GT(plain.tail_efficiency, 0.95);
  EXPECT_GT(strided.time_us, plain.time_us);
}

}  // namespace
}  // namespace tilesim::model

namespace tilesim::model {
// FA2 at block_m 64 runs two CTAs of four warps per SM: mma.sync executes on the issuing
// warp's sub-partition and reads its fragments through the SM's shared memory, so each GEMM
// phase also waits for the other CTA's on the busier of those units. qk = 2*64*64*128 FLOP /
// the profile's mma.sync bf16 rate (2729 FLOP/clk/SM, measured on the H100) = 384 cycles,
// its shared-memory reads 81920 B / 128 B/clk = 640: its latency grows by 640. At block_m 128
// (one CTA per SM) nothing is added.
TEST(HandChecked, Fa2CoResidentCtasShareTheTensorUnitsAndSharedMemory) {
  const Profile p = profiles::resolve_profile("h100");
  const Problem prob = test::parse_problem(
      R"({"kind":"attention","batch":4,"heads_q":16,"heads_kv":16,"seq_q":4096,"seq_kv":4096,"head_dim":128,"causal":false})");
  const Prediction two = predict(p, prob, "attn_fa2", parse_tile("block_m=64,block_n=64,stages=2,warps=4"));
  const Prediction one = predict(p, prob, "attn_fa2", parse_tile("block_m=128,block_n=64,stages=2,warps=8"));
  ASSERT_EQ(two.ctas_per_sm, 2);
  ASSERT_EQ(one.ctas_per_sm, 1);
  // The other CTA's GEMM phase, on the busier of its two units. QK: 2*64*64*128 FLOP on the
  // tensor units against Q 64x128 + K 64x128 read by each of 4 warps (81920 B) from shared
  // memory; PV: the same FLOP against V 64x128 read by each of 4 warps (65536 B).
  const double tensor_cycles = 2.0 * 64 * 64 * 128 / p.per_sm.mma_sync_bf16.value;
  const double qk_smem_cycles = (64.0 * 128 + 4 * 64 * 128) * 2 / p.per_sm.smem.value;
  const double pv_smem_cycles = 4.0 * 64 * 128 * 2 / p.per_sm.smem.value;
  EXPECT_NEAR(test::op_named(two.desc.loop, "qk").latency_cycles,
              p.latency.smem.value + std::max(tensor_cycles, qk_smem_cycles), 1e-9);
  EXPECT_NEAR(test::op_named(two.desc.loop, "pv").latency_cycles,
              p.latency.smem.value + std::max(tensor_cycles, pv_smem_cycles), 1e-9);
  EXPECT_GT(qk_smem_cycles, tensor_cycles);  // on the H100, QK waits on shared memory
  EXPECT_DOUBLE_EQ(test::op_named(one.desc.loop, "qk").latency_cycles, p.latency.smem.value);
}
}  // namespace tilesim::model

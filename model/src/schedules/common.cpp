// Shared pieces of the schedule builders.
#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>

#include "tilesim/model/causal_mask.hpp"

namespace tilesim::model::detail {

const char* tensor_path_name(TensorPath t) {
  switch (t) {
    case TensorPath::kWgmma: return "wgmma";
    case TensorPath::kTcgen05: return "tcgen05";
    case TensorPath::kMmaSync: return "mma.sync";
  }
  return "?";
}

double tensor_rate(const Ctx& c, TensorPath path) {
  const auto& s = c.p.per_sm;
  double r = s.tensor_bf16.value;
  switch (c.prob.dtype) {
    case Dtype::kBf16: r = s.tensor_bf16.value; break;
    case Dtype::kFp16: r = s.tensor_fp16.value; break;
    case Dtype::kFp8: r = s.tensor_fp8.value; break;
    case Dtype::kTf32: r = s.tensor_tf32.value; break;
  }
  if (path == TensorPath::kMmaSync) r *= s.mma_sync_bf16.value / s.tensor_bf16.value;
  return r;
}

double wgmma_drain_cycles(const Ctx& c) {
  return std::max(0.0, c.p.latency.tensor_mma.value - wgmma_probe_cycles(c.p));
}

double shared_pipe_wgmma_wait_cycles(const Ctx& c, int consumers, double consumer_tensor_cycles) {
  return wgmma_drain_cycles(c) + std::max(0, consumers - 1) * consumer_tensor_cycles;
}

double wgmma_ss_smem_bytes(double rows, double cols, double k, double elem_bytes) {
  const double b_reads = std::max(1.0, rows / kWgmmaM);
  return (rows + cols * b_reads) * k * elem_bytes;
}

double l2_bytes_per_clk(const Ctx& c) { return c.p.chip.l2_bandwidth.value * c.k.l2_efficiency / c.clock_hz(); }
double hbm_bytes_per_clk(const Ctx& c) { return c.p.chip.hbm_bandwidth.value * c.k.hbm_efficiency / c.clock_hz(); }

double load_latency_cycles(const Ctx& c, double hbm_fraction) {
  const auto& l = c.p.latency;
  const double l2 = 0.5 * (l.l2_near.value + l.l2_far.value);  // half the lines in the far partition
  const double f = std::clamp(hbm_fraction, 0.0, 1.0);
  return f * l.hbm.value + (1.0 - f) * l2;
}

int Builder::role(const std::string& name, RoleKind kind, int threads, int regs) {
  d_.roles.push_back(Role{name, kind, threads, regs});
  return static_cast<int>(d_.roles.size()) - 1;
}

namespace {
// Ops returned by tune after evaluating a tile; their vectors keep their capacity, so the
// next tile's build allocates almost nothing.
thread_local std::vector<Op> g_op_pool;
constexpr size_t kOpPoolMax = 256;
}  // namespace

void recycle_ops(ScheduleDesc& d) {
  for (auto* list : {&d.prologue, &d.loop, &d.epilogue}) {
    for (auto& op : *list)
      if (g_op_pool.size() < kOpPoolMax) g_op_pool.push_back(std::move(op));
    list->clear();
  }
}

int Builder::op(std::vector<Op>* list, const std::string& name, int role, double latency_cycles) {
  Op o;
  if (!g_op_pool.empty()) {
    o = std::move(g_op_pool.back());
    g_op_pool.pop_back();
    o.uses.clear();
    o.deps.clear();
    o.note.clear();
    o.chain_cycles = 0.0;
    o.chain_what.clear();
    o.latency_per_streaming_cta = 0.0;
    o.latency_streaming_ctas = 0.0;
  } else {
    o.uses.reserve(5);  // typical op: up to 5 units (softmax: mufu, fma, alu, cvt, issue)
    o.deps.reserve(6);
  }
  o.name = name;
  o.role = role;
  o.latency_cycles = latency_cycles;
  list->push_back(std::move(o));
  return static_cast<int>(list->size()) - 1;
}

Use* Builder::add_use(std::vector<Op>* list, int op, Unit u, double work, double rate) {
  if (work <= 0.0) return nullptr;
  Use x;
  x.unit = u;
  x.work = work;
  x.rate_per_clk = rate;
  auto& uses = (*list)[op].uses;
  uses.push_back(std::move(x));
  return &uses.back();
}

void Builder::dep(std::vector<Op>* list, int op, int on, int distance, DepKind kind, const char* barrier) {
  (*list)[op].deps.push_back(Dep{on, distance, kind, barrier});
}

int Builder::gemm_operand_load(std::vector<Op>* list, const std::string& name, int role, double bytes,
                               const GemmTraffic& g, double rows, double row_bytes) {
  const double eff = c_.k.gemm_operand_hbm_efficiency;
  const int id = load(list, name, role, bytes, g.hbm_ab_bytes / g.l2_ab_bytes, 0.0, eff);
  tma_rows(list, id, rows, row_bytes, static_cast<double>(c_.prob.k) * c_.ebytes());
  if (const double per_row = c_.k.tma_issue_cycles_per_row; per_row > 0.0) {
    // The SM's TMA unit walks a stage's boxes row by row, one stage after the other.
    Op& o = (*list)[id];
    o.chain_cycles = rows * per_row;
    if (c_.detailed)
      o.chain_what = num(rows) + " box rows x " + num(per_row) + " cycles of the SM's TMA unit (tma_issue_cycles_per_row)";
    dep(list, id, id, 1, DepKind::kAfter);
  }
  return id;
}

int effective_split_k(int64_t k_steps, int split_k) {
  if (k_steps <= 0 || split_k <= 1) return 1;
  const int64_t per_split = ceil_div(k_steps, split_k);
  return static_cast<int>(ceil_div(k_steps, per_split));
}

double add_split_k_reduce(const Ctx& c, ScheduleDesc& d, double mn, int split_k) {
  if (split_k <= 1) return c.obytes();
  d.post.name = "split-k reduce";
  d.post.hbm_bytes = mn * kSplitKPartialBytes * split_k + mn * c.obytes();
  d.post.launch_us = c.p.latency.kernel_launch_us.value;
  return kSplitKPartialBytes;
}

void Builder::gemm_stage_latency(std::vector<Op>* list, int load_op, const GemmTraffic& g) {
  Op& ld = (*list)[load_op];
  const double waits = std::clamp(g.stage_hbm_share, 0.0, 1.0);
  const double hbm_stage = c_.k.gemm_operand_hbm_latency_cycles;
  const double steady = waits * hbm_stage + (1.0 - waits) * load_latency_cycles(c_, 0.0);
  // Zero-filled rows are not free: measured on the operand stream, they lengthen every
  // streaming CTA's stage by a cost that grows with the CTAs streaming and with the square
  // of a box's out-of-bounds rows (tma_zero_fill_latency_cycles).
  const double zero_fill = c_.k.tma_zero_fill_latency_cycles * g.concurrent_ctas * g.zero_fill_rows_sq;
  ld.latency_cycles = steady + zero_fill;
  ld.latency_per_streaming_cta = c_.k.tma_zero_fill_latency_cycles * g.zero_fill_rows_sq;
  ld.latency_streaming_ctas = g.concurrent_ctas;
  if (zero_fill > 0.0)
    note(list, load_op, [&] {
      return "+ " + num(zero_fill) + " cycles of zero-filled rows: tma_zero_fill_latency_cycles x " + num(g.concurrent_ctas) +
             " CTAs x " + num(g.zero_fill_rows_sq) + " (out-of-bounds rows per box, squared, mean over tiles)";
    });
  // The grid starts on a cold L2 (the measured launches follow an L2 flush, as a GEMM on
  // fresh weights does): a tile's first stage waits for HBM whatever the reuse later. The
  // prologue carries what it waits beyond a steady stage (a persistent grid pays it once).
  if (hbm_stage > steady && !g.warm) {
    const std::string name = ld.name + ".cold";  // before op(): a push may move the ops of `list`
    const int cold = op(&d_.prologue, name, ld.role, hbm_stage - steady);
    // The first stage is issued only once the prologue's earlier ops (cluster barriers) are done.
    for (int before = 0; before < cold; ++before) dep(&d_.prologue, cold, before, 0, DepKind::kDone);
    note(&d_.prologue, cold, [&] {
      return "first stage on a cold L2: gemm_operand_hbm_latency_cycles " + num(hbm_stage) + " less the steady " +
             num(steady) + " (" + num(100.0 * waits) + "% of the stages wait for HBM)";
    });
  }
}

void Builder::cluster_barriers(int cluster_size, int role) {
  const double per_barrier = c_.k.cluster_barrier_cycles;
  if (cluster_size <= 1 || per_barrier <= 0.0) return;
  // Each barrier is an arrive/wait handshake with the peer SMs over the SM-to-SM network:
  // no CTA of the cluster loads before every peer has initialised its barriers, and none
  // exits before every peer is done writing into it. Both sit on each CTA's critical path
  // once, so the prologue (paid once per CTA of a persistent grid) carries them together.
  const int id = op(&d_.prologue, "cluster_barriers", role, kClusterBarriersPerCta * per_barrier);
  note(&d_.prologue, id, [&] {
    return num(kClusterBarriersPerCta) + " cluster barriers (after the barrier init, before exit) x cluster_barrier_cycles " +
           num(per_barrier) + " (" + num(cluster_size) + "-CTA cluster)";
  });
}

int Builder::load(std::vector<Op>* list, const std::string& name, int role, double bytes, double hbm_fraction,
                  double extra_latency, double hbm_efficiency) {
  const double f = std::clamp(hbm_fraction, 0.0, 1.0);
  const int id = op(list, name, role, load_latency_cycles(c_, f) + extra_latency);
  use(list, id, Unit::kL2, bytes, l2_bytes_per_clk(c_), [&] { return num(bytes) + " B from L2"; });
  use(list, id, Unit::kHbm, bytes * f, hbm_bytes_per_clk(c_) * hbm_efficiency, [&] {
    return num(bytes) + " B x " + num(f) + " HBM share (L2 reuse model)" +
           (hbm_efficiency < 1.0 ? " at " + num(hbm_efficiency) + " of the streaming rate" : "");
  });
  if (c_.k.smem_write_weight > 0.0)
    use(list, id, Unit::kSmem, bytes * c_.k.smem_write_weight, c_.p.per_sm.smem.value,
        [&] { return num(bytes) + " B SMEM write x smem_write_weight"; });
  return id;
}

void Builder::store_uses(std::vector<Op>* list, int op, double bytes, double efficiency, int sm_writers) {
  use(list, op, Unit::kL2, bytes, l2_bytes_per_clk(c_) * efficiency,
      [&] { return num(bytes) + " B stored through L2 (at epilogue_efficiency)"; });
  use(list, op, Unit::kHbm, bytes, hbm_bytes_per_clk(c_) * efficiency,
      [&] { return num(bytes) + " B written to HBM (at epilogue_efficiency)"; });
  const double sm_cycles = bytes * std::max(1, sm_writers) / c_.k.sm_store_bytes_per_clk;
  Op& o = (*list)[op];
  if (sm_cycles > o.chain_cycles) {
    o.chain_cycles = sm_cycles;
    if (c_.detailed)
      o.chain_what = num(bytes) + " B x " + num(std::max(1, sm_writers)) + " writer(s) leaving the SM at " +
                     num(c_.k.sm_store_bytes_per_clk) + " B/clk (sm_store_bytes_per_clk)";
  }
}

void Builder::tma_rows(std::vector<Op>* list, int op, double rows, double row_bytes, double stride_bytes) {
  const auto& chip = c_.p.chip;
  if (!chip.l2_tma_requests.present || !chip.l2_tma_sectors.present) return;
  const TmaRowCost row = tma_row_cost(row_bytes, stride_bytes);
  const double requests = rows * row.requests, sectors = rows * row.sectors;
  // Seconds of the chip's L2 request handling, in cycles at the IR's clock (a chip-wide
  // use: the evaluator rescales it when it settles the clock, as it does L2 bytes).
  const double seconds = requests / chip.l2_tma_requests.value + sectors / chip.l2_tma_sectors.value;
  use(list, op, Unit::kTma, seconds * c_.clock_hz(), 1.0, [&] {
    return num(requests) + " L2 requests at " + num(chip.l2_tma_requests.value / 1e9) + " G/s + " + num(sectors) +
           " sectors at " + num(chip.l2_tma_sectors.value / 1e9) + " G/s (" + num(rows) + " rows of " +
           num(row_bytes) + " B, stride " + num(stride_bytes) + " B)";
  });
}

namespace {
constexpr int kLineBytes = 128;   // L2 line: a TMA request never crosses one
constexpr int kSectorBytes = 32;  // L2 sector

// Requests and sectors of one row of `bytes` starting `offset` bytes into a line.
TmaRowCost row_at(int64_t offset, int64_t bytes) {
  TmaRowCost c;
  for (int64_t line = offset / kLineBytes * kLineBytes; line < offset + bytes; line += kLineBytes) {
    const int64_t lo = std::max(offset, line), hi = std::min(offset + bytes, line + kLineBytes);
    bool in_full_run = false;  // fully covered sectors of a line share one request
    for (int64_t s = lo / kSectorBytes * kSectorBytes; s < hi; s += kSectorBytes) {
      c.sectors += 1.0;
      const bool full = lo <= s && s + kSectorBytes <= hi;
      if (!full || !in_full_run) c.requests += 1.0;  // a partial sector, or a new run of full ones
      in_full_run = full;
    }
  }
  return c;
}
}  // namespace

TmaRowCost tma_row_cost(double row_bytes, double stride_bytes) {
  // Row offsets within a line repeat every kLineBytes / gcd(stride, kLineBytes) rows: one
  // period is the average (a single row for strides on the line; tune builds many tiles).
  const auto bytes = static_cast<int64_t>(row_bytes), stride = static_cast<int64_t>(stride_bytes);
  const int64_t period = kLineBytes / std::gcd(stride % kLineBytes, int64_t{kLineBytes});
  TmaRowCost avg;
  for (int64_t r = 0; r < period; ++r) {
    const TmaRowCost c = row_at(r * stride % kLineBytes, bytes);
    avg.requests += c.requests / static_cast<double>(period);
    avg.sectors += c.sectors / static_cast<double>(period);
  }
  return avg;
}

namespace {
// Occupancy: nullptr when the CTA fits (d.grid filled), else the reason's key; the
// sentence goes to *msg when msg is given (tune skips the formatting).
const char* occupancy(const Ctx& c, ScheduleDesc& d, std::string* msg) {
  const auto& cap = c.p.capacity;
  auto& cta = d.cta;
  if (cta.smem_bytes > cap.smem_per_block.value) {
    if (msg) *msg = "needs " + kib(cta.smem_bytes) + " SMEM > " + kib(cap.smem_per_block.value) + " per CTA";
    return "smem per CTA";
  }
  cta.threads = 0;
  cta.registers_total = 0.0;
  cta.registers_per_thread = 0;
  for (const auto& r : d.roles) {
    // The per-thread cap bounds what the compiler may use (255 on these chips); the
    // allocation granularity only rounds the register-file share (a 251-register kernel
    // allocates 256 per thread and is fine).
    if (r.registers_per_thread > cap.max_registers_per_thread.value) {
      if (msg)
        *msg = "role " + r.name + " needs ~" + std::to_string(r.registers_per_thread) + " registers/thread > " +
               num(cap.max_registers_per_thread.value);
      return "registers per thread";
    }
    const int regs = static_cast<int>(round_up(r.registers_per_thread, kRegisterGranularity));
    cta.threads += r.threads;
    cta.registers_total += static_cast<double>(regs) * r.threads;
    cta.registers_per_thread = std::max(cta.registers_per_thread, regs);
  }
  struct Limit {
    const char* name;
    double ctas;
  };
  Limit limits[5] = {
      {"smem", std::floor(cap.smem_per_sm.value / (cta.smem_bytes + kSmemReservedPerCtaBytes))},
      {"registers", std::floor(cap.registers_per_sm.value / std::max(1.0, cta.registers_total))},
      {"threads", std::floor(cap.max_threads_per_sm.value / std::max(1, cta.threads))},
      {"max CTAs per SM", cap.max_ctas_per_sm.value},
      {"tmem", 1e9},
  };
  if (cta.tmem_columns > 0) {
    if (cap.tmem_columns.value <= 0.0) {
      if (msg) *msg = "needs tensor memory; the profile has none";
      return "no TMEM";
    }
    if (cta.tmem_columns > cap.tmem_columns.value) {
      if (msg) *msg = "needs " + std::to_string(cta.tmem_columns) + " TMEM columns > " + num(cap.tmem_columns.value);
      return "tmem columns";
    }
    limits[4].ctas = std::floor(cap.tmem_columns.value / cta.tmem_columns);
  }
  const Limit* best = &limits[0];
  for (const auto& l : limits)
    if (l.ctas < best->ctas) best = &l;
  if (best->ctas < 1.0) {
    if (std::string(best->name) == "registers") {
      if (msg)
        *msg = "needs " + num(cta.registers_total) + " registers per CTA > " + num(cap.registers_per_sm.value) + " per SM";
      return "registers per CTA";
    }
    if (msg) *msg = std::string("does not fit one CTA per SM (") + best->name + ")";
    return best->name;
  }
  d.grid.ctas_per_sm = static_cast<int>(best->ctas);
  d.grid.occupancy_limit = best->name;
  return nullptr;
}
}  // namespace

bool fill_occupancy(const Ctx& c, ScheduleDesc& d) {
  if (c.reject != nullptr) {
    if (const char* key = occupancy(c, d, nullptr)) {
      *c.reject = key;
      return false;
    }
    return true;
  }
  std::string msg;
  if (const char* key = occupancy(c, d, &msg)) throw Infeasible(key, msg);
  return true;
}

int64_t add_cluster_tile_grid(ScheduleDesc& d, int64_t tiles_m, int64_t tiles_n, int cluster_m, int cluster_n,
                              int64_t splits, int64_t iterations) {
  auto padded = [](int64_t tiles, int cluster) {
    const int64_t c = std::max(1, cluster);
    return (tiles + c - 1) / c * c;
  };
  const int64_t real = tiles_m * tiles_n * splits;
  const int64_t items = padded(tiles_m, cluster_m) * padded(tiles_n, cluster_n) * splits;
  d.grid.classes.push_back(WorkClass{"tile", items, iterations});
  d.grid.streaming_share = static_cast<double>(real) / static_cast<double>(items);
  return std::min<int64_t>(real, d.grid.resident_ctas());
}

GemmTraffic gemm_traffic(const Ctx& c, int64_t tiles_m, int64_t tiles_n, int block_m, int block_n,
                         int64_t concurrent_tiles, int raster, int mcast_a, int mcast_b) {
  GemmTraffic g;
  const double e = c.ebytes(), K = static_cast<double>(c.prob.k);
  const double tiles = static_cast<double>(tiles_m * tiles_n);
  const double P = static_cast<double>(std::max<int64_t>(1, std::min<int64_t>(concurrent_tiles, tiles_m * tiles_n)));
  const double tm = static_cast<double>(tiles_m), tn = static_cast<double>(tiles_n);
  // Tile rows (r) and tile columns (cw) that one wave of P concurrent tiles spans. A
  // cluster of mcast_b CTAs along M (they share B by multicast) runs mcast_b tile-rows of
  // one tile-column at once, so a wave spans at least that many rows.
  const double cluster_rows = std::max(1, mcast_b);
  double r = 0.0, cw = 0.0;
  if (raster <= 1) {
    cw = std::min(tn, std::max(1.0, P / cluster_rows));
    r = std::min(tm, std::max(cluster_rows, P / tn));
  } else {
    r = std::min(tm, std::max(static_cast<double>(raster), cluster_rows));
    cw = std::min(tn, std::max(1.0, P / r));
  }
  const double waves = tiles / P;
  const double a_strip = block_m * K * e, b_strip = block_n * K * e;  // one tile-row of A, tile-column of B
  const double a_once = tm * a_strip, b_once = tn * b_strip;
  const double l2u = c.p.capacity.l2.value * c.k.l2_usable_fraction;
  double a = waves * r * a_strip, b = waves * cw * b_strip;
  // Across waves a strip stays in L2 only if the whole operand fits beside one wave's
  // strips of the other operand.
  if (a_once + cw * b_strip <= l2u) a = a_once;
  if (b_once + r * a_strip <= l2u) b = b_once;
  a = std::clamp(a, a_once, tiles * a_strip);
  b = std::clamp(b, b_once, tiles * b_strip);
  // Launched right after an identical launch with no flush between them: the previous launch
  // read both operands through the L2, and they are still there when, each read once, they fit
  // in its usable part together (what a streamed operand larger than that evicts is gone).
  g.warm = c.k.l2_operands_warm && a_once + b_once <= l2u;
  if (g.warm) a = b = 0.0;
  g.hbm_ab_bytes = a + b;
  g.l2_ab_bytes = tiles * (a_strip / mcast_a + b_strip / mcast_b);
  const double a_miss = a / (tiles * a_strip), b_miss = b / (tiles * b_strip);
  g.stage_hbm_share = 1.0 - (1.0 - a_miss) * (1.0 - b_miss);
  // Only the last tile-row's A boxes and the last tile-column's B boxes reach past M and N;
  // a multicast CTA loads its 1/mcast slice of the shared box.
  const double a_oob = static_cast<double>(tiles_m * block_m - c.prob.m) / std::max(1, mcast_a);
  const double b_oob = static_cast<double>(tiles_n * block_n - c.prob.n) / std::max(1, mcast_b);
  g.zero_fill_rows_sq = a_oob * a_oob / tm + b_oob * b_oob / tn;
  g.concurrent_ctas = P;
  if (c.detailed) {
    g.model = "wave of " + num(P) + " tiles spans " + num(r) + " tile-rows x " + num(cw) + " tile-cols; " +
              num(waves) + " waves -> A read " + num(a / a_once) + "x, B read " + num(b / b_once) +
              "x from HBM (L2 usable " + kib(l2u) + ")" +
              (g.warm ? "; both still in the L2 from the launch before (--l2-start warm)" : "");
  }
  return g;
}

AttnGrid attention_grid(const Problem& prob, int block_m, int block_n) {
  AttnGrid g;
  g.m_blocks = ceil_div(prob.seq_q, block_m);
  std::map<int64_t, int64_t> per_iters;  // iterations -> m-blocks, ascending m-block order kept below
  std::vector<std::pair<int64_t, int64_t>> order;  // (iterations, count) in launch order
  const int64_t bh = prob.batch * prob.heads_q;
  for (int64_t r = 0; r < g.m_blocks; ++r) {
    int64_t extent = prob.seq_kv;
    if (prob.causal) extent = causal_keys_for_rows((r + 1) * block_m, prob.seq_kv);
    const int64_t iters = ceil_div(extent, block_n);
    if (!order.empty() && order.back().first == iters)
      order.back().second += 1;
    else
      order.emplace_back(iters, 1);
    g.class_of_m_block.push_back(static_cast<int>(order.size()) - 1);
  }
  for (const auto& [iters, count] : order) {
    g.classes.push_back(WorkClass{"kv_blocks=" + std::to_string(iters), count * bh, iters});
    g.kv_block_iters_total += static_cast<double>(count * bh) * static_cast<double>(iters);
    g.items += count * bh;
  }
  g.diag_blocks_per_item = prob.causal ? static_cast<double>(ceil_div(block_m, block_n)) : 0.0;
  return g;
}

double kv_reads_per_head(const Ctx& c, int64_t sharers_per_head, int64_t concurrent, double kv_bytes_per_head) {
  if (sharers_per_head <= concurrent) return 1.0;  // all readers of a head stream it together
  const double passes = static_cast<double>(sharers_per_head) / static_cast<double>(std::max<int64_t>(1, concurrent));
  // Readers of one head span several waves: the head's K/V (and its neighbour's, at a
  // wave boundary) must stay in L2 between them.
  const double l2u = c.p.capacity.l2.value * c.k.l2_usable_fraction;
  return 2.0 * kv_bytes_per_head <= l2u ? 1.0 : passes;
}

SoftmaxIsa softmax_isa(const Profile& p) {
  SoftmaxIsa isa;
  if (p.flag(p.features.packed_fp32x2)) isa.fp32_lanes_per_instruction = 2.0;
  if (p.flag(p.features.three_input_max)) isa.max_inputs = 3.0;
  return isa;
}

SoftmaxWork softmax_work(double rows, double cols, double f, double threads_per_row, const SoftmaxIsa& isa) {
  const double el = rows * cols, row_threads = rows * threads_per_row;
  SoftmaxWork w;
  w.mufu = el * (1.0 - f) * kExp2MufuOps + row_threads * kRowMufuOps;
  // The per-element FMA-pipe work packs; the per-row ops (one value per row) do not.
  const double fma_elementwise = el * (kSoftmaxScaleFmaOps + kSoftmaxSumFmaOps + f * kPolyExp2FmaOps);
  const double fma_rows = row_threads * kRowFmaOps;
  w.fma = fma_elementwise + fma_rows;
  // An (n+1)-input max folds n elements into the running maximum.
  w.alu = el * (kSoftmaxMaxAluOps / (isa.max_inputs - 1.0) + f * kPolyExp2AluOps) + row_threads * kRowAluOps;
  w.cvt = el * kCvtPerElement;
  w.issue = w.mufu + fma_elementwise / isa.fp32_lanes_per_instruction + fma_rows + w.alu + w.cvt;
  return w;
}

double running_max_growth_share(double blocks, int rows_per_warp) {
  // Exact terms up to kExactTerms (x^R by squaring: this runs for every attention tile tune
  // builds); beyond, 1 - (1 - 1/i)^R = R/i - R(R-1)/2 /i^2 + O(R^3/i^3), the two sums taken
  // in closed form (harmonic tail ln(n/a) + 1/(2a) - 1/(2n), and 1/a - 1/n): within 0.06 %
  // of the exact mean for R = 16 (checked up to 200k blocks).
  constexpr int kExactTerms = 256;
  const auto n = static_cast<int64_t>(std::floor(blocks));
  if (n < 2) return 0.0;
  auto pow_r = [rows_per_warp](double x) {
    double r = 1.0;
    for (int e = rows_per_warp; e > 0; e >>= 1, x *= x)
      if (e & 1) r *= x;
    return r;
  };
  double sum = 0.0;
  const int64_t exact = std::min<int64_t>(n, kExactTerms);
  for (int64_t i = 2; i <= exact; ++i) sum += 1.0 - pow_r(1.0 - 1.0 / static_cast<double>(i));
  if (n > exact) {
    const double a = static_cast<double>(exact), b = static_cast<double>(n), R = rows_per_warp;
    sum += R * (std::log(b / a) + 0.5 / a - 0.5 / b) - R * (R - 1.0) / 2.0 * (1.0 / a - 1.0 / b);
  }
  return std::min(1.0, sum / static_cast<double>(n - 1));
}

double mufu_warp_instruction_cycles(const Ctx& c) {
  return kWarpThreads / (c.p.per_sm.mufu_ex2.value / kSubPartitionsPerSm);
}

SoftmaxWork add_softmax_uses(Builder& b, const Ctx& c, std::vector<Op>* list, int op, double rows, double cols, double f,
                        double threads_per_row) {
  const SoftmaxIsa isa = softmax_isa(c.p);
  const SoftmaxWork w = softmax_work(rows, cols, f, threads_per_row, isa);
  const auto& s = c.p.per_sm;
  const std::string el = c.detailed ? num(rows) + "x" + num(cols) : std::string();
  b.use(list, op, Unit::kMufu, w.mufu, s.mufu_ex2.value, [&] {
    return el + " x " + num(1.0 - f) + " ex2 + " + num(rows) + " row corrections";
  });
  b.use(list, op, Unit::kFma, w.fma, s.fp32_fma.value, [&] {
    return el + " x (1 scale FFMA + 1 sum FADD + " + num(f) + " x " + num(kPolyExp2FmaOps) + " polynomial-exp2 ops) + " +
           num(rows) + " rows x " + num(threads_per_row) + " threads x " + num(kRowFmaOps) + " row ops";
  });
  b.use(list, op, Unit::kAlu, w.alu, s.alu.value, [&] {
    return el + " x (" + num(kSoftmaxMaxAluOps / (isa.max_inputs - 1.0)) + " FMNMX + " + num(f) + " x " +
           num(kPolyExp2AluOps) + " exponent ops) + " + num(rows) + " rows x " +
           num(threads_per_row) + " threads x " + num(kRowAluOps) + " shuffle/max/test ops";
  });
  b.use(list, op, Unit::kCvt, w.cvt, s.cvt_bf16x2.value, [&] { return el + " P values / 2 per cvt"; });
  b.use(list, op, Unit::kIssue, w.instructions(), kIssueThreadOpsPerClkPerSm, [&] {
    std::string packed;
    if (isa.fp32_lanes_per_instruction > 1.0) packed += ", the per-element FMA-pipe ops as f32x2 pairs";
    if (isa.max_inputs > 2.0) packed += ", the row max with " + num(isa.max_inputs) + "-input max";
    return "every softmax thread instruction above takes an issue slot" + packed;
  });
  return w;
}

AttnTraffic attention_traffic(const Ctx& c, const AttnGrid& g, int block_n, int64_t concurrent, double kv_load_share) {
  const auto& p = c.prob;
  AttnTraffic t;
  const double e = c.ebytes(), o = c.obytes();
  const double kv_head = static_cast<double>(p.seq_kv) * static_cast<double>(p.head_dim + p.head_dim_v) * e;
  const int64_t group = p.heads_q / p.heads_kv;
  t.kv_reads = kv_reads_per_head(c, g.m_blocks * group, concurrent, kv_head);
  const double kv_hbm = static_cast<double>(p.batch * p.heads_kv) * kv_head * t.kv_reads;
  const double kv_l2 = g.kv_block_iters_total * block_n * static_cast<double>(p.head_dim + p.head_dim_v) * e * kv_load_share;
  t.kv_hbm_fraction = std::min(1.0, kv_hbm / std::max(1.0, kv_l2));
  const double rows = static_cast<double>(p.batch * p.heads_q * p.seq_q);
  const double q_bytes = rows * static_cast<double>(p.head_dim) * e;
  const double o_bytes = rows * (static_cast<double>(p.head_dim_v) * o + 4.0 /* LSE */);
  t.total_hbm = std::min(kv_hbm, kv_l2) + q_bytes + o_bytes;
  t.total_l2 = kv_l2 + q_bytes + o_bytes;
  if (c.detailed)
    t.model = "K/V of each (batch, kv head) is read by " + std::to_string(g.m_blocks * group) + " CTAs (" +
              std::to_string(g.m_blocks) + " q-blocks x " + std::to_string(group) + " q heads), " +
              std::to_string(concurrent) + " run at once -> read " + num(t.kv_reads) + "x from HBM; " +
              num(100.0 * t.kv_hbm_fraction) + "% of K/V loads miss L2";
  return t;
}

std::vector<WorkClass> interleave_heads(const std::vector<WorkClass>& classes, int64_t heads_total, int64_t reps) {
  const int64_t r = std::max<int64_t>(1, std::min(reps, heads_total));
  if (classes.size() <= 1 || r == 1) return classes;
  std::vector<WorkClass> out;
  for (int64_t i = 0; i < r; ++i)
    for (const auto& c : classes) {
      const int64_t lo = c.items * i / r, hi = c.items * (i + 1) / r;
      if (hi > lo) out.push_back(WorkClass{c.name, hi - lo, c.iterations});
    }
  return out;
}

std::string kib(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  return buf;
}

std::string num(double v) {
  char buf[64];
  if (std::fabs(v) >= 1e6 && std::floor(v) == v && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

const Constraint kHeadDim64Or128Rule{
    "head dim", "head_dim is 64 or 128 and head_dim_v == head_dim", "instantiated per head dim (static_assert)",
    [](const TileView& v) {
      return (v.prob.head_dim == 64 || v.prob.head_dim == 128) && v.prob.head_dim_v == v.prob.head_dim;
    }};
const Constraint kBf16Rule{"dtype", "dtype is bf16", "instantiated for bf16",
                           [](const TileView& v) { return v.prob.dtype == Dtype::kBf16; }};

Problem attention_representative() {
  Problem r;
  r.kind = ProblemKind::kAttention;
  r.batch = 4;
  r.heads_q = r.heads_kv = 16;
  r.seq_q = r.seq_kv = 4096;
  r.head_dim = r.head_dim_v = 128;
  return r;
}

}  // namespace tilesim::model::detail

// Internal: the periodic steady state. A long sequence repeats the same main-loop
// iteration; a large batch repeats the same wave of items. Past a warm-up, the grid's
// makespan is then affine in the iteration count (every item lasts a + b n) and in the
// number of waves (each wave adds the same time), so a few reduced grids, simulated whole,
// give it for any size:
//
//   iteration axis: every class keeps its iterations minus one shift s (the classes'
//     differences stay), at four points n0, n0 + K, n0 + 2K, n0 + 3K of the shortest class, where
//     K is a multiple of every period the pipeline can have (ring depths, loop-carried
//     distances, two for ping-pong) and n0 keeps the full count's remainder modulo K, so
//     the extrapolation adds whole windows;
//   wave axis: every class keeps its share of items (items_c = u_c x G, G the classes'
//     common divisor) with G reduced to g0, g0 + W, g0 + 2W, g0 + 3W, where W units of G make whole
//     waves of the chip's CTA slots and g0 keeps G's remainder modulo W (the partial last
//     wave stays as it is).
//
// From values y0..y3 at four points one window apart, the full size R windows past y3 is
// y3 + R (y3 - y2). The stated error bound is R times the largest difference of an earlier
// increment from the last: exact when the warm-up is over (the increments are equal, as in
// a periodic pipeline), and a bound whenever the transient decays, i.e. later increments
// differ from the last one by no more than the earlier ones did. Along both axes the bounds of the inner
// axis are carried through the outer one. A window that is not a whole number of periods
// (many work classes whose items do not fill whole waves; a pipeline period longer than
// the longest window) adds one period to the bound: the total work is extrapolated
// exactly, only the phase of the last wave or iteration is unknown.
#pragma once

#include <cstdint>
#include <string>

#include "tilesim/model/schedule_ir.hpp"
#include "tilesim/sim/simulator.hpp"

namespace tilesim::sim::detail {

// One axis: reduced points start, start + window, ... (kPoints of them); the full size is
// `remaining` windows past the last point.
struct Axis {
  bool on = false;
  // The window spans whole periods (of the pipeline, or waves of the CTA slots). When it
  // does not, increments differ by phase and the result may be off by one period more:
  // the bound adds it (one window of iterations, or the longest item).
  bool whole_periods = true;
  int64_t start = 0;
  int64_t window = 0;
  int64_t remaining = 0;
  int64_t point(int k) const { return start + k * window; }
};

struct Plan {
  Axis iterations;  // in iterations of the shortest class
  Axis waves;       // in units of G (the classes' common item divisor)
  int64_t shortest = 0;          // iterations of the shortest class
  int64_t item_divisor = 0;      // G
  double largest_instances = 0;  // op instances of the largest reduced grid (estimate)
  std::string why_not;           // empty when on()
  bool on() const { return why_not.empty() && (iterations.on || waves.on); }
};

// Op instances of the busiest SM, at least (all items' instances / SMs).
double min_instances_per_sm(const model::ScheduleDesc& d);

// Op instances a whole simulation of `d` lays out and runs, estimated from the classes
// alone (before any per-SM list): one SM's average times the representative SMs (two for
// one class: SMs with k and k + 1 items per slot; up to every SM for many classes), plus
// the per-class pre-pass of a many-class grid.
double whole_instances_estimate(const model::ScheduleDesc& d, const Options& o);

// Decides the axes for `d`; why_not says why it cannot be extrapolated.
Plan plan_extrapolation(const model::ScheduleDesc& d, const Options& o);

// The whole grid, event by event (simulator.cpp).
Result simulate_whole(const model::ScheduleDesc& d, const Options& o);

// The reduced grids, simulated whole, and the extrapolated result.
Result simulate_extrapolated(const model::ScheduleDesc& d, const Options& o, const Plan& p);

}  // namespace tilesim::sim::detail

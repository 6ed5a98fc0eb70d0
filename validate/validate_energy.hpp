// The model's kernel energies against the sustained-load traces (kernels/common/
// sustain_trace.hpp): per trace, the energy one launch took, (steady one-second board power
// - profile power.idle) x steady kernel time, beside the model's (its work on the tensor,
// SMEM, L2, HBM and issue units x the model's energies), and the non-negative least-squares
// energies over the training shapes' traces, which is how the model's energy constants were
// fitted; traces on held-out shapes are only judged.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "validate_core.hpp"

namespace tilesim::validate {

// The units with an energy constant, in the order of their constants.
inline constexpr std::array<const char*, 5> kEnergyUnits = {"tensor", "smem", "l2", "hbm", "issue"};

struct EnergyPoint {
  std::string file, config;
  double measured_j = 0.0, model_j = 0.0;
  double steady_ms = 0.0, model_sustained_ms = 0.0;  // the trace's steady kernel time, the model's
  double start_ms = 0.0, model_rested_ms = 0.0;       // its first 20 ms (a rested card), the model's
  std::array<double, kEnergyUnits.size()> work{};  // the model's work on each energy unit
};

struct EnergyFit {
  std::vector<EnergyPoint> points;                  // every predicted training run with a trace
  std::vector<EnergyPoint> heldout;                 // the same on held-out shapes (never fitted)
  double rms_pct = 0.0, max_pct = 0.0;              // model energies (the constants in use)
  std::array<double, kEnergyUnits.size()> fitted_pj{};  // the least-squares energies (pJ per unit of work)
  double fitted_rms_pct = 0.0, fitted_max_pct = 0.0;
  double sustained_mape_pct = 0.0;  // the model's sustained times against the traces' steady ones
  double rested_mape_pct = 0.0;     // the model's rested times against the traces' first 20 ms
  // Held-out traces: model energies and sustained times (nothing was fitted on them).
  double heldout_rms_pct = 0.0, heldout_max_pct = 0.0, heldout_sustained_mape_pct = 0.0;
  double heldout_rested_mape_pct = 0.0;
};

// Throws std::runtime_error when no predicted training run has a trace with the one-second
// power or a run's GPU has no power.idle.
EnergyFit fit_energy(const std::vector<PredictedRun>& runs);
std::string energy_table(const EnergyFit& f);

}  // namespace tilesim::validate

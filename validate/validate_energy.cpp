// Kernel energies against the sustained-load traces (validate_energy.hpp).
#include "validate_energy.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include "tilesim/profile.hpp"

namespace tilesim::validate {

namespace {
constexpr double kPicojoule = 1e-12;
constexpr std::size_t kUnits = kEnergyUnits.size();
constexpr std::size_t kHbmIndex = 3;
static_assert(std::string_view(kEnergyUnits[kHbmIndex]) == "hbm");

// Relative errors of `pred` against the measured energies: rms and max, in percent.
void error_pct(const std::vector<EnergyPoint>& pts, const std::vector<double>& pred, double* rms, double* mx) {
  double s = 0.0, m = 0.0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const double e = (pred[i] - pts[i].measured_j) / pts[i].measured_j;
    s += e * e;
    m = std::max(m, std::abs(e));
  }
  *rms = 100.0 * std::sqrt(s / static_cast<double>(pts.size()));
  *mx = 100.0 * m;
}

// Mean |model - measured| / measured over the points, in percent, for one pair of times.
double time_mape(const std::vector<EnergyPoint>& pts, double EnergyPoint::*model, double EnergyPoint::*measured) {
  double s = 0.0;
  for (const auto& pt : pts) s += std::abs(pt.*model - pt.*measured) / pt.*measured;
  return 100.0 * s / static_cast<double>(pts.size());
}

// Non-negative least squares of the relative error, by trying every subset of the units
// (five: 31 subsets) and keeping the best solution whose coefficients are all >= 0.
std::array<double, kUnits> nnls_relative(const std::vector<EnergyPoint>& pts) {
  const int n = static_cast<int>(pts.size());
  std::array<double, kUnits> best{};
  double best_res = std::numeric_limits<double>::infinity();
  for (unsigned mask = 1; mask < (1u << kUnits); ++mask) {
    std::vector<std::size_t> cols;
    for (std::size_t u = 0; u < kUnits; ++u)
      if ((mask >> u) & 1u) cols.push_back(u);
    Eigen::MatrixXd a(n, static_cast<int>(cols.size()));
    Eigen::VectorXd b = Eigen::VectorXd::Ones(n);  // each row divided by its measured energy
    for (int i = 0; i < n; ++i)
      for (std::size_t c = 0; c < cols.size(); ++c)
        a(i, static_cast<int>(c)) = pts[i].work[cols[c]] * kPicojoule / pts[i].measured_j;
    const Eigen::VectorXd x = a.colPivHouseholderQr().solve(b);
    if ((x.array() < 0.0).any() || !x.allFinite()) continue;
    const double res = (a * x - b).squaredNorm();
    if (res < best_res) {
      best_res = res;
      best.fill(0.0);
      for (std::size_t c = 0; c < cols.size(); ++c) best[cols[c]] = x(static_cast<int>(c));
    }
  }
  return best;
}
}  // namespace

EnergyFit fit_energy(const std::vector<PredictedRun>& runs) {
  EnergyFit f;
  for (const auto& r : runs) {
    if (r.status != "predicted" || !(r.run.sustain_steady_w > 0.0)) continue;
    const profiles::Profile p = profiles::builtin_profile(r.run.gpu);
    if (!p.has(p.power.idle_w))
      throw std::runtime_error(r.run.file + ": a sustained-load trace on " + r.run.gpu +
                               ", whose profile has no power.idle");
    EnergyPoint pt;
    pt.file = r.run.file;
    pt.config = r.run.shape + " " + r.run.schedule + " " + r.run.tile.dump();
    pt.measured_j = (r.run.sustain_steady_w - p.power.idle_w.value) * r.run.sustain_steady_ms * 1e-3;
    pt.model_j = r.energy_j;
    pt.steady_ms = r.run.sustain_steady_ms;
    pt.model_sustained_ms = r.sustained_us * 1e-3;
    pt.start_ms = r.run.sustain_start_ms;
    pt.model_rested_ms = r.rested_us * 1e-3;
    for (std::size_t u = 0; u < kUnits; ++u) {
      const auto it = r.unit_work.find(kEnergyUnits[u]);
      pt.work[u] = it == r.unit_work.end() ? 0.0 : it->second;
    }
    pt.work[kHbmIndex] = r.bytes_hbm;  // with the post pass's traffic, as the model's energy counts it
    if (pt.measured_j > 0.0 && pt.start_ms > 0.0) (r.run.heldout ? f.heldout : f.points).push_back(pt);
  }
  if (f.points.empty())
    throw std::runtime_error("no predicted training run has a sustained-load trace with the one-second power "
                             "(tilesim runners --sustain-ms)");
  std::vector<double> model, fitted;
  f.fitted_pj = nnls_relative(f.points);
  for (const auto& pt : f.points) {
    model.push_back(pt.model_j);
    double e = 0.0;
    for (std::size_t u = 0; u < kUnits; ++u) e += pt.work[u] * f.fitted_pj[u] * kPicojoule;
    fitted.push_back(e);
  }
  error_pct(f.points, model, &f.rms_pct, &f.max_pct);
  f.sustained_mape_pct = time_mape(f.points, &EnergyPoint::model_sustained_ms, &EnergyPoint::steady_ms);
  f.rested_mape_pct = time_mape(f.points, &EnergyPoint::model_rested_ms, &EnergyPoint::start_ms);
  if (!f.heldout.empty()) {
    std::vector<double> held;
    for (const auto& pt : f.heldout) held.push_back(pt.model_j);
    error_pct(f.heldout, held, &f.heldout_rms_pct, &f.heldout_max_pct);
    f.heldout_sustained_mape_pct = time_mape(f.heldout, &EnergyPoint::model_sustained_ms, &EnergyPoint::steady_ms);
    f.heldout_rested_mape_pct = time_mape(f.heldout, &EnergyPoint::model_rested_ms, &EnergyPoint::start_ms);
  }
  error_pct(f.points, fitted, &f.fitted_rms_pct, &f.fitted_max_pct);
  return f;
}

std::string energy_table(const EnergyFit& f) {
  std::ostringstream os;
  char line[512];
  os << "kernel energy per launch: sustained-load traces (measured = (steady power - idle) x steady time) vs "
        "the model\n";
  auto rows = [&](const char* title, const std::vector<EnergyPoint>& pts) {
    os << title << "\n";
    std::snprintf(line, sizeof line, "%-90s %10s %10s %8s %9s %9s %9s %9s\n", "run", "meas. J", "model J",
                  "error %", "start ms", "model", "steady ms", "model");
    os << line;
    for (const auto& pt : pts) {
      std::snprintf(line, sizeof line, "%-90.90s %10.4f %10.4f %+8.1f %9.3f %9.3f %9.3f %9.3f\n", pt.config.c_str(),
                    pt.measured_j, pt.model_j, 100.0 * (pt.model_j - pt.measured_j) / pt.measured_j, pt.start_ms,
                    pt.model_rested_ms, pt.steady_ms, pt.model_sustained_ms);
      os << line;
    }
  };
  rows("TRAINING shapes (the energies are fitted on these):", f.points);
  std::snprintf(line, sizeof line,
                "%zu traces: model energies rms %.1f %%, max %.1f %%; times vs the traces (MAPE): rested (first 20 ms) "
                "%.1f %%, sustained (steady) %.1f %%\n",
                f.points.size(), f.rms_pct, f.max_pct, f.rested_mape_pct, f.sustained_mape_pct);
  os << line << "least-squares energies (non-negative, relative error):";
  for (std::size_t u = 0; u < kUnits; ++u) {
    std::snprintf(line, sizeof line, " %s %.4g", kEnergyUnits[u], f.fitted_pj[u]);
    os << line;
  }
  std::snprintf(line, sizeof line, " pJ per unit of work; rms %.1f %%, max %.1f %%\n", f.fitted_rms_pct,
                f.fitted_max_pct);
  os << line;
  if (!f.heldout.empty()) {
    rows("\nHELD-OUT shapes (judged only):", f.heldout);
    std::snprintf(line, sizeof line,
                  "%zu traces: model energies rms %.1f %%, max %.1f %%; times vs the traces (MAPE): rested %.1f %%, "
                  "sustained %.1f %%\n",
                  f.heldout.size(), f.heldout_rms_pct, f.heldout_max_pct, f.heldout_rested_mape_pct,
                  f.heldout_sustained_mape_pct);
    os << line;
  }
  return os.str();
}

}  // namespace tilesim::validate

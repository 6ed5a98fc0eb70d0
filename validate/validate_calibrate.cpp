// Least-squares calibration of model constants (see validate_calibrate.hpp).
#include "validate_calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

// Eigen is header-only; the CLI target may not carry Eigen3::Eigen's include path (the
// Debian layout puts it under /usr/include/eigen3), so accept both spellings.
#if __has_include(<Eigen/Dense>)
#include <Eigen/Dense>
#else
#include <eigen3/Eigen/Dense>
#endif

namespace tilesim::validate {

using nlohmann::json;

std::string assign_splits(std::vector<PredictedRun>& runs) {
  // The committed held-out list decides when the data has one: fit on train, judge on it.
  bool any_heldout = false;
  for (const auto& r : runs) any_heldout = any_heldout || (r.status == "predicted" && r.run.heldout);
  if (any_heldout) {
    for (auto& r : runs)
      if (r.status == "predicted") r.split = r.run.heldout ? "test" : "train";
    return "test = the committed held-out shapes (data/heldout/shapes.json), train = every other run";
  }
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i].status == "predicted")
      groups[runs[i].run.family + " " + runs[i].run.gpu + " " + runs[i].run.shape].push_back(i);
  if (groups.size() >= 3) {
    size_t g = 0;
    for (const auto& [key, idx] : groups) {
      for (size_t i : idx) runs[i].split = (g % 3 == 2) ? "test" : "train";
      ++g;
    }
  } else {
    for (const auto& [key, idx] : groups)
      for (size_t k = 0; k < idx.size(); ++k) runs[idx[k]].split = (k % 3 == 2) ? "test" : "train";
  }
  return "runs grouped by (family, gpu, shape), groups sorted, every third group held out as test";
}

namespace {

bool is_ratio(const model::ModelConstants& c, const std::string& name) {
  auto it = c.info.find(name);
  return it != c.info.end() && it->second.unit == "ratio";
}

// Scale of a constant for the finite differences and the prior: a ratio moves in tenths;
// cycles relative to their prior value (at least 10 cycles).
double scale_of(const model::ModelConstants& c, const std::string& name, double v0) {
  return is_ratio(c, name) ? 0.1 : std::max(std::abs(v0), 10.0);
}

double clamp_constant(const model::ModelConstants& c, const std::string& name, double v) {
  // Ratios: an efficiency of 0 makes the model divide by zero; 0.05 is far below anything
  // physical. Cycles: never negative.
  return is_ratio(c, name) ? std::clamp(v, 0.05, 1.0) : std::max(v, 0.0);
}

struct Evaluator {
  std::vector<const PredictedRun*> runs;
  std::map<std::string, profiles::Profile> profiles;

  // log(pred/meas) per run; false if any run cannot be predicted with these constants.
  bool residuals(const model::ModelConstants& k, Eigen::VectorXd* r) {
    r->resize(static_cast<Eigen::Index>(runs.size()));
    const model::ModelConstants clean = model::with_clean_l2(k);  // runs timed from a clean L2
    for (size_t i = 0; i < runs.size(); ++i) {
      const MeasuredRun& m = runs[i]->run;
      try {
        auto it = profiles.find(m.gpu);
        if (it == profiles.end())
          it = profiles.emplace(m.gpu, profiles::builtin_profile(m.gpu)).first;
        const auto pr = model::predict(it->second, model::problem_from_json(m.problem), m.schedule,
                                       model::tile_from_json(m.tile), m.l2_clean_at_start ? clean : k);
        if (!(pr.time_us > 0.0) || !std::isfinite(pr.time_us)) return false;
        (*r)(static_cast<Eigen::Index>(i)) = std::log(pr.time_us / m.measured_us);
      } catch (const std::exception&) {
        return false;
      }
    }
    return true;
  }
};

double mape_of(Evaluator& ev, const model::ModelConstants& k) {
  Eigen::VectorXd r;
  if (ev.runs.empty() || !ev.residuals(k, &r)) return std::nan("");
  double s = 0.0;
  for (Eigen::Index i = 0; i < r.size(); ++i) s += std::abs(std::exp(r(i)) - 1.0);
  return 100.0 * s / static_cast<double>(r.size());
}

}  // namespace

CalibrationResult calibrate(const std::vector<PredictedRun>& runs,
                            const model::ModelConstants& initial, const CalibrationOptions& opts) {
  Evaluator train, test;
  for (const auto& r : runs) {
    // Layer steps (GEMM then decode with a KV prefetch) go through the sequence model, whose
    // own constants are measured, not fitted (model/include/tilesim/model/sequence.hpp).
    if (r.run.schedule == "layer_step") continue;
    if (r.split == "train") train.runs.push_back(&r);
    if (r.split == "test") test.runs.push_back(&r);
  }
  if (train.runs.empty())
    throw std::runtime_error("calibration: no predicted run in the training split");
  const auto known = model::constant_names();
  for (const auto& n : opts.names)
    if (std::find(known.begin(), known.end(), n) == known.end())
      throw std::runtime_error("calibration: '" + n + "' is not a model constant");

  const size_t p = opts.names.size();
  model::ModelConstants k = initial;
  Eigen::VectorXd c0(static_cast<Eigen::Index>(p)), scale(static_cast<Eigen::Index>(p));
  for (size_t j = 0; j < p; ++j) {
    c0(static_cast<Eigen::Index>(j)) = model::constant_ref(k, opts.names[j]);
    scale(static_cast<Eigen::Index>(j)) =
        scale_of(k, opts.names[j], c0(static_cast<Eigen::Index>(j)));
  }
  auto set = [&](model::ModelConstants& kk, const Eigen::VectorXd& c) {
    for (size_t j = 0; j < p; ++j)
      model::constant_ref(kk, opts.names[j]) = c(static_cast<Eigen::Index>(j));
  };
  // cost = |r|^2 + w |(c - c0)/scale|^2
  auto cost_of = [&](const Eigen::VectorXd& r, const Eigen::VectorXd& c) {
    return r.squaredNorm() + opts.prior_weight * ((c - c0).cwiseQuotient(scale)).squaredNorm();
  };

  CalibrationResult res;
  Eigen::VectorXd c = c0, r;
  if (!train.residuals(k, &r))
    throw std::runtime_error("calibration: a training run cannot be predicted");
  double cost = cost_of(r, c);
  res.cost_before = cost;
  double lambda = 1e-2;
  std::vector<double> sensitivity(p, 0.0);
  for (int it = 0; it < opts.max_iterations; ++it) {
    // Jacobian in scaled coordinates u = c / scale (forward differences, one-sided
    // inward at the bounds).
    const Eigen::Index n = r.size();
    Eigen::MatrixXd J(n, static_cast<Eigen::Index>(p));
    for (size_t j = 0; j < p; ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      double h = 1e-3 * scale(jj);
      Eigen::VectorXd cp = c;
      cp(jj) = clamp_constant(k, opts.names[j], c(jj) + h);
      if (cp(jj) == c(jj)) cp(jj) = clamp_constant(k, opts.names[j], c(jj) - h);
      h = cp(jj) - c(jj);
      model::ModelConstants kp = k;
      set(kp, cp);
      Eigen::VectorXd rp;
      if (h == 0.0 || !train.residuals(kp, &rp)) {
        J.col(jj).setZero();
      } else {
        J.col(jj) = (rp - r) / (h / scale(jj));
      }
      if (it == 0) sensitivity[j] = J.col(jj).norm();
    }
    const Eigen::VectorXd g_prior =
        opts.prior_weight * (c - c0).cwiseQuotient(scale);  // d/du of prior/2
    const Eigen::VectorXd grad = J.transpose() * r + g_prior;
    Eigen::MatrixXd A = J.transpose() * J;
    A.diagonal().array() += opts.prior_weight;
    bool improved = false;
    for (int tries = 0; tries < 8 && !improved; ++tries) {
      Eigen::MatrixXd Al = A;
      Al.diagonal() += lambda * A.diagonal().cwiseMax(1e-12);
      const Eigen::VectorXd du = Al.ldlt().solve(-grad);
      Eigen::VectorXd cn = c + du.cwiseProduct(scale);
      for (size_t j = 0; j < p; ++j)
        cn(static_cast<Eigen::Index>(j)) =
            clamp_constant(k, opts.names[j], cn(static_cast<Eigen::Index>(j)));
      model::ModelConstants kn = k;
      set(kn, cn);
      Eigen::VectorXd rn;
      if (train.residuals(kn, &rn)) {
        const double cn_cost = cost_of(rn, cn);
        if (cn_cost < cost) {
          const double gain = cost - cn_cost;
          c = cn;
          r = rn;
          cost = cn_cost;
          k = kn;
          lambda = std::max(lambda / 3.0, 1e-9);
          improved = true;
          res.iterations = it + 1;
          if (gain < 1e-10 * std::max(1.0, cost)) it = opts.max_iterations;  // converged
          break;
        }
      }
      lambda *= 4.0;
    }
    if (!improved) break;
  }
  res.cost_after = cost;
  res.fitted = k;
  for (size_t j = 0; j < p; ++j) {
    FittedConstant f;
    f.name = opts.names[j];
    auto info = initial.info.find(f.name);
    f.unit = info != initial.info.end() ? info->second.unit : "";
    f.initial = c0(static_cast<Eigen::Index>(j));
    f.value = c(static_cast<Eigen::Index>(j));
    f.sensitivity = sensitivity[j];
    // A column this small moves no residual by 1e-6 per unit of scale: the data cannot
    // tell the value, so the prior keeps it; say so rather than pretend it was fitted.
    f.identifiable = sensitivity[j] > 1e-6;
    res.constants.push_back(f);
  }
  res.train = {static_cast<int>(train.runs.size()), mape_of(train, initial), mape_of(train, k)};
  res.test = {static_cast<int>(test.runs.size()),
              test.runs.empty() ? std::nan("") : mape_of(test, initial),
              test.runs.empty() ? std::nan("") : mape_of(test, k)};
  return res;
}

namespace {
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
}  // namespace

json calibrated_constants_json(const CalibrationResult& r, const std::string& date,
                               const std::string& data_description) {
  json file = model::to_json(r.fitted);
  for (const auto& f : r.constants) {
    json& e = file["constants"][f.name];
    if (f.identifiable) {
      // The previous value only: a refit's source would otherwise nest every earlier
      // fit's source inside its own.
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "fitted: least squares on %d training runs of %s, %s (was %g); held-out MAPE "
                    "%.1f%% -> %.1f%% on %d runs",
                    r.train.n, data_description.c_str(), date.c_str(), f.initial, r.test.mape_before_pct,
                    r.test.mape_after_pct, r.test.n);
      e["source"] = buf;
    } else {
      const std::string note = e.value("note", "");
      e["note"] = note + (note.empty() ? "" : " ") + "[calibration " + date +
                  ": the measurements do not constrain this constant; kept]";
    }
  }
  json cal = calibration_summary_json(r);
  cal["date"] = date;
  cal["data"] = data_description;
  file["comment"] =
      "Model constants after least-squares calibration (tilesim validate --calibrate). Constants "
      "marked 'fitted' were fitted on the training split; the others are as in "
      "data/model/constants.json. Load with --constants <this file>.";
  file["calibration"] = cal;
  return file;
}

json calibration_summary_json(const CalibrationResult& r) {
  json cs = json::array();
  for (const auto& f : r.constants)
    cs.push_back({{"name", f.name},
                  {"unit", f.unit},
                  {"initial", f.initial},
                  {"value", f.value},
                  {"sensitivity", f.sensitivity},
                  {"identifiable", f.identifiable}});
  return {
      {"method",
       "Levenberg-Marquardt on sum log(pred/meas)^2 + weak prior toward the sourced values; "
       "Eigen LDLT normal equations"},
      {"split", r.split_rule},
      {"iterations", r.iterations},
      {"cost_before", r.cost_before},
      {"cost_after", r.cost_after},
      {"constants", cs},
      {"train",
       {{"n", r.train.n},
        {"mape_before_pct", num(r.train.mape_before_pct)},
        {"mape_after_pct", num(r.train.mape_after_pct)}}},
      {"test",
       {{"n", r.test.n},
        {"mape_before_pct", num(r.test.mape_before_pct)},
        {"mape_after_pct", num(r.test.mape_after_pct)}}},
      {"note",
       "test = shapes the fit never saw; a test MAPE that does not drop means the constants "
       "explain "
       "noise, not the model's error"}};
}

}  // namespace tilesim::validate

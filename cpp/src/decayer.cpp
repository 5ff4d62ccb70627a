#include "hadml/decayer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "hadml/kinematics.hpp"
#include "ort_model.hpp"

namespace hadml {
namespace {

const char* const kRequired[] = {
    "hadml.format_version", "hadml.version", "hadml.angle_convention", "hadml.conditions",
    "hadml.condition_min", "hadml.condition_max", "hadml.noise_dim", "hadml.output_names",
    "hadml.output_offset", "hadml.output_scale", "hadml.input_conditions", "hadml.input_noise",
    "hadml.output", "hadml.training_sample"};
const char* const kFormatVersion = "1";
const char* const kConvention = "hadml-1";
const std::vector<std::string> kClusterFeatures = {"cluster_E", "cluster_px", "cluster_py",
                                                   "cluster_pz"};
const std::vector<std::string> kPartonFeatures = {"parton_dx", "parton_dy", "parton_dz",
                                                  "has_partons"};

[[noreturn]] void bad(const std::string& source, const std::string& key, const std::string& what) {
  throw ModelError(source + ": metadata entry '" + key + "' " + what);
}

// Minimal reader for the flat JSON arrays hadml writes: numbers or strings, no nesting.
struct JsonArray {
  std::vector<std::string> strings;
  std::vector<double> numbers;
  std::vector<bool> integral;  ///< per number: written as an integer literal (no '.', exponent)
};

JsonArray parse_array(const std::string& text, const std::string& source, const std::string& key) {
  JsonArray out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  skip();
  if (i >= text.size() || text[i] != '[') bad(source, key, "is not a JSON list");
  ++i;
  skip();
  if (i < text.size() && text[i] == ']') return out;
  while (i < text.size()) {
    skip();
    if (text[i] == '"') {
      const std::size_t end = text.find('"', i + 1);
      if (end == std::string::npos) bad(source, key, "is not valid JSON");
      out.strings.push_back(text.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      const char* begin = text.c_str() + i;
      char* end = nullptr;
      const double v = std::strtod(begin, &end);
      if (end == begin) bad(source, key, "is not valid JSON");
      out.numbers.push_back(v);
      out.integral.push_back(std::string(begin, static_cast<const char*>(end)).find_first_not_of("+-0123456789") == std::string::npos);
      i += static_cast<std::size_t>(end - begin);
    }
    skip();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < text.size() && text[i] == ']') {
      if (!out.strings.empty() && !out.numbers.empty()) bad(source, key, "mixes strings and numbers");
      return out;
    }
    break;
  }
  bad(source, key, "is not valid JSON");
}

void require_shape(const std::vector<int64_t>& shape, std::size_t width, const std::string& source,
                   const std::string& what) {
  if (shape.size() != 2 || shape[1] != static_cast<int64_t>(width)) {
    std::ostringstream os;
    os << source << ": " << what << " must have shape (batch, " << width << ")";
    throw ModelError(os.str());
  }
}

// Checks one row as two_body_decay would (without throwing); on success M is the cluster's mass.
bool valid_row(const double* c, double m1, double m2, DecayStatus& status, double& M) {
  for (int j = 0; j < 4; ++j) {
    if (!std::isfinite(c[j])) {
      status = DecayStatus::invalid_input;
      return false;
    }
  }
  if (!std::isfinite(m1) || !std::isfinite(m2) || m1 < 0.0 || m2 < 0.0 || !(c[0] > 0.0)) {
    status = DecayStatus::invalid_input;
    return false;
  }
  const double M2 = mass2({c[0], c[1], c[2], c[3]});
  if (!(M2 > 0.0)) {
    status = DecayStatus::invalid_input;
    return false;
  }
  M = std::sqrt(M2);
  if (M < m1 + m2) {
    status = DecayStatus::below_threshold;
    return false;
  }
  status = DecayStatus::ok;
  return true;
}


// ---- format 2 (hadml-2): python/hadml/ml/hadml2.py's SCHEMA, key for key, in its order ----------
const std::vector<std::string> kConditions2 = {"log_cluster_mass", "log1p_cluster_p", "cos_alpha",
                                               "pert1", "pert2", "flavour1", "flavour2",
                                               "hadron1_mass", "hadron2_mass"};
const std::vector<std::string> kOutputs2 = {"ux", "uy", "uz"};
constexpr std::size_t kFlavourClasses = 5;  // light, s, c, b, diquark

struct SchemaEntry {
  const char* key;
  const char* kind;  // "const:<value>", "text", "names", "numbers", "int>=1", "outputs", "ints", "range"
};
const SchemaEntry kSchema2[] = {
    {"hadml.format_version", "const:2"},
    {"hadml.version", "text"},
    {"hadml.angle_convention", "const:hadml-2"},
    {"hadml.conditions", "names"},
    {"hadml.condition_min", "numbers"},
    {"hadml.condition_max", "numbers"},
    {"hadml.noise_dim", "int>=1"},
    {"hadml.output_names", "outputs"},
    {"hadml.input_conditions", "const:conditions"},
    {"hadml.input_noise", "const:noise"},
    {"hadml.output", "const:direction"},
    {"hadml.training_sample", "text"},
    {"hadml.domain_flavours", "ints"},
    {"hadml.domain_hadrons", "ints"},
    {"hadml.domain_mass", "range"},
};

std::string join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", '" : "'") + v[i] + "'";
  return s + "]";
}

ModelMetadata parse_metadata2(const std::map<std::string, std::string>& md, const std::string& source) {
  ModelMetadata m;
  m.all = md;
  m.format = 2;
  std::vector<int> flavours, hadrons;
  for (const auto& entry : kSchema2) {
    const std::string key = entry.key;
    const std::string kind = entry.kind;
    const auto it = md.find(key);
    if (it == md.end()) throw ModelError(source + ": missing metadata entry '" + key + "'");
    const std::string& text = it->second;
    if (kind.rfind("const:", 0) == 0) {
      const std::string want = kind.substr(6);
      if (text != want) bad(source, key, "is '" + text + "', expected '" + want + "'");
      continue;
    }
    if (kind == "text") continue;
    if (kind == "int>=1") {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        bad(source, key, "must be an integer >= 1");
      }
      const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
      if (v < 1 || v > (1ULL << 31)) bad(source, key, "must be an integer >= 1");
      m.noise_dim = static_cast<std::size_t>(v);
      continue;
    }
    const JsonArray a = parse_array(text, source, key);
    auto finite_numbers = [&](std::size_t count) {
      if (!a.strings.empty() || a.numbers.size() != count) return false;
      for (double x : a.numbers) {
        if (!std::isfinite(x)) return false;
      }
      return true;
    };
    if (kind == "names") {
      if (!a.numbers.empty() || a.strings != kConditions2) bad(source, key, "must be " + join(kConditions2));
      m.conditions = a.strings;
    } else if (kind == "outputs") {
      if (!a.numbers.empty() || a.strings != kOutputs2) bad(source, key, "must be " + join(kOutputs2));
    } else if (kind == "numbers") {
      if (!finite_numbers(kConditions2.size())) {
        bad(source, key, "must hold " + std::to_string(kConditions2.size()) + " finite numbers");
      }
      (key == "hadml.condition_min" ? m.condition_min : m.condition_max) = a.numbers;
    } else if (kind == "ints") {
      bool ok = a.strings.empty() && !a.numbers.empty();
      std::vector<int> v;
      for (std::size_t j = 0; ok && j < a.numbers.size(); ++j) {
        const double x = a.numbers[j];
        ok = a.integral[j] && x >= 0.0 && x <= 2147483647.0;
        v.push_back(static_cast<int>(x));
      }
      if (!ok) bad(source, key, "must be a non-empty list of non-negative integers");
      (key == "hadml.domain_flavours" ? flavours : hadrons) = v;
    } else if (kind == "range") {
      if (!finite_numbers(2) || !(a.numbers[0] <= a.numbers[1])) {
        bad(source, key, "must be [min, max], finite, min <= max");
      }
      m.domain_mass[0] = a.numbers[0];
      m.domain_mass[1] = a.numbers[1];
    }
  }
  for (std::size_t j = 0; j < kConditions2.size(); ++j) {
    if (!(m.condition_max[j] > m.condition_min[j])) {
      bad(source, "hadml.condition_max", "must exceed 'hadml.condition_min'");
    }
    m.condition_scale.push_back(2.0 / (m.condition_max[j] - m.condition_min[j]));
  }
  for (int f : flavours) {
    if (f >= static_cast<int>(kFlavourClasses)) {
      bad(source, "hadml.domain_flavours", "holds an unknown flavour class");
    }
  }
  m.domain_flavours = flavours;
  m.domain_hadrons = hadrons;
  m.format_version = md.at("hadml.format_version");
  m.angle_convention = md.at("hadml.angle_convention");
  m.version = md.at("hadml.version");
  m.training_sample = md.at("hadml.training_sample");
  return m;
}

// (clip(x, min, max) - min) * (2 / (max - min)) - 1 for the 9 format-2 conditions, cast to float
// (hadml2.Scaler.transform, operation for operation; the factor is the metadata's, computed once).
// std::min/max keep a NaN a NaN, as np.clip does.
void scale_conditions(const ModelMetadata& md, const double* raw, float* out) {
  for (std::size_t j = 0; j < kConditions2.size(); ++j) {
    const double x = std::min(std::max(raw[j], md.condition_min[j]), md.condition_max[j]);
    out[j] = static_cast<float>((x - md.condition_min[j]) * md.condition_scale[j] - 1.0);
  }
}

// Everything decay2() needs of one validated row.
struct Row2 {
  FourVector cluster;
  double M = 0.0;
  detail::BoostAxis axis{};  ///< boost_axis(cluster), computed once for the frame and the decay
  DecayFrame frame;
};

// Validates row i of a format-2 batch (statuses as decay()); on success fills `row`.
bool valid_row2(const DecayInput2& in, std::size_t i, DecayStatus& status, Row2& row) {
  const double* c = in.clusters + 4 * i;
  // the cluster and masses first, as decay() (below_threshold before the constituents' checks)
  if (!valid_row(c, in.m1[i], in.m2[i], status, row.M)) return false;
  status = DecayStatus::invalid_input;
  if (flavour_class(in.constituent_pid[2 * i]) < 0 || flavour_class(in.constituent_pid[2 * i + 1]) < 0) {
    return false;
  }
  const double* q = in.constituent1 + 4 * i;
  row.cluster = FourVector{c[0], c[1], c[2], c[3]};
  try {  // the cluster passed valid_row: only the constituent is left to check
    row.axis = detail::boost_axis(row.cluster);
    row.frame = detail::decay_frame_unchecked(row.cluster, row.M, row.axis, FourVector{q[0], q[1], q[2], q[3]});
  } catch (const KinematicsError&) {
    return false;
  }
  status = DecayStatus::ok;
  return true;
}

}  // namespace

int flavour_class(int pid) {
  const long a = std::labs(static_cast<long>(pid));
  if (a == 1 || a == 2) return 0;
  if (a == 3) return 1;
  if (a == 4) return 2;
  if (a == 5) return 3;
  if (a > 1000 && a < 10000) return 4;
  return -1;
}

ModelMetadata parse_metadata(const std::map<std::string, std::string>& md, const std::string& source) {
  if (const auto fv = md.find("hadml.format_version"); fv != md.end() && fv->second != kFormatVersion) {
    if (fv->second == "2") return parse_metadata2(md, source);
    bad(source, "hadml.format_version", "is '" + fv->second + "', this hadml reads '1' (hadml-1) or '2' (hadml-2)");
  }
  for (const char* key : kRequired) {
    if (md.find(key) == md.end()) throw ModelError(source + ": missing metadata entry '" + key + "'");
  }
  ModelMetadata m;
  m.all = md;
  m.format_version = md.at("hadml.format_version");
  if (m.format_version != kFormatVersion) {
    bad(source, "hadml.format_version",
        "is '" + m.format_version + "', this hadml reads '" + kFormatVersion + "'");
  }
  m.angle_convention = md.at("hadml.angle_convention");
  if (m.angle_convention != kConvention) {
    bad(source, "hadml.angle_convention", "is '" + m.angle_convention + "', expected 'hadml-1'");
  }
  m.conditions = parse_array(md.at("hadml.conditions"), source, "hadml.conditions").strings;
  std::vector<std::string> with_partons = kClusterFeatures;
  with_partons.insert(with_partons.end(), kPartonFeatures.begin(), kPartonFeatures.end());
  if (m.conditions == kClusterFeatures) {
    m.use_partons = false;
  } else if (m.conditions == with_partons) {
    m.use_partons = true;
  } else {
    bad(source, "hadml.conditions", "is not a known feature list");
  }
  const std::size_t d = m.conditions.size();
  m.condition_min = parse_array(md.at("hadml.condition_min"), source, "hadml.condition_min").numbers;
  m.condition_max = parse_array(md.at("hadml.condition_max"), source, "hadml.condition_max").numbers;
  for (const auto* key : {"hadml.condition_min", "hadml.condition_max"}) {
    const auto& v = std::string(key) == "hadml.condition_min" ? m.condition_min : m.condition_max;
    bool ok = v.size() == d;
    for (double x : v) ok = ok && std::isfinite(x);
    if (!ok) bad(source, key, "must hold " + std::to_string(d) + " finite numbers");
  }
  for (std::size_t j = 0; j < d; ++j) {
    if (!(m.condition_max[j] > m.condition_min[j])) {
      bad(source, "hadml.condition_max", "must exceed 'hadml.condition_min'");
    }
  }
  const std::string& nd = md.at("hadml.noise_dim");
  char* end = nullptr;
  const long noise = std::strtol(nd.c_str(), &end, 10);
  if (end == nd.c_str() || *end != '\0') bad(source, "hadml.noise_dim", "is not an integer");
  if (noise < 1) bad(source, "hadml.noise_dim", "must be >= 1");
  m.noise_dim = static_cast<std::size_t>(noise);
  const auto names = parse_array(md.at("hadml.output_names"), source, "hadml.output_names").strings;
  if (names != std::vector<std::string>{"theta", "phi"}) {
    bad(source, "hadml.output_names", "must be ['theta', 'phi']");
  }
  const auto off = parse_array(md.at("hadml.output_offset"), source, "hadml.output_offset").numbers;
  const auto sc = parse_array(md.at("hadml.output_scale"), source, "hadml.output_scale").numbers;
  if (off.size() != 2) bad(source, "hadml.output_offset", "must hold 2 numbers");
  if (sc.size() != 2) bad(source, "hadml.output_scale", "must hold 2 numbers");
  m.output_offset[0] = off[0];
  m.output_offset[1] = off[1];
  m.output_scale[0] = sc[0];
  m.output_scale[1] = sc[1];
  m.version = md.at("hadml.version");
  m.training_sample = md.at("hadml.training_sample");
  return m;
}

Decayer::Decayer(const std::string& model_path, const DecayerOptions& options) : path_(model_path) {
  model_ = std::make_unique<OrtModel>(model_path, options);
  md_ = parse_metadata(model_->metadata(), model_path);
  const auto& in = model_->input_names();
  if (in.size() != 2 || in[0] != md_.all.at("hadml.input_conditions") ||
      in[1] != md_.all.at("hadml.input_noise")) {
    throw ModelError(model_path + ": the model's inputs must be ('" +
                     md_.all.at("hadml.input_conditions") + "', '" +
                     md_.all.at("hadml.input_noise") + "') as its metadata says");
  }
  require_shape(model_->input_shapes()[0], md_.conditions.size(), model_path,
                "input '" + in[0] + "'");
  require_shape(model_->input_shapes()[1], md_.noise_dim, model_path, "input '" + in[1] + "'");
  if (model_->output_shapes().size() != 1) throw ModelError(model_path + ": the model must have one output");
  require_shape(model_->output_shapes()[0], output_width(), model_path,
                "output '" + md_.all.at("hadml.output") + "'");
}

Decayer::~Decayer() = default;
Decayer::Decayer(Decayer&&) noexcept = default;
Decayer& Decayer::operator=(Decayer&&) noexcept = default;

const ModelMetadata& Decayer::metadata() const { return md_; }
std::size_t Decayer::noise_dim() const { return md_.noise_dim; }
std::size_t Decayer::n_conditions() const { return md_.conditions.size(); }
const std::string& Decayer::path() const { return path_; }
int Decayer::format_version() const { return md_.format; }
std::size_t Decayer::output_width() const { return md_.format == 2 ? 3 : 2; }

void Decayer::require_format(int format, const char* what) const {
  if (md_.format != format) {
    throw ModelError(path_ + ": " + what + " takes a format-" + std::to_string(format) +
                     " model; this one is format " + std::to_string(md_.format) +
                     (md_.format == 2 ? " (use decay2/preprocess2)" : " (use decay/preprocess)"));
  }
}

void Decayer::raw_conditions(const double* c, const double* parton1, bool has_partons,
                             double* out) const {
  require_format(1, "raw_conditions");
  for (int j = 0; j < 4; ++j) out[j] = c[j];
  if (!md_.use_partons) return;
  out[4] = out[5] = out[6] = 0.0;
  out[7] = has_partons ? 1.0 : 0.0;
  if (!has_partons) return;
  const FourVector cl{c[0], c[1], c[2], c[3]};
  const FourVector q{parton1[0], parton1[1], parton1[2], parton1[3]};
  const FourVector r = boost_to_rest(q, mass(q), cl, mass(cl));
  const double norm = std::sqrt(r.px * r.px + r.py * r.py + r.pz * r.pz);
  out[4] = r.px / norm;
  out[5] = r.py / norm;
  out[6] = r.pz / norm;
}

void Decayer::preprocess(std::size_t n, const double* clusters, const double* parton1,
                         const std::uint8_t* has_partons, float* out) const {
  require_format(1, "preprocess");
  const std::size_t d = md_.conditions.size();
  if (md_.use_partons && (parton1 == nullptr || has_partons == nullptr)) {
    throw ModelError(path_ + ": this model was trained with parton information; pass parton1 and has_partons");
  }
  double raw[8];
  for (std::size_t i = 0; i < n; ++i) {
    raw_conditions(clusters + 4 * i, md_.use_partons ? parton1 + 4 * i : nullptr,
                   md_.use_partons && has_partons[i] != 0, raw);
    for (std::size_t j = 0; j < d; ++j) {
      const double s = 2.0 * (raw[j] - md_.condition_min[j]) /
                           (md_.condition_max[j] - md_.condition_min[j]) - 1.0;
      out[i * d + j] = static_cast<float>(s);
    }
  }
}

void Decayer::network(std::size_t n, const float* conditions, const float* noise, float* out) const {
  model_->run(n, conditions, md_.conditions.size(), noise, md_.noise_dim, out, output_width());
}

void Decayer::postprocess(std::size_t n, const float* t, const double* clusters, const double* m1,
                          const double* m2, const double* flip, const DecayOutput& out) const {
  require_format(1, "postprocess");
  finish(n, t, clusters, nullptr, m1, m2, flip, out, nullptr);
}

std::size_t Decayer::finish(std::size_t n, const float* t, const double* clusters, const double* masses,
                            const double* m1, const double* m2, const double* flip, const DecayOutput& out,
                            DecayStatus* flag) const {
  std::size_t bad_rows = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double theta = md_.output_offset[0] + md_.output_scale[0] * static_cast<double>(t[2 * i]);
    const double phi = md_.output_offset[1] + md_.output_scale[1] * static_cast<double>(t[2 * i + 1]);
    const bool second_first = flip[i] < 0.5;
    const double mf = second_first ? m2[i] : m1[i];
    const double ms = second_first ? m1[i] : m2[i];
    const double* c = clusters + 4 * i;
    const FourVector cluster{c[0], c[1], c[2], c[3]};
    // masses given: decay() validated these rows (valid_row); only the angles are left to check
    if (masses != nullptr && !(std::isfinite(theta) && std::isfinite(phi))) {
      if (flag == nullptr) {
        throw KinematicsError("two-body decay: non-finite angle (the network's output is not finite)");
      }
      flag[i] = DecayStatus::invalid_output;
      ++bad_rows;
      for (int j = 0; j < 4; ++j) out.h1[4 * i + j] = out.h2[4 * i + j] = std::nan("");
      if (out.theta != nullptr) out.theta[i] = std::nan("");
      if (out.phi != nullptr) out.phi[i] = std::nan("");
      continue;
    }
    const DecayProducts d = masses != nullptr
                                ? detail::two_body_decay_unchecked(cluster, masses[i], mf, ms, theta, phi)
                                : two_body_decay(cluster, mf, ms, theta, phi);
    const FourVector& a = second_first ? d.second : d.first;
    const FourVector& b = second_first ? d.first : d.second;
    double* h1 = out.h1 + 4 * i;
    double* h2 = out.h2 + 4 * i;
    h1[0] = a.e, h1[1] = a.px, h1[2] = a.py, h1[3] = a.pz;
    h2[0] = b.e, h2[1] = b.px, h2[2] = b.py, h2[3] = b.pz;
    if (out.theta != nullptr) out.theta[i] = theta;
    if (out.phi != nullptr) out.phi[i] = phi;
    if (out.status != nullptr) out.status[i] = DecayStatus::ok;
  }
  return bad_rows;
}

std::size_t Decayer::decay(const DecayInput& in, const DecayOutput& out) const {
  require_format(1, "decay");
  const std::size_t d = md_.conditions.size();
  const std::size_t k = md_.noise_dim;
  // Validate every row; the valid ones go to one ONNX Runtime run (compacted into contiguous
  // buffers when some rows are bad).
  thread_local std::vector<std::size_t> rows;
  thread_local std::vector<double> cl, p1, m1, m2, fl, mass;
  thread_local std::vector<std::uint8_t> has;
  thread_local std::vector<float> cond, noise, t;
  rows.clear();
  mass.resize(in.n);
  for (std::size_t i = 0; i < in.n; ++i) {
    DecayStatus s;
    bool ok = valid_row(in.clusters + 4 * i, in.m1[i], in.m2[i], s, mass[rows.size()]);
    if (ok && md_.use_partons && in.has_partons != nullptr && in.has_partons[i] != 0) {
      const double* q = in.parton1 + 4 * i;
      for (int j = 0; j < 4; ++j) ok = ok && std::isfinite(q[j]);
      ok = ok && q[0] > 0.0 && mass2({q[0], q[1], q[2], q[3]}) >= 0.0;
      if (!ok) s = DecayStatus::invalid_input;
    }
    if (out.status != nullptr) out.status[i] = s;
    if (!ok) {
      for (int j = 0; j < 4; ++j) out.h1[4 * i + j] = out.h2[4 * i + j] = std::nan("");
      if (out.theta != nullptr) out.theta[i] = std::nan("");
      if (out.phi != nullptr) out.phi[i] = std::nan("");
      continue;
    }
    rows.push_back(i);
  }
  const std::size_t m = rows.size();
  if (m == in.n && (!md_.use_partons || (in.parton1 != nullptr && in.has_partons != nullptr))) {
    // every row valid (the usual case): no compaction, results straight into the caller's arrays
    cond.resize(m * d), t.resize(2 * m);
    preprocess(m, in.clusters, in.parton1, in.has_partons, cond.data());
    network(m, cond.data(), in.noise, t.data());
    // statuses set above; finish() flags rows whose network output is not finite
    thread_local std::vector<DecayStatus> own;
    DecayStatus* flag = out.status;
    if (flag == nullptr) own.assign(m, DecayStatus::ok), flag = own.data();
    return m - finish(m, t.data(), in.clusters, mass.data(), in.m1, in.m2, in.flip,
                      DecayOutput{out.h1, out.h2, out.theta, out.phi, nullptr}, flag);
  }
  cl.resize(4 * m), p1.resize(4 * m), m1.resize(m), m2.resize(m), fl.resize(m), has.resize(m);
  noise.resize(m * k), cond.resize(m * d), t.resize(2 * m);
  for (std::size_t r = 0; r < m; ++r) {
    const std::size_t i = rows[r];
    for (int j = 0; j < 4; ++j) {
      cl[4 * r + j] = in.clusters[4 * i + j];
      p1[4 * r + j] = in.parton1 != nullptr ? in.parton1[4 * i + j] : 0.0;
    }
    m1[r] = in.m1[i];
    m2[r] = in.m2[i];
    fl[r] = in.flip[i];
    has[r] = in.has_partons != nullptr ? in.has_partons[i] : 0;
    for (std::size_t j = 0; j < k; ++j) noise[r * k + j] = in.noise[i * k + j];
  }
  preprocess(m, cl.data(), p1.data(), has.data(), cond.data());
  network(m, cond.data(), noise.data(), t.data());
  thread_local std::vector<double> h1, h2, th, ph;
  thread_local std::vector<DecayStatus> flag;
  h1.resize(4 * m), h2.resize(4 * m), th.resize(m), ph.resize(m);
  flag.assign(m, DecayStatus::ok);
  const std::size_t bad_rows = finish(m, t.data(), cl.data(), mass.data(), m1.data(), m2.data(), fl.data(),
                                      DecayOutput{h1.data(), h2.data(), th.data(), ph.data(), nullptr},
                                      flag.data());
  for (std::size_t r = 0; r < m; ++r) {
    const std::size_t i = rows[r];
    if (out.status != nullptr) out.status[i] = flag[r];
    for (int j = 0; j < 4; ++j) {
      out.h1[4 * i + j] = h1[4 * r + j];
      out.h2[4 * i + j] = h2[4 * r + j];
    }
    if (out.theta != nullptr) out.theta[i] = th[r];
    if (out.phi != nullptr) out.phi[i] = ph[r];
  }
  return m - bad_rows;
}

std::size_t Decayer::decay(std::size_t n, const double* clusters, const double* m1, const double* m2,
                           const double* parton1, const std::uint8_t* has_partons,
                           const NormalFill& normal, const UniformFill& uniform,
                           const DecayOutput& out) const {
  thread_local std::vector<float> noise;
  thread_local std::vector<double> flip;
  noise.resize(n * md_.noise_dim);
  flip.resize(n);
  normal(noise.data(), noise.size());
  uniform(flip.data(), flip.size());
  return decay(DecayInput{n, clusters, m1, m2, parton1, has_partons, noise.data(), flip.data()}, out);
}

// ---- format 2 ----------------------------------------------------------------------------------

void Decayer::raw_conditions2(const double* c, const double* constituent1, const std::int32_t* pid,
                              const std::uint8_t* perturbative, double m1, double m2, double* out) const {
  require_format(2, "raw_conditions2");
  const FourVector cluster{c[0], c[1], c[2], c[3]};
  const DecayFrame f =
      decay_frame(cluster, FourVector{constituent1[0], constituent1[1], constituent1[2], constituent1[3]});
  const int f1 = flavour_class(pid[0]), f2 = flavour_class(pid[1]);
  if (f1 < 0 || f2 < 0) {
    throw KinematicsError("constituent pid " + std::to_string(f1 < 0 ? pid[0] : pid[1]) +
                          " is no quark or diquark: no hadml-2 flavour class");
  }
  out[0] = std::log(mass(cluster));
  out[1] = std::log1p(std::sqrt(c[1] * c[1] + c[2] * c[2] + c[3] * c[3]));
  out[2] = f.cos_alpha;
  out[3] = static_cast<double>(perturbative[0]);
  out[4] = static_cast<double>(perturbative[1]);
  out[5] = static_cast<double>(f1);
  out[6] = static_cast<double>(f2);
  out[7] = m1;
  out[8] = m2;
}

void Decayer::preprocess2(std::size_t n, const double* clusters, const double* constituent1,
                          const std::int32_t* constituent_pid, const std::uint8_t* perturbative,
                          const double* m1, const double* m2, float* out) const {
  require_format(2, "preprocess2");
  constexpr std::size_t d = 9;
  double raw[d];
  for (std::size_t i = 0; i < n; ++i) {
    try {
      raw_conditions2(clusters + 4 * i, constituent1 + 4 * i, constituent_pid + 2 * i, perturbative + 2 * i,
                      m1[i], m2[i], raw);
    } catch (const KinematicsError& e) {
      throw KinematicsError("row " + std::to_string(i) + ": " + e.what());
    }
    scale_conditions(md_, raw, out + i * d);
  }
}

std::size_t Decayer::decay2(const DecayInput2& in, const DecayOutput2& out) const {
  require_format(2, "decay2");
  constexpr std::size_t d = 9;
  const std::size_t k = md_.noise_dim;
  thread_local std::vector<std::size_t> rows;
  thread_local std::vector<Row2> info;
  thread_local std::vector<float> cond, noise, v;
  rows.clear();
  info.resize(in.n);
  cond.resize(in.n * d);
  noise.resize(in.n * k);
  const double nan = std::nan("");
  auto fail = [&](std::size_t i, DecayStatus s) {
    if (out.status != nullptr) out.status[i] = s;
    for (int j = 0; j < 4; ++j) out.h1[4 * i + j] = out.h2[4 * i + j] = nan;
    if (out.u != nullptr) out.u[3 * i] = out.u[3 * i + 1] = out.u[3 * i + 2] = nan;
  };
  // validate every row; the valid ones' scaled conditions and noise go into contiguous buffers
  for (std::size_t i = 0; i < in.n; ++i) {
    DecayStatus s;
    Row2& row = info[rows.size()];
    if (!valid_row2(in, i, s, row)) {
      fail(i, s);
      continue;
    }
    const std::int32_t* pid = in.constituent_pid + 2 * i;
    const std::uint8_t* pert = in.perturbative + 2 * i;
    // |p| is the axis' (the same sum of squares, the same sqrt as raw_conditions2)
    const double raw[d] = {std::log(row.M),
                           std::log1p(row.axis.p),
                           row.frame.cos_alpha,
                           static_cast<double>(pert[0]),
                           static_cast<double>(pert[1]),
                           static_cast<double>(flavour_class(pid[0])),
                           static_cast<double>(flavour_class(pid[1])),
                           in.m1[i],
                           in.m2[i]};
    scale_conditions(md_, raw, cond.data() + rows.size() * d);
    for (std::size_t j = 0; j < k; ++j) noise[rows.size() * k + j] = in.noise[i * k + j];
    rows.push_back(i);
  }
  const std::size_t m = rows.size();
  v.resize(3 * m);
  network(m, cond.data(), noise.data(), v.data());
  std::size_t ok = 0;
  for (std::size_t r = 0; r < m; ++r) {
    const std::size_t i = rows[r];
    const Row2& row = info[r];
    const double x = v[3 * r], y = v[3 * r + 1], z = v[3 * r + 2];
    const double norm = std::sqrt(x * x + y * y + z * z);
    if (!(std::isfinite(x) && std::isfinite(y) && std::isfinite(z)) || !(norm > 0.0) || !std::isfinite(norm)) {
      fail(i, DecayStatus::invalid_output);
      continue;
    }
    const double u[3] = {x / norm, y / norm, z / norm};
    // u in the frame's axes -> lab-parallel rest-frame axes (a rotation: stays a unit vector)
    const DecayFrame& f = row.frame;
    const double dir[3] = {u[0] * f.x[0] + u[1] * f.y[0] + u[2] * f.z[0], u[0] * f.x[1] + u[1] * f.y[1] + u[2] * f.z[1],
                           u[0] * f.x[2] + u[1] * f.y[2] + u[2] * f.z[2]};
    // hadron 1 (mass m1) along u, hadron 2 (m2) back to back; no flip
    const DecayProducts p = detail::two_body_decay_along_unchecked(row.cluster, row.M, row.axis, in.m1[i], in.m2[i], dir);
    double* h1 = out.h1 + 4 * i;
    double* h2 = out.h2 + 4 * i;
    h1[0] = p.first.e, h1[1] = p.first.px, h1[2] = p.first.py, h1[3] = p.first.pz;
    h2[0] = p.second.e, h2[1] = p.second.px, h2[2] = p.second.py, h2[3] = p.second.pz;
    if (out.u != nullptr) out.u[3 * i] = u[0], out.u[3 * i + 1] = u[1], out.u[3 * i + 2] = u[2];
    if (out.status != nullptr) out.status[i] = DecayStatus::ok;
    ++ok;
  }
  return ok;
}

bool Decayer::in_domain(int pid1, int pid2, int hadron1, int hadron2, double M) const {
  require_format(2, "in_domain");
  auto has = [](const std::vector<int>& v, long x) {
    for (int e : v) {
      if (e == x) return true;
    }
    return false;
  };
  const int f1 = flavour_class(pid1), f2 = flavour_class(pid2);
  if (f1 < 0 || f2 < 0) return false;
  return has(md_.domain_flavours, f1) && has(md_.domain_flavours, f2) &&
         has(md_.domain_hadrons, std::labs(static_cast<long>(hadron1))) &&
         has(md_.domain_hadrons, std::labs(static_cast<long>(hadron2))) && M >= md_.domain_mass[0] &&
         M <= md_.domain_mass[1];
}

}  // namespace hadml

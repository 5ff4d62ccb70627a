// hadml::Decayer: GAN cluster decays with ONNX Runtime, batched, mirroring python/hadml/ml.
//
// Pre-processing (python/hadml/ml/features.py): raw conditions per cluster are the cluster
// four-momentum and, for models trained with parton information, the unit rest-frame direction of
// constituent 1 and a has-partons flag; each is scaled as 2 (x - min) / (max - min) - 1 with the
// min/max stored in the model's metadata, then cast to float. Post-processing: the network's
// t in (-1, 1)^2 maps to theta = offset0 + scale0 t0, phi = offset1 + scale1 t1 (metadata); the
// "first" hadron is hadron 2 when the caller's uniform flip < 0.5, else hadron 1; the pair is
// built with the kinematics core. Noise and flips come from the caller, so a generator's own
// random stream (Herwig's) drives everything and runs are reproducible.
//
// Format 2 (convention "hadml-2", python/hadml/ml/hadml2.py, which this file mirrors): nine
// rotation-invariant raw conditions per cluster (ln M, ln(1 + |p|), cos_alpha of decay_frame,
// the two isPerturbative flags, the two constituents' flavour classes, the two hadron masses),
// scaled the same way; the network's output is an unbounded 3-vector v whose direction v / |v|
// is hadron 1's direction in the decay frame (no flip, no fold). decay2() / preprocess2() take
// this model kind; decay() / preprocess() / postprocess() the format-1 kind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace hadml {

/// A model file, its metadata, or the ONNX Runtime library is missing or inconsistent.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The ONNX Runtime library cannot be found, loaded, or is too old (a ModelError).
class OnnxRuntimeError : public ModelError {
 public:
  using ModelError::ModelError;
};

struct DecayerOptions {
  int intra_op_threads = 1;                ///< ONNX Runtime intra-op threads (1: deterministic, cheap)
  std::string execution_provider = "cpu";  ///< "cpu" or "cuda"
  int cuda_device = 0;
  /// path of libonnxruntime.so; empty: $HADML_ONNXRUNTIME_LIBRARY, then the onnxruntime Python
  /// package installed beside hadml, then the library of -DHADML_ONNXRUNTIME_ROOT (if any)
  std::string onnxruntime_library;
};

/// The validated hadml metadata of an exported generator.
struct ModelMetadata {
  std::vector<std::string> conditions;
  std::vector<double> condition_min, condition_max;
  /// format 2: 2 / (condition_max - condition_min), so that scaling multiplies (hadml2.Scaler)
  std::vector<double> condition_scale;
  std::size_t noise_dim = 0;
  double output_offset[2] = {0.0, 0.0};
  double output_scale[2] = {1.0, 1.0};
  std::string version, training_sample, format_version, angle_convention;
  bool use_partons = false;
  int format = 1;  ///< 1 (hadml-1) or 2 (hadml-2)
  // format 2 only: the training domain (hadml.domain_flavours, domain_hadrons, domain_mass)
  std::vector<int> domain_flavours, domain_hadrons;
  double domain_mass[2] = {0.0, 0.0};
  std::map<std::string, std::string> all;
};

/// Parse and validate hadml metadata (``source`` names the file in messages): format 1 when
/// hadml.format_version is "1" (or missing: then the missing-entry error), format 2 when "2"
/// (every key of hadml2.SCHEMA checked as hadml2.parse_metadata does), anything else refused.
ModelMetadata parse_metadata(const std::map<std::string, std::string>& md, const std::string& source);

enum class DecayStatus : std::uint8_t {
  ok = 0,
  below_threshold = 1,  ///< cluster mass < m1 + m2: caller falls back (e.g. to Herwig's own decay)
  invalid_input = 2,    ///< NaN/inf, non-positive energy, space-like cluster, negative mass
  invalid_output = 3,   ///< the network's output is not finite: caller falls back
};

/// Inputs for n clusters, row-major. parton1/has_partons are read only by parton-aware models.
struct DecayInput {
  std::size_t n = 0;
  const double* clusters = nullptr;        ///< n x 4 (E, px, py, pz)
  const double* m1 = nullptr;              ///< n, mass of Herwig's hadron 1
  const double* m2 = nullptr;              ///< n, mass of Herwig's hadron 2
  const double* parton1 = nullptr;         ///< n x 4, constituent 1 (lab)
  const std::uint8_t* has_partons = nullptr;  ///< n
  const float* noise = nullptr;            ///< n x noise_dim, standard normal
  const double* flip = nullptr;            ///< n, uniform in [0, 1)
};

/// Inputs of a format-2 (hadml-2) model for n clusters, row-major.
struct DecayInput2 {
  std::size_t n = 0;
  const double* clusters = nullptr;              ///< n x 4 (E, px, py, pz), lab
  const double* constituent1 = nullptr;          ///< n x 4, lab four-momentum of constituent 1
  const std::int32_t* constituent_pid = nullptr;  ///< n x 2, PDG ids of constituents 1 and 2
  const std::uint8_t* perturbative = nullptr;    ///< n x 2, Herwig's Cluster::isPerturbative(i)
  const double* m1 = nullptr;                    ///< n, mass of Herwig's hadron 1
  const double* m2 = nullptr;                    ///< n, mass of Herwig's hadron 2
  const float* noise = nullptr;                  ///< n x noise_dim, standard normal
};

struct DecayOutput2 {
  double* h1 = nullptr;           ///< n x 4, hadron 1 (mass m1) along the network's direction
  double* h2 = nullptr;           ///< n x 4, hadron 2 (mass m2), back to back in the rest frame
  double* u = nullptr;            ///< n x 3 (optional), hadron 1's unit direction, frame coordinates
  DecayStatus* status = nullptr;  ///< n (optional)
};

/// hadml-2 flavour class of a constituent: 0 d/u, 1 s, 2 c, 3 b, 4 diquark (1000 < |pid| < 10000),
/// -1 for anything else (no quark or diquark, e.g. a gluon).
int flavour_class(int pid);

struct DecayOutput {
  double* h1 = nullptr;  ///< n x 4
  double* h2 = nullptr;  ///< n x 4
  double* theta = nullptr;  ///< n (optional)
  double* phi = nullptr;    ///< n (optional)
  DecayStatus* status = nullptr;  ///< n
};

class OrtModel;

class Decayer {
 public:
  explicit Decayer(const std::string& model_path, const DecayerOptions& options = {});
  ~Decayer();
  Decayer(const Decayer&) = delete;
  Decayer& operator=(const Decayer&) = delete;
  Decayer(Decayer&&) noexcept;
  Decayer& operator=(Decayer&&) noexcept;

  const ModelMetadata& metadata() const;
  std::size_t noise_dim() const;
  std::size_t n_conditions() const;
  const std::string& path() const;
  /// 1 (hadml-1) or 2 (hadml-2): which of decay() / decay2() this model takes.
  int format_version() const;
  /// Width of the network's output: 2 (format 1, angles) or 3 (format 2, direction).
  std::size_t output_width() const;

  /// Decay a batch: one ONNX Runtime run for all valid clusters. Returns how many decayed (status ok).
  std::size_t decay(const DecayInput& in, const DecayOutput& out) const;

  /// Callback form: fill(noise, n * noise_dim) and fill_flip(flip, n) are called once per batch.
  using NormalFill = std::function<void(float*, std::size_t)>;
  using UniformFill = std::function<void(double*, std::size_t)>;
  std::size_t decay(std::size_t n, const double* clusters, const double* m1, const double* m2,
                    const double* parton1, const std::uint8_t* has_partons, const NormalFill& normal,
                    const UniformFill& uniform, const DecayOutput& out) const;

  // The three stages, exposed for parity tests and benchmarks.
  /// Raw conditions of one cluster (n_conditions values); throws KinematicsError on bad input.
  void raw_conditions(const double* cluster, const double* parton1, bool has_partons, double* out) const;
  /// Scaled conditions as the network sees them (n x n_conditions, float).
  void preprocess(std::size_t n, const double* clusters, const double* parton1,
                  const std::uint8_t* has_partons, float* out) const;
  /// The bare network: (n x d conditions, n x noise) -> n x 2.
  void network(std::size_t n, const float* conditions, const float* noise, float* out) const;
  /// Network output t (n x 2) -> angles and the hadron pair (Herwig order), as in decay().
  /// (format 1; network() itself writes n x output_width() floats for either format)
  void postprocess(std::size_t n, const float* t, const double* clusters, const double* m1,
                   const double* m2, const double* flip, const DecayOutput& out) const;

  // ---- format 2 (hadml-2); ModelError for a format-1 model ----
  /// Decay a batch: rows are validated (non-finite input, non-positive energy, space-like
  /// cluster, bad constituent 1 or a constituent without flavour class: invalid_input; M < m1 +
  /// m2: below_threshold), the valid ones go to one ONNX Runtime run; a network output that is
  /// not finite or zero gives invalid_output. Rows not ok hold NaN. Returns how many are ok.
  std::size_t decay2(const DecayInput2& in, const DecayOutput2& out) const;
  /// Raw conditions of one cluster (9 values, hadml2.CONDITIONS order); KinematicsError on bad input.
  void raw_conditions2(const double* cluster, const double* constituent1, const std::int32_t* pid,
                       const std::uint8_t* perturbative, double m1, double m2, double* out) const;
  /// Scaled conditions (n x 9, float) as the network sees them; KinematicsError on bad input.
  void preprocess2(std::size_t n, const double* clusters, const double* constituent1,
                   const std::int32_t* constituent_pid, const std::uint8_t* perturbative,
                   const double* m1, const double* m2, float* out) const;
  /// Whether a decay lies in the model's training domain: both constituents' flavour classes in
  /// hadml.domain_flavours, |hadron1| and |hadron2| in hadml.domain_hadrons, and
  /// domain_mass[0] <= M <= domain_mass[1].
  bool in_domain(int pid1, int pid2, int hadron1, int hadron2, double M) const;

 private:
  void require_format(int format, const char* what) const;

  // postprocess for rows of known cluster mass (masses != nullptr: validated by decay(), the
  // kinematics' own checks are skipped) or of unchecked clusters (masses == nullptr).
  // Rows whose network output is not finite are flagged invalid_output in `flag` (NaN results)
  // and counted in the return value; with flag == nullptr they throw KinematicsError.
  std::size_t finish(std::size_t n, const float* t, const double* clusters, const double* masses,
                     const double* m1, const double* m2, const double* flip, const DecayOutput& out,
                     DecayStatus* flag) const;

  std::unique_ptr<OrtModel> model_;
  ModelMetadata md_;
  std::string path_;
};

/// Execution providers the loaded ONNX Runtime library offers (e.g. "CPUExecutionProvider").
std::vector<std::string> available_providers(const std::string& onnxruntime_library = "");

/// The library path the build was given (-DHADML_ONNXRUNTIME_ROOT or -DHADML_ONNXRUNTIME_LIBRARY);
/// empty for a build that relies on the onnxruntime Python package found at run time.
std::string default_onnxruntime_library();

/// Where ONNX Runtime would be loaded from for ``requested`` (see DecayerOptions), without loading
/// it: the path (empty when nothing was found) and a description of every place tried.
struct OnnxRuntimeLocation {
  std::string path;
  std::string source;  ///< which rule found it ("option", "HADML_ONNXRUNTIME_LIBRARY", ...)
  std::vector<std::string> tried;
};
OnnxRuntimeLocation locate_onnxruntime(const std::string& requested = "");

/// The path of the library loaded in this process (empty until a model or
/// available_providers() loaded one).
std::string loaded_onnxruntime_library();

/// The ONNX Runtime C API version hadml was compiled against (the library must offer it).
int onnxruntime_api_version();

}  // namespace hadml

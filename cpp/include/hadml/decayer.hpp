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
  std::size_t noise_dim = 0;
  double output_offset[2] = {0.0, 0.0};
  double output_scale[2] = {1.0, 1.0};
  std::string version, training_sample, format_version, angle_convention;
  bool use_partons = false;
  std::map<std::string, std::string> all;
};

/// Parse and validate hadml metadata (``source`` names the file in messages).
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
  void postprocess(std::size_t n, const float* t, const double* clusters, const double* m1,
                   const double* m2, const double* flip, const DecayOutput& out) const;

 private:
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

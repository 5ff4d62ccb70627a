// Internal: the ONNX Runtime session wrapper (in the spirit of CMSSW's and ACTS's ONNX wrappers:
// not copyable, input/output names and shapes cached and checked, one intra-op thread by default).
#pragma once

#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hadml/decayer.hpp"

namespace hadml {

/// dlopen()s libonnxruntime once per process and initialises the C++ API from it.
void ensure_onnxruntime(const std::string& library);

class OrtModel {
 public:
  OrtModel(const std::string& path, const DecayerOptions& options);
  OrtModel(const OrtModel&) = delete;
  OrtModel& operator=(const OrtModel&) = delete;

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<std::string>& input_names() const { return input_names_; }
  const std::vector<std::vector<int64_t>>& input_shapes() const { return input_shapes_; }
  const std::vector<std::vector<int64_t>>& output_shapes() const { return output_shapes_; }

  /// Run with the two inputs (conditions n x d, noise n x k) and one output (n x w).
  void run(std::size_t n, const float* conditions, std::size_t d, const float* noise, std::size_t k,
           float* out, std::size_t w = 2) const;

 private:
  // Loads ONNX Runtime before any Ort:: member exists: their destructors call into the library's
  // API table, so a member built before a failed load would crash while unwinding.
  struct Runtime {
    Runtime(const std::string& path, const std::string& library);
  } runtime_;
  std::unique_ptr<Ort::Session> session_;
  Ort::MemoryInfo memory_{nullptr};
  std::vector<std::string> input_names_, output_names_;
  std::vector<std::vector<int64_t>> input_shapes_, output_shapes_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace hadml

#include "ort_model.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#ifndef HADML_DEFAULT_ORT_LIBRARY
#define HADML_DEFAULT_ORT_LIBRARY ""
#endif

namespace hadml {
namespace {

std::mutex g_mutex;
std::string g_loaded;  // path of the library the API was initialised from

Ort::Env& env() {
  static Ort::Env* const instance = [] {
    // ONNX Runtime builds with Microsoft's 1DS telemetry start a background thread when the
    // environment is created, unless ORT_DISABLE_TELEMETRY is set (respected if the user set it).
    // Besides reporting nothing useful from an event generator, that thread turns glibc's malloc
    // into its multi-threaded mode (locks and atomics on every malloc/free) for the whole
    // process: inside Herwig ~0.6 % more instructions and ~2 % more time per event (callgrind
    // and perf with identical events; docs/benchmarks.md). With one intra-op thread hadml then
    // starts no thread at all.
    //
    // The environment is never destroyed. Released by a static destructor, it corrupted the heap
    // at process exit once CUDA had been used ("corrupted double-linked list"; H100,
    // onnxruntime-gpu 1.31). Likely reason: created before CUDA starts, it is released after
    // the CUDA runtime's own exit-time teardown.
    ::setenv("ORT_DISABLE_TELEMETRY", "1", 0);
    auto* e = new Ort::Env(ORT_LOGGING_LEVEL_WARNING, "hadml");
    e->DisableTelemetryEvents();
    return e;
  }();
  return *instance;
}

std::string resolve_library(const std::string& requested) {
  if (!requested.empty()) return requested;
  if (const char* e = std::getenv("HADML_ONNXRUNTIME_LIBRARY"); e != nullptr && *e != '\0') return e;
  return HADML_DEFAULT_ORT_LIBRARY;
}

}  // namespace

std::string default_onnxruntime_library() { return HADML_DEFAULT_ORT_LIBRARY; }

void ensure_onnxruntime(const std::string& library) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_loaded.empty()) return;  // one ONNX Runtime per process
  const std::string path = resolve_library(library);
  if (path.empty()) {
    throw ModelError(
        "no ONNX Runtime library configured: pass onnxruntime_library, set "
        "HADML_ONNXRUNTIME_LIBRARY, or rebuild hadml where the onnxruntime package is installed");
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw ModelError("cannot load ONNX Runtime library '" + path + "': " + (err ? err : "?"));
  }
  using GetApiBase = const OrtApiBase* (*)();
  auto get_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
  if (get_base == nullptr) {
    throw ModelError("'" + path + "' is not an ONNX Runtime library (no OrtGetApiBase)");
  }
  const OrtApi* api = get_base()->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    std::ostringstream os;
    os << "ONNX Runtime '" << path << "' (version " << get_base()->GetVersionString()
       << ") does not provide API version " << ORT_API_VERSION << " that hadml was built with";
    throw ModelError(os.str());
  }
  Ort::InitApi(api);
  g_loaded = path;
}

std::vector<std::string> available_providers(const std::string& onnxruntime_library) {
  ensure_onnxruntime(onnxruntime_library);
  return Ort::GetAvailableProviders();
}

OrtModel::OrtModel(const std::string& path, const DecayerOptions& options) {
  if (!std::ifstream(path).good()) throw ModelError(path + ": no such model file");
  ensure_onnxruntime(options.onnxruntime_library);
  // The environment (and its logger) first: the CUDA provider's options need it.
  Ort::Env& environment = env();
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(options.intra_op_threads < 1 ? 1 : options.intra_op_threads);
  so.SetInterOpNumThreads(1);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  if (options.execution_provider == "cuda") {
    const auto providers = Ort::GetAvailableProviders();
    bool has_cuda = false;
    for (const auto& p : providers) has_cuda = has_cuda || p == "CUDAExecutionProvider";
    if (!has_cuda) {
      std::string list;
      for (const auto& p : providers) list += (list.empty() ? "" : ", ") + p;
      throw ModelError("execution provider 'cuda' requested, but this ONNX Runtime (" + g_loaded +
                       ") offers only: " + list + " (install onnxruntime-gpu: pip install hadml[gpu])");
    }
    // TF32 off: ONNX Runtime's CUDA provider otherwise rounds matrix-product inputs to a 10-bit
    // mantissa on Ampere and later (hadron momenta then differed from the CPU's by up to 2e-3 GeV
    // on an H100), and a generator this small gains no speed from it.
    const std::string device = std::to_string(options.cuda_device);
    const char* keys[] = {"device_id", "use_tf32"};
    const char* values[] = {device.c_str(), "0"};
    try {
      OrtCUDAProviderOptionsV2* cuda = nullptr;
      Ort::ThrowOnError(Ort::GetApi().CreateCUDAProviderOptions(&cuda));
      std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> owned(
          cuda, Ort::GetApi().ReleaseCUDAProviderOptions);
      Ort::ThrowOnError(Ort::GetApi().UpdateCUDAProviderOptions(cuda, keys, values, 2));
      so.AppendExecutionProvider_CUDA_V2(*cuda);
    } catch (const Ort::Exception& e) {
      throw ModelError(path + ": cannot use CUDA device " + device + ": " + e.what());
    }
  } else if (options.execution_provider != "cpu") {
    throw ModelError("unknown execution provider '" + options.execution_provider + "' (cpu or cuda)");
  }
  try {
    session_ = std::make_unique<Ort::Session>(environment, path.c_str(), so);
  } catch (const Ort::Exception& e) {
    throw ModelError(path + ": ONNX Runtime cannot open the model: " + e.what());
  }
  Ort::AllocatorWithDefaultOptions alloc;
  for (std::size_t i = 0; i < session_->GetInputCount(); ++i) {
    input_names_.emplace_back(session_->GetInputNameAllocated(i, alloc).get());
    input_shapes_.push_back(session_->GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape());
  }
  for (std::size_t i = 0; i < session_->GetOutputCount(); ++i) {
    output_names_.emplace_back(session_->GetOutputNameAllocated(i, alloc).get());
    output_shapes_.push_back(session_->GetOutputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape());
  }
  Ort::ModelMetadata md = session_->GetModelMetadata();
  for (const auto& key : md.GetCustomMetadataMapKeysAllocated(alloc)) {
    auto value = md.LookupCustomMetadataMapAllocated(key.get(), alloc);
    metadata_[key.get()] = value ? value.get() : "";
  }
  memory_ = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
}

void OrtModel::run(std::size_t n, const float* conditions, std::size_t d, const float* noise,
                   std::size_t k, float* out) const {
  if (n == 0) return;
  const int64_t shape_c[2] = {static_cast<int64_t>(n), static_cast<int64_t>(d)};
  const int64_t shape_z[2] = {static_cast<int64_t>(n), static_cast<int64_t>(k)};
  const int64_t shape_o[2] = {static_cast<int64_t>(n), 2};
  // ONNX Runtime does not write to inputs; CreateTensor's signature wants non-const pointers.
  Ort::Value inputs[2] = {
      Ort::Value::CreateTensor<float>(memory_, const_cast<float*>(conditions), n * d, shape_c, 2),
      Ort::Value::CreateTensor<float>(memory_, const_cast<float*>(noise), n * k, shape_z, 2)};
  Ort::Value output = Ort::Value::CreateTensor<float>(memory_, out, n * 2, shape_o, 2);
  const char* in_names[2] = {input_names_[0].c_str(), input_names_[1].c_str()};
  const char* out_names[1] = {output_names_[0].c_str()};
  session_->Run(Ort::RunOptions{nullptr}, in_names, inputs, 2, out_names, &output, 1);
}

}  // namespace hadml

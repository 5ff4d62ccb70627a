#include "ort_model.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#ifndef HADML_DEFAULT_ORT_LIBRARY
#define HADML_DEFAULT_ORT_LIBRARY ""
#endif
// The onnxruntime release whose C API the headers define (the pyproject.toml floor).
#define HADML_STR2(x) #x
#define HADML_STR(x) HADML_STR2(x)
#define ORT_MIN_VERSION "1." HADML_STR(ORT_API_VERSION)

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

// The directory of the binary this code is linked into (hadml's Python module or the Herwig
// plugin), found through the dynamic loader.
std::filesystem::path own_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&own_directory), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  const auto p = std::filesystem::weakly_canonical(info.dli_fname, ec);
  return ec ? std::filesystem::path() : p.parent_path();
}

// libonnxruntime.so* in DIR/onnxruntime/capi (the onnxruntime wheel's layout); the newest name.
std::string wheel_library(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto capi = dir / "onnxruntime" / "capi";
  std::string best;
  for (const auto& entry : std::filesystem::directory_iterator(capi, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("libonnxruntime.so", 0) == 0 && name > std::filesystem::path(best).filename().string()) {
      best = entry.path().string();
    }
  }
  return best;
}

}  // namespace

std::string default_onnxruntime_library() { return HADML_DEFAULT_ORT_LIBRARY; }

int onnxruntime_api_version() { return ORT_API_VERSION; }

OnnxRuntimeLocation locate_onnxruntime(const std::string& requested) {
  OnnxRuntimeLocation loc;
  if (!requested.empty()) {
    loc.path = requested, loc.source = "option";
    return loc;
  }
  loc.tried.emplace_back("the decayer's option (empty)");
  if (const char* e = std::getenv("HADML_ONNXRUNTIME_LIBRARY"); e != nullptr && *e != '\0') {
    loc.path = e, loc.source = "HADML_ONNXRUNTIME_LIBRARY";
    return loc;
  }
  loc.tried.emplace_back("$HADML_ONNXRUNTIME_LIBRARY (not set)");
  // hadml's binaries live in site-packages/hadml (the Python module) and site-packages/hadml/herwig
  // (the plugin); the onnxruntime package installed with hadml is site-packages/onnxruntime.
  std::filesystem::path dir = own_directory();
  for (int up = 0; up < 3 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (std::string lib = wheel_library(dir); !lib.empty()) {
      loc.path = lib, loc.source = "the onnxruntime package beside hadml";
      return loc;
    }
    loc.tried.push_back((dir / "onnxruntime" / "capi" / "libonnxruntime.so*").string());
    if (dir == dir.parent_path()) break;
  }
  if (*HADML_DEFAULT_ORT_LIBRARY != '\0') {
    loc.path = HADML_DEFAULT_ORT_LIBRARY, loc.source = "the library hadml was built with";
    return loc;
  }
  loc.tried.emplace_back("the build's library (none: no -DHADML_ONNXRUNTIME_ROOT)");
  return loc;
}

std::string loaded_onnxruntime_library() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_loaded;
}

void ensure_onnxruntime(const std::string& library) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_loaded.empty()) return;  // one ONNX Runtime per process
  const OnnxRuntimeLocation loc = locate_onnxruntime(library);
  const std::string fix =
      "; install it into hadml's environment (pip install 'onnxruntime>=" ORT_MIN_VERSION
      "'), or name a libonnxruntime.so (API version " + std::to_string(ORT_API_VERSION) +
      " or newer) with the decayer's onnxruntime_library option, Herwig's MLHandler:OnnxRuntimeLibrary, "
      "or HADML_ONNXRUNTIME_LIBRARY";
  if (loc.path.empty()) {
    std::string tried;
    for (const auto& t : loc.tried) tried += (tried.empty() ? "" : ", ") + t;
    throw OnnxRuntimeError("no ONNX Runtime library found (tried " + tried + ")" + fix);
  }
  const std::string where = "ONNX Runtime library '" + loc.path + "' (from " + loc.source + ")";
  void* handle = dlopen(loc.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw OnnxRuntimeError("cannot load " + where + ": " + (err ? err : "?") + fix);
  }
  using GetApiBase = const OrtApiBase* (*)();
  auto get_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
  const OrtApiBase* base = get_base != nullptr ? get_base() : nullptr;
  if (base == nullptr) {
    dlclose(handle);
    throw OnnxRuntimeError(where + " is not an ONNX Runtime library (no OrtGetApiBase)" + fix);
  }
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  if (api == nullptr) {
    const char* version = base->GetVersionString != nullptr ? base->GetVersionString() : nullptr;
    std::ostringstream os;
    os << where << " is version " << (version != nullptr ? version : "?") << ", which does not provide the C API version "
       << ORT_API_VERSION << " hadml was built with" << fix;
    dlclose(handle);
    throw OnnxRuntimeError(os.str());
  }
  Ort::InitApi(api);
  g_loaded = loc.path;
}

std::vector<std::string> available_providers(const std::string& onnxruntime_library) {
  ensure_onnxruntime(onnxruntime_library);
  return Ort::GetAvailableProviders();
}

OrtModel::Runtime::Runtime(const std::string& path, const std::string& library) {
  if (!std::ifstream(path).good()) throw ModelError(path + ": no such model file");
  ensure_onnxruntime(library);
}

OrtModel::OrtModel(const std::string& path, const DecayerOptions& options)
    : runtime_(path, options.onnxruntime_library) {
  // The environment (and its logger) first: the CUDA provider's options need it.
  Ort::Env& environment = env();
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(options.intra_op_threads < 1 ? 1 : options.intra_op_threads);
  so.SetInterOpNumThreads(1);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  // No memory-pattern planning: its plans are kept per input shape, and inside Herwig every event
  // brings another batch size (a few clusters). With batch sizes 3-12 varying, Python's
  // onnxruntime took 15.3 instead of 16.8 us per run with it off (docs/benchmarks.md).
  so.DisableMemPattern();
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
                   std::size_t k, float* out, std::size_t w) const {
  if (n == 0) return;
  const int64_t shape_c[2] = {static_cast<int64_t>(n), static_cast<int64_t>(d)};
  const int64_t shape_z[2] = {static_cast<int64_t>(n), static_cast<int64_t>(k)};
  const int64_t shape_o[2] = {static_cast<int64_t>(n), static_cast<int64_t>(w)};
  // ONNX Runtime does not write to inputs; CreateTensor's signature wants non-const pointers.
  Ort::Value inputs[2] = {
      Ort::Value::CreateTensor<float>(memory_, const_cast<float*>(conditions), n * d, shape_c, 2),
      Ort::Value::CreateTensor<float>(memory_, const_cast<float*>(noise), n * k, shape_z, 2)};
  Ort::Value output = Ort::Value::CreateTensor<float>(memory_, out, n * w, shape_o, 2);
  const char* in_names[2] = {input_names_[0].c_str(), input_names_[1].c_str()};
  const char* out_names[1] = {output_names_[0].c_str()};
  session_->Run(Ort::RunOptions{nullptr}, in_names, inputs, 2, out_names, &output, 1);
}

}  // namespace hadml

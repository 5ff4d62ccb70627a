// The floor that ONNX Runtime itself sets for hadml (issue 17): resident memory of loading the
// library and opening one session, and the time of one small Run, hot and after other memory
// traffic (what Herwig's event does to the caches between two calls). No hadml code: the bare
// C++ API, with the session options hadml's decayer uses. Built and run by benchmarks/ort_floor.py.
//
//   ort_floor LIBRARY MODEL BATCH CALLS EVICT_MB [OPTION]
// OPTION (one, instead of hadml's choice): opt_off, opt_basic, no_prepacking, no_arena.
// prints one JSON object per line: {"stage": ..., "rss_kb": ...} for start / dlopen / session /
// first_run, then {"hot_us": [...], "cold_us": [...]} (one figure per call).
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

long status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return -1;
}

void stage(const char* name) {
  std::printf("{\"stage\": \"%s\", \"rss_kb\": %ld, \"hwm_kb\": %ld, \"anon_kb\": %ld, \"file_kb\": %ld}\n", name,
              status_kb("VmRSS"), status_kb("VmHWM"), status_kb("RssAnon"), status_kb("RssFile"));
  std::fflush(stdout);
}

void print_list(const char* key, const std::vector<double>& v, bool last) {
  std::printf("\"%s\": [", key);
  for (std::size_t i = 0; i < v.size(); ++i) std::printf(i ? ", %.3f" : "%.3f", v[i]);
  std::printf(last ? "]}\n" : "], ");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: %s LIBRARY MODEL BATCH CALLS EVICT_MB [OPTION]\n", argv[0]);
    return 2;
  }
  stage("start");
  void* handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
    return 1;
  }
  using GetApiBase = const OrtApiBase* (*)();
  auto get_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
  const OrtApi* api = get_base != nullptr ? get_base()->GetApi(ORT_API_VERSION) : nullptr;
  if (api == nullptr) {
    std::fprintf(stderr, "%s: no ONNX Runtime C API version %d\n", argv[1], ORT_API_VERSION);
    return 1;
  }
  Ort::InitApi(api);
  stage("dlopen");
  const long batch = std::atol(argv[3]), calls = std::atol(argv[4]);
  const std::size_t evict = static_cast<std::size_t>(std::atol(argv[5])) << 20;
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "ort_floor");
    Ort::SessionOptions so;  // as hadml's decayer (cpp/src/ort_model.cpp)
    so.SetIntraOpNumThreads(1);
    so.SetInterOpNumThreads(1);
    so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    so.DisableMemPattern();
    const std::string option = argc == 7 ? argv[6] : "";
    if (option == "opt_off") {
      so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);
    } else if (option == "opt_basic") {
      so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_BASIC);
    } else if (option == "no_prepacking") {
      so.AddConfigEntry("session.disable_prepacking", "1");
    } else if (option == "no_arena") {
      so.DisableCpuMemArena();
    } else if (!option.empty()) {
      std::fprintf(stderr, "unknown option %s\n", option.c_str());
      return 2;
    }
    Ort::Session session(env, argv[2], so);
    stage("session");
    Ort::AllocatorWithDefaultOptions alloc;
    const std::size_t nin = session.GetInputCount();
    std::vector<Ort::AllocatedStringPtr> names;
    std::vector<const char*> in_names;
    std::vector<std::vector<float>> data(nin);
    std::vector<std::vector<int64_t>> shapes(nin);
    for (std::size_t i = 0; i < nin; ++i) {
      names.push_back(session.GetInputNameAllocated(i, alloc));
      in_names.push_back(names.back().get());
      shapes[i] = session.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
      std::size_t size = 1;
      for (auto& d : shapes[i]) size *= static_cast<std::size_t>(d = d < 0 ? batch : d);
      data[i].assign(size, 0.25f);
    }
    names.push_back(session.GetOutputNameAllocated(0, alloc));
    const char* out_name = names.back().get();
    const auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    volatile long sink = 0;
    auto run = [&]() {
      std::vector<Ort::Value> in;
      for (std::size_t i = 0; i < nin; ++i) {
        in.push_back(Ort::Value::CreateTensor<float>(mem, data[i].data(), data[i].size(), shapes[i].data(),
                                                     shapes[i].size()));
      }
      auto out = session.Run(Ort::RunOptions{nullptr}, in_names.data(), in.data(), nin, &out_name, 1);
      sink = sink + static_cast<long>(out[0].GetTensorData<float>()[0] > 0.0f);
    };
    run();
    stage("first_run");
    std::vector<char> traffic(evict, 1);  // after the memory stages: not part of them
    std::vector<double> hot, cold;
    for (long c = 0; c < calls; ++c) {
      for (std::size_t j = 0; j < traffic.size(); j += 64) traffic[j] = static_cast<char>(traffic[j] + 1);
      auto t0 = std::chrono::steady_clock::now();
      run();
      auto t1 = std::chrono::steady_clock::now();
      run();
      auto t2 = std::chrono::steady_clock::now();
      cold.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      hot.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    }
    std::printf("{");
    print_list("hot_us", hot, false);
    print_list("cold_us", cold, true);
  } catch (const Ort::Exception& e) {
    std::fprintf(stderr, "ONNX Runtime: %s\n", e.what());
    return 1;
  }
  return 0;
}

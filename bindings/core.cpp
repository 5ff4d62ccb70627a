// Private pybind11 module hadml._core: thin numpy wrappers over the C++ core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "hadml/decayer.hpp"
#include "hadml/kinematics.hpp"

namespace py = pybind11;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using FArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using BArray = py::array_t<std::uint8_t, py::array::c_style | py::array::forcecast>;
using IArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

namespace {

std::size_t rows4(const Array& a, const char* name) {
  if (a.ndim() != 2 || a.shape(1) != 4) {
    throw py::value_error(std::string(name) + " must have shape (n, 4), got ndim " +
                          std::to_string(a.ndim()));
  }
  return static_cast<std::size_t>(a.shape(0));
}

void same_rows(std::size_t n, const Array& a, const char* name) {
  if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n) {
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(n) + ",)");
  }
}

void same_rows4(std::size_t n, const Array& a, const char* name) {
  if (rows4(a, name) != n) {
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(n) + ", 4)");
  }
}

py::tuple decay(const Array& clusters, const Array& m1, const Array& m2, const Array& theta,
                const Array& phi) {
  const std::size_t n = rows4(clusters, "clusters");
  same_rows(n, m1, "m1");
  same_rows(n, m2, "m2");
  same_rows(n, theta, "theta");
  same_rows(n, phi, "phi");
  Array first({static_cast<py::ssize_t>(n), py::ssize_t{4}});
  Array second({static_cast<py::ssize_t>(n), py::ssize_t{4}});
  hadml::two_body_decay_batch(n, clusters.data(), m1.data(), m2.data(), theta.data(), phi.data(),
                              first.mutable_data(), second.mutable_data());
  return py::make_tuple(first, second);
}

py::tuple recover(const Array& clusters, const Array& h1, const Array& h2) {
  const std::size_t n = rows4(clusters, "clusters");
  same_rows4(n, h1, "h1");
  same_rows4(n, h2, "h2");
  Array theta(static_cast<py::ssize_t>(n));
  Array phi(static_cast<py::ssize_t>(n));
  py::array_t<int> first(static_cast<py::ssize_t>(n));
  hadml::recover_angles_batch(n, clusters.data(), h1.data(), h2.data(), theta.mutable_data(),
                              phi.mutable_data(), first.mutable_data());
  return py::make_tuple(theta, phi, first);
}

Array boost(const Array& vectors, const Array& frames, bool to_rest) {
  const std::size_t n = rows4(vectors, "vectors");
  same_rows4(n, frames, "frames");
  Array out({static_cast<py::ssize_t>(n), py::ssize_t{4}});
  hadml::boost_batch(n, vectors.data(), frames.data(), to_rest, out.mutable_data());
  return out;
}

py::tuple frame(const Array& clusters, const Array& constituents1) {
  const std::size_t n = rows4(clusters, "clusters");
  same_rows4(n, constituents1, "constituents1");
  Array axes({static_cast<py::ssize_t>(n), py::ssize_t{3}, py::ssize_t{3}});
  Array cos_alpha(static_cast<py::ssize_t>(n));
  hadml::decay_frame_batch(n, clusters.data(), constituents1.data(), axes.mutable_data(), cos_alpha.mutable_data());
  return py::make_tuple(axes, cos_alpha);
}

Array frame_direction(const Array& clusters, const Array& constituents1, const Array& h1, const Array& h2) {
  const std::size_t n = rows4(clusters, "clusters");
  same_rows4(n, constituents1, "constituents1");
  same_rows4(n, h1, "h1");
  same_rows4(n, h2, "h2");
  Array u({static_cast<py::ssize_t>(n), py::ssize_t{3}});
  hadml::recover_frame_direction_batch(n, clusters.data(), constituents1.data(), h1.data(), h2.data(),
                                       u.mutable_data());
  return u;
}

void check2(const py::array& a, std::size_t n, std::size_t w, const char* name) {
  if (a.ndim() != 2 || static_cast<std::size_t>(a.shape(0)) != n ||
      static_cast<std::size_t>(a.shape(1)) != w) {
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(n) + ", " +
                          std::to_string(w) + ")");
  }
}

struct PartonArgs {
  Array parton1;
  BArray has;
  const double* p = nullptr;
  const std::uint8_t* h = nullptr;
};

PartonArgs partons(const hadml::Decayer& d, std::size_t n, const py::object& parton1,
                   const py::object& has_partons) {
  PartonArgs a;
  if (!d.metadata().use_partons) return a;
  if (parton1.is_none() || has_partons.is_none()) {
    throw py::value_error(d.path() + ": this model was trained with parton information; pass parton1 and has_partons");
  }
  a.parton1 = parton1.cast<Array>();
  a.has = has_partons.cast<BArray>();
  check2(a.parton1, n, 4, "parton1");
  same_rows(n, Array(a.has), "has_partons");
  a.p = a.parton1.data();
  a.h = a.has.data();
  return a;
}

py::tuple decayer_decay(const hadml::Decayer& d, const Array& clusters, const Array& m1,
                        const Array& m2, const FArray& noise, const Array& flip,
                        const py::object& parton1, const py::object& has_partons) {
  const std::size_t n = rows4(clusters, "clusters");
  same_rows(n, m1, "m1");
  same_rows(n, m2, "m2");
  same_rows(n, flip, "flip");
  check2(noise, n, d.noise_dim(), "noise");
  PartonArgs pa = partons(d, n, parton1, has_partons);
  const auto N = static_cast<py::ssize_t>(n);
  Array h1({N, py::ssize_t{4}}), h2({N, py::ssize_t{4}}), theta(N), phi(N);
  py::array_t<std::uint8_t> status(N);
  {
    py::gil_scoped_release release;
    d.decay(hadml::DecayInput{n, clusters.data(), m1.data(), m2.data(), pa.p, pa.h, noise.data(), flip.data()},
            hadml::DecayOutput{h1.mutable_data(), h2.mutable_data(), theta.mutable_data(), phi.mutable_data(),
                               reinterpret_cast<hadml::DecayStatus*>(status.mutable_data())});
  }
  return py::make_tuple(h1, h2, theta, phi, status);
}

FArray decayer_preprocess(const hadml::Decayer& d, const Array& clusters, const py::object& parton1,
                          const py::object& has_partons) {
  const std::size_t n = rows4(clusters, "clusters");
  PartonArgs pa = partons(d, n, parton1, has_partons);
  FArray out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(d.n_conditions())});
  d.preprocess(n, clusters.data(), pa.p, pa.h, out.mutable_data());
  return out;
}

FArray decayer_network(const hadml::Decayer& d, const FArray& cond, const FArray& noise) {
  if (cond.ndim() != 2) throw py::value_error("conditions must be 2-dimensional");
  const std::size_t n = static_cast<std::size_t>(cond.shape(0));
  check2(cond, n, d.n_conditions(), "conditions");
  check2(noise, n, d.noise_dim(), "noise");
  FArray out({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(d.output_width())});
  py::gil_scoped_release release;
  d.network(n, cond.data(), noise.data(), out.mutable_data());
  return out;
}

py::tuple decayer_postprocess(const hadml::Decayer& d, const FArray& t, const Array& clusters,
                              const Array& m1, const Array& m2, const Array& flip) {
  const std::size_t n = rows4(clusters, "clusters");
  check2(t, n, 2, "t");
  same_rows(n, m1, "m1");
  same_rows(n, m2, "m2");
  same_rows(n, flip, "flip");
  const auto N = static_cast<py::ssize_t>(n);
  Array h1({N, py::ssize_t{4}}), h2({N, py::ssize_t{4}}), theta(N), phi(N);
  d.postprocess(n, t.data(), clusters.data(), m1.data(), m2.data(), flip.data(),
                hadml::DecayOutput{h1.mutable_data(), h2.mutable_data(), theta.mutable_data(),
                                   phi.mutable_data(), nullptr});
  return py::make_tuple(h1, h2, theta, phi);
}

// ---- format 2 (hadml-2) ----
struct Args2 {
  std::size_t n;
  Array clusters, constituent1, m1, m2;
  IArray pid;
  BArray pert;
};

Args2 args2(const hadml::Decayer& d, const Array& clusters, const Array& constituent1, const IArray& pid,
            const BArray& pert, const Array& m1, const Array& m2) {
  if (d.format_version() != 2) {
    throw hadml::ModelError(d.path() + ": a format-" + std::to_string(d.format_version()) +
                            " model; decay2/preprocess2 take a hadml-2 (format 2) model");
  }
  const std::size_t n = rows4(clusters, "clusters");
  same_rows4(n, constituent1, "constituent1");
  check2(pid, n, 2, "constituent_pid");
  check2(pert, n, 2, "perturbative");
  same_rows(n, m1, "m1");
  same_rows(n, m2, "m2");
  return Args2{n, clusters, constituent1, m1, m2, pid, pert};
}

py::tuple decayer_decay2(const hadml::Decayer& d, const Array& clusters, const Array& constituent1,
                         const IArray& constituent_pid, const BArray& perturbative, const Array& m1,
                         const Array& m2, const FArray& noise) {
  const Args2 a = args2(d, clusters, constituent1, constituent_pid, perturbative, m1, m2);
  check2(noise, a.n, d.noise_dim(), "noise");
  const auto N = static_cast<py::ssize_t>(a.n);
  Array h1({N, py::ssize_t{4}}), h2({N, py::ssize_t{4}}), u({N, py::ssize_t{3}});
  py::array_t<std::uint8_t> status(N);
  {
    py::gil_scoped_release release;
    d.decay2(hadml::DecayInput2{a.n, a.clusters.data(), a.constituent1.data(), a.pid.data(), a.pert.data(),
                                a.m1.data(), a.m2.data(), noise.data()},
             hadml::DecayOutput2{h1.mutable_data(), h2.mutable_data(), u.mutable_data(),
                                 reinterpret_cast<hadml::DecayStatus*>(status.mutable_data())});
  }
  return py::make_tuple(h1, h2, u, status);
}

FArray decayer_preprocess2(const hadml::Decayer& d, const Array& clusters, const Array& constituent1,
                           const IArray& constituent_pid, const BArray& perturbative, const Array& m1,
                           const Array& m2) {
  const Args2 a = args2(d, clusters, constituent1, constituent_pid, perturbative, m1, m2);
  FArray out({static_cast<py::ssize_t>(a.n), py::ssize_t{9}});
  d.preprocess2(a.n, a.clusters.data(), a.constituent1.data(), a.pid.data(), a.pert.data(), a.m1.data(),
                a.m2.data(), out.mutable_data());
  return out;
}

// Rows per second of body(offset) over consecutive batches of n rows (wrapping), run for at
// least `seconds` and three batches; `off` carries the position on between calls.
template <class Body>
double rows_per_second(std::size_t n, std::size_t batch, double seconds, std::size_t& off, Body&& body) {
  std::size_t iters = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  while (elapsed < seconds || iters < 3) {
    if (off + batch > n) off = 0;
    body(off);
    off += batch;
    ++iters;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return static_cast<double>(iters * batch) / elapsed;
}

// The bare network and the whole decay timed in 20 interleaved rounds (order swapped every
// round) of seconds / 40 each, so that a drift of the machine's speed hits both alike: overall
// rates (the harmonic mean of the rounds' rates: every round weighs alike) and the ratio
// bare / decay of every round.
template <class Bare, class Full>
py::dict timed_pair(std::size_t n, std::size_t batch, double seconds, Bare&& bare, Full&& full) {
  constexpr int kRounds = 20;
  const double slice = seconds / (2 * kRounds);
  std::vector<double> ratios;
  double t_bare = 0.0, t_full = 0.0;
  std::size_t off_bare = 0, off_full = 0;
  {
    py::gil_scoped_release release;
    for (int r = 0; r < kRounds; ++r) {
      double rb = 0.0, rf = 0.0;
      if (r % 2 == 0) {
        rb = rows_per_second(n, batch, slice, off_bare, bare);
        rf = rows_per_second(n, batch, slice, off_full, full);
      } else {
        rf = rows_per_second(n, batch, slice, off_full, full);
        rb = rows_per_second(n, batch, slice, off_bare, bare);
      }
      t_bare += 1.0 / rb;  // seconds per row, summed: the overall rate below weighs rounds alike
      t_full += 1.0 / rf;
      ratios.push_back(rb / rf);
    }
  }
  py::dict r;
  r["batch"] = batch;
  r["decay_per_s"] = kRounds / t_full;
  r["bare_per_s"] = kRounds / t_bare;
  r["ratios"] = ratios;
  return r;
}

// Times decay() and the bare network on the same batches inside C++ (no Python overhead, which
// would dominate at small batches). Parton-aware models need parton1 and has_partons.
py::dict decayer_benchmark(const hadml::Decayer& d, const Array& clusters, const Array& m1,
                           const Array& m2, std::size_t batch, double seconds, unsigned seed,
                           const py::object& parton1_obj, const py::object& has_obj) {
  const std::size_t n = rows4(clusters, "clusters");
  if (batch < 1 || batch > n) throw py::value_error("batch must be in [1, len(clusters)]");
  same_rows(n, m1, "m1");
  same_rows(n, m2, "m2");
  Array parton1;
  BArray has;
  if (d.metadata().use_partons) {
    if (parton1_obj.is_none() || has_obj.is_none()) {
      throw py::value_error("this model is parton-aware: benchmark needs parton1 and has_partons");
    }
    parton1 = parton1_obj.cast<Array>();
    has = has_obj.cast<BArray>();
    same_rows4(n, parton1, "parton1");
    if (has.ndim() != 1 || static_cast<std::size_t>(has.shape(0)) != n) {
      throw py::value_error("has_partons must have shape (" + std::to_string(n) + ",)");
    }
  }
  const double* p1 = parton1 ? parton1.data() : nullptr;
  const std::uint8_t* hp = has ? has.data() : nullptr;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss;
  std::uniform_real_distribution<double> uni;
  const std::size_t k = d.noise_dim();
  std::vector<float> noise(batch * k), cond(batch * d.n_conditions()), t(2 * batch);
  std::vector<double> flip(batch), h1(4 * batch), h2(4 * batch);
  std::vector<hadml::DecayStatus> status(batch);
  for (auto& x : noise) x = gauss(rng);
  for (auto& x : flip) x = uni(rng);
  // the bare run sees the same (pre-scaled) conditions for every batch: ONNX Runtime alone
  d.preprocess(batch, clusters.data(), p1, hp, cond.data());
  return timed_pair(
      n, batch, seconds, [&](std::size_t) { d.network(batch, cond.data(), noise.data(), t.data()); },
      [&](std::size_t off) {
        d.decay(hadml::DecayInput{batch, clusters.data() + 4 * off, m1.data() + off, m2.data() + off,
                                  p1 != nullptr ? p1 + 4 * off : nullptr, hp != nullptr ? hp + off : nullptr,
                                  noise.data(), flip.data()},
                hadml::DecayOutput{h1.data(), h2.data(), nullptr, nullptr, status.data()});
      });
}

// The same for decay2 (format 2): decay2() on consecutive batches against the bare network on
// pre-scaled conditions.
py::dict decayer_benchmark2(const hadml::Decayer& d, const Array& clusters, const Array& constituent1,
                            const IArray& constituent_pid, const BArray& perturbative, const Array& m1,
                            const Array& m2, std::size_t batch, double seconds, unsigned seed) {
  const Args2 a = args2(d, clusters, constituent1, constituent_pid, perturbative, m1, m2);
  if (batch < 1 || batch > a.n) throw py::value_error("batch must be in [1, len(clusters)]");
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss;
  const std::size_t k = d.noise_dim();
  std::vector<float> noise(batch * k), cond(batch * d.n_conditions()), t(d.output_width() * batch);
  std::vector<double> h1(4 * batch), h2(4 * batch);
  std::vector<hadml::DecayStatus> status(batch);
  for (auto& x : noise) x = gauss(rng);
  d.preprocess2(batch, a.clusters.data(), a.constituent1.data(), a.pid.data(), a.pert.data(), a.m1.data(),
                a.m2.data(), cond.data());
  return timed_pair(
      a.n, batch, seconds, [&](std::size_t) { d.network(batch, cond.data(), noise.data(), t.data()); },
      [&](std::size_t off) {
        d.decay2(hadml::DecayInput2{batch, a.clusters.data() + 4 * off, a.constituent1.data() + 4 * off,
                                    a.pid.data() + 2 * off, a.pert.data() + 2 * off, a.m1.data() + off,
                                    a.m2.data() + off, noise.data()},
                 hadml::DecayOutput2{h1.data(), h2.data(), nullptr, status.data()});
      });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "hadml C++ core (private; use the hadml package)";
  py::register_exception<hadml::KinematicsError>(m, "KinematicsError", PyExc_ValueError);
  m.def("two_body_decay", &decay, py::arg("clusters"), py::arg("m1"), py::arg("m2"),
        py::arg("theta"), py::arg("phi"));
  m.def("recover_angles", &recover, py::arg("clusters"), py::arg("h1"), py::arg("h2"));
  m.def("boost", &boost, py::arg("vectors"), py::arg("frames"), py::arg("to_rest"));
  m.def("decay_frame", &frame, py::arg("clusters"), py::arg("constituents1"));
  m.def("recover_frame_direction", &frame_direction, py::arg("clusters"), py::arg("constituents1"),
        py::arg("h1"), py::arg("h2"));
  m.def("two_body_momentum", &hadml::two_body_momentum, py::arg("M"), py::arg("m1"),
        py::arg("m2"));
  auto model_error = py::register_exception<hadml::ModelError>(m, "ModelError", PyExc_RuntimeError);
  py::register_exception<hadml::OnnxRuntimeError>(m, "OnnxRuntimeError", model_error.ptr());
  m.def("available_providers", &hadml::available_providers, py::arg("onnxruntime_library") = "");
  m.def("default_onnxruntime_library", &hadml::default_onnxruntime_library);
  m.def("loaded_onnxruntime_library", &hadml::loaded_onnxruntime_library);
  m.def("onnxruntime_api_version", &hadml::onnxruntime_api_version);
  m.def(
      "locate_onnxruntime",
      [](const std::string& requested) {
        const auto loc = hadml::locate_onnxruntime(requested);
        return py::make_tuple(loc.path, loc.source, loc.tried);
      },
      py::arg("requested") = "");
  py::class_<hadml::Decayer>(m, "Decayer")
      .def(py::init([](const std::string& path, int threads, const std::string& provider, int device,
                       const std::string& library) {
             hadml::DecayerOptions o;
             o.intra_op_threads = threads;
             o.execution_provider = provider;
             o.cuda_device = device;
             o.onnxruntime_library = library;
             return std::make_unique<hadml::Decayer>(path, o);
           }),
           py::arg("model_path"), py::arg("threads") = 1, py::arg("provider") = "cpu",
           py::arg("cuda_device") = 0, py::arg("onnxruntime_library") = "")
      .def_property_readonly("metadata", [](const hadml::Decayer& d) { return d.metadata().all; })
      .def_property_readonly("noise_dim", &hadml::Decayer::noise_dim)
      .def_property_readonly("n_conditions", &hadml::Decayer::n_conditions)
      .def_property_readonly("use_partons", [](const hadml::Decayer& d) { return d.metadata().use_partons; })
      .def_property_readonly("path", &hadml::Decayer::path)
      .def_property_readonly("format_version", &hadml::Decayer::format_version)
      .def("decay2", &decayer_decay2, py::arg("clusters"), py::arg("constituent1"), py::arg("constituent_pid"),
           py::arg("perturbative"), py::arg("m1"), py::arg("m2"), py::arg("noise"))
      .def("preprocess2", &decayer_preprocess2, py::arg("clusters"), py::arg("constituent1"),
           py::arg("constituent_pid"), py::arg("perturbative"), py::arg("m1"), py::arg("m2"))
      .def("in_domain", &hadml::Decayer::in_domain, py::arg("pid1"), py::arg("pid2"), py::arg("hadron1"),
           py::arg("hadron2"), py::arg("M"))
      .def("decay", &decayer_decay, py::arg("clusters"), py::arg("m1"), py::arg("m2"), py::arg("noise"),
           py::arg("flip"), py::arg("parton1") = py::none(), py::arg("has_partons") = py::none())
      .def("preprocess", &decayer_preprocess, py::arg("clusters"), py::arg("parton1") = py::none(),
           py::arg("has_partons") = py::none())
      .def("network", &decayer_network, py::arg("conditions"), py::arg("noise"))
      .def("postprocess", &decayer_postprocess, py::arg("t"), py::arg("clusters"), py::arg("m1"),
           py::arg("m2"), py::arg("flip"))
      .def("benchmark", &decayer_benchmark, py::arg("clusters"), py::arg("m1"), py::arg("m2"),
           py::arg("batch"), py::arg("seconds") = 1.0, py::arg("seed") = 1, py::arg("parton1") = py::none(),
           py::arg("has_partons") = py::none())
      .def("benchmark2", &decayer_benchmark2, py::arg("clusters"), py::arg("constituent1"),
           py::arg("constituent_pid"), py::arg("perturbative"), py::arg("m1"), py::arg("m2"), py::arg("batch"),
           py::arg("seconds") = 1.0, py::arg("seed") = 1);
}

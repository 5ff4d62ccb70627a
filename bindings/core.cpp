// Private pybind11 module hadml._core: thin numpy wrappers over the C++ core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "hadml/kinematics.hpp"

namespace py = pybind11;
using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

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

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "hadml C++ core (private; use the hadml package)";
  py::register_exception<hadml::KinematicsError>(m, "KinematicsError", PyExc_ValueError);
  m.def("two_body_decay", &decay, py::arg("clusters"), py::arg("m1"), py::arg("m2"),
        py::arg("theta"), py::arg("phi"));
  m.def("recover_angles", &recover, py::arg("clusters"), py::arg("h1"), py::arg("h2"));
  m.def("boost", &boost, py::arg("vectors"), py::arg("frames"), py::arg("to_rest"));
  m.def("two_body_momentum", &hadml::two_body_momentum, py::arg("M"), py::arg("m1"),
        py::arg("m2"));
}

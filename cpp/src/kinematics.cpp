#include "hadml/kinematics.hpp"

#include <cmath>
#include <sstream>

namespace hadml {

detail::BoostAxis detail::boost_axis(const FourVector& frame) {
  const double p = std::sqrt(frame.px * frame.px + frame.py * frame.py + frame.pz * frame.pz);
  if (p == 0.0) return {0.0, 0.0, 1.0, 0.0};
  return {frame.px / p, frame.py / p, frame.pz / p, p};
}

namespace {

bool finite(const FourVector& p) {
  return std::isfinite(p.e) && std::isfinite(p.px) && std::isfinite(p.py) && std::isfinite(p.pz);
}

std::string describe(const FourVector& p) {
  std::ostringstream os;
  os.precision(17);
  os << "(E=" << p.e << ", px=" << p.px << ", py=" << p.py << ", pz=" << p.pz << ")";
  return os.str();
}

void require_finite(const FourVector& p, const char* what) {
  if (!finite(p)) {
    throw KinematicsError(std::string(what) + " has a non-finite component: " + describe(p));
  }
}

using Axis = detail::BoostAxis;  // unit vector along the frame momentum and |p|
Axis axis_of(const FourVector& frame) { return detail::boost_axis(frame); }

// Boost of (e, k) with invariant mass m along the axis by a frame of energy E, momentum s*P and
// mass M (s = +1: rest -> lab, s = -1: lab -> rest). Cancellation-free: when the naive numerator
// subtracts two large numbers, it is replaced by the product identity written with the transverse
// mass mt^2 = m^2 + k_perp^2.
FourVector boost(const FourVector& k, double m, double E, const Axis& ax, double M, double s) {
  const double kpar = ax.nx * k.px + ax.ny * k.py + ax.nz * k.pz;
  // k_perp^2 = |n x k|^2, free of cancellation
  const double cx = ax.ny * k.pz - ax.nz * k.py;
  const double cy = ax.nz * k.px - ax.nx * k.pz;
  const double cz = ax.nx * k.py - ax.ny * k.px;
  const double mt2 = m * m + cx * cx + cy * cy + cz * cz;
  const double P = s * ax.p;
  double e_new;
  double par_new;
  if (P * kpar >= 0.0) {
    e_new = (E * k.e + P * kpar) / M;
  } else {
    e_new = (M * M * k.e * k.e + ax.p * ax.p * mt2) / (M * (E * k.e + std::fabs(P * kpar)));
  }
  if (s * kpar >= 0.0 || P == 0.0) {
    // s * kpar >= 0: E kpar and P e have the same sign -> no cancellation
    par_new = (P * k.e + E * kpar) / M;
  } else {
    // P e + E kpar with opposite signs: (P e)^2 - (E kpar)^2 = P^2 mt^2 - M^2 kpar^2
    const double num = ax.p * ax.p * mt2 - M * M * kpar * kpar;
    par_new = s * num / (M * (ax.p * k.e + E * std::fabs(kpar)));
  }
  const double d = par_new - kpar;
  return {e_new, k.px + d * ax.nx, k.py + d * ax.ny, k.pz + d * ax.nz};
}

void require_frame(const FourVector& frame, double M, const char* what) {
  require_finite(frame, what);
  if (!(M > 0.0) || !std::isfinite(M)) {
    std::ostringstream os;
    os << what << " must be time-like with positive mass, got mass " << M << " for "
       << describe(frame);
    throw KinematicsError(os.str());
  }
  if (!(frame.e > 0.0)) {
    throw KinematicsError(std::string(what) + " must have positive energy: " + describe(frame));
  }
}

bool positive_half(double x, double y, double z) {
  if (x != 0.0) return x > 0.0;
  if (y != 0.0) return y > 0.0;
  return z >= 0.0;
}

FourVector row(const double* a, std::size_t i) {
  const double* r = a + 4 * i;
  return {r[0], r[1], r[2], r[3]};
}

void put(double* a, std::size_t i, const FourVector& p) {
  double* r = a + 4 * i;
  r[0] = p.e;
  r[1] = p.px;
  r[2] = p.py;
  r[3] = p.pz;
}

[[noreturn]] void rethrow_with_row(const KinematicsError& err, std::size_t i) {
  std::ostringstream os;
  os << "row " << i << ": " << err.what();
  throw KinematicsError(os.str());
}

}  // namespace

// Error-free transformations (Dekker/Knuth, no FMA so that numpy and torch can mirror them):
// a*a = hi + lo exactly, a + b = s + err exactly.
namespace {
constexpr double kSplitter = 134217729.0;  // 2^27 + 1

void two_square(double a, double& hi, double& lo) {
  const double c = kSplitter * a;
  const double ah = c - (c - a);
  const double al = a - ah;
  hi = a * a;
  lo = ((ah * ah - hi) + 2.0 * ah * al) + al * al;
}

void two_sum(double a, double b, double& s, double& err) {
  s = a + b;
  const double bp = s - a;
  err = (a - (s - bp)) + (b - bp);
}
}  // namespace

double mass2(const FourVector& p) {
  // E^2 - px^2 - py^2 - pz^2 in doubled precision: exact for the cancellation that makes
  // m^2 of a strongly boosted vector lose gamma^2 digits in plain arithmetic.
  double h[4];
  double l[4];
  two_square(p.e, h[0], l[0]);
  two_square(p.px, h[1], l[1]);
  two_square(p.py, h[2], l[2]);
  two_square(p.pz, h[3], l[3]);
  double s = h[0];
  double c = l[0];
  for (int i = 1; i < 4; ++i) {
    double t;
    double e;
    two_sum(s, -h[i], t, e);
    s = t;
    c += e - l[i];
  }
  return s + c;
}

double mass(const FourVector& p) {
  require_finite(p, "four-vector");
  const double m2 = mass2(p);
  if (m2 < 0.0) {
    throw KinematicsError("four-vector is space-like (mass^2 = " + std::to_string(m2) +
                          "): " + describe(p));
  }
  return std::sqrt(m2);
}

double kallen(double M, double m1, double m2) {
  return (M - m1 - m2) * (M + m1 + m2) * (M - m1 + m2) * (M + m1 - m2);
}

namespace {
double rest_momentum(double M, double m1, double m2) { return std::sqrt(kallen(M, m1, m2)) / (2.0 * M); }
}  // namespace

double two_body_momentum(double M, double m1, double m2) {
  if (!std::isfinite(M) || !std::isfinite(m1) || !std::isfinite(m2)) {
    throw KinematicsError("two-body decay: non-finite mass");
  }
  if (m1 < 0.0 || m2 < 0.0) {
    throw KinematicsError("two-body decay: negative hadron mass");
  }
  if (M < m1 + m2) {
    std::ostringstream os;
    os.precision(10);
    os << "two-body decay below threshold: M = " << M << " < m1 + m2 = " << m1 + m2;
    throw KinematicsError(os.str());
  }
  return rest_momentum(M, m1, m2);
}

FourVector boost_from_rest(const FourVector& q, double q_mass, const FourVector& frame,
                           double frame_mass) {
  require_frame(frame, frame_mass, "boost frame");
  require_finite(q, "boosted vector");
  return boost(q, q_mass, frame.e, axis_of(frame), frame_mass, +1.0);
}

FourVector boost_to_rest(const FourVector& k, double k_mass, const FourVector& frame,
                         double frame_mass) {
  require_frame(frame, frame_mass, "boost frame");
  require_finite(k, "boosted vector");
  return boost(k, k_mass, frame.e, axis_of(frame), frame_mass, -1.0);
}

DecayProducts two_body_decay(const FourVector& cluster, double m1, double m2, double theta,
                             double phi) {
  require_finite(cluster, "cluster");
  if (!std::isfinite(theta) || !std::isfinite(phi)) {
    throw KinematicsError("two-body decay: non-finite angle");
  }
  const double M = mass(cluster);
  require_frame(cluster, M, "cluster");
  two_body_momentum(M, m1, m2);  // checks the masses and the threshold
  return detail::two_body_decay_unchecked(cluster, M, m1, m2, theta, phi);
}

DecayProducts detail::two_body_decay_unchecked(const FourVector& cluster, double M, double m1,
                                               double m2, double theta, double phi) {
  const double p = rest_momentum(M, m1, m2);
  const double st = std::sin(theta);
  const double qx = p * st * std::cos(phi);
  const double qy = p * st * std::sin(phi);
  const double qz = p * std::cos(theta);
  const FourVector q1{std::sqrt(m1 * m1 + p * p), qx, qy, qz};
  const FourVector q2{std::sqrt(m2 * m2 + p * p), -qx, -qy, -qz};
  const Axis ax = axis_of(cluster);
  return {boost(q1, m1, cluster.e, ax, M, +1.0), boost(q2, m2, cluster.e, ax, M, +1.0)};
}

DecayProducts detail::two_body_decay_along_unchecked(const FourVector& cluster, double M, const BoostAxis& ax,
                                                     double m1, double m2, const double dir[3]) {
  const double p = rest_momentum(M, m1, m2);
  const double qx = p * dir[0], qy = p * dir[1], qz = p * dir[2];
  const FourVector q1{std::sqrt(m1 * m1 + p * p), qx, qy, qz};
  const FourVector q2{std::sqrt(m2 * m2 + p * p), -qx, -qy, -qz};
  return {boost(q1, m1, cluster.e, ax, M, +1.0), boost(q2, m2, cluster.e, ax, M, +1.0)};
}

DecayAngles recover_angles(const FourVector& cluster, const FourVector& h1,
                           const FourVector& h2) {
  require_finite(cluster, "cluster");
  const double M = mass(cluster);
  require_frame(cluster, M, "cluster");
  const double m1 = mass(h1);
  const double m2 = mass(h2);
  const Axis ax = axis_of(cluster);
  const FourVector q1 = boost(h1, m1, cluster.e, ax, M, -1.0);
  const FourVector q2 = boost(h2, m2, cluster.e, ax, M, -1.0);
  double dx = q1.px - q2.px;
  double dy = q1.py - q2.py;
  double dz = q1.pz - q2.pz;
  if (dx == 0.0 && dy == 0.0 && dz == 0.0) {
    throw KinematicsError("recover_angles: the hadrons are at rest in the cluster frame");
  }
  int first = 0;
  if (!positive_half(dx, dy, dz)) {
    first = 1;
    dx = -dx;
    dy = -dy;
    dz = -dz;
  }
  return {std::atan2(std::hypot(dx, dy), dz), std::atan2(dy, dx), first};
}

namespace {
using Vec3 = std::array<double, 3>;

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
// sqrt of the sum of squares (momenta here are far from overflow; std::hypot rescales with a division per term)
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
Vec3 scaled(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
// a with its component along the unit vector z removed
Vec3 reject(const Vec3& a, const Vec3& z) {
  const double c = dot(a, z);
  return {a[0] - c * z[0], a[1] - c * z[1], a[2] - c * z[2]};
}
constexpr double kParallel = 1e-12;  // |n - (n.z) z| below this: n is (anti)parallel to z
}  // namespace

DecayFrame decay_frame(const FourVector& cluster, const FourVector& constituent1) {
  require_finite(cluster, "cluster");
  const double M = mass(cluster);
  require_frame(cluster, M, "cluster");
  return detail::decay_frame_unchecked(cluster, M, detail::boost_axis(cluster), constituent1);
}

DecayFrame detail::decay_frame_unchecked(const FourVector& cluster, double M, const BoostAxis& ax,
                                         const FourVector& constituent1) {
  require_finite(constituent1, "constituent 1");
  const double m2q = mass2(constituent1);
  if (!(constituent1.e > 0.0) || m2q < -1e-9 * constituent1.e * constituent1.e) {
    throw KinematicsError("constituent 1 must be time- or light-like with positive energy: " +
                          describe(constituent1));
  }
  const FourVector q = boost(constituent1, std::sqrt(std::fmax(m2q, 0.0)), cluster.e, ax, M, -1.0);
  const Vec3 qv{q.px, q.py, q.pz};
  const double qn = norm(qv);
  if (!(qn > 0.0)) {
    throw KinematicsError("constituent 1 is at rest in the cluster frame: no decay axis");
  }
  DecayFrame f;
  f.z = scaled(qv, 1.0 / qn);
  const Vec3 n{ax.nx, ax.ny, ax.nz};  // lab z for a cluster at rest
  f.cos_alpha = dot(n, f.z);
  Vec3 x = reject(n, f.z);
  double xn = norm(x);
  if (xn < kParallel) {
    // the lab axis least aligned with z*
    const double a0 = std::fabs(f.z[0]), a1 = std::fabs(f.z[1]), a2 = std::fabs(f.z[2]);
    const Vec3 e = (a0 <= a1 && a0 <= a2) ? Vec3{1.0, 0.0, 0.0} : (a1 <= a2 ? Vec3{0.0, 1.0, 0.0} : Vec3{0.0, 0.0, 1.0});
    x = reject(e, f.z);
    xn = norm(x);
  }
  // a second Gram-Schmidt pass: when n is nearly (anti)parallel to z (|x| ~ 1e-9, above
  // kParallel), x keeps a z component of ~eps / |x| after the first; the axes must be orthonormal
  // to rounding, or a direction rotated with them is not a unit vector and the decay misses
  // four-momentum conservation by as much (1.6e-8 GeV seen in a Herwig event)
  x = reject(scaled(x, 1.0 / xn), f.z);
  f.x = scaled(x, 1.0 / norm(x));
  f.y = cross(f.z, f.x);
  return f;
}

void frame_direction_angles(const DecayFrame& f, const double u[3], double& theta, double& phi) {
  const double dx = u[0] * f.x[0] + u[1] * f.y[0] + u[2] * f.z[0];
  const double dy = u[0] * f.x[1] + u[1] * f.y[1] + u[2] * f.z[1];
  const double dz = u[0] * f.x[2] + u[1] * f.y[2] + u[2] * f.z[2];
  if (!(std::isfinite(dx) && std::isfinite(dy) && std::isfinite(dz)) || (dx == 0.0 && dy == 0.0 && dz == 0.0)) {
    throw KinematicsError("frame direction must be finite and non-zero");
  }
  theta = std::atan2(std::hypot(dx, dy), dz);
  phi = std::atan2(dy, dx);
}

std::array<double, 3> recover_frame_direction(const FourVector& cluster, const FourVector& constituent1,
                                              const FourVector& h1, const FourVector& h2) {
  const DecayFrame f = decay_frame(cluster, constituent1);
  const double M = mass(cluster);
  const Axis ax = axis_of(cluster);
  const FourVector q1 = boost(h1, mass(h1), cluster.e, ax, M, -1.0);
  const FourVector q2 = boost(h2, mass(h2), cluster.e, ax, M, -1.0);
  const Vec3 d{q1.px - q2.px, q1.py - q2.py, q1.pz - q2.pz};
  const double dn = norm(d);
  if (!(dn > 0.0)) throw KinematicsError("recover_frame_direction: the hadrons are at rest in the cluster frame");
  return {dot(d, f.x) / dn, dot(d, f.y) / dn, dot(d, f.z) / dn};
}

void decay_frame_batch(std::size_t n, const double* clusters, const double* constituents1,
                       double* out_axes, double* out_cos_alpha) {
  for (std::size_t i = 0; i < n; ++i) {
    try {
      const DecayFrame f = decay_frame(row(clusters, i), row(constituents1, i));
      for (int j = 0; j < 3; ++j) {
        out_axes[9 * i + j] = f.x[j];
        out_axes[9 * i + 3 + j] = f.y[j];
        out_axes[9 * i + 6 + j] = f.z[j];
      }
      out_cos_alpha[i] = f.cos_alpha;
    } catch (const KinematicsError& err) {
      rethrow_with_row(err, i);
    }
  }
}

void recover_frame_direction_batch(std::size_t n, const double* clusters, const double* constituents1,
                                   const double* h1, const double* h2, double* out_u) {
  for (std::size_t i = 0; i < n; ++i) {
    try {
      const auto u = recover_frame_direction(row(clusters, i), row(constituents1, i), row(h1, i), row(h2, i));
      for (int j = 0; j < 3; ++j) out_u[3 * i + j] = u[j];
    } catch (const KinematicsError& err) {
      rethrow_with_row(err, i);
    }
  }
}

void two_body_decay_batch(std::size_t n, const double* clusters, const double* m1,
                          const double* m2, const double* theta, const double* phi,
                          double* out_first, double* out_second) {
  for (std::size_t i = 0; i < n; ++i) {
    try {
      const DecayProducts d = two_body_decay(row(clusters, i), m1[i], m2[i], theta[i], phi[i]);
      put(out_first, i, d.first);
      put(out_second, i, d.second);
    } catch (const KinematicsError& err) {
      rethrow_with_row(err, i);
    }
  }
}

void recover_angles_batch(std::size_t n, const double* clusters, const double* h1,
                          const double* h2, double* out_theta, double* out_phi, int* out_first) {
  for (std::size_t i = 0; i < n; ++i) {
    try {
      const DecayAngles a = recover_angles(row(clusters, i), row(h1, i), row(h2, i));
      out_theta[i] = a.theta;
      out_phi[i] = a.phi;
      out_first[i] = a.first;
    } catch (const KinematicsError& err) {
      rethrow_with_row(err, i);
    }
  }
}

void boost_batch(std::size_t n, const double* vectors, const double* frames, bool to_rest,
                 double* out) {
  for (std::size_t i = 0; i < n; ++i) {
    try {
      const FourVector k = row(vectors, i);
      const FourVector f = row(frames, i);
      const double mk = mass(k);
      const double mf = mass(f);
      put(out, i, to_rest ? boost_to_rest(k, mk, f, mf) : boost_from_rest(k, mk, f, mf));
    } catch (const KinematicsError& err) {
      rethrow_with_row(err, i);
    }
  }
}

}  // namespace hadml

// hadml kinematics core: Lorentz boosts and two-body cluster decays.
//
// Conventions (shared with python/hadml/kinematics.py and kinematics_torch.py):
//  * Four-vectors are (E, px, py, pz) in GeV, metric (+,-,-,-).
//  * The cluster rest frame is reached from the lab by the pure (rotation-free) boost
//    along the cluster momentum; its axes are parallel to the lab x, y, z axes.
//  * A decay direction (theta, phi) is the unit vector
//    (sin(theta) cos(phi), sin(theta) sin(phi), cos(theta)) in that frame.
//  * Of the two back-to-back hadrons, the "first" one is the hadron whose rest-frame
//    momentum lies in the half space x > 0 (ties: x == 0 and y > 0; then x == y == 0 and z >= 0),
//    so that theta is in [0, pi] and phi in (-pi/2, pi/2].
//  * Boosts use cancellation-free forms (energy and longitudinal momentum are rewritten with
//    transverse masses when the naive expression would subtract nearly equal numbers), so that
//    clusters with E/M up to 1e3 and decays at threshold keep full double precision.
#pragma once

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace hadml {

struct FourVector {
  double e{0.0};
  double px{0.0};
  double py{0.0};
  double pz{0.0};
};

/// Error raised for unphysical or malformed kinematic input (NaN, M < m1 + m2, ...).
class KinematicsError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Invariant mass squared, E^2 - px^2 - py^2 - pz^2 with the squares and their sum in doubled
/// precision (error-free transformations), rounded once at the end.
double mass2(const FourVector& p);
/// Invariant mass; throws KinematicsError for space-like or non-finite vectors.
double mass(const FourVector& p);

/// Kaellen function lambda(a, b, c) for a = M^2, b = m1^2, c = m2^2, in the factorised form
/// (M^2 - (m1 + m2)^2) (M^2 - (m1 - m2)^2). Takes masses, not squares.
double kallen(double M, double m1, double m2);

/// Rest-frame momentum p* = sqrt(lambda) / (2 M); throws if M < m1 + m2 or a mass is negative.
double two_body_momentum(double M, double m1, double m2);

/// Boost `q`, given in the rest frame of `frame` (a time-like four-vector of mass `frame_mass`),
/// to the frame in which `frame` is measured. `q_mass` is the invariant mass of q.
FourVector boost_from_rest(const FourVector& q, double q_mass, const FourVector& frame,
                           double frame_mass);
/// Inverse of boost_from_rest: express lab vector `k` (mass k_mass) in the rest frame of `frame`.
FourVector boost_to_rest(const FourVector& k, double k_mass, const FourVector& frame,
                         double frame_mass);

struct DecayProducts {
  FourVector first;
  FourVector second;
};

/// Two-body decay of `cluster` into masses (m1, m2): the m1 hadron goes along (theta, phi) in the
/// cluster rest frame, the m2 hadron back to back; both are returned in the lab.
DecayProducts two_body_decay(const FourVector& cluster, double m1, double m2, double theta,
                             double phi);

namespace detail {
/// A frame's boost axis: the unit vector along its momentum (lab z when at rest) and |p|. The
/// decayer's hot loop computes it once per cluster and hands it to the *_unchecked functions.
struct BoostAxis {
  double nx, ny, nz, p;
};
BoostAxis boost_axis(const FourVector& frame);

/// two_body_decay without its checks, for callers that validated the input themselves (the
/// decayer's batches): cluster finite with E > 0, M = mass(cluster) > 0, masses 0 <= m1, m2 with
/// m1 + m2 <= M, angles finite. Same arithmetic as two_body_decay, which calls it.
DecayProducts two_body_decay_unchecked(const FourVector& cluster, double M, double m1, double m2,
                                       double theta, double phi);
/// The same with the m1 hadron's rest-frame direction given as a unit 3-vector (lab-parallel
/// rest-frame axes): no angles, so no trigonometry (the hadml-2 decayer's hot loop).
DecayProducts two_body_decay_along_unchecked(const FourVector& cluster, double M, const BoostAxis& axis,
                                             double m1, double m2, const double dir[3]);
}  // namespace detail

struct DecayAngles {
  double theta{0.0};
  double phi{0.0};
  int first{0};  ///< 0 if h1 is the "first" hadron, 1 if h2 is
};

/// Recover (theta, phi) of the first hadron from a cluster and its two lab-frame hadrons. The
/// decay axis is taken as q1 - q2 in the rest frame, which is robust to rounding of the inputs.
DecayAngles recover_angles(const FourVector& cluster, const FourVector& h1, const FourVector& h2);

// ---- the hadml-2 decay frame ---------------------------------------------------------------
// In the cluster rest frame (reached by the pure boost above): z* is constituent 1's direction
// (the constituents are back to back there, so one axis serves both); x* is the cluster's flight
// direction n (the lab momentum's direction) with its z* component removed, so that the azimuth
// is measured from the plane (z*, n); y* = z* x x*. cos_alpha = n . z*. Where n is (anti)parallel
// to z* (|n - (n.z*) z*| < 1e-12) or the cluster is at rest (n := lab z), x* is built from the
// lab axis least aligned with z* instead. Every quantity expressed in (x*, y*, z*) is invariant
// under rotations of the whole event: what a generator conditioned on rotation invariants needs.
struct DecayFrame {
  std::array<double, 3> x{}, y{}, z{};  ///< unit axes, in lab-parallel rest-frame coordinates
  double cos_alpha{0.0};               ///< n . z*
};

/// The hadml-2 frame of `cluster` with constituent 1 `constituent1` (both lab four-vectors).
DecayFrame decay_frame(const FourVector& cluster, const FourVector& constituent1);

namespace detail {
/// decay_frame for a cluster its caller validated (finite, E > 0, M = mass(cluster) > 0): the
/// constituent is still checked (KinematicsError). Same arithmetic as decay_frame, which calls it.
/// `axis` is boost_axis(cluster).
DecayFrame decay_frame_unchecked(const FourVector& cluster, double M, const BoostAxis& axis,
                                 const FourVector& constituent1);
}  // namespace detail

/// A direction u (any non-zero 3-vector, frame coordinates) as (theta, phi) in the lab-parallel
/// rest-frame axes, the angles two_body_decay takes (phi in (-pi, pi]).
void frame_direction_angles(const DecayFrame& f, const double u[3], double& theta, double& phi);

/// The unit direction of hadron 1 in frame coordinates, recovered from the lab hadrons (decay
/// axis q1 - q2 in the rest frame, as recover_angles; no fold: hadron 1 is h1).
std::array<double, 3> recover_frame_direction(const FourVector& cluster, const FourVector& constituent1,
                                              const FourVector& h1, const FourVector& h2);

// ---- batched forms over contiguous row-major arrays (n rows) -------------------------------
// clusters/h1/h2/out_*: n x 4 (E, px, py, pz); masses/angles: n.
void two_body_decay_batch(std::size_t n, const double* clusters, const double* m1,
                          const double* m2, const double* theta, const double* phi,
                          double* out_first, double* out_second);
void recover_angles_batch(std::size_t n, const double* clusters, const double* h1,
                          const double* h2, double* out_theta, double* out_phi, int* out_first);
void boost_batch(std::size_t n, const double* vectors, const double* frames, bool to_rest,
                 double* out);
/// out_axes: n x 9 (x*, y*, z*), out_cos_alpha: n.
void decay_frame_batch(std::size_t n, const double* clusters, const double* constituents1,
                       double* out_axes, double* out_cos_alpha);
/// out_u: n x 3, hadron 1's unit direction in frame coordinates.
void recover_frame_direction_batch(std::size_t n, const double* clusters, const double* constituents1,
                                   const double* h1, const double* h2, double* out_u);

}  // namespace hadml

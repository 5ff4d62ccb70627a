"""Particle-id helpers."""

from __future__ import annotations

import numpy as np


def is_quark(pid: np.ndarray | int) -> np.ndarray:
    a = np.abs(np.asarray(pid))
    return (a >= 1) & (a <= 6)


def is_diquark(pid: np.ndarray | int) -> np.ndarray:
    """PDG diquarks: |pid| = abcd with c == 0, a >= b >= 1, d in (1, 3)."""
    a = np.abs(np.asarray(pid))
    return (a >= 1101) & (a <= 6503) & ((a // 10) % 10 == 0) & np.isin(a % 10, (1, 3))


def is_parton(pid: np.ndarray | int) -> np.ndarray:
    return is_quark(pid) | is_diquark(pid) | (np.abs(np.asarray(pid)) == 21)


def is_hadron(pid: np.ndarray | int) -> np.ndarray:
    """Mesons and baryons (|pid| >= 100, not a diquark, not a cluster)."""
    a = np.abs(np.asarray(pid))
    return (a > 100) & ~is_diquark(pid) & (a != 81) & (a != 88)


# three times the charge of quarks d, u, s, c, b, t (PDG codes 1..6)
_QUARK_3Q = np.array([0, -1, 2, -1, 2, -1, 2], dtype=np.int64)
# three times the charge of leptons and bosons by |pid| (those not built from quark digits)
_OTHER_3Q = {11: -3, 13: -3, 15: -3, 17: -3, 24: 3, 34: 3, 37: 3}


def three_charge(pid: np.ndarray | int) -> np.ndarray:
    """Three times the electric charge (an integer) of each PDG id, from the quark-content digits
    of the numbering scheme (|pid| = ... n_q1 n_q2 n_q3 n_J): quarks, diquarks (n_q1 n_q2 0 n_J),
    mesons (0 n_q2 n_q3 n_J: a quark of kind n_q2 and an antiquark of kind n_q3, or the reverse
    when n_q2 is down-type, so that 211 = u dbar, 321 = u sbar, 411 = c dbar, 521 = u bbar) and
    baryons (n_q1 n_q2 n_q3 n_J: three quarks), whatever the radial and orbital digits
    (10211, 100211, 9000211 are charged like 211); nuclei 10LZZZAAAI have Z; charged leptons and
    W, H+ from a table; everything else (gluon, photon, Z, neutrinos, clusters 81 and 88, K_L 130,
    K_S 310, whose n_J is 0) 0. The sign follows the sign of pid."""
    p = np.asarray(pid, dtype=np.int64)
    a = np.abs(p)
    nj = a % 10
    q3 = (a // 10) % 10
    q2 = (a // 100) % 10
    q1 = (a // 1000) % 10
    fund = (a // 10000) % 1000  # n_R n_L digits and above: zero for the ground states

    def qc(k: np.ndarray) -> np.ndarray:
        return _QUARK_3Q[np.clip(k, 0, 6)] * (k <= 6)

    meson = qc(q2) - qc(q3)
    meson = np.where((q2 == 1) | (q2 == 3) | (q2 == 5), -meson, meson)
    baryon = qc(q1) + qc(q2) + qc(q3)
    diquark = qc(q1) + qc(q2)
    out = np.zeros_like(a)
    composite = (a > 100) & (a < 1_000_000_000) & (nj > 0) & (fund < 1000)
    out = np.where(composite & (q1 == 0), meson, out)
    out = np.where(composite & (q1 > 0) & (q3 > 0), baryon, out)
    out = np.where(composite & (q1 > 0) & (q3 == 0), diquark, out)
    out = np.where((a >= 1) & (a <= 6), qc(a), out)
    nucleus = a >= 1_000_000_000
    out = np.where(nucleus, 3 * ((a // 10000) % 1000), out)
    for k, v in _OTHER_3Q.items():
        out = np.where(a == k, v, out)
    return np.where(p < 0, -out, out)


def charge(pid: np.ndarray | int) -> np.ndarray:
    """Electric charge in units of e (float) of each PDG id; see :func:`three_charge`."""
    return three_charge(pid) / 3.0

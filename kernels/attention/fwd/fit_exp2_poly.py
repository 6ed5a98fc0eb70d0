"""Fits the polynomial p(f) ~= 2^f on [0, 1) that the FA3 kernel's exp2 emulation uses.

Minimax in relative error via a Remez-like iteration on a dense grid (numpy only), with
p(0) = 1 pinned so that 2^j comes out exact at integers. Prints the coefficients that
fa3_softmax.cuh hard-codes and the max relative error (it must stay well under the bf16
half-ulp 2^-9 = 1.95e-3, since P is rounded to bf16 right after the exp2).
Run: python3 fit_exp2_poly.py [degree]
"""
import sys
import numpy as np

deg = int(sys.argv[1]) if len(sys.argv) > 1 else 3
f = np.linspace(0.0, 1.0, 20001)
t = np.exp2(f)
w = np.ones_like(f)
for _ in range(60):
    # p(f) = 1 + sum_k c_k f^k, k = 1..deg; weighted least squares on relative error.
    A = np.stack([f**k for k in range(1, deg + 1)], axis=1) / t[:, None]
    b = (t - 1.0) / t
    c, *_ = np.linalg.lstsq(A * w[:, None], b * w, rcond=None)
    err = np.abs((1.0 + (np.stack([f**k for k in range(1, deg + 1)], 1) @ c)) / t - 1.0)
    w = w * (1.0 + 50.0 * err / err.max())
    w /= w.mean()
p = 1.0 + np.stack([f**k for k in range(1, deg + 1)], 1) @ c
print("degree", deg, "coeffs c1..c%d:" % deg, ", ".join("%.9ef" % x for x in c))
print("max rel err", np.max(np.abs(p / t - 1.0)))

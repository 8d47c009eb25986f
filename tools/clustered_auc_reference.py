"""Reference values for MetricsTests' clustered AUC interval and paired test.

Obuchowski (1997), "Nonparametric analysis of clustered ROC curve data", computed directly
from its formulas with numpy: per cluster the summed placements of its positives and negatives,
S10, S01 and S11, var = S10/M + S01/N + 2 S11/(M N). Run with any Python that has numpy:
    python3 tools/clustered_auc_reference.py
"""
import math

import numpy as np

# Ten samples from five patients (two each): scores of two networks, labels, patients.
a = np.array([0.9, 0.8, 0.35, 0.6, 0.3, 0.2, 0.55, 0.1, 0.65, 0.05])
b = np.array([0.7, 0.25, 0.4, 0.5, 0.45, 0.2, 0.3, 0.15, 0.6, 0.35])
positive = np.array([1, 1, 0, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
patient = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4])


def psi(x, y):
    return 1.0 if x > y else (0.5 if x == y else 0.0)


def components(scores):
    """AUC and, per cluster, summed placements and class counts."""
    xs, ys = scores[positive], scores[~positive]
    m, n = len(xs), len(ys)
    auc = sum(psi(x, y) for x in xs for y in ys) / (m * n)
    clusters = sorted(set(patient))
    v10 = {c: sum(sum(psi(scores[i], y) for y in ys) / n for i in range(len(scores)) if positive[i] and patient[i] == c) for c in clusters}
    v01 = {c: sum(sum(psi(x, scores[k]) for x in xs) / m for k in range(len(scores)) if not positive[k] and patient[k] == c) for c in clusters}
    mi = {c: int(np.sum(positive & (patient == c))) for c in clusters}
    ni = {c: int(np.sum(~positive & (patient == c))) for c in clusters}
    return auc, m, n, clusters, v10, v01, mi, ni


def variance(d10, d01, m, n, clusters, mi, ni):
    """Obuchowski's variance from per-cluster deviations V10_i - m_i*theta and V01_i - n_i*theta."""
    i10 = sum(1 for c in clusters if mi[c] > 0)
    i01 = sum(1 for c in clusters if ni[c] > 0)
    i = len(clusters)
    s10 = i10 / ((i10 - 1) * m) * sum(d10[c] ** 2 for c in clusters if mi[c] > 0)
    s01 = i01 / ((i01 - 1) * n) * sum(d01[c] ** 2 for c in clusters if ni[c] > 0)
    s11 = i / (i - 1) * sum(d10[c] * d01[c] for c in clusters)
    return s10 / m + s01 / n + 2 * s11 / (m * n)


auc_a, m, n, clusters, v10a, v01a, mi, ni = components(a)
auc_b, _, _, _, v10b, v01b, _, _ = components(b)
var_a = variance({c: v10a[c] - mi[c] * auc_a for c in clusters}, {c: v01a[c] - ni[c] * auc_a for c in clusters}, m, n, clusters, mi, ni)
diff = auc_a - auc_b
var_d = variance({c: (v10a[c] - v10b[c]) - mi[c] * diff for c in clusters},
                 {c: (v01a[c] - v01b[c]) - ni[c] * diff for c in clusters}, m, n, clusters, mi, ni)
print(f"AUC(a) = {auc_a!r}, variance {var_a!r}, interval [{max(0, auc_a - 1.96 * math.sqrt(var_a))!r}, "
      f"{min(1, auc_a + 1.96 * math.sqrt(var_a))!r}]")
print(f"AUC(a) - AUC(b) = {diff!r}, variance {var_d!r}, p = {math.erfc(abs(diff) / math.sqrt(var_d) / math.sqrt(2))!r}")

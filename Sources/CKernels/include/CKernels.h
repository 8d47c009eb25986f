// Elementwise loops that Swift compiles to scalar code (its square root keeps libm's errno
// semantics, so loops around it are not vectorized; here `__builtin_elementwise_sqrt` has none). Compiled for AVX-512, AVX2 or the baseline,
// chosen at load time, with the operations in the order written (no fused multiply-adds), so
// every CPU gives the same bits as the Swift loop they replace.
#pragma once
#include <stddef.h>

/// RMSprop without momentum or centering, for n values: g ← g + decay·p; s ← alpha·s + (1−alpha)·g²;
/// p ← p − lr·g / (√s + eps).
void compseg_rmsprop(float *p, const float *gradient, float *s, size_t n,
                     float alpha, float lr, float eps, float decay);

/// Softplus' backward from its output y = ln(1 + eˣ): dx = dy·σ(x) = dy·(1 − e⁻ʸ), for n values;
/// 1 − e⁻ʸ within 2e-7 of its value relative (a degree-6 polynomial for e^r − 1 after range reduction).
void compseg_softplus_backward(float *dx, const float *dy, const float *y, size_t n);

#include "CKernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#pragma clang fp contract(off)

/// 1 − e^x for x ≤ 0: x = k·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 in two parts, so k·ln 2 is exact to
/// float precision), q = e^r − 1 by its Taylor polynomial to degree 6 (truncation below 1.3e-7
/// relative), then 1 − 2^k·(1 + q) = −(2^k·q + (2^k − 1)), which for k = 0 (|x| < 0.35) is −q
/// with no cancellation, so tiny outputs keep their relative precision. Arguments below −87
/// count as −87 (2^k near 1.6e-38); NaN stays NaN.
static inline float one_minus_exp(float value) {
    float x = value < -87.0f ? -87.0f : value == value ? value : 0.0f;
    float k = rintf(x * 1.44269504088896341f);
    float r = (x - k * 0.693145751953125f) - k * 1.42860682030941723e-6f;
    float q = r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return value == value ? -(scale * q + (scale - 1.0f)) : value;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void compseg_softplus_backward(float *restrict dx, const float *restrict dy, const float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * one_minus_exp(-y[i]);
}

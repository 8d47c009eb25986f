#include "CKernels.h"
#include <math.h>

#pragma clang fp contract(off)

__attribute__((target_clones("avx512f", "avx2", "default")))
void compseg_rmsprop(float *restrict p, const float *restrict gradient, float *restrict s, size_t n,
                     float alpha, float lr, float eps, float decay) {
    for (size_t i = 0; i < n; i++) {
        float g = gradient[i] + decay * p[i];
        s[i] = alpha * s[i] + (1 - alpha) * g * g;
        p[i] -= lr * g / (__builtin_elementwise_sqrt(s[i]) + eps);
    }
}

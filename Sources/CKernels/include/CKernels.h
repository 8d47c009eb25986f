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

// Winograd F(4×4, 3×3) convolutions, 3×3 with stride 1 and padding 1, on AVX2 + FMA (winograd.c).
// Activations in nChw8c (channels in blocks of 8, zero-padded); weights plain (O×I×3×3).

/// Whether this CPU runs the Winograd kernels below (AVX2 and FMA).
int compseg_winograd_available(void);
/// Rows [row_begin, row_end) (input channels, rounded up to 8) of the 36 transformed weight
/// planes, 36 × in × out floats with `in` and `out` rounded up to 8: of `weights` (outputs × inputs
/// × 3 × 3) for the forward pass, or, with `backward_data`, of the convolution that maps output
/// gradients to input gradients (flipped, inputs and outputs swapped). Threads may write disjoint
/// row ranges at once.
void compseg_winograd_transform_weights(const float *weights, long outputs, long inputs, int backward_data,
                                        float *u, long row_begin, long row_end);
/// Floats of scratch one thread's `compseg_winograd_forward` needs.
size_t compseg_winograd_forward_scratch(long inputs, long outputs);
/// The output tiles [tile_begin, tile_end) (images × ⌈h/4⌉ × ⌈w/4⌉ tiles of 4×4) of the convolution
/// of `src` (n × inputs × h × w) with transformed weights `u`, plus `bias` (nil: none), into `dst`
/// (n × outputs × h × w). Threads may run disjoint tile ranges at once.
void compseg_winograd_forward(const float *src, long n, long inputs, long h, long w, const float *u, long outputs,
                              const float *bias, float *dst, float *scratch, long tile_begin, long tile_end);
/// Floats of scratch one thread's `compseg_winograd_weight_gradient` needs.
size_t compseg_winograd_weight_gradient_scratch(long inputs, long outputs);
/// The weight gradient for the input channel blocks [block_begin, block_end) (8 channels each):
/// accumulates the transformed gradient in `du` (36 × inputs × outputs, rounded up to 8) and writes
/// `dw` (outputs × inputs × 3 × 3, plain) for those channels; the call with block_begin 0 also
/// writes the bias gradient `db` (outputs floats) unless it is nil. Threads may run disjoint block ranges.
void compseg_winograd_weight_gradient(const float *src, const float *dy, long n, long inputs, long h, long w,
                                      long outputs, float *du, float *dw, float *db, float *scratch,
                                      long block_begin, long block_end);

/// The path of the file the system's loader opened for `handle` (a dlopen handle), or NULL; owned
/// by the loader, valid while the library stays open.
const char *compseg_loaded_library_path(void *handle);

/// Makes standard output line-buffered, as on a terminal, also into a pipe or file (a job's log, `tee`).
void compseg_line_buffered_stdout(void);
/// Flushes standard output and says whether all of it was written: 0, or why not (an errno
/// value; -1 where a write failed earlier for a reason no longer known).
int compseg_stdout_failure(void);

/// Names the calling thread (at most 15 bytes; longer names are cut), as `top -H` and debuggers show it; 0 on success.
int compseg_name_thread(const char *name);
/// The CPUs this process's affinity mask allows (taskset, a batch system's binding); -1 where it cannot be read.
int compseg_affinity_cpus(void);

// Winograd F(4×4, 3×3) convolutions (3×3, stride 1, padding 1) on AVX2 + FMA, for CPUs where
// oneDNN has no Winograd kernels. Activations are in oneDNN's nChw8c layout (8 channels a block,
// one 256-bit register per pixel), so no reorder is needed around them.
//
// Per 4×4 output tile, with d the 6×6 input patch and g a 3×3 filter (Lavin & Gray's matrices for
// the points 0, ±1, ±2):  y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A.  The 36 products over channels are 36
// matrix products (tiles × input channels by input × output channels), run on tile blocks small
// enough that the transformed tiles stay in cache. The weight gradient is the same map's transpose:
// dg = Gᵀ[Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B)]G.
//
// Every tile and every output value goes through the same operations in the same order whatever
// the batch, the tile block or the number of threads, so results are reproducible and an image's
// output does not depend on its batch.
#include "CKernels.h"
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))

// Tiles a block, channels a chunk, and the floats added between the 36 planes of transformed
// tiles, so that the same position in successive planes falls in other cache sets (planes a power
// of two apart made the transforms' 36 stores contend for one set: 25% of the time, measured).
enum { TILE_BLOCK = 24, GRADIENT_TILE_BLOCK = 64, CHANNEL_CHUNK = 64, PLANE_PAD = 16 };

static inline long round8(long x) { return (x + 7) / 8 * 8; }
static inline long min_l(long a, long b) { return a < b ? a : b; }

int compseg_winograd_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// MARK: - Matrix products on tile blocks

// c[i][j] (+)= Σ_p a[i·ars + p·aps] · b[p·ldb + j] for i < R, j < W (W = 8 or 16), in p order.
#define DEFINE_GEMM(R, W)                                                                              \
    static AVX2 void gemm_##R##x##W(long depth, const float *a, long ars, long aps, const float *b,    \
                                    long ldb, float *c, long ldc, int load) {                          \
        __m256 acc[R][W / 8];                                                                          \
        for (int i = 0; i < R; i++)                                                                    \
            for (int j = 0; j < W / 8; j++)                                                            \
                acc[i][j] = load ? _mm256_loadu_ps(c + i * ldc + 8 * j) : _mm256_setzero_ps();         \
        for (long p = 0; p < depth; p++) {                                                             \
            __m256 bv[W / 8];                                                                          \
            for (int j = 0; j < W / 8; j++) bv[j] = _mm256_loadu_ps(b + p * ldb + 8 * j);              \
            for (int i = 0; i < R; i++) {                                                              \
                __m256 av = _mm256_broadcast_ss(a + i * ars + p * aps);                                \
                for (int j = 0; j < W / 8; j++) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);     \
            }                                                                                          \
        }                                                                                              \
        for (int i = 0; i < R; i++)                                                                    \
            for (int j = 0; j < W / 8; j++) _mm256_storeu_ps(c + i * ldc + 8 * j, acc[i][j]);          \
    }
DEFINE_GEMM(1, 8) DEFINE_GEMM(2, 8) DEFINE_GEMM(3, 8) DEFINE_GEMM(4, 8) DEFINE_GEMM(5, 8) DEFINE_GEMM(6, 8)
DEFINE_GEMM(1, 16) DEFINE_GEMM(2, 16) DEFINE_GEMM(3, 16) DEFINE_GEMM(4, 16) DEFINE_GEMM(5, 16) DEFINE_GEMM(6, 16)

typedef void (*gemm_kernel)(long, const float *, long, long, const float *, long, float *, long, int);
static const gemm_kernel gemm8[7] = {0, gemm_1x8, gemm_2x8, gemm_3x8, gemm_4x8, gemm_5x8, gemm_6x8};
static const gemm_kernel gemm16[7] = {0, gemm_1x16, gemm_2x16, gemm_3x16, gemm_4x16, gemm_5x16, gemm_6x16};

/// c (rows × cols, cols a multiple of 8) (+)= a (rows × depth, strides ars, aps) · b (depth × cols).
static AVX2 void gemm(long rows, long cols, long depth, const float *a, long ars, long aps,
                      const float *b, long ldb, float *c, long ldc, int load) {
    for (long j = 0; j < cols; j += 16) {
        const gemm_kernel *k = cols - j >= 16 ? gemm16 : gemm8;
        for (long i = 0; i < rows; i += 6)
            k[min_l(6, rows - i)](depth, a + i * ars, ars, aps, b + j, ldb, c + i * ldc + j, ldc, load);
    }
}

// MARK: - Tile transforms (8 channels a register)

/// t = Bᵀ d for one column of six values.
static inline AVX2 void input_column(const __m256 d[6], __m256 t[6]) {
    const __m256 four = _mm256_set1_ps(4), five = _mm256_set1_ps(5), two = _mm256_set1_ps(2);
    t[0] = _mm256_fmadd_ps(four, d[0], _mm256_fnmadd_ps(five, d[2], d[4]));
    t[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
    t[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
    t[3] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[3], d[1]), _mm256_sub_ps(d[4], d[2]));
    t[4] = _mm256_fmadd_ps(two, _mm256_sub_ps(d[1], d[3]), _mm256_sub_ps(d[4], d[2]));
    t[5] = _mm256_fmadd_ps(four, d[1], _mm256_fnmadd_ps(five, d[3], d[5]));
}

/// v[ξ·stride] = (Bᵀ d B)[ξ] for the 6×6 patch of an 8-channel plane (h × w pixels of 8 floats)
/// whose top-left pixel is (y0, x0); pixels outside the plane are zero (the padding). Column by
/// column, then row by row, so that a column's values and results fit the 16 registers.
static AVX2 void input_tile(const float *plane, long h, long w, long y0, long x0, float *v, long stride) {
    __m256 t[6][6];
    int inside = y0 >= 0 && x0 >= 0 && y0 + 6 <= h && x0 + 6 <= w;
    for (int j = 0; j < 6; j++) {
        __m256 d[6], out[6];
        long x = x0 + j;
        for (int i = 0; i < 6; i++) {
            long y = y0 + i;
            d[i] = inside || (y >= 0 && y < h && x >= 0 && x < w)
                ? _mm256_loadu_ps(plane + (y * w + x) * 8) : _mm256_setzero_ps();
        }
        input_column(d, out);
        for (int i = 0; i < 6; i++) t[i][j] = out[i];
    }
    for (int i = 0; i < 6; i++) {
        __m256 out[6];
        input_column(t[i], out);
        for (int j = 0; j < 6; j++) _mm256_storeu_ps(v + (i * 6 + j) * stride, out[j]);
    }
}

/// o = Aᵀ m for one column of six values.
static inline AVX2 void output_column(const __m256 m[6], __m256 o[4]) {
    __m256 sum12 = _mm256_add_ps(m[1], m[2]), diff12 = _mm256_sub_ps(m[1], m[2]);
    __m256 sum34 = _mm256_add_ps(m[3], m[4]), diff34 = _mm256_sub_ps(m[3], m[4]);
    o[0] = _mm256_add_ps(_mm256_add_ps(m[0], sum12), sum34);
    o[1] = _mm256_fmadd_ps(_mm256_set1_ps(2), diff34, diff12);
    o[2] = _mm256_fmadd_ps(_mm256_set1_ps(4), sum34, sum12);
    o[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8), diff34, diff12), m[5]);
}

/// The 4×4 outputs Aᵀ m A + bias of one tile (m[ξ·stride]) into an 8-channel plane, within h × w.
static AVX2 void output_tile(const float *m, long stride, __m256 bias, float *plane, long h, long w,
                             long y0, long x0) {
    __m256 t[4][6];
    for (int j = 0; j < 6; j++) {
        __m256 column[6], out[4];
        for (int i = 0; i < 6; i++) column[i] = _mm256_loadu_ps(m + (i * 6 + j) * stride);
        output_column(column, out);
        for (int i = 0; i < 4; i++) t[i][j] = out[i];
    }
    for (int i = 0; i < 4 && y0 + i < h; i++) {
        __m256 out[4];
        output_column(t[i], out);
        for (int j = 0; j < 4 && x0 + j < w; j++)
            _mm256_storeu_ps(plane + ((y0 + i) * w + x0 + j) * 8, _mm256_add_ps(out[j], bias));
    }
}

/// z = A y for one column of four values.
static inline AVX2 void gradient_column(const __m256 y[4], __m256 z[6]) {
    __m256 even = _mm256_add_ps(y[0], y[2]), odd = _mm256_add_ps(y[1], y[3]);
    __m256 even4 = _mm256_fmadd_ps(_mm256_set1_ps(4), y[2], y[0]);
    __m256 odd4 = _mm256_fmadd_ps(_mm256_set1_ps(8), y[3], _mm256_add_ps(y[1], y[1]));
    z[0] = y[0];
    z[1] = _mm256_add_ps(even, odd);
    z[2] = _mm256_sub_ps(even, odd);
    z[3] = _mm256_add_ps(even4, odd4);
    z[4] = _mm256_sub_ps(even4, odd4);
    z[5] = y[3];
}

/// z[ξ·stride] = (A dy Aᵀ)[ξ] for the 4×4 output-gradient tile at (y0, x0) of an 8-channel plane
/// (h × w); values outside the plane are zero. Column by column, then row by row.
static AVX2 void gradient_tile(const float *plane, long h, long w, long y0, long x0, float *z, long stride) {
    __m256 t[6][4];
    int inside = y0 + 4 <= h && x0 + 4 <= w;
    for (int j = 0; j < 4; j++) {
        __m256 g[4], out[6];
        for (int i = 0; i < 4; i++)
            g[i] = inside || (y0 + i < h && x0 + j < w) ? _mm256_loadu_ps(plane + ((y0 + i) * w + x0 + j) * 8)
                                                       : _mm256_setzero_ps();
        gradient_column(g, out);
        for (int i = 0; i < 6; i++) t[i][j] = out[i];
    }
    for (int i = 0; i < 6; i++) {
        __m256 out[6];
        gradient_column(t[i], out);
        for (int j = 0; j < 6; j++) _mm256_storeu_ps(z + (i * 6 + j) * stride, out[j]);
    }
}

// MARK: - Weights

/// t = G g for one column of three values (G: 6×3, rows for the points 0, 1, −1, 2, −2, ∞).
static inline AVX2 void filter_column(const __m256 g[3], __m256 t[6]) {
    __m256 outer = _mm256_add_ps(g[0], g[2]), outer4 = _mm256_fmadd_ps(_mm256_set1_ps(4), g[2], g[0]);
    __m256 middle2 = _mm256_add_ps(g[1], g[1]);
    t[0] = _mm256_mul_ps(_mm256_set1_ps(1.0f / 4), g[0]);
    t[1] = _mm256_mul_ps(_mm256_set1_ps(-1.0f / 6), _mm256_add_ps(outer, g[1]));
    t[2] = _mm256_mul_ps(_mm256_set1_ps(-1.0f / 6), _mm256_sub_ps(outer, g[1]));
    t[3] = _mm256_mul_ps(_mm256_set1_ps(1.0f / 24), _mm256_add_ps(outer4, middle2));
    t[4] = _mm256_mul_ps(_mm256_set1_ps(1.0f / 24), _mm256_sub_ps(outer4, middle2));
    t[5] = g[2];
}

/// u[ξ·stride] = (G g Gᵀ)[ξ] for eight 3×3 filters, lane l's taps at filters + l·lane_stride (row
/// by row; `flip` reads them rotated by 180°).
static AVX2 void transform_filters(const float *filters, long lane_stride, int flip, float *u, long stride) {
    __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)lane_stride));
    __m256 g[3][3], t[6][3];
    for (int r = 0; r < 3; r++)
        for (int s = 0; s < 3; s++) {
            int tap = flip ? 8 - (r * 3 + s) : r * 3 + s;
            g[r][s] = _mm256_i32gather_ps(filters + tap, index, 4);
        }
    for (int s = 0; s < 3; s++) {
        __m256 column[3] = {g[0][s], g[1][s], g[2][s]}, out[6];
        filter_column(column, out);
        for (int a = 0; a < 6; a++) t[a][s] = out[a];
    }
    for (int a = 0; a < 6; a++) {
        __m256 out[6];
        filter_column(t[a], out);
        for (int b = 0; b < 6; b++) _mm256_storeu_ps(u + (a * 6 + b) * stride, out[b]);
    }
}

AVX2 void compseg_winograd_transform_weights(const float *weights, long outputs, long inputs, int backward_data,
                                             float *u, long row_begin, long row_end) {
    // The convolution the transformed weights serve reads `in` channels (u's rows) and writes
    // `out` (its columns, eight filters a register).
    long in = backward_data ? outputs : inputs, out = backward_data ? inputs : outputs;
    long inPadded = round8(in), outPadded = round8(out), plane = inPadded * outPadded;
    // A column's filters lie `columnStride` floats apart in the plain weights (O×I×3×3).
    long columnStride = backward_data ? 9 : inputs * 9;
    float tail[8 * 9];
    for (long row = row_begin; row < row_end && row < inPadded; row++)
        for (long column = 0; column < outPadded; column += 8) {
            float *target = u + row * outPadded + column;
            if (row >= in) {
                for (int xi = 0; xi < 36; xi++) memset(target + xi * plane, 0, 8 * sizeof(float));
                continue;
            }
            long o = backward_data ? row : column, i = backward_data ? column : row;
            const float *first = weights + (o * inputs + i) * 9;
            if (column + 8 <= out) {
                transform_filters(first, columnStride, backward_data, target, plane);
            } else {
                memset(tail, 0, sizeof tail);
                for (long l = 0; l < out - column; l++) memcpy(tail + l * 9, first + l * columnStride, 9 * sizeof(float));
                transform_filters(tail, 9, backward_data, target, plane);
            }
        }
}

/// t = Gᵀ m for one column of six values.
static inline AVX2 void filter_gradient_column(const __m256 m[6], __m256 t[3]) {
    __m256 sum12 = _mm256_add_ps(m[1], m[2]);
    __m256 sum34 = _mm256_add_ps(m[3], m[4]), diff34 = _mm256_sub_ps(m[3], m[4]);
    const __m256 sixth = _mm256_set1_ps(1.0f / 6);
    t[0] = _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 24), sum34,
                           _mm256_fnmadd_ps(sixth, sum12, _mm256_mul_ps(_mm256_set1_ps(1.0f / 4), m[0])));
    t[1] = _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 12), diff34, _mm256_mul_ps(sixth, _mm256_sub_ps(m[2], m[1])));
    t[2] = _mm256_fmadd_ps(sixth, _mm256_sub_ps(sum34, sum12), m[5]);
}

/// dw (O×I×3×3) for input channel `i` and outputs [o, o + lanes) from du (36 planes `stride` apart,
/// eight outputs a register): Gᵀ du G.
static AVX2 void filter_gradient(const float *du, long stride, float *dw, long inputs, long lanes) {
    __m256 t[3][6];
    for (int b = 0; b < 6; b++) {
        __m256 column[6], out[3];
        for (int a = 0; a < 6; a++) column[a] = _mm256_loadu_ps(du + (a * 6 + b) * stride);
        filter_gradient_column(column, out);
        for (int r = 0; r < 3; r++) t[r][b] = out[r];
    }
    for (int r = 0; r < 3; r++) {
        __m256 out[3];
        filter_gradient_column(t[r], out);
        float values[3][8];
        for (int s = 0; s < 3; s++) _mm256_storeu_ps(values[s], out[s]);
        for (long l = 0; l < lanes; l++)
            for (int s = 0; s < 3; s++) dw[l * inputs * 9 + r * 3 + s] = values[s][l];
    }
}

// MARK: - Passes

/// Where tile `t` (images × rows × columns of tiles) lies.
static inline void tile_origin(long t, long th, long tw, long *image, long *y, long *x) {
    *image = t / (th * tw);
    long r = t % (th * tw);
    *y = r / tw * 4;
    *x = r % tw * 4;
}

/// The 8-channel plane (h × w pixels of 8 floats) of `image` holding `channel`, in an nChw8c
/// tensor of `padded` channels.
static inline float *plane_of(const float *tensor, long padded, long h, long w, long image, long channel) {
    return (float *)tensor + ((image * (padded / 8) + channel / 8) * h * w) * 8;
}

/// v[ξ·stride + i·cc + c] = (Bᵀ d B)[ξ] of tile t0 + i's 6×6 input patch, channel block c0 + c
/// (c < cc), for `tiles` tiles of `src` (nChw8c, `padded` channels). Plane by plane: successive
/// tiles read neighbouring pixels (the prefetchers follow).
static AVX2 void input_block(const float *src, long padded, long h, long w, long t0, long tiles, long c0, long cc,
                             float *v, long stride) {
    long th = (h + 3) / 4, tw = (w + 3) / 4;
    for (long c = 0; c < cc; c += 8)
        for (long i = 0; i < tiles; i++) {
            long image, y, x;
            tile_origin(t0 + i, th, tw, &image, &y, &x);
            input_tile(plane_of(src, padded, h, w, image, c0 + c), h, w, y - 1, x - 1, v + i * cc + c, stride);
        }
}

size_t compseg_winograd_forward_scratch(long inputs, long outputs) {
    return (size_t)36 * (TILE_BLOCK * (min_l(round8(inputs), CHANNEL_CHUNK) + min_l(round8(outputs), CHANNEL_CHUNK)) + 2 * PLANE_PAD);
}

AVX2 void compseg_winograd_forward(const float *src, long n, long inputs, long h, long w, const float *u, long outputs,
                              const float *bias, float *dst, float *scratch, long tile_begin, long tile_end) {
    (void)n;
    long cp = round8(inputs), kp = round8(outputs), th = (h + 3) / 4, tw = (w + 3) / 4;
    long cchunk = min_l(cp, CHANNEL_CHUNK), kchunk = min_l(kp, CHANNEL_CHUNK);
    long vstride = TILE_BLOCK * cchunk + PLANE_PAD, mstride = TILE_BLOCK * kchunk + PLANE_PAD;
    float *v = scratch, *m = scratch + 36 * vstride;
    for (long t0 = tile_begin; t0 < tile_end; t0 += TILE_BLOCK) {
        long tiles = min_l(TILE_BLOCK, tile_end - t0);
        for (long k0 = 0; k0 < kp; k0 += kchunk) {
            long kc = min_l(kchunk, kp - k0);
            for (long c0 = 0; c0 < cp; c0 += cchunk) {
                long cc = min_l(cchunk, cp - c0);
                input_block(src, cp, h, w, t0, tiles, c0, cc, v, vstride);
                for (int xi = 0; xi < 36; xi++)
                    gemm(tiles, kc, cc, v + xi * vstride, cc, 1, u + (xi * cp + c0) * kp + k0, kp,
                         m + xi * mstride, kc, c0 > 0);
            }
            for (long k = 0; k < kc; k += 8) {
                float b[8] = {0};
                for (int lane = 0; lane < 8 && bias && k0 + k + lane < outputs; lane++) b[lane] = bias[k0 + k + lane];
                for (long i = 0; i < tiles; i++) {
                    long image, y, x;
                    tile_origin(t0 + i, th, tw, &image, &y, &x);
                    output_tile(m + i * kc + k, mstride, _mm256_loadu_ps(b), plane_of(dst, kp, h, w, image, k0 + k),
                                h, w, y, x);
                }
            }
        }
    }
}

size_t compseg_winograd_weight_gradient_scratch(long inputs, long outputs) {
    return (size_t)36 * (GRADIENT_TILE_BLOCK * (min_l(round8(inputs), CHANNEL_CHUNK) + min_l(round8(outputs), CHANNEL_CHUNK))
                         + 2 * PLANE_PAD) + round8(outputs);
}

AVX2 void compseg_winograd_weight_gradient(const float *src, const float *dy, long n, long inputs, long h, long w,
                                      long outputs, float *du, float *dw, float *db, float *scratch,
                                      long block_begin, long block_end) {
    long cp = round8(inputs), kp = round8(outputs), th = (h + 3) / 4, tw = (w + 3) / 4, total = n * th * tw;
    long cchunk = min_l(cp, CHANNEL_CHUNK), kchunk = min_l(kp, CHANNEL_CHUNK);
    long vstride = GRADIENT_TILE_BLOCK * cchunk + PLANE_PAD, zstride = GRADIENT_TILE_BLOCK * kchunk + PLANE_PAD;
    float *v = scratch, *z = scratch + 36 * vstride;
    long cbegin = block_begin * 8, cend = block_end * 8;
    float *biasSums = z + 36 * zstride;
    for (long t0 = 0; t0 < total; t0 += GRADIENT_TILE_BLOCK) {
        long tiles = min_l(GRADIENT_TILE_BLOCK, total - t0);
        for (long k0 = 0; k0 < kp; k0 += kchunk) {
            long kc = min_l(kchunk, kp - k0);
            for (long k = 0; k < kc; k += 8)
                for (long i = 0; i < tiles; i++) {
                    long image, y, x;
                    tile_origin(t0 + i, th, tw, &image, &y, &x);
                    gradient_tile(plane_of(dy, kp, h, w, image, k0 + k), h, w, y, x, z + i * kc + k, zstride);
                }
            // The bias gradient: (A dy Aᵀ)[1][1] is the tile's sum.
            if (db && block_begin == 0)
                for (long i = 0; i < tiles; i++)
                    for (long k = 0; k < kc; k += 8) {
                        __m256 sum = _mm256_loadu_ps(z + 7 * zstride + i * kc + k);
                        __m256 running = t0 + i == 0 ? sum : _mm256_add_ps(_mm256_loadu_ps(biasSums + k0 + k), sum);
                        _mm256_storeu_ps(biasSums + k0 + k, running);
                    }
            for (long c0 = cbegin; c0 < cend; c0 += cchunk) {
                long cc = min_l(cchunk, cend - c0);
                input_block(src, cp, h, w, t0, tiles, c0, cc, v, vstride);
                for (int xi = 0; xi < 36; xi++)
                    gemm(cc, kc, tiles, v + xi * vstride, 1, cc,
                         z + xi * zstride, kc, du + (xi * cp + c0) * kp + k0, kp, t0 > 0);
            }
        }
    }
    // dw = Gᵀ du G for this thread's input channels.
    for (long i = cbegin; i < cend && i < inputs; i++)
        for (long o = 0; o < outputs; o += 8)
            filter_gradient(du + i * kp + o, cp * kp, dw + (o * inputs + i) * 9, inputs, min_l(8, outputs - o));
    if (db && block_begin == 0) memcpy(db, biasSums, outputs * sizeof(float));
}

/// The CUDA backend's own kernels (what cuDNN and cuBLAS do not provide): element-wise functions
/// and their derivatives, sums, pooling, copies for concat and slice, batch normalization, the
/// masked mean of the pooling head, and the optimizers' updates. Every kernel works for any block of
/// up to 256 threads (element-wise ones loop over a grid stride), which the tests use: they run
/// these kernels on the CPU, one thread per block (`Tests/Fixtures/cuda-emulator`).
/// Compiled once per process by NVRTC for the GPU at hand, with contraction off (`--fmad=false`),
/// in the operation order of the CPU code, so both backends round alike wherever the operations
/// are the same (not softplus' backward: the CPU's e⁻ʸ is a polynomial of our own,
/// `Sources/CKernels/softplus.c`). Sums are deterministic: fixed ranges per block, fixed-order tree
/// reductions, no atomics (same data, same result). Clip maps NaN to its lower bound, as oneDNN's
/// clip does on the CPU (checked: clip(NaN, 0, 1) = 0, its gradient 0). The masked mean of an empty
/// mask is 0/0 = NaN: the backend that calls it must check `totals` and throw, as the CPU op does.
///
/// Status (issue 22): compiled by NVRTC in `CUDALoaderTests` wherever the library is found, run by
/// the emulator in `DeviceTests`; on an H200 (2026-12-04) every op agreed with the CPU backend
/// (`tools/gpu-check.sh agree`).
enum CUDAKernels {
    /// Codes of `Eltwise` in the kernels' `op` argument.
    static func code(_ function: Eltwise) -> (op: Int32, alpha: Float, beta: Float) {
        switch function {
        case .relu: (0, 0, 0)
        case .softplus: (1, 0, 0)
        case .sigmoid: (2, 0, 0)
        case .abs: (3, 0, 0)
        case .exp: (4, 0, 0)
        case .log: (5, 0, 0)
        case .square: (6, 0, 0)
        case .clip(let lower, let upper): (7, lower, upper)
        case .linear(let alpha, let beta): (8, alpha, beta)
        }
    }

    /// Threads per block of every kernel here. The reductions take at most this many
    /// (`__launch_bounds__`: a larger launch fails at `cuLaunchKernel`); their trees always add the
    /// same pairs of their 256 shared values, so a sum depends on the block size only through each
    /// thread's share, and a launch with this size gives the same bits every time.
    static let blockSize = 256

    /// The names of the kernels in `source` (each `__global__` function's).
    static var names: [String] { Array(parameters.keys).sorted() }

    /// Each kernel's parameters as a launch must pass them (read from its signature in `source`;
    /// nil for a type `CUDADevice.Argument` has no case for).
    static let parameters: [String: [CUDADevice.Argument.Kind?]] = {
        let signature = /extern "C" __global__ void (?:__launch_bounds__\(\w+\) )?(\w+)\(([^)]*)\)/
        var found: [String: [CUDADevice.Argument.Kind?]] = [:]
        for match in source.matches(of: signature) {
            found[String(match.1)] = match.2.split(separator: ",").map { parameter in
                // The type: the parameter without its name, spaces collapsed.
                let words = parameter.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                let type = words.replacing(/\w+$/, with: "").trimmingCharacters(in: .whitespaces)
                return switch type {
                case _ where type.hasSuffix("*"): .pointer
                case "long long": .int64
                case "int": .int32
                case "float": .float
                case "double": .double
                default: nil
                }
            }
        }
        return found
    }()

    static let source = """
        #define BLOCK 256
        #define FOR_EACH(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \\
                                    i += (long long)gridDim.x * blockDim.x)
        /// Over `planes` planes of `plane` values (an N×C×H×W tensor's N·C planes of H·W), blocks y
        /// taking planes and blocks x positions in them, several a thread: a plane's channel is
        /// found once for those, not by a 64-bit division a value (launched with `CUDADevice.planes`).
        #define FOR_EACH_PLANE(p, planes) for (long long p = blockIdx.y; p < (planes); p += gridDim.y)
        #define FOR_EACH_IN_PLANE(j, plane) for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; \\
                                                 j < (plane); j += (long long)gridDim.x * blockDim.x)

        __device__ float eltwise(int op, float alpha, float beta, float x) {
            switch (op) {
            case 0: return x > 0.0f ? x : 0.0f;
            case 1: return x > 20.0f ? x : log1pf(expf(x));
            case 2: return 1.0f / (1.0f + expf(-x));
            case 3: return fabsf(x);
            case 4: return expf(x);
            case 5: return logf(x);
            case 6: return x * x;
            case 7: return fminf(fmaxf(x, alpha), beta);
            default: return alpha * x + beta;
            }
        }

        /// The derivative times dy; v is the output for relu, softplus and sigmoid, else the input.
        __device__ float eltwise_backward(int op, float alpha, float beta, float v, float dy) {
            switch (op) {
            case 0: return v > 0.0f ? dy : 0.0f;
            case 1: return dy * -expm1f(-v);
            case 2: return dy * (v * (1.0f - v));
            case 3: return v > 0.0f ? dy : (v < 0.0f ? -dy : 0.0f);
            case 4: return dy * expf(v);
            case 5: return dy / v;
            case 6: return dy * (2.0f * v);
            case 7: return v > alpha && v < beta ? dy : 0.0f;
            default: return alpha * dy;
            }
        }

        extern "C" __global__ void compseg_eltwise(int op, float alpha, float beta, const float *x, float *y,
                                                   long long n) {
            FOR_EACH(i, n) y[i] = eltwise(op, alpha, beta, x[i]);
        }

        extern "C" __global__ void compseg_eltwise_backward(int op, float alpha, float beta, const float *v,
                                                            const float *dy, float *dx, long long n) {
            FOR_EACH(i, n) dx[i] = eltwise_backward(op, alpha, beta, v[i], dy[i]);
        }

        /// y ← f(y + bias[c]) over `planes` planes (images × `channels`) of `plane` values: a
        /// convolution's epilogue, f the element-wise function `op` (−1: none); bias may be null.
        extern "C" __global__ void compseg_bias_activation(float *y, const float *bias, long long planes, int channels,
                                                           long long plane, int op, float alpha, float beta) {
            FOR_EACH_PLANE(p, planes) {
                const float *b = bias ? bias + (int)p % channels : nullptr;
                float *yp = y + p * plane;
                FOR_EACH_IN_PLANE(j, plane) {
                    float v = b ? yp[j] + *b : yp[j];
                    yp[j] = op < 0 ? v : eltwise(op, alpha, beta, v);
                }
            }
        }

        /// op 0: a + b, op 1: a · b.
        extern "C" __global__ void compseg_binary(int op, const float *a, const float *b, float *y, long long n) {
            FOR_EACH(i, n) y[i] = op == 0 ? a[i] + b[i] : a[i] * b[i];
        }

        /// Sums the BLOCK doubles of shared memory in a fixed tree (the threads' values, zeros past
        /// them: set by `block_share`); the total lands in s[0]. Any block of up to BLOCK threads.
        __device__ void block_sum(double *s) {
            __syncthreads();
            for (int stride = BLOCK / 2; stride > 0; stride /= 2) {
                for (int i = threadIdx.x; i < stride; i += blockDim.x) s[i] += s[i + stride];
                __syncthreads();
            }
        }

        /// Puts this thread's value in s[threadIdx.x] and zeros in the slots past the block's threads.
        __device__ void block_share(double *s, double value) {
            s[threadIdx.x] = value;
            for (int i = threadIdx.x + blockDim.x; i < BLOCK; i += blockDim.x) s[i] = 0;
        }

        /// One block per image: means[n] = Σ m·a / Σ m over its `pixels`; totals[n] = Σ m.
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_masked_mean(const float *a, const float *mask,
                                                                                long long pixels, float *means,
                                                                                float *totals) {
            __shared__ double s[BLOCK], m[BLOCK];
            const float *ai = a + blockIdx.x * pixels, *mi = mask + blockIdx.x * pixels;
            double t = 0, u = 0;
            for (long long j = threadIdx.x; j < pixels; j += blockDim.x) {
                t += (double)(ai[j] * mi[j]);
                u += (double)mi[j];
            }
            block_share(s, t);
            block_share(m, u);
            block_sum(s);
            block_sum(m);
            if (threadIdx.x == 0) {
                totals[blockIdx.x] = (float)m[0];
                means[blockIdx.x] = (float)s[0] / (float)m[0];
            }
        }

        /// One block per image: range[2n] and range[2n + 1], the lowest and highest a over its
        /// `pixels` where mask > 0 (+∞ and −∞ where there is none).
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_masked_range(const float *a, const float *mask,
                                                                                 long long pixels, float *range) {
            __shared__ float lo[BLOCK], hi[BLOCK];
            const float infinity = __uint_as_float(0x7f800000u);
            const float *ai = a + blockIdx.x * pixels, *mi = mask + blockIdx.x * pixels;
            float l = infinity, h = -infinity;
            for (long long j = threadIdx.x; j < pixels; j += blockDim.x)
                if (mi[j] > 0) { l = fminf(l, ai[j]); h = fmaxf(h, ai[j]); }
            for (int i = threadIdx.x; i < BLOCK; i += blockDim.x) {
                lo[i] = i == threadIdx.x ? l : infinity;
                hi[i] = i == threadIdx.x ? h : -infinity;
            }
            __syncthreads();
            for (int stride = BLOCK / 2; stride > 0; stride /= 2) {
                for (int i = threadIdx.x; i < stride; i += blockDim.x) {
                    lo[i] = fminf(lo[i], lo[i + stride]);
                    hi[i] = fmaxf(hi[i], hi[i + stride]);
                }
                __syncthreads();
            }
            if (threadIdx.x == 0) { range[2 * blockIdx.x] = lo[0]; range[2 * blockIdx.x + 1] = hi[0]; }
        }

        /// da = dmeans[n] / totals[n] · mask, image by image (blockIdx.y is the image).
        extern "C" __global__ void compseg_masked_mean_backward(const float *dmeans, const float *mask,
                                                                const float *totals, long long pixels, float *da) {
            float w = dmeans[blockIdx.y] / totals[blockIdx.y];
            const float *mi = mask + blockIdx.y * pixels;
            float *di = da + blockIdx.y * pixels;
            for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < pixels;
                 j += (long long)gridDim.x * blockDim.x)
                di[j] = w * mi[j];
        }

        /// Max or average pooling of planes of h×w, a k×k window every s pixels, windows that do
        /// not fit dropped. Max keeps the first largest value of its window in row-major order, and
        /// its position in the plane (i·w + j) in argmax when given.
        extern "C" __global__ void compseg_pool_forward(const float *x, float *y, int *argmax, long long planes, int h,
                                                        int w, int oh, int ow, int k, int s, int average) {
            FOR_EACH_PLANE(plane, planes) FOR_EACH_IN_PLANE(q, oh * ow) {
                long long o = plane * oh * ow + q;
                int r = (int)q / ow, c = (int)q % ow;
                const float *xp = x + plane * h * w;
                if (average) {
                    float t = 0.0f;
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) t += xp[(r * s + i) * w + c * s + j];
                    y[o] = t / (float)(k * k);
                } else {
                    int best = r * s * w + c * s;
                    float m = xp[best];
                    for (int i = 0; i < k; i++)
                        for (int j = 0; j < k; j++) {
                            int at = (r * s + i) * w + c * s + j;
                            if (xp[at] > m) { m = xp[at]; best = at; }
                        }
                    y[o] = m;
                    if (argmax) argmax[o] = best;
                }
            }
        }

        /// Max pooling's backward, gathered: each input pixel sums dy over the windows that hold it
        /// and chose it (no atomics, so the order of the terms is fixed).
        extern "C" __global__ void compseg_max_pool_backward(const float *dy, const int *argmax, float *dx,
                                                             long long planes, int h, int w, int oh, int ow, int k,
                                                             int s) {
            FOR_EACH_PLANE(plane, planes) FOR_EACH_IN_PLANE(q, h * w) {
                long long e = plane * h * w + q;
                int i = (int)q / w, j = (int)q % w, at = (int)q;
                int r0 = i - k + 1 <= 0 ? 0 : (i - k + s) / s, r1 = min(i / s, oh - 1);
                int c0 = j - k + 1 <= 0 ? 0 : (j - k + s) / s, c1 = min(j / s, ow - 1);
                float t = 0.0f;
                for (int r = r0; r <= r1; r++)
                    for (int c = c0; c <= c1; c++) {
                        long long o = (plane * oh + r) * ow + c;
                        if (argmax[o] == at) t += dy[o];
                    }
                dx[e] = t;
            }
        }

        /// dst[r·dstStride + dstOffset + q] = src[r·srcStride + srcOffset + q] for r < rows, q < width:
        /// concatenation and slicing along an axis (rows: the dims before it; width: its part times
        /// the dims after), rows as planes.
        extern "C" __global__ void compseg_copy_rows(const float *src, long long srcStride, long long srcOffset, float *dst,
                                                     long long dstStride, long long dstOffset, long long rows,
                                                     long long width) {
            FOR_EACH_PLANE(r, rows) {
                const float *from = src + r * srcStride + srcOffset;
                float *to = dst + r * dstStride + dstOffset;
                FOR_EACH_IN_PLANE(q, width) to[q] = from[q];
            }
        }

        /// `planes` h×w planes of src seen through a plane view (`PlaneView.code`: bit 0 flips rows,
        /// bit 1 columns, bit 2 transposes; transposing needs h = w) into dst.
        extern "C" __global__ void compseg_plane_view(const float *src, float *dst, long long planes, int h, int w,
                                                      int view) {
            long long plane = (long long)h * w;
            FOR_EACH_PLANE(p, planes) FOR_EACH_IN_PLANE(r, plane) {
                long long e = p * plane + r;
                int y = (int)r / w, x = (int)r % w;
                int sy = (view & 4) ? x : y, sx = (view & 4) ? y : x;
                if (view & 1) sy = h - 1 - sy;
                if (view & 2) sx = w - 1 - sx;
                dst[e] = src[p * plane + (long long)sy * w + sx];
            }
        }

        /// Pass 1 of per-channel sums over an N×C×plane tensor, in double: block (i·parts + q, c) adds
        /// the values of image i, channel c at plane positions [q·part, min((q + 1)·part, plane)),
        /// part = ⌈plane / parts⌉: of x, or with `center`, of (x − center[c])². Its sum goes to
        /// partial[c·n·parts + i·parts + q]. The blocks of a channel share its work over the GPU.
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_channel_partials(const float *x, const double *center,
                                                                                    long long n, int channels,
                                                                                    long long plane, int parts,
                                                                                    double *partial) {
            __shared__ double s[BLOCK];
            int c = blockIdx.y;
            long long i = blockIdx.x / parts, q = blockIdx.x % parts, part = (plane + parts - 1) / parts;
            const float *xi = x + (i * channels + c) * plane;
            long long end = min((q + 1) * part, plane);
            double t = 0;
            for (long long j = q * part + threadIdx.x; j < end; j += blockDim.x) {
                if (center) {
                    double d = (double)xi[j] - center[c];
                    t += d * d;
                } else {
                    t += (double)xi[j];
                }
            }
            block_share(s, t);
            block_sum(s);
            if (threadIdx.x == 0) partial[(long long)c * n * parts + blockIdx.x] = s[0];
        }

        /// Pass 2, block c: the `per` partials of channel c added in a fixed order, divided by
        /// `divisor`: into out[c] (float) and, where given, exact[c] (double).
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_channel_totals(const double *partial, long long per,
                                                                                  double divisor, double *exact,
                                                                                  float *out) {
            __shared__ double s[BLOCK];
            const double *pc = partial + blockIdx.x * per;
            double t = 0;
            for (long long k = threadIdx.x; k < per; k += blockDim.x) t += pc[k];
            block_share(s, t);
            block_sum(s);
            if (threadIdx.x == 0) {
                double total = s[0] / divisor;
                if (exact) exact[blockIdx.x] = total;
                out[blockIdx.x] = (float)total;
            }
        }

        /// y = γ·(x − μ)/√(σ² + ε) + β, channel by channel, over n images.
        extern "C" __global__ void compseg_batch_norm(const float *x, const float *mean, const float *variance,
                                                      const float *scale, const float *shift, float epsilon, float *y,
                                                      long long n, int channels, long long plane) {
            FOR_EACH_PLANE(p, n * channels) {
                int c = (int)p % channels;
                float inverse = 1.0f / sqrtf(variance[c] + epsilon);
                FOR_EACH_IN_PLANE(j, plane) {
                    long long e = p * plane + j;
                    y[e] = scale[c] * ((x[e] - mean[c]) * inverse) + shift[c];
                }
            }
        }

        /// Pass 1 of dβ = Σ dy and dγ = Σ dy·x̂ per channel (in double), over blocks as
        /// `compseg_channel_partials`: into partial_shift and partial_scale.
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_batch_norm_partials(const float *dy, const float *x,
                                                                                       const float *mean,
                                                                                       const float *variance,
                                                                                       float epsilon, long long n,
                                                                                       int channels, long long plane,
                                                                                       int parts, double *partial_shift,
                                                                                       double *partial_scale) {
            __shared__ double s[BLOCK], u[BLOCK];
            int c = blockIdx.y;
            long long i = blockIdx.x / parts, q = blockIdx.x % parts, part = (plane + parts - 1) / parts;
            long long offset = (i * channels + c) * plane, end = min((q + 1) * part, plane);
            float inverse = 1.0f / sqrtf(variance[c] + epsilon);
            double t = 0, v = 0;
            for (long long j = q * part + threadIdx.x; j < end; j += blockDim.x) {
                t += (double)dy[offset + j];
                v += (double)(dy[offset + j] * ((x[offset + j] - mean[c]) * inverse));
            }
            block_share(s, t);
            block_share(u, v);
            block_sum(s);
            block_sum(u);
            if (threadIdx.x == 0) {
                partial_shift[(long long)c * n * parts + blockIdx.x] = s[0];
                partial_scale[(long long)c * n * parts + blockIdx.x] = u[0];
            }
        }

        /// dx = γ/σ·dy with frozen statistics, else γ/σ·(dy − dβ/M − x̂·dγ/M), M = n·plane.
        extern "C" __global__ void compseg_batch_norm_backward(const float *dy, const float *x, const float *mean,
                                                               const float *variance, const float *scale,
                                                               const float *dshift, const float *dscale, float epsilon,
                                                               int frozen, long long n, int channels, long long plane,
                                                               float *dx) {
            FOR_EACH_PLANE(p, n * channels) {
                int c = (int)p % channels;
                float inverse = 1.0f / sqrtf(variance[c] + epsilon), m = (float)(n * plane);
                FOR_EACH_IN_PLANE(j, plane) {
                    long long e = p * plane + j;
                    if (frozen) {
                        dx[e] = scale[c] * inverse * dy[e];
                    } else {
                        float xhat = (x[e] - mean[c]) * inverse;
                        dx[e] = scale[c] * inverse * (dy[e] - dshift[c] / m - xhat * dscale[c] / m);
                    }
                }
            }
        }

        /// bf16 nearest to x, ties to even (NaN stays a quiet NaN): the top 16 bits of x rounded.
        __device__ unsigned short to_bf16(float x) {
            unsigned int u = __float_as_uint(x);
            if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
            return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
        }

        __device__ float from_bf16(unsigned short h) { return __uint_as_float((unsigned int)h << 16); }

        #define TILE 32
        /// For each of `images` matrices of rows×cols floats (channels × pixels of an NCHW tensor, or
        /// of a K×C×kH×kW filter), y ← its transpose in bf16 (pixels × channels: channels-last),
        /// 32×32 tiles through shared memory so that reads and writes both run along memory.
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_to_bf16_channels_last(const float *x,
                                                                                         unsigned short *y,
                                                                                         long long images, int rows,
                                                                                         int cols) {
            __shared__ float tile[TILE][TILE + 1];
            long long down = (rows + TILE - 1) / TILE;  // bands of TILE rows: blocks y
            for (long long band = blockIdx.y; band < images * down; band += gridDim.y) {
                long long image = band / down;
                int r0 = (int)(band % down) * TILE;
                const float *xi = x + image * rows * cols;
                unsigned short *yi = y + image * rows * cols;
                for (int c0 = blockIdx.x * TILE; c0 < cols; c0 += gridDim.x * TILE) {  // tiles along a band: blocks x
                    for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
                        int r = r0 + e / TILE, c = c0 + e % TILE;
                        if (r < rows && c < cols) tile[e / TILE][e % TILE] = xi[(long long)r * cols + c];
                    }
                    __syncthreads();
                    for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
                        int c = c0 + e / TILE, r = r0 + e % TILE;
                        if (r < rows && c < cols) yi[(long long)c * rows + r] = to_bf16(tile[e % TILE][e / TILE]);
                    }
                    __syncthreads();
                }
            }
        }

        /// The inverse: for each image, x (cols×rows bf16, channels-last) read back into y
        /// (rows×cols floats) exactly, then a forward convolution's epilogue as
        /// compseg_bias_activation's (rows are channels; bias may be null, op −1 for none); with
        /// `rewrite`, x then holds y in bf16 (the result's bf16 form, after the epilogue).
        extern "C" __global__ void __launch_bounds__(BLOCK) compseg_from_bf16_channels_last(unsigned short *x,
                                                                                           float *y,
                                                                                           long long images, int rows,
                                                                                           int cols, const float *bias,
                                                                                           int op, float alpha,
                                                                                           float beta, int rewrite) {
            __shared__ float tile[TILE][TILE + 1];
            long long down = (rows + TILE - 1) / TILE;  // bands of TILE rows: blocks y
            for (long long band = blockIdx.y; band < images * down; band += gridDim.y) {
                long long image = band / down;
                int r0 = (int)(band % down) * TILE;
                unsigned short *xi = x + image * rows * cols;
                float *yi = y + image * rows * cols;
                for (int c0 = blockIdx.x * TILE; c0 < cols; c0 += gridDim.x * TILE) {  // tiles along a band: blocks x
                    for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
                        int c = c0 + e / TILE, r = r0 + e % TILE;
                        if (r < rows && c < cols) tile[e % TILE][e / TILE] = from_bf16(xi[(long long)c * rows + r]);
                    }
                    __syncthreads();
                    for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
                        int r = r0 + e / TILE, c = c0 + e % TILE;
                        if (r < rows && c < cols) {
                            float v = bias ? tile[e / TILE][e % TILE] + bias[r] : tile[e / TILE][e % TILE];
                            v = op < 0 ? v : eltwise(op, alpha, beta, v);
                            yi[(long long)r * cols + c] = v;
                            tile[e / TILE][e % TILE] = v;
                        }
                    }
                    __syncthreads();
                    if (rewrite) {
                        for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
                            int c = c0 + e / TILE, r = r0 + e % TILE;
                            if (r < rows && c < cols) xi[(long long)c * rows + r] = to_bf16(tile[e % TILE][e / TILE]);
                        }
                        __syncthreads();
                    }
                }
            }
        }

        /// Batch norm's running statistics: r ← (1 − m)·r + m·b·f, as Ops/BatchNorm.swift's host loop.
        extern "C" __global__ void compseg_blend(float *r, const float *b, long long n, float momentum, float factor) {
            FOR_EACH(i, n) r[i] = (1 - momentum) * r[i] + momentum * b[i] * factor;
        }

        /// RMSprop as Optimizers/Rules.swift: s holds the square average, then (centered) the
        /// gradient average, then (momentum > 0) the momentum buffer, each n long.
        extern "C" __global__ void compseg_rmsprop(float *p, const float *gradient, float *s, long long n, float alpha,
                                                   float lr, float eps, float decay, int centered, float momentum) {
            FOR_EACH(i, n) {
                float g = gradient[i] + decay * p[i];
                s[i] = alpha * s[i] + (1 - alpha) * g * g;
                float average = s[i];
                if (centered) {
                    s[n + i] = alpha * s[n + i] + (1 - alpha) * g;
                    average -= s[n + i] * s[n + i];
                }
                float denominator = sqrtf(average) + eps;
                if (momentum > 0) {
                    long long b = (centered ? 2 : 1) * n + i;
                    s[b] = momentum * s[b] + g / denominator;
                    p[i] -= lr * s[b];
                } else {
                    p[i] -= lr * g / denominator;
                }
            }
        }

        /// Adam as Optimizers/Rules.swift; stepSize = lr / (1 − β₁ᵗ), correction = √(1 − β₂ᵗ), from the host.
        extern "C" __global__ void compseg_adam(float *p, const float *gradient, float *s, long long n, float beta1,
                                                float beta2, float stepSize, float correction, float eps, float decay) {
            FOR_EACH(i, n) {
                float g = decay == 0 ? gradient[i] : gradient[i] + decay * p[i];
                s[i] = beta1 * s[i] + (1 - beta1) * g;
                s[n + i] = beta2 * s[n + i] + (1 - beta2) * g * g;
                p[i] -= stepSize * s[i] / (sqrtf(s[n + i]) / correction + eps);
            }
        }

        /// SGD as Optimizers/Rules.swift; the momentum buffer b starts at the first gradient.
        extern "C" __global__ void compseg_sgd(float *p, const float *gradient, float *b, long long n, float lr,
                                               float momentum, float dampening, int nesterov, float decay, int step) {
            FOR_EACH(i, n) {
                float g = decay == 0 ? gradient[i] : gradient[i] + decay * p[i];
                if (momentum > 0) {
                    b[i] = step == 1 ? g : momentum * b[i] + (1 - dampening) * g;
                    g = nesterov ? g + momentum * b[i] : b[i];
                }
                p[i] -= lr * g;
            }
        }
        """
}

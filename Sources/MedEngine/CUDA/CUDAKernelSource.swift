/// The CUDA C kernels behind every `Backend` primitive that is not a matrix product (those go to cuBLAS).
/// NVRTC compiles this text on first use (`CUDAKernelCompiler`); the test emulator compiles the same text with
/// the host's C++ compiler. Hence no #include and only built-in functions, every kernel `extern "C"` with
/// grid-stride loops (the launch picks the grid), no shared memory or barriers (reductions end in atomics), and
/// every integer parameter an `int` (the backend checks that tensors stay below 2³¹ elements).
/// Kernels over N×C×spatial tensors run on 2D/3D grids (rows of a plane in y, samples or depth in z, the
/// contiguous dimension in x), so that per-element work needs at most one or two integer divisions.
enum CUDAKernel: String, CaseIterable, Sendable {
    case axpby = "ml_axpby"
    case multiply = "ml_multiply"
    case rowBias = "ml_row_bias"
    case sumRows = "ml_sum_rows"
    case activation = "ml_activation"
    case activationBackward = "ml_activation_backward"
    case channelAffine = "ml_channel_affine"
    case im2col = "ml_im2col"
    case col2im = "ml_col2im"
    case chunkToNCHW = "ml_chunk_to_nchw"
    case nchwToChunk = "ml_nchw_to_chunk"
    case channelReduce = "ml_channel_reduce"
    case sumsToFloat = "ml_sums_to_float"
    case batchNormStatistics = "ml_bn_statistics"
    case batchNormBackward = "ml_bn_backward"
    case pool = "ml_pool"
    case maxPoolBackward = "ml_max_pool_backward"
    case avgPoolBackward = "ml_avg_pool_backward"
    case adaptiveAvgPool = "ml_adaptive_avg_pool"
    case adaptiveAvgPoolBackward = "ml_adaptive_avg_pool_backward"
    case copyChannels = "ml_copy_channels"

    /// Modes of `ml_channel_reduce`.
    enum ReduceMode: Int { case statistics = 0, batchNormGradient = 1, sum = 2 }

    static let source = #"""
// MedLens engine kernels (Sources/MedEngine/CUDA/CUDAKernelSource.swift).
#define ML_KERNEL extern "C" __global__ void
// Grid-stride loops: flat (x only), or x over a row's columns, y over rows, z over a third index.
// (Parameter names must not be x, y or z: those are also the members of blockIdx.)
#define ML_LOOP(index, n) for (int index = blockIdx.x * blockDim.x + threadIdx.x; index < (n); index += blockDim.x * gridDim.x)
#define ML_COLS(index, n) ML_LOOP(index, n)
#define ML_ROWS(index, n) for (int index = blockIdx.y; index < (n); index += gridDim.y)
#define ML_DEPTH(index, n) for (int index = blockIdx.z; index < (n); index += gridDim.z)

// Convolution and pooling windows over (D, H, W); 2D runs with depth 1. Field order matches CUDAWindow.
struct MLWindow {
    int n0, nb, channels, groupChannels, group;
    int inD, inH, inW, outD, outH, outW;
    int kD, kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW;
};

__device__ __forceinline__ float ml_neg_infinity() { return __int_as_float((int)0xff800000u); }

// Swift's max(v, 0): NaN stays NaN, as on the CPU.
__device__ __forceinline__ float ml_relu(float v) { return 0.0f > v ? 0.0f : v; }

// The outputs o (along one dimension) whose window o*s - pad + [0, (k-1)*d] contains input i.
__device__ __forceinline__ void ml_window_range(int i, int pad, int k, int s, int d, int out, int* lo, int* hi) {
    int first = i + pad - (k - 1) * d;
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    int last = (i + pad) / s;
    *hi = last < out - 1 ? last : out - 1;
}

// The kernel tap t / d when the offset t is a multiple of the dilation d, else -1 (no division when d is 1).
__device__ __forceinline__ int ml_tap(int t, int d) { return d == 1 ? t : (t % d != 0 ? -1 : t / d); }

ML_KERNEL ml_axpby(const float* a, const float* b, float* y, float alpha, float beta, int n) {
    ML_LOOP(i, n) y[i] = alpha * a[i] + beta * b[i];
}

ML_KERNEL ml_multiply(const float* a, const float* b, float* y, int n) {
    ML_LOOP(i, n) y[i] = a[i] * b[i];
}

// Rows of a 2-D tensor: y[r][j] = x[r][j] + bias[j].
ML_KERNEL ml_row_bias(const float* x, const float* bias, float* y, int cols, int rows) {
    ML_ROWS(r, rows) {
        long long base = (long long)r * cols;
        ML_COLS(j, cols) y[base + j] = x[base + j] + bias[j];
    }
}

ML_KERNEL ml_sum_rows(const float* x, float* y, int rows, int cols) {
    ML_LOOP(j, cols) {
        float s = 0.0f;
        for (int r = 0; r < rows; r++) s += x[(long long)r * cols + j];
        y[j] = s;
    }
}

// kind: 0 relu, 1 sigmoid, 2 gelu (erf form), 3 silu (Activation's order).
ML_KERNEL ml_activation(const float* x, float* y, int kind, int n) {
    ML_LOOP(i, n) {
        float v = x[i], r;
        if (kind == 0) r = ml_relu(v);
        else if (kind == 1) r = 1.0f / (1.0f + expf(-v));
        else if (kind == 2) r = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
        else r = v / (1.0f + expf(-v));
        y[i] = r;
    }
}

ML_KERNEL ml_activation_backward(const float* x, const float* y, const float* g, float* gx, int kind, int n) {
    ML_LOOP(i, n) {
        float v = x[i], r;
        if (kind == 0) r = v > 0.0f ? g[i] : 0.0f;
        else if (kind == 1) r = g[i] * y[i] * (1.0f - y[i]);
        else if (kind == 2) {
            float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
            r = g[i] * (cdf + v * 0.39894228040143268f * expf(-0.5f * v * v));
        } else {
            float s = 1.0f / (1.0f + expf(-v));
            r = g[i] * s * (1.0f + v * (1.0f - s));
        }
        gx[i] = r;
    }
}

// Rows are (sample, channel) planes: y = x*scale[c] + shift[c] (a null scale is 1, a null shift 0), optionally
// ReLU; may run in place.
ML_KERNEL ml_channel_affine(const float* x, const float* scale, const float* shift, float* y, int channels, int plane,
                            int relu, int rows) {
    ML_ROWS(r, rows) {
        int c = r % channels;
        float a = scale ? scale[c] : 1.0f, b = shift ? shift[c] : 0.0f;
        long long base = (long long)r * plane;
        ML_COLS(q, plane) {
            float v = x[base + q] * a + b;
            y[base + q] = relu ? ml_relu(v) : v;
        }
    }
}

// Columns for samples [n0, n0+nb) of one group: col[row][j*plane + p], row = (c, kd, kh, kw).
// Grid: y = row, z = (sample, output depth), x = output (h, w).
ML_KERNEL ml_im2col(const float* x, float* col, MLWindow w) {
    int kv = w.kD * w.kH * w.kW, plane2 = w.outH * w.outW, plane = w.outD * plane2;
    int inPlane2 = w.inH * w.inW, inPlane = w.inD * inPlane2;
    long long width = (long long)w.nb * plane;
    ML_ROWS(row, w.groupChannels * kv) {
        int c = row / kv, kk = row - c * kv;
        int kd = kk / (w.kH * w.kW), kh = (kk / w.kW) % w.kH, kw = kk % w.kW;
        ML_DEPTH(z, w.nb * w.outD) {
            int j = z / w.outD, od = z - j * w.outD;
            int id = od * w.sD - w.pD + kd * w.dD;
            bool inside = id >= 0 && id < w.inD;
            long long src = ((long long)(w.n0 + j) * w.channels + w.group * w.groupChannels + c) * inPlane + (long long)id * inPlane2;
            long long dst = row * width + (long long)j * plane + (long long)od * plane2;
            ML_COLS(q, plane2) {
                int oh = q / w.outW, ow = q - oh * w.outW;
                int ih = oh * w.sH - w.pH + kh * w.dH, iw = ow * w.sW - w.pW + kw * w.dW;
                col[dst + q] = inside && ih >= 0 && ih < w.inH && iw >= 0 && iw < w.inW ? x[src + ih * w.inW + iw] : 0.0f;
            }
        }
    }
}

// The adjoint of im2col as a gather: each input element sums the columns that read it, in increasing kernel tap
// order as the CPU does (taps fall as outputs rise, hence the loops downwards).
// Grid: y = channel of the group, z = (sample, input depth), x = input (h, w).
ML_KERNEL ml_col2im(const float* col, float* dx, MLWindow w) {
    int kv = w.kD * w.kH * w.kW, plane2 = w.outH * w.outW, plane = w.outD * plane2;
    int inPlane2 = w.inH * w.inW, inPlane = w.inD * inPlane2;
    long long width = (long long)w.nb * plane;
    ML_ROWS(c, w.groupChannels) {
        ML_DEPTH(z, w.nb * w.inD) {
            int j = z / w.inD, id = z - j * w.inD;
            int d0, d1;
            ml_window_range(id, w.pD, w.kD, w.sD, w.dD, w.outD, &d0, &d1);
            long long base = (long long)c * kv * width + (long long)j * plane;
            long long out = ((long long)(w.n0 + j) * w.channels + w.group * w.groupChannels + c) * inPlane + (long long)id * inPlane2;
            ML_COLS(q, inPlane2) {
                int ih = q / w.inW, iw = q - ih * w.inW;
                int h0, h1, w0, w1;
                ml_window_range(ih, w.pH, w.kH, w.sH, w.dH, w.outH, &h0, &h1);
                ml_window_range(iw, w.pW, w.kW, w.sW, w.dW, w.outW, &w0, &w1);
                float s = 0.0f;
                for (int od = d1; od >= d0; od--) {
                    int kd = ml_tap(id + w.pD - od * w.sD, w.dD);
                    if (kd < 0) continue;
                    for (int oh = h1; oh >= h0; oh--) {
                        int kh = ml_tap(ih + w.pH - oh * w.sH, w.dH);
                        if (kh < 0) continue;
                        for (int ow = w1; ow >= w0; ow--) {
                            int kw = ml_tap(iw + w.pW - ow * w.sW, w.dW);
                            if (kw < 0) continue;
                            s += col[base + (long long)((kd * w.kH + kh) * w.kW + kw) * width + (od * w.outH + oh) * w.outW + ow];
                        }
                    }
                }
                dx[out + q] = s;
            }
        }
    }
}

// m: og x (nb*plane) GEMM output of one group -> y (N x channels x plane), with bias and ReLU (the conv epilogue).
// Grid: y = output channel of the group, z = sample of the chunk, x = position.
ML_KERNEL ml_chunk_to_nchw(const float* m, const float* bias, float* y, int n0, int nb, int og, int channels, int group,
                           int plane, int relu) {
    long long width = (long long)nb * plane;
    ML_ROWS(o, og) {
        int oc = group * og + o;
        float b = bias ? bias[oc] : 0.0f;
        ML_DEPTH(j, nb) {
            long long src = o * width + (long long)j * plane, dst = ((long long)(n0 + j) * channels + oc) * plane;
            ML_COLS(p, plane) {
                float v = m[src + p] + b;
                y[dst + p] = relu ? ml_relu(v) : v;
            }
        }
    }
}

ML_KERNEL ml_nchw_to_chunk(const float* y, float* m, int n0, int nb, int og, int channels, int group, int plane) {
    long long width = (long long)nb * plane;
    ML_ROWS(o, og) {
        ML_DEPTH(j, nb) {
            long long dst = o * width + (long long)j * plane, src = ((long long)(n0 + j) * channels + group * og + o) * plane;
            ML_COLS(p, plane) m[dst + p] = y[src + p];
        }
    }
}

// Per-channel sums over batch and space into out[2c], out[2c+1] (zeroed by the caller), in double.
// Grid: x = channel, y = sample stride. mode 0: x - x[c][0] and its square (batch statistics, shifted for
// accuracy); mode 1: g and g*(x - center)*scale (batch-norm backward); mode 2: x (bias gradient).
ML_KERNEL ml_channel_reduce(const float* a, const float* b, const float* center, const float* scale, double* out,
                            int batch, int channels, int plane, int mode) {
    int c = blockIdx.x;
    if (threadIdx.x >= plane) return;
    double shift = mode == 0 ? (double)a[(long long)c * plane] : 0.0;
    float mu = mode == 1 ? center[c] : 0.0f, is = mode == 1 ? scale[c] : 0.0f;
    double t1 = 0.0, t2 = 0.0;
    for (int n = blockIdx.y; n < batch; n += gridDim.y) {
        long long base = ((long long)n * channels + c) * plane;
        for (int p = threadIdx.x; p < plane; p += blockDim.x) {
            float v = a[base + p];
            if (mode == 0) {
                double d = (double)v - shift;
                t1 += d;
                t2 += d * d;
            } else if (mode == 1) {
                float g = b[base + p];
                t1 += g;
                t2 += g * (v - mu) * is;
            } else {
                t1 += v;
            }
        }
    }
    atomicAdd(&out[2 * c], t1);
    if (mode != 2) atomicAdd(&out[2 * c + 1], t2);
}

ML_KERNEL ml_sums_to_float(const double* sums, float* first, float* second, int channels) {
    ML_LOOP(c, channels) {
        if (first) first[c] = (float)sums[2 * c];
        if (second) second[c] = (float)sums[2 * c + 1];
    }
}

// From mode-0 sums: mean, 1/sqrt(var+eps), biased variance, and the affine map gamma*(x-mean)*invStd + beta.
ML_KERNEL ml_bn_statistics(const double* sums, const float* x, const float* gamma, const float* beta, float* mean,
                           float* invStd, float* variance, float* scale, float* shift, int channels, int plane,
                           double count, float eps) {
    ML_LOOP(c, channels) {
        double d = sums[2 * c] / count;
        double mu = (double)x[(long long)c * plane] + d;
        double v = sums[2 * c + 1] / count - d * d;
        if (v < 0.0) v = 0.0;
        float is = (float)(1.0 / sqrt(v + (double)eps));
        mean[c] = (float)mu;
        invStd[c] = is;
        variance[c] = (float)v;
        float sc = gamma[c] * is;
        scale[c] = sc;
        shift[c] = beta[c] - (float)mu * sc;
    }
}

// dx from mode-1 sums (sumG, sumGX per channel), as CPUBackend.batchNormBackward. Rows are (sample, channel).
ML_KERNEL ml_bn_backward(const float* x, const float* g, const float* mean, const float* invStd, const float* gamma,
                         const double* sums, float* gx, int channels, int plane, float count, int rows) {
    ML_ROWS(r, rows) {
        int c = r % channels;
        float mu = mean[c], is = invStd[c];
        float sumG = (float)sums[2 * c], sumGX = (float)sums[2 * c + 1];
        float k = gamma[c] * is / count;
        long long base = (long long)r * plane;
        ML_COLS(q, plane) {
            float xhat = (x[base + q] - mu) * is;
            gx[base + q] = k * (count * g[base + q] - sumG - xhat * sumGX);
        }
    }
}

// Max (argmax non-null) or average pooling. Rows are (sample, channel) planes, x the outputs of one. Max: argmax is
// the flat index within the input plane, NaN wins, as on the CPU. Average: count_include_pad, every window divides
// by the full kernel volume (`scale`).
ML_KERNEL ml_pool(const float* x, float* y, int* argmax, MLWindow w, float scale, int planes) {
    int inPlane = w.inD * w.inH * w.inW, outPlane = w.outD * w.outH * w.outW;
    ML_ROWS(plane, planes) {
        long long src = (long long)plane * inPlane, dst = (long long)plane * outPlane;
        ML_COLS(o, outPlane) {
            int od = o / (w.outH * w.outW), oh = (o / w.outW) % w.outH, ow = o % w.outW;
            float best = ml_neg_infinity(), sum = 0.0f;
            int at = -1;
            for (int kd = 0; kd < w.kD; kd++) {
                int id = od * w.sD - w.pD + kd * w.dD;
                if (id < 0 || id >= w.inD) continue;
                for (int kh = 0; kh < w.kH; kh++) {
                    int ih = oh * w.sH - w.pH + kh * w.dH;
                    if (ih < 0 || ih >= w.inH) continue;
                    for (int kw = 0; kw < w.kW; kw++) {
                        int iw = ow * w.sW - w.pW + kw * w.dW;
                        if (iw < 0 || iw >= w.inW) continue;
                        int idx = (id * w.inH + ih) * w.inW + iw;
                        float v = x[src + idx];
                        sum += v;
                        if (at < 0 || v > best || v != v) { best = v; at = idx; }
                    }
                }
            }
            if (argmax) {
                y[dst + o] = best;
                argmax[dst + o] = at < 0 ? 0 : at;
            } else {
                y[dst + o] = sum * scale;
            }
        }
    }
}

// Scatter into a zeroed gx (windows may overlap).
ML_KERNEL ml_max_pool_backward(const float* gy, const int* argmax, float* gx, int inPlane, int outPlane, int planes) {
    ML_ROWS(plane, planes) {
        long long src = (long long)plane * outPlane, dst = (long long)plane * inPlane;
        ML_COLS(o, outPlane) atomicAdd(&gx[dst + argmax[src + o]], gy[src + o]);
    }
}

// A gather over the windows containing each input, in output order as the CPU adds them.
ML_KERNEL ml_avg_pool_backward(const float* gy, float* gx, MLWindow w, float scale, int planes) {
    int inPlane = w.inD * w.inH * w.inW, outPlane = w.outD * w.outH * w.outW;
    ML_ROWS(plane, planes) {
        long long src = (long long)plane * outPlane, dst = (long long)plane * inPlane;
        ML_COLS(q, inPlane) {
            int id = q / (w.inH * w.inW), ih = (q / w.inW) % w.inH, iw = q % w.inW;
            int d0, d1, h0, h1, w0, w1;
            ml_window_range(id, w.pD, w.kD, w.sD, w.dD, w.outD, &d0, &d1);
            ml_window_range(ih, w.pH, w.kH, w.sH, w.dH, w.outH, &h0, &h1);
            ml_window_range(iw, w.pW, w.kW, w.sW, w.dW, w.outW, &w0, &w1);
            float s = 0.0f;
            for (int od = d0; od <= d1; od++) {
                if (ml_tap(id + w.pD - od * w.sD, w.dD) < 0) continue;
                for (int oh = h0; oh <= h1; oh++) {
                    if (ml_tap(ih + w.pH - oh * w.sH, w.dH) < 0) continue;
                    for (int ow = w0; ow <= w1; ow++) {
                        if (ml_tap(iw + w.pW - ow * w.sW, w.dW) < 0) continue;
                        s += gy[src + (od * w.outH + oh) * w.outW + ow] * scale;
                    }
                }
            }
            gx[dst + q] = s;
        }
    }
}

// PyTorch's bins: [floor(o*in/out), ceil((o+1)*in/out)). Rows are planes.
ML_KERNEL ml_adaptive_avg_pool(const float* x, float* y, int inD, int inH, int inW, int outD, int outH, int outW, int planes) {
    int inPlane = inD * inH * inW, outPlane = outD * outH * outW;
    ML_ROWS(plane, planes) {
        long long src = (long long)plane * inPlane, dst = (long long)plane * outPlane;
        ML_COLS(o, outPlane) {
            int od = o / (outH * outW), oh = (o / outW) % outH, ow = o % outW;
            int d0 = od * inD / outD, d1 = ((od + 1) * inD + outD - 1) / outD;
            int h0 = oh * inH / outH, h1 = ((oh + 1) * inH + outH - 1) / outH;
            int w0 = ow * inW / outW, w1 = ((ow + 1) * inW + outW - 1) / outW;
            float s = 0.0f;
            for (int d = d0; d < d1; d++)
                for (int h = h0; h < h1; h++)
                    for (int v = w0; v < w1; v++) s += x[src + (d * inH + h) * inW + v];
            y[dst + o] = s / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
        }
    }
}

ML_KERNEL ml_adaptive_avg_pool_backward(const float* gy, float* gx, int inD, int inH, int inW, int outD, int outH,
                                        int outW, int planes) {
    int inPlane = inD * inH * inW, outPlane = outD * outH * outW;
    ML_ROWS(plane, planes) {
        long long src = (long long)plane * outPlane, dst = (long long)plane * inPlane;
        ML_COLS(q, inPlane) {
            int id = q / (inH * inW), ih = (q / inW) % inH, iw = q % inW;
            float s = 0.0f;
            for (int od = 0; od < outD; od++) {
                int d0 = od * inD / outD, d1 = ((od + 1) * inD + outD - 1) / outD;
                if (id < d0 || id >= d1) continue;
                for (int oh = 0; oh < outH; oh++) {
                    int h0 = oh * inH / outH, h1 = ((oh + 1) * inH + outH - 1) / outH;
                    if (ih < h0 || ih >= h1) continue;
                    for (int ow = 0; ow < outW; ow++) {
                        int w0 = ow * inW / outW, w1 = ((ow + 1) * inW + outW - 1) / outW;
                        if (iw < w0 || iw >= w1) continue;
                        s += gy[src + (od * outH + oh) * outW + ow] / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
                    }
                }
            }
            gx[dst + q] = s;
        }
    }
}

// Copies `channels` channels of every sample between tensors with different channel counts (concat and split).
// Rows are samples.
ML_KERNEL ml_copy_channels(const float* src, float* dst, int srcChannels, int srcOffset, int dstChannels, int dstOffset,
                           int channels, int inner, int samples) {
    int len = channels * inner;
    ML_ROWS(b, samples) {
        long long from = ((long long)b * srcChannels + srcOffset) * inner, to = ((long long)b * dstChannels + dstOffset) * inner;
        ML_COLS(r, len) dst[to + r] = src[from + r];
    }
}
"""#
}

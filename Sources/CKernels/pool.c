#include "ck_pool.h"

#include <math.h>
#include <stdlib.h>

/* The taps k of one window dimension whose position o*stride - padding + k*dilation lies in [0, size). */
static void clip(const ck_window *w, int dim, int o, int *first, int *count) {
    const int start = o * w->stride[dim] - w->padding[dim], dil = w->dilation[dim], size = w->input[dim];
    int k0 = start >= 0 ? 0 : (-start + dil - 1) / dil;
    int k1 = start > size - 1 ? -1 : (size - 1 - start) / dil;
    if (k1 > w->kernel[dim] - 1) k1 = w->kernel[dim] - 1;
    *first = k0;
    *count = k1 >= k0 ? k1 - k0 + 1 : 0;
}

/* One output from its window's row offsets and column taps [kw0, kw0 + nkw). Branch-free selection: on real
   data the comparison is a coin flip that a branch predictor loses. */
static inline void max_scalar(const float *src, const int *rows, int nrows, int c0, int kw0, int nkw, int dil,
                              float *y, int32_t *arg) {
    float best = -INFINITY;
    int at = -1;
    for (int r = 0; r < nrows; r++)
        for (int k = kw0; k < kw0 + nkw; k++) {
            const int i = rows[r] + c0 + k * dil;
            const float v = src[i];
            const int take = (at < 0) | (v > best) | (v != v);
            best = take ? v : best;
            at = take ? i : at;
        }
    *y = best;
    *arg = at < 0 ? 0 : at;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* Outputs ow0 .. ow0+n-1 (n <= 8) of one row: lane l reads column c0 + l*stride + k*dil of every window row;
   lanes whose position lies outside the row are masked. (An AVX-512 version measured 2x slower on Zen 5: its
   mask-register traffic serialises the comparisons.) */
__attribute__((target("avx2,fma"))) static void max_vec_avx2(const float *src, const int *rows, int nrows, int c0,
                                                             int stride, int kw, int dil, int width, int n, float *y,
                                                             int32_t *arg) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lane = _mm256_mullo_epi32(iota, _mm256_set1_epi32(stride));
    const __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
    const __m256i first7 = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
    __m256 best = _mm256_set1_ps(-INFINITY);
    __m256 idx = _mm256_setzero_ps(); /* int32 lanes carried in float registers for blendv */
    __m256 set = _mm256_setzero_ps(), valids[64];
    for (int k = 0; k < kw; k++) {
        const __m256i col = _mm256_add_epi32(_mm256_set1_epi32(c0 + k * dil), lane);
        valids[k] = _mm256_castsi256_ps(_mm256_and_si256(
            lanes, _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), col),
                                       _mm256_cmpgt_epi32(_mm256_set1_epi32(width), col))));
    }
    for (int r = 0; r < nrows; r++) {
        for (int k = 0; k < kw; k++) {
            const int c = c0 + k * dil;
            const __m256i col = _mm256_add_epi32(_mm256_set1_epi32(c), lane);
            const __m256 valid = valids[k];
            const int inside = _mm256_movemask_ps(valid) == 0xFF;
            const float *p = src + rows[r] + c;
            __m256 v;
            if (!inside) v = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, lane, valid, 4);
            else if (stride == 1) v = _mm256_loadu_ps(p);
            else if (stride == 2) {
                /* Even elements of p[0..15]; p[15] may lie past the plane. */
                const __m256 pair = _mm256_shuffle_ps(_mm256_loadu_ps(p), _mm256_maskload_ps(p + 8, first7), 0x88);
                v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pair), 0xD8));
            } else v = _mm256_i32gather_ps(p, lane, 4);
            const __m256 better = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
            const __m256 take = _mm256_and_ps(valid, _mm256_or_ps(better, _mm256_xor_ps(set, _mm256_castsi256_ps(_mm256_set1_epi32(-1)))));
            best = _mm256_blendv_ps(best, v, take);
            idx = _mm256_blendv_ps(idx, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_set1_epi32(rows[r]), col)), take);
            set = _mm256_or_ps(set, valid);
        }
    }
    _mm256_maskstore_ps(y, lanes, best);
    _mm256_maskstore_epi32(arg, lanes, _mm256_castps_si256(idx));
}
#endif

int ck_max_pool(const ck_window *w, ck_isa isa, const float *x, float *y, int32_t *arg, long lo, long hi) {
    const int iH = w->input[1], iW = w->input[2], oD = w->output[0], oH = w->output[1], oW = w->output[2];
    const int sw = w->stride[2], pw = w->padding[2], dw = w->dilation[2], kW = w->kernel[2];
    const long inPlane = (long)w->input[0] * iH * iW, outPlane = (long)oD * oH * oW;
    const int lanes = isa >= CK_ISA_AVX2 && kW <= 64 ? 8 : 1;
    int *rows = malloc(sizeof(int) * (size_t)w->kernel[0] * w->kernel[1]);
    if (!rows) return 0;
    for (long plane = lo; plane < hi; plane++) {
        const float *src = x + plane * inPlane;
        float *dst = y + plane * outPlane;
        int32_t *at = arg + plane * outPlane;
        for (int od = 0; od < oD; od++) {
            int d0, dn;
            clip(w, 0, od, &d0, &dn);
            for (int oh = 0; oh < oH; oh++, dst += oW, at += oW) {
                int h0, hn, nrows = 0;
                clip(w, 1, oh, &h0, &hn);
                for (int kd = d0; kd < d0 + dn; kd++)
                    for (int kh = h0; kh < h0 + hn; kh++) {
                        const int id = od * w->stride[0] - w->padding[0] + kd * w->dilation[0];
                        const int ih = oh * w->stride[1] - w->padding[1] + kh * w->dilation[1];
                        rows[nrows++] = (id * iH + ih) * iW;
                    }
                int ow = 0;
#if defined(__x86_64__)
                for (; lanes > 1 && nrows > 0 && ow < oW; ow += lanes) {
                    const int n = oW - ow < lanes ? oW - ow : lanes;
                    max_vec_avx2(src, rows, nrows, ow * sw - pw, sw, kW, dw, iW, n, dst + ow, at + ow);
                }
#endif
                for (; ow < oW; ow++) {
                    int k0, kn;
                    clip(w, 2, ow, &k0, &kn);
                    max_scalar(src, rows, nrows, ow * sw - pw, k0, kn, dw, dst + ow, at + ow);
                }
            }
        }
    }
    free(rows);
    return 1;
}

void ck_avg_pool(const ck_window *w, const float *x, float *y, long lo, long hi) {
    const int iD = w->input[0], iH = w->input[1], iW = w->input[2], oD = w->output[0], oH = w->output[1],
              oW = w->output[2];
    const long inPlane = (long)iD * iH * iW, outPlane = (long)oD * oH * oW;
    const float scale = 1.0f / (float)(w->kernel[0] * w->kernel[1] * w->kernel[2]);
    for (long plane = lo; plane < hi; plane++) {
        const float *src = x + plane * inPlane;
        float *dst = y + plane * outPlane;
        for (int od = 0; od < oD; od++) {
            int d0, dn;
            clip(w, 0, od, &d0, &dn);
            for (int oh = 0; oh < oH; oh++) {
                int h0, hn;
                clip(w, 1, oh, &h0, &hn);
                for (int ow = 0; ow < oW; ow++) {
                    int k0, kn;
                    clip(w, 2, ow, &k0, &kn);
                    float sum = 0;
                    for (int kd = d0; kd < d0 + dn; kd++)
                        for (int kh = h0; kh < h0 + hn; kh++) {
                            const int id = od * w->stride[0] - w->padding[0] + kd * w->dilation[0];
                            const int ih = oh * w->stride[1] - w->padding[1] + kh * w->dilation[1];
                            const float *row = src + ((long)id * iH + ih) * iW + ow * w->stride[2] - w->padding[2];
                            for (int kw = k0; kw < k0 + kn; kw++) sum += row[kw * w->dilation[2]];
                        }
                    *dst++ = sum * scale;
                }
            }
        }
    }
}

#include "ck_conv.h"
#include "ck_winograd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CK_MAX_TAPS 1024
#define CK_MAX_STRIDE 8
#define CK_MAX_GROUP 8
#define CK_ALIGN64(n) (((n) + 63) & ~(size_t)63)

/* `len` consecutive valid lanes of a tile vector, starting at lane `lane`, stored at output index `dst`. */
typedef struct {
    int lane, len, dst;
} ck_run;

/* Offset of each kernel tap (kd, kh, kw) from a tile's first position. In place (stride 1, output as wide as
   the input) that is its shift in the input itself; otherwise the tap's stride phase picks a sub-image of the
   phase image and its remaining whole-stride shift moves within it. */
static void conv_taps(const ck_conv_plan *p, int *tap) {
    const ck_conv_shape *s = &p->s;
    int t = 0;
    for (int kd = 0; kd < s->kernel[0]; kd++)
        for (int kh = 0; kh < s->kernel[1]; kh++)
            for (int kw = 0; kw < s->kernel[2]; kw++) {
                const int z[3] = {kd * s->dilation[0], kh * s->dilation[1], kw * s->dilation[2]};
                long phase = 0, shift = 0;
                for (int d = 0; d < 3; d++) {
                    if (p->in_place) {
                        shift = shift * p->q[d] + z[d] - s->padding[d];
                    } else {
                        phase = phase * p->phases[d] + p->phase_of[d][z[d] % s->stride[d]];
                        shift = shift * p->q[d] + z[d] / s->stride[d];
                    }
                }
                tap[t++] = (int)(phase * p->phase_volume + shift);
            }
}

/* For the tile of nr positions starting at j0 in output depth slice od: per tap, the lanes whose input position
   lies inside the input (bit l for lane l). Returns whether any tap must mask lanes; reading the phase image,
   which holds the padding, none does. */
static int conv_lanes(const ck_conv_plan *p, int od, int j0, int nr, uint32_t *lanes) {
    const uint32_t all = nr == 32 ? 0xFFFFFFFFu : (1u << nr) - 1;
    if (!p->in_place) return 0;
    const ck_conv_shape *s = &p->s;
    const int oW = s->output[2], np = s->output[1] * oW;
    /* Valid lanes per kernel row (kh) and per kernel column (kw); a tap's lanes are their intersection. */
    uint32_t rows[64], cols[64];
    for (int kh = 0; kh < s->kernel[1]; kh++) {
        uint32_t bits = 0;
        for (int l = 0; l < nr && j0 + l < np; l++) {
            const int ih = (j0 + l) / oW + kh * s->dilation[1] - s->padding[1];
            bits |= (uint32_t)(ih >= 0 && ih < s->input[1]) << l;
        }
        rows[kh] = bits;
    }
    for (int kw = 0; kw < s->kernel[2]; kw++) {
        uint32_t bits = 0;
        for (int l = 0; l < nr; l++) {
            const int iw = (j0 + l) % oW + kw * s->dilation[2] - s->padding[2];
            bits |= (uint32_t)(iw >= 0 && iw < s->input[2]) << l;
        }
        cols[kw] = bits;
    }
    int t = 0, masked = 0;
    for (int kd = 0; kd < s->kernel[0]; kd++) {
        const int id = od + kd * s->dilation[0] - s->padding[0];
        const uint32_t depth = id >= 0 && id < s->input[0] ? all : 0;
        for (int kh = 0; kh < s->kernel[1]; kh++)
            for (int kw = 0; kw < s->kernel[2]; kw++) {
                lanes[t] = depth & rows[kh] & cols[kw];
                masked |= lanes[t++] != all;
            }
    }
    return masked;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* AVX2 + FMA: 16 ymm registers hold 6 x 2 accumulators, 2 operands and a broadcast. */
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_NAME(x) x##_avx2
#define CK_VL 8
#define CK_MR 6
#define CK_NV 2
#define CK_V __m256
#define CK_M __m256i
#define CK_ZERO() _mm256_setzero_ps()
#define CK_LOADU(p) _mm256_loadu_ps(p)
#define CK_MLOAD(p, m) _mm256_maskload_ps((p), (m))
#define CK_SET1(x) _mm256_set1_ps(x)
#define CK_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define CK_ADD(a, b) _mm256_add_ps((a), (b))
#define CK_MAX(a, b) _mm256_max_ps((a), (b))
#define CK_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define CK_STORE_RUN(p, v, lane, len)                                                                      \
    _mm256_maskstore_ps((p), _mm256_cmpgt_epi32(_mm256_set1_epi32(len), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), \
                        _mm256_permutevar8x32_ps((v), _mm256_add_epi32(_mm256_set1_epi32(lane),                  \
                                                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))))
#define CK_MASK(bits)                                                                                      \
    _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)(bits)), _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128)), \
                       _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128))
#define CK_SUB(a, b) _mm256_sub_ps((a), (b))
#include "conv_tile.h"

static inline __m256i first_lanes_avx2(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Lanes l = p[2l + phase], l < 8, reading only elements lo <= e < hi of p. */
static inline __m256 strided2_avx2(const float *p, int phase, int lo, int hi) {
    const __m256i e = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i l0 = _mm256_set1_epi32(lo), h0 = _mm256_set1_epi32(hi), eight = _mm256_set1_epi32(8);
    const __m256i m0 = _mm256_andnot_si256(_mm256_cmpgt_epi32(l0, e), _mm256_cmpgt_epi32(h0, e));
    const __m256i e1 = _mm256_add_epi32(e, eight);
    const __m256i m1 = _mm256_andnot_si256(_mm256_cmpgt_epi32(l0, e1), _mm256_cmpgt_epi32(h0, e1));
    const __m256 a = _mm256_maskload_ps(p, m0), b = _mm256_maskload_ps(p + 8, m1);
    const __m256 pair = phase ? _mm256_shuffle_ps(a, b, 0xDD) : _mm256_shuffle_ps(a, b, 0x88);
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(pair), 0xD8));
}

static inline void store_first_avx2(float *p, __m256 v, int n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, first_lanes_avx2(n), v);
}

/* a0 b0 a1 b1 ... a7 b7 at p, the first n floats. */
static inline void store_pair_avx2(float *p, __m256 a, __m256 b, int n) {
    const __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);
    const __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20), second = _mm256_permute2f128_ps(lo, hi, 0x31);
    store_first_avx2(p, first, n);
    if (n > 8) store_first_avx2(p + 8, second, n - 8);
}
#include "winograd.h"
#include "isa_end.h"

/* AVX-512F: 32 zmm registers; 8 x 2 accumulators measured best (6 x 4 and 12 x 2 within 5 %). */
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#define CK_NAME(x) x##_avx512
#define CK_VL 16
#define CK_MR 8
#define CK_NV 2
#define CK_V __m512
#define CK_M __mmask16
#define CK_ZERO() _mm512_setzero_ps()
#define CK_LOADU(p) _mm512_loadu_ps(p)
#define CK_MLOAD(p, m) _mm512_maskz_loadu_ps((m), (p))
#define CK_SET1(x) _mm512_set1_ps(x)
#define CK_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define CK_ADD(a, b) _mm512_add_ps((a), (b))
#define CK_MAX(a, b) _mm512_max_ps((a), (b))
#define CK_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define CK_STORE_RUN(p, v, lane, len)                                                                   \
    _mm512_mask_storeu_ps((p), (__mmask16)((1u << (len)) - 1),                                         \
                          _mm512_maskz_compress_ps((__mmask16)(((1u << (len)) - 1) << (lane)), (v)))
#define CK_MASK(bits) ((__mmask16)((bits) & 0xFFFF))
#define CK_SUB(a, b) _mm512_sub_ps((a), (b))
#include "conv_tile.h"

/* Lanes l = p[2l + phase], l < 16, reading only elements lo <= e < hi of p. */
static inline __m512 strided2_avx512(const float *p, int phase, int lo, int hi) {
    lo = lo < 0 ? 0 : lo > 32 ? 32 : lo;
    hi = hi < 0 ? 0 : hi > 32 ? 32 : hi;
    const uint32_t upto = hi >= 32 ? 0xFFFFFFFFu : (1u << hi) - 1, below = lo >= 32 ? 0xFFFFFFFFu : (1u << lo) - 1;
    const uint32_t bits = upto & ~below;
    const __m512i idx = phase ? _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
                              : _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)bits, p), idx,
                                  _mm512_maskz_loadu_ps((__mmask16)(bits >> 16), p + 16));
}

static inline void store_first_avx512(float *p, __m512 v, int n) {
    if (n >= 16) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), v);
}

/* a0 b0 a1 b1 ... a15 b15 at p, the first n floats. */
static inline void store_pair_avx512(float *p, __m512 a, __m512 b, int n) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    store_first_avx512(p, _mm512_permutex2var_ps(a, lo, b), n);
    if (n > 16) store_first_avx512(p + 16, _mm512_permutex2var_ps(a, hi, b), n - 16);
}
#include "winograd.h"
#include "isa_end.h"

static ck_isa detect_isa(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return CK_ISA_NONE;
    const int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx || !fma) return CK_ISA_NONE;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return CK_ISA_NONE; /* the OS saves SSE and AVX state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return CK_ISA_NONE;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx512f && (lo & 0xE0) == 0xE0) return CK_ISA_AVX512; /* and opmask and ZMM state */
    return avx2 ? CK_ISA_AVX2 : CK_ISA_NONE;
}

/* cpuid traps to the hypervisor in a VM (tens of microseconds), so it runs once. */
ck_isa ck_best_isa(void) {
    static int cached = -1; /* every thread computes the same value, so a relaxed race is harmless */
    int isa = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = (int)detect_isa();
        __atomic_store_n(&cached, isa, __ATOMIC_RELAXED);
    }
    return (ck_isa)isa;
}

static int lanes_per_tile(ck_isa isa) { return isa == CK_ISA_AVX512 ? 16 * 2 : 8 * 2; }
static int rows_per_tile(ck_isa isa) { return isa == CK_ISA_AVX512 ? 8 : 6; }
#else
ck_isa ck_best_isa(void) { return CK_ISA_NONE; }
static int lanes_per_tile(ck_isa isa) { (void)isa; return 1; }
static int rows_per_tile(ck_isa isa) { (void)isa; return 1; }
#endif

int ck_conv_plan_init(ck_conv_plan *p, const ck_conv_shape *s, ck_isa isa, int parts) {
    memset(p, 0, sizeof *p);
    if (isa == CK_ISA_NONE || isa > ck_best_isa() || parts < 1 || s->groups < 1) return 0;
    if (s->in_channels % s->groups || s->out_channels % s->groups) return 0;
    p->s = *s;
    p->isa = isa;
    p->taps = s->kernel[0] * s->kernel[1] * s->kernel[2];
    if (p->taps < 1 || p->taps > CK_MAX_TAPS) return 0;
    int unit = 1;
    for (int d = 0; d < 3; d++) {
        const int st = s->stride[d];
        if (st < 1 || st > CK_MAX_STRIDE || s->output[d] < 1 || s->kernel[d] < 1 || s->dilation[d] < 1) return 0;
        for (int v = 0; v < CK_MAX_STRIDE; v++) p->phase_of[d][v] = -1;
        for (int k = 0; k < s->kernel[d]; k++) {
            const int v = k * s->dilation[d] % st;
            if (p->phase_of[d][v] < 0) p->phase_of[d][v] = p->phases[d]++;
        }
        /* Outputs o read phase-image positions o + (tap offset) / stride. */
        p->q[d] = s->output[d] + (s->kernel[d] - 1) * s->dilation[d] / st;
        unit &= st == 1;
    }
    if (s->kernel[1] > 64 || s->kernel[2] > 64) return 0;
    /* Stride 1 with the output as wide as the input: consecutive outputs read consecutive inputs at every tap,
       so tiles read the input itself and mask the lanes that fall in the padding. */
    p->in_place = unit && s->output[2] == s->input[2];
    if (p->in_place) {
        for (int d = 0; d < 3; d++) {
            p->phases[d] = 1;
            p->q[d] = s->input[d];
        }
    }
    p->phase_volume = (long)p->q[0] * p->q[1] * p->q[2];
    p->channel_stride = p->phase_volume * p->phases[0] * p->phases[1] * p->phases[2];
    const int nr = lanes_per_tile(isa), mr = rows_per_tile(isa);
    const int cg = s->in_channels / s->groups, og = s->out_channels / s->groups;
    p->tiles_per_slice = (s->output[1] * p->q[2] + nr - 1) / nr;
    const long tiles = (long)s->batch * s->output[0] * p->tiles_per_slice;
    /* How far, within one depth slice, a tile's taps reach past its positions. */
    long span = (long)(s->kernel[1] - 1) * s->dilation[1] * p->q[2] + (s->kernel[2] - 1) * s->dilation[2];
    int maxTap = 0;
    if (!p->in_place) {
        int tap[CK_MAX_TAPS];
        conv_taps(p, tap);
        span = 0;
        for (int t = 0; t < p->taps; t++) {
            const long within = tap[t] % p->phase_volume % ((long)p->q[1] * p->q[2]);
            span = within > span ? within : span;
            maxTap = tap[t] > maxTap ? tap[t] : maxTap;
        }
    }
    const int mblocks = (og + mr - 1) / mr;
    /* Reduction chunks whose weights, for one block of output channels, fit in L1 (~16 KB); a chunk of
       output-channel blocks per item; a group of column tiles whose operands for one reduction chunk (per
       channel: the kernel's depth taps and stride phases x the tiles plus the rows the taps reach) stay in
       L2 (~256 KB). */
    const long rows = (long)cg * p->taps, kc = 2048 / mr;
    const long chunks = rows <= kc * 3 / 2 ? 1 : (rows + kc - 1) / kc;
    p->k_chunk = (int)((rows + chunks - 1) / chunks);
    /* The operands that stay in L2 are those of one chunk's channels (a chunk straddles one more). */
    const long channels = p->k_chunk / p->taps + 2 < cg ? p->k_chunk / p->taps + 2 : cg;
    const int nphHW = p->phases[1] * p->phases[2];
    const long perChannel = (256 * 1024) / (4L * channels * s->kernel[0] * nphHW);
    /* (A small image's whole channel may be less than that.) */
    long perGroup = 4L * channels * p->channel_stride <= 256 * 1024 ? CK_MAX_GROUP : (perChannel - span) / nr;
    p->tiles_per_group = perGroup < 1 ? 1 : perGroup > CK_MAX_GROUP ? CK_MAX_GROUP : (int)perGroup;
    if (p->tiles_per_group > tiles) p->tiles_per_group = (int)tiles;
    /* Running sums of a chunked reduction: blocks x tiles tiles of 1 KB, at most 64 KB. */
    p->blocks_per_chunk = chunks == 1 ? mblocks : 64 / p->tiles_per_group;
    if (p->blocks_per_chunk > mblocks) p->blocks_per_chunk = mblocks;
    if (p->blocks_per_chunk < 1) p->blocks_per_chunk = 1;
    /* Enough items that every worker gets several (workers take them one at a time): smaller chunks first,
       then smaller groups. */
    for (;;) {
        p->m_chunks = (mblocks + p->blocks_per_chunk - 1) / p->blocks_per_chunk;
        p->groups_per_channel_group = (tiles + p->tiles_per_group - 1) / p->tiles_per_group;
        p->items = (long)s->groups * p->groups_per_channel_group * p->m_chunks;
        if (p->items >= 4L * parts) break;
        if (p->blocks_per_chunk > 1) p->blocks_per_chunk = (p->blocks_per_chunk + 1) / 2;
        else if (p->tiles_per_group > 1) p->tiles_per_group = (p->tiles_per_group + 1) / 2;
        else break;
    }
    if (!p->in_place) {
        /* Tiles read past their slice into the next channel; the last channel needs this much slack. */
        long lastRead = (long)(s->output[0] - 1) * p->q[1] * p->q[2] + (long)p->tiles_per_slice * nr + maxTap;
        long slack = lastRead > p->channel_stride ? lastRead - p->channel_stride : 0;
        p->scratch_floats = (size_t)((long)s->batch * s->in_channels * p->channel_stride + slack + 16);
    }
    return 1;
}

/* One row of the phase image: columns zw of phase value vw read input column zw*stride + vw - padding, the
   columns outside the input are padding. */
static void phase_row(const float *line, int iW, int stride, int vw, int pad, int qw, float *dst) {
    const int off = vw - pad;
    int zlo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int zhi = iW - 1 - off < 0 ? 0 : (iW - 1 - off) / stride + 1;
    if (zlo > qw) zlo = qw;
    if (zhi > qw) zhi = qw;
    if (zhi < zlo) zhi = zlo;
    memset(dst, 0, sizeof(float) * zlo);
    if (stride == 1) memcpy(dst + zlo, line + zlo + off, sizeof(float) * (zhi - zlo));
    else
        for (int z = zlo; z < zhi; z++) dst[z] = line[z * stride + off];
    memset(dst + zhi, 0, sizeof(float) * (qw - zhi));
}

void ck_conv_prepare(const ck_conv_plan *p, const float *x, float *scratch, int part, int parts) {
    const ck_conv_shape *s = &p->s;
    int value[3][CK_MAX_STRIDE]; /* kept phase index -> stride phase value */
    for (int d = 0; d < 3; d++)
        for (int v = 0; v < s->stride[d]; v++)
            if (p->phase_of[d][v] >= 0) value[d][p->phase_of[d][v]] = v;
    const int qd = p->q[0], qh = p->q[1], qw = p->q[2];
    const int iD = s->input[0], iH = s->input[1], iW = s->input[2];
    const long planes = (long)s->batch * s->in_channels; /* sample x channel */
    const long lo = planes * part / parts, hi = planes * (part + 1) / parts;
    for (long plane = lo; plane < hi; plane++) {
        const float *src = x + plane * iD * (long)iH * iW;
        float *dst = scratch + plane * p->channel_stride;
        for (int pd = 0; pd < p->phases[0]; pd++)
            for (int ph = 0; ph < p->phases[1]; ph++)
                for (int pw = 0; pw < p->phases[2]; pw++, dst += p->phase_volume)
                    for (int zd = 0; zd < qd; zd++) {
                        const int id = zd * s->stride[0] + value[0][pd] - s->padding[0];
                        for (int zh = 0; zh < qh; zh++) {
                            const int ih = zh * s->stride[1] + value[1][ph] - s->padding[1];
                            float *row = dst + ((long)zd * qh + zh) * qw;
                            if (id < 0 || id >= iD || ih < 0 || ih >= iH) memset(row, 0, sizeof(float) * qw);
                            else phase_row(src + ((long)id * iH + ih) * iW, iW, s->stride[2], value[2][pw],
                                           s->padding[2], qw, row);
                        }
                    }
    }
    if (part == parts - 1) {
        const size_t used = (size_t)s->batch * s->in_channels * p->channel_stride;
        memset(scratch + used, 0, sizeof(float) * (p->scratch_floats - used));
    }
}

void ck_conv_run(const ck_conv_plan *p, const float *image, const float *w, const float *bias, int relu, float *y,
                 long *next_item) {
#if defined(__x86_64__)
    /* Operand offset and tap of every reduction row (channel, tap). */
    const long rows = (long)p->s.in_channels / p->s.groups * p->taps;
    int tap[CK_MAX_TAPS];
    conv_taps(p, tap);
    const size_t bytes = CK_ALIGN64(p->isa == CK_ISA_AVX512 ? run_scratch_avx512(p) : run_scratch_avx2(p));
    char *scratch = aligned_alloc(64, bytes + CK_ALIGN64(2 * sizeof(int) * rows));
    if (!scratch) return;
    int *off = (int *)(scratch + bytes), *tapOf = off + rows;
    for (long k = 0; k < rows; k++) {
        off[k] = (int)(k / p->taps * p->channel_stride) + tap[k % p->taps];
        tapOf[k] = (int)(k % p->taps);
    }
    if (p->isa == CK_ISA_AVX512) run_avx512(p, image, w, bias, relu, y, next_item, off, tapOf, scratch);
    else if (p->isa == CK_ISA_AVX2) run_avx2(p, image, w, bias, relu, y, next_item, off, tapOf, scratch);
    free(scratch);
#else
    (void)p; (void)image; (void)w; (void)bias; (void)relu; (void)y; (void)next_item;
#endif
}

/* Winograd F(2x2, 3x3): weights G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
int ck_winograd_plan_init(ck_winograd_plan *p, const ck_conv_shape *s, ck_isa isa, int parts) {
    memset(p, 0, sizeof *p);
    if (isa == CK_ISA_NONE || isa > ck_best_isa() || s->groups != 1) return 0;
    const int kD = s->kernel[0];
    if (s->kernel[1] != 3 || s->kernel[2] != 3 || (kD != 1 && kD != 3) || s->padding[0] != kD / 2) return 0;
    for (int d = 0; d < 3; d++)
        if (s->stride[d] != 1 || s->dilation[d] != 1 || (d > 0 && s->padding[d] != 1) || s->output[d] != s->input[d])
            return 0;
    /* On narrow images the transforms cost more than they save, unless depth taps reuse each transformed
       slice (one thread, AVX-512: 256@4x14x14 x3 1.72x faster, 512@7x7 0.67x). 2D 256@14x14 gained 1.12x,
       too little for the error it added (ResNet-50's logits went from 6.2e-5 to 1.04e-4 of float64's). */
    const int wide = s->input[2] >= 28, mid = s->input[2] >= 14 && kD == 3;
    if (!wide && !mid) return 0;
    p->s = *s;
    p->isa = isa;
    p->tiles_h = (s->input[1] + 1) / 2;
    p->tiles_w = (s->input[2] + 1) / 2;
    const int lanes = lanes_per_tile(isa);
    p->blocks = (int)(((long)p->tiles_h * p->tiles_w + lanes - 1) / lanes);
    /* At least 4 items per worker; more output-channel chunks repeat the input transform, so no more than that. */
    const long columns = (long)s->batch * p->blocks, mblocks = (s->out_channels + rows_per_tile(isa) - 1) / rows_per_tile(isa);
    long chunks = columns >= 4L * parts ? 1 : (4L * parts + columns - 1) / columns;
    if (chunks > mblocks) chunks = mblocks;
    p->channels_per_chunk = (int)((mblocks + chunks - 1) / chunks * rows_per_tile(isa));
    p->m_chunks = (s->out_channels + p->channels_per_chunk - 1) / p->channels_per_chunk;
    p->items = columns * p->m_chunks;
    return 1;
}

size_t ck_winograd_weight_floats(const ck_winograd_plan *p) {
    return (size_t)16 * p->s.out_channels * p->s.kernel[0] * p->s.in_channels;
}

void ck_winograd_weights(const ck_winograd_plan *p, const float *w, float *u, int lo, int hi) {
    const int C = p->s.in_channels, K = p->s.out_channels, kD = p->s.kernel[0];
    for (int k = lo; k < hi; k++)
        for (int kd = 0; kd < kD; kd++)
            for (int c = 0; c < C; c++) {
                const float *g = w + (((long)k * C + c) * kD + kd) * 9;
                float t[4][3]; /* G g */
                for (int j = 0; j < 3; j++) {
                    t[0][j] = g[j];
                    t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                    t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                    t[3][j] = g[6 + j];
                }
                for (int i = 0; i < 4; i++) {
                    const float r[4] = {t[i][0], 0.5f * (t[i][0] + t[i][1] + t[i][2]), 0.5f * (t[i][0] - t[i][1] + t[i][2]),
                                        t[i][2]};
                    for (int j = 0; j < 4; j++) u[((((long)(i * 4 + j)) * K + k) * kD + kd) * C + c] = r[j];
                }
            }
}

void ck_winograd_run(const ck_winograd_plan *p, const float *x, const float *u, const float *bias, int relu, float *y,
                     long *next_item) {
#if defined(__x86_64__)
    const size_t bytes = p->isa == CK_ISA_AVX512 ? winograd_scratch_avx512(p) : winograd_scratch_avx2(p);
    float *scratch = aligned_alloc(64, CK_ALIGN64(bytes));
    if (!scratch) return;
    if (p->isa == CK_ISA_AVX512) winograd_avx512(p, x, u, bias, relu, y, next_item, scratch);
    else winograd_avx2(p, x, u, bias, relu, y, next_item, scratch);
    free(scratch);
#else
    (void)p; (void)x; (void)u; (void)bias; (void)relu; (void)y; (void)next_item;
#endif
}

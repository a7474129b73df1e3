/* Included by conv.c only (no include guard: once per ISA). conv.c defines before including:
     CK_NAME(x)      suffixes a name with the ISA
     CK_VL, CK_MR, CK_NV   lanes per vector, output channels per tile, vectors per tile row
     CK_V, CK_M      vector and load-mask types
     CK_ZERO(), CK_LOADU(p), CK_MLOAD(p, m), CK_SET1(x), CK_FMA(a, b, c), CK_ADD(a, b), CK_MAX(a, b)
     CK_STOREU(p, v), CK_STORE_RUN(p, v, lane, len)   (len lanes from `lane` on, written at p)
     CK_MASK(bits)   load mask from the low CK_VL bits */

#define CK_NR (CK_VL * CK_NV)

/* One tile: mr output channels x CK_NR positions, reduced over taps (outer) and channels (inner). Tap t reads
   its operands at b + tap[t] + c*cstride for the lanes set in lanes[t] (bit l of vector v: bit v*CK_VL + l). */
static inline __attribute__((always_inline)) void CK_NAME(tile)(
    const int mr, int channels, int kv, const float *a, long lda, const float *b, long cstride, const int *tap,
    const uint32_t *lanes, float *y, long ldy, const ck_run runs[CK_NV][CK_VL], const int *nruns,
    const float *bias, int relu) {
    CK_V acc[CK_MR][CK_NV];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < CK_NV; v++) acc[i][v] = CK_ZERO();
    const uint32_t all = CK_NR == 32 ? 0xFFFFFFFFu : (1u << CK_NR) - 1;
    for (int t = 0; t < kv; t++) {
        const uint32_t bits = lanes[t];
        if (!bits) continue;
        const float *bp = b + tap[t], *ap = a + t;
        if (bits == all) {
            for (int c = 0; c < channels; c++, bp += cstride, ap += kv) {
                CK_V bv[CK_NV];
                for (int v = 0; v < CK_NV; v++) bv[v] = CK_LOADU(bp + v * CK_VL);
                for (int i = 0; i < mr; i++) {
                    CK_V av = CK_SET1(ap[i * lda]);
                    for (int v = 0; v < CK_NV; v++) acc[i][v] = CK_FMA(av, bv[v], acc[i][v]);
                }
            }
        } else {
            /* Edge tiles: lanes whose position falls in the padding read nothing and add zero. */
            CK_M m[CK_NV];
            for (int v = 0; v < CK_NV; v++) m[v] = CK_MASK(bits >> (v * CK_VL));
            for (int c = 0; c < channels; c++, bp += cstride, ap += kv) {
                CK_V bv[CK_NV];
                for (int v = 0; v < CK_NV; v++) bv[v] = CK_MLOAD(bp + v * CK_VL, m[v]);
                for (int i = 0; i < mr; i++) {
                    CK_V av = CK_SET1(ap[i * lda]);
                    for (int v = 0; v < CK_NV; v++) acc[i][v] = CK_FMA(av, bv[v], acc[i][v]);
                }
            }
        }
    }
    for (int i = 0; i < mr; i++) {
        CK_V bi = CK_SET1(bias ? bias[i] : 0.0f);
        float *row = y + i * ldy;
        for (int v = 0; v < CK_NV; v++) {
            CK_V r = CK_ADD(acc[i][v], bi);
            if (relu) r = CK_MAX(r, CK_ZERO());
            for (int k = 0; k < nruns[v]; k++) {
                const ck_run *run = &runs[v][k];
                if (run->len == CK_VL) CK_STOREU(row + run->dst, r);
                else CK_STORE_RUN(row + run->dst, r, run->lane, run->len);
            }
        }
    }
}

/* Expands the tile kernel for each row count, so that every loop above has constant bounds. */
static void CK_NAME(tile_any)(int mr, int channels, int kv, const float *a, long lda, const float *b, long cstride,
                              const int *tap, const uint32_t *lanes, float *y, long ldy,
                              const ck_run runs[CK_NV][CK_VL], const int *nruns, const float *bias, int relu) {
#define CK_CASE(R)                                                                                          \
    case R:                                                                                                 \
        CK_NAME(tile)(R, channels, kv, a, lda, b, cstride, tap, lanes, y, ldy, runs, nruns, bias, relu); \
        break;
    switch (mr) {
        CK_CASE(1) CK_CASE(2) CK_CASE(3) CK_CASE(4) CK_CASE(5) CK_CASE(6)
#if CK_MR > 6
        CK_CASE(7) CK_CASE(8)
#endif
    default: break;
    }
#undef CK_CASE
}

static void CK_NAME(run)(const ck_conv_plan *p, const float *image, const float *w, const float *bias, int relu,
                         float *y, int *tap, uint32_t *lanes, int part, int parts) {
    const ck_conv_shape *s = &p->s;
    const int cg = s->in_channels / s->groups, og = s->out_channels / s->groups, kv = p->taps;
    const long lda = (long)cg * kv;
    conv_taps(p, tap);
    const int oD = s->output[0], oH = s->output[1], oW = s->output[2], wq = p->q[2];
    const long slice = (long)p->q[1] * wq, outPlane = (long)oD * oH * oW, outSlice = (long)oH * oW;
    const int np = oH * wq;
    const int mblocks = (og + CK_MR - 1) / CK_MR, perChunk = (mblocks + p->m_chunks - 1) / p->m_chunks;
    const long lo = p->items * part / parts, hi = p->items * (part + 1) / parts;
    for (long item = lo; item < hi; item++) {
        long r = item;
        const int mc = (int)(r % p->m_chunks); r /= p->m_chunks;
        const int tile = (int)(r % p->tiles_per_slice); r /= p->tiles_per_slice;
        const int od = (int)(r % oD); r /= oD;
        const int n = (int)(r % s->batch);
        const int g = (int)(r / s->batch);
        const int j0 = tile * CK_NR;
        /* Which lanes are real outputs (column < oW), and where they go in the compact output. */
        ck_run runs[CK_NV][CK_VL];
        int nruns[CK_NV];
        for (int v = 0; v < CK_NV; v++) {
            int j = j0 + v * CK_VL, end = j + CK_VL < np ? j + CK_VL : np;
            nruns[v] = 0;
            while (j < end) {
                int oh = j / wq, ow = j % wq;
                if (ow >= oW) { j += wq - ow; continue; }
                int len = oW - ow < end - j ? oW - ow : end - j;
                runs[v][nruns[v]++] = (ck_run){j - (j0 + v * CK_VL), len, oh * oW + ow};
                j += len;
            }
        }
        conv_lanes(p, od, j0, CK_NR, lanes);
        const float *b = image + ((long)n * s->in_channels + (long)g * cg) * p->channel_stride + od * slice + j0;
        float *yb = y + ((long)n * s->out_channels + (long)g * og) * outPlane + od * outSlice;
        const int mb1 = (mc + 1) * perChunk < mblocks ? (mc + 1) * perChunk : mblocks;
        for (int mb = mc * perChunk; mb < mb1; mb++) {
            const int m0 = mb * CK_MR, mr = og - m0 < CK_MR ? og - m0 : CK_MR;
            CK_NAME(tile_any)(mr, cg, kv, w + ((long)g * og + m0) * lda, lda, b, p->channel_stride, tap, lanes,
                              yb + m0 * outPlane, outPlane, runs, nruns, bias ? bias + g * og + m0 : 0, relu);
        }
    }
}

#undef CK_NR

/* Included by conv.c only (no include guard: once per ISA). conv.c defines before including:
     CK_NAME(x)      suffixes a name with the ISA
     CK_VL, CK_MR, CK_NV   lanes per vector, output channels per tile, vectors per tile row
     CK_V, CK_M      vector and load-mask types
     CK_ZERO(), CK_LOADU(p), CK_MLOAD(p, m), CK_SET1(x), CK_FMA(a, b, c), CK_ADD(a, b), CK_MAX(a, b)
     CK_STOREU(p, v), CK_STORE_RUN(p, v, lane, len)   (len lanes from `lane` on, written at p)
     CK_MASK(bits)   load mask from the low CK_VL bits */

#define CK_NR (CK_VL * CK_NV)

/* Where one tile's lanes go and which of them each tap reads. */
typedef struct {
    const float *b; /* operands of tap 0 (before its offset), channel 0 */
    float *y;       /* output of channel 0 at the tile's first position */
    int masked;     /* some tap reads padding in some lane */
    int nruns[CK_NV];
    ck_run runs[CK_NV][CK_VL];
} CK_NAME(tile_info);

/* One tile: mr output channels x CK_NR positions, reduced over the rows k = (channel, tap) in weight order:
   row k's operands start at b + off[k], and with `masked` only the lanes in masks[tapOf[k]*CK_NV + v] are read.
   A single flat loop: as nested channel/tap loops LLVM copied every accumulator each pass, and unrolled taps
   spilled hoisted broadcasts. A reduction split into chunks (`mode` 1 first, 2 middle, 3 last; 0 whole) sums
   each chunk from zero and adds it to `partial` (mr x CK_NR): blocked summation, whose rounding error grows
   with the chunk length and the chunk count rather than with the whole reduction's length. The last chunk
   adds the bias and stores. */
static inline __attribute__((always_inline)) void CK_NAME(tile)(
    const int mr, const int masked, const int mode, int rows, const float *a, long lda, const float *b,
    const int *off, const int *tapOf, const CK_M *masks, float *y, long ldy, const CK_NAME(tile_info) *info,
    const float *bias, int relu, float *partial) {
    CK_V acc[CK_MR][CK_NV];
    for (int i = 0; i < mr; i++)
        for (int v = 0; v < CK_NV; v++)
            acc[i][v] = CK_ZERO();
    for (int k = 0; k < rows; k++) {
        const float *bk = b + off[k];
        CK_V bv[CK_NV];
        for (int v = 0; v < CK_NV; v++)
            bv[v] = masked ? CK_MLOAD(bk + v * CK_VL, masks[tapOf[k] * CK_NV + v]) : CK_LOADU(bk + v * CK_VL);
        for (int i = 0; i < mr; i++) {
            CK_V av = CK_SET1(a[i * lda + k]);
            for (int v = 0; v < CK_NV; v++) acc[i][v] = CK_FMA(av, bv[v], acc[i][v]);
        }
    }
    if (mode >= 2)
        for (int i = 0; i < mr; i++)
            for (int v = 0; v < CK_NV; v++) acc[i][v] = CK_ADD(acc[i][v], CK_LOADU(partial + i * CK_NR + v * CK_VL));
    if (mode == 1 || mode == 2) {
        for (int i = 0; i < mr; i++)
            for (int v = 0; v < CK_NV; v++) CK_STOREU(partial + i * CK_NR + v * CK_VL, acc[i][v]);
        return;
    }
    for (int i = 0; i < mr; i++) {
        CK_V bi = CK_SET1(bias ? bias[i] : 0.0f);
        float *row = y + i * ldy;
        for (int v = 0; v < CK_NV; v++) {
            CK_V r = CK_ADD(acc[i][v], bi);
            if (relu) r = CK_MAX(r, CK_ZERO());
            for (int k = 0; k < info->nruns[v]; k++) {
                const ck_run *run = &info->runs[v][k];
                if (run->len == CK_VL) CK_STOREU(row + run->dst, r);
                else CK_STORE_RUN(row + run->dst, r, run->lane, run->len);
            }
        }
    }
}

/* Expands the tile kernel for each row count, masking and chunk mode, so that every loop above has constant
   bounds. */
static void CK_NAME(tile_any)(int mr, int masked, int mode, int rows, const float *a, long lda, const float *b,
                              const int *off, const int *tapOf, const CK_M *masks, float *y, long ldy,
                              const CK_NAME(tile_info) *info, const float *bias, int relu, float *partial) {
#define CK_TILE(R, M, C) CK_NAME(tile)(R, M, C, rows, a, lda, b, off, tapOf, masks, y, ldy, info, bias, relu, partial)
#define CK_MODES(R, M)                                                                                          \
    switch (mode) {                                                                                             \
    case 0: CK_TILE(R, M, 0); break;                                                                            \
    case 1: CK_TILE(R, M, 1); break;                                                                            \
    case 2: CK_TILE(R, M, 2); break;                                                                            \
    default: CK_TILE(R, M, 3); break;                                                                           \
    }
#define CK_CASE(R)                                                                                              \
    case R:                                                                                                     \
        if (masked) { CK_MODES(R, 1) } else { CK_MODES(R, 0) }                                                  \
        break;
    switch (mr) {
        CK_CASE(1) CK_CASE(2) CK_CASE(3) CK_CASE(4) CK_CASE(5) CK_CASE(6)
#if CK_MR > 6
        CK_CASE(7) CK_CASE(8)
#endif
    default: break;
    }
#undef CK_CASE
#undef CK_MODES
#undef CK_TILE
}

/* Takes work items (a group of column tiles x a chunk of output-channel blocks) from *next until none is left.
   Within an item the reduction runs in chunks of rows: a block's weights for one chunk stay in L1 while the
   group's tiles pass, and the group's operands for that chunk in L2 while the blocks do. */
static void CK_NAME(run)(const ck_conv_plan *p, const float *image, const float *w, const float *bias, int relu,
                         float *y, long *next, const int *off, const int *tapOf, void *scratch) {
    const ck_conv_shape *s = &p->s;
    const int cg = s->in_channels / s->groups, og = s->out_channels / s->groups, kv = p->taps;
    const long lda = (long)cg * kv;
    const int oD = s->output[0], oH = s->output[1], oW = s->output[2], wq = p->q[2];
    const long slice = (long)p->q[1] * wq, outPlane = (long)oD * oH * oW, outSlice = (long)oH * oW;
    const int np = oH * wq, tps = p->tiles_per_slice;
    const long tiles = (long)s->batch * oD * tps; /* per group of channels */
    const int mblocks = (og + CK_MR - 1) / CK_MR;
    CK_NAME(tile_info) *info = scratch;
    CK_M *masks = (CK_M *)((char *)scratch + CK_ALIGN64(sizeof(CK_NAME(tile_info)) * p->tiles_per_group));
    uint32_t *bits = (uint32_t *)(masks + (long)p->tiles_per_group * kv * CK_NV);
    float *partials = (float *)((char *)bits + CK_ALIGN64(sizeof(uint32_t) * kv));
    const int chunks = (int)((lda + p->k_chunk - 1) / p->k_chunk);
    for (;;) {
        const long item = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
        if (item >= p->items) break;
        const int mc = (int)(item % p->m_chunks);
        const long gi = item / p->m_chunks;
        const int g = (int)(gi / p->groups_per_channel_group);
        const long t0 = gi % p->groups_per_channel_group * p->tiles_per_group;
        const int count = (int)(tiles - t0 < p->tiles_per_group ? tiles - t0 : p->tiles_per_group);
        for (int k = 0; k < count; k++) {
            const long t = t0 + k;
            const int tile = (int)(t % tps), od = (int)(t / tps % oD), n = (int)(t / ((long)tps * oD));
            const int j0 = tile * CK_NR;
            CK_NAME(tile_info) *ti = &info[k];
            /* Which lanes are real outputs (column < oW), and where they go in the compact output. */
            for (int v = 0; v < CK_NV; v++) {
                int j = j0 + v * CK_VL, end = j + CK_VL < np ? j + CK_VL : np;
                ti->nruns[v] = 0;
                while (j < end) {
                    int oh = j / wq, ow = j % wq;
                    if (ow >= oW) { j += wq - ow; continue; }
                    int len = oW - ow < end - j ? oW - ow : end - j;
                    ti->runs[v][ti->nruns[v]++] = (ck_run){j - (j0 + v * CK_VL), len, oh * oW + ow};
                    j += len;
                }
            }
            ti->masked = conv_lanes(p, od, j0, CK_NR, bits);
            if (ti->masked)
                for (int q = 0; q < kv; q++)
                    for (int v = 0; v < CK_NV; v++) masks[((long)k * kv + q) * CK_NV + v] = CK_MASK(bits[q] >> (v * CK_VL));
            ti->b = image + ((long)n * s->in_channels + (long)g * cg) * p->channel_stride + od * slice + j0;
            ti->y = y + ((long)n * s->out_channels + (long)g * og) * outPlane + od * outSlice;
        }
        const int mb0 = mc * p->blocks_per_chunk;
        const int mb1 = mb0 + p->blocks_per_chunk < mblocks ? mb0 + p->blocks_per_chunk : mblocks;
        for (int c = 0; c < chunks; c++) {
            const long k0 = (long)c * p->k_chunk;
            const int rows = (int)(lda - k0 < p->k_chunk ? lda - k0 : p->k_chunk);
            const int mode = chunks == 1 ? 0 : c == 0 ? 1 : c == chunks - 1 ? 3 : 2;
            for (int mb = mb0; mb < mb1; mb++) {
                const int m0 = mb * CK_MR, mr = og - m0 < CK_MR ? og - m0 : CK_MR;
                const float *a = w + ((long)g * og + m0) * lda + k0, *bm = bias ? bias + g * og + m0 : 0;
                /* The weights of the next block (or chunk) come from memory the first time: fetch them while
                   this block's tiles run. */
                const int lastBlock = mb + 1 == mb1, lastChunk = c + 1 == chunks;
                const float *nextA = lastBlock ? (lastChunk ? 0 : w + ((long)g * og + mb0 * CK_MR) * lda + k0 + rows)
                                               : a + CK_MR * lda;
                const int nextRows = lastBlock ? (int)(lda - k0 - rows < p->k_chunk ? lda - k0 - rows : p->k_chunk) : rows;
                const int lines = (nextRows * 4 + 63) / 64;
                for (int k = 0; k < count; k++) {
                    if (nextA)
                        for (int l = k * lines * CK_MR / count; l < (k + 1) * lines * CK_MR / count; l++)
                            __builtin_prefetch(nextA + (l / lines) * lda + (l % lines) * 16, 0, 2);
                    CK_NAME(tile_any)(mr, info[k].masked, mode, rows, a, lda, info[k].b, off + k0, tapOf + k0,
                                      masks + (long)k * kv * CK_NV, info[k].y + m0 * outPlane, outPlane, &info[k], bm,
                                      relu, partials + ((long)(mb - mb0) * count + k) * CK_MR * CK_NR);
                }
            }
        }
    }
}

static size_t CK_NAME(run_scratch)(const ck_conv_plan *p) {
    const long lda = (long)p->s.in_channels / p->s.groups * p->taps;
    const size_t partials = lda > p->k_chunk ? sizeof(float) * p->blocks_per_chunk * p->tiles_per_group * CK_MR * CK_NR : 0;
    return CK_ALIGN64(sizeof(CK_NAME(tile_info)) * p->tiles_per_group) +
           sizeof(CK_M) * p->tiles_per_group * p->taps * CK_NV + CK_ALIGN64(sizeof(uint32_t) * p->taps) + partials;
}

#undef CK_NR

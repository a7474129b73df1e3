/* Included by conv.c only, after conv_tile.h, once per ISA. Besides conv_tile.h's macros it uses:
     CK_SUB(a, b)
     CK_NAME(strided2)(p, phase, lo, hi)   lanes l = p[2l + phase], reading only elements lo <= e < hi of p
     CK_NAME(store_first)(p, v, n)         the first n lanes of v at p
     CK_NAME(store_pair)(p, a, b, n)       a0 b0 a1 b1 ... at p, the first n floats
   Winograd F(2x2, 3x3): input tiles d (4x4) become B^T d B, outputs A^T m A, with
     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] and A^T = [1 1 1 0; 0 1 -1 -1]. */

#define CK_NR (CK_VL * CK_NV)

/* The tiles of one block that share a tile row: `count` tiles from column tc0 of tile row tr, at lanes
   lane0 ... of the block. */
typedef struct {
    int tr, tc0, count, lane0;
} CK_NAME(segment);

static int CK_NAME(segments)(const ck_winograd_plan *p, int block, CK_NAME(segment) *seg) {
    const long tiles = (long)p->tiles_h * p->tiles_w;
    long t = (long)block * CK_NR, end = t + CK_NR < tiles ? t + CK_NR : tiles;
    int n = 0;
    while (t < end) {
        const int tr = (int)(t / p->tiles_w), tc = (int)(t % p->tiles_w);
        int count = p->tiles_w - tc < end - t ? p->tiles_w - tc : (int)(end - t);
        if (count > CK_VL) count = CK_VL; /* one vector of tiles at a time */
        seg[n++] = (CK_NAME(segment)){tr, tc, count, (int)(t - (long)block * CK_NR)};
        t += count;
    }
    return n;
}

/* V[xi][c][lane] = (B^T d B)[xi] for one depth slice (H x W, channel stride cstride) of `channels` channels. */
static void CK_NAME(input_tiles)(const float *x, long cstride, int H, int W, int channels, const CK_NAME(segment) *seg,
                                 int nseg, float *v) {
    for (int c = 0; c < channels; c++) {
        const float *plane = x + c * cstride;
        for (int s = 0; s < nseg; s++) {
            CK_V d[4][4];
            const int col0 = 2 * seg[s].tc0 - 1;
            for (int i = 0; i < 4; i++) {
                const int ir = 2 * seg[s].tr - 1 + i;
                if (ir < 0 || ir >= H) {
                    for (int j = 0; j < 4; j++) d[i][j] = CK_ZERO();
                    continue;
                }
                const float *row = plane + (long)ir * W + col0;
                /* Columns col0 + e must lie inside the row. */
                d[i][0] = CK_NAME(strided2)(row, 0, -col0, W - col0);
                d[i][1] = CK_NAME(strided2)(row, 1, -col0, W - col0);
                d[i][2] = CK_NAME(strided2)(row + 2, 0, -col0 - 2, W - col0 - 2);
                d[i][3] = CK_NAME(strided2)(row + 2, 1, -col0 - 2, W - col0 - 2);
            }
            CK_V t[4][4];
            for (int j = 0; j < 4; j++) {
                t[0][j] = CK_SUB(d[0][j], d[2][j]);
                t[1][j] = CK_ADD(d[1][j], d[2][j]);
                t[2][j] = CK_SUB(d[2][j], d[1][j]);
                t[3][j] = CK_SUB(d[1][j], d[3][j]);
            }
            float *dst = v + (long)c * CK_NR + seg[s].lane0;
            const long plane16 = (long)channels * CK_NR;
            for (int i = 0; i < 4; i++) {
                CK_NAME(store_first)(dst + (i * 4 + 0) * plane16, CK_SUB(t[i][0], t[i][2]), seg[s].count);
                CK_NAME(store_first)(dst + (i * 4 + 1) * plane16, CK_ADD(t[i][1], t[i][2]), seg[s].count);
                CK_NAME(store_first)(dst + (i * 4 + 2) * plane16, CK_SUB(t[i][2], t[i][1]), seg[s].count);
                CK_NAME(store_first)(dst + (i * 4 + 3) * plane16, CK_SUB(t[i][1], t[i][3]), seg[s].count);
            }
        }
    }
}

/* y[k] = A^T m A (+ bias, ReLU) for output channels [k0, k1) of `channels`, one depth slice (channel stride
   cstride). */
static void CK_NAME(output_tiles)(const float *m, int channels, int k0, int k1, const CK_NAME(segment) *seg, int nseg,
                                  int H, int W, long cstride, const float *bias, int relu, float *y) {
    const long plane16 = (long)channels * CK_NR;
    for (int k = k0; k < k1; k++) {
        const CK_V b = CK_SET1(bias ? bias[k] : 0.0f);
        for (int s = 0; s < nseg; s++) {
            const float *src = m + (long)k * CK_NR + seg[s].lane0;
            CK_V sum[4], dif[4];
            for (int j = 0; j < 4; j++) {
                const CK_V m0 = CK_LOADU(src + (0 * 4 + j) * plane16), m1 = CK_LOADU(src + (1 * 4 + j) * plane16);
                const CK_V m2 = CK_LOADU(src + (2 * 4 + j) * plane16), m3 = CK_LOADU(src + (3 * 4 + j) * plane16);
                sum[j] = CK_ADD(CK_ADD(m0, m1), m2);
                dif[j] = CK_SUB(CK_SUB(m1, m2), m3);
            }
            CK_V o[2][2] = {{CK_ADD(CK_ADD(sum[0], sum[1]), sum[2]), CK_SUB(CK_SUB(sum[1], sum[2]), sum[3])},
                            {CK_ADD(CK_ADD(dif[0], dif[1]), dif[2]), CK_SUB(CK_SUB(dif[1], dif[2]), dif[3])}};
            const int col = 2 * seg[s].tc0, cols = W - col < 2 * seg[s].count ? W - col : 2 * seg[s].count;
            for (int r = 0; r < 2; r++) {
                const int row = 2 * seg[s].tr + r;
                if (row >= H) break;
                CK_V e = CK_ADD(o[r][0], b), f = CK_ADD(o[r][1], b);
                if (relu) e = CK_MAX(e, CK_ZERO()), f = CK_MAX(f, CK_ZERO());
                CK_NAME(store_pair)(y + k * cstride + (long)row * W + col, e, f, cols);
            }
        }
    }
}

static size_t CK_NAME(winograd_scratch)(const ck_winograd_plan *p) {
    const ck_conv_shape *s = &p->s;
    return sizeof(float) * 16 * CK_NR * ((size_t)s->kernel[0] * s->in_channels + s->out_channels) +
           sizeof(int) * (size_t)s->kernel[0] * s->in_channels + 64;
}

/* An item is one block of tile positions of one sample and a chunk of output channels, through every depth
   slice: the transformed input slices the depth taps need (a rolling window of kD), 16 products per slice,
   then the outputs. */
static void CK_NAME(winograd)(const ck_winograd_plan *p, const float *x, const float *u, const float *bias, int relu,
                              float *y, long *next, float *scratch) {
    const ck_conv_shape *s = &p->s;
    const int C = s->in_channels, K = s->out_channels, kD = s->kernel[0], D = s->input[0], H = s->input[1],
              W = s->input[2];
    const long hw = (long)H * W, slot = 16L * C * CK_NR;
    float *window = scratch, *m = window + kD * slot;
    int *off = (int *)(m + 16L * K * CK_NR);
    CK_NAME(segment) seg[CK_NR];
    /* Products land in m[xi][k][lane]: whole vectors, no padding to drop. */
    CK_NAME(tile_info) info;
    for (int v = 0; v < CK_NV; v++) info.nruns[v] = 1, info.runs[v][0] = (ck_run){0, CK_VL, v * CK_VL};
    /* Lanes of no tile (in a last, partial block) are never stored; start them at zero so they hold no NaN. */
    memset(window, 0, sizeof(float) * kD * slot);
    for (;;) {
        const long item = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
        if (item >= p->items) break;
        const int mc = (int)(item % p->m_chunks), block = (int)(item / p->m_chunks % p->blocks);
        const int n = (int)(item / p->m_chunks / p->blocks);
        const int k0 = mc * p->channels_per_chunk, k1 = k0 + p->channels_per_chunk < K ? k0 + p->channels_per_chunk : K;
        const int nseg = CK_NAME(segments)(p, block, seg);
        const float *xs = x + (long)n * C * D * hw;
        float *ys = y + (long)n * K * D * hw;
        for (int z = 0; z < kD / 2 && z < D; z++)
            CK_NAME(input_tiles)(xs + z * hw, (long)D * hw, H, W, C, seg, nseg, window + z % kD * slot);
        for (int od = 0; od < D; od++) {
            const int ahead = od + kD / 2; /* the deepest slice this output reads */
            if (ahead < D) CK_NAME(input_tiles)(xs + ahead * hw, (long)D * hw, H, W, C, seg, nseg, window + ahead % kD * slot);
            /* Depth taps whose slice exists, and each reduction row's operands in the window. */
            const int kd0 = od - kD / 2 < 0 ? kD / 2 - od : 0, kd1 = od + kD / 2 >= D ? kD / 2 + D - od : kD;
            for (int kd = kd0; kd < kd1; kd++)
                for (int c = 0; c < C; c++) off[(kd - kd0) * C + c] = (int)((od + kd - kD / 2) % kD * slot + (long)c * CK_NR);
            const int rows = (kd1 - kd0) * C;
            for (int xi = 0; xi < 16; xi++)
                for (int m0 = k0; m0 < k1; m0 += CK_MR) {
                    const int mr = k1 - m0 < CK_MR ? k1 - m0 : CK_MR;
                    CK_NAME(tile_any)(mr, 0, 0, rows, u + (((long)xi * K + m0) * kD + kd0) * C, (long)kD * C,
                                      window + (long)xi * C * CK_NR, off, 0, 0, m + ((long)xi * K + m0) * CK_NR, CK_NR,
                                      &info, 0, 0, 0);
                }
            CK_NAME(output_tiles)(m, K, k0, k1, seg, nseg, H, W, (long)D * hw, bias, relu, ys + od * hw);
        }
    }
}

#undef CK_NR

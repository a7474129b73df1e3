#ifndef CK_WINOGRAD_H
#define CK_WINOGRAD_H

#include <stddef.h>

#include "ck_conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Winograd F(2x2, 3x3) for 3x3 stride-1 "same" convolutions, in 2D and, with a 3-deep (or 1-deep) kernel, in
   3D: each 2x2 block of outputs comes from a 4x4 input tile transformed into 16 values, and the convolution
   becomes 16 independent products of (output x input channels) by (input channels x tiles) over the kernel's
   depth taps, on the direct kernel's tiles: 2.25x fewer multiplications. Transforms use only additions and
   halves, so it rounds about as the direct convolution does (measured in docs/engine.md). */

typedef struct {
    ck_conv_shape s;
    ck_isa isa;
    int tiles_h, tiles_w; /* 2x2 output tiles per column / row */
    int blocks;           /* blocks of tile positions per sample (one kernel tile of lanes each) */
    int m_chunks;         /* output-channel chunks per block (to give every worker work) */
    int channels_per_chunk;
    long items;           /* batch x blocks x m_chunks */
} ck_winograd_plan;

/* Plans for `parts` workers. Returns 0 when the shape is not one this covers (see above: groups 1, kernel 3x3 or 3x3x3 / 1x3x3, stride
   and dilation 1, padding 1 (depth: kernel / 2)) or when the image is too narrow for it to pay (under 28
   columns; under 14 for 3x3x3 kernels), or the ISA is not supported. */
int ck_winograd_plan_init(ck_winograd_plan *plan, const ck_conv_shape *shape, ck_isa isa, int parts);

/* Floats of the transformed weights: 16 x out x depth taps x in. */
size_t ck_winograd_weight_floats(const ck_winograd_plan *plan);

/* Transforms the weights (O x C x kD x 3 x 3) of output channels [lo, hi) into u. */
void ck_winograd_weights(const ck_winograd_plan *plan, const float *w, float *u, int lo, int hi);

/* y = conv(x, w) + bias (may be NULL), then ReLU when relu != 0, from the transformed weights u. Workers take
   items from *next_item (zero before the first starts) until none is left. */
void ck_winograd_run(const ck_winograd_plan *plan, const float *x, const float *u, const float *bias, int relu,
                     float *y, long *next_item);

#ifdef __cplusplus
}
#endif

#endif

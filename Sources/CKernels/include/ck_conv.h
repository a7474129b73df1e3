#ifndef CK_CONV_H
#define CK_CONV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Direct convolution kernels for x86-64 (AVX2+FMA and AVX-512F, chosen at run time). Swift has no per-function
   target attributes, so vectorised Swift compiles to the baseline SSE2 ISA; these kernels exist because they
   measured 8x faster than the same loop in Swift SIMD types (docs/engine.md, Speed).

   The convolution is a GEMM (output channels x output positions, reduced over kernel taps x input channels)
   whose right-hand matrix is never materialised: for every tap, consecutive outputs read consecutive inputs,
   so the inner kernel loads its operands straight from the image at a per-tap offset. With stride 1 (and the
   output as wide as the input) that image is the input itself and lanes falling in the padding are masked.
   Otherwise the input is first copied into a zero-padded "phase" image, one sub-image per stride phase; its
   rows are a little wider than the output's, and the extra columns are dropped at the store. */

typedef enum { CK_ISA_NONE = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 } ck_isa;

/* The best ISA this CPU and OS support. */
ck_isa ck_best_isa(void);

/* N x C x D x H x W input (2D convolutions use depth 1 and a 1-deep kernel), weight O x C/groups x kD x kH x kW. */
typedef struct {
    int batch, in_channels, out_channels, groups;
    int input[3], output[3];
    int kernel[3], stride[3], padding[3], dilation[3];
} ck_conv_shape;

typedef struct {
    ck_conv_shape s;
    ck_isa isa;
    int phases[3];          /* stride phases kept per dimension */
    int phase_of[3][8];     /* stride phase value -> kept phase index */
    int q[3];               /* phase image extent (D, H, W) */
    long phase_volume;      /* q[0]*q[1]*q[2] */
    long channel_stride;    /* floats per input channel in the phase image */
    int in_place;           /* tiles read the input itself (stride 1, output as wide as the input) */
    int taps;               /* kernel volume */
    int tiles_per_slice;    /* column tiles over one output depth slice */
    int tiles_per_group;    /* column tiles per work item */
    long groups_per_channel_group; /* tile groups over batch x output depth x tiles_per_slice */
    int blocks_per_chunk;   /* output-channel blocks per work item */
    int k_chunk;            /* reduction rows (channel x tap) per pass over an item's tiles */
    int m_chunks;           /* chunks over one channel group's output channels */
    long items;             /* channel groups x tile groups x m_chunks */
    size_t scratch_floats;  /* phase image size (0 when in place) */
} ck_conv_plan;

/* Plans a convolution for `parts` workers (it sizes the work items). Returns 0 (and leaves the plan unusable) when the kernels do not
   cover it: no supported ISA, strides over 8, kernels over 64 wide or over 1024 taps. */
int ck_conv_plan_init(ck_conv_plan *plan, const ck_conv_shape *shape, ck_isa isa, int parts);

/* Writes the phase image of x into scratch (scratch_floats floats); worker `part` of `parts`. */
void ck_conv_prepare(const ck_conv_plan *plan, const float *x, float *scratch, int part, int parts);

/* y = conv(x, w) + bias (may be NULL), then ReLU when relu != 0; `image` is the phase image (or x when in
   place). y is N x O x output, fully written once every worker has returned. Workers take items from
   *next_item (zero before the first starts) until none is left, so a worker the OS delays takes fewer. */
void ck_conv_run(const ck_conv_plan *plan, const float *image, const float *w, const float *bias, int relu,
                 float *y, long *next_item);

#ifdef __cplusplus
}
#endif

#endif

#ifndef CK_POOL_H
#define CK_POOL_H

#include <stdint.h>

#include "ck_conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A pooling window over (D, H, W) planes; 2D pooling uses depth 1. */
typedef struct {
    int input[3], output[3];
    int kernel[3], stride[3], padding[3], dilation[3];
} ck_window;

/* Max pooling of planes [lo, hi), each input[0]*input[1]*input[2] floats: the maximum of every window over its
   positions inside the input (padding is never selected) and that maximum's flat index in its plane. Ties keep
   the first position in (d, h, w) order and a NaN wins, as in PyTorch; a window with no position inside the
   input gives -infinity at index 0. Vectorised over output columns with AVX2 when isa allows (widths up to 64),
   scalar otherwise. Returns 0 only when out of memory. */
int ck_max_pool(const ck_window *w, ck_isa isa, const float *x, float *y, int32_t *arg, long lo, long hi);

/* Average pooling of planes [lo, hi): the sum over a window's positions inside the input divided by the whole
   window's size (PyTorch's count_include_pad=True), summed in (d, h, w) order. */
void ck_avg_pool(const ck_window *w, const float *x, float *y, long lo, long hi);

#ifdef __cplusplus
}
#endif

#endif

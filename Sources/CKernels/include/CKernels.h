/* The engine's C SIMD kernels: direct convolution and max pooling (see each header). */
#include "ck_conv.h"
#include "ck_pool.h"

/* The engine's C SIMD kernels (direct and Winograd convolution, pooling) and the malloc setting Swift cannot
   make; see each header. */
#include "ck_conv.h"
#include "ck_pool.h"
#include "ck_winograd.h"
#include "ck_memory.h"

#ifndef CK_BLAS_H
#define CK_BLAS_H

#include "ck_conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Debian's OpenBLAS 0.3.21 does not recognise Zen 4 / Zen 5 and runs its AVX2 (Haswell) kernels on them;
   its SkylakeX kernels, which need AVX-512 F/DQ/BW/VL, ran the engine's remaining GEMMs (training's backward
   passes) 1.2-1.7x faster there. On such a CPU, unless OPENBLAS_CORETYPE is set, this makes OpenBLAS pick its
   kernels again as OPENBLAS_CORETYPE=SkylakeX would at load time. Call once, before any BLAS call. Returns 1
   when it switched. */
int ck_blas_prefer_avx512(void);

#ifdef __cplusplus
}
#endif

#endif

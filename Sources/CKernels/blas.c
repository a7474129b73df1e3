#include "ck_blas.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

/* OpenBLAS's own entry points, resolved from the libopenblas the executable links (weak: absent, nothing to do). */
extern char *openblas_get_corename(void) __attribute__((weak));
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

static int has_avx512_blas_isa(void) {
    unsigned a, b, c, d;
    if (ck_best_isa() != CK_ISA_AVX512 || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const unsigned dq = 1u << 17, bw = 1u << 30, vl = 1u << 31;
    return (b & (dq | bw | vl)) == (dq | bw | vl);
}

int ck_blas_prefer_avx512(void) {
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    if (getenv("OPENBLAS_CORETYPE") || !has_avx512_blas_isa()) return 0;
    const char *core = openblas_get_corename();
    if (!core || (strcmp(core, "Haswell") != 0 && strcmp(core, "Zen") != 0)) return 0;
    /* What OPENBLAS_CORETYPE=SkylakeX does at load time: pick the kernel table again. */
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    core = openblas_get_corename();
    return core && strcmp(core, "SkylakeX") == 0;
}
#else
int ck_blas_prefer_avx512(void) { return 0; }
#endif

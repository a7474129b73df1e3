/* Included by conv.c after each ISA's kernels: ends that ISA's definitions and target attribute. */
#undef CK_NAME
#undef CK_VL
#undef CK_MR
#undef CK_NV
#undef CK_V
#undef CK_M
#undef CK_ZERO
#undef CK_LOADU
#undef CK_MLOAD
#undef CK_SET1
#undef CK_FMA
#undef CK_ADD
#undef CK_SUB
#undef CK_MAX
#undef CK_STOREU
#undef CK_STORE_RUN
#undef CK_MASK
#pragma clang attribute pop

// AVX2/FMA build of the kernels. area.cmake compiles this file alone with
// -mavx2 -mfma -mf16c, and quant.cpp calls it only when the CPU reports both.
#include "engine/kernels.h"

#define KERNEL_NAMESPACE avx2
#include "engine/kernel_body.inc"

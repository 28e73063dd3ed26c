// Internal: the two kernel builds that quant.cpp dispatches between.
// `scratch` has room for at least weight.columns floats.
#pragma once

#include "engine/quant.h"

namespace weir::engine {
namespace portable {
float DotImpl(const float* a, const float* b, int64_t n);
void DequantizeRowImpl(GgmlType type, const void* row, float* out, int64_t elements);
void MatMulRowsImpl(const WeightView& weight, const float* input, int64_t in_stride,
                    int64_t tokens, float* out, int64_t out_stride, int64_t row_begin,
                    int64_t row_end, float* scratch);
}  // namespace portable
namespace avx2 {
float DotImpl(const float* a, const float* b, int64_t n);
void DequantizeRowImpl(GgmlType type, const void* row, float* out, int64_t elements);
void MatMulRowsImpl(const WeightView& weight, const float* input, int64_t in_stride,
                    int64_t tokens, float* out, int64_t out_stride, int64_t row_begin,
                    int64_t row_end, float* scratch);
}  // namespace avx2
}  // namespace weir::engine

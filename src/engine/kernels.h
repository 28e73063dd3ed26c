// Internal: the two kernel builds that quant.cpp dispatches between.
// `scratch` has room for max(columns, tokens * columns * 5 / 16 + 16) floats.
// `quantize_input` allows the 8-bit activation path.
#pragma once

#include "engine/quant.h"

namespace weir::engine {
namespace portable {
float DotImpl(const float* a, const float* b, int64_t n);
void DequantizeRowImpl(GgmlType type, const void* row, float* out, int64_t elements);
void MatMulRowsImpl(const WeightView& weight, const float* input, int64_t in_stride,
                    int64_t tokens, float* out, int64_t out_stride, int64_t row_begin,
                    int64_t row_end, float* scratch, bool quantize_input);
}  // namespace portable
namespace avx2 {
float DotImpl(const float* a, const float* b, int64_t n);
void DequantizeRowImpl(GgmlType type, const void* row, float* out, int64_t elements);
void MatMulRowsImpl(const WeightView& weight, const float* input, int64_t in_stride,
                    int64_t tokens, float* out, int64_t out_stride, int64_t row_begin,
                    int64_t row_end, float* scratch, bool quantize_input);
}  // namespace avx2
}  // namespace weir::engine

// Tensor element types of GGUF files and the kernels that read them:
// row dequantization and the matrix product of a weight matrix with a batch
// of f32 activations.
//
// Every function here is pure and thread-safe. The kernels exist twice, as a
// portable build and an AVX2/FMA build. Each call uses the AVX2 build when
// __builtin_cpu_supports reports AVX2, FMA and F16C.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace weir::engine {

// Numeric ids as stored in GGUF tensor infos (ggml's `ggml_type`).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

// Layout of one supported type: `block_elements` values stored in
// `block_bytes` bytes.
struct TypeTraits {
  const char* name;
  int block_elements;
  int block_bytes;
};

// Returns the traits of a type id read from a file, or nothing when Weir
// cannot read tensors of that type.
std::optional<TypeTraits> FindTypeTraits(uint32_t type_id);
// Name of a type id as ggml spells it ("Q4_K"), "type 7" for unknown ids.
std::string TypeName(uint32_t type_id);

// Bytes one row of `elements` values takes; `elements` must be a multiple of
// the block size.
size_t RowBytes(GgmlType type, int64_t elements);

float HalfToFloat(uint16_t half);
uint16_t FloatToHalf(float value);

// Converts one row of `elements` values to f32.
void DequantizeRow(GgmlType type, const void* row, float* out, int64_t elements);

// Weight matrix in GGUF layout: `rows` rows of `columns` values, row-major.
struct WeightView {
  GgmlType type = GgmlType::kF32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t columns = 0;
  size_t row_bytes = 0;
};

// Computes out[t * out_stride + r] = dot(weight row r, input row t) for the
// weight rows [row_begin, row_end) and the `tokens` input rows, each
// `weight.columns` floats long and `in_stride` apart.
void MatMulRows(const WeightView& weight, const float* input, int64_t in_stride, int64_t tokens,
                float* out, int64_t out_stride, int64_t row_begin, int64_t row_end);

// Returns the dot product of two f32 vectors of length n.
float DotProduct(const float* a, const float* b, int64_t n);

// Name of the kernel build in use: "avx2" or "portable".
const char* KernelName();
// Forces the portable kernels, so tests can compare both builds.
void ForcePortableKernels(bool portable);

// Turns the 8-bit activation path on (the default) or off. On AVX2, products
// with Q4_0, Q4_1, Q8_0 or Q4_K weights quantize the activations to 8 bits
// per 32 values and multiply in integers, as llama.cpp does. That is several
// times faster for decoding, and it perturbs the logits by the rounding of
// the activations. Off, every product uses f32.
void SetQuantizedActivations(bool enabled);

}  // namespace weir::engine

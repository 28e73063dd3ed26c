#include "engine/quant.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "engine/kernels.h"

namespace weir::engine {
namespace {

std::atomic<bool> force_portable{false};
std::atomic<bool> quantize_activations{true};

bool CpuHasAvx2() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                                __builtin_cpu_supports("f16c");
  return supported;
#else
  return false;
#endif
}

bool UseAvx2() { return !force_portable.load(std::memory_order_relaxed) && CpuHasAvx2(); }

}  // namespace

std::optional<TypeTraits> FindTypeTraits(uint32_t type_id) {
  switch (static_cast<GgmlType>(type_id)) {
    case GgmlType::kF32: return TypeTraits{"F32", 1, 4};
    case GgmlType::kF16: return TypeTraits{"F16", 1, 2};
    case GgmlType::kBF16: return TypeTraits{"BF16", 1, 2};
    case GgmlType::kQ4_0: return TypeTraits{"Q4_0", 32, 18};
    case GgmlType::kQ4_1: return TypeTraits{"Q4_1", 32, 20};
    case GgmlType::kQ8_0: return TypeTraits{"Q8_0", 32, 34};
    case GgmlType::kQ4_K: return TypeTraits{"Q4_K", 256, 144};
    case GgmlType::kQ5_K: return TypeTraits{"Q5_K", 256, 176};
    case GgmlType::kQ6_K: return TypeTraits{"Q6_K", 256, 210};
  }
  return std::nullopt;
}

std::string TypeName(uint32_t type_id) {
  if (auto traits = FindTypeTraits(type_id)) return traits->name;
  // Names of ggml types that exist but that Weir does not read.
  static const char* const kOtherNames[] = {
      nullptr, nullptr, nullptr, nullptr, "Q4_2", "Q4_3", "Q5_0", "Q5_1", nullptr, "Q8_1",
      "Q2_K", "Q3_K", nullptr, nullptr, nullptr, "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS",
      "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M"};
  if (type_id < sizeof(kOtherNames) / sizeof(kOtherNames[0]) && kOtherNames[type_id] != nullptr) {
    return kOtherNames[type_id];
  }
  return "type " + std::to_string(type_id);
}

size_t RowBytes(GgmlType type, int64_t elements) {
  const TypeTraits traits = *FindTypeTraits(static_cast<uint32_t>(type));
  return static_cast<size_t>(elements / traits.block_elements) * traits.block_bytes;
}

float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1F;
  uint32_t mantissa = half & 0x3FF;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      // Subnormal: shift until the leading one reaches the implicit bit.
      exponent = 127 - 15 + 1;
      while ((mantissa & 0x400) == 0) {
        mantissa <<= 1;
        --exponent;
      }
      mantissa &= 0x3FF;
      bits = sign | (exponent << 23) | (mantissa << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7F800000 | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

uint16_t FloatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  const uint32_t sign = (bits >> 16) & 0x8000;
  const int32_t exponent = static_cast<int32_t>((bits >> 23) & 0xFF) - 127 + 15;
  uint32_t mantissa = bits & 0x7FFFFF;
  if (((bits >> 23) & 0xFF) == 0xFF) return static_cast<uint16_t>(sign | 0x7C00 | (mantissa ? 0x200 : 0));
  if (exponent >= 31) return static_cast<uint16_t>(sign | 0x7C00);
  if (exponent <= 0) {
    if (exponent < -10) return static_cast<uint16_t>(sign);
    mantissa |= 0x800000;
    const int shift = 14 - exponent;
    uint32_t half = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
  const uint32_t remainder = mantissa & 0x1FFF;
  if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1))) ++half;
  return static_cast<uint16_t>(half);
}

void DequantizeRow(GgmlType type, const void* row, float* out, int64_t elements) {
  if (UseAvx2()) {
    avx2::DequantizeRowImpl(type, row, out, elements);
  } else {
    portable::DequantizeRowImpl(type, row, out, elements);
  }
}

void MatMulRows(const WeightView& weight, const float* input, int64_t in_stride, int64_t tokens,
                float* out, int64_t out_stride, int64_t row_begin, int64_t row_end) {
  thread_local std::vector<float> scratch;
  // The row buffer (columns floats), or the 8-bit copies of the inputs plus
  // two floats per 32-value block: tokens * 1.25 * columns bytes.
  const int64_t needed = std::max(weight.columns, (tokens * weight.columns * 5 + 15) / 16 + 16);
  if (static_cast<int64_t>(scratch.size()) < needed) scratch.resize(static_cast<size_t>(needed));
  if (UseAvx2()) {
    avx2::MatMulRowsImpl(weight, input, in_stride, tokens, out, out_stride, row_begin, row_end,
                         scratch.data(), quantize_activations.load(std::memory_order_relaxed));
  } else {
    portable::MatMulRowsImpl(weight, input, in_stride, tokens, out, out_stride, row_begin,
                             row_end, scratch.data(), false);
  }
}

float DotProduct(const float* a, const float* b, int64_t n) {
  return UseAvx2() ? avx2::DotImpl(a, b, n) : portable::DotImpl(a, b, n);
}

const char* KernelName() { return UseAvx2() ? "avx2" : "portable"; }

void ForcePortableKernels(bool portable) { force_portable.store(portable); }

void SetQuantizedActivations(bool enabled) { quantize_activations.store(enabled); }

}  // namespace weir::engine

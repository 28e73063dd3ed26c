#include "engine/quant.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

TEST(QuantTest, HalfRoundTripsExactValues) {
  for (float value : {0.0f, 1.0f, -2.5f, 65504.0f, 0.000061035156f, 5.9604645e-08f}) {
    EXPECT_EQ(HalfToFloat(FloatToHalf(value)), value) << value;
  }
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(1e6f))));
}

TEST(QuantTest, DequantizesQ8_0Block) {
  uint8_t block[34];
  const uint16_t scale = FloatToHalf(0.5f);
  std::memcpy(block, &scale, 2);
  for (int i = 0; i < 32; ++i) block[2 + i] = static_cast<uint8_t>(static_cast<int8_t>(i - 16));
  float out[32];
  DequantizeRow(GgmlType::kQ8_0, block, out, 32);
  for (int i = 0; i < 32; ++i) EXPECT_FLOAT_EQ(out[i], 0.5f * static_cast<float>(i - 16));
}

TEST(QuantTest, DequantizesQ4_1Block) {
  uint8_t block[20];
  const uint16_t scale = FloatToHalf(2.0f), minimum = FloatToHalf(-1.0f);
  std::memcpy(block, &scale, 2);
  std::memcpy(block + 2, &minimum, 2);
  for (int i = 0; i < 16; ++i) block[4 + i] = static_cast<uint8_t>((15 - i) << 4 | i);
  float out[32];
  DequantizeRow(GgmlType::kQ4_1, block, out, 32);
  for (int i = 0; i < 16; ++i) {
    EXPECT_FLOAT_EQ(out[i], 2.0f * static_cast<float>(i) - 1.0f);
    EXPECT_FLOAT_EQ(out[i + 16], 2.0f * static_cast<float>(15 - i) - 1.0f);
  }
}

TEST(QuantTest, UnsupportedTypesHaveNames) {
  EXPECT_FALSE(FindTypeTraits(6).has_value());
  EXPECT_EQ(TypeName(6), "Q5_0");
  EXPECT_EQ(TypeName(12), "Q4_K");
  EXPECT_EQ(TypeName(999), "type 999");
}

// The AVX2 and portable builds must agree on every type.
TEST(QuantTest, Avx2AndPortableMatMulAgree) {
  std::mt19937 random(42);
  const int64_t columns = 512, rows = 7, tokens = 3;
  std::vector<float> input(static_cast<size_t>(columns * tokens));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& value : input) value = normal(random);
  for (GgmlType type : {GgmlType::kF32, GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0,
                        GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ4_K, GgmlType::kQ5_K,
                        GgmlType::kQ6_K}) {
    const size_t row_bytes = RowBytes(type, columns);
    std::vector<uint8_t> weights(row_bytes * rows);
    for (uint8_t& byte : weights) byte = static_cast<uint8_t>(random());
    // Keep every f16 field finite: overwrite any with the exponent all ones.
    if (type == GgmlType::kF16 || type == GgmlType::kBF16 || type == GgmlType::kF32) {
      for (size_t i = 0; i + 1 < weights.size(); i += 2) weights[i + 1] &= 0x3B;
    } else {
      for (size_t i = 0; i + 1 < weights.size(); i += 2) {
        if ((weights[i + 1] & 0x7C) == 0x7C) weights[i + 1] &= 0x3B;
      }
    }
    WeightView view{type, weights.data(), rows, columns, row_bytes};
    std::vector<float> fast(static_cast<size_t>(rows * tokens)), portable(fast.size());
    std::vector<float> quantized(fast.size());
    SetQuantizedActivations(false);
    MatMulRows(view, input.data(), columns, tokens, fast.data(), rows, 0, rows);
    SetQuantizedActivations(true);
    MatMulRows(view, input.data(), columns, tokens, quantized.data(), rows, 0, rows);
    ForcePortableKernels(true);
    MatMulRows(view, input.data(), columns, tokens, portable.data(), rows, 0, rows);
    ForcePortableKernels(false);

    std::vector<float> row(static_cast<size_t>(columns));
    for (int64_t r = 0; r < rows; ++r) {
      DequantizeRow(type, weights.data() + r * row_bytes, row.data(), columns);
      for (int64_t t = 0; t < tokens; ++t) {
        const size_t i = static_cast<size_t>(t * rows + r);
        if (std::isnan(portable[i])) continue;
        EXPECT_NEAR(fast[i], portable[i], 1e-3f * std::max(1.0f, std::fabs(portable[i])))
            << TypeName(static_cast<uint32_t>(type)) << " index " << i;
        // 8-bit activations: the error is bounded by the rounding of each
        // input value (at most 1/254 of its block's maximum) times |w|.
        double bound = 0;
        for (int64_t k = 0; k < columns; ++k) {
          bound += std::fabs(row[static_cast<size_t>(k)]) * std::fabs(input[static_cast<size_t>(t * columns + k)]);
        }
        EXPECT_NEAR(quantized[i], portable[i], 0.01 * bound + 1e-3)
            << TypeName(static_cast<uint32_t>(type)) << " index " << i;
      }
    }
  }
}

}  // namespace
}  // namespace weir::engine

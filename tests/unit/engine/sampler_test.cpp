#include "engine/sampler.h"

#include <vector>

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

std::vector<float> Logits() { return {0.1f, 2.0f, 1.5f, -1.0f, 1.9f}; }

TEST(SamplerTest, ZeroTemperatureIsGreedy) {
  SamplingParams params;
  params.temperature = 0;
  Sampler sampler(params);
  auto logits = Logits();
  EXPECT_EQ(sampler.Sample(logits.data(), 5), 1);
}

TEST(SamplerTest, TopKOneIsGreedy) {
  SamplingParams params;
  params.top_k = 1;
  Sampler sampler(params);
  for (int i = 0; i < 20; ++i) {
    auto logits = Logits();
    EXPECT_EQ(sampler.Sample(logits.data(), 5), 1);
  }
}

TEST(SamplerTest, SeedReproducesSequence) {
  SamplingParams params;
  params.seed = 99;
  params.has_seed = true;
  Sampler first(params), second(params);
  for (int i = 0; i < 50; ++i) {
    auto a = Logits(), b = Logits();
    EXPECT_EQ(first.Sample(a.data(), 5), second.Sample(b.data(), 5));
  }
}

TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  SamplingParams params;
  params.min_p = 0.5f;
  params.seed = 1;
  params.has_seed = true;
  Sampler sampler(params);
  for (int i = 0; i < 200; ++i) {
    auto logits = Logits();
    const int token = sampler.Sample(logits.data(), 5);
    EXPECT_TRUE(token == 1 || token == 2 || token == 4) << token;
  }
}

TEST(SamplerTest, RepetitionPenaltyChangesGreedyPick) {
  SamplingParams params;
  params.temperature = 0;
  params.repetition_penalty = 2.0f;
  Sampler sampler(params);
  sampler.Accept(1, false);
  auto logits = Logits();
  EXPECT_EQ(sampler.Sample(logits.data(), 5), 4);  // 2.0 / 2 < 1.9.
}

TEST(SamplerTest, PresencePenaltyAppliesToGenerated) {
  SamplingParams params;
  params.temperature = 0;
  params.presence_penalty = 0.5f;
  Sampler sampler(params);
  sampler.Accept(1, true);
  auto logits = Logits();
  EXPECT_EQ(sampler.Sample(logits.data(), 5), 4);
}

TEST(SamplerTest, ValidateNamesField) {
  SamplingParams params;
  params.top_p = 0;
  Status status = params.Validate();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().param, "top_p");
  EXPECT_EQ(status.error().http_status, 400);
}

}  // namespace
}  // namespace weir::engine

#include "engine/chat_template.h"

#include <gtest/gtest.h>

namespace weir::engine {
namespace {

TEST(ChatTemplateTest, ChatMlUsesDefaultSystemPrompt) {
  const std::string source =
      "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are Bob.<|im_end|>\n' }}"
      "{% endif %}{{'<|im_start|>' + message['role'] + '\n'}}";
  auto chat_template = ChatTemplate::Select(source, "");
  ASSERT_TRUE(chat_template.ok());
  auto prompt = chat_template->Render({{"user", "hi"}}, "");
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(*prompt, "<|im_start|>system\nYou are Bob.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                     "<|im_start|>assistant\n");
}

TEST(ChatTemplateTest, UnknownTemplateNamesOverride) {
  auto chat_template = ChatTemplate::Select("{{ messages }}", "");
  ASSERT_FALSE(chat_template.ok());
  EXPECT_NE(chat_template.error().message.find("chat_template"), std::string::npos);
  EXPECT_FALSE(ChatTemplate::Select("", "alpaca").ok());
  EXPECT_TRUE(ChatTemplate::Select("", "llama3").ok());
}

TEST(ChatTemplateTest, RejectsToolRole) {
  auto chat_template = ChatTemplate::Select("", "chatml");
  ASSERT_TRUE(chat_template.ok());
  auto prompt = chat_template->Render({{"tool", "x"}}, "");
  ASSERT_FALSE(prompt.ok());
  EXPECT_EQ(prompt.error().param, "messages[0].role");
}

TEST(ChatTemplateTest, DeepSeekR1DropsOldReasoning) {
  auto chat_template = ChatTemplate::Select("", "deepseek-r1");
  ASSERT_TRUE(chat_template.ok());
  auto prompt = chat_template->Render({{"user", "a"}, {"assistant", "<think>x</think>b"}, {"user", "c"}}, "<s>");
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(*prompt, "<s><｜User｜>a<｜Assistant｜>b<｜end▁of▁sentence｜><｜User｜>c<｜Assistant｜><think>\n");
}

}  // namespace
}  // namespace weir::engine

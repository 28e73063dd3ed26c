#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "deploy/renderer.h"
#include "detect/detector.h"
#include "plan/catalogue.h"
#include "plan/inventory.h"
#include "plan/plan_json.h"
#include "plan/planner.h"

namespace weir::deploy {
namespace {

const std::string kFixtures = std::string(WEIR_SOURCE_DIR) + "/tests/fixtures/rollout";

plan::Plan FixturePlan(const std::string& nvml_fixture, const std::string& model) {
  auto catalogue = plan::LoadCatalogue(std::string(WEIR_SOURCE_DIR) + "/share/weir/catalogue.yaml");
  EXPECT_TRUE(catalogue.ok());
  plan::InventoryHost host;
  host.name = "node1";
  host.connection = "ssh";
  host.hardware.hostname = "node1";
  host.hardware.address = "10.0.0.5";
  host.hardware.cpu.usable_cpus = 16;
  host.hardware.memory.usable_bytes = host.hardware.memory.total_bytes = 15ULL << 30;
  if (!nvml_fixture.empty()) {
    setenv("WEIR_FAKE_NVML_FIXTURE", (kFixtures + "/nvml/" + nvml_fixture).c_str(), 1);
    host.hardware.gpu = detect::DetectGpusWithNvml(WEIR_FAKE_NVML_LIBRARY);
  }
  plan::PlanRequest request;
  request.model = model;
  request.concurrency = 4;
  auto result = plan::MakePlan(*catalogue, {host}, request);
  EXPECT_TRUE(result.ok());
  return result.ok() ? *result : plan::Plan{};
}

std::string Args(const plan::Plan& plan) {
  return Join(EngineArguments(ModelServers(plan).front(), plan, "/models", true), " ");
}

TEST(RenderTest, SamePlanGivesSameBytes) {
  const plan::Plan plan = FixturePlan("h200x8.txt", "deepseek-v3");
  auto reparsed = plan::ParsePlanJson(plan::PlanToJson(plan), "test");
  ASSERT_TRUE(reparsed.ok());
  for (const std::string target : {"compose", "systemd", "ansible", "terraform", "helm"}) {
    DeployOptions options;
    options.target = target;
    options.weir_binary = "/usr/local/bin/weir";
    auto first = Render(plan, options);
    auto second = Render(*reparsed, options);
    ASSERT_TRUE(first.ok()) << target << ": " << first.error().message;
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(*first, *second) << target;
    EXPECT_FALSE(first->empty()) << target;
  }
}

TEST(RenderTest, GatewayConfigListsUpstreamWithFullCanary) {
  const plan::Plan plan = FixturePlan("l40s.txt", "deepseek-r1-distill-qwen-7b");
  DeployOptions options;
  const YAML::Node config = YAML::Load(GatewayConfig(plan, options, "0.0.0.0:8080", "other-host", false));
  EXPECT_EQ(config["listen"].as<std::string>(), "0.0.0.0:8080");
  EXPECT_EQ(config["data_dir"].as<std::string>(), "/var/lib/weir");
  const YAML::Node model = config["models"][0];
  EXPECT_EQ(model["name"].as<std::string>(), "deepseek-r1-distill-qwen-7b");
  const YAML::Node upstream = model["upstreams"][0];
  EXPECT_EQ(upstream["url"].as<std::string>(), "http://10.0.0.5:8000/v1");
  EXPECT_EQ(upstream["weight"].as<int>(), 1);
  EXPECT_EQ(upstream["version"].as<std::string>(), "deepseek-r1-distill-qwen-7b-bf16");
  EXPECT_EQ(upstream["canary_weight"].as<int>(), 100);
}

TEST(RenderTest, CpuPlanBecomesBuiltinUpstream) {
  const plan::Plan plan = FixturePlan("", "deepseek-r1-distill-qwen-1.5b");
  DeployOptions options;
  const YAML::Node config = YAML::Load(GatewayConfig(plan, options, "0.0.0.0:8080", "node1", true));
  const YAML::Node upstream = config["models"][0]["upstreams"][0];
  EXPECT_EQ(upstream["kind"].as<std::string>(), "builtin");
  EXPECT_EQ(upstream["model_path"].as<std::string>(),
            "/var/lib/weir/models/DeepSeek-R1-Distill-Qwen-1.5B-Q8_0.gguf");
  EXPECT_EQ(upstream["threads"].as<int>(), 16);
  EXPECT_EQ(upstream["context_size"].as<int>(), 4096);
  EXPECT_EQ(upstream["parallel"].as<int>(), 4);
  EXPECT_EQ(upstream["canary_weight"].as<int>(), 100);
}

TEST(RenderTest, VllmFlagsFollowThePrecision) {
  const std::string native = Args(FixturePlan("h200x8.txt", "deepseek-v3"));
  EXPECT_NE(native.find("--tensor-parallel-size 8"), std::string::npos) << native;
  EXPECT_EQ(native.find("--quantization"), std::string::npos) << native;  // The checkpoint is FP8 already.
  EXPECT_NE(native.find("--max-num-seqs 4"), std::string::npos);

  const std::string fp8 = Args(FixturePlan("l40s.txt", "deepseek-r1-distill-qwen-32b"));
  EXPECT_NE(fp8.find("--quantization fp8"), std::string::npos) << fp8;
  EXPECT_NE(fp8.find("--dtype bfloat16"), std::string::npos) << fp8;

  const std::string awq = Args(FixturePlan("t4.txt", "deepseek-r1-distill-qwen-7b"));
  EXPECT_NE(awq.find("--quantization awq_marlin"), std::string::npos) << awq;
  EXPECT_NE(awq.find("--dtype float16"), std::string::npos) << awq;

  const std::string busy = Args(FixturePlan("busy_a6000.txt", "deepseek-r1-distill-qwen-14b"));
  EXPECT_NE(busy.find("--gpu-memory-utilization 0.60"), std::string::npos) << busy;  // (31 - 2.55) / 47 GiB.
}

TEST(RenderTest, GpusAreSelectedByUuid) {
  const plan::Plan plan = FixturePlan("rtx3090_3070.txt", "deepseek-r1-distill-qwen-14b");
  EXPECT_EQ(GpuIds(plan.deployments[0], "node1"), (std::vector<std::string>{"GPU-3090-aa01"}));
  DeployOptions options;
  options.target = "compose";
  auto files = Render(plan, options);
  ASSERT_TRUE(files.ok());
  const std::string& compose = files->at("node1/compose.yaml");
  EXPECT_NE(compose.find("device_ids: [\"GPU-3090-aa01\"]"), std::string::npos) << compose;
  EXPECT_NE(compose.find("CUDA_DEVICE_ORDER: PCI_BUS_ID"), std::string::npos);
}

TEST(RenderTest, SglangMultiNodeFlags) {
  auto catalogue = plan::LoadCatalogue(std::string(WEIR_SOURCE_DIR) + "/share/weir/catalogue.yaml");
  ASSERT_TRUE(catalogue.ok());
  auto hosts = plan::LoadInventory(kFixtures + "/inventory/two_h100_nodes.yaml", *catalogue, {});
  ASSERT_TRUE(hosts.ok());
  plan::PlanRequest request;
  request.model = "deepseek-r1";
  request.engine = "sglang";
  auto result = plan::MakePlan(*catalogue, *hosts, request);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->deployments.size(), 1u);
  const auto servers = ModelServers(*result);
  ASSERT_EQ(servers.size(), 2u);
  const std::string head = Join(EngineArguments(servers[0], *result, "/models", true), " ");
  const std::string worker = Join(EngineArguments(servers[1], *result, "/models", true), " ");
  EXPECT_NE(head.find("python3 -m sglang.launch_server --model-path deepseek-ai/DeepSeek-R1"), std::string::npos)
      << head;
  EXPECT_NE(head.find("--tp-size 8"), std::string::npos);
  EXPECT_NE(head.find("--pp-size 2 --nnodes 2 --node-rank 0 --dist-init-addr 10.0.0.11:5000"), std::string::npos);
  EXPECT_NE(worker.find("--node-rank 1"), std::string::npos) << worker;
}

TEST(RenderTest, EmptyPlanAndUnknownTargetAreRejected) {
  DeployOptions options;
  options.target = "compose";
  plan::Plan empty;
  empty.model = "deepseek-v3";
  auto nothing = Render(empty, options);
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(nothing.error().message.find("no deployments"), std::string::npos);

  options.target = "kubectl";
  auto unknown = Render(FixturePlan("l40s.txt", "deepseek-r1-distill-qwen-7b"), options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("kubectl"), std::string::npos);
}

}  // namespace
}  // namespace weir::deploy

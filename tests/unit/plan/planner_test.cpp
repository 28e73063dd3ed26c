#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "detect/detector.h"
#include "plan/byte_size.h"
#include "plan/catalogue.h"
#include "plan/inventory.h"
#include "plan/plan_json.h"
#include "plan/planner.h"

namespace weir::plan {
namespace {

const std::string kFixtures = std::string(WEIR_SOURCE_DIR) + "/tests/fixtures/rollout";

const Catalogue& TestCatalogue() {
  static const Catalogue catalogue = [] {
    auto loaded = LoadCatalogue(std::string(WEIR_SOURCE_DIR) + "/share/weir/catalogue.yaml");
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
    return *loaded;
  }();
  return catalogue;
}

// A host whose GPUs come from a fake NVML fixture, with 256 GiB of RAM.
InventoryHost GpuHost(const std::string& fixture) {
  setenv("WEIR_FAKE_NVML_FIXTURE", (kFixtures + "/nvml/" + fixture).c_str(), 1);
  InventoryHost host;
  host.name = "gpu-host";
  host.connection = "local";
  host.hardware.hostname = host.name;
  host.hardware.address = "127.0.0.1";
  host.hardware.cpu.usable_cpus = 32;
  host.hardware.memory.usable_bytes = host.hardware.memory.total_bytes = 256ULL << 30;
  host.hardware.gpu = detect::DetectGpusWithNvml(WEIR_FAKE_NVML_LIBRARY);
  return host;
}

// This machine as described by the /proc fixture with 16 GB of RAM and no GPU.
InventoryHost CpuHost16G() {
  detect::DetectOptions options;
  options.proc_root = kFixtures + "/proc-cpu16g";
  options.cgroup_root = kFixtures + "/empty-cgroup";
  options.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  options.nvidia_smi = "/nonexistent/nvidia-smi";
  options.model_dir = "/tmp";
  return LocalHost(options);
}

Plan MustPlan(const std::vector<InventoryHost>& hosts, const std::string& model, int context = 4096) {
  PlanRequest request;
  request.model = model;
  request.context = context;
  auto plan = MakePlan(TestCatalogue(), hosts, request);
  if (!plan.ok()) ADD_FAILURE() << plan.error().message;
  return plan.ok() ? *plan : Plan{};
}

bool Contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(PlannerTest, H200NodeRunsV3Fp8Tp8) {
  for (const std::string model : {"deepseek-v3", "deepseek-r1"}) {
    const Plan plan = MustPlan({GpuHost("h200x8.txt")}, model);
    ASSERT_EQ(plan.deployments.size(), 1u) << model;
    const Deployment& d = plan.deployments[0];
    EXPECT_EQ(d.precision, "FP8");
    EXPECT_EQ(d.tensor_parallel, 8);
    EXPECT_EQ(d.pipeline_parallel, 1);
    EXPECT_EQ(d.devices.size(), 8u);
    EXPECT_EQ(d.verdict, "fits");
    EXPECT_EQ(d.arithmetic.kv_bytes_per_token, 61u * (512 + 64) * 2);
  }
}

TEST(PlannerTest, TwoH100NodesShareV3Fp8) {
  auto hosts = LoadInventory(kFixtures + "/inventory/two_h100_nodes.yaml", TestCatalogue(), {});
  ASSERT_TRUE(hosts.ok()) << hosts.error().message;
  const Plan plan = MustPlan(*hosts, "deepseek-v3");
  ASSERT_EQ(plan.deployments.size(), 1u);
  const Deployment& d = plan.deployments[0];
  EXPECT_EQ(d.precision, "FP8");
  EXPECT_EQ(d.tensor_parallel, 8);
  EXPECT_EQ(d.pipeline_parallel, 2);
  EXPECT_EQ(d.hosts, (std::vector<std::string>{"h100-a", "h100-b"}));
  EXPECT_EQ(d.devices.size(), 16u);
  // One node alone cannot hold the FP8 weights.
  EXPECT_TRUE(Contains(plan.hosts[0].rejected, "FP8 on 8 x NVIDIA H100"));
}

TEST(PlannerTest, A100SuggestsLargestBf16Distill) {
  const Plan plan = MustPlan({GpuHost("a100_80g.txt")}, "deepseek-v3");
  EXPECT_TRUE(plan.deployments.empty());
  ASSERT_FALSE(plan.alternatives.empty());
  EXPECT_EQ(plan.alternatives[0].model, "deepseek-r1-distill-qwen-32b");
  EXPECT_EQ(plan.alternatives[0].precision, "BF16");
  const Error error = PlanError(plan);
  EXPECT_NE(error.message.find("fits on no host"), std::string::npos);
  EXPECT_NE(error.message.find("deepseek-r1-distill-qwen-32b BF16"), std::string::npos) << error.message;

  const Plan distill = MustPlan({GpuHost("a100_80g.txt")}, "deepseek-r1-distill-qwen-32b");
  ASSERT_EQ(distill.deployments.size(), 1u);
  EXPECT_EQ(distill.deployments[0].precision, "BF16");
}

TEST(PlannerTest, L40sAllowsFp8) {
  const Plan plan = MustPlan({GpuHost("l40s.txt")}, "deepseek-r1-distill-qwen-32b");
  ASSERT_EQ(plan.deployments.size(), 1u);
  EXPECT_EQ(plan.deployments[0].precision, "FP8");
  EXPECT_EQ(plan.deployments[0].tensor_parallel, 1);
}

TEST(PlannerTest, Fp8OnAdaNeedsCuda124Driver) {
  InventoryHost host = GpuHost("l40s.txt");
  host.hardware.gpu.cuda_driver_version = 12020;
  const Plan plan = MustPlan({host}, "deepseek-r1-distill-qwen-32b");
  ASSERT_EQ(plan.deployments.size(), 1u);
  EXPECT_NE(plan.deployments[0].precision, "FP8");
  EXPECT_TRUE(Contains(plan.hosts[0].rejected, "needs a driver that supports CUDA 12.4"));
}

TEST(PlannerTest, T4AndV100NeverGetBf16) {
  for (const std::string fixture : {"t4.txt", "v100.txt"}) {
    for (const Model& model : TestCatalogue().models) {
      const Plan plan = MustPlan({GpuHost(fixture)}, model.name);
      for (const Deployment& d : plan.deployments) {
        EXPECT_NE(d.precision, "BF16") << fixture << " " << model.name;
        EXPECT_NE(d.precision, "FP8") << fixture << " " << model.name;
      }
    }
  }
  const Plan v100 = MustPlan({GpuHost("v100.txt")}, "deepseek-r1-distill-qwen-7b");
  ASSERT_EQ(v100.deployments.size(), 1u);
  EXPECT_EQ(v100.deployments[0].precision, "FP16");
  EXPECT_TRUE(Contains(v100.deployments[0].warnings, "overflow"));
  EXPECT_TRUE(Contains(v100.hosts[0].rejected, "BF16 needs compute capability 8.0"));

  const Plan t4 = MustPlan({GpuHost("t4.txt")}, "deepseek-r1-distill-qwen-7b");
  ASSERT_EQ(t4.deployments.size(), 1u);
  EXPECT_EQ(t4.deployments[0].precision, "AWQ");
}

TEST(PlannerTest, MigInstancesAreTwoFortyGigabyteDevices) {
  const Plan plan = MustPlan({GpuHost("a100_mig.txt")}, "deepseek-r1-distill-qwen-14b");
  ASSERT_EQ(plan.deployments.size(), 2u);
  EXPECT_EQ(plan.deployments[0].devices.size(), 1u);
  EXPECT_EQ(plan.deployments[0].devices[0].uuid, "MIG-5c0e3d6e-0001");
  EXPECT_EQ(plan.deployments[1].devices[0].uuid, "MIG-5c0e3d6e-0002");
  EXPECT_EQ(plan.deployments[0].devices[0].memory_total_bytes, 40192ULL << 20);
  EXPECT_EQ(plan.deployments[0].arithmetic.total_bytes_per_device, 40192ULL << 20);
  EXPECT_NE(plan.deployments[0].port, plan.deployments[1].port);
}

TEST(PlannerTest, UnevenGpusAreNotSplitEvenly) {
  const Plan plan = MustPlan({GpuHost("rtx3090_3070.txt")}, "deepseek-r1-distill-qwen-14b");
  ASSERT_EQ(plan.deployments.size(), 1u);
  const Deployment& d = plan.deployments[0];
  EXPECT_EQ(d.tensor_parallel, 1);
  ASSERT_EQ(d.devices.size(), 1u);
  EXPECT_EQ(d.devices[0].uuid, "GPU-3090-aa01");
  ASSERT_EQ(plan.hosts[0].unused_devices.size(), 1u);
  EXPECT_NE(plan.hosts[0].unused_devices[0].find("GPU-3070-bb02"), std::string::npos);
}

TEST(PlannerTest, NvidiaSmiFallbackStillFindsGpus) {
  setenv("WEIR_FAKE_SMI_DATA", (kFixtures + "/smi-l40s").c_str(), 1);
  detect::DetectOptions options;
  options.proc_root = kFixtures + "/proc-cpu16g";
  options.cgroup_root = kFixtures + "/empty-cgroup";
  options.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  options.nvidia_smi = kFixtures + "/bin/nvidia-smi";
  options.model_dir = "/tmp";
  const InventoryHost host = LocalHost(options);
  EXPECT_EQ(host.hardware.gpu.source, "nvidia-smi");
  const Plan plan = MustPlan({host}, "deepseek-r1-distill-qwen-32b");
  ASSERT_FALSE(plan.deployments.empty());
  EXPECT_TRUE(plan.deployments[0].gpu);
  EXPECT_EQ(plan.deployments[0].devices[0].uuid, "GPU-l40s-smi-0");
}

TEST(PlannerTest, CpuOnlyHostUsesBuiltinGguf) {
  const InventoryHost host = CpuHost16G();
  EXPECT_EQ(host.hardware.gpu.source, "none");
  const Plan seven = MustPlan({host}, "deepseek-r1-distill-qwen-7b");
  ASSERT_EQ(seven.deployments.size(), 1u);
  EXPECT_EQ(seven.deployments[0].engine, "builtin");
  EXPECT_EQ(seven.deployments[0].precision, "Q8_0");
  EXPECT_EQ(seven.deployments[0].file, "DeepSeek-R1-Distill-Qwen-7B-Q8_0.gguf");

  const Plan fourteen = MustPlan({host}, "deepseek-r1-distill-qwen-14b");
  ASSERT_EQ(fourteen.deployments.size(), 1u);
  EXPECT_EQ(fourteen.deployments[0].engine, "builtin");
  EXPECT_EQ(fourteen.deployments[0].precision, "Q4_K_M");
  EXPECT_LE(fourteen.deployments[0].arithmetic.needed_bytes_per_device, host.hardware.memory.usable_bytes);
}

TEST(PlannerTest, BusyGpuIsPlannedFromFreeMemory) {
  const Plan plan = MustPlan({GpuHost("busy_a6000.txt")}, "deepseek-r1-distill-qwen-14b");
  ASSERT_EQ(plan.deployments.size(), 1u);
  const Deployment& d = plan.deployments[0];
  EXPECT_EQ(d.arithmetic.free_bytes_per_device, 31ULL << 30);
  EXPECT_EQ(d.arithmetic.total_bytes_per_device, 47ULL << 30);
  EXPECT_TRUE(Contains(d.notes, "planned from free memory")) << "notes: " << d.notes.size();
  EXPECT_TRUE(Contains(d.notes, "31.0 GiB free of 47.0 GiB"));
  EXPECT_NE(d.precision, "BF16");  // BF16 would fit the 47 GiB but not the 31 GiB free.
  EXPECT_LT(d.gpu_memory_fraction, 0.66);  // vLLM's fraction is of total memory.
}

TEST(PlannerTest, LongContextNeedsMoreKv) {
  const Plan short_context = MustPlan({GpuHost("rtx4090.txt")}, "deepseek-r1-distill-llama-8b", 4096);
  ASSERT_EQ(short_context.deployments.size(), 1u);
  EXPECT_EQ(short_context.deployments[0].precision, "BF16");
  EXPECT_LT(short_context.deployments[0].max_context, 131072);

  const Plan long_context = MustPlan({GpuHost("rtx4090.txt")}, "deepseek-r1-distill-llama-8b", 131072);
  ASSERT_EQ(long_context.deployments.size(), 1u);
  const Deployment& d = long_context.deployments[0];
  EXPECT_NE(d.precision, "BF16");
  EXPECT_EQ(d.arithmetic.kv_bytes_per_device, 131072ULL * 131072);  // 128 KiB per token x 128k tokens.
  EXPECT_TRUE(Contains(long_context.hosts[0].rejected, "BF16 on 1 x NVIDIA GeForce RTX 4090"));
}

TEST(PlannerTest, InvalidRequestsNameTheValue) {
  PlanRequest request;
  request.model = "deepseek-v9";
  auto unknown = MakePlan(TestCatalogue(), {CpuHost16G()}, request);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("deepseek-v9"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("deepseek-r1-distill-qwen-7b"), std::string::npos);

  request.model = "deepseek-r1-distill-qwen-7b";
  request.context = 1000000;
  auto too_long = MakePlan(TestCatalogue(), {CpuHost16G()}, request);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("131072"), std::string::npos);
}

TEST(PlanJsonTest, RoundTripIsByteIdentical) {
  const Plan plan = MustPlan({GpuHost("busy_a6000.txt")}, "deepseek-r1-distill-qwen-14b");
  const std::string json = PlanToJson(plan);
  auto parsed = ParsePlanJson(json, "test");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(PlanToJson(*parsed), json);
  EXPECT_FALSE(ParsePlanJson("{\"model\": 1}", "test").ok());
}

TEST(ByteSizeTest, AcceptsTheDocumentedForms) {
  EXPECT_EQ(*ParseByteSize("8G"), 8ULL << 30);
  EXPECT_EQ(*ParseByteSize("8GiB"), 8ULL << 30);
  EXPECT_EQ(*ParseByteSize("8192MiB"), 8ULL << 30);
  EXPECT_EQ(*ParseByteSize("8589934592"), 8ULL << 30);
  EXPECT_EQ(*ParseByteSize("8GB"), 8000000000ULL);
  EXPECT_EQ(*ParseByteSize("1.5 GiB"), 3ULL << 29);
  EXPECT_FALSE(ParseByteSize("eight").ok());
  EXPECT_FALSE(ParseByteSize("8XB").ok());
}

TEST(InventoryTest, YamlErrorNamesFileAndLine) {
  auto hosts = LoadInventory(kFixtures + "/inventory/broken.yaml", TestCatalogue(), {});
  ASSERT_FALSE(hosts.ok());
  EXPECT_NE(hosts.error().message.find("broken.yaml"), std::string::npos);
  EXPECT_NE(hosts.error().message.find("line 4"), std::string::npos) << hosts.error().message;
}

TEST(InventoryTest, UnknownGpuTypeListsKnownTypes) {
  auto hosts = ParseInventory("hosts:\n  - name: a\n    cuda: \"12.4\"\n    gpus: [{type: H900}]\n", ".", "inline",
                              TestCatalogue(), {});
  ASSERT_FALSE(hosts.ok());
  EXPECT_NE(hosts.error().message.find("H900"), std::string::npos);
  EXPECT_NE(hosts.error().message.find("H200"), std::string::npos);
}

}  // namespace
}  // namespace weir::plan

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "detect/detector.h"
#include "detect/inventory_json.h"

namespace weir::detect {
namespace {

const std::string kFixtures = std::string(WEIR_SOURCE_DIR) + "/tests/fixtures/rollout";

DetectOptions FixtureOptions(const std::string& proc, const std::string& cgroup) {
  DetectOptions options;
  options.proc_root = kFixtures + "/" + proc;
  options.cgroup_root = kFixtures + "/" + cgroup;
  options.os_release_path = kFixtures + "/os-release";
  options.model_dir = "/tmp";
  options.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  options.nvidia_smi = "/nonexistent/nvidia-smi";
  return options;
}

GpuInventory FakeNvml(const std::string& fixture) {
  setenv("WEIR_FAKE_NVML_FIXTURE", (kFixtures + "/nvml/" + fixture).c_str(), 1);
  return DetectGpusWithNvml(WEIR_FAKE_NVML_LIBRARY);
}

TEST(CpuListTest, CountsRangesAndSingles) {
  EXPECT_EQ(CountCpuList("0-3,8,10-11\n"), 7);
  EXPECT_EQ(CountCpuList("5"), 1);
  EXPECT_EQ(CountCpuList(""), 0);
  EXPECT_EQ(CountCpuList("3-1"), 0);
}

TEST(SystemDetectTest, CgroupV2QuotaCpusetAndMemoryLimit) {
  HostInventory host;
  DetectSystem(FixtureOptions("proc-v2", "cgroup-v2"), host);
  EXPECT_EQ(host.cpu.online_cpus, 8);
  EXPECT_EQ(host.cpu.cpuset_cpus, 6);
  EXPECT_DOUBLE_EQ(host.cpu.cgroup_quota_cpus, 2.5);
  EXPECT_EQ(host.cpu.usable_cpus, 3);
  EXPECT_EQ(host.cpu.model, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz");
  EXPECT_EQ(host.memory.available_bytes, 15200000ULL * 1024);
  EXPECT_EQ(host.memory.cgroup_limit_bytes, 8ULL << 30);
  EXPECT_EQ(host.memory.usable_bytes, 7ULL << 30);  // Limit minus usage, below MemAvailable.
  EXPECT_EQ(host.os, "Ubuntu 22.04.4 LTS");
}

TEST(SystemDetectTest, CgroupV1QuotaCpusetAndMemoryLimit) {
  HostInventory host;
  DetectSystem(FixtureOptions("proc-v1", "cgroup-v1"), host);
  EXPECT_EQ(host.cpu.cpuset_cpus, 3);
  EXPECT_DOUBLE_EQ(host.cpu.cgroup_quota_cpus, 3.0);
  EXPECT_EQ(host.cpu.usable_cpus, 3);
  EXPECT_EQ(host.memory.cgroup_limit_bytes, 4ULL << 30);  // The root's "unlimited" value is ignored.
  EXPECT_EQ(host.memory.usable_bytes, (4ULL << 30) - (512ULL << 20));
}

TEST(SystemDetectTest, NoCgroupLimitsUsesMemAvailable) {
  HostInventory host;
  DetectSystem(FixtureOptions("proc-cpu16g", "empty-cgroup"), host);
  EXPECT_EQ(host.cpu.usable_cpus, 8);
  EXPECT_EQ(host.memory.cgroup_limit_bytes, 0u);
  EXPECT_EQ(host.memory.usable_bytes, 15200000ULL * 1024);
}

TEST(NvmlDetectTest, FakeLibraryReportsEightH200) {
  const GpuInventory gpus = FakeNvml("h200x8.txt");
  ASSERT_EQ(gpus.source, "nvml") << gpus.note;
  ASSERT_EQ(gpus.devices.size(), 8u);
  EXPECT_EQ(gpus.driver_version, "550.54.15");
  EXPECT_EQ(gpus.cuda_driver_version, 12040);
  EXPECT_EQ(gpus.devices[0].uuid, "GPU-3d8e2a10-h200-0");
  EXPECT_EQ(gpus.devices[7].pci_bus_id, "00000000:1F:00.0");
  EXPECT_EQ(gpus.devices[3].ComputeCapability(), 90);
  EXPECT_EQ(gpus.devices[3].memory_total_bytes, 143771ULL << 20);
  EXPECT_EQ(gpus.devices[3].memory_free_bytes, 143180ULL << 20);
}

TEST(NvmlDetectTest, MigInstancesAreListedWithTheirMemory) {
  const GpuInventory gpus = FakeNvml("a100_mig.txt");
  ASSERT_EQ(gpus.devices.size(), 1u);
  const GpuDevice& gpu = gpus.devices[0];
  EXPECT_TRUE(gpu.mig_enabled);
  ASSERT_EQ(gpu.mig_instances.size(), 2u);
  EXPECT_EQ(gpu.mig_instances[0].uuid, "MIG-5c0e3d6e-0001");
  EXPECT_EQ(gpu.mig_instances[1].profile, "3g.40gb");
  EXPECT_EQ(gpu.mig_instances[1].memory_total_bytes, 40192ULL << 20);
}

TEST(NvmlDetectTest, InitFailureIsReportedWithNvmlMessage) {
  const GpuInventory gpus = FakeNvml("../nvml-init-error.txt");
  EXPECT_EQ(gpus.source, "none");
  EXPECT_NE(gpus.note.find("Driver Not Loaded"), std::string::npos) << gpus.note;
}

TEST(NvmlDetectTest, MissingLibraryNamesThePath) {
  const GpuInventory gpus = DetectGpusWithNvml("/nonexistent/libnvidia-ml.so.1");
  EXPECT_EQ(gpus.source, "none");
  EXPECT_NE(gpus.note.find("/nonexistent/libnvidia-ml.so.1"), std::string::npos);
}

TEST(NvidiaSmiDetectTest, CsvFallbackFindsGpusAndCudaVersion) {
  setenv("WEIR_FAKE_SMI_DATA", (kFixtures + "/smi-l40s").c_str(), 1);
  DetectOptions options = FixtureOptions("proc-cpu16g", "empty-cgroup");
  options.nvidia_smi = kFixtures + "/bin/nvidia-smi";
  const GpuInventory gpus = DetectGpus(options);
  ASSERT_EQ(gpus.source, "nvidia-smi") << gpus.note;
  ASSERT_EQ(gpus.devices.size(), 2u);
  EXPECT_EQ(gpus.devices[1].uuid, "GPU-l40s-smi-1");
  EXPECT_EQ(gpus.devices[1].ComputeCapability(), 89);
  EXPECT_EQ(gpus.devices[1].memory_free_bytes, 45520ULL << 20);
  EXPECT_EQ(gpus.cuda_driver_version, 12040);
  EXPECT_NE(gpus.note.find("NVML unavailable"), std::string::npos);
}

TEST(NvidiaSmiDetectTest, MigInstancesFromListing) {
  setenv("WEIR_FAKE_SMI_DATA", (kFixtures + "/smi-a100-mig").c_str(), 1);
  const GpuInventory gpus = DetectGpusWithNvidiaSmi(kFixtures + "/bin/nvidia-smi");
  ASSERT_EQ(gpus.devices.size(), 1u);
  ASSERT_EQ(gpus.devices[0].mig_instances.size(), 2u);
  EXPECT_EQ(gpus.devices[0].mig_instances[0].uuid, "MIG-smi-0001");
  EXPECT_EQ(gpus.devices[0].mig_instances[0].memory_total_bytes, 40ULL << 30);
  EXPECT_EQ(gpus.cuda_driver_version, 12020);
}

TEST(GpuDetectTest, NoNvmlNoSmiExplainsBoth) {
  const GpuInventory gpus = DetectGpus(FixtureOptions("proc-cpu16g", "empty-cgroup"));
  EXPECT_EQ(gpus.source, "none");
  EXPECT_TRUE(gpus.devices.empty());
  EXPECT_NE(gpus.note.find("NVML library"), std::string::npos) << gpus.note;
  EXPECT_NE(gpus.note.find("nvidia-smi"), std::string::npos) << gpus.note;
}

TEST(InventoryJsonTest, RoundTripKeepsGpusAndMig) {
  HostInventory host;
  host.hostname = "gpu-a";
  host.memory.usable_bytes = 123;
  host.gpu = FakeNvml("a100_mig.txt");
  auto parsed = ParseHostJson(HostToJson(host), "test");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->hostname, "gpu-a");
  EXPECT_EQ(parsed->memory.usable_bytes, 123u);
  EXPECT_EQ(parsed->gpu.cuda_driver_version, 12040);
  ASSERT_EQ(parsed->gpu.devices.size(), 1u);
  EXPECT_EQ(parsed->gpu.devices[0].ComputeCapability(), 80);
  EXPECT_EQ(parsed->gpu.devices[0].mig_instances.size(), 2u);
  EXPECT_EQ(HostToJson(*parsed), HostToJson(host));
}

}  // namespace
}  // namespace weir::detect

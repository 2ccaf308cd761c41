// What export decides before it writes: --dry-run's plan (nothing created, not even the
// folder; the planned sizes are what a real export writes; whether it fits), the tiers
// in table order whatever --tiers says, int4's block at awkward widths and the reason it
// is left out, and every graph's metadata_props (provenance, SPEC §10).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "export/export_disk.h"
#include "onnx/onnx_model.h"
#include "test_util/files.h"
#include "util/memory_disk.h"

namespace embed2onnx {
namespace {

// A float32 [v, d] table of small, distinct, finite values.
void WriteTable(const std::string& dir, int v, int d) {
  std::string data(static_cast<size_t>(v) * d * 4, '\0');
  for (int i = 0; i < v * d; ++i) {
    float x = static_cast<float>((i * 37) % 2001 - 1000) / 4096.0f;
    std::memcpy(data.data() + 4 * i, &x, 4);
  }
  const std::string header = R"({"model.embed_tokens.weight": {"dtype": "F32", "shape": [)" +
                             std::to_string(v) + ", " + std::to_string(d) + R"(], "data_offsets": [0, )" +
                             std::to_string(data.size()) + "]}}";
  test_util::WriteFile(dir + "/model.safetensors", test_util::SafetensorsBytes(header, data));
}

std::vector<std::string> TierNamesOf(const ExportSummary& s) {
  std::vector<std::string> names;
  for (const TierOutcome& t : s.tiers) names.push_back(t.tier);
  return names;
}

TEST(DryRunTest, PlansWithoutTouchingTheDiskAndThePlanIsWhatAnExportWrites) {
  test_util::TempDir ckpt;
  WriteTable(ckpt.path(), 1000, 64);
  ExportOptions o;
  o.model_dir = ckpt.path();
  o.out_dir = "/new/out";
  o.threads = 1;
  o.dry_run = true;
  MemoryDisk disk;
  disk.AddFolder("/new");
  const auto before = disk.Snapshot("/");
  Result<ExportSummary> plan = ExportTableOn(o, &disk);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_TRUE(plan->dry_run);
  EXPECT_TRUE(plan->fits);
  EXPECT_FALSE(plan->out_dir_exists);
  EXPECT_TRUE(disk.log().empty()) << disk.log().front();  // no create, no folder, no lock
  EXPECT_EQ(disk.Snapshot("/"), before);
  EXPECT_TRUE(disk.guarded().empty());
  EXPECT_EQ(TierNamesOf(*plan), (std::vector<std::string>{"fp32", "fp16w", "bf16w", "int8", "int4"}));
  EXPECT_EQ(plan->int4_block, 32u);
  EXPECT_GT(plan->bytes_needed, 1000u * 64 * 4);

  // The same export for real: every file has the planned size.
  test_util::TempDir out;
  o.out_dir = out.path();
  o.dry_run = false;
  Result<ExportSummary> real = ExportTable(o);
  ASSERT_TRUE(real.ok()) << real.status().message();
  ASSERT_EQ(real->tiers.size(), plan->tiers.size());
  for (size_t k = 0; k < real->tiers.size(); ++k) {
    const TierOutcome& t = real->tiers[k];
    EXPECT_EQ(std::filesystem::file_size(t.onnx_path), plan->tiers[k].onnx_bytes) << t.tier;
    EXPECT_EQ(std::filesystem::file_size(t.sidecar_path), plan->tiers[k].sidecar_bytes) << t.tier;
    EXPECT_EQ(std::filesystem::path(t.onnx_path).filename(),
              std::filesystem::path(plan->tiers[k].onnx_path).filename());
  }
}

TEST(DryRunTest, SaysWhenTheExportWouldNotFit) {
  test_util::TempDir ckpt;
  WriteTable(ckpt.path(), 1000, 64);
  ExportOptions o;
  o.model_dir = ckpt.path();
  o.out_dir = "/out";
  o.tiers = {"fp32"};
  o.dry_run = true;
  MemoryDisk disk;
  disk.AddFolder("/out");
  disk.SetCapacity(100 * 1024);  // the fp32 sidecar alone is 250 KiB
  Result<ExportSummary> plan = ExportTableOn(o, &disk);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_FALSE(plan->fits);
  EXPECT_TRUE(plan->out_dir_exists);
  EXPECT_GT(plan->bytes_needed, plan->bytes_free);
  EXPECT_TRUE(disk.log().empty());
}

TEST(DryRunTest, APathThatIsAFileIsRefusedAsTheExportWouldRefuseIt) {
  test_util::TempDir ckpt;
  WriteTable(ckpt.path(), 100, 64);
  ExportOptions o;
  o.model_dir = ckpt.path();
  o.out_dir = "/f/out";
  o.dry_run = true;
  MemoryDisk disk;
  disk.AddFile("/f", "not a folder");
  Result<ExportSummary> plan = ExportTableOn(o, &disk);
  ASSERT_FALSE(plan.ok());
  EXPECT_TRUE(disk.log().empty());
  o.dry_run = false;
  Result<ExportSummary> real = ExportTableOn(o, &disk);
  ASSERT_FALSE(real.ok());
  EXPECT_EQ(plan.status().message(), real.status().message());
  // A folder that is a file itself.
  o.dry_run = true;
  o.out_dir = "/f";
  plan = ExportTableOn(o, &disk);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(), "/f: exists and is not a folder");
}

TEST(ExportPlanTest, TiersGoInTableOrderWhateverTheOrderAsked) {
  test_util::TempDir ckpt;
  WriteTable(ckpt.path(), 100, 64);
  ExportOptions o;
  o.model_dir = ckpt.path();
  o.out_dir = "/out";
  o.tiers = {"int4", "fp32", "int8"};
  o.dry_run = true;
  MemoryDisk disk;
  disk.AddFolder("/");
  Result<ExportSummary> plan = ExportTableOn(o, &disk);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(TierNamesOf(*plan), (std::vector<std::string>{"fp32", "int8", "int4"}));
}

// The default int4 block at widths that have no block of 32, and what is left out.
TEST(ExportPlanTest, Int4NeverComesOutAsLargeAsTheTwoByteTiers) {
  struct Case {
    int d;
    uint32_t block;  // 0: int4 left out
  };
  for (const Case& c : {Case{64, 32}, Case{48, 24}, Case{40, 20}, Case{34, 34}, Case{38, 38}, Case{66, 22},
                        Case{74, 0}, Case{33, 0}, Case{6, 0}, Case{8, 8}}) {
    test_util::TempDir ckpt;
    WriteTable(ckpt.path(), 10, c.d);
    ExportOptions o;
    o.model_dir = ckpt.path();
    o.out_dir = "/out";
    o.dry_run = true;
    std::vector<std::string> notes;
    o.note = [&](const std::string& n) { notes.push_back(n); };
    MemoryDisk disk;
    disk.AddFolder("/");  // the root, as a real file system has it
    Result<ExportSummary> plan = ExportTableOn(o, &disk);
    ASSERT_TRUE(plan.ok()) << c.d << ": " << plan.status().message();
    EXPECT_EQ(plan->int4_block, c.block) << c.d;
    if (c.block == 0) {
      ASSERT_EQ(plan->left_out.size(), 1u) << c.d;
      EXPECT_EQ(plan->left_out[0].first, "int4");
      EXPECT_NE(plan->left_out[0].second.find("no int4 block fits the table width " + std::to_string(c.d)),
                std::string::npos)
          << plan->left_out[0].second;
      ASSERT_EQ(notes.size(), 1u);
      EXPECT_NE(notes[0].find("leaving out tier int4: no int4 block fits"), std::string::npos) << notes[0];
      EXPECT_EQ(plan->tiers.size(), 4u);
      continue;
    }
    EXPECT_TRUE(plan->left_out.empty()) << c.d;
    EXPECT_EQ(plan->tiers.back().tier, "int4") << c.d;
  }
}

TEST(ExportPlanTest, AnInt4BlockAsLargeAsTheTwoByteTiersIsRefused) {
  test_util::TempDir ckpt;
  WriteTable(ckpt.path(), 10, 64);
  ExportOptions o;
  o.model_dir = ckpt.path();
  o.out_dir = "/out";
  o.dry_run = true;
  o.int4_block = 2;
  MemoryDisk disk;
  disk.AddFolder("/");  // the root, as a real file system has it
  Result<ExportSummary> plan = ExportTableOn(o, &disk);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("--int4-block: 2 would make int4 1.5 bytes a value"),
            std::string::npos)
      << plan.status().message();
  o.int4_block = 4;
  EXPECT_TRUE(ExportTableOn(o, &disk).ok());
  // Asked for by name at a width with no default block: an error naming why, not a note.
  test_util::TempDir odd;
  WriteTable(odd.path(), 10, 33);
  o.model_dir = odd.path();
  o.int4_block = 0;
  o.tiers = {"int4"};
  plan = ExportTableOn(o, &disk);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("no int4 block fits the table width 33"), std::string::npos)
      << plan.status().message();
}

TEST(ProvenanceTest, EveryGraphSaysWhatMadeItFromWhatWithNoPathInIt) {
  test_util::TempDir ckpt;
  const std::string folder = ckpt.Join("my-model");
  std::filesystem::create_directory(folder);
  WriteTable(folder, 100, 64);
  test_util::TempDir out;
  ExportOptions o;
  o.model_dir = folder;
  o.out_dir = out.path();
  o.threads = 1;
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const TierOutcome& t : r->tiers) {
    auto model = LoadedModel::Load(t.onnx_path);
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::map<std::string, std::string> props;
    for (const auto& e : (*model)->proto().metadata_props()) props[e.key()] = e.value();
    std::map<std::string, std::string> want = {
        {"tool", "embed2onnx"},    {"tool_version", Version()},
        {"tier", t.tier},          {"source_tensor", "model.embed_tokens.weight"},
        {"source_dtype", "F32"},   {"source_shape", "[100, 64]"},
        {"checkpoint", "my-model"}};
    if (t.tier == "int4") want["int4_block"] = "32";
    EXPECT_EQ(props, want) << t.tier;
    for (const auto& [key, value] : props)
      EXPECT_EQ(value.find('/'), std::string::npos) << key << "=" << value;
  }
  // A caller naming the checkpoint (a repo id) gets that name.
  o.checkpoint_name = "org/name@abc123";
  o.tiers = {"fp32"};
  r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto model = LoadedModel::Load(r->tiers[0].onnx_path);
  ASSERT_TRUE(model.ok());
  bool found = false;
  for (const auto& e : (*model)->proto().metadata_props())
    if (e.key() == "checkpoint") found = e.value() == "org/name@abc123";
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace embed2onnx

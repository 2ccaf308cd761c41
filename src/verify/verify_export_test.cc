#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "embed2onnx/export.h"
#include "embed2onnx/verify.h"
#include "onnx/onnx_model.h"
#include "test_util/files.h"
#include "tiers/tier.h"

namespace embed2onnx {
namespace {
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;
namespace fs = std::filesystem;

constexpr uint64_t kV = 700, kD = 64;

// A float32 checkpoint written by hand, and its export with every tier.
class VerifyExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(8);
    std::normal_distribution<float> dist(0.0f, 0.03f);
    std::string data(kV * kD * 4, '\0');
    for (uint64_t i = 0; i < kV * kD; ++i) {
      float x = dist(rng);
      std::memcpy(data.data() + i * 4, &x, 4);
    }
    WriteFile(ckpt_.Join("model.safetensors"),
              SafetensorsBytes(R"({"model.embed_tokens.weight":{"dtype":"F32","shape":[)" +
                                   std::to_string(kV) + "," + std::to_string(kD) + R"(],"data_offsets":[0,)" +
                                   std::to_string(data.size()) + "]}}",
                               data));
    ExportOptions o;
    o.model_dir = ckpt_.path();
    o.out_dir = out_.Join("export");
    o.threads = 2;
    auto r = ExportTable(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  VerifyOptions Options() const {
    VerifyOptions v;
    v.export_dir = out_.Join("export");
    v.model_dir = ckpt_.path();
    v.random_ids = 64;
    v.threads = 2;
    return v;
  }
  TempDir ckpt_, out_;
};

TEST_F(VerifyExportTest, ACleanExportPassesEveryFile) {
  auto r = VerifyExport(Options());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->files.size(), AllTiers().size());
  for (const FileVerification& f : r->files) {
    EXPECT_TRUE(f.ok) << f.file << ": " << f.message;
    EXPECT_EQ(f.rows_checked, kV) << f.file;
  }
}

// LevelDB's corruption test, through the public API: one byte of each streamed
// initializer of each tier is flipped on disk, in a known row; verify must fail exactly
// that file and name its tier, the initializer and the row.
TEST_F(VerifyExportTest, ADamagedByteIsNamedByTierInitializerAndRow) {
  const std::string dir = out_.Join("export");
  for (const Tier& tier : AllTiers()) {
    for (int i = 0; i < tier.num_streamed; ++i) {
      const std::string file = dir + "/" + tier.file_name;
      auto model = LoadedModel::Load(file);
      ASSERT_TRUE(model.ok()) << model.status().message();
      const InitializerData& init = (*model)->initializers().at(tier.streamed[i].name);
      if (!init.external) continue;  // inline ones are part of the .onnx bytes
      const uint64_t row = 417, row_bytes = init.byte_size / kV;
      const uint64_t at = init.offset + row * row_bytes + row_bytes / 2;
      const std::string sidecar = init.sidecar_path;
      model->reset();
      std::fstream f(sidecar, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(at));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x10);
      f.seekp(static_cast<std::streamoff>(at));
      f.write(&c, 1);
      f.close();

      auto r = VerifyExport(Options());
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_FALSE(r->ok()) << tier.name << " " << tier.streamed[i].name;
      for (const FileVerification& v : r->files) {
        if (v.tier != tier.name) {
          EXPECT_TRUE(v.ok) << v.file << " failed for damage in " << tier.name << ": " << v.message;
          continue;
        }
        EXPECT_FALSE(v.ok) << tier.name << " " << tier.streamed[i].name;
        EXPECT_NE(v.message.find(tier.streamed[i].name), std::string::npos) << v.message;
        EXPECT_NE(v.message.find("row 417"), std::string::npos) << v.message;
      }
      // Undo, so the next initializer's damage is the only one.
      std::fstream g(sidecar, std::ios::in | std::ios::out | std::ios::binary);
      c = static_cast<char>(c ^ 0x10);
      g.seekp(static_cast<std::streamoff>(at));
      g.write(&c, 1);
    }
  }
  auto clean = VerifyExport(Options());
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok());
}

TEST_F(VerifyExportTest, WhatCannotRunIsAStatusNotAFileResult) {
  VerifyOptions v = Options();
  v.export_dir = out_.Join("nowhere");
  EXPECT_FALSE(VerifyExport(v).ok());
  v = Options();
  v.model_dir = out_.Join("no-checkpoint");
  EXPECT_FALSE(VerifyExport(v).ok());
}

// verify --random streams its ids: a count many times the table is fine.
TEST_F(VerifyExportTest, ManyRandomIdsAreStreamed) {
  VerifyOptions v = Options();
  v.random_ids = 50000;
  auto r = VerifyExport(v);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->ok());
  for (const FileVerification& f : r->files) EXPECT_GE(f.ids_evaluated, 50000u) << f.file;
}

}  // namespace
}  // namespace embed2onnx

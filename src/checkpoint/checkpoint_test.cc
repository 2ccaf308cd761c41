// Checkpoint on real files written by transformers (fixtures/real), and OpenDir's
// choice of what to open in a folder.
#include "embed2onnx/checkpoint.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "embed2onnx/tensor_finder.h"
#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;

struct RealFixture {
  const char* folder;
  const char* source;      // file OpenDir must pick
  const char* table_file;  // file holding the table
  const char* table;
  uint64_t rows, cols;
  uint64_t data_begin;  // data_offsets[0] of the table, read off the header by hand
  size_t tensor_count;
};

// Facts from fixtures/real/README.md and the files' headers.
const RealFixture kRealFixtures[] = {
    {"ferrl-tiny_llama", "model.safetensors", "model.safetensors", "model.embed_tokens.weight", 32, 32, 0,
     20},
    {"ferrl-tiny_qwen35", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
     "model.language_model.embed_tokens.weight", 64, 16, 0, 76},
    {"loractl-tiny-qwen3vl", "model.safetensors", "model.safetensors", "language_model.embed_tokens.weight",
     93, 32, 0, 91},
    {"loractl-tiny-gpt2", "model.safetensors", "model.safetensors", "transformer.wte.weight", 61, 32, 70656,
     28},
};

// Names the case in gtest's output instead of dumping its bytes.
void PrintTo(const RealFixture& c, std::ostream* os) { *os << c.folder; }

std::string FixturePath(const std::string& folder, const std::string& file = "") {
  std::string path = std::string(E2O_REAL_FIXTURES) + "/" + folder;
  return file.empty() ? path : path + "/" + file;
}

// The header length of a safetensors file, read with stdio, independently of the reader.
uint64_t HeaderLength(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  unsigned char b[8] = {};
  size_t got = std::fread(b, 1, 8, f);
  std::fclose(f);
  if (got != 8) return 0;
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
  return n;
}

std::vector<char> ReadBytes(const std::string& path, uint64_t offset, size_t n) {
  std::vector<char> out(n);
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0 && std::fread(out.data(), 1, n, f) == n;
  std::fclose(f);
  return ok ? out : std::vector<char>();
}

class CheckpointRealFixtures : public ::testing::TestWithParam<RealFixture> {};

TEST_P(CheckpointRealFixtures, OpensFindsTableAndReadsRows) {
  const RealFixture& fx = GetParam();
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(FixturePath(fx.folder));
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_EQ(ckpt->source(), FixturePath(fx.folder, fx.source));
  EXPECT_EQ(ckpt->tensors().size(), fx.tensor_count);

  Result<const TensorInfo*> found = FindEmbeddingTable(*ckpt, "");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  const TensorInfo& table = **found;
  EXPECT_EQ(table.name, fx.table);
  EXPECT_EQ(table.dtype, "F32");
  EXPECT_EQ(table.shape, std::vector<uint64_t>({fx.rows, fx.cols}));
  const std::string table_file = FixturePath(fx.folder, fx.table_file);
  EXPECT_EQ(table.file, table_file);
  const uint64_t offset = 8 + HeaderLength(table_file) + fx.data_begin;
  EXPECT_EQ(table.file_offset, offset);
  EXPECT_EQ(table.byte_size, fx.rows * fx.cols * 4);

  Result<std::unique_ptr<TableReader>> reader = TableReader::Open(table);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->rows(), fx.rows);
  EXPECT_EQ((*reader)->cols(), fx.cols);
  EXPECT_EQ((*reader)->dtype(), TableDType::kF32);
  EXPECT_EQ((*reader)->row_bytes(), fx.cols * 4);

  for (uint64_t row : {uint64_t{1}, fx.rows - 1}) {
    std::vector<char> got((*reader)->row_bytes());
    ASSERT_TRUE((*reader)->ReadRows(row, 1, got.data()).ok());
    std::vector<char> want = ReadBytes(table_file, offset + row * fx.cols * 4, got.size());
    ASSERT_EQ(want.size(), got.size());
    EXPECT_EQ(got, want) << "row " << row;
    // Two values, compared as floats: random weights, so not zero.
    for (uint64_t col : {uint64_t{0}, fx.cols - 1}) {
      float a, b;
      std::memcpy(&a, got.data() + col * 4, 4);
      std::memcpy(&b, want.data() + col * 4, 4);
      EXPECT_EQ(a, b) << "row " << row << " col " << col;
      EXPECT_NE(a, 0.0f) << "row " << row << " col " << col;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CheckpointRealFixtures, ::testing::ValuesIn(kRealFixtures),
                         [](const ::testing::TestParamInfo<RealFixture>& info) {
                           std::string name = info.param.folder;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(CheckpointRealSharded, ResolvesTensorsInBothShards) {
  const std::string folder = FixturePath("ferrl-tiny_qwen35");
  Result<Checkpoint> ckpt = Checkpoint::OpenIndex(folder + "/model.safetensors.index.json");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();

  const std::string shard1 = folder + "/model-00001-of-00002.safetensors";
  const std::string shard2 = folder + "/model-00002-of-00002.safetensors";
  const TensorInfo* norm = ckpt->Find("model.language_model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->file, shard2);
  EXPECT_EQ(norm->shape, std::vector<uint64_t>({16}));
  EXPECT_EQ(norm->file_offset, 8 + HeaderLength(shard2) + 4224);

  const TensorInfo* patch = ckpt->Find("model.visual.patch_embed.proj.weight");
  ASSERT_NE(patch, nullptr);
  EXPECT_EQ(patch->file, shard1);
  EXPECT_EQ(patch->shape, std::vector<uint64_t>({16, 3, 1, 4, 4}));

  // The same tensor read through the shard alone agrees.
  Result<Checkpoint> alone = Checkpoint::OpenFile(shard2);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  EXPECT_EQ(alone->tensors().size(), 5u);
  ASSERT_NE(alone->Find("model.language_model.norm.weight"), nullptr);
  EXPECT_EQ(alone->Find("model.language_model.norm.weight")->file_offset, norm->file_offset);

  for (size_t i = 1; i < ckpt->tensors().size(); ++i) {
    EXPECT_LT(ckpt->tensors()[i - 1].name, ckpt->tensors()[i].name);
  }
}

TEST(CheckpointOpenDir, EmptyFolderIsNotFoundNamingIt) {
  TempDir dir;
  WriteFile(dir.Join("config.json"), "{}");
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_EQ(ckpt.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(ckpt.status(), dir.path(), "no checkpoint in folder"));
}

TEST(CheckpointOpenDir, MissingFolderIsNotFound) {
  TempDir dir;
  const std::string missing = dir.Join("nope");
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(missing);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_EQ(ckpt.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(ckpt.status(), missing, "no such folder"));
}

TEST(CheckpointOpenDir, MissingFileIsNotFound) {
  TempDir dir;
  const std::string missing = dir.Join("model.safetensors");
  Result<Checkpoint> ckpt = Checkpoint::OpenFile(missing);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_EQ(ckpt.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(ckpt.status(), missing, "no such file"));
}

TEST(CheckpointOpenDir, FolderGivenAsFileIsRefused) {
  TempDir dir;
  Result<Checkpoint> ckpt = Checkpoint::OpenFile(dir.path());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), dir.path(), "not a regular file"));
}

TEST(CheckpointOpenDir, StandardNameThatIsNotAFileIsNamed) {
  TempDir dir;
  std::filesystem::create_directory(dir.Join("model.safetensors"));
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), dir.Join("model.safetensors"), "not a regular file"));
}

const std::string kTinyHeader = R"({"t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";

TEST(CheckpointOpenDir, PrefersModelSafetensorsOverIndex) {
  TempDir dir;
  WriteFile(dir.Join("model.safetensors"), SafetensorsBytes(kTinyHeader, "ab"));
  WriteFile(dir.Join("model.safetensors.index.json"), "not json");
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_EQ(ckpt->source(), dir.Join("model.safetensors"));
}

TEST(CheckpointOpenDir, UsesIndexWhenNoSingleFile) {
  TempDir dir;
  WriteFile(dir.Join("model.safetensors.index.json"), "not json");
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), dir.Join("model.safetensors.index.json"), "not valid JSON"));
}

TEST(CheckpointOpenDir, OpensALoneOtherSafetensorsFile) {
  TempDir dir;
  WriteFile(dir.Join("adapter.safetensors"), SafetensorsBytes(kTinyHeader, "ab"));
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_EQ(ckpt->source(), dir.Join("adapter.safetensors"));
  ASSERT_NE(ckpt->Find("t"), nullptr);
}

TEST(CheckpointOpenDir, RefusesToGuessBetweenSeveralFiles) {
  TempDir dir;
  WriteFile(dir.Join("b.safetensors"), SafetensorsBytes(kTinyHeader, "ab"));
  WriteFile(dir.Join("a.safetensors"), SafetensorsBytes(kTinyHeader, "ab"));
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), dir.path(), "several .safetensors files"));
  EXPECT_NE(ckpt.status().message().find("a.safetensors, b.safetensors"), std::string::npos)
      << ckpt.status().message();
}

}  // namespace
}  // namespace embed2onnx

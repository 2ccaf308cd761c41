// Sharded checkpoints: model.safetensors.index.json and its shards, valid and hostile.
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "embed2onnx/checkpoint.h"
#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;

// A folder with two good shards (s1: a.weight; s2: b.weight, extra), one truncated shard
// and an index written per test.
class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.Join("s1.safetensors"),
              SafetensorsBytes(R"({"a.weight":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}})",
                               std::string(8, '\1')));
    WriteFile(dir_.Join("s2.safetensors"),
              SafetensorsBytes(R"({"b.weight":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                               R"("extra":{"dtype":"U8","shape":[1],"data_offsets":[12,13]}})",
                               std::string(13, '\2')));
    // The header promises 8 bytes of data; the file ends after 3.
    WriteFile(dir_.Join("cut.safetensors"),
              SafetensorsBytes(R"({"c.weight":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}})", "xyz"));
  }

  std::string WriteIndex(const std::string& json) {
    const std::string path = dir_.Join("model.safetensors.index.json");
    WriteFile(path, json);
    return path;
  }

  TempDir dir_;
};

TEST_F(IndexTest, IndexResolvesEachTensorInItsShard) {
  const std::string index = WriteIndex(
      R"({"metadata":{"total_size":20},"weight_map":{"b.weight":"s2.safetensors","a.weight":"s1.safetensors"}})");
  Result<Checkpoint> ckpt = Checkpoint::OpenDir(dir_.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  EXPECT_EQ(ckpt->source(), index);
  ASSERT_EQ(ckpt->tensors().size(), 2u);  // "extra" is not in the index: ignored
  EXPECT_EQ(ckpt->tensors()[0].name, "a.weight");
  EXPECT_EQ(ckpt->tensors()[0].file, dir_.Join("s1.safetensors"));
  EXPECT_EQ(ckpt->tensors()[1].name, "b.weight");
  EXPECT_EQ(ckpt->tensors()[1].file, dir_.Join("s2.safetensors"));
  EXPECT_EQ(ckpt->tensors()[1].dtype, "F32");
  EXPECT_EQ(ckpt->Find("extra"), nullptr);
}

struct BadIndex {
  const char* name;
  const char* json;
  const char* blamed;  // file the message must start with: "" = the index
  const char* phrase;
  Status::Code code;
};

const BadIndex kBadIndexes[] = {
    {"BrokenJson", R"({"weight_map": {"a.weight": )", "", "index is not valid JSON",
     Status::Code::kCorruption},
    {"NotAnObject", R"(["a.weight"])", "", "index is not a JSON object", Status::Code::kCorruption},
    {"WeightMapMissing", R"({"metadata": {}})", "", R"(index has no "weight_map")",
     Status::Code::kCorruption},
    {"WeightMapNotObject", R"({"weight_map": ["s1.safetensors"]})", "", "weight_map is not an object",
     Status::Code::kCorruption},
    {"WeightMapEmpty", R"({"weight_map": {}})", "", "weight_map is empty", Status::Code::kCorruption},
    {"ValueNotString", R"({"weight_map": {"a.weight": 1}})", "",
     "weight_map value of tensor 'a.weight' is not a string", Status::Code::kCorruption},
    {"DuplicateTensor", R"({"weight_map": {"a.weight": "s1.safetensors", "a.weight": "s2.safetensors"}})", "",
     "duplicate key 'a.weight'", Status::Code::kCorruption},
    {"ShardAbsolute", R"({"weight_map": {"a.weight": "/etc/passwd"}})", "",
     "shard name '/etc/passwd' is not a plain file name: it is an absolute path", Status::Code::kCorruption},
    {"ShardDotDot", R"({"weight_map": {"a.weight": ".."}})", "", "it contains '..'",
     Status::Code::kCorruption},
    {"ShardSlash", R"({"weight_map": {"a.weight": "sub/s1.safetensors"}})", "", "it contains '/'",
     Status::Code::kCorruption},
    {"ShardBackslash", R"({"weight_map": {"a.weight": "..\\s1.safetensors"}})", "", R"(it contains '\')",
     Status::Code::kCorruption},
    {"ShardEmpty", R"({"weight_map": {"a.weight": ""}})", "", "it is empty", Status::Code::kCorruption},
    {"ShardNul", R"({"weight_map": {"a.weight": "s1.safetensors\u0000.txt"}})", "", "it contains a NUL byte",
     Status::Code::kCorruption},
    // The bad name is refused before the missing shard listed first is looked for.
    {"NamesCheckedBeforeOpening",
     R"({"weight_map": {"a.weight": "missing.safetensors", "b.weight": "../s2.safetensors"}})", "",
     "tensor 'b.weight': shard name '../s2.safetensors'", Status::Code::kCorruption},
    {"ShardMissing", R"({"weight_map": {"a.weight": "missing.safetensors"}})", "missing.safetensors",
     "no such file (a shard listed in ", Status::Code::kNotFound},
    {"ShardTruncated", R"({"weight_map": {"c.weight": "cut.safetensors"}})", "cut.safetensors",
     "lie past the end of the file", Status::Code::kCorruption},
    {"TensorAbsentFromShard",
     R"({"weight_map": {"a.weight": "s1.safetensors", "b.weight": "s1.safetensors"}})", "",
     "tensor 'b.weight' is assigned to shard ", Status::Code::kCorruption},
};

// Names the case in gtest's output instead of dumping its bytes.
void PrintTo(const BadIndex& c, std::ostream* os) { *os << c.name; }

class IndexMalformed : public IndexTest, public ::testing::WithParamInterface<BadIndex> {};

TEST_P(IndexMalformed, IsRefusedNamingFileAndProblem) {
  const BadIndex& bad = GetParam();
  const std::string index = WriteIndex(bad.json);
  const std::string blamed = *bad.blamed ? dir_.Join(bad.blamed) : index;

  Result<Checkpoint> ckpt = Checkpoint::OpenIndex(index);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), blamed, bad.phrase));
  EXPECT_EQ(ckpt.status().code(), bad.code) << ckpt.status().ToString();
  if (*bad.blamed) {  // a shard's error still says which index sent us there
    EXPECT_NE(ckpt.status().message().find(index), std::string::npos) << ckpt.status().message();
  }
}

INSTANTIATE_TEST_SUITE_P(AllCases, IndexMalformed, ::testing::ValuesIn(kBadIndexes),
                         [](const ::testing::TestParamInfo<BadIndex>& info) { return info.param.name; });

TEST_F(IndexTest, AbsentTensorErrorNamesTheShard) {
  const std::string index = WriteIndex(R"({"weight_map": {"zz.weight": "s2.safetensors"}})");
  Result<Checkpoint> ckpt = Checkpoint::OpenIndex(index);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_TRUE(FailsNaming(ckpt.status(), index,
                          "tensor 'zz.weight' is assigned to shard " + dir_.Join("s2.safetensors") +
                              " but that shard does not hold it"));
}

TEST_F(IndexTest, MissingIndexIsNotFound) {
  const std::string index = dir_.Join("model.safetensors.index.json");
  Result<Checkpoint> ckpt = Checkpoint::OpenIndex(index);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_EQ(ckpt.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(ckpt.status(), index, "no such file"));
}

}  // namespace
}  // namespace embed2onnx

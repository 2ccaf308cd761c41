// Strict JSON parsing of untrusted metadata: the nesting cap found by fuzzing.
#include "checkpoint/json_util.h"

#include <gtest/gtest.h>

#include <string>

#include "checkpoint/safetensors.h"
#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;

// {"w": [[...[]...]]} with `levels` arrays, so the innermost array sits at depth `levels`.
std::string NestedArrays(size_t levels) {
  return R"({"w":)" + std::string(levels, '[') + std::string(levels, ']') + "}";
}

TEST(ParseJsonObject, AcceptsNestingUpToTheCap) {
  nlohmann::json out;
  Status st = ParseJsonObject("f.json", "header", NestedArrays(64), &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(ParseJsonObject, RefusesNestingPastTheCap) {
  nlohmann::json out;
  Status st = ParseJsonObject("f.json", "header", NestedArrays(65), &out);
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_TRUE(FailsNaming(st, "f.json", "header nests arrays or objects more than 64 levels deep"));
}

// Regression: a header of 5 million nested brackets overflowed the stack when its
// error message printed the value. It is refused as too deep instead.
TEST(ParseJsonObject, MillionsOfLevelsAreRefusedNotACrash) {
  const std::string header = NestedArrays(5'000'000);
  Result<std::vector<TensorInfo>> tensors =
      ParseSafetensorsHeader("deep.safetensors", header, 8 + header.size());
  ASSERT_FALSE(tensors.ok());
  EXPECT_TRUE(FailsNaming(tensors.status(), "deep.safetensors", "more than 64 levels deep"));

  // Nested objects too, and inside an otherwise valid entry.
  std::string objects;
  for (int i = 0; i < 1'000'000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(1'000'000, '}');
  const std::string in_entry = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":)" + objects + "}}";
  tensors = ParseSafetensorsHeader("deep.safetensors", in_entry, 8 + in_entry.size() + 1);
  ASSERT_FALSE(tensors.ok());
  EXPECT_TRUE(FailsNaming(tensors.status(), "deep.safetensors", "more than 64 levels deep"));
}

TEST(ParseJsonObject, DuplicateKeysStillFoundNextToDeepValues) {
  nlohmann::json out;
  Status st = ParseJsonObject("f.json", "index", R"({"a":1,"a":2})", &out);
  EXPECT_TRUE(FailsNaming(st, "f.json", "index has a duplicate key 'a'"));
}

}  // namespace
}  // namespace embed2onnx

#include "checkpoint/dtype.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "embed2onnx/checkpoint.h"

namespace embed2onnx {
namespace {

TEST(DTypeTest, EverySafetensorsNameHasItsSize) {
  const std::pair<const char*, uint64_t> want[] = {{"BOOL", 1},    {"U8", 1},      {"I8", 1},  {"F8_E4M3", 1},
                                                   {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"I16", 2}, {"U16", 2},
                                                   {"F16", 2},     {"BF16", 2},    {"I32", 4}, {"U32", 4},
                                                   {"F32", 4},     {"I64", 8},     {"U64", 8}, {"F64", 8}};
  EXPECT_EQ(std::size(want), static_cast<size_t>(DType::kCount));
  for (const auto& [name, bytes] : want) {
    EXPECT_EQ(SafetensorsDTypeSize(name), bytes) << name;
    auto t = DTypeFromName(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(DTypeName(*t), name);
  }
}

TEST(DTypeTest, UnknownAndSubByteNamesAreRefused) {
  for (const char* name : {"F4", "F6_E2M3", "F6_E3M2", "bf16", "FLOAT", "", "BF16 "}) {
    EXPECT_EQ(SafetensorsDTypeSize(name), 0u) << name;
    EXPECT_FALSE(DTypeFromName(name).has_value()) << name;
  }
}

TEST(DTypeTest, OnlyBf16F16AndF32MayHoldATable) {
  std::set<std::string> table;
  for (const DTypeRow& r : kDTypes) {
    if (r.table) table.insert(std::string(r.name));
    EXPECT_EQ(r.table, r.widen != Widening::kNone) << r.name;
    EXPECT_EQ(&DTypeOf(r.type), &r) << r.name;  // rows sit at their enum's index
  }
  EXPECT_EQ(table, (std::set<std::string>{"BF16", "F16", "F32"}));
  EXPECT_EQ(TableDTypeList(), "BF16, F16 or F32");
}

}  // namespace
}  // namespace embed2onnx

#include "embed2onnx/status.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TEST(StatusTest, OkHasNoMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kOk);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_TRUE(Status::Ok().WithPrefix("x").ok());
}

TEST(StatusTest, EachCodeNamesItself) {
  const std::pair<Status, const char*> cases[] = {
      {Status::InvalidArgument("m"), "invalid argument: m"},
      {Status::NotFound("m"), "not found: m"},
      {Status::Corruption("m"), "corruption: m"},
      {Status::IOError("m"), "I/O error: m"},
      {Status::NotSupported("m"), "not supported: m"},
      {Status::Mismatch("m"), "mismatch: m"},
  };
  for (const auto& [s, text] : cases) {
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.message(), "m");
    EXPECT_EQ(s.ToString(), text);
  }
}

TEST(StatusTest, WithPrefixKeepsTheCode) {
  Status s = Status::Corruption("bad byte").WithPrefix("a.onnx");
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.message(), "a.onnx: bad byte");
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  E2O_ASSIGN_OR_RETURN(int h, Half(x));
  E2O_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  E2O_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, ResultAndMacrosPassTheFirstErrorThrough) {
  Result<int> r = Quarter(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  Result<int> odd = Quarter(6);  // 6 / 2 = 3 is odd
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), "3 is odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), Status::Code::kInvalidArgument);
}

TEST(StatusTest, ResultHoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

}  // namespace
}  // namespace embed2onnx

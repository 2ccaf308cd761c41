#include "util/edit_distance.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TEST(EditDistanceTest, CountsEdits) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("export", "export"), 0u);
  EXPECT_EQ(EditDistance("exprot", "export"), 2u);  // a swap is two substitutions
  EXPECT_EQ(EditDistance("int9", "int8"), 1u);
  EXPECT_EQ(EditDistance("verfy", "verify"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace embed2onnx

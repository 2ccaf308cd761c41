#include "util/human_bytes.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TEST(HumanBytesTest, BinaryUnits) {
  EXPECT_EQ(HumanBytes(17), "17 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(3u << 20), "3.0 MiB");
  EXPECT_EQ(HumanBytes(1439133321), "1.34 GiB");
}

}  // namespace
}  // namespace embed2onnx

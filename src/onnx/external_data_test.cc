#include "onnx/external_data.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TensorPlacement T(const std::string& name, uint64_t bytes) {
  TensorPlacement t;
  t.name = name;
  t.byte_size = bytes;
  return t;
}

TEST(ExternalDataTest, LargeTensorsGoToAlignedOffsetsSmallOnesInline) {
  SidecarLayout l = PlanSidecar({T("w", 100000), T("s", 1023), T("s2", 1024)}, "m.onnx_data");
  ASSERT_EQ(l.tensors.size(), 3u);
  EXPECT_TRUE(l.tensors[0].external);
  EXPECT_EQ(l.tensors[0].offset, 0u);
  EXPECT_FALSE(l.tensors[1].external);                    // under 1024 bytes
  EXPECT_TRUE(l.tensors[2].external);                     // exactly 1024
  EXPECT_EQ(l.tensors[2].offset, 2 * kSidecarAlignment);  // 100000 bytes end inside the second 64 KiB block
  EXPECT_EQ(l.sidecar_size, 2 * kSidecarAlignment + 1024);
}

TEST(ExternalDataTest, NothingExternalMeansNoSidecar) {
  SidecarLayout l = PlanSidecar({T("a", 10), T("b", 1000)}, "x_data");
  EXPECT_EQ(l.sidecar_size, 0u);
}

TEST(ExternalDataTest, InitializerCarriesExactlyTheThreeKeys) {
  onnx::GraphProto g;
  TensorPlacement p = T("w", 5000);
  p.elem_type = onnx::TensorProto::FLOAT;
  p.dims = {10, 125};
  p.external = true;
  p.offset = 65536;
  AddPlacedInitializer(&g, p, "m.onnx_data", "");
  const onnx::TensorProto& t = g.initializer(0);
  EXPECT_EQ(t.data_location(), onnx::TensorProto::EXTERNAL);
  ASSERT_EQ(t.external_data_size(), 3);
  EXPECT_EQ(t.external_data(0).key(), "location");
  EXPECT_EQ(t.external_data(0).value(), "m.onnx_data");
  EXPECT_EQ(t.external_data(1).value(), "65536");
  EXPECT_EQ(t.external_data(2).value(), "5000");
  EXPECT_FALSE(t.has_raw_data());
}

}  // namespace
}  // namespace embed2onnx

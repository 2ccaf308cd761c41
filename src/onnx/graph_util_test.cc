#include "onnx/graph_util.h"

#include <gtest/gtest.h>

#include <cstring>

namespace embed2onnx {
namespace {

using TP = onnx::TensorProto;

TEST(GraphUtilTest, ElementTypesHaveTheirSizesAndKinds) {
  EXPECT_EQ(OnnxElemBytes(TP::FLOAT), 4u);
  EXPECT_EQ(OnnxElemBytes(TP::FLOAT16), 2u);
  EXPECT_EQ(OnnxElemBytes(TP::BFLOAT16), 2u);
  EXPECT_EQ(OnnxElemBytes(TP::DOUBLE), 8u);
  EXPECT_EQ(OnnxElemBytes(TP::INT8), 1u);
  EXPECT_EQ(OnnxElemBytes(TP::UINT8), 1u);
  EXPECT_EQ(OnnxElemBytes(TP::INT16), 2u);
  EXPECT_EQ(OnnxElemBytes(TP::UINT16), 2u);
  EXPECT_EQ(OnnxElemBytes(TP::INT32), 4u);
  EXPECT_EQ(OnnxElemBytes(TP::INT64), 8u);
  EXPECT_TRUE(OnnxIsFloat(TP::BFLOAT16));
  EXPECT_FALSE(OnnxIsFloat(TP::INT8));
  EXPECT_TRUE(OnnxIsInteger(TP::UINT8));
  EXPECT_TRUE(OnnxIsInteger(TP::INT64));
  EXPECT_FALSE(OnnxIsInteger(TP::FLOAT));
  EXPECT_EQ(FindOnnxElem(TP::UINT16)->kind, OnnxKind::kUnsigned);
  EXPECT_EQ(FindOnnxElem(TP::INT16)->kind, OnnxKind::kSigned);
  // BOOL (the splice graphs' masks) is sized but neither float nor integer.
  EXPECT_EQ(OnnxElemBytes(TP::BOOL), 1u);
  EXPECT_EQ(FindOnnxElem(TP::BOOL)->kind, OnnxKind::kBool);
  EXPECT_FALSE(OnnxIsFloat(TP::BOOL));
  EXPECT_FALSE(OnnxIsInteger(TP::BOOL));
}

TEST(GraphUtilTest, TypesOutsideTheTableAreUnknown) {
  for (int32_t t :
       {int32_t{TP::UNDEFINED}, int32_t{TP::STRING}, int32_t{TP::COMPLEX64}, int32_t{TP::UINT64}, 999, -1}) {
    EXPECT_EQ(OnnxElemBytes(t), 0u) << t;
    EXPECT_EQ(FindOnnxElem(t), nullptr) << t;
    EXPECT_FALSE(OnnxIsFloat(t)) << t;
    EXPECT_FALSE(OnnxIsInteger(t)) << t;
  }
}

TEST(GraphUtilTest, ElementNamesForMessages) {
  EXPECT_EQ(OnnxElemName(TP::FLOAT), "FLOAT");
  EXPECT_EQ(OnnxElemName(TP::BFLOAT16), "BFLOAT16");
  EXPECT_EQ(OnnxElemName(TP::STRING), "STRING");
  EXPECT_EQ(OnnxElemName(999), "type 999");
}

TEST(GraphUtilTest, LookupIoFollowsTheContract) {
  onnx::GraphProto g;
  AddLookupIO(&g, 2048);
  ASSERT_EQ(g.input_size(), 1);
  ASSERT_EQ(g.output_size(), 1);
  const auto& in = g.input(0).type().tensor_type();
  EXPECT_EQ(g.input(0).name(), "input_ids");
  EXPECT_EQ(in.elem_type(), TP::INT64);
  ASSERT_EQ(in.shape().dim_size(), 2);
  EXPECT_EQ(in.shape().dim(0).dim_param(), "B");
  EXPECT_EQ(in.shape().dim(1).dim_param(), "N");
  const auto& out = g.output(0).type().tensor_type();
  EXPECT_EQ(g.output(0).name(), "inputs_embeds");
  EXPECT_EQ(out.elem_type(), TP::FLOAT);
  ASSERT_EQ(out.shape().dim_size(), 3);
  EXPECT_EQ(out.shape().dim(1).dim_param(), "N");
  EXPECT_EQ(out.shape().dim(2).dim_value(), 2048);
}

TEST(GraphUtilTest, NodesAndAttributes) {
  onnx::GraphProto g;
  onnx::NodeProto* n = AddNode(&g, "BitShift", {"a", "b"}, {"c"}, "shift");
  SetStringAttr(n, "direction", "RIGHT");
  SetIntAttr(n, "x", -7);
  ASSERT_EQ(g.node_size(), 1);
  EXPECT_EQ(g.node(0).op_type(), "BitShift");
  EXPECT_EQ(g.node(0).name(), "shift");
  EXPECT_TRUE(g.node(0).domain().empty());  // ai.onnx
  ASSERT_EQ(g.node(0).input_size(), 2);
  EXPECT_EQ(g.node(0).input(1), "b");
  EXPECT_EQ(g.node(0).output(0), "c");
  ASSERT_EQ(g.node(0).attribute_size(), 2);
  EXPECT_EQ(g.node(0).attribute(0).type(), onnx::AttributeProto::STRING);
  EXPECT_EQ(g.node(0).attribute(0).s(), "RIGHT");
  EXPECT_EQ(g.node(0).attribute(1).type(), onnx::AttributeProto::INT);
  EXPECT_EQ(g.node(0).attribute(1).i(), -7);
}

TEST(GraphUtilTest, Int64InitializerIsLittleEndianRawData) {
  onnx::GraphProto g;
  AddInt64Initializer(&g, "shape", {3}, {0, -1, 0x0102030405060708});
  ASSERT_EQ(g.initializer_size(), 1);
  const onnx::TensorProto& t = g.initializer(0);
  EXPECT_EQ(t.data_type(), TP::INT64);
  ASSERT_EQ(t.dims_size(), 1);
  EXPECT_EQ(t.dims(0), 3);
  ASSERT_EQ(t.raw_data().size(), 24u);
  EXPECT_EQ(static_cast<uint8_t>(t.raw_data()[8]), 0xffu);   // -1
  EXPECT_EQ(static_cast<uint8_t>(t.raw_data()[16]), 0x08u);  // least significant byte first
  EXPECT_EQ(static_cast<uint8_t>(t.raw_data()[23]), 0x01u);
  EXPECT_EQ(t.data_location(), TP::DEFAULT);  // inline
}

TEST(GraphUtilTest, RawInitializerKeepsTypeDimsAndBytes) {
  onnx::GraphProto g;
  AddRawInitializer(&g, "mask", TP::UINT8, {}, std::string(1, '\x0f'));
  const onnx::TensorProto& t = g.initializer(0);
  EXPECT_EQ(t.name(), "mask");
  EXPECT_EQ(t.data_type(), TP::UINT8);
  EXPECT_EQ(t.dims_size(), 0);  // a scalar
  EXPECT_EQ(t.raw_data(), std::string(1, '\x0f'));
}

}  // namespace
}  // namespace embed2onnx

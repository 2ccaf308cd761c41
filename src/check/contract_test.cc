#include "check/contract.h"

#include <gtest/gtest.h>

#include "onnx/external_data.h"
#include "onnx/graph_util.h"
#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::TempDir;
using test_util::WriteFile;

// A sound lookup graph in our layout: a [256, 4] FLOAT weight (4096 bytes) in the
// sidecar m.onnx_data at `offset`, and a small inline constant.
onnx::ModelProto SoundModel(uint64_t offset = 0) {
  onnx::ModelProto m;
  SetModelHeader(&m);
  onnx::GraphProto* g = m.mutable_graph();
  AddLookupIO(g, 4);
  TensorPlacement w;
  w.name = "w";
  w.elem_type = onnx::TensorProto::FLOAT;
  w.dims = {256, 4};
  w.byte_size = 4096;
  w.external = true;
  w.offset = offset;
  AddPlacedInitializer(g, w, "m.onnx_data", "");
  AddInt64Initializer(g, "axes", {1}, {-1});
  SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {kOutputName}, "EmbedTokens_Gather"), "axis", 0);
  return m;
}

class ContractTest : public ::testing::Test {
 protected:
  // Writes `m` with a sidecar long enough for every offset used here, loads it and
  // checks it; returns the check's Status (a load failure fails the test).
  Status Check(const onnx::ModelProto& m, bool our_layout = true, int64_t hidden = 4,
               int32_t output_elem = onnx::TensorProto::FLOAT) {
    const std::string path = dir_.Join("m.onnx");
    WriteFile(path, m.SerializeAsString());
    WriteFile(dir_.Join("m.onnx_data"), std::string(kSidecarAlignment + 4096, '\0'));
    auto model = LoadedModel::Load(path);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (!model.ok()) return model.status();
    ContractOptions opts;
    opts.hidden = hidden;
    opts.our_layout = our_layout;
    opts.expected_location = "m.onnx_data";
    opts.output_elem = output_elem;
    return CheckLookupContract(**model, opts);
  }

  // Expects a Mismatch naming the model file and holding `phrase`.
  void ExpectRefused(const onnx::ModelProto& m, const std::string& phrase, bool our_layout = true) {
    Status s = Check(m, our_layout);
    ASSERT_FALSE(s.ok()) << "accepted; expected: " << phrase;
    EXPECT_EQ(s.code(), Status::Code::kMismatch) << s.ToString();
    EXPECT_EQ(s.message().rfind(dir_.Join("m.onnx"), 0), 0u) << s.message();
    EXPECT_NE(s.message().find(phrase), std::string::npos) << s.message();
  }

  TempDir dir_;
};

TEST_F(ContractTest, SoundModelPasses) {
  EXPECT_TRUE(Check(SoundModel()).ok());
  EXPECT_TRUE(Check(SoundModel(kSidecarAlignment)).ok());
  EXPECT_TRUE(Check(SoundModel(), /*our_layout=*/false, /*hidden=*/0).ok());
}

TEST_F(ContractTest, IrVersionAndOpset) {
  onnx::ModelProto m = SoundModel();
  m.set_ir_version(9);
  ExpectRefused(m, "ir_version 9, expected 10");
  m = SoundModel();
  m.mutable_opset_import(0)->set_version(19);
  ExpectRefused(m, "expected exactly one opset import, ai.onnx version 20");
  m = SoundModel();
  m.mutable_opset_import(0)->set_domain("com.microsoft");
  ExpectRefused(m, "expected exactly one opset import");
  m = SoundModel();
  auto* second = m.add_opset_import();
  second->set_domain("ai.onnx.ml");
  second->set_version(3);
  ExpectRefused(m, "expected exactly one opset import");
  m = SoundModel();
  m.mutable_opset_import(0)->set_domain("ai.onnx");  // the default domain by its name
  EXPECT_TRUE(Check(m).ok());
}

TEST_F(ContractTest, OneInputAndOneOutput) {
  onnx::ModelProto m = SoundModel();
  *m.mutable_graph()->add_input() = m.graph().input(0);
  ExpectRefused(m, "expected one input and one output, found 2 and 1");
}

TEST_F(ContractTest, InputNameTypeAndShape) {
  onnx::ModelProto m = SoundModel();
  m.mutable_graph()->mutable_input(0)->set_name("ids");
  ExpectRefused(m, "input 'ids': expected the name 'input_ids'");
  m = SoundModel();
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::INT32);
  ExpectRefused(m, "input 'input_ids': expected element type INT64");
  m = SoundModel();
  m.mutable_graph()
      ->mutable_input(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(1)
      ->set_dim_param("T");
  ExpectRefused(m, "shape [B, T], expected [B, N]");
}

TEST_F(ContractTest, OutputTypeAndHiddenSize) {
  onnx::ModelProto m = SoundModel();
  m.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::FLOAT16);
  ExpectRefused(m, "output 'inputs_embeds': expected element type FLOAT");
  m = SoundModel();
  m.mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_value(5);
  ExpectRefused(m, "shape [B, N, 5], expected [B, N, 4]");
  m = SoundModel();
  m.mutable_graph()
      ->mutable_output(0)
      ->mutable_type()
      ->mutable_tensor_type()
      ->mutable_shape()
      ->mutable_dim(2)
      ->set_dim_param("D");
  ExpectRefused(m, "shape [B, N, D]");
}

// --output-dtype float16: the type the report records is the one the graph must declare,
// in both directions.
TEST_F(ContractTest, OutputTypeIsTheExpectedOne) {
  onnx::ModelProto half = SoundModel();
  half.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::FLOAT16);
  EXPECT_TRUE(Check(half, true, 4, onnx::TensorProto::FLOAT16).ok());
  Status s = Check(SoundModel(), true, 4, onnx::TensorProto::FLOAT16);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("output 'inputs_embeds': expected element type FLOAT16"), std::string::npos)
      << s.message();
}

TEST_F(ContractTest, NodesOutsideAiOnnx) {
  onnx::ModelProto m = SoundModel();
  m.mutable_graph()->mutable_node(0)->set_domain("com.microsoft");
  ExpectRefused(m, "node 'EmbedTokens_Gather' uses domain 'com.microsoft'");
  // Also without our layout rules: ONNX Runtime-only domains are never accepted.
  ExpectRefused(m, "uses domain", /*our_layout=*/false);
}

TEST_F(ContractTest, OurLayoutRules) {
  // A tensor of 1024 bytes or more must be external ...
  onnx::ModelProto m = SoundModel();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_external_data();
  w->clear_data_location();
  w->set_raw_data(std::string(4096, '\0'));
  ExpectRefused(m, "initializer 'w' (4096 bytes) is inline; the threshold is 1024 bytes");
  EXPECT_TRUE(Check(m, /*our_layout=*/false).ok());  // another tool's layout is fine

  // ... at a 64 KiB-aligned offset ...
  ExpectRefused(SoundModel(4096), "initializer 'w' at offset 4096 is not 64 KiB aligned");
  EXPECT_TRUE(Check(SoundModel(4096), /*our_layout=*/false).ok());

  // ... and a small one inline.
  m = SoundModel();
  TensorPlacement small;
  small.name = "small";
  small.elem_type = onnx::TensorProto::INT64;
  small.dims = {2};
  small.byte_size = 16;
  small.external = true;
  small.offset = kSidecarAlignment;
  AddPlacedInitializer(m.mutable_graph(), small, "m.onnx_data", "");
  ExpectRefused(m, "initializer 'small' (16 bytes) is external");
}

TEST_F(ContractTest, SidecarMustBeNamedAfterTheModel) {
  const std::string path = dir_.Join("m.onnx");
  WriteFile(path, SoundModel().SerializeAsString());
  WriteFile(dir_.Join("m.onnx_data"), std::string(4096, '\0'));
  auto model = LoadedModel::Load(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ContractOptions opts;
  opts.expected_location = "embed_tokens.onnx_data";
  Status s = CheckLookupContract(**model, opts);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("external data location 'm.onnx_data', expected 'embed_tokens.onnx_data'"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace embed2onnx

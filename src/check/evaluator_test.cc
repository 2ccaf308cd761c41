#include "check/evaluator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "check/contract.h"
#include "numerics/half.h"
#include "onnx/graph_util.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;

// Writes `model` to a fresh folder, with `sidecar` bytes as m.onnx_data.
class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2o_eval_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const onnx::ModelProto& m, const std::string& sidecar) {
    std::string path = (dir_ / "m.onnx").string();
    std::ofstream(path, std::ios::binary) << m.SerializeAsString();
    if (!sidecar.empty()) std::ofstream((dir_ / "m.onnx_data").string(), std::ios::binary) << sidecar;
    return path;
  }

  // A [4, 3] FLOAT16 table whose row r holds r + 0.5 * j, stored externally at `offset`.
  onnx::ModelProto Fp16Model(bool cast_first, uint64_t offset, std::string* sidecar) {
    onnx::ModelProto m;
    m.set_ir_version(10);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(20);
    onnx::GraphProto* g = m.mutable_graph();
    AddLookupIO(g, 3);
    std::vector<uint16_t> table;
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 3; ++j) table.push_back(FloatToHalf(r + 0.5f * j));
    sidecar->assign(offset, '\0');
    sidecar->append(reinterpret_cast<const char*>(table.data()), table.size() * 2);
    onnx::TensorProto* t = g->add_initializer();
    t->set_name("w");
    t->set_data_type(onnx::TensorProto::FLOAT16);
    t->add_dims(4);
    t->add_dims(3);
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    for (auto [k, v] : {std::pair<std::string, std::string>{"location", "m.onnx_data"},
                        {"offset", std::to_string(offset)},
                        {"length", "24"}}) {
      auto* e = t->add_external_data();
      e->set_key(k);
      e->set_value(v);
    }
    if (cast_first) {
      SetIntAttr(AddNode(g, "Cast", {"w"}, {"w32"}, "c"), "to", onnx::TensorProto::FLOAT);
      SetIntAttr(AddNode(g, "Gather", {"w32", kInputName}, {kOutputName}, "g"), "axis", 0);
    } else {
      SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {"rows"}, "g"), "axis", 0);
      SetIntAttr(AddNode(g, "Cast", {"rows"}, {kOutputName}, "c"), "to", onnx::TensorProto::FLOAT);
    }
    return m;
  }

  fs::path dir_;
};

std::vector<float> Floats(const HostTensor& t) {
  std::vector<float> v(t.count());
  std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}

// A graph of inline initializers only: input_ids -> Gather(w) then `extra` nodes that
// the test appends, producing inputs_embeds. w is FLOAT [4, 2].
onnx::ModelProto InlineModel() {
  onnx::ModelProto m;
  m.set_ir_version(10);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(20);
  onnx::GraphProto* g = m.mutable_graph();
  AddLookupIO(g, 2);
  std::vector<float> w = {0, 1, 2, 3, 4, 5, 6, 7};
  AddRawInitializer(g, "w", onnx::TensorProto::FLOAT, {4, 2},
                    std::string(reinterpret_cast<const char*>(w.data()), w.size() * 4));
  return m;
}

TEST_F(EvaluatorTest, WrongInputCountIsRefusedByTheOpTable) {
  struct Case {
    const char* op;
    std::vector<std::string> inputs;
    const char* phrase;
  };
  const Case cases[] = {
      {"Gather", {"w"}, "1 inputs, Gather takes 2"},
      {"Gather", {"w", kInputName, kInputName}, "3 inputs, Gather takes 2"},
      {"Cast", {"w", "w"}, "2 inputs, Cast takes 1"},
      {"Mul", {"w"}, "1 inputs, Mul takes 2"},
      {"Concat", {}, "0 inputs, Concat takes at least 1"},
  };
  for (const Case& c : cases) {
    onnx::ModelProto m = InlineModel();
    onnx::NodeProto* n = m.mutable_graph()->add_node();
    n->set_op_type(c.op);
    n->set_name("bad");
    for (const std::string& i : c.inputs) n->add_input(i);
    n->add_output(kOutputName);
    auto model = LoadedModel::Load(Write(m, ""));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto out = EvaluateLookup(**model, MakeIdsTensor({0}, 1, 1));
    ASSERT_FALSE(out.ok()) << c.op;
    EXPECT_NE(out.status().message().find("node 'bad' (" + std::string(c.op) + "): " + c.phrase),
              std::string::npos)
        << out.status().message();
  }
}

TEST_F(EvaluatorTest, UnknownOpIsNotSupported) {
  onnx::ModelProto m = InlineModel();
  AddNode(m.mutable_graph(), "MatMul", {"w", "w"}, {kOutputName}, "mm");
  auto model = LoadedModel::Load(Write(m, ""));
  ASSERT_TRUE(model.ok());
  auto out = EvaluateLookup(**model, MakeIdsTensor({0}, 1, 1));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(out.status().message().find("node 'mm' (MatMul): op not supported"), std::string::npos)
      << out.status().message();
}

TEST_F(EvaluatorTest, HostileReshapeTargetsGiveAStatus) {
  const std::vector<std::vector<int64_t>> hostile = {
      {int64_t{1} << 40, int64_t{1} << 40, 0},  // 0 keeps the input's 2; the product overflows
      {int64_t{1} << 62, 4, -1},                // the product overflows 64 bits
      {-1, -1, 2},                              // two inferred dimensions
      {1, -3, 2},                               // negative dimension
      {1, 2, 2, 0, -1},                         // -1 next to a 0 (past the input's rank)
      {1, 1, 3},                                // 3 elements for 4
  };
  for (const auto& shape : hostile) {
    onnx::ModelProto m = InlineModel();
    onnx::GraphProto* g = m.mutable_graph();
    SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {"rows"}, "g"), "axis", 0);
    AddInt64Initializer(g, "shape", {static_cast<int64_t>(shape.size())}, shape);
    AddNode(g, "Reshape", {"rows", "shape"}, {kOutputName}, "r");
    auto model = LoadedModel::Load(Write(m, ""));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto out = EvaluateLookup(**model, MakeIdsTensor({0, 1}, 1, 2));
    ASSERT_FALSE(out.ok()) << "shape[0] = " << shape[0] << ", rank " << shape.size();
    EXPECT_NE(out.status().message().find("node 'r' (Reshape)"), std::string::npos) << out.status().message();
  }
  // A valid target still works: [1, 2, 2] from the gathered [1, 2, 2], with -1 inferred.
  onnx::ModelProto m = InlineModel();
  onnx::GraphProto* g = m.mutable_graph();
  SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {"rows"}, "g"), "axis", 0);
  AddInt64Initializer(g, "shape", {3}, {0, -1, 2});
  AddNode(g, "Reshape", {"rows", "shape"}, {kOutputName}, "r");
  auto model = LoadedModel::Load(Write(m, ""));
  ASSERT_TRUE(model.ok());
  auto out = EvaluateLookup(**model, MakeIdsTensor({3, 1}, 1, 2));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(Floats(*out), (std::vector<float>{6, 7, 2, 3}));
}

TEST_F(EvaluatorTest, BroadcastToAHugeShapeIsRefusedBeforeAllocating) {
  // [2^20, 1] * [1, 2^20] would be 2^40 floats: refused, not allocated.
  onnx::ModelProto m = InlineModel();
  onnx::GraphProto* g = m.mutable_graph();
  AddRawInitializer(g, "col", onnx::TensorProto::FLOAT, {1 << 20, 1}, std::string(4u << 20, '\0'));
  AddRawInitializer(g, "row", onnx::TensorProto::FLOAT, {1, 1 << 20}, std::string(4u << 20, '\0'));
  AddNode(g, "Mul", {"col", "row"}, {kOutputName}, "huge");
  auto model = LoadedModel::Load(Write(m, ""));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto out = EvaluateLookup(**model, MakeIdsTensor({0}, 1, 1));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("node 'huge' (Mul): a tensor of shape [1048576, 1048576] exceeds"),
            std::string::npos)
      << out.status().message();
}

TEST_F(EvaluatorTest, ConcatOfHugeDimensionsIsRefused) {
  onnx::ModelProto m = InlineModel();
  onnx::GraphProto* g = m.mutable_graph();
  SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {"rows"}, "g"), "axis", 0);
  AddNode(g, "Concat", {"rows", "rows"}, {kOutputName}, "c");
  SetIntAttr(g->mutable_node(1), "axis", -1);
  auto model = LoadedModel::Load(Write(m, ""));
  ASSERT_TRUE(model.ok());
  // 274177 * 67280421310721 = 2^64 + 1: the product wraps to 1, which the one id's
  // 8 bytes would match if the count were not checked for overflow.
  HostTensor ids = MakeIdsTensor({0}, 1, 1);
  ids.dims = {274177, 67280421310721};
  auto out = EvaluateLookup(**model, ids);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("input_ids: a tensor of shape [274177, 67280421310721] exceeds"),
            std::string::npos)
      << out.status().message();
  // The same graph on a sane input concatenates along the last axis.
  out = EvaluateLookup(**model, MakeIdsTensor({2}, 1, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 1, 4}));
  EXPECT_EQ(Floats(*out), (std::vector<float>{4, 5, 4, 5}));
}

TEST_F(EvaluatorTest, CastOfNaNToIntegerIsDefined) {
  onnx::ModelProto m = InlineModel();
  onnx::GraphProto* g = m.mutable_graph();
  const float nan_inf[2] = {std::nanf(""), 1e30f};
  AddRawInitializer(g, "x", onnx::TensorProto::FLOAT, {2},
                    std::string(reinterpret_cast<const char*>(nan_inf), 8));
  AddNode(g, "Cast", {"x"}, {"xi"}, "to_int");
  SetIntAttr(g->mutable_node(0), "to", onnx::TensorProto::INT32);
  SetIntAttr(AddNode(g, "Cast", {"xi"}, {"xf"}, "back"), "to", onnx::TensorProto::FLOAT);
  SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {"rows"}, "g"), "axis", 0);
  AddNode(g, "Mul", {"rows", "xf"}, {kOutputName}, "m");
  auto model = LoadedModel::Load(Write(m, ""));
  ASSERT_TRUE(model.ok());
  auto out = EvaluateLookup(**model, MakeIdsTensor({1}, 1, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // NaN -> 0; 1e30 saturates to INT64_MAX, then wraps to INT32 -1 as a narrowing store.
  EXPECT_EQ(Floats(*out), (std::vector<float>{0, -3}));
}

TEST_F(EvaluatorTest, GatherThenCastAndCastThenGatherAgree) {
  for (bool cast_first : {false, true}) {
    std::string sidecar;
    std::string path = Write(Fp16Model(cast_first, 7, &sidecar), sidecar);
    auto model = LoadedModel::Load(path);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto out = EvaluateLookup(**model, MakeIdsTensor({2, 0, -1}, 1, 3));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 3, 3}));
    // A negative id counts from the end, as in ONNX Runtime.
    EXPECT_EQ(Floats(*out), (std::vector<float>{2, 2.5, 3, 0, 0.5, 1, 3, 3.5, 4}));
  }
}

TEST_F(EvaluatorTest, OutOfRangeIdIsRefused) {
  std::string sidecar;
  auto model = LoadedModel::Load(Write(Fp16Model(false, 0, &sidecar), sidecar));
  ASSERT_TRUE(model.ok());
  auto out = EvaluateLookup(**model, MakeIdsTensor({4}, 1, 1));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("index 4 is out of range"), std::string::npos)
      << out.status().message();
  EXPECT_FALSE(EvaluateLookup(**model, MakeIdsTensor({-5}, 1, 1)).ok());
}

TEST_F(EvaluatorTest, SidecarShorterThanTensorIsRefusedAtLoad) {
  std::string sidecar;
  onnx::ModelProto m = Fp16Model(false, 0, &sidecar);
  auto model = LoadedModel::Load(Write(m, sidecar.substr(0, sidecar.size() - 1)));
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("runs past the end"), std::string::npos)
      << model.status().message();
}

TEST_F(EvaluatorTest, WrongLengthAndUnknownKeyAreRefused) {
  std::string sidecar;
  onnx::ModelProto m = Fp16Model(false, 0, &sidecar);
  m.mutable_graph()->mutable_initializer(0)->mutable_external_data(2)->set_value("23");
  EXPECT_FALSE(LoadedModel::Load(Write(m, sidecar)).ok());
  m.mutable_graph()->mutable_initializer(0)->mutable_external_data(2)->set_value("24");
  auto* extra = m.mutable_graph()->mutable_initializer(0)->add_external_data();
  extra->set_key("basepath");
  extra->set_value("0");
  auto r = LoadedModel::Load(Write(m, sidecar));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("basepath"), std::string::npos);
}

TEST_F(EvaluatorTest, LocationMustBeAPlainFileName) {
  std::string sidecar;
  onnx::ModelProto m = Fp16Model(false, 0, &sidecar);
  m.mutable_graph()->mutable_initializer(0)->mutable_external_data(0)->set_value("../m.onnx_data");
  EXPECT_FALSE(LoadedModel::Load(Write(m, sidecar)).ok());
}

TEST_F(EvaluatorTest, ContractChecksIoOpsetAndLayout) {
  std::string sidecar;
  onnx::ModelProto m = Fp16Model(false, 0, &sidecar);
  ContractOptions opts;
  opts.hidden = 3;
  opts.expected_location = "m.onnx_data";
  // 24 bytes of table: our layout keeps such a tensor inline, so it is refused there ...
  auto model = LoadedModel::Load(Write(m, sidecar));
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(CheckLookupContract(**model, opts).ok());
  // ... and accepted without our layout rules (an export by another tool).
  opts.our_layout = false;
  EXPECT_TRUE(CheckLookupContract(**model, opts).ok());
  opts.hidden = 4;
  EXPECT_FALSE(CheckLookupContract(**model, opts).ok());
  opts.hidden = 3;
  m.set_ir_version(9);
  model = LoadedModel::Load(Write(m, sidecar));
  ASSERT_TRUE(model.ok());
  EXPECT_FALSE(CheckLookupContract(**model, opts).ok());
  m.set_ir_version(10);
  m.mutable_opset_import(0)->set_version(19);
  model = LoadedModel::Load(Write(m, sidecar));
  EXPECT_FALSE(CheckLookupContract(**model, opts).ok());
  m.mutable_opset_import(0)->set_version(20);
  m.mutable_graph()->mutable_input(0)->set_name("ids");
  model = LoadedModel::Load(Write(m, sidecar));
  EXPECT_FALSE(CheckLookupContract(**model, opts).ok());
}

}  // namespace
}  // namespace embed2onnx

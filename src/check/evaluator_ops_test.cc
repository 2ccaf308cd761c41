// The evaluator's index-arithmetic and data-movement ops (the ones the splice graphs use), one by one,
// against values worked out by hand from the ONNX operator definitions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "check/evaluator.h"
#include "onnx/graph_util.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;
using TP = onnx::TensorProto;

class EvaluatorOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2o_evalops_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A graph on input_ids [1, n] whose nodes `build` adds; the last must write
  // inputs_embeds. Returns what the evaluator computes.
  Result<HostTensor> Run(const std::function<void(onnx::GraphProto*)>& build,
                         const std::vector<int64_t>& ids = {0}) {
    onnx::ModelProto m;
    SetModelHeader(&m);
    onnx::GraphProto* g = m.mutable_graph();
    AddLookupIO(g, 1);
    build(g);
    const std::string path = (dir_ / "m.onnx").string();
    std::ofstream(path, std::ios::binary) << m.SerializeAsString();
    auto model = LoadedModel::Load(path);
    if (!model.ok()) return model.status();
    return EvaluateLookup(**model, MakeIdsTensor(ids, 1, static_cast<int64_t>(ids.size())));
  }
  fs::path dir_;
};

std::vector<int64_t> Ints(const HostTensor& t) {
  std::vector<int64_t> v(t.count());
  EXPECT_EQ(t.elem_type, TP::INT64);
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * 8);
  return v;
}
std::vector<uint32_t> FloatBits(const HostTensor& t) {
  std::vector<uint32_t> v(t.count());
  EXPECT_EQ(t.elem_type, TP::FLOAT);
  if (!v.empty()) std::memcpy(v.data(), t.data.data(), v.size() * 4);
  return v;
}
void AddFloats(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
               const std::vector<float>& v) {
  AddRawInitializer(g, name, TP::FLOAT, dims,
                    std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4));
}
void AddBools(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
              const std::vector<uint8_t>& v) {
  AddRawInitializer(g, name, TP::BOOL, dims, std::string(v.begin(), v.end()));
}
uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST_F(EvaluatorOpsTest, EqualBroadcastsAndGivesBool) {
  auto out = Run(
      [](onnx::GraphProto* g) {
        AddInt64Initializer(g, "a", {}, {7});
        AddNode(g, "Equal", {kInputName, "a"}, {"eq"}, "eq");
        SetIntAttr(AddNode(g, "Cast", {"eq"}, {kOutputName}, "c"), "to", TP::INT64);
      },
      {7, 1, 7, -7});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{1, 0, 1, 0}));
  // Floats compare as IEEE values: -0.0 equals +0.0, NaN equals nothing.
  out = Run([](onnx::GraphProto* g) {
    AddFloats(g, "x", {3}, {-0.0f, std::nanf(""), 1.5f});
    AddFloats(g, "y", {3}, {0.0f, std::nanf(""), 1.5f});
    AddNode(g, "Equal", {"x", "y"}, {"eq"}, "eq");
    SetIntAttr(AddNode(g, "Cast", {"eq"}, {kOutputName}, "c"), "to", TP::INT64);
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{1, 0, 1}));
  // Operands of different types are refused.
  out = Run([](onnx::GraphProto* g) {
    AddFloats(g, "x", {1}, {0});
    AddNode(g, "Equal", {kInputName, "x"}, {kOutputName}, "eq");
  });
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("node 'eq' (Equal): operand types differ"), std::string::npos);
}

TEST_F(EvaluatorOpsTest, CastsOfBool) {
  auto out = Run([](onnx::GraphProto* g) {
    AddBools(g, "b", {3}, {1, 0, 1});
    SetIntAttr(AddNode(g, "Cast", {"b"}, {kOutputName}, "c"), "to", TP::INT64);
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{1, 0, 1}));
  // Float -> BOOL is "nonzero": NaN is true, -0.0 false.
  out = Run([](onnx::GraphProto* g) {
    AddFloats(g, "x", {4}, {0.5f, std::nanf(""), -0.0f, -3.0f});
    SetIntAttr(AddNode(g, "Cast", {"x"}, {"b"}, "tobool"), "to", TP::BOOL);
    SetIntAttr(AddNode(g, "Cast", {"b"}, {kOutputName}, "c"), "to", TP::INT64);
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{1, 1, 0, 1}));
  // An op the evaluator does not have is refused by name.
  out = Run([](onnx::GraphProto* g) { AddNode(g, "Not", {kInputName}, {kOutputName}, "not"); });
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("Not"), std::string::npos) << out.status().message();
}

TEST_F(EvaluatorOpsTest, WhereBroadcastsAndKeepsFloatBits) {
  auto out = Run(
      [](onnx::GraphProto* g) {
        AddInt64Initializer(g, "a", {}, {5});
        AddInt64Initializer(g, "zero", {}, {0});
        AddNode(g, "Equal", {kInputName, "a"}, {"is"}, "eq");
        AddNode(g, "Where", {"is", "zero", kInputName}, {kOutputName}, "w");
      },
      {5, 3, 5, 9});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{0, 3, 0, 9}));
  out = Run([](onnx::GraphProto* g) {
    AddBools(g, "c", {2, 1}, {1, 0});
    AddFloats(g, "x", {2}, {-0.0f, 1.0f});
    AddFloats(g, "y", {1}, {0.0f});
    AddNode(g, "Where", {"c", "x", "y"}, {kOutputName}, "w");
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(FloatBits(*out), (std::vector<uint32_t>{0x80000000u, Bits(1.0f), 0, 0}));
  out = Run([](onnx::GraphProto* g) {
    AddInt64Initializer(g, "zero", {}, {0});
    AddNode(g, "Where", {kInputName, "zero", kInputName}, {kOutputName}, "w");
  });
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("condition must be BOOL"), std::string::npos);
}

TEST_F(EvaluatorOpsTest, ShapeWithStartAndEnd) {
  struct Case {
    int64_t start, end;
    std::vector<int64_t> want;
  };
  // The shape of input_ids [1, 3] gathered from a [4, 2] table: [1, 3, 2].
  const Case cases[] = {{0, 3, {1, 3, 2}}, {1, 3, {3, 2}}, {0, 1, {1}}, {-1, 99, {2}}, {2, 1, {}}};
  for (const Case& c : cases) {
    auto out = Run(
        [&](onnx::GraphProto* g) {
          AddFloats(g, "w", {4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
          SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {"rows"}, "g"), "axis", 0);
          onnx::NodeProto* n = AddNode(g, "Shape", {"rows"}, {kOutputName}, "s");
          SetIntAttr(n, "start", c.start);
          SetIntAttr(n, "end", c.end);
        },
        {0, 1, 2});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->dims, (std::vector<int64_t>{static_cast<int64_t>(c.want.size())}));
    EXPECT_EQ(Ints(*out), c.want) << c.start << ".." << c.end;
  }
}

TEST_F(EvaluatorOpsTest, SqueezeNamedOrEveryUnitAxis) {
  auto out = Run([](onnx::GraphProto* g) {
    AddInt64Initializer(g, "x", {1, 2, 1}, {4, 5});
    AddInt64Initializer(g, "axes", {1}, {-1});
    AddNode(g, "Squeeze", {"x", "axes"}, {kOutputName}, "sq");
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 2}));
  out = Run([](onnx::GraphProto* g) {
    AddInt64Initializer(g, "x", {1, 2, 1}, {4, 5});
    AddNode(g, "Squeeze", {"x"}, {kOutputName}, "sq");
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{2}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{4, 5}));
  out = Run([](onnx::GraphProto* g) {
    AddInt64Initializer(g, "x", {1, 2, 1}, {4, 5});
    AddInt64Initializer(g, "axes", {1}, {1});
    AddNode(g, "Squeeze", {"x", "axes"}, {kOutputName}, "sq");
  });
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("cannot squeeze axis 1 of [1, 2, 1]"), std::string::npos);
}

TEST_F(EvaluatorOpsTest, RangeCountsAsOnnxDefinesIt) {
  struct Case {
    int64_t start, limit, delta;
    std::vector<int64_t> want;
  };
  const Case cases[] = {
      {0, 4, 1, {0, 1, 2, 3}}, {1, 8, 3, {1, 4, 7}}, {5, 0, -2, {5, 3, 1}}, {3, 3, 1, {}}, {4, 0, 1, {}},
  };
  for (const Case& c : cases) {
    auto out = Run([&](onnx::GraphProto* g) {
      AddInt64Initializer(g, "s", {}, {c.start});
      AddInt64Initializer(g, "l", {}, {c.limit});
      AddInt64Initializer(g, "d", {}, {c.delta});
      AddNode(g, "Range", {"s", "l", "d"}, {kOutputName}, "r");
    });
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(Ints(*out), c.want) << c.start << " " << c.limit << " " << c.delta;
  }
  for (int64_t limit : {int64_t{1} << 40, INT64_MAX}) {
    auto out = Run([&](onnx::GraphProto* g) {
      AddInt64Initializer(g, "s", {}, {INT64_MIN});
      AddInt64Initializer(g, "l", {}, {limit});
      AddInt64Initializer(g, "d", {}, {1});
      AddNode(g, "Range", {"s", "l", "d"}, {kOutputName}, "r");
    });
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("exceeds the verifier's"), std::string::npos);
  }
  auto out = Run([](onnx::GraphProto* g) {
    AddInt64Initializer(g, "s", {}, {0});
    AddInt64Initializer(g, "d", {}, {0});
    AddNode(g, "Range", {"s", "s", "d"}, {kOutputName}, "r");
  });
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("delta is 0"), std::string::npos);
}

TEST_F(EvaluatorOpsTest, NonZeroListsCoordinatesInRowMajorOrder) {
  auto out = Run([](onnx::GraphProto* g) {
    AddBools(g, "m", {2, 3}, {1, 0, 1, 0, 0, 1});
    AddNode(g, "NonZero", {"m"}, {kOutputName}, "nz");
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{0, 0, 1, 0, 2, 2}));
  // -0.0 is zero, NaN is not.
  out = Run([](onnx::GraphProto* g) {
    AddFloats(g, "x", {4}, {-0.0f, std::nanf(""), 0.0f, 2.0f});
    AddNode(g, "NonZero", {"x"}, {kOutputName}, "nz");
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{1, 3}));
  out = Run([](onnx::GraphProto* g) {
    AddBools(g, "m", {2, 2}, {0, 0, 0, 0});
    AddNode(g, "NonZero", {"m"}, {kOutputName}, "nz");
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{2, 0}));
}

TEST_F(EvaluatorOpsTest, TransposeByPermOrReversed) {
  auto transpose = [&](const std::vector<int64_t>& dims, const std::vector<int64_t>& x,
                       const std::vector<int64_t>* perm) {
    return Run([&](onnx::GraphProto* g) {
      AddInt64Initializer(g, "x", dims, x);
      onnx::NodeProto* n = AddNode(g, "Transpose", {"x"}, {kOutputName}, "t");
      if (perm) {
        onnx::AttributeProto* a = n->add_attribute();
        a->set_name("perm");
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t p : *perm) a->add_ints(p);
      }
    });
  };
  const std::vector<int64_t> x23 = {1, 2, 3, 4, 5, 6};
  auto out = transpose({2, 3}, x23, nullptr);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{1, 4, 2, 5, 3, 6}));
  // x[a][b][c] = 6a + 2b + c, out[i][j][l] = x[j][l][i].
  std::vector<int64_t> x322(12);
  for (int64_t i = 0; i < 12; ++i) x322[i] = i;
  const std::vector<int64_t> perm = {2, 0, 1};
  out = transpose({2, 3, 2}, x322, &perm);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(Ints(*out), (std::vector<int64_t>{0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}));
  const std::vector<int64_t> twice = {0, 0};
  out = transpose({2, 3}, x23, &twice);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("perm is not a permutation"), std::string::npos);
}

TEST_F(EvaluatorOpsTest, ScatterNDCopiesSlicesBitForBitAndChecksShapes) {
  // data [2, 3, 2] of 0..11; rows [0, 1] and [-1, 2] (= [1, 2]) get -0.0, a NaN with a
  // payload, a subnormal and -inf.
  const uint32_t kUpd[] = {0x80000000u, 0x7fc00001u, 0x00000001u, 0xff800000u};
  auto scatter = [&](const std::vector<int64_t>& idims, const std::vector<int64_t>& idx,
                     const std::vector<int64_t>& udims, const std::string& reduction = "") {
    return Run([&](onnx::GraphProto* g) {
      std::vector<float> d(12);
      for (int i = 0; i < 12; ++i) d[i] = static_cast<float>(i);
      AddFloats(g, "data", {2, 3, 2}, d);
      AddInt64Initializer(g, "idx", idims, idx);
      uint64_t n = 1;
      for (int64_t v : udims) n *= static_cast<uint64_t>(v);
      std::string u;
      for (uint64_t i = 0; i < n; ++i) u.append(reinterpret_cast<const char*>(&kUpd[i % 4]), 4);
      AddRawInitializer(g, "upd", TP::FLOAT, udims, u);
      onnx::NodeProto* node = AddNode(g, "ScatterND", {"data", "idx", "upd"}, {kOutputName}, "s");
      if (!reduction.empty()) SetStringAttr(node, "reduction", reduction);
    });
  };
  auto out = scatter({2, 2}, {0, 1, -1, 2}, {2, 2});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->dims, (std::vector<int64_t>{2, 3, 2}));
  std::vector<uint32_t> want;
  for (int i = 0; i < 12; ++i) want.push_back(Bits(static_cast<float>(i)));
  want[2] = kUpd[0];
  want[3] = kUpd[1];
  want[10] = kUpd[2];
  want[11] = kUpd[3];
  EXPECT_EQ(FloatBits(*out), want);
  // One element per index tuple when indices.shape[-1] is the data's rank.
  out = scatter({1, 3}, {1, 0, 1}, {1});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(FloatBits(*out)[7], kUpd[0]);
  // No indices: the data as it is.
  out = scatter({0, 2}, {}, {0, 2});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(FloatBits(*out)[11], Bits(11.0f));
  // updates must be indices.shape[:-1] + data.shape[2:] = [2, 2]: fewer rows and more both fail.
  for (const std::vector<int64_t>& udims : {std::vector<int64_t>{1, 2}, std::vector<int64_t>{3, 2},
                                            std::vector<int64_t>{2, 1}, std::vector<int64_t>{0, 2}}) {
    out = scatter({2, 2}, {0, 1, 1, 2}, udims);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.status().message().find("updates of shape"), std::string::npos) << out.status().message();
  }
  out = scatter({0, 2}, {}, {1, 2});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("updates of shape [1, 2], not [0, 2]"), std::string::npos)
      << out.status().message();
  out = scatter({2, 2}, {0, 1, 2, 0}, {2, 2});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("index 2 is out of range [-2, 1]"), std::string::npos)
      << out.status().message();
  out = scatter({2, 2}, {1, 2, -1, -1}, {2, 2});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("one slice twice"), std::string::npos) << out.status().message();
  out = scatter({2, 2}, {0, 1, 1, 2}, {2, 2}, "add");
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("reduction 'add'"), std::string::npos) << out.status().message();
}

}  // namespace
}  // namespace embed2onnx

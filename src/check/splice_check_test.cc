#include "check/splice_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "onnx/graph_util.h"
#include "onnx/splice_graph.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;

// A plain fp32 lookup of a [5, 4] inline table whose row r holds r + j / 8, and its
// splice graph for audio token 3.
class SpliceCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2o_splicecheck_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    SetModelHeader(&plain_);
    onnx::GraphProto* g = plain_.mutable_graph();
    AddLookupIO(g, 4);
    std::vector<float> w;
    for (int r = 0; r < 5; ++r)
      for (int j = 0; j < 4; ++j) w.push_back(r + j / 8.0f);
    AddRawInitializer(g, "w", onnx::TensorProto::FLOAT, {5, 4},
                      std::string(reinterpret_cast<const char*>(w.data()), w.size() * 4));
    SetIntAttr(AddNode(g, "Gather", {"w", kInputName}, {kOutputName}, "g"), "axis", 0);
    auto s = MakeSpliceModel(plain_, Audio(3), "splice");
    ASSERT_TRUE(s.ok());
    splice_ = *s;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<LoadedModel> Load(const onnx::ModelProto& m, const std::string& name) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << m.SerializeAsString();
    auto r = LoadedModel::Load(path);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }
  static SpliceTokens Audio(int64_t id) { return {std::nullopt, id}; }
  Status Check(const onnx::ModelProto& splice, const SpliceTokens& tokens = Audio(3)) {
    auto p = Load(plain_, "plain.onnx");
    auto s = Load(splice, "splice.onnx");
    if (!p || !s) return Status::IOError("load");
    return CheckSpliceGraph(*s, *p, tokens, {0, 1, 3, 4});
  }
  onnx::NodeProto* Node(onnx::ModelProto* m, const std::string& name) {
    for (auto& n : *m->mutable_graph()->mutable_node())
      if (n.name() == name) return &n;
    ADD_FAILURE() << "no node " << name;
    return m->mutable_graph()->mutable_node(0);
  }

  // Makes modality `mod`'s scatter take only the first K of its rows, K the number of its
  // positions, so that ScatterND's shape rule always holds: one row too many then runs
  // (one too few still fails, in Gather).
  void TakeFirstRows(onnx::ModelProto* m, const std::string& mod) {
    const std::string cap = mod == "audio" ? "Audio" : "Image",
                      scatter = "EmbedTokens_Splice_" + cap + "Scatter";
    onnx::GraphProto* g = m->mutable_graph();
    AddInt64Initializer(g, "splice.test_one", {}, {1});
    AddInt64Initializer(g, "splice.test_axis0", {1}, {0});
    Node(m, scatter)->set_input(2, "splice.first_rows");
    auto nodes = g->node();
    g->clear_node();
    for (const auto& n : nodes) {
      if (n.name() == scatter) {
        SetIntAttr(AddNode(g, "Shape", {"splice." + mod + "_positions"}, {"splice.k1"}, "t1"), "end", 1);
        AddNode(g, "Squeeze", {"splice.k1", "splice.test_axis0"}, {"splice.k"}, "t2");
        AddNode(g, "Range", {"splice.zero", "splice.k", "splice.test_one"}, {"splice.first"}, "t3");
        SetIntAttr(AddNode(g, "Gather", {mod + "_features", "splice.first"}, {"splice.first_rows"}, "t4"),
                   "axis", 0);
      }
      *g->add_node() = n;
    }
  }

  // Makes the graph add `shift` (an int64 [1] value the nodes that `shift_nodes` adds
  // compute, after the text ids) to every text id: a graph right except where `shift` is 1.
  void ShiftTextIds(onnx::ModelProto* m, const std::function<std::string(onnx::GraphProto*)>& shift_nodes) {
    onnx::GraphProto* g = m->mutable_graph();
    AddInt64Initializer(g, "splice.test_m", {1}, {0});
    AddInt64Initializer(g, "splice.test_one_i64", {1}, {1});
    Node(m, "EmbedTokens_Splice_TextIds")->set_output(0, "splice.text_ids_unshifted");
    auto nodes = g->node();
    g->clear_node();
    for (const auto& n : nodes) {
      *g->add_node() = n;
      if (n.name() == "EmbedTokens_Splice_TextIds")
        AddNode(g, "Add", {"splice.text_ids_unshifted", shift_nodes(g)}, {"splice.text_ids"}, "t_shift");
    }
  }
  // Adds nodes computing an int64 [1] value: 1 when `input` has no rows, else 0.
  static std::string NoRows(onnx::GraphProto* g, const std::string& input) {
    const std::string v = "splice.test_no_" + input;
    SetIntAttr(AddNode(g, "Shape", {input}, {v + "_rows"}, v + "_shape"), "end", 1);
    AddNode(g, "Equal", {v + "_rows", "splice.test_m"}, {v + "_bool"}, v + "_equal");
    SetIntAttr(AddNode(g, "Cast", {v + "_bool"}, {v}, v + "_cast"), "to", onnx::TensorProto::INT64);
    return v;
  }

  fs::path dir_;
  onnx::ModelProto plain_, splice_;
};

TEST_F(SpliceCheckTest, TheBuiltSpliceGraphPasses) {
  Status s = Check(splice_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(SpliceCheckTest, AGraphThatDropsSpareAudioRowsFails) {
  onnx::ModelProto m = splice_;
  TakeFirstRows(&m, "audio");
  Status s = Check(m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("3 audio tokens with 4 audio_features rows ran without an error"),
            std::string::npos)
      << s.message();
}

TEST_F(SpliceCheckTest, AnotherAudioIdFails) {
  auto m = MakeSpliceModel(plain_, Audio(4), "splice");
  ASSERT_TRUE(m.ok());
  Status s = Check(*m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("splice.onnx: run with 3 audio tokens failed"), std::string::npos)
      << s.message();
}

TEST_F(SpliceCheckTest, AudioRowsInTheWrongOrderFail) {
  // The three audio rows reversed before they are scattered.
  onnx::ModelProto m = splice_;
  onnx::GraphProto* g = m.mutable_graph();
  AddInt64Initializer(g, "splice.test_reversed", {3}, {2, 1, 0});
  Node(&m, "EmbedTokens_Splice_AudioScatter")->set_input(2, "splice.reversed_rows");
  auto nodes = g->node();
  g->clear_node();
  for (const auto& n : nodes) {
    if (n.name() == "EmbedTokens_Splice_AudioScatter")
      SetIntAttr(
          AddNode(g, "Gather", {kAudioInputName, "splice.test_reversed"}, {"splice.reversed_rows"}, "t1"),
          "axis", 0);
    *g->add_node() = n;
  }
  Status s = Check(m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("differs from masked_scatter over the tier's graph at position 0"),
            std::string::npos)
      << s.message();
}

TEST_F(SpliceCheckTest, PositionsInTheWrongOrderFail) {
  // NonZero's [2, K] reshaped to [K, 2] instead of transposed (B = 1: rows [0, 0], [0, 0], [p, q]).
  onnx::ModelProto m = splice_;
  onnx::GraphProto* g = m.mutable_graph();
  AddInt64Initializer(g, "splice.test_shape", {2}, {-1, 2});
  for (auto& n : *g->mutable_node())
    if (n.name() == "EmbedTokens_Splice_AudioPositions") {
      n.set_op_type("Reshape");
      n.clear_attribute();
      n.add_input("splice.test_shape");
    }
  Status s = Check(m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("run with 3 audio tokens failed"), std::string::npos) << s.message();
}

TEST_F(SpliceCheckTest, ATableOtherThanTheTiersFails) {
  onnx::ModelProto m = splice_;
  for (auto& t : *m.mutable_graph()->mutable_initializer())
    if (t.name() == "w") (*t.mutable_raw_data())[5] ^= 1;
  Status s = Check(m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("initializer 'w' is not the tier's"), std::string::npos) << s.message();
}

TEST_F(SpliceCheckTest, NoAudioMustBeThePlainGraph) {
  // Text ids shifted by one row when there are no audio rows: only check 4 can see it.
  onnx::ModelProto m = splice_;
  ShiftTextIds(&m, [](onnx::GraphProto* g) { return NoRows(g, kAudioInputName); });
  Status s = Check(m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("with no spliced token its output is not the tier's graph's"), std::string::npos)
      << s.message();
}

// Image and audio in one graph: image token 2, audio token 3.
TEST_F(SpliceCheckTest, ImageAndAudioTogetherPass) {
  const SpliceTokens both{2, 3};
  auto m = MakeSpliceModel(plain_, both, "splice");
  ASSERT_TRUE(m.ok()) << m.status().message();
  Status s = Check(*m, both);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Judged as an audio-only graph, its inputs do not match.
  EXPECT_FALSE(Check(*m).ok());
}

TEST_F(SpliceCheckTest, ImageRowsAtTheAudioPositionsFail) {
  // The two feature inputs swapped in the graph's input list: each modality's rows would
  // land at the other's positions.
  const SpliceTokens both{2, 3};
  auto m = MakeSpliceModel(plain_, both, "splice");
  ASSERT_TRUE(m.ok());
  onnx::GraphProto* g = m->mutable_graph();
  for (auto& n : *g->mutable_node())
    for (std::string& in : *n.mutable_input())
      in = in == kAudioInputName ? kImageInputName : in == kImageInputName ? kAudioInputName : in;
  Status s = Check(*m, both);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("differs from masked_scatter over the tier's graph at position"),
            std::string::npos)
      << s.message();
}

TEST_F(SpliceCheckTest, SpareImageRowsMustFail) {
  const SpliceTokens both{2, 3};
  auto built = MakeSpliceModel(plain_, both, "splice");
  ASSERT_TRUE(built.ok());
  onnx::ModelProto m = *built;
  TakeFirstRows(&m, "image");
  Status s = Check(m, both);
  ASSERT_FALSE(s.ok());
  // Caught first where the image scatter has no position at all.
  EXPECT_NE(s.message().find("3 audio tokens, no image token and 1 image_features row ran without an error"),
            std::string::npos)
      << s.message();
}

TEST_F(SpliceCheckTest, AudioAloneInAnImageAndAudioGraphMustBeRight) {
  // Text ids shifted by one row when there are no image rows but some audio rows: only
  // the audio-alone run can see it (the no-token check has no audio rows either).
  const SpliceTokens both{2, 3};
  auto built = MakeSpliceModel(plain_, both, "splice");
  ASSERT_TRUE(built.ok());
  onnx::ModelProto m = *built;
  // shift = (image rows == 0) * (1 - (audio rows == 0))
  ShiftTextIds(&m, [](onnx::GraphProto* g) {
    AddNode(g, "Sub", {"splice.test_one_i64", NoRows(g, kAudioInputName)}, {"splice.some_audio"}, "t_sub");
    AddNode(g, "Mul", {NoRows(g, kImageInputName), "splice.some_audio"}, {"splice.shift"}, "t_mul");
    return std::string("splice.shift");
  });
  Status s = Check(m, both);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("run with 3 audio tokens, no image"), std::string::npos) << s.message();
}

TEST_F(SpliceCheckTest, AGraphThatChecksOnlyTheTotalCountFails) {
  // The rows of both inputs concatenated, the first K_image of them scattered at the image
  // positions and the rest at the audio ones: right whenever the counts are, and it fails
  // whenever the total is wrong, but one row moved from one input to the other runs.
  const SpliceTokens both{2, 3};
  auto built = MakeSpliceModel(plain_, both, "splice");
  ASSERT_TRUE(built.ok());
  onnx::ModelProto m = *built;
  onnx::GraphProto* g = m.mutable_graph();
  AddInt64Initializer(g, "splice.test_one", {}, {1});
  AddInt64Initializer(g, "splice.test_axis0", {1}, {0});
  Node(&m, "EmbedTokens_Splice_ImageScatter")->set_input(2, "splice.t_image_rows");
  Node(&m, "EmbedTokens_Splice_AudioScatter")->set_input(2, "splice.t_audio_rows");
  auto nodes = g->node();
  g->clear_node();
  for (const auto& n : nodes) {
    if (n.name() == "EmbedTokens_Splice_ImageScatter") {
      SetIntAttr(AddNode(g, "Concat", {kImageInputName, kAudioInputName}, {"splice.t_all"}, "t1"), "axis", 0);
      SetIntAttr(AddNode(g, "Shape", {"splice.image_positions"}, {"splice.t_ki1"}, "t2"), "end", 1);
      AddNode(g, "Squeeze", {"splice.t_ki1", "splice.test_axis0"}, {"splice.t_ki"}, "t3");
      SetIntAttr(AddNode(g, "Shape", {"splice.t_all"}, {"splice.t_n1"}, "t4"), "end", 1);
      AddNode(g, "Squeeze", {"splice.t_n1", "splice.test_axis0"}, {"splice.t_n"}, "t5");
      AddNode(g, "Range", {"splice.zero", "splice.t_ki", "splice.test_one"}, {"splice.t_first"}, "t6");
      AddNode(g, "Range", {"splice.t_ki", "splice.t_n", "splice.test_one"}, {"splice.t_rest"}, "t7");
      SetIntAttr(AddNode(g, "Gather", {"splice.t_all", "splice.t_first"}, {"splice.t_image_rows"}, "t8"),
                 "axis", 0);
      SetIntAttr(AddNode(g, "Gather", {"splice.t_all", "splice.t_rest"}, {"splice.t_audio_rows"}, "t9"),
                 "axis", 0);
    }
    *g->add_node() = n;
  }
  Status s = Check(m, both);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("3 image tokens with 2 image_features rows and 3 audio tokens with 4 "
                             "audio_features rows ran without an error"),
            std::string::npos)
      << s.message();
}

TEST_F(SpliceCheckTest, ImageAlonePasses) {
  const SpliceTokens image{4, std::nullopt};
  auto m = MakeSpliceModel(plain_, image, "splice");
  ASSERT_TRUE(m.ok());
  Status s = Check(*m, image);
  EXPECT_TRUE(s.ok()) << s.ToString();
  // The wrong token id fails.
  EXPECT_FALSE(Check(*m, SpliceTokens{1, std::nullopt}).ok());
}

}  // namespace
}  // namespace embed2onnx

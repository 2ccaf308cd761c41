#include "onnx/splice_graph.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include "onnx/graph_util.h"

namespace embed2onnx {
namespace {

// A plain lookup model as a tier builds it: Gather of a [V, D] table.
onnx::ModelProto PlainModel(int64_t v, int64_t d) {
  onnx::ModelProto m;
  SetModelHeader(&m);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("embed_tokens_fp32");
  AddLookupIO(g, d);
  AddRawInitializer(g, "embed_tokens.weight", onnx::TensorProto::FLOAT, {v, d},
                    std::string(static_cast<size_t>(v * d * 4), '\0'));
  SetIntAttr(AddNode(g, "Gather", {"embed_tokens.weight", kInputName}, {kOutputName}, "EmbedTokens_Gather"),
             "axis", 0);
  return m;
}

SpliceTokens Audio(int64_t id) { return {std::nullopt, id}; }

TEST(SpliceGraphTest, WrapsTheTierNodesBetweenTheSpliceNodes) {
  auto m = MakeSpliceModel(PlainModel(10, 4), Audio(9), "embed_tokens_audio");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const onnx::GraphProto& g = m->graph();
  EXPECT_EQ(g.name(), "embed_tokens_audio");
  ASSERT_EQ(g.input_size(), 2);
  EXPECT_EQ(g.input(0).name(), kInputName);
  EXPECT_EQ(g.input(1).name(), kAudioInputName);
  EXPECT_EQ(g.input(1).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(g.input(1).type().tensor_type().shape().dim(0).dim_param(), "num_audio_tokens");
  EXPECT_EQ(g.input(1).type().tensor_type().shape().dim(1).dim_value(), 4);
  ASSERT_EQ(g.output_size(), 1);
  EXPECT_EQ(g.output(0).name(), kOutputName);
  // The tier's Gather now reads the text ids and writes the text rows; only the last
  // node writes the output.
  int writers = 0;
  for (const auto& n : g.node()) {
    if (n.name() == "EmbedTokens_Gather") {
      EXPECT_EQ(n.input(1), "splice.text_ids");
      EXPECT_EQ(n.output(0), "splice.text_embeds");
    }
    for (const auto& o : n.output()) writers += o == kOutputName;
  }
  EXPECT_EQ(writers, 1);
  EXPECT_EQ(g.node(g.node_size() - 1).output(0), kOutputName);
  // Topological order: every input is a graph input, an initializer or an earlier output.
  std::set<std::string> known = {kInputName, kAudioInputName};
  for (const auto& t : g.initializer()) known.insert(t.name());
  for (const auto& n : g.node()) {
    for (const auto& in : n.input())
      EXPECT_TRUE(known.count(in)) << n.name() << " reads " << in << " too early";
    for (const auto& o : n.output()) known.insert(o);
  }
  // No arithmetic or select touches a float row: after the tier's nodes, only the one
  // ScatterND reads the text rows or the audio rows, and it writes the output.
  int scatters = 0;
  for (const auto& n : g.node()) {
    if (n.name() == "EmbedTokens_Gather") continue;
    if (n.op_type() == "ScatterND") {
      ++scatters;
      EXPECT_EQ(n.input(0), "splice.text_embeds");
      EXPECT_EQ(n.input(2), kAudioInputName);
      EXPECT_EQ(n.output(0), kOutputName);
      continue;
    }
    for (const auto& in : n.input())
      EXPECT_TRUE(in != "splice.text_embeds" && in != kAudioInputName) << n.name() << " reads " << in;
  }
  EXPECT_EQ(scatters, 1);
  // Five splice nodes around the tier's one.
  EXPECT_EQ(g.node_size(), 6);
}

TEST(SpliceGraphTest, KeepsTheInitializersAndTheAudioId) {
  auto m = MakeSpliceModel(PlainModel(10, 4), Audio(123), "g");
  ASSERT_TRUE(m.ok());
  bool table = false, id = false;
  for (const auto& t : m->graph().initializer()) {
    if (t.name() == "embed_tokens.weight") table = t.raw_data().size() == 160;
    if (t.name() == "splice.audio_token_id") {
      int64_t v = 0;
      ASSERT_EQ(t.raw_data().size(), sizeof v);
      std::memcpy(&v, t.raw_data().data(), sizeof v);
      id = v == 123 && t.dims_size() == 0 && t.data_type() == onnx::TensorProto::INT64;
    }
  }
  EXPECT_TRUE(table);
  EXPECT_TRUE(id);
}

TEST(SpliceGraphTest, AudioFeaturesTakeThePlainOutputType) {
  // A plain graph with a FLOAT16 output (the fp16-bundle option): Gather of an fp16 table.
  onnx::ModelProto plain;
  SetModelHeader(&plain);
  onnx::GraphProto* pg = plain.mutable_graph();
  pg->set_name("embed_tokens_fp16w");
  AddLookupIO(pg, 4);
  pg->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT16);
  AddRawInitializer(pg, "embed_tokens.weight", onnx::TensorProto::FLOAT16, {10, 4}, std::string(80, '\0'));
  SetIntAttr(AddNode(pg, "Gather", {"embed_tokens.weight", kInputName}, {kOutputName}, "EmbedTokens_Gather"),
             "axis", 0);
  auto m = MakeSpliceModel(plain, Audio(9), "g");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->graph().input(1).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT16);
  EXPECT_EQ(m->graph().output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT16);
  // And FLOAT for the float32 plain graph.
  auto f = MakeSpliceModel(PlainModel(10, 4), Audio(9), "g");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->graph().input(1).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
}

TEST(SpliceGraphTest, FileNameAndProvenance) {
  EXPECT_EQ(SpliceFileName("embed_tokens.onnx", Audio(1)), "embed_tokens_audio.onnx");
  EXPECT_EQ(SpliceFileName("embed_tokens_fp16w.onnx", Audio(1)), "embed_tokens_fp16w_audio.onnx");
  EXPECT_EQ(SpliceFileName("embed_tokens_fp16w.onnx", {2, std::nullopt}), "embed_tokens_fp16w_image.onnx");
  EXPECT_EQ(SpliceFileName("embed_tokens_fp16w.onnx", {2, 1}), "embed_tokens_fp16w_image_audio.onnx");
  EXPECT_EQ(SpliceFileNames("embed_tokens.onnx"),
            (std::vector<std::string>{"embed_tokens_audio.onnx", "embed_tokens_image.onnx",
                                      "embed_tokens_image_audio.onnx"}));
  EXPECT_EQ(SpliceModalitiesOfName("embed_tokens.onnx", "embed_tokens_image_audio.onnx"),
            (std::vector<std::string>{"image", "audio"}));
  EXPECT_TRUE(SpliceModalitiesOfName("embed_tokens.onnx", "embed_tokens_int8_audio.onnx").empty());
  auto m = MakeSpliceModel(PlainModel(10, 4), Audio(100352), "g");
  ASSERT_TRUE(m.ok());
  bool found = false;
  for (const auto& p : m->metadata_props())
    found = found || (p.key() == kAudioTokenIdMetadataKey && p.value() == "100352");
  EXPECT_TRUE(found);
}

TEST(SpliceGraphTest, RefusesWhatIsNotALookupGraph) {
  onnx::ModelProto m = PlainModel(10, 4);
  m.mutable_graph()->mutable_output(0)->set_name("other");
  EXPECT_FALSE(MakeSpliceModel(m, Audio(9), "g").ok());
  onnx::ModelProto two = PlainModel(10, 4);
  *two.mutable_graph()->add_input() = two.graph().input(0);
  EXPECT_FALSE(MakeSpliceModel(two, Audio(9), "g").ok());
}

TEST(SpliceGraphTest, ImageBeforeAudioEachWithItsOwnScatter) {
  auto m = MakeSpliceModel(PlainModel(10, 4), {7, 9}, "g");
  ASSERT_TRUE(m.ok()) << m.status().message();
  const onnx::GraphProto& g = m->graph();
  ASSERT_EQ(g.input_size(), 3);
  EXPECT_EQ(g.input(1).name(), kImageInputName);
  EXPECT_EQ(g.input(1).type().tensor_type().shape().dim(0).dim_param(), "num_image_tokens");
  EXPECT_EQ(g.input(2).name(), kAudioInputName);
  // The tier's Gather sees neither token: both Wheres run before it.
  std::vector<std::string> order;
  for (const auto& n : g.node()) order.push_back(n.op_type());
  EXPECT_EQ(order, (std::vector<std::string>{"Equal", "Where", "Equal", "Where", "Gather", "NonZero",
                                             "Transpose", "ScatterND", "NonZero", "Transpose", "ScatterND"}));
  // The image scatter writes what the audio scatter reads; only the audio one writes the
  // output, and no other node reads a float row (the text rows, either modality's rows or
  // the rows between the two scatters).
  const onnx::NodeProto *image = nullptr, *audio = nullptr;
  for (const auto& n : g.node()) {
    if (n.name() == "EmbedTokens_Splice_ImageScatter") image = &n;
    if (n.name() == "EmbedTokens_Splice_AudioScatter") audio = &n;
  }
  ASSERT_NE(image, nullptr);
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(image->input(0), "splice.text_embeds");
  EXPECT_EQ(image->input(2), kImageInputName);
  EXPECT_EQ(audio->input(0), image->output(0));
  EXPECT_EQ(audio->input(2), kAudioInputName);
  EXPECT_EQ(audio->output(0), kOutputName);
  const std::set<std::string> rows = {"splice.text_embeds", kImageInputName, kAudioInputName,
                                      image->output(0)};
  int writers = 0;
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) writers += o == kOutputName;
    if (&n == image || &n == audio) continue;
    for (const auto& in : n.input()) EXPECT_FALSE(rows.count(in)) << n.name() << " reads " << in;
  }
  EXPECT_EQ(writers, 1);
  int keys = 0;
  for (const auto& p : m->metadata_props())
    keys += (p.key() == kImageTokenIdMetadataKey && p.value() == "7") +
            (p.key() == kAudioTokenIdMetadataKey && p.value() == "9");
  EXPECT_EQ(keys, 2);
}

TEST(SpliceGraphTest, RefusesNoTokenAndOneIdForBoth) {
  EXPECT_FALSE(MakeSpliceModel(PlainModel(10, 4), SpliceTokens{}, "g").ok());
  auto same = MakeSpliceModel(PlainModel(10, 4), {9, 9}, "g");
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.status().message().find("both 9"), std::string::npos) << same.status().message();
}

}  // namespace
}  // namespace embed2onnx

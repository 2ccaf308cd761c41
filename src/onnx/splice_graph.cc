#include "onnx/splice_graph.h"

#include "onnx/graph_util.h"

namespace embed2onnx {

namespace {
// Names of the splice's own values and constants: prefixed so they cannot clash with a
// tier's.
constexpr char kTextIds[] = "splice.text_ids";
constexpr char kTextEmbeds[] = "splice.text_embeds";

// Renames every use of `from` in the nodes of `g` to `to`.
void RenameValue(onnx::GraphProto* g, const std::string& from, const std::string& to) {
  for (onnx::NodeProto& n : *g->mutable_node()) {
    for (std::string& in : *n.mutable_input())
      if (in == from) in = to;
    for (std::string& out : *n.mutable_output())
      if (out == from) out = to;
  }
}
}  // namespace

std::string SpliceFileName(const std::string& tier_file_name) {
  const std::string ext = ".onnx";
  const std::string stem = tier_file_name.ends_with(ext)
                               ? tier_file_name.substr(0, tier_file_name.size() - ext.size())
                               : tier_file_name;
  return stem + "_audio" + ext;
}

Result<onnx::ModelProto> MakeSpliceModel(const onnx::ModelProto& plain, int64_t audio_token_id,
                                         const std::string& graph_name) {
  const onnx::GraphProto& pg = plain.graph();
  if (pg.input_size() != 1 || pg.input(0).name() != kInputName || pg.output_size() != 1 ||
      pg.output(0).name() != kOutputName)
    return Status::InvalidArgument(pg.name() + ": not a lookup graph (input_ids -> inputs_embeds)");
  const auto& out_dims = pg.output(0).type().tensor_type().shape().dim();
  if (out_dims.size() != 3 || !out_dims[2].has_dim_value())
    return Status::InvalidArgument(pg.name() + ": inputs_embeds has no fixed width D");
  const int64_t d = out_dims[2].dim_value();
  // audio_features rows are copied into the output as they are, so they have its type
  // (FLOAT, or FLOAT16 for a bundle whose LLM takes fp16 inputs_embeds).
  const int32_t elem_type = pg.output(0).type().tensor_type().elem_type();

  onnx::ModelProto m = plain;
  // Provenance (SPEC §10): whatever the plain graph says, plus the audio token id.
  onnx::StringStringEntryProto* prop = m.add_metadata_props();
  prop->set_key(kAudioTokenIdMetadataKey);
  prop->set_value(std::to_string(audio_token_id));
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(graph_name);
  // The tier's nodes read the text ids and write the text rows.
  RenameValue(g, kInputName, kTextIds);
  RenameValue(g, kOutputName, kTextEmbeds);

  onnx::ValueInfoProto* audio = g->add_input();
  audio->set_name(kAudioInputName);
  auto* at = audio->mutable_type()->mutable_tensor_type();
  at->set_elem_type(elem_type);
  at->mutable_shape()->add_dim()->set_dim_param("num_audio_tokens");
  at->mutable_shape()->add_dim()->set_dim_value(d);

  AddInt64Initializer(g, "splice.audio_token_id", {}, {audio_token_id});
  AddInt64Initializer(g, "splice.zero", {}, {0});

  // ONNX wants nodes in topological order: the text ids first, then the tier's nodes,
  // then the splice.
  const google::protobuf::RepeatedPtrField<onnx::NodeProto> tier_nodes = g->node();
  g->clear_node();
  AddNode(g, "Equal", {kInputName, "splice.audio_token_id"}, {"splice.is_audio"},
          "EmbedTokens_Splice_IsAudio");
  AddNode(g, "Where", {"splice.is_audio", "splice.zero", kInputName}, {kTextIds},
          "EmbedTokens_Splice_TextIds");
  for (const onnx::NodeProto& n : tier_nodes) *g->add_node() = n;

  // NonZero lists the audio positions in row-major order, one column per position;
  // ScatterND wants one row per position.
  AddNode(g, "NonZero", {"splice.is_audio"}, {"splice.audio_at"}, "EmbedTokens_Splice_AudioAt");
  onnx::NodeProto* rows = AddNode(g, "Transpose", {"splice.audio_at"}, {"splice.audio_positions"},
                                  "EmbedTokens_Splice_Positions");
  onnx::AttributeProto* perm = rows->add_attribute();
  perm->set_name("perm");
  perm->set_type(onnx::AttributeProto::INTS);
  perm->add_ints(1);
  perm->add_ints(0);
  AddNode(g, "ScatterND", {kTextEmbeds, "splice.audio_positions", kAudioInputName}, {kOutputName},
          "EmbedTokens_Splice_Scatter");
  return m;
}

}  // namespace embed2onnx

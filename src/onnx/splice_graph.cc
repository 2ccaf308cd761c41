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

const std::vector<std::vector<std::string>>& SpliceModalitySets() {
  static const std::vector<std::vector<std::string>> sets = {{"audio"}, {"image"}, {"image", "audio"}};
  return sets;
}

std::vector<SplicedInput> SplicedInputs(const SpliceTokens& t) {
  std::vector<SplicedInput> v;
  if (t.image) v.push_back({"image", *t.image});
  if (t.audio) v.push_back({"audio", *t.audio});
  return v;
}

namespace {
std::string TierStem(const std::string& tier_file_name) {
  const std::string ext = ".onnx";
  return tier_file_name.ends_with(ext) ? tier_file_name.substr(0, tier_file_name.size() - ext.size())
                                       : tier_file_name;
}

// "_image_audio" for both, in input order.
std::string Suffix(const std::vector<std::string>& modalities) {
  std::string s;
  for (const std::string& m : modalities) s += "_" + m;
  return s;
}

std::string Capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}
}  // namespace

std::string SpliceSuffix(const SpliceTokens& t) {
  std::vector<std::string> modalities;
  for (const SplicedInput& in : SplicedInputs(t)) modalities.push_back(in.modality);
  return Suffix(modalities);
}

std::string SpliceFileName(const std::string& tier_file_name, const SpliceTokens& t) {
  return TierStem(tier_file_name) + SpliceSuffix(t) + ".onnx";
}

std::vector<std::string> SpliceFileNames(const std::string& tier_file_name) {
  std::vector<std::string> names;
  for (const auto& set : SpliceModalitySets())
    names.push_back(TierStem(tier_file_name) + Suffix(set) + ".onnx");
  return names;
}

std::vector<std::string> SpliceModalitiesOfName(const std::string& tier_file_name,
                                                const std::string& file_name) {
  for (const auto& set : SpliceModalitySets())
    if (TierStem(tier_file_name) + Suffix(set) + ".onnx" == file_name) return set;
  return {};
}

Result<onnx::ModelProto> MakeSpliceModel(const onnx::ModelProto& plain, const SpliceTokens& tokens,
                                         const std::string& graph_name) {
  const onnx::GraphProto& pg = plain.graph();
  if (pg.input_size() != 1 || pg.input(0).name() != kInputName || pg.output_size() != 1 ||
      pg.output(0).name() != kOutputName)
    return Status::InvalidArgument(pg.name() + ": not a lookup graph (input_ids -> inputs_embeds)");
  const auto& out_dims = pg.output(0).type().tensor_type().shape().dim();
  if (out_dims.size() != 3 || !out_dims[2].has_dim_value())
    return Status::InvalidArgument(pg.name() + ": inputs_embeds has no fixed width D");
  const std::vector<SplicedInput> inputs = SplicedInputs(tokens);
  if (inputs.empty())
    return Status::InvalidArgument(pg.name() + ": a splice graph needs a token id to splice at");
  if (tokens.image && tokens.audio && *tokens.image == *tokens.audio)
    return Status::InvalidArgument("the image and the audio token id are both " +
                                   std::to_string(*tokens.audio));
  const int64_t d = out_dims[2].dim_value();
  // The feature rows are copied into the output as they are, so they have its type
  // (FLOAT, or FLOAT16 for a bundle whose LLM takes fp16 inputs_embeds).
  const int32_t elem_type = pg.output(0).type().tensor_type().elem_type();

  onnx::ModelProto m = plain;
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(graph_name);
  // The tier's nodes read the text ids and write the text rows.
  RenameValue(g, kInputName, kTextIds);
  RenameValue(g, kOutputName, kTextEmbeds);
  AddInt64Initializer(g, "splice.zero", {}, {0});
  for (const SplicedInput& in : inputs) {
    // Provenance (SPEC §10): whatever the plain graph says, plus the token ids.
    onnx::StringStringEntryProto* prop = m.add_metadata_props();
    prop->set_key(in.metadata_key());
    prop->set_value(std::to_string(in.token_id));
    onnx::ValueInfoProto* features = g->add_input();
    features->set_name(in.input_name());
    auto* ft = features->mutable_type()->mutable_tensor_type();
    ft->set_elem_type(elem_type);
    ft->mutable_shape()->add_dim()->set_dim_param(in.dim_name());
    ft->mutable_shape()->add_dim()->set_dim_value(d);
    AddInt64Initializer(g, "splice." + in.modality + "_token_id", {}, {in.token_id});
  }

  // ONNX wants nodes in topological order: the text ids first, then the tier's nodes,
  // then the scatters.
  const google::protobuf::RepeatedPtrField<onnx::NodeProto> tier_nodes = g->node();
  g->clear_node();
  std::string ids = kInputName;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string& mod = inputs[k].modality;
    const bool last = k + 1 == inputs.size();
    AddNode(g, "Equal", {kInputName, "splice." + mod + "_token_id"}, {"splice.is_" + mod},
            "EmbedTokens_Splice_Is" + Capitalised(mod));
    const std::string next = last ? std::string(kTextIds) : "splice.ids_without_" + mod;
    AddNode(g, "Where", {"splice.is_" + mod, "splice.zero", ids}, {next},
            last ? "EmbedTokens_Splice_TextIds" : "EmbedTokens_Splice_IdsWithout" + Capitalised(mod));
    ids = next;
  }
  for (const onnx::NodeProto& n : tier_nodes) *g->add_node() = n;

  std::string rows = kTextEmbeds;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string& mod = inputs[k].modality;
    const std::string cap = Capitalised(mod);
    // NonZero lists the positions in row-major order, one column per position;
    // ScatterND wants one row per position.
    AddNode(g, "NonZero", {"splice.is_" + mod}, {"splice." + mod + "_at"},
            "EmbedTokens_Splice_" + cap + "At");
    onnx::NodeProto* t = AddNode(g, "Transpose", {"splice." + mod + "_at"}, {"splice." + mod + "_positions"},
                                 "EmbedTokens_Splice_" + cap + "Positions");
    onnx::AttributeProto* perm = t->add_attribute();
    perm->set_name("perm");
    perm->set_type(onnx::AttributeProto::INTS);
    perm->add_ints(1);
    perm->add_ints(0);
    const std::string next = k + 1 == inputs.size() ? std::string(kOutputName) : "splice.rows_with_" + mod;
    AddNode(g, "ScatterND", {rows, "splice." + mod + "_positions", inputs[k].input_name()}, {next},
            "EmbedTokens_Splice_" + cap + "Scatter");
    rows = next;
  }
  return m;
}

}  // namespace embed2onnx

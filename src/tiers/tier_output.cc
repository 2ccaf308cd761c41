// The graph's output type (--output-dtype). Many ONNX LLM bundles, ONNX Runtime GenAI's
// fp16 models among them, take inputs_embeds in float16: the lookup then ends in a Cast
// of its exact float32 result, so the rows are rounded once, at the end, by the same
// rule for every tier; fp16w, whose rows already are float16, outputs them unchanged.
#include <string>

#include "onnx/graph_util.h"
#include "tiers/tier_impl.h"

namespace embed2onnx {

namespace {
constexpr char kFloat32Result[] = "embed_tokens.output_fp32";
}

int32_t OutputElemFromName(const std::string& name) {
  if (name == "float32") return onnx::TensorProto::FLOAT;
  if (name == "float16") return onnx::TensorProto::FLOAT16;
  return 0;
}

const char* OutputDTypeName(int32_t output_elem) {
  switch (output_elem) {
    case onnx::TensorProto::FLOAT:
      return "float32";
    case onnx::TensorProto::FLOAT16:
      return "float16";
  }
  return nullptr;
}

const char* Float32ResultName(const TierParams& p) {
  return p.output_elem == onnx::TensorProto::FLOAT ? kOutputName : kFloat32Result;
}

void DeclareOutputType(const TierParams& p, onnx::GraphProto* g) {
  // The builders also run on graphs without IO (unit tests of the nodes alone).
  for (onnx::ValueInfoProto& out : *g->mutable_output())
    if (out.name() == kOutputName) out.mutable_type()->mutable_tensor_type()->set_elem_type(p.output_elem);
}

void FinishOutput(const TierParams& p, onnx::GraphProto* g) {
  if (p.output_elem == onnx::TensorProto::FLOAT) return;
  // Cast's `saturate` applies to float8 targets only: to FLOAT16 it rounds to nearest
  // even and gives +-inf beyond the range, which is what numpy's astype(float16) does.
  SetIntAttr(AddNode(g, "Cast", {kFloat32Result}, {kOutputName}, "EmbedTokens_Cast_output_fp16"), "to",
             p.output_elem);
  DeclareOutputType(p, g);
}

}  // namespace embed2onnx

#include "check/contract.h"

#include "onnx/external_data.h"
#include "onnx/graph_util.h"
#include "onnx/splice_graph.h"

namespace embed2onnx {

namespace {
std::string DimsText(const onnx::TensorShapeProto& s) {
  std::string out = "[";
  for (int i = 0; i < s.dim_size(); ++i) {
    if (i) out += ", ";
    out += s.dim(i).has_dim_param() ? s.dim(i).dim_param() : std::to_string(s.dim(i).dim_value());
  }
  return out + "]";
}

Status CheckValue(const onnx::ValueInfoProto& v, const char* name, int32_t elem, int64_t hidden, size_t rank,
                  const std::string& path) {
  const std::string where = path + ": " + (rank == 2 ? "input" : "output") + " '" + v.name() + "'";
  if (v.name() != name) return Status::Mismatch(where + ": expected the name '" + name + "'");
  if (!v.type().has_tensor_type() || v.type().tensor_type().elem_type() != elem)
    return Status::Mismatch(where + ": expected element type " + OnnxElemName(elem));
  const auto& shape = v.type().tensor_type().shape();
  bool ok = static_cast<size_t>(shape.dim_size()) == rank && shape.dim(0).dim_param() == "B" &&
            shape.dim(1).dim_param() == "N";
  if (ok && rank == 3)
    ok = shape.dim(2).has_dim_value() && (hidden == 0 || shape.dim(2).dim_value() == hidden);
  if (!ok)
    return Status::Mismatch(where + ": shape " + DimsText(shape) + ", expected " +
                            (rank == 2 ? std::string("[B, N]") : "[B, N, " + std::to_string(hidden) + "]"));
  return Status::Ok();
}
// Input `i`, <m>_features [num_<m>_tokens, D]: D and the element type those of
// inputs_embeds, whose rows it fills.
Status CheckFeatureInput(const onnx::GraphProto& g, int i, const std::string& modality,
                         const std::string& path) {
  const SplicedInput expected{modality, 0};
  const onnx::ValueInfoProto& v = g.input(i);
  const std::string where = path + ": input '" + v.name() + "'";
  if (v.name() != expected.input_name())
    return Status::Mismatch(where + ": expected the name '" + expected.input_name() + "'");
  const auto& out = g.output(0).type().tensor_type();
  if (!v.type().has_tensor_type() || v.type().tensor_type().elem_type() != out.elem_type())
    return Status::Mismatch(where + ": expected element type " + OnnxElemName(out.elem_type()) +
                            ", that of inputs_embeds");
  const auto& shape = v.type().tensor_type().shape();
  const int64_t d = out.shape().dim(2).dim_value();
  if (shape.dim_size() != 2 || shape.dim(0).dim_param() != expected.dim_name() ||
      !shape.dim(1).has_dim_value() || shape.dim(1).dim_value() != d)
    return Status::Mismatch(where + ": shape " + DimsText(shape) + ", expected [" + expected.dim_name() +
                            ", " + std::to_string(d) + "]");
  return Status::Ok();
}
}  // namespace

Status CheckLookupContract(const LoadedModel& model, const ContractOptions& opts) {
  const onnx::ModelProto& m = model.proto();
  const std::string& path = model.path();
  if (m.ir_version() != kOnnxIrVersion)
    return Status::Mismatch(path + ": ir_version " + std::to_string(m.ir_version()) + ", expected 10");
  if (m.opset_import_size() != 1 ||
      (m.opset_import(0).domain() != "" && m.opset_import(0).domain() != "ai.onnx") ||
      m.opset_import(0).version() != kOnnxOpset)
    return Status::Mismatch(path + ": expected exactly one opset import, ai.onnx version 20");
  const onnx::GraphProto& g = m.graph();
  const int inputs = 1 + static_cast<int>(opts.splice_modalities.size());
  if (g.input_size() != inputs || g.output_size() != 1)
    return Status::Mismatch(path + ": expected " +
                            (inputs == 1   ? "one input"
                             : inputs == 2 ? "two inputs"
                                           : "three inputs") +
                            " and one output, found " + std::to_string(g.input_size()) + " and " +
                            std::to_string(g.output_size()));
  E2O_RETURN_IF_ERROR(CheckValue(g.input(0), kInputName, onnx::TensorProto::INT64, 0, 2, path));
  E2O_RETURN_IF_ERROR(CheckValue(g.output(0), kOutputName, opts.output_elem, opts.hidden, 3, path));
  for (int i = 1; i < inputs; ++i)
    E2O_RETURN_IF_ERROR(CheckFeatureInput(g, i, opts.splice_modalities[static_cast<size_t>(i - 1)], path));
  for (const onnx::NodeProto& n : g.node())
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      return Status::Mismatch(path + ": node '" + n.name() + "' uses domain '" + n.domain() + "'");
  if (!opts.our_layout) return Status::Ok();
  if (!model.sidecar_path().empty() && model.location() != opts.expected_location)
    return Status::Mismatch(path + ": external data location '" + model.location() + "', expected '" +
                            opts.expected_location + "'");
  for (const auto& [name, init] : model.initializers()) {
    if (init.external != (init.byte_size >= kExternalThreshold))
      return Status::Mismatch(path + ": initializer '" + name + "' (" + std::to_string(init.byte_size) +
                              " bytes) is " + (init.external ? "external" : "inline") +
                              "; the threshold is 1024 bytes");
    if (init.external && init.offset % kSidecarAlignment != 0)
      return Status::Mismatch(path + ": initializer '" + name + "' at offset " + std::to_string(init.offset) +
                              " is not 64 KiB aligned");
  }
  return Status::Ok();
}

}  // namespace embed2onnx

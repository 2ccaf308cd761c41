#include "embed2onnx/inspect.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "onnx/graph_util.h"
#include "onnx/onnx_model.h"
#include "onnx/splice_graph.h"
#include "util/json_text.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {
using json = nlohmann::ordered_json;

json ShapeOf(const onnx::ValueInfoProto& v) {
  json dims = json::array();
  for (const auto& d : v.type().tensor_type().shape().dim())
    dims.push_back(d.has_dim_param() ? json(JsonText(d.dim_param())) : json(d.dim_value()));
  return dims;
}

json Names(const google::protobuf::RepeatedPtrField<std::string>& names) {
  json a = json::array();
  for (const std::string& n : names) a.push_back(JsonText(n));
  return a;
}

// Bytes of an initializer the reader did not get to check: null when they cannot be
// counted (unknown type, negative or overflowing dims).
json LenientBytes(const onnx::TensorProto& t) {
  uint64_t n = OnnxElemBytes(t.data_type());
  if (n == 0) return nullptr;
  for (int64_t d : t.dims())
    if (d < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return nullptr;
  return n;
}

json Initializer(const onnx::TensorProto& t, const InitializerData* checked) {
  json e = json::object();
  SetText(e, "name", t.name());
  e["type"] = OnnxElemName(t.data_type());
  e["dims"] = std::vector<int64_t>(t.dims().begin(), t.dims().end());
  e["bytes"] = checked ? json(checked->byte_size) : LenientBytes(t);
  const bool external = t.data_location() == onnx::TensorProto::EXTERNAL;
  e["external"] = external;
  e["checked"] = checked != nullptr;
  if (!external) return e;
  json kv = json::object();
  for (const auto& entry : t.external_data()) kv[JsonText(entry.key())] = JsonText(entry.value());
  e["external_data"] = kv;
  if (checked) {
    SetText(e, "location", checked->location);
    e["offset"] = checked->offset;
    e["length"] = checked->byte_size;
  }
  return e;
}

// One entry per location the initializers name, in order of first use.
json Sidecars(const LoadedModel& m) {
  const onnx::GraphProto& g = m.proto().graph();
  std::vector<std::string> order;
  std::map<std::string, bool> fit;  // every initializer naming it checked and in range
  for (const onnx::TensorProto& t : g.initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) continue;
    std::string loc;
    for (const auto& entry : t.external_data())
      if (entry.key() == "location") loc = entry.value();
    if (!fit.count(loc)) order.push_back(loc);
    auto it = m.initializers().find(t.name());
    const bool checked = it != m.initializers().end() && it->second.external && it->second.location == loc;
    auto [slot, fresh] = fit.emplace(loc, checked);
    if (!fresh) slot->second = slot->second && checked;
  }
  json list = json::array();
  for (const std::string& loc : order) {
    json s = json::object();
    SetText(s, "location", loc);
    const SidecarFile* opened = nullptr;
    for (const auto& f : m.sidecars())
      if (f->location == loc) opened = f.get();
    const std::string path = opened ? opened->path : SidecarPath(m.path(), loc);
    SetText(s, "path", path);
    struct stat st;
    const bool exists = opened || (!loc.empty() && ::stat(path.c_str(), &st) == 0);
    s["exists"] = exists;
    s["bytes"] = opened ? opened->size : exists ? static_cast<uint64_t>(st.st_size) : 0;
    if (opened && opened->resolved != opened->path) SetText(s, "resolved", opened->resolved);
    s["ranges_fit"] = opened != nullptr && fit[loc];
    list.push_back(s);
  }
  return list;
}

json Describe(const LoadedModel& lm, const Status& verdict) {
  const onnx::ModelProto& m = lm.proto();
  const onnx::GraphProto& g = m.graph();
  json j = json::object();
  SetText(j, "file", lm.path());
  j["ok"] = verdict.ok();
  if (!verdict.ok()) SetText(j, "error", verdict.message());
  j["ir_version"] = m.ir_version();
  j["producer_name"] = JsonText(m.producer_name());
  j["producer_version"] = JsonText(m.producer_version());
  j["opset_import"] = json::array();
  for (const auto& o : m.opset_import())
    j["opset_import"].push_back({{"domain", JsonText(o.domain())}, {"version", o.version()}});
  j["graph"] = JsonText(g.name());
  // Provenance (SPEC §10), and whether this is a splice graph (SPEC §8): its inputs are
  // one of the three lists a splice graph takes (input_ids, then image_features and/or
  // audio_features, image first).
  j["metadata"] = json::object();
  for (const auto& p : m.metadata_props()) j["metadata"][JsonText(p.key())] = JsonText(p.value());
  std::string splice_inputs;
  for (const std::vector<std::string>& modalities : SpliceModalitySets()) {
    std::vector<std::string> want = {kInputName};
    for (const std::string& modality : modalities) want.push_back(SplicedInput{modality, 0}.input_name());
    bool same = g.input_size() == static_cast<int>(want.size());
    for (int i = 0; same && i < g.input_size(); ++i) same = g.input(i).name() == want[static_cast<size_t>(i)];
    if (!same) continue;
    for (const std::string& name : want) splice_inputs += (splice_inputs.empty() ? "" : " + ") + name;
  }
  j["splice"] = !splice_inputs.empty();
  if (!splice_inputs.empty()) j["splice_inputs"] = splice_inputs;
  for (const char* io : {"inputs", "outputs"}) {
    j[io] = json::array();
    const auto& list = std::string(io) == "inputs" ? g.input() : g.output();
    for (const auto& v : list)
      j[io].push_back({{"name", JsonText(v.name())},
                       {"type", OnnxElemName(v.type().tensor_type().elem_type())},
                       {"shape", ShapeOf(v)}});
  }
  j["nodes"] = json::array();
  for (const auto& n : g.node()) {
    json attrs = json::object();
    for (const auto& a : n.attribute())
      attrs[JsonText(a.name())] =
          a.type() == onnx::AttributeProto::STRING ? json(JsonText(a.s())) : json(a.i());
    j["nodes"].push_back({{"op_type", JsonText(n.op_type())},
                          {"name", JsonText(n.name())},
                          {"domain", JsonText(n.domain())},
                          {"inputs", Names(n.input())},
                          {"outputs", Names(n.output())},
                          {"attributes", attrs}});
  }
  j["initializers"] = json::array();
  for (const onnx::TensorProto& t : g.initializer()) {
    auto it = lm.initializers().find(t.name());
    j["initializers"].push_back(Initializer(t, it == lm.initializers().end() ? nullptr : &it->second));
  }
  j["sidecars"] = Sidecars(lm);
  // The first sidecar, under the key inspect has always used.
  j["sidecar"] = j["sidecars"].empty() ? json(nullptr) : j["sidecars"][0];
  return j;
}

std::string Text(const json& j) {
  std::string s = fmt::format("{}\n  ir_version {}  producer {} {}\n  opsets:", j["file"].get<std::string>(),
                              j["ir_version"].get<int64_t>(), j["producer_name"].get<std::string>(),
                              j["producer_version"].get<std::string>());
  for (const auto& o : j["opset_import"])
    s += fmt::format(" {}:{}",
                     o["domain"].get<std::string>().empty() ? "ai.onnx" : o["domain"].get<std::string>(),
                     o["version"].get<int64_t>());
  s += "\n  graph " + j["graph"].get<std::string>() +
       (j["splice"].get<bool>()
            ? "  (splice graph: " + j["splice_inputs"].get<std::string>() + " -> inputs_embeds)"
            : "") +
       "\n";
  if (!j["metadata"].empty()) {
    s += "  metadata:";
    for (const auto& [k, v] : j["metadata"].items()) s += fmt::format(" {}={}", k, v.get<std::string>());
    s += "\n";
  }
  for (const char* io : {"inputs", "outputs"})
    for (const auto& v : j[io])
      s += fmt::format("  {:<7} {} {} {}\n", std::string(io) == "inputs" ? "input" : "output",
                       v["name"].get<std::string>(), v["type"].get<std::string>(), v["shape"].dump());
  s += "  nodes:\n";
  for (const auto& n : j["nodes"])
    s += fmt::format("    {:<12} {:<34} {} -> {}\n", n["op_type"].get<std::string>(),
                     n["name"].get<std::string>(), n["inputs"].dump(), n["outputs"].dump());
  s += "  initializers:\n";
  for (const auto& t : j["initializers"]) {
    std::string where = "inline";
    if (t["external"].get<bool>())
      where = t.contains("offset")
                  ? fmt::format("external {} offset {} length {}", t["location"].get<std::string>(),
                                t["offset"].get<uint64_t>(), t["length"].get<uint64_t>())
                  : "external " + t["external_data"].dump() + " (not checked)";
    s += fmt::format("    {:<34} {:<8} {:<16} {:>12} B  {}\n", t["name"].get<std::string>(),
                     t["type"].get<std::string>(), t["dims"].dump(), t["bytes"].dump(), where);
  }
  for (const auto& sc : j["sidecars"])
    s += fmt::format("  sidecar {}: {}\n", sc["path"].get<std::string>(),
                     sc["exists"].get<bool>()
                         ? fmt::format("{} bytes, {}", sc["bytes"].get<uint64_t>(),
                                       sc["ranges_fit"].get<bool>()
                                           ? "every external range fits"
                                           : "SOME EXTERNAL RANGES DO NOT FIT OR WERE NOT CHECKED")
                         : std::string("MISSING"));
  return s;
}
}  // namespace

Status InspectModel(const std::string& path, bool as_json, std::string* out) {
  out->clear();
  return CatchAll(path, [&]() -> Status {
    std::unique_ptr<LoadedModel> model;
    Status verdict = LoadedModel::LoadPartial(path, &model);
    if (!model) return verdict;  // nothing parsed: nothing to describe
    const json j = Describe(*model, verdict);
    *out = as_json ? DumpJson(j, 2) + "\n" : Text(j);
    return verdict;
  });
}

Result<std::string> InspectModel(const std::string& path, bool as_json) {
  std::string text;
  E2O_RETURN_IF_ERROR(InspectModel(path, as_json, &text));
  return text;
}

}  // namespace embed2onnx

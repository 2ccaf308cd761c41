#include "embed2onnx/inspect.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "onnx/graph_util.h"
#include "util/file_io.h"

namespace embed2onnx {

namespace {
using json = nlohmann::ordered_json;

json ShapeOf(const onnx::ValueInfoProto& v) {
  json dims = json::array();
  for (const auto& d : v.type().tensor_type().shape().dim())
    dims.push_back(d.has_dim_param() ? json(d.dim_param()) : json(d.dim_value()));
  return dims;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Text(const json& j) {
  std::string s = fmt::format("{}\n  ir_version {}  producer {} {}\n  opsets:", j["file"].get<std::string>(),
                              j["ir_version"].get<int64_t>(), j["producer_name"].get<std::string>(),
                              j["producer_version"].get<std::string>());
  for (const auto& o : j["opset_import"])
    s += fmt::format(" {}:{}",
                     o["domain"].get<std::string>().empty() ? "ai.onnx" : o["domain"].get<std::string>(),
                     o["version"].get<int64_t>());
  s += "\n  graph " + j["graph"].get<std::string>() + "\n";
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
    std::string where = t["external"].get<bool>() ? fmt::format("external offset {} length {}",
                                                                t["offset"].dump(), t["length"].dump())
                                                  : "inline";
    s += fmt::format("    {:<34} {:<8} {:<16} {:>12} B  {}\n", t["name"].get<std::string>(),
                     t["type"].get<std::string>(), t["dims"].dump(), t["bytes"].get<uint64_t>(), where);
  }
  const json& sc = j["sidecar"];
  if (!sc.is_null())
    s += fmt::format("  sidecar {}: {}\n", sc["path"].get<std::string>(),
                     sc["exists"].get<bool>()
                         ? fmt::format("{} bytes, {}", sc["bytes"].get<uint64_t>(),
                                       sc["ranges_fit"].get<bool>() ? "every external range fits"
                                                                    : "SOME EXTERNAL RANGES DO NOT FIT")
                         : std::string("MISSING"));
  return s;
}
}  // namespace

Result<std::string> InspectModel(const std::string& path, bool as_json) {
  E2O_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, 2ull << 30));
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes))
    return Status::Corruption(path + ": not a valid ONNX model (protobuf parse failed)");
  const onnx::GraphProto& g = m.graph();
  json j;
  j["file"] = path;
  j["ir_version"] = m.ir_version();
  j["producer_name"] = m.producer_name();
  j["producer_version"] = m.producer_version();
  j["opset_import"] = json::array();
  for (const auto& o : m.opset_import())
    j["opset_import"].push_back({{"domain", o.domain()}, {"version", o.version()}});
  j["graph"] = g.name();
  for (const char* io : {"inputs", "outputs"}) {
    j[io] = json::array();
    const auto& list = std::string(io) == "inputs" ? g.input() : g.output();
    for (const auto& v : list)
      j[io].push_back({{"name", v.name()},
                       {"type", OnnxElemName(v.type().tensor_type().elem_type())},
                       {"shape", ShapeOf(v)}});
  }
  j["nodes"] = json::array();
  for (const auto& n : g.node()) {
    json attrs = json::object();
    for (const auto& a : n.attribute())
      attrs[a.name()] = a.type() == onnx::AttributeProto::STRING ? json(a.s()) : json(a.i());
    j["nodes"].push_back({{"op_type", n.op_type()},
                          {"name", n.name()},
                          {"domain", n.domain()},
                          {"inputs", std::vector<std::string>(n.input().begin(), n.input().end())},
                          {"outputs", std::vector<std::string>(n.output().begin(), n.output().end())},
                          {"attributes", attrs}});
  }
  j["initializers"] = json::array();
  std::string location;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  bool ranges_parse = true;
  for (const auto& t : g.initializer()) {
    uint64_t count = 1;
    for (int64_t d : t.dims()) count *= d < 0 ? 0 : static_cast<uint64_t>(d);
    json e = {{"name", t.name()},
              {"type", OnnxElemName(t.data_type())},
              {"dims", std::vector<int64_t>(t.dims().begin(), t.dims().end())},
              {"bytes", count * OnnxElemBytes(t.data_type())},
              {"external", t.data_location() == onnx::TensorProto::EXTERNAL}};
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
      uint64_t off = 0, len = 0;
      for (const auto& kv : t.external_data()) {
        e[kv.key()] = kv.value();
        try {
          if (kv.key() == "offset") off = std::stoull(kv.value());
          if (kv.key() == "length") len = std::stoull(kv.value());
        } catch (...) {
          ranges_parse = false;
        }
        if (kv.key() == "location") location = kv.value();
      }
      ranges.emplace_back(off, len);
    }
    j["initializers"].push_back(e);
  }
  if (location.empty()) {
    j["sidecar"] = nullptr;
  } else {
    std::string sidecar = Dirname(path) + "/" + location;
    struct stat st;
    bool exists = ::stat(sidecar.c_str(), &st) == 0;
    uint64_t size = exists ? static_cast<uint64_t>(st.st_size) : 0;
    bool fit = exists && ranges_parse;
    for (auto [off, len] : ranges) fit = fit && off <= size && len <= size - off;
    j["sidecar"] = {{"path", sidecar}, {"exists", exists}, {"bytes", size}, {"ranges_fit", fit}};
  }
  if (as_json) return j.dump(2) + "\n";
  return Text(j);
}

}  // namespace embed2onnx

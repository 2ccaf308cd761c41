#include "embed2onnx/inspect_checkpoint.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "checkpoint/json_util.h"
#include "embed2onnx/checkpoint.h"
#include "embed2onnx/model_source.h"
#include "embed2onnx/tensor_finder.h"
#include "util/human_bytes.h"
#include "util/json_text.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {
using json = nlohmann::ordered_json;

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ShapeText(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

Result<Checkpoint> Open(const std::string& path, std::string* folder) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    *folder = path;
    return Checkpoint::OpenDir(path);
  }
  size_t slash = path.find_last_of('/');
  *folder = slash == std::string::npos ? "." : path.substr(0, slash);
  if (path.ends_with(".json")) return Checkpoint::OpenIndex(path);
  return Checkpoint::OpenFile(path);
}

Result<std::string> InspectImpl(const std::string& path, bool as_json) {
  std::string folder;
  E2O_ASSIGN_OR_RETURN(Checkpoint ckpt, Open(path, &folder));
  json doc;
  doc["checkpoint"] = ckpt.source();
  uint64_t total = 0;
  json tensors = json::array();
  for (const TensorInfo& t : ckpt.tensors()) {
    total += t.byte_size;
    tensors.push_back({{"name", t.name},
                       {"dtype", t.dtype},
                       {"shape", t.shape},
                       {"bytes", t.byte_size},
                       {"file", BaseName(t.file)}});
  }
  doc["tensor_count"] = ckpt.tensors().size();
  doc["total_bytes"] = total;
  json table;
  auto pick = FindEmbeddingTable(ckpt, "");
  if (pick.ok()) {
    const TensorInfo& t = **pick;
    table = {{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"why", WhyPicked(ckpt, t.name)}};
    auto opened = TableReader::Open(t);
    if (!opened.ok()) table["refused"] = opened.status().message();
  } else {
    table = {{"name", nullptr}, {"why", pick.status().message()}};
  }
  auto cfg = ReadModelConfig(folder);
  json config = nullptr;
  if (cfg.ok() && cfg->present) {
    config = json::object();
    if (!cfg->model_type.empty()) config["model_type"] = JsonText(cfg->model_type);
    if (cfg->vocab_size) config["vocab_size"] = *cfg->vocab_size;
    if (cfg->hidden_size) config["hidden_size"] = *cfg->hidden_size;
    if (cfg->tie_word_embeddings) config["tie_word_embeddings"] = *cfg->tie_word_embeddings;
    if (cfg->audio_token_id) {
      config["audio_token_id"] = *cfg->audio_token_id;
      config["audio_token_key"] = cfg->audio_token_key;  // audio_token_index or audio_token_id
    }
    if (cfg->embedding_multiplier) config["embedding_multiplier"] = *cfg->embedding_multiplier;
    if (pick.ok() && (*pick)->shape.size() == 2) {
      Status agree = CheckConfigAgainstTable(*cfg, (*pick)->shape[0], (*pick)->shape[1]);
      config["matches_table"] = agree.ok();
      if (!agree.ok()) config["mismatch"] = agree.message();
    }
  } else if (!cfg.ok()) {
    config = {{"error", cfg.status().message()}};
  }
  doc["table"] = table;
  doc["config"] = config;
  doc["tensors"] = tensors;
  if (as_json) return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";

  std::string out =
      fmt::format("{}\n  {} tensors, {}\n", Escape(ckpt.source()), ckpt.tensors().size(), HumanBytes(total));
  if (pick.ok())
    out += fmt::format("  table: {} {} {} ({})\n", Escape((*pick)->name), (*pick)->dtype,
                       ShapeText((*pick)->shape), table["why"].get<std::string>());
  else
    out += "  table: none: " + pick.status().message() + "\n";
  if (table.contains("refused"))
    out += "  export would refuse it: " + table["refused"].get<std::string>() + "\n";
  // What config.json says, on one line; its disagreement with the table on one more.
  if (cfg.ok() && cfg->present) {
    std::vector<std::string> said;
    if (!cfg->model_type.empty()) said.push_back("model_type " + Escape(cfg->model_type));
    if (cfg->vocab_size) said.push_back(fmt::format("vocab_size {}", *cfg->vocab_size));
    if (cfg->hidden_size) said.push_back(fmt::format("hidden_size {}", *cfg->hidden_size));
    if (cfg->tie_word_embeddings) said.push_back(*cfg->tie_word_embeddings ? "tied" : "not tied");
    if (cfg->audio_token_id) said.push_back(fmt::format("audio token {}", *cfg->audio_token_id));
    if (cfg->embedding_multiplier)
      said.push_back(fmt::format("embedding_multiplier {}", *cfg->embedding_multiplier));
    std::string line = said.empty() ? std::string("no key export reads") : said[0];
    for (size_t i = 1; i < said.size(); ++i) line += ", " + said[i];
    if (config.contains("matches_table") && config["matches_table"].get<bool>())
      line += " (matches the table)";
    out += "  config.json: " + line + "\n";
  } else if (!cfg.ok()) {
    out += "  config.json unreadable: " + cfg.status().message() + "\n";
  }
  if (config.is_object() && config.contains("mismatch"))
    out += "  config.json disagrees: " + config["mismatch"].get<std::string>() + "\n";
  size_t name_width = 4;
  for (const TensorInfo& t : ckpt.tensors())
    name_width = std::max(name_width, std::min<size_t>(t.name.size(), 60));
  out += fmt::format("  {:<{}}  {:<7} {:<18} {:>10}  {}\n", "name", name_width, "dtype", "shape", "bytes",
                     "file");
  for (const TensorInfo& t : ckpt.tensors())
    out += fmt::format("  {:<{}}  {:<7} {:<18} {:>10}  {}\n", Escape(t.name), name_width, t.dtype,
                       ShapeText(t.shape), HumanBytes(t.byte_size), Escape(BaseName(t.file)));
  return out;
}
}  // namespace

bool LooksLikeCheckpoint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
  return path.ends_with(".safetensors") || path.ends_with(".index.json");
}

Result<std::string> InspectCheckpoint(const std::string& path, bool json) {
  return CatchAll(path, [&] { return InspectImpl(path, json); });
}

}  // namespace embed2onnx

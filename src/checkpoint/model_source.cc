#include "embed2onnx/model_source.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "checkpoint/json_util.h"
#include "util/file_io.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {
// config.json and tokenizer_config.json are small; tokenizer.json of a 200k vocabulary
// is some tens of MB.
constexpr uint64_t kMaxConfigBytes = 16ull << 20;
constexpr uint64_t kMaxTokenizerBytes = 256ull << 20;

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsHex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return !s.empty();
}

bool IsHexCommit(const std::string& s) { return s.size() == 40 && IsHex(s); }

// The snapshot folders whose commit starts with `prefix`.
std::vector<std::string> SnapshotsStartingWith(const std::string& repo, const std::string& prefix) {
  std::vector<std::string> found;
  if (DIR* d = ::opendir((repo + "/snapshots").c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (IsHexCommit(n) && n.rfind(prefix, 0) == 0) found.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(found.begin(), found.end());
  return found;
}

// There in any form, a dangling symlink included.
bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A path component a repo id or ref may have: not empty, ".", "..", and no backslash or NUL.
bool SafeComponent(const std::string& c) {
  return !c.empty() && c != "." && c != ".." && c.find('\\') == std::string::npos &&
         c.find('\0') == std::string::npos;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  size_t b = 0;
  while (b < s.size() && (s[b] == ' ' || s[b] == '\t')) ++b;
  return s.substr(b);
}

// A JSON value as a non-negative integer, if it is one (1e3-style floats that are whole
// numbers are accepted: some configs write them).
std::optional<uint64_t> AsCount(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d >= 0 && d < 9.0e15 && std::floor(d) == d) return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

Status ReadCount(const std::string& path, const nlohmann::json& obj, const char* scope,
                 std::initializer_list<const char*> keys, std::optional<uint64_t>* out) {
  for (const char* key : keys) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) continue;
    std::optional<uint64_t> v = AsCount(*it);
    if (!v)
      return Status::Corruption(path + ": " + scope + key + " is " + DumpForMessage(*it) +
                                ", not a non-negative integer");
    *out = v;
    return Status::Ok();
  }
  return Status::Ok();
}

Result<ModelConfig> ReadModelConfigImpl(const std::string& dir) {
  ModelConfig cfg;
  cfg.path = dir + "/config.json";
  auto text = ReadFileToString(cfg.path, kMaxConfigBytes);
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return cfg;
    return text.status();
  }
  nlohmann::json j;
  E2O_RETURN_IF_ERROR(ParseJsonObject(cfg.path, "config", *text, &j));
  cfg.present = true;
  if (j.contains("model_type") && j["model_type"].is_string())
    cfg.model_type = j["model_type"].get<std::string>();
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string())
    cfg.architecture = j["architectures"][0].get<std::string>();
  // The nested LLM config, when there is one, describes the table.
  const nlohmann::json* text_cfg = nullptr;
  std::string scope;
  for (const char* key : {"text_config", "llm_config"})
    if (j.contains(key) && j[key].is_object()) {
      text_cfg = &j[key];
      scope = std::string(key) + ".";
      break;
    }
  if (text_cfg) {
    E2O_RETURN_IF_ERROR(
        ReadCount(cfg.path, *text_cfg, scope.c_str(), {"vocab_size", "n_vocab"}, &cfg.vocab_size));
    E2O_RETURN_IF_ERROR(
        ReadCount(cfg.path, *text_cfg, scope.c_str(), {"hidden_size", "n_embd"}, &cfg.hidden_size));
  }
  if (!cfg.vocab_size)
    E2O_RETURN_IF_ERROR(ReadCount(cfg.path, j, "", {"vocab_size", "n_vocab"}, &cfg.vocab_size));
  if (!cfg.hidden_size)
    E2O_RETURN_IF_ERROR(ReadCount(cfg.path, j, "", {"hidden_size", "n_embd", "d_model"}, &cfg.hidden_size));
  // Tying and the multiplier: the nested config first, then the top level.
  const nlohmann::json* scopes[] = {text_cfg, &j};
  for (const nlohmann::json* o : scopes) {
    if (!o) continue;
    if (!cfg.tie_word_embeddings && o->contains("tie_word_embeddings") &&
        (*o)["tie_word_embeddings"].is_boolean())
      cfg.tie_word_embeddings = (*o)["tie_word_embeddings"].get<bool>();
    if (!cfg.embedding_multiplier && o->contains("embedding_multiplier") &&
        (*o)["embedding_multiplier"].is_number())
      cfg.embedding_multiplier = (*o)["embedding_multiplier"].get<double>();
  }
  for (const char* key : {"audio_token_index", "audio_token_id"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    // An unsigned value past INT64_MAX would wrap in get<int64_t>().
    if (!it->is_number_integer() ||
        (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)))
      return Status::Corruption(cfg.path + ": " + key + " is " + DumpForMessage(*it) +
                                ", not an int64 integer");
    cfg.audio_token_id = it->get<int64_t>();
    cfg.audio_token_key = key;
    break;
  }
  return cfg;
}

// added_tokens_decoder: {"100352": {"content": "<|audio|>", ...}}.
std::optional<std::string> FromTokenizerConfig(const std::string& path, int64_t id) {
  auto text = ReadFileToString(path, kMaxConfigBytes);
  if (!text.ok()) return std::nullopt;
  nlohmann::json j;
  if (!ParseJsonObject(path, "tokenizer config", *text, &j).ok()) return std::nullopt;
  auto dec = j.find("added_tokens_decoder");
  if (dec == j.end() || !dec->is_object()) return std::nullopt;
  auto tok = dec->find(std::to_string(id));
  if (tok == dec->end() || !tok->is_object() || !tok->contains("content") || !(*tok)["content"].is_string())
    return std::nullopt;
  return (*tok)["content"].get<std::string>();
}

// tokenizer.json: added_tokens [{"id": 100352, "content": "<|audio|>"}], else model.vocab {"tok": id}.
std::optional<std::string> FromTokenizerJson(const std::string& path, int64_t id) {
  auto text = ReadFileToString(path, kMaxTokenizerBytes);
  if (!text.ok()) return std::nullopt;
  nlohmann::json j;
  if (!ParseJsonObject(path, "tokenizer", *text, &j).ok()) return std::nullopt;
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& t : j["added_tokens"])
      if (t.is_object() && t.contains("id") && t["id"].is_number_integer() && t["id"].get<int64_t>() == id &&
          t.contains("content") && t["content"].is_string())
        return t["content"].get<std::string>();
  if (j.contains("model") && j["model"].is_object() && j["model"].contains("vocab") &&
      j["model"]["vocab"].is_object())
    for (const auto& [tok, v] : j["model"]["vocab"].items())
      if (v.is_number_integer() && v.get<int64_t>() == id) return tok;
  return std::nullopt;
}
}  // namespace

std::string HfHubCacheDir(const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) -> std::string {
    auto it = env.find(k);
    return it == env.end() ? "" : it->second;
  };
  // huggingface_hub expands a leading ~ (os.path.expanduser).
  auto home = [&](std::string p) {
    if ((p == "~" || p.rfind("~/", 0) == 0) && !get("HOME").empty()) p = get("HOME") + p.substr(1);
    return p;
  };
  // HUGGINGFACE_HUB_CACHE is the older name huggingface_hub still reads after HF_HUB_CACHE.
  for (const char* k : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"})
    if (!get(k).empty()) return home(get(k));
  if (!get("HF_HOME").empty()) return home(get("HF_HOME")) + "/hub";
  if (!get("XDG_CACHE_HOME").empty()) return home(get("XDG_CACHE_HOME")) + "/huggingface/hub";
  if (!get("HOME").empty()) return get("HOME") + "/.cache/huggingface/hub";
  return "";
}

Result<HfCacheEntry> ResolveHfCache(const std::string& spec, const std::string& hub_dir) {
  return CatchAll("--model " + spec, [&]() -> Result<HfCacheEntry> {
    HfCacheEntry e;
    size_t at = spec.find('@');
    e.repo_id = spec.substr(0, at);
    e.revision = at == std::string::npos ? "main" : spec.substr(at + 1);
    std::vector<std::string> parts = Split(e.repo_id, '/');
    bool ok = parts.size() <= 2;
    for (const std::string& p : parts) ok = ok && SafeComponent(p);
    if (!ok)
      return Status::InvalidArgument("--model: '" + Escape(e.repo_id) +
                                     "' is not a Hugging Face repo id (ORG/NAME or NAME)");
    for (const std::string& p : Split(e.revision, '/'))
      if (!SafeComponent(p))
        return Status::InvalidArgument("--model: revision '" + Escape(e.revision) +
                                       "' is not a branch, tag or commit name");
    if (hub_dir.empty())
      return Status::NotFound("--model " + spec +
                              ": no Hugging Face cache folder (set HF_HUB_CACHE or HF_HOME, or HOME)");
    std::string folder = "models--" + parts[0] + (parts.size() == 2 ? "--" + parts[1] : "");
    const std::string repo = hub_dir + "/" + folder;
    const std::string fetch = "`hf download " + e.repo_id +
                              (at == std::string::npos ? "" : " --revision " + e.revision) + "` fetches it";
    if (!IsDir(repo))
      return Status::NotFound(repo + ": " + e.repo_id + " is not in the Hugging Face cache; " + fetch);
    if (IsHexCommit(e.revision) && IsDir(repo + "/snapshots/" + e.revision)) {
      e.commit = e.revision;
    } else {
      const std::string ref = repo + "/refs/" + e.revision;
      auto text = ReadFileToString(ref, 4096);
      if (!text.ok()) {
        if (text.status().code() == Status::Code::kNotFound) {
          // huggingface_hub takes a commit only in full; a short one that names a cached
          // snapshot gets the full name rather than "not cached".
          if (IsHex(e.revision) && e.revision.size() >= 4 && e.revision.size() < 40) {
            std::vector<std::string> m = SnapshotsStartingWith(repo, e.revision);
            if (!m.empty())
              return Status::InvalidArgument(
                  "--model " + spec +
                  ": a commit must be given in full (40 hex digits), as "
                  "huggingface_hub takes it; the cache holds " +
                  e.repo_id + "@" + m[0] +
                  (m.size() > 1 ? " and " + std::to_string(m.size() - 1) + " more" : ""));
          }
          return Status::NotFound(ref + ": revision '" + e.revision + "' of " + e.repo_id +
                                  " is not in the Hugging Face cache; " + fetch);
        }
        return text.status();
      }
      e.commit = Trim(*text);
      if (!IsHexCommit(e.commit))
        return Status::Corruption(ref + ": holds '" + Escape(e.commit) + "', not a 40-hex-digit commit");
    }
    e.snapshot = repo + "/snapshots/" + e.commit;
    if (!IsDir(e.snapshot))
      return Status::NotFound(e.snapshot + ": the snapshot of " + e.repo_id + "@" + e.revision +
                              " is not in the Hugging Face cache; " + fetch);
    return e;
  });
}

std::string HfHubCacheDirFromEnv() {
  std::map<std::string, std::string> env;
  for (const char* k : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME", "HOME"})
    if (const char* v = std::getenv(k)) env[k] = v;
  return HfHubCacheDir(env);
}

Result<HfCacheEntry> ResolveHfCheckpoint(const std::string& spec, const std::string& hub_dir) {
  E2O_ASSIGN_OR_RETURN(HfCacheEntry e, ResolveHfCache(spec, hub_dir));
  return CatchAll("--model " + spec, [&]() -> Result<HfCacheEntry> {
    const std::string fetch =
        "`hf download " + e.repo_id + " --revision " + e.commit + "` fetches the weights";
    // The names Checkpoint::OpenDir reads. A snapshot file is a symlink into blobs/; one
    // that leads nowhere is a download that never finished.
    for (const char* name : {"model.safetensors", "model.safetensors.index.json"}) {
      const std::string path = e.snapshot + "/" + name;
      if (!Exists(path)) continue;
      if (!IsFile(path))
        return Status::NotFound(path +
                                ": the blob it links to is not in the Hugging Face cache (an "
                                "interrupted download?); " +
                                fetch);
      return e;
    }
    bool any = false;
    if (DIR* d = ::opendir(e.snapshot.c_str())) {
      while (dirent* de = ::readdir(d)) any = any || std::string(de->d_name).ends_with(".safetensors");
      ::closedir(d);
    }
    if (!any)
      return Status::NotFound(e.snapshot + ": the snapshot of " + e.repo_id + "@" + e.revision +
                              " holds no model.safetensors, model.safetensors.index.json or *.safetensors "
                              "(only part of the repo was downloaded?); " +
                              fetch);
    return e;
  });
}

bool ModelConfig::IsGraniteSpeech() const {
  return model_type.rfind("granite_speech", 0) == 0 || architecture.rfind("GraniteSpeech", 0) == 0;
}

Result<ModelConfig> ReadModelConfig(const std::string& dir) {
  return CatchAll(dir + "/config.json", [&] { return ReadModelConfigImpl(dir); });
}

Status CheckConfigAgainstTable(const ModelConfig& c, uint64_t vocab, uint64_t hidden) {
  if (c.vocab_size && *c.vocab_size != vocab)
    return Status::InvalidArgument(c.path + ": vocab_size " + std::to_string(*c.vocab_size) +
                                   " does not match the table's " + std::to_string(vocab) + " rows");
  if (c.hidden_size && *c.hidden_size != hidden)
    return Status::InvalidArgument(c.path + ": hidden_size " + std::to_string(*c.hidden_size) +
                                   " does not match the table's width " + std::to_string(hidden));
  return Status::Ok();
}

std::optional<std::string> TokenText(const std::string& dir, int64_t id) {
  try {
    if (auto t = FromTokenizerConfig(dir + "/tokenizer_config.json", id)) return t;
    return FromTokenizerJson(dir + "/tokenizer.json", id);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace embed2onnx

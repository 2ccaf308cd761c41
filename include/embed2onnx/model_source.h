// Where a checkpoint comes from, beyond a plain folder: the local Hugging Face cache,
// the checkpoint's config.json, and its tokenizer files. Nothing here downloads or
// reads anything outside the folder or cache entry it is given.
//
// Hugging Face cache (as huggingface_hub lays it out and resolves it): the hub folder is
// $HF_HUB_CACHE (else the older $HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else
// ~/.cache/huggingface/hub. Repo ORG/NAME lives in models--ORG--NAME/, its files under
// snapshots/<commit>/ (symlinks into blobs/), the commit of a branch or tag in
// refs/<name>. "ORG/NAME@REV" takes REV as a commit when snapshots/REV exists, else as a
// ref; no @REV means the ref "main". Like huggingface_hub, nothing is downloaded and a
// commit is only ever a full 40-digit one.
//
// Thread-safety: plain functions over the file system; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "embed2onnx/status.h"

namespace embed2onnx {

struct HfCacheEntry {
  std::string repo_id;   // "ORG/NAME"
  std::string revision;  // as asked ("main" when none was)
  std::string commit;    // the snapshot folder's name
  std::string snapshot;  // <hub>/models--ORG--NAME/snapshots/<commit>
};

// The hub folder as huggingface_hub resolves it from `env` (a getenv); "" when no
// variable gives one (no HOME either).
std::string HfHubCacheDir(const std::map<std::string, std::string>& env);

// Resolves "ORG/NAME[@REV]" in the hub folder `hub_dir`. A repo, ref or snapshot that is
// not there is a NotFound naming the path looked at and the `hf download` command that
// fetches it; an id with an empty, "." or ".." component, a backslash or more than one
// '/' is an InvalidArgument.
// A short commit (a hex prefix of a cached snapshot, with no ref of that name) is an
// InvalidArgument naming the full commit: huggingface_hub takes commits only in full.
Result<HfCacheEntry> ResolveHfCache(const std::string& spec, const std::string& hub_dir);

// HfHubCacheDir of this process's environment.
std::string HfHubCacheDirFromEnv();

// ResolveHfCache, then the snapshot must hold weights (what Checkpoint::OpenDir reads):
// a snapshot without any, or whose model.safetensors or index links to a blob that is
// not there (an interrupted download), is a NotFound naming the path and the
// `hf download ORG/NAME --revision <commit>` that fetches them. What --model reads.
Result<HfCacheEntry> ResolveHfCheckpoint(const std::string& spec, const std::string& hub_dir);

// What config.json beside the weights says (SPEC §9). Sizes come from `text_config` or
// `llm_config` when the config nests one (they win over the top level); GPT-2-style
// configs name them n_vocab and n_embd.
struct ModelConfig {
  bool present = false;  // a config.json was there
  std::string path;
  std::optional<uint64_t> vocab_size, hidden_size;
  std::optional<bool> tie_word_embeddings;
  std::optional<int64_t> audio_token_id;  // audio_token_index or audio_token_id
  std::string audio_token_key;            // which of the two it was, "" if neither
  std::optional<double> embedding_multiplier;
  std::string model_type;    // top-level "model_type", "" if absent
  std::string architecture;  // first of "architectures", "" if absent
  // A Granite Speech config (model_type granite_speech*, or an architecture naming it).
  bool IsGraniteSpeech() const;
};

// Reads `dir`/config.json when present (absent: present == false, OK). A file that is not
// a JSON object, or a size that is not a non-negative integer, is a Corruption naming
// the file and the key.
Result<ModelConfig> ReadModelConfig(const std::string& dir);

// Checks the table's shape against config.json: a mismatch is an InvalidArgument naming
// the config, the key, and both values. OK when the config has no size.
Status CheckConfigAgainstTable(const ModelConfig& config, uint64_t vocab, uint64_t hidden);

// The text of token `id` in the folder's tokenizer files (tokenizer_config.json's
// added_tokens_decoder, else tokenizer.json's added_tokens, else its model.vocab), or
// nullopt when no tokenizer file names it. Unreadable files count as absent.
std::optional<std::string> TokenText(const std::string& dir, int64_t id);

}  // namespace embed2onnx

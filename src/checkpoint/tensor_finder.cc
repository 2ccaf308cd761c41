// Picking the token-embedding table out of a checkpoint's tensors.
//
// Two tiers of evidence. A well-known full name is what a model family writes; a
// name that merely ends like an embedding table is a guess. A guess is only taken when
// no well-known name is there and it is the only guess, so an unusual checkpoint fails
// with the candidates listed instead of exporting the wrong table.
#include "embed2onnx/tensor_finder.h"

#include <array>
#include <string_view>

#include "checkpoint/json_util.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {

// Full names, best first (the order EmbeddingCandidates reports them in).
constexpr std::array<std::string_view, 13> kWellKnown = {
    "language_model.model.embed_tokens.weight",  // Granite Speech (SPEC §6)
    "llm.model.embed_tokens.weight",             // Granite Speech NAR, older revision
    "model.embed_tokens.weight",                 // Llama, Granite, Qwen, Mistral, Gemma
    "model.language_model.embed_tokens.weight",  // multimodal, transformers >= 4.52
    "language_model.embed_tokens.weight",        // multimodal, e.g. Qwen3-VL
    "transformer.wte.weight",                    // GPT-2, GPT-J, StarCoder
    "model.decoder.embed_tokens.weight",         // OPT, BART-style decoders
    "gpt_neox.embed_in.weight",                  // GPT-NeoX, Pythia
    "transformer.word_embeddings.weight",        // BLOOM, Falcon
    "model.embed_in.weight",
    "tok_embeddings.weight",                         // Meta's original Llama layout
    "model.tok_embeddings.weight",                   // InternLM2
    "transformer.embedding.word_embeddings.weight",  // ChatGLM
};

// Endings of names that look like an embedding table.
constexpr std::array<std::string_view, 5> kEmbeddingSuffixes = {
    "embed_tokens.weight",   ".wte.weight",     "word_embeddings.weight",
    "tok_embeddings.weight", "embed_in.weight",
};

constexpr size_t kMaxListed = 10;
constexpr char kPickOne[] = "pick one with --tensor NAME";

bool IsMatrix(const TensorInfo& t) { return t.shape.size() == 2; }

bool Contains(const std::vector<std::string>& names, std::string_view name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

// Well-known 2-D tensors present, in kWellKnown order.
std::vector<std::string> WellKnownPresent(const Checkpoint& ckpt) {
  std::vector<std::string> out;
  for (std::string_view name : kWellKnown) {
    const TensorInfo* t = ckpt.Find(std::string(name));
    if (t != nullptr && IsMatrix(*t)) out.emplace_back(name);
  }
  return out;
}

// 2-D tensors whose names end like an embedding table, in name order, minus `skip`.
std::vector<std::string> LookAlikes(const Checkpoint& ckpt, const std::vector<std::string>& skip) {
  std::vector<std::string> out;
  for (const TensorInfo& t : ckpt.tensors()) {
    if (!IsMatrix(t) || Contains(skip, t.name)) continue;
    for (std::string_view suffix : kEmbeddingSuffixes) {
      if (t.name.ends_with(suffix)) {
        out.push_back(t.name);
        break;
      }
    }
  }
  return out;
}

// "; 'model.embed_tokens.weight' is BF16 [128] (rank 1), not a 2-D table" for each
// well-known name present with another rank: why nothing was found, when that is why.
std::string WrongRankWellKnown(const Checkpoint& ckpt) {
  std::string out;
  for (std::string_view name : kWellKnown) {
    const TensorInfo* t = ckpt.Find(std::string(name));
    if (t == nullptr || IsMatrix(*t)) continue;
    out += "; " + Quote(name) + " is " + t->dtype + " [";
    for (size_t i = 0; i < t->shape.size(); ++i) out += (i > 0 ? ", " : "") + std::to_string(t->shape[i]);
    out += "] (rank " + std::to_string(t->shape.size()) + "), not a 2-D table";
  }
  return out;
}

std::vector<std::string> FirstNames(const Checkpoint& ckpt) {
  std::vector<std::string> out;
  for (const TensorInfo& t : ckpt.tensors()) out.push_back(t.name);
  return out;
}

// "embedding-like tensors there: a, b", or when there are none, a few names there are.
std::string DescribeCandidates(const Checkpoint& ckpt) {
  std::vector<std::string> candidates = EmbeddingCandidates(ckpt);
  if (!candidates.empty()) return "embedding-like tensors there: " + JoinNames(candidates, kMaxListed);
  if (ckpt.tensors().empty()) return "it holds no tensors";
  return "no tensor looks like an embedding table; tensors there: " + JoinNames(FirstNames(ckpt), kMaxListed);
}

Result<const TensorInfo*> PickOnly(const Checkpoint& ckpt, const std::vector<std::string>& names) {
  if (names.size() == 1) return ckpt.Find(names[0]);
  return Status::InvalidArgument(ckpt.source() + ": several tensors look like the embedding table: " +
                                 JoinNames(names, kMaxListed) + "; " + kPickOne);
}

}  // namespace

std::string WhyPicked(const Checkpoint& ckpt, const std::string& name) {
  for (std::string_view known : kWellKnown)
    if (known == name) {
      std::vector<std::string> present = WellKnownPresent(ckpt);
      return present.size() == 1 ? "the only well-known embedding-table name in the checkpoint"
                                 : "a well-known embedding-table name";
    }
  return "no well-known table name is there, and it is the only 2-D tensor whose name ends like an embedding "
         "table";
}

std::vector<std::string> EmbeddingCandidates(const Checkpoint& ckpt) {
  std::vector<std::string> out = WellKnownPresent(ckpt);
  for (std::string& name : LookAlikes(ckpt, out)) out.push_back(std::move(name));
  return out;
}

Result<const TensorInfo*> FindEmbeddingTable(const Checkpoint& ckpt, const std::string& requested) {
  return CatchAll(ckpt.source(), [&]() -> Result<const TensorInfo*> {
    if (!requested.empty()) {
      if (const TensorInfo* t = ckpt.Find(requested)) return t;
      return Status::NotFound(ckpt.source() + ": tensor " + Quote(requested) + " not found; " +
                              DescribeCandidates(ckpt));
    }
    std::vector<std::string> well_known = WellKnownPresent(ckpt);
    if (!well_known.empty()) return PickOnly(ckpt, well_known);
    std::vector<std::string> look_alikes = LookAlikes(ckpt, {});
    if (!look_alikes.empty()) return PickOnly(ckpt, look_alikes);
    std::string listed = ckpt.tensors().empty() ? "it holds no tensors"
                                                : "tensors: " + JoinNames(FirstNames(ckpt), kMaxListed);
    return Status::NotFound(ckpt.source() + ": no embedding table found" + WrongRankWellKnown(ckpt) + "; " +
                            listed + "; " + kPickOne);
  });
}

Result<const TensorInfo*> FindOneOf(const Checkpoint& ckpt, const std::vector<std::string>& accepted) {
  return CatchAll(ckpt.source(), [&]() -> Result<const TensorInfo*> {
    for (const std::string& name : accepted) {
      if (const TensorInfo* t = ckpt.Find(name)) return t;
    }
    return Status::NotFound(ckpt.source() + ": expected one of " + JoinNames(accepted, kMaxListed) + "; " +
                            DescribeCandidates(ckpt));
  });
}

}  // namespace embed2onnx

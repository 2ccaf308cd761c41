// Finding the token-embedding table among a checkpoint's tensors.
//
// Names users meet (SPEC §6): Granite Speech `language_model.model.embed_tokens.weight`
// and the NAR's older `llm.model.embed_tokens.weight`; Llama/Granite/Qwen
// `model.embed_tokens.weight`; multimodal `model.language_model.embed_tokens.weight` and
// `language_model.embed_tokens.weight`; GPT-2 `transformer.wte.weight`; and other
// 2-D tensors whose names end like an embedding table.
#pragma once

#include <string>
#include <vector>

#include "embed2onnx/checkpoint.h"
#include "embed2onnx/status.h"

namespace embed2onnx {

// If `requested` is non-empty, returns that tensor or NotFound listing the tensors that
// look like embedding tables (or, when none does, the first few names there are).
// Otherwise picks the one embedding table: exactly one well-known name wins; with none,
// exactly one 2-D tensor whose name looks like an embedding. None, or several equally
// likely -> InvalidArgument/NotFound whose message lists the candidates and suggests
// --tensor.
Result<const TensorInfo*> FindEmbeddingTable(const Checkpoint& ckpt, const std::string& requested);

// Picks the first of `accepted` present in the checkpoint (a preset's names), else
// NotFound naming what was expected and listing the candidates that are there.
Result<const TensorInfo*> FindOneOf(const Checkpoint& ckpt, const std::vector<std::string>& accepted);

// Why FindEmbeddingTable(ckpt, "") picks `name`, in words ("a well-known table name
// (Granite Speech)", "the only 2-D tensor whose name ends like an embedding table").
std::string WhyPicked(const Checkpoint& ckpt, const std::string& name);

// The names of tensors that look like embedding tables, best first.
std::vector<std::string> EmbeddingCandidates(const Checkpoint& ckpt);

}  // namespace embed2onnx

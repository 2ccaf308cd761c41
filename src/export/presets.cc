#include "embed2onnx/presets.h"

namespace embed2onnx {

const std::vector<Preset>& GranitePresets() {
  static const std::vector<Preset> presets = {
      {"base",
       "models/granite-speech-4.1-2b",
       "exports/granite-speech-4.1-2b",
       // As published, then as transformers 5 writes it (SPEC §9).
       {"language_model.model.embed_tokens.weight", "model.language_model.embed_tokens.weight"}},
      {"plus",
       "models/granite-speech-4.1-2b-plus",
       "exports/granite-speech-4.1-2b-plus",
       {"language_model.model.embed_tokens.weight", "model.language_model.embed_tokens.weight"}},
      // The NAR checkpoint names its LLM `llm` in older revisions (the remote-code NLE
      // model), `language_model` in newer; transformers' own GraniteSpeechNarForCTC writes
      // `model.language_model`.
      {"nar",
       "models/granite-speech-4.1-2b-nar",
       "exports/granite-speech-4.1-2b-nar",
       {"llm.model.embed_tokens.weight", "language_model.model.embed_tokens.weight",
        "model.language_model.embed_tokens.weight"}},
  };
  return presets;
}

const Preset* FindPreset(const std::string& variant) {
  for (const Preset& p : GranitePresets())
    if (p.variant == variant) return &p;
  return nullptr;
}

}  // namespace embed2onnx

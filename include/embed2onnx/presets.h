// The Granite Speech 4.1 2B presets (SPEC §6): where the original script reads each
// variant's checkpoint, where it writes the export, and which tensor is the table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace embed2onnx {

struct Preset {
  std::string variant;               // "base", "plus", "nar"
  std::string model_subdir;          // under <root>: "models/granite-speech-4.1-2b"
  std::string export_subdir;         // under <root>: "exports/granite-speech-4.1-2b"
  std::vector<std::string> tensors;  // accepted table names, preferred first
  // The audio token id A of the splice graphs (SPEC §8) when neither --audio-token-id nor
  // config.json gives one: <|audio|> = 100352 for base and plus (a row of their table),
  // and for the NAR the same id, one past its 100352-row table (a placeholder).
  int64_t audio_token_id = 100352;
};

// base, plus, nar in that order (the order of --variant all).
const std::vector<Preset>& GranitePresets();
// nullptr when unknown.
const Preset* FindPreset(const std::string& variant);

// The producer fields SPEC §2 asks for in the Granite bundle.
inline constexpr char kGraniteProducerName[] = "granite-speech-4.1-onnx";
inline constexpr char kGraniteProducerVersion[] = "embed_tokens-1";

}  // namespace embed2onnx

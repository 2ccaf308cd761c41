// The Granite Speech 4.1 2B presets (SPEC §6): where the original script reads each
// variant's checkpoint, where it writes the export, and which tensor is the table.
#pragma once

#include <string>
#include <vector>

namespace embed2onnx {

struct Preset {
  std::string variant;               // "base", "plus", "nar"
  std::string model_subdir;          // under <root>: "models/granite-speech-4.1-2b"
  std::string export_subdir;         // under <root>: "exports/granite-speech-4.1-2b"
  std::vector<std::string> tensors;  // accepted table names, preferred first
};

// base, plus, nar in that order (the order of --variant all).
const std::vector<Preset>& GranitePresets();
// nullptr when unknown.
const Preset* FindPreset(const std::string& variant);

// The producer fields SPEC §2 asks for in the Granite bundle.
inline constexpr char kGraniteProducerName[] = "granite-speech-4.1-onnx";
inline constexpr char kGraniteProducerVersion[] = "embed_tokens-1";

}  // namespace embed2onnx

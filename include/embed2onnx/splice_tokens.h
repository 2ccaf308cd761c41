// The token ids a splice graph (SPEC §8) puts feature rows in at: audio (Granite
// Speech's <|audio|>, input audio_features), image (input image_features), or both.
#pragma once

#include <cstdint>
#include <optional>

namespace embed2onnx {

struct SpliceTokens {
  std::optional<int64_t> image, audio;
  bool any() const { return image.has_value() || audio.has_value(); }
  bool operator==(const SpliceTokens&) const = default;
};

}  // namespace embed2onnx

// The export tiers by name: what `--tiers` accepts.
#pragma once

#include <string>
#include <vector>

#include "embed2onnx/status.h"

namespace embed2onnx {

// Every tier name, in the default export order ("fp32", "fp16w", "int8", ...).
std::vector<std::string> TierNames();

// Parses a comma list such as "fp32,int8" (spaces around names ignored, duplicates
// dropped, order of first appearance kept; "all" stands for every tier in table order). A list naming no
// tier, or an unknown name, is an InvalidArgument naming it, with "did you mean ...?" when one is close.
Result<std::vector<std::string>> ParseTierList(const std::string& list);

// One line per tier: name, file name and what it stores; for --help.
std::string TierHelpText();

}  // namespace embed2onnx

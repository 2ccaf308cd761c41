#include <algorithm>

#include "embed2onnx/tiers.h"
#include "tiers/tier.h"
#include "util/edit_distance.h"
#include "util/no_throw.h"

namespace embed2onnx {

namespace {
std::string KnownTiers() {
  std::string known;
  for (const Tier& t : AllTiers()) known += (known.empty() ? "" : ", ") + std::string(t.name);
  return known;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}
}  // namespace

static Result<std::vector<std::string>> ParseTierListImpl(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string name =
        Trim(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (name.empty()) continue;
    if (name == "all") {  // what --help calls the default
      for (const Tier& t : AllTiers())
        if (std::find(out.begin(), out.end(), t.name) == out.end()) out.push_back(t.name);
      continue;
    }
    if (!FindTier(name)) {
      std::string msg = "--tiers: unknown tier '" + name + "'";
      std::string best;
      size_t best_d = 3;
      for (const Tier& t : AllTiers()) {
        size_t d = EditDistance(name, t.name);
        if (d < best_d) best_d = d, best = t.name;
      }
      if (!best.empty()) msg += " (did you mean '" + best + "'?)";
      return Status::InvalidArgument(msg + "; known tiers: " + KnownTiers());
    }
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  if (out.empty()) return Status::InvalidArgument("--tiers: no tier named; known tiers: " + KnownTiers());
  return out;
}

std::string TierHelpText() {
  std::string s;
  for (const Tier& t : AllTiers())
    s += "  " + std::string(t.name) + "  " + t.file_name + "  " + t.summary + "\n";
  return s;
}

Result<std::vector<std::string>> ParseTierList(const std::string& list) {
  return CatchAll("--tiers", [&] { return ParseTierListImpl(list); });
}

}  // namespace embed2onnx

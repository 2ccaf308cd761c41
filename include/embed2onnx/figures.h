// The figures export and verify report about a tier: one type for the parity on the
// sample ids, the whole-table quantisation statistics and what verify recomputes, so
// every producer and every printer agrees on what they mean.
//
// All are of err = |decoded - source| in float32, as numpy computes it (SPEC §4):
// max, numpy's float32 mean, numpy's default 0.99 quantile ("linear"), and, for tiers
// that report it (int4), the mean over rows of each decoded row's cosine similarity to
// its source row.
#pragma once

#include <cstdint>
#include <string>

namespace embed2onnx {

// Whose arithmetic the float32 mean and the p99's interpolation follow (docs/format.md):
// numpy 2.4 (the default, what users of the original now run) sums the whole array as
// one pairwise tree and interpolates the quantile of float32 data in float32; numpy 1.24
// sums 8192-value buffers in order and interpolates in float64. Max and the order
// statistics are the same under both.
enum class NumpyRules { kNumpy2_4, kNumpy1_24 };
inline constexpr NumpyRules kDefaultNumpyRules = NumpyRules::kNumpy2_4;
inline const char* NumpyRulesName(NumpyRules r) { return r == NumpyRules::kNumpy1_24 ? "1.24" : "2.4"; }
// "2.4" or "1.24"; false for anything else.
inline bool ParseNumpyRules(const std::string& s, NumpyRules* r) {
  if (s == "2.4")
    *r = NumpyRules::kNumpy2_4;
  else if (s == "1.24")
    *r = NumpyRules::kNumpy1_24;
  else
    return false;
  return true;
}

struct ErrorFigures {
  double max_abs_err = 0, mean_abs_err = 0, p99_abs_err = 0;
  bool has_cosine = false;
  double mean_row_cosine = 0;
};

// Finite source values a tier's encoding turned into +-inf. fp16w follows numpy's
// astype(float16): |x| >= 65520 rounds to inf, stored as such, and said aloud.
struct OverflowFigures {
  uint64_t count = 0;
  double max_abs_source = 0;  // the largest |x| among them (0 when count is 0)
};

}  // namespace embed2onnx

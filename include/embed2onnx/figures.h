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

namespace embed2onnx {

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

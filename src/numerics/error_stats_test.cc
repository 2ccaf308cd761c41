#include "numerics/error_stats.h"

#include <gtest/gtest.h>

#include <random>

namespace embed2onnx {
namespace {

TEST(ErrorStatsTest, QuantileOfSmallArraysByHand) {
  // n = 101: h = 0.99 * 100 = 99 (up to rounding), so p99 is the 100th smallest value.
  std::vector<float> v;
  for (int i = 0; i <= 100; ++i) v.push_back(static_cast<float>(i));
  ErrorSummary s = SummarizeErrors(v);
  EXPECT_EQ(s.max_abs_err, 100.0);
  EXPECT_EQ(s.mean_abs_err, 50.0);
  EXPECT_NEAR(s.p99_abs_err, 99.0, 1e-9);
  // n = 3: h = 1.98 -> 2nd + 0.98 * (3rd - 2nd)
  std::vector<float> w = {4.0f, 0.0f, 2.0f};
  EXPECT_NEAR(SummarizeErrors(w).p99_abs_err, 2.0 + 0.98 * 2.0, 1e-12);
  std::vector<float> one = {0.25f};
  EXPECT_EQ(SummarizeErrors(one).p99_abs_err, 0.25);
}

// The streamed two-pass select must equal the in-memory sort exactly.
TEST(ErrorStatsTest, TwoPassEqualsSort) {
  std::mt19937 rng(11);
  for (size_t n : {1u, 2u, 3u, 100u, 101u, 4097u, 200000u}) {
    std::vector<float> v(n);
    std::exponential_distribution<float> dist(3000.0f);
    for (float& x : v) x = (rng() % 7 == 0) ? 0.0f : dist(rng);  // ties and zeros
    std::vector<float> copy = v;
    ErrorSummary expect = SummarizeErrors(copy);

    TwoPassQuantile q(n, 0.99);
    HighBitsHistogram h1, h2;  // two "workers"
    h1.Add(v.data(), n / 2);
    h2.Add(v.data() + n / 2, n - n / 2);
    q.MergePass1(h1);
    q.MergePass1(h2);
    LowBitsHistogram l1 = q.StartPass2(), l2 = l1;
    l1.Add(v.data(), n / 3);
    l2.Add(v.data() + n / 3, n - n / 3);
    q.MergePass2(l2);
    q.MergePass2(l1);
    EXPECT_EQ(q.Result(), expect.p99_abs_err) << "n=" << n;
  }
}

TEST(ErrorStatsTest, LerpMatchesNumpyForm) {
  EXPECT_EQ(NumpyLerp(1.0f, 3.0f, 0.25), 1.5);
  EXPECT_EQ(NumpyLerp(1.0f, 3.0f, 0.75), 3.0 - 2.0 * 0.25);
  EXPECT_EQ(NumpyLerp(2.0f, 2.0f, 0.9), 2.0);
}

}  // namespace
}  // namespace embed2onnx

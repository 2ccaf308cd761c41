#include "numerics/error_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "numerics/half.h"

namespace embed2onnx {
namespace {

TEST(ErrorStatsTest, QuantileOfSmallArraysByHand) {
  // n = 101: h = 0.99 * 100 = 99 (up to rounding), so p99 is the 100th smallest value.
  std::vector<float> v;
  for (int i = 0; i <= 100; ++i) v.push_back(static_cast<float>(i));
  ErrorFigures s = SummarizeErrors(v);
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
    ErrorFigures expect = SummarizeErrors(copy);

    TwoPassQuantile q(n, 0.99);
    HighBitsHistogram h1, h2;  // two "workers"
    h1.Add(v.data(), n / 2);
    h2.Add(v.data() + n / 2, n - n / 2);
    q.MergePass1(h1);
    q.MergePass1(h2);
    // Pass 2 as two workers hand it over: only what the window keeps, in any order.
    const QuantileWindow w = q.StartPass2();
    std::vector<float> kept(n);
    q.AddPass2(kept.data(), w.Filter(v.data() + n / 3, n - n / 3, kept.data()));
    q.AddPass2(kept.data(), w.Filter(v.data(), n / 3, kept.data()));
    EXPECT_EQ(q.Result(), expect.p99_abs_err) << "n=" << n;
  }
}

// Streams v through pass 1 with `window` (two workers, filtered as the pipeline does);
// returns whether that was enough, and the result after pass 2 when it was not.
bool OnePassThenMaybeTwo(const std::vector<float>& v, QuantileWindow window, double* result) {
  const size_t n = v.size();
  TwoPassQuantile q(n, 0.99);
  q.SetWindow(window);
  HighBitsHistogram h1, h2;
  std::vector<float> kept(n);
  h1.Add(v.data(), n / 2);
  q.AddToWindow(kept.data(), window.Filter(v.data(), n / 2, kept.data()));
  h2.Add(v.data() + n / 2, n - n / 2);
  q.AddToWindow(kept.data(), window.Filter(v.data() + n / 2, n - n / 2, kept.data()));
  q.MergePass1(h2);
  q.MergePass1(h1);
  const bool resolved = q.ResolvedInPass1();
  if (!resolved) {
    const QuantileWindow w2 = q.StartPass2();
    q.AddPass2(kept.data(), w2.Filter(v.data(), n, kept.data()));
  }
  *result = q.Result();
  return resolved;
}

TEST(ErrorStatsTest, WindowAroundAGoodGuessSkipsPass2AndStaysExact) {
  std::mt19937 rng(5);
  for (size_t n : {1u, 4097u, 300000u}) {  // (n = 101: its top two values are far apart)
    std::vector<float> v(n);
    std::exponential_distribution<float> dist(3000.0f);
    for (float& x : v) x = (rng() % 5 == 0) ? 0.0f : dist(rng);
    std::vector<float> copy = v;
    const double expect = SummarizeErrors(copy).p99_abs_err;
    double got = -1;
    // The guess is off by 5 %: still inside a window of +-16 buckets (about +-9 %).
    EXPECT_TRUE(OnePassThenMaybeTwo(v, QuantileWindow::Around(static_cast<float>(expect * 1.05), 16), &got))
        << "n=" << n;
    EXPECT_EQ(got, expect) << "n=" << n;
  }
}

TEST(ErrorStatsTest, WindowThatMissesFallsBackToPass2) {
  std::mt19937 rng(6);
  std::vector<float> v(50000);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  for (float& x : v) x = dist(rng);
  std::vector<float> copy = v;
  const double expect = SummarizeErrors(copy).p99_abs_err;
  double got = -1;
  // Far below, far above, and no window.
  for (QuantileWindow w :
       {QuantileWindow::Around(0.01f, 4), QuantileWindow::Around(50.0f, 4), QuantileWindow{}}) {
    EXPECT_FALSE(OnePassThenMaybeTwo(v, w, &got));
    EXPECT_EQ(got, expect);
  }
}

// The two wanted order statistics on either side of a bucket edge: a window holding both
// settles it in pass 1, one holding only either falls back, and all agree with the sort.
TEST(ErrorStatsTest, RanksInTwoBucketsNeedBothInTheWindow) {
  const uint32_t b = FloatBits(1.0f) >> 16;
  // n = 1001: numpy's index 0.99 * 1000 = 990 (up to rounding), so ranks 990 and 991.
  std::vector<float> v(1001, 0.5f);
  v[990] = BitsToFloat((b << 16) | 0xffffu);                                  // the top of bucket b
  for (size_t i = 991; i < v.size(); ++i) v[i] = BitsToFloat((b + 1) << 16);  // bucket b + 1
  std::vector<float> copy = v;
  const double expect = SummarizeErrors(copy).p99_abs_err;
  double got = -1;
  QuantileWindow both, lower, upper;
  both.first = b - 2, both.last = b + 2;
  lower.first = b - 4, lower.last = b;
  upper.first = b + 1, upper.last = b + 5;
  EXPECT_TRUE(OnePassThenMaybeTwo(v, both, &got));
  EXPECT_EQ(got, expect);
  EXPECT_FALSE(OnePassThenMaybeTwo(v, lower, &got));
  EXPECT_EQ(got, expect);
  EXPECT_FALSE(OnePassThenMaybeTwo(v, upper, &got));
  EXPECT_EQ(got, expect);
}

// If the window's counts for a wanted bucket disagree with pass 1's (values that never
// reached AddToWindow), pass 1 must not claim the answer.
TEST(ErrorStatsTest, WindowMissingValuesIsNotTrusted) {
  std::vector<float> v(10000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 997) * 1e-3f;
  std::vector<float> copy = v;
  const double expect = SummarizeErrors(copy).p99_abs_err;
  TwoPassQuantile q(v.size(), 0.99);
  const QuantileWindow w = QuantileWindow::Around(static_cast<float>(expect), 4);
  q.SetWindow(w);
  HighBitsHistogram h;
  h.Add(v.data(), v.size());
  q.MergePass1(h);
  std::vector<float> kept(v.size());
  q.AddToWindow(kept.data(), w.Filter(v.data(), v.size() / 2, kept.data()));  // half never arrives
  EXPECT_FALSE(q.ResolvedInPass1());
  q.StartPass2();
  q.AddPass2(v.data(), v.size());  // unfiltered: values outside its buckets are ignored
  EXPECT_EQ(q.Result(), expect);
}

TEST(ErrorStatsTest, NoWindowForTablesOf2To32ValuesOrMore) {
  TwoPassQuantile big((uint64_t{1} << 32) + 5, 0.99);
  big.SetWindow(QuantileWindow::Around(1.0f, 16));
  EXPECT_TRUE(big.window().empty());  // 32-bit window counts could overflow
  TwoPassQuantile fits(UINT32_MAX, 0.99);
  fits.SetWindow(QuantileWindow::Around(1.0f, 16));
  EXPECT_FALSE(fits.window().empty());
}

TEST(ErrorStatsTest, WindowFilterKeepsExactlyTheValuesInItsBuckets) {
  const QuantileWindow w = QuantileWindow::Around(1.0f, 2);
  EXPECT_EQ(w.last - w.first, 4u);
  const float in_lo = BitsToFloat(w.first << 16), in_hi = BitsToFloat((w.last << 16) | 0xffffu);
  const float out_lo = BitsToFloat((w.first << 16) - 1), out_hi = BitsToFloat((w.last + 1) << 16);
  const std::vector<float> v = {0.0f, out_lo, in_lo, 1.0f, in_hi, out_hi, 1e30f};
  std::vector<float> out(v.size());
  ASSERT_EQ(w.Filter(v.data(), v.size(), out.data()), 3u);
  EXPECT_EQ(out[0], in_lo);
  EXPECT_EQ(out[1], 1.0f);
  EXPECT_EQ(out[2], in_hi);
  EXPECT_EQ(QuantileWindow{}.Filter(v.data(), v.size(), out.data()), 0u);
  // Clipped at zero and below +inf's bucket.
  EXPECT_EQ(QuantileWindow::Around(0.0f, 8).first, 0u);
  EXPECT_LT(QuantileWindow::Around(3e38f, 8).last, FloatBits(INFINITY) >> 16);
}

// The vector filter keeps the same values in the same order as the portable one, for
// windows that keep almost nothing, about half, and everything, at every tail length.
TEST(ErrorStatsTest, WindowFilterPathsAgree) {
  std::mt19937 rng(21);
  std::exponential_distribution<float> dist(100.0f);
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 1000u, 65543u}) {
    std::vector<float> v(n);
    for (float& x : v) x = rng() % 9 == 0 ? 0.0f : dist(rng);
    for (QuantileWindow w :
         {QuantileWindow::Around(0.01f, 1), QuantileWindow::Around(0.01f, 64),
          QuantileWindow::Around(0.01f, 4000), QuantileWindow::Around(0.0f, 0), QuantileWindow{}}) {
      std::vector<float> a(n + 1, -1.0f), b(n + 1, -1.0f);
      const size_t ka = w.Filter(v.data(), n, a.data());
      const size_t kb = w.FilterPortable(v.data(), n, b.data());
      ASSERT_EQ(ka, kb) << "n " << n << " window " << w.first << ".." << w.last;
      for (size_t i = 0; i < ka; ++i) ASSERT_EQ(FloatBits(a[i]), FloatBits(b[i])) << "n " << n << " at " << i;
      EXPECT_EQ(a[n], -1.0f);  // nothing written past room for n
    }
  }
}

// The SSE running max equals the plain loop bit for bit, NaN and inf included, at
// every tail length and from any starting value.
TEST(ErrorStatsTest, RunningMaxPathsAgree) {
  std::mt19937 rng(8);
  std::exponential_distribution<float> dist(10.0f);
  for (size_t n : {0u, 1u, 3u, 7u, 8u, 9u, 16u, 17u, 1001u}) {
    for (int variant = 0; variant < 4; ++variant) {
      std::vector<float> v(n);
      for (float& x : v) x = dist(rng);
      if (n > 2 && variant == 1) v[n / 2] = NAN;
      if (n > 2 && variant == 2) v[n - 1] = INFINITY;
      if (n > 0 && variant == 3) v[0] = NAN;
      for (float start : {0.0f, 0.5f, 1e9f}) {
        const float a = RunningMax(v.data(), n, start), b = RunningMaxPortable(v.data(), n, start);
        ASSERT_EQ(FloatBits(a), FloatBits(b)) << "n " << n << " variant " << variant << " start " << start;
      }
    }
  }
}

TEST(ErrorStatsTest, LerpMatchesNumpyForm) {
  EXPECT_EQ(NumpyLerp(1.0f, 3.0f, 0.25), 1.5);
  EXPECT_EQ(NumpyLerp(1.0f, 3.0f, 0.75), 3.0 - 2.0 * 0.25);
  EXPECT_EQ(NumpyLerp(2.0f, 2.0f, 0.9), 2.0);
}

}  // namespace
}  // namespace embed2onnx

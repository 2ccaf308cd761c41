#include "numerics/error_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

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
  // n = 3: h = 1.98 -> 2nd + 0.98 * (3rd - 2nd): in double under numpy 1.24, in float32
  // under 2.4 (which gives 3.9600000381469727 here).
  std::vector<float> w = {4.0f, 0.0f, 2.0f};
  EXPECT_NEAR(SummarizeErrors(w, NumpyRules::kNumpy1_24).p99_abs_err, 2.0 + 0.98 * 2.0, 1e-12);
  w = {4.0f, 0.0f, 2.0f};
  EXPECT_EQ(SummarizeErrors(w, NumpyRules::kNumpy2_4).p99_abs_err, 3.9600000381469727);
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

// The export's route: pass 1 counts only what falls below `window` and keeps what falls
// inside (two workers); when that does not settle it, a high-bits pass and a low-bits
// pass follow. Returns whether pass 1 was enough.
bool BelowCountThenMaybeTwoMore(const std::vector<float>& v, QuantileWindow window, double* result) {
  const size_t n = v.size();
  TwoPassQuantile q(n, 0.99);
  q.SetWindow(window);
  std::vector<float> kept(n);
  uint64_t below1 = 0, below2 = 0;
  q.AddToWindow(kept.data(), window.Filter(v.data() + n / 2, n - n / 2, kept.data(), &below2));
  q.AddToWindow(kept.data(), window.Filter(v.data(), n / 2, kept.data(), &below1));
  q.AddBelowWindow(below1);
  q.AddBelowWindow(below2);
  const bool resolved = q.ResolvedByWindow();
  if (!resolved) {
    HighBitsHistogram h;
    h.Add(v.data(), n);
    q.MergePass1(h);
    if (!q.ResolvedInPass1()) {
      const QuantileWindow w2 = q.StartPass2();
      q.AddPass2(kept.data(), w2.Filter(v.data(), n, kept.data()));
    }
  }
  *result = q.Result();
  return resolved;
}

TEST(ErrorStatsTest, BelowCountAndWindowSettleTheP99OrFallBack) {
  std::mt19937 rng(15);
  for (size_t n : {1u, 2u, 101u, 4097u, 300000u}) {
    std::vector<float> v(n);
    std::exponential_distribution<float> dist(3000.0f);
    for (float& x : v) x = (rng() % 5 == 0) ? 0.0f : dist(rng);
    std::vector<float> copy = v;
    const double expect = SummarizeErrors(copy).p99_abs_err;
    double got = -1;
    const bool settled =
        BelowCountThenMaybeTwoMore(v, QuantileWindow::Around(static_cast<float>(expect * 1.05), 16), &got);
    // (n = 2 and 101: the two values the p99 lies between are far apart)
    if (n != 2 && n != 101) {
      EXPECT_TRUE(settled) << "n=" << n;
    }
    EXPECT_EQ(got, expect) << "n=" << n;
    for (QuantileWindow w : {QuantileWindow::Around(static_cast<float>(expect * 0.01), 4),
                             QuantileWindow::Around(static_cast<float>(expect * 100), 4), QuantileWindow{}}) {
      if (n > 2) {
        EXPECT_FALSE(BelowCountThenMaybeTwoMore(v, w, &got)) << "n=" << n;
      }
      EXPECT_EQ(got, expect) << "n=" << n << " window " << w.first << ".." << w.last;
    }
  }
  // The two order statistics on either side of a bucket edge: both must be inside.
  const uint32_t b = FloatBits(1.0f) >> 16;
  std::vector<float> v(1001, 0.5f);
  v[990] = BitsToFloat((b << 16) | 0xffffu);
  for (size_t i = 991; i < v.size(); ++i) v[i] = BitsToFloat((b + 1) << 16);
  std::vector<float> copy = v;
  const double expect = SummarizeErrors(copy).p99_abs_err;
  double got = -1;
  QuantileWindow both, lower, upper;
  both.first = b - 2, both.last = b + 2;
  lower.first = b - 4, lower.last = b;
  upper.first = b + 1, upper.last = b + 5;
  EXPECT_TRUE(BelowCountThenMaybeTwoMore(v, both, &got));
  EXPECT_EQ(got, expect);
  EXPECT_FALSE(BelowCountThenMaybeTwoMore(v, lower, &got));
  EXPECT_EQ(got, expect);
  EXPECT_FALSE(BelowCountThenMaybeTwoMore(v, upper, &got));
  EXPECT_EQ(got, expect);
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

// The window's 16-bit counters wrap where one float repeats more than 65535 times (a
// table of many equal rows): the carries keep every count, by both routes of pass 1.
TEST(ErrorStatsTest, WindowCountsPastSixteenBits) {
  for (size_t repeats : {65535u, 65536u, 65537u, 200000u})
    for (bool p99_on_the_wrap : {false, true}) {
      std::vector<float> v;
      v.insert(v.end(), 1000, 0.25f);    // below the window
      v.insert(v.end(), repeats, 1.0f);  // one counter, wrapping
      if (p99_on_the_wrap) {
        // Under 1 % above it: both ranks of the p99 fall on the wrapped counter, whose
        // count the low-bits search reads.
        v.insert(v.end(), repeats / 200, 1.0001f);
        v.insert(v.end(), repeats / 400, 8.0f);
      } else {
        v.insert(v.end(), 3000, 1.0001f);        // its neighbours in the bucket
        v.insert(v.end(), repeats / 90, 1.04f);  // a second bucket of the window
        v.insert(v.end(), 500, 8.0f);            // above it
      }
      std::vector<float> copy = v;
      const double expect = SummarizeErrors(copy).p99_abs_err;
      const QuantileWindow window = QuantileWindow::Around(1.0f, 16);
      double got = -1;
      EXPECT_TRUE(BelowCountThenMaybeTwoMore(v, window, &got)) << repeats << " " << p99_on_the_wrap;
      EXPECT_EQ(got, expect) << repeats << " " << p99_on_the_wrap;
      EXPECT_TRUE(OnePassThenMaybeTwo(v, window, &got)) << repeats << " " << p99_on_the_wrap;
      EXPECT_EQ(got, expect) << repeats << " " << p99_on_the_wrap;
    }
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

// Every vector filter keeps the same values in the same order as the portable one, and
// counts the same below and the same max, for windows that keep almost nothing, about
// half, and everything, at every tail length.
TEST(ErrorStatsTest, WindowFilterPathsAgree) {
  std::mt19937 rng(21);
  std::exponential_distribution<float> dist(100.0f);
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 1000u, 65543u}) {
    std::vector<float> v(n);
    for (float& x : v) x = rng() % 9 == 0 ? 0.0f : dist(rng);
    for (QuantileWindow w :
         {QuantileWindow::Around(0.01f, 1), QuantileWindow::Around(0.01f, 64),
          QuantileWindow::Around(0.01f, 4000), QuantileWindow::Around(0.0f, 0), QuantileWindow{}}) {
      std::vector<float> b(n + 1, -1.0f);
      uint64_t below_b = 3, below_count = 3;
      float max_b = 0.5f * dist(rng);
      const float max_start = max_b;
      const size_t kb = w.FilterPortable(v.data(), n, b.data(), &below_b, &max_b);
      for (float x : v) below_count += !w.empty() && (FloatBits(x) >> 16) < w.first;
      EXPECT_EQ(below_b, below_count) << "n " << n;
      EXPECT_EQ(FloatBits(max_b), FloatBits(RunningMaxPortable(v.data(), n, max_start))) << "n " << n;
      // The dispatched filter, then each vector build this CPU has (the dispatch takes
      // only the widest).
      for (int bits : {0, 256, 512}) {
        std::vector<float> a(n + 1, -1.0f);
        uint64_t below_a = 3;
        float max_a = max_start;
        size_t ka = 0;
        if (bits == 0) {
          ka = w.Filter(v.data(), n, a.data(), &below_a, &max_a);
        } else if (!w.FilterOn(bits, v.data(), n, a.data(), &below_a, &max_a, &ka)) {
          continue;
        }
        const std::string at = "n " + std::to_string(n) + " bits " + std::to_string(bits);
        ASSERT_EQ(ka, kb) << at << " window " << w.first << ".." << w.last;
        EXPECT_EQ(below_a, below_count) << at;
        EXPECT_EQ(FloatBits(max_a), FloatBits(max_b)) << at;
        for (size_t i = 0; i < ka; ++i) ASSERT_EQ(FloatBits(a[i]), FloatBits(b[i])) << at << " at " << i;
        EXPECT_EQ(a[n], -1.0f) << at;  // nothing written past room for n
        // Without the optional outputs, the same values kept.
        std::vector<float> c(n + 1, -1.0f);
        ASSERT_EQ(bits == 0 ? w.Filter(v.data(), n, c.data())
                            : (w.FilterOn(bits, v.data(), n, c.data(), nullptr, nullptr, &ka), ka),
                  kb)
            << at;
      }
    }
  }
}

// The vector running max equals the plain loop bit for bit, NaN and inf included, at
// every tail length and from any starting value.
TEST(ErrorStatsTest, RunningMaxPathsAgree) {
  std::mt19937 rng(8);
  std::exponential_distribution<float> dist(10.0f);
  for (size_t n : {0u, 1u, 3u, 7u, 8u, 9u, 16u, 17u, 31u, 32u, 33u, 64u, 95u, 1001u}) {
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

// The four-lane cosine: exactly its documented order, and within rounding of the plain
// in-order sums it replaced.
TEST(ErrorStatsTest, RowCosineInFourLanes) {
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (size_t n : {1u, 3u, 4u, 5u, 64u, 2047u, 2048u}) {
    std::vector<float> x(n), y(n);
    for (size_t j = 0; j < n; ++j) x[j] = dist(rng), y[j] = x[j] + 0.1f * dist(rng);
    double l[3][4] = {};
    double in_order[3] = {};
    for (size_t j = 0; j < n; ++j) {
      const double a = x[j], b = y[j];
      l[0][j % 4] += a * b, l[1][j % 4] += a * a, l[2][j % 4] += b * b;
      in_order[0] += a * b, in_order[1] += a * a, in_order[2] += b * b;
    }
    double s[3];
    for (int k = 0; k < 3; ++k) s[k] = (l[k][0] + l[k][1]) + (l[k][2] + l[k][3]);
    EXPECT_EQ(RowCosine(x.data(), y.data(), n), s[0] / std::sqrt(s[1] * s[2])) << n;
    EXPECT_EQ(RowCosinePortable(x.data(), y.data(), n), s[0] / std::sqrt(s[1] * s[2])) << n;
    EXPECT_NEAR(RowCosine(x.data(), y.data(), n), in_order[0] / std::sqrt(in_order[1] * in_order[2]), 1e-12)
        << n;
  }
  std::vector<float> zero(8, 0.0f), one(8, 1.0f);
  EXPECT_EQ(RowCosine(zero.data(), zero.data(), 8), 1.0);
  EXPECT_EQ(RowCosine(zero.data(), one.data(), 8), 0.0);
  EXPECT_EQ(RowCosine(one.data(), one.data(), 8), 1.0);
  EXPECT_EQ(RowCosinePortable(zero.data(), one.data(), 8), 0.0);
}

// Rows side by side: each row's cosine is RowCosinePortable's double, bit for bit, for
// odd and even row counts, widths with and without a tail, and zero rows among them.
TEST(ErrorStatsTest, RowCosinesEqualOneRowAtATime) {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (size_t n : {1u, 3u, 4u, 6u, 64u, 2047u, 2048u}) {
    for (size_t rows : {1u, 2u, 3u, 8u}) {
      std::vector<float> x(rows * n), y(rows * n);
      for (size_t j = 0; j < x.size(); ++j) x[j] = dist(rng), y[j] = x[j] + 0.1f * dist(rng);
      if (rows > 2) std::fill(x.begin() + n, x.begin() + 2 * n, 0.0f);  // row 1: x zero
      std::vector<double> got(rows, -2.0);
      RowCosines(x.data(), y.data(), rows, n, got.data());
      for (size_t r = 0; r < rows; ++r) {
        const double want = RowCosinePortable(x.data() + r * n, y.data() + r * n, n);
        EXPECT_EQ(std::memcmp(&got[r], &want, sizeof want), 0)
            << "n " << n << " rows " << rows << " row " << r;
      }
    }
  }
}

TEST(ErrorStatsTest, LerpMatchesNumpyForm) {
  EXPECT_EQ(NumpyLerp(1.0f, 3.0f, 0.25), 1.5);
  EXPECT_EQ(NumpyLerp(1.0f, 3.0f, 0.75), 3.0 - 2.0 * 0.25);
  EXPECT_EQ(NumpyLerp(2.0f, 2.0f, 0.9), 2.0);
  // numpy 2.4 rounds every step to float32; 1.24 keeps the product and sum in double.
  const float a = 0.1f, b = 0.3f;
  const double t = 0.37;
  EXPECT_EQ(NumpyLerp(a, b, t, NumpyRules::kNumpy1_24), NumpyLerp(a, b, t));
  EXPECT_EQ(NumpyLerp(a, b, t, NumpyRules::kNumpy2_4), static_cast<double>(a + (b - a) * 0.37f));
  EXPECT_EQ(NumpyLerp(a, b, 0.63, NumpyRules::kNumpy2_4),
            static_cast<double>(b - (b - a) * static_cast<float>(1.0 - 0.63)));
  EXPECT_NE(NumpyLerp(a, b, t, NumpyRules::kNumpy2_4), NumpyLerp(a, b, t, NumpyRules::kNumpy1_24));
}

// The figures of a fixed array as numpy itself gives them: err.mean() and
// np.quantile(err, 0.99) printed by numpy 1.24.2 (Debian 12) and 2.4.6 (the pinned venv)
// for v[i] = float32((i * 7919) % 10007) * float32(1e-5) + float32(1e-3), n = 50000.
// Both the mean (8192-value buffers against one tree) and the p99 (float64 against
// float32 interpolation) differ between the two.
TEST(ErrorStatsTest, SummaryEqualsEachNumpyRelease) {
  std::vector<float> v(50000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 10007) * 1e-5f + 1e-3f;
  std::vector<float> w = v;
  const ErrorFigures old_np = SummarizeErrors(w, NumpyRules::kNumpy1_24);
  EXPECT_EQ(old_np.mean_abs_err, 0.051032088696956635);
  EXPECT_EQ(old_np.p99_abs_err, 0.10006010100245478);
  w = v;
  const ErrorFigures new_np = SummarizeErrors(w, NumpyRules::kNumpy2_4);
  EXPECT_EQ(new_np.mean_abs_err, 0.05103209614753723);
  EXPECT_EQ(new_np.p99_abs_err, 0.10006009787321091);
  EXPECT_EQ(old_np.max_abs_err, new_np.max_abs_err);
  // The streamed quantile follows the same rules.
  for (NumpyRules rules : {NumpyRules::kNumpy1_24, NumpyRules::kNumpy2_4}) {
    TwoPassQuantile q(v.size(), 0.99, rules);
    HighBitsHistogram h;
    h.Add(v.data(), v.size());
    q.MergePass1(h);
    ASSERT_FALSE(q.ResolvedInPass1());
    const QuantileWindow win = q.StartPass2();
    std::vector<float> kept(v.size());
    q.AddPass2(kept.data(), win.Filter(v.data(), v.size(), kept.data()));
    EXPECT_EQ(q.Result(), rules == NumpyRules::kNumpy1_24 ? old_np.p99_abs_err : new_np.p99_abs_err);
  }
}

}  // namespace
}  // namespace embed2onnx

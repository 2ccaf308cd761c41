#include "stream/table_pass.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "numerics/error_stats.h"
#include "numerics/half.h"
#include "numerics/numpy_sum.h"
#include "stream/row_source.h"
#include "stream/stored_rows.h"

namespace embed2onnx {
namespace {

// A V x D float32 table: mostly N(0, std), plus an all-zero row and rows 25x wider on
// odd ids when `odd_wide` (the sampled guess then misses the p99 and pass 2 runs).
std::vector<float> MakeTable(uint64_t v, uint64_t d, uint32_t seed, bool odd_wide) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> t(v * d);
  for (uint64_t r = 0; r < v; ++r)
    for (uint64_t j = 0; j < d; ++j) t[r * d + j] = dist(rng) * (odd_wide && r % 2 ? 25.0f : 1.0f);
  for (uint64_t j = 0; j < d; ++j) t[3 * d + j] = 0.0f;
  return t;
}

std::vector<PassTier> AllPassTiers(const TierParams& p = {}) {
  std::vector<PassTier> tiers;
  for (const Tier& t : AllTiers()) tiers.push_back({&t, p, nullptr});
  return tiers;
}

// Keeps every byte it is handed, and checks chunks arrive in order.
class CaptureSink final : public TierSink {
 public:
  explicit CaptureSink(const PassTier& t) : tier_(t) {}
  Status Consume(const EncodedChunk& c) override {
    if (c.first != next_) return Status::Mismatch("chunk out of order");
    next_ = c.first + c.rows;
    for (int i = 0; i < tier_.tier->num_streamed; ++i)
      bytes[i].insert(bytes[i].end(), c.encoded[i],
                      c.encoded[i] + c.rows * TierRowBytes(*tier_.tier, i, c.cols, tier_.params));
    return Status::Ok();
  }
  std::vector<uint8_t> bytes[kMaxStreamed];

 private:
  PassTier tier_;
  uint64_t next_ = 0;
};

// The figures the slow way: encode and decode the whole table at once, sort the errors.
ErrorFigures BruteForce(const PassTier& t, const std::vector<float>& table, uint64_t v, uint64_t d,
                        NumpyRules rules = kDefaultNumpyRules) {
  std::vector<std::vector<uint8_t>> enc;
  uint8_t* outs[kMaxStreamed];
  for (int i = 0; i < t.tier->num_streamed; ++i) enc.emplace_back(v * TierRowBytes(*t.tier, i, d, t.params));
  for (int i = 0; i < t.tier->num_streamed; ++i) outs[i] = enc[static_cast<size_t>(i)].data();
  t.tier->encode(table.data(), v, d, t.params, outs);
  std::vector<float> dec(v * d);
  t.tier->decode(outs, v, d, t.params, dec.data());
  double cos = 0;
  for (uint64_t r = 0; r < v; ++r) cos += RowCosine(table.data() + r * d, dec.data() + r * d, d);
  for (size_t i = 0; i < dec.size(); ++i) dec[i] = std::fabs(dec[i] - table[i]);
  ErrorFigures f = SummarizeErrors(dec, rules);
  f.has_cosine = t.tier->report_cosine;
  f.mean_row_cosine = f.has_cosine ? cos / static_cast<double>(v) : 0.0;
  return f;
}

void ExpectSameFigures(const ErrorFigures& a, const ErrorFigures& b, const std::string& what) {
  EXPECT_EQ(a.max_abs_err, b.max_abs_err) << what;
  EXPECT_EQ(a.mean_abs_err, b.mean_abs_err) << what;
  EXPECT_EQ(a.p99_abs_err, b.p99_abs_err) << what;
  EXPECT_EQ(a.has_cosine, b.has_cosine) << what;
  EXPECT_EQ(a.mean_row_cosine, b.mean_row_cosine) << what;
}

TEST(TablePassTest, FiguresEqualBruteForceOnBothRoutesOfTheP99) {
  for (auto [odd_wide, rules] :
       {std::pair{false, NumpyRules::kNumpy2_4}, std::pair{true, NumpyRules::kNumpy2_4},
        std::pair{false, NumpyRules::kNumpy1_24}, std::pair{true, NumpyRules::kNumpy1_24}}) {
    const uint64_t v = 1024, d = 64;
    const std::vector<float> table = MakeTable(v, d, 7, odd_wide);
    const MemorySource src = MemorySource::FromFloats(v, d, table);
    std::vector<PassTier> tiers = AllPassTiers();
    PassOptions opts;
    opts.threads = 2;
    opts.chunk_bytes = 100 * d * 4;  // chunks of 100 rows, the last one short
    opts.numpy = rules;
    PassResult r;
    ASSERT_TRUE(RunTablePass(src, tiers, opts, &r).ok());
    ASSERT_EQ(r.tiers.size(), tiers.size());
    EXPECT_EQ(r.seconds_pass2 > 0, odd_wide) << "the p99 route";
    int with_figures = 0;
    for (size_t t = 0; t < tiers.size(); ++t) {
      EXPECT_EQ(r.tiers[t].has_figures, tiers[t].tier->stats_key != nullptr) << tiers[t].tier->name;
      if (!r.tiers[t].has_figures) continue;
      ++with_figures;
      ExpectSameFigures(r.tiers[t].figures, BruteForce(tiers[t], table, v, d, rules),
                        std::string(tiers[t].tier->name) + (odd_wide ? " (pass 2)" : " (one pass)") +
                            " numpy " + NumpyRulesName(rules));
    }
    EXPECT_EQ(with_figures, 2);
  }
}

// Several blocks of rows per chunk (the export's 2 MiB chunks hold about 32): the
// workers' parts of numpy's mean, their error buffers and the kept window values are
// joined over blocks of 51 rows (the last of a chunk short, 1.24's 8192-value buffers
// ending mid-row), and over one-row blocks of rows wider than a block's 16384 values.
TEST(TablePassTest, FiguresEqualBruteForceOverManyBlocksPerChunk) {
  struct Shape {
    uint64_t v, d, chunk_rows;
  };
  for (Shape sh : {Shape{1111, 320, 200}, Shape{40, 16416, 3}})
    for (bool odd_wide : {false, true})
      for (NumpyRules rules : {NumpyRules::kNumpy2_4, NumpyRules::kNumpy1_24}) {
        const std::vector<float> table = MakeTable(sh.v, sh.d, 13, odd_wide);
        const MemorySource src = MemorySource::FromFloats(sh.v, sh.d, table);
        std::vector<PassTier> tiers = AllPassTiers();
        PassOptions opts;
        opts.threads = 2;
        opts.chunk_bytes = sh.chunk_rows * sh.d * 4;
        opts.numpy = rules;
        PassResult r;
        ASSERT_TRUE(RunTablePass(src, tiers, opts, &r).ok());
        for (size_t t = 0; t < tiers.size(); ++t) {
          if (!r.tiers[t].has_figures) continue;
          ExpectSameFigures(r.tiers[t].figures, BruteForce(tiers[t], table, sh.v, sh.d, rules),
                            std::string(tiers[t].tier->name) + " d " + std::to_string(sh.d) +
                                (odd_wide ? " (pass 2)" : " (one pass)") + " numpy " + NumpyRulesName(rules));
        }
      }
}

TEST(TablePassTest, ThreadCountsGiveIdenticalBytesAndFigures) {
  const uint64_t v = 517, d = 48;
  const std::vector<float> table = MakeTable(v, d, 9, true);
  const MemorySource src = MemorySource::FromFloats(v, d, table);
  TierParams p;
  p.int4_block = 16;
  std::vector<std::vector<uint8_t>> first_bytes;
  std::vector<ErrorFigures> first_figures;
  for (int threads = 1; threads <= 4; ++threads) {
    std::vector<PassTier> tiers = AllPassTiers(p);
    std::vector<std::unique_ptr<CaptureSink>> sinks;
    for (PassTier& t : tiers) {
      sinks.push_back(std::make_unique<CaptureSink>(t));
      t.sink = sinks.back().get();
    }
    PassOptions opts;
    opts.threads = threads;
    opts.chunk_bytes = 37 * d * 4;
    PassResult r;
    ASSERT_TRUE(RunTablePass(src, tiers, opts, &r).ok());
    std::vector<std::vector<uint8_t>> bytes;
    std::vector<ErrorFigures> figures;
    for (size_t t = 0; t < tiers.size(); ++t) {
      for (int i = 0; i < tiers[t].tier->num_streamed; ++i) {
        bytes.push_back(sinks[t]->bytes[i]);
        EXPECT_EQ(bytes.back().size(), v * TierRowBytes(*tiers[t].tier, i, d, p));
      }
      if (r.tiers[t].has_figures) figures.push_back(r.tiers[t].figures);
    }
    if (threads == 1) {
      // One thread against the encoders run on the whole table at once.
      size_t k = 0;
      for (const PassTier& t : tiers) {
        std::vector<std::vector<uint8_t>> enc;
        uint8_t* outs[kMaxStreamed];
        for (int i = 0; i < t.tier->num_streamed; ++i) enc.emplace_back(v * TierRowBytes(*t.tier, i, d, p));
        for (int i = 0; i < t.tier->num_streamed; ++i) outs[i] = enc[static_cast<size_t>(i)].data();
        t.tier->encode(table.data(), v, d, p, outs);
        for (auto& e : enc) EXPECT_EQ(e, bytes[k++]) << t.tier->name;
      }
      first_bytes = bytes;
      first_figures = figures;
      continue;
    }
    EXPECT_EQ(bytes, first_bytes) << threads << " threads";
    ASSERT_EQ(figures.size(), first_figures.size());
    for (size_t k = 0; k < figures.size(); ++k)
      ExpectSameFigures(figures[k], first_figures[k], std::to_string(threads) + " threads");
  }
}

// Every tier's bytes equal its encoder run on the widened table for 16-bit checkpoints
// too, where the pass hands bf16w (bf16 source) and fp16w (f16 source) the rows as read
// instead of encoding them, and fp32 the widened rows themselves.
TEST(TablePassTest, SixteenBitSourcesGiveTheEncodersBytes) {
  const uint64_t v = 203, d = 32;
  const std::vector<float> table = MakeTable(v, d, 13, false);
  for (TableDType dtype : {TableDType::kBF16, TableDType::kF16}) {
    std::vector<uint8_t> raw(v * d * 2);
    std::vector<float> widened(v * d);
    for (size_t i = 0; i < table.size(); ++i) {
      const uint16_t h = dtype == TableDType::kBF16 ? FloatToBf16(table[i]) : FloatToHalf(table[i]);
      std::memcpy(raw.data() + 2 * i, &h, 2);
      widened[i] = dtype == TableDType::kBF16 ? Bf16ToFloat(h) : HalfToFloat(h);
    }
    const MemorySource src(dtype, v, d, raw);
    for (int threads : {1, 3}) {
      std::vector<PassTier> tiers = AllPassTiers();
      std::vector<std::unique_ptr<CaptureSink>> sinks;
      for (PassTier& t : tiers) {
        sinks.push_back(std::make_unique<CaptureSink>(t));
        t.sink = sinks.back().get();
      }
      PassOptions opts;
      opts.threads = threads;
      opts.chunk_bytes = 41 * d * 4;
      PassResult r;
      ASSERT_TRUE(RunTablePass(src, tiers, opts, &r).ok());
      for (size_t t = 0; t < tiers.size(); ++t) {
        const Tier& tier = *tiers[t].tier;
        std::vector<std::vector<uint8_t>> enc;
        uint8_t* outs[kMaxStreamed];
        for (int i = 0; i < tier.num_streamed; ++i) enc.emplace_back(v * TierRowBytes(tier, i, d, {}));
        for (int i = 0; i < tier.num_streamed; ++i) outs[i] = enc[static_cast<size_t>(i)].data();
        tier.encode(widened.data(), v, d, {}, outs);
        for (int i = 0; i < tier.num_streamed; ++i)
          EXPECT_EQ(sinks[t]->bytes[i], enc[static_cast<size_t>(i)])
              << tier.name << " from " << (dtype == TableDType::kBF16 ? "bf16" : "f16") << ", " << threads
              << " threads";
      }
    }
  }
}

TEST(TablePassTest, NonFiniteWeightHasOneWordingWithRowAndColumn) {
  const uint64_t v = 300, d = 32;
  for (uint64_t bad_row : {uint64_t{0}, uint64_t{151}, v - 1}) {  // row 0 is also a sampled row
    for (float bad : {NAN, INFINITY, -INFINITY}) {
      std::vector<float> table = MakeTable(v, d, 3, false);
      table[bad_row * d + 5] = bad;
      table[(v - 1) * d + 9] = NAN;  // a later one is not the one named
      if (bad_row == v - 1) table[(v - 1) * d + 9] = 0.0f;
      const MemorySource src = MemorySource::FromFloats(v, d, table);
      for (int threads : {1, 3}) {
        PassOptions opts;
        opts.threads = threads;
        opts.chunk_bytes = 64 * d * 4;
        PassResult r;
        Status s = RunTablePass(src, AllPassTiers(), opts, &r);
        EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
        EXPECT_EQ(s.message(), NonFiniteWeight(src, bad_row, 5).message());
        EXPECT_NE(
            s.message().find("memory: tensor 'table.weight' row " + std::to_string(bad_row) + " column 5 "),
            std::string::npos)
            << s.message();
      }
      // Reading single rows (the sample ids) words it the same way.
      std::vector<float> rows;
      Status s = ReadRowsAsFloat(src, {static_cast<int64_t>(bad_row)}, &rows);
      EXPECT_EQ(s.message(), NonFiniteWeight(src, bad_row, 5).message());
    }
  }
  // bf16 rows too: the value is found in the stored format's widening.
  std::vector<uint8_t> bytes(4 * 32 * 2, 0);
  bytes[(2 * 32 + 6) * 2 + 1] = 0x7f;  // bf16 0x7f80: +inf at row 2, column 6
  bytes[(2 * 32 + 6) * 2] = 0x80;
  const MemorySource bf(TableDType::kBF16, 4, 32, bytes, "ckpt.safetensors", "w");
  PassResult r;
  EXPECT_EQ(
      RunTablePass(bf, AllPassTiers(), PassOptions{}, &r).message(),
      "ckpt.safetensors: tensor 'w' row 2 column 6 holds NaN or inf; a checkpoint's weights must be finite");
}

// LevelDB corruption_test style: damage one byte of each streamed initializer of each
// tier in turn; the verifying pass must name that tier, initializer and row, and only it.
TEST(TablePassTest, DamagedStoredByteIsNamedByTierInitializerAndRow) {
  const uint64_t v = 200, d = 32;
  const std::vector<float> table = MakeTable(v, d, 11, false);
  const MemorySource src = MemorySource::FromFloats(v, d, table);
  std::vector<PassTier> tiers = AllPassTiers();
  // The stored tables: what the encoders produce, held as inline initializers.
  std::vector<std::unique_ptr<CaptureSink>> capture;
  for (PassTier& t : tiers) {
    capture.push_back(std::make_unique<CaptureSink>(t));
    t.sink = capture.back().get();
  }
  PassResult clean;
  ASSERT_TRUE(RunTablePass(src, tiers, PassOptions{}, &clean).ok());

  for (size_t damaged = 0; damaged < tiers.size(); ++damaged) {
    for (int init = 0; init < tiers[damaged].tier->num_streamed; ++init) {
      const uint64_t row = 7 + 31 * damaged + 13 * static_cast<uint64_t>(init);
      std::vector<std::string> raw(tiers.size() * kMaxStreamed);
      std::vector<InitializerData> inits(tiers.size() * kMaxStreamed);
      std::vector<StoredTier> stored(tiers.size());
      for (size_t t = 0; t < tiers.size(); ++t) {
        stored[t].tier = tiers[t].tier;
        stored[t].file = std::string(tiers[t].tier->file_name);
        stored[t].cols = d;
        for (int i = 0; i < tiers[t].tier->num_streamed; ++i) {
          const size_t k = t * kMaxStreamed + static_cast<size_t>(i);
          raw[k].assign(capture[t]->bytes[i].begin(), capture[t]->bytes[i].end());
          inits[k].name = tiers[t].tier->streamed[i].name;
          inits[k].byte_size = raw[k].size();
          inits[k].raw = &raw[k];
          stored[t].init[i] = &inits[k];
        }
      }
      const uint64_t rb = stored[damaged].RowBytes(init);
      raw[damaged * kMaxStreamed + static_cast<size_t>(init)][row * rb + rb / 2] ^= 0x10;

      std::vector<std::unique_ptr<VerifySink>> sinks;
      std::vector<PassTier> check = tiers;
      for (size_t t = 0; t < tiers.size(); ++t) {
        sinks.push_back(std::make_unique<VerifySink>(stored[t]));
        check[t].sink = sinks.back().get();
      }
      PassOptions opts;
      opts.threads = 2;
      opts.chunk_bytes = 50 * d * 4;
      opts.isolate_sink_errors = true;
      PassResult r;
      ASSERT_TRUE(RunTablePass(src, check, opts, &r).ok());
      const std::string what =
          std::string(tiers[damaged].tier->name) + " " + tiers[damaged].tier->streamed[init].name;
      for (size_t t = 0; t < tiers.size(); ++t) {
        if (t != damaged) {
          EXPECT_TRUE(r.tiers[t].status.ok()) << what << ": " << r.tiers[t].status.message();
          continue;
        }
        const Status& s = r.tiers[t].status;
        EXPECT_EQ(s.code(), Status::Code::kMismatch) << what;
        const std::string want = std::string(tiers[t].tier->file_name) + ": tier " + tiers[t].tier->name +
                                 ", initializer '" + tiers[t].tier->streamed[init].name + "', row " +
                                 std::to_string(row) + ": ";
        EXPECT_EQ(s.message().rfind(want, 0), 0u) << s.message();
        EXPECT_FALSE(r.tiers[t].has_figures) << what;
      }
    }
  }
}

TEST(TablePassTest, SinkErrorStopsThePassUnlessIsolated) {
  class Failing final : public TierSink {
   public:
    Status Consume(const EncodedChunk& c) override {
      return c.first >= 40 ? Status::IOError("disk full at row " + std::to_string(c.first)) : Status::Ok();
    }
  };
  const uint64_t v = 100, d = 32;
  const MemorySource src = MemorySource::FromFloats(v, d, MakeTable(v, d, 1, false));
  Failing failing;
  std::vector<PassTier> tiers = AllPassTiers();
  CaptureSink other(tiers[0]);
  tiers[3].sink = &failing;  // int8
  tiers[0].sink = &other;
  for (int threads : {1, 2}) {  // one sink lane, and the two sinks on lanes of their own
    PassOptions opts;
    opts.threads = threads;
    opts.chunk_bytes = 10 * d * 4;
    PassResult r;
    CaptureSink first(tiers[0]);
    tiers[0].sink = &first;
    EXPECT_EQ(RunTablePass(src, tiers, opts, &r).message(), "disk full at row 40") << threads;
    opts.isolate_sink_errors = true;
    CaptureSink again(tiers[0]);
    tiers[0].sink = &again;
    ASSERT_TRUE(RunTablePass(src, tiers, opts, &r).ok());
    EXPECT_EQ(r.tiers[3].status.message(), "disk full at row 40");
    EXPECT_FALSE(r.tiers[3].has_figures);
    EXPECT_TRUE(r.tiers[4].has_figures);
    EXPECT_EQ(again.bytes[0].size(), v * d * 4) << threads;  // the others went on to the end
  }
}

// Two sinks fail on lanes of their own: the error is the one a single thread meets first
// (earliest chunk, then tier), whatever the lanes' timing. A sink that throws fails the
// pass with its exception on the calling thread instead of ending the process.
TEST(TablePassTest, FirstSinkErrorWinsAndExceptionsReachTheCaller) {
  class FailsFrom final : public TierSink {
   public:
    explicit FailsFrom(uint64_t row) : row_(row) {}
    Status Consume(const EncodedChunk& c) override {
      if (c.first < row_) return Status::Ok();
      if (row_ == 0) throw std::runtime_error("sink threw");
      return Status::IOError("disk full at row " + std::to_string(c.first));
    }

   private:
    uint64_t row_;
  };
  const uint64_t v = 100, d = 32;
  const MemorySource src = MemorySource::FromFloats(v, d, MakeTable(v, d, 1, false));
  for (int rep = 0; rep < 20; ++rep)
    for (int threads : {1, 2, 5}) {
      FailsFrom late(60), early(40);
      std::vector<PassTier> tiers = AllPassTiers();
      tiers[0].sink = &late;   // fp32, the largest rows: a lane of its own
      tiers[3].sink = &early;  // int8
      PassOptions opts;
      opts.threads = threads;
      opts.chunk_bytes = 10 * d * 4;
      PassResult r;
      EXPECT_EQ(RunTablePass(src, tiers, opts, &r).message(), "disk full at row 40") << threads;
      FailsFrom throws(0);
      tiers[0].sink = &throws;
      EXPECT_THROW(RunTablePass(src, tiers, opts, &r), std::runtime_error) << threads;
    }
}

// The sinks run on min(sinks, threads) lane threads: each sink's chunks come in table
// order from one thread and never overlap, while sinks of different tiers may, and the
// progress callback still sees the rows done rise once per chunk to the whole table.
TEST(TablePassTest, SinkLanesKeepEachSinkInOrderOnOneThread) {
  class Recording final : public TierSink {
   public:
    Status Consume(const EncodedChunk& c) override {
      if (busy.exchange(true)) overlapped = true;
      threads.insert(std::this_thread::get_id());
      if (c.first != next) out_of_order = true;
      next = c.first + c.rows;
      std::this_thread::sleep_for(std::chrono::microseconds(200));  // give the lanes time to meet
      busy = false;
      return Status::Ok();
    }
    std::atomic<bool> busy{false};
    bool overlapped = false, out_of_order = false;
    uint64_t next = 0;
    std::set<std::thread::id> threads;
  };
  const uint64_t v = 230, d = 32;
  const MemorySource src = MemorySource::FromFloats(v, d, MakeTable(v, d, 5, false));
  TierParams p;
  p.int4_block = 16;
  for (int threads : {1, 2, 4, 8}) {
    std::vector<PassTier> tiers = AllPassTiers(p);
    std::vector<std::unique_ptr<Recording>> sinks;
    for (PassTier& t : tiers) {
      sinks.push_back(std::make_unique<Recording>());
      t.sink = sinks.back().get();
    }
    PassOptions opts;
    opts.threads = threads;
    opts.chunk_bytes = 20 * d * 4;
    std::vector<uint64_t> progress;
    opts.progress = [&](int pass, uint64_t done) {
      if (pass == 1) progress.push_back(done);
    };
    PassResult r;
    ASSERT_TRUE(RunTablePass(src, tiers, opts, &r).ok()) << threads;
    // At most half the threads, at least one.
    EXPECT_EQ(r.stages.sinks_per_lane.size(),
              std::min<size_t>(tiers.size(), static_cast<size_t>(std::max(1, threads / 2))));
    EXPECT_EQ(r.stages.encode.size(), static_cast<size_t>(std::max<int>(
                                          1, threads - static_cast<int>(r.stages.sinks_per_lane.size()))) +
                                          r.stages.sinks_per_lane.size());
    double lanes = 0;
    for (double s : r.stages.sinks_per_lane) lanes += s;
    EXPECT_EQ(r.stages.sinks, lanes);
    std::set<std::thread::id> all;
    for (size_t t = 0; t < tiers.size(); ++t) {
      const Recording& s = *sinks[t];
      EXPECT_FALSE(s.overlapped) << tiers[t].tier->name << ", " << threads << " threads";
      EXPECT_FALSE(s.out_of_order) << tiers[t].tier->name;
      EXPECT_EQ(s.next, v) << tiers[t].tier->name;
      EXPECT_EQ(s.threads.size(), 1u) << tiers[t].tier->name;
      all.insert(s.threads.begin(), s.threads.end());
    }
    EXPECT_EQ(all.size(), r.stages.sinks_per_lane.size()) << threads << " threads";
    const uint64_t chunks = (v + 19) / 20;
    ASSERT_EQ(progress.size(), chunks) << threads;
    for (size_t k = 0; k < chunks; ++k) EXPECT_EQ(progress[k], std::min<uint64_t>(v, (k + 1) * 20));
  }
}

TEST(TablePassTest, CountsWhatFp16StoresAsInfinity) {
  const uint64_t v = 64, d = 32;
  std::vector<float> table = MakeTable(v, d, 5, false);
  table[10 * d + 3] = 1e5f;
  table[10 * d + 4] = -70000.0f;
  table[40 * d + 0] = 65520.0f;  // the first value fp16 rounds to inf
  table[41 * d + 0] = 65519.0f;  // rounds to 65504
  table[42 * d + 1] = -65504.0f;
  const MemorySource src = MemorySource::FromFloats(v, d, table);
  for (int threads : {1, 3}) {
    PassOptions opts;
    opts.threads = threads;
    opts.chunk_bytes = 16 * d * 4;
    PassResult r;
    ASSERT_TRUE(RunTablePass(src, AllPassTiers(), opts, &r).ok());
    for (size_t t = 0; t < r.tiers.size(); ++t) {
      const std::string name = AllTiers()[t].name;
      if (name == "fp16w") {
        EXPECT_EQ(r.tiers[t].overflow.count, 3u);
        EXPECT_EQ(r.tiers[t].overflow.max_abs_source, 1e5);
      } else {
        EXPECT_EQ(r.tiers[t].overflow.count, 0u) << name;
      }
    }
  }
}

}  // namespace
}  // namespace embed2onnx

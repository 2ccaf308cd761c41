#include "export/read_back.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "check/parity.h"
#include "export/output_dir.h"
#include "schema/names.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;

class ReadBackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("e2o_readback_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    std::mt19937 rng(4);
    std::normal_distribution<float> dist(0.0f, 0.05f);
    std::vector<float> table(kV * kD);
    for (float& x : table) x = dist(rng);
    source_ = std::make_unique<MemorySource>(MemorySource::FromFloats(kV, kD, table));
  }
  void TearDown() override {
    sinks_.clear();
    writers_.clear();
    out_.reset();
    fs::remove_all(root_);
  }

  // Streams every tier into staged files of a fresh output folder.
  void Export() {
    sinks_.clear();
    writers_.clear();
    out_.reset();  // releases the folder's lock and removes the previous run's files
    auto out = OutputDir::Open((root_ / "out").string(), [](const std::string&) {});
    ASSERT_TRUE(out.ok()) << out.status().message();
    out_ = std::move(*out);
    std::vector<PassTier> tiers;
    for (const Tier& t : AllTiers()) {
      auto w = TierWriter::Create(t, TierParams{}, kV, kD, ModelMeta{"test", "1"}, out_.get());
      ASSERT_TRUE(w.ok()) << w.status().message();
      ASSERT_TRUE((*w)->Open().ok());  // Create only plans; Open stages the files
      sinks_.push_back(std::make_unique<ExportSink>(w->get()));
      tiers.push_back({&t, TierParams{}, sinks_.back().get()});
      writers_.push_back(std::move(*w));
    }
    PassOptions opts;
    opts.threads = 2;
    opts.chunk_bytes = 64 * kD * 4;
    PassResult r;
    ASSERT_TRUE(RunTablePass(*source_, tiers, opts, &r).ok());
    for (auto& w : writers_) ASSERT_TRUE(w->Finish().ok());
  }

  static constexpr uint64_t kV = 600, kD = 64;  // every streamed tensor >= 1024 bytes: external
  fs::path root_;
  std::unique_ptr<MemorySource> source_;
  std::unique_ptr<OutputDir> out_;
  std::vector<std::unique_ptr<TierWriter>> writers_;
  std::vector<std::unique_ptr<ExportSink>> sinks_;
};

TEST_F(ReadBackTest, CleanExportPassesWithItsParity) {
  Export();
  for (size_t t = 0; t < sinks_.size(); ++t) {
    TierOutcome o;
    Status s = ReadBackTier(*sinks_[t], *source_, SampleIds(kV), &o, 1 + static_cast<int>(t % 3));
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(o.parity_shape, (std::vector<int64_t>{1, 4, static_cast<int64_t>(kD)}));  // 0, 1, 100, 599
    const std::string name = writers_[t]->tier().name;
    if (name == "fp32") {
      EXPECT_EQ(o.parity.max_abs_err, 0.0);
    }
    if (name == "int8") {
      EXPECT_GT(o.parity.max_abs_err, 0.0);
    }
  }
}

// A byte of each streamed initializer changed on disk between the write and the read-back
// (one tier at a time, a row away from every sample id) is found and named.
TEST_F(ReadBackTest, ChangedSidecarByteIsNamedByTierAndInitializer) {
  for (size_t t = 0; t < AllTiers().size(); ++t) {
    for (int i = 0; i < AllTiers()[t].num_streamed; ++i) {
      Export();
      const TierWriter& w = *writers_[t];
      const TensorPlacement& p = w.layout().tensors[static_cast<size_t>(i)];
      ASSERT_TRUE(p.external);
      const uint64_t row_bytes = TierRowBytes(w.tier(), i, kD, w.params());
      const uint64_t at = p.offset + 333 * row_bytes + row_bytes / 2;
      const int fd = ::open(w.sidecar_path().c_str(), O_RDWR);
      ASSERT_GE(fd, 0);
      uint8_t byte = 0;
      ASSERT_EQ(::pread(fd, &byte, 1, static_cast<off_t>(at)), 1);
      byte ^= 0x04;
      ASSERT_EQ(::pwrite(fd, &byte, 1, static_cast<off_t>(at)), 1);
      ::close(fd);
      for (size_t u = 0; u < sinks_.size(); ++u) {
        TierOutcome o;
        Status s = ReadBackTier(*sinks_[u], *source_, SampleIds(kV), &o);
        if (u != t) {
          EXPECT_TRUE(s.ok()) << s.message();
          continue;
        }
        EXPECT_EQ(s.code(), Status::Code::kMismatch);
        const std::string want = w.onnx_path() + ": tier " + w.tier().name + ", initializer '" + p.name +
                                 "': the bytes read back from disk differ from those encoded";
        EXPECT_EQ(s.message().rfind(want, 0), 0u) << s.message();
      }
    }
  }
}

}  // namespace
}  // namespace embed2onnx

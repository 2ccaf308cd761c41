#include "export/read_back.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
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
      auto w =
          TierWriter::Create(t, TierParams{}, source_->rows(), kD, ModelMeta{"test", "1", {}}, out_.get());
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
  static constexpr uint64_t kSmallV = 100;      // int8's 400 bytes of scales stay inline
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
    Status s = ReadBackTier(*sinks_[t], *source_, SampleIds(kV), &o);
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

// Rewrites the staged .onnx of writer `t` with `edit` applied to its initializer `name`.
void EditStagedInitializer(const TierWriter& w, const std::string& name,
                           const std::function<void(onnx::TensorProto*)>& edit) {
  std::ifstream in(w.onnx_path(), std::ios::binary);
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromIstream(&in));
  bool found = false;
  for (onnx::TensorProto& init : *model.mutable_graph()->mutable_initializer())
    if (init.name() == name) {
      edit(&init);
      found = true;
    }
  ASSERT_TRUE(found) << name;
  std::ofstream out(w.onnx_path(), std::ios::binary | std::ios::trunc);
  ASSERT_TRUE(model.SerializeToOstream(&out));
}

const TierWriter& WriterOf(const std::vector<std::unique_ptr<TierWriter>>& writers, const std::string& tier) {
  for (const auto& w : writers)
    if (w->tier().name == tier) return *w;
  ADD_FAILURE() << tier;
  return *writers.front();
}

size_t IndexOf(const std::vector<std::unique_ptr<TierWriter>>& writers, const std::string& tier) {
  for (size_t k = 0; k < writers.size(); ++k)
    if (writers[k]->tier().name == tier) return k;
  ADD_FAILURE() << tier;
  return 0;
}

// A graph that names other bytes of its sidecar than those the writer wrote and read
// back (int8's scales moved onto the codes: aligned, in range, the right length) fails,
// naming tier and initializer; the other tiers still pass.
TEST_F(ReadBackTest, GraphNamingOtherBytesThanThoseWrittenIsNamed) {
  Export();
  const TierWriter& w = WriterOf(writers_, "int8");
  const TensorPlacement& scales = w.layout().tensors[1];
  ASSERT_TRUE(scales.external);
  ASSERT_GT(scales.offset, 0u);
  EditStagedInitializer(w, scales.name, [](onnx::TensorProto* t) {
    for (onnx::StringStringEntryProto& e : *t->mutable_external_data())
      if (e.key() == "offset") e.set_value("0");
  });
  for (size_t u = 0; u < sinks_.size(); ++u) {
    TierOutcome o;
    Status s = ReadBackTier(*sinks_[u], *source_, SampleIds(kV), &o);
    if (sinks_[u]->writer() != &w) {
      EXPECT_TRUE(s.ok()) << s.message();
      continue;
    }
    EXPECT_EQ(s.code(), Status::Code::kMismatch);
    EXPECT_EQ(s.message(),
              w.onnx_path() + ": tier int8, initializer '" + scales.name + "': the graph names bytes 0 to " +
                  std::to_string(scales.byte_size) + " of the sidecar, but its rows were written to " +
                  std::to_string(scales.offset) + " to " + std::to_string(scales.offset + scales.byte_size));
  }
}

// A table small enough that int8's scales stay inline: inline bytes in the .onnx that
// differ from those encoded fail, naming tier and initializer.
TEST_F(ReadBackTest, ChangedInlineBytesAreNamed) {
  std::vector<float> table(kSmallV * kD);
  for (size_t j = 0; j < table.size(); ++j) table[j] = 0.01f * static_cast<float>(j % 97) - 0.4f;
  source_ = std::make_unique<MemorySource>(MemorySource::FromFloats(kSmallV, kD, table));
  Export();
  const size_t k = IndexOf(writers_, "int8");
  const TierWriter& w = *writers_[k];
  const TensorPlacement& scales = w.layout().tensors[1];
  ASSERT_FALSE(scales.external);
  TierOutcome clean;
  ASSERT_TRUE(ReadBackTier(*sinks_[k], *source_, SampleIds(kSmallV), &clean).ok());
  EditStagedInitializer(w, scales.name, [](onnx::TensorProto* t) {
    std::string raw = t->raw_data();
    raw[raw.size() / 2] = static_cast<char>(raw[raw.size() / 2] ^ 0x10);
    t->set_raw_data(raw);
  });
  TierOutcome o;
  Status s = ReadBackTier(*sinks_[k], *source_, SampleIds(kSmallV), &o);
  EXPECT_EQ(s.code(), Status::Code::kMismatch);
  EXPECT_EQ(s.message(), w.onnx_path() + ": tier int8, initializer '" + scales.name +
                             "': the inline bytes parsed back differ from those encoded");
}

}  // namespace
}  // namespace embed2onnx

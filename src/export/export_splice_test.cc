// Export's splice graphs (SPEC §8) and its reading of config.json (SPEC §9): which audio
// token id wins, the image token beside it, that the graphs are written, planned, reported
// and removed like the tiers' files, and that a config.json disagreeing with the table
// stops the export.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>

#include "export/export_disk.h"
#include "test_util/files.h"
#include "util/memory_disk.h"

namespace embed2onnx {
namespace {

namespace fs = std::filesystem;
constexpr int kV = 300, kD = 16;

void WriteCheckpoint(const std::string& dir) { test_util::WriteF32Checkpoint(dir, kV, kD); }

nlohmann::json Report(const std::string& dir) {
  std::ifstream in(dir + "/embed_tokens_parity.json");
  return nlohmann::json::parse(in);
}

int SpliceFiles(const std::string& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().ends_with("_audio.onnx");
  return n;
}

class ExportSpliceTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteCheckpoint(ckpt_.path()); }
  ExportOptions Options(const std::string& out_dir) {
    ExportOptions o;
    o.model_dir = ckpt_.path();
    o.out_dir = out_dir;
    o.tiers = {"fp32", "int8"};
    o.threads = 1;
    return o;
  }
  void Config(const std::string& text) { test_util::WriteFile(ckpt_.Join("config.json"), text); }
  test_util::TempDir ckpt_, out_;
};

TEST_F(ExportSpliceTest, TheFlagWritesOnePerTierReportedAndRead) {
  ExportOptions o = Options(out_.path());
  o.audio_token_id = 299;
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->audio_token_source, kAudioIdFromFlag);
  ASSERT_EQ(r->tiers.size(), 2u);
  for (const TierOutcome& t : r->tiers) {
    EXPECT_TRUE(t.splice_path.ends_with(t.tier == "fp32" ? "/embed_tokens_audio.onnx"
                                                         : "/embed_tokens_int8_audio.onnx"))
        << t.splice_path;
    EXPECT_EQ(fs::file_size(t.splice_path), t.splice_bytes);
    EXPECT_LT(t.splice_bytes, 8192u);  // no table bytes: those stay in the tier's sidecar
  }
  EXPECT_FALSE(fs::exists(out_.Join("embed_tokens_audio.onnx_data")));
  const nlohmann::json s = Report(out_.path())["splice"];
  EXPECT_EQ(s["audio_token_id"], 299);
  EXPECT_EQ(s["source"], "flag");
  EXPECT_EQ(s["graphs"]["int8"], "embed_tokens_int8_audio.onnx");
  EXPECT_EQ(s["bytes"]["fp32"], r->tiers[0].splice_bytes);
}

TEST_F(ExportSpliceTest, GenericModeNeedsTheFlagOrAGraniteSpeechConfig) {
  Result<ExportSummary> r = ExportTable(Options(out_.Join("none")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(SpliceFiles(out_.Join("none")), 0);
  EXPECT_FALSE(Report(out_.Join("none")).contains("splice"));
  // Another model's audio token: its merge differs, so none.
  Config(R"({"model_type": "qwen2_audio", "audio_token_index": 7, "vocab_size": 300, "hidden_size": 16})");
  r = ExportTable(Options(out_.Join("qwen")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(SpliceFiles(out_.Join("qwen")), 0);
  EXPECT_EQ(Report(out_.Join("qwen"))["info"]["audio_token_id"], 7);
  // Granite Speech's: written, with the config's id; the flag still wins over it.
  Config(R"({"model_type": "granite_speech", "audio_token_index": 9, "text_config": {"vocab_size": 300,
            "hidden_size": 16, "tie_word_embeddings": false, "embedding_multiplier": 12.0}})");
  r = ExportTable(Options(out_.Join("granite")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(SpliceFiles(out_.Join("granite")), 2);
  const nlohmann::json rep = Report(out_.Join("granite"));
  EXPECT_EQ(rep["splice"]["audio_token_id"], 9);
  EXPECT_EQ(rep["splice"]["source"], "config");
  EXPECT_EQ(rep["info"]["tie_word_embeddings"], false);
  EXPECT_EQ(rep["info"]["embedding_multiplier"], 12.0);
  ExportOptions flag = Options(out_.Join("flag"));
  flag.audio_token_id = 3;
  r = ExportTable(flag);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->audio_token_id, 3);
  EXPECT_EQ(r->audio_token_source, kAudioIdFromFlag);
}

TEST_F(ExportSpliceTest, PresetsWriteThemUnlessTurnedOffAndALaterExportRemovesThem) {
  ExportOptions o = Options(out_.path());
  o.preset_audio_token_id = 100352;  // past the table, as for NAR
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->audio_token_source, kAudioIdFromPreset);
  EXPECT_EQ(SpliceFiles(out_.path()), 2);
  o.no_splice = true;
  r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->audio_token_source, "");
  EXPECT_EQ(SpliceFiles(out_.path()), 0);
  EXPECT_FALSE(Report(out_.path()).contains("splice"));
}

TEST_F(ExportSpliceTest, AConfigThatDisagreesWithTheTableIsRefusedBeforeAnythingIsWritten) {
  Config(R"({"text_config": {"vocab_size": 301, "hidden_size": 16}})");
  Result<ExportSummary> r = ExportTable(Options(out_.Join("new")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("config.json: vocab_size 301 does not match the table's 300 rows"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(out_.Join("new")));
  Config(R"({"vocab_size": 300, "hidden_size": 17})");
  r = ExportTable(Options(out_.Join("new")));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hidden_size 17 does not match the table's width 16"),
            std::string::npos);
}

TEST_F(ExportSpliceTest, TheTokenizersTextIsNotedWhenItIsNotTheModalitysToken) {
  test_util::WriteFile(
      ckpt_.Join("tokenizer_config.json"),
      R"({"added_tokens_decoder": {"5": {"content": "<|audio|>"}, "6": {"content": "<s>"}, "7": {"content": "<|IMAGE_PAD|>"}}})");
  std::vector<std::string> notes;
  ExportOptions o = Options(out_.Join("a"));
  o.note = [&](const std::string& n) { notes.push_back(n); };
  o.audio_token_id = 5;
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->audio_token_text, "<|audio|>");
  EXPECT_TRUE(notes.empty()) << notes[0];
  o.out_dir = out_.Join("b");
  o.audio_token_id = 6;
  r = ExportTable(o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "audio token id 6 (flag) is '<s>' in the tokenizer, not '<|audio|>'");
  // An image token: any text with "image" in it passes, in any case.
  o.audio_token_id = 5;
  o.image_token_id = 7;
  o.out_dir = out_.Join("c");
  r = ExportTable(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->image_token_text, "<|IMAGE_PAD|>");
  EXPECT_EQ(Report(o.out_dir)["splice"]["image_token_text"], "<|IMAGE_PAD|>");
  EXPECT_EQ(notes.size(), 1u);
  o.image_token_id = 6;
  o.out_dir = out_.Join("d");
  ASSERT_TRUE(ExportTable(o).ok());
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[1], "image token id 6 is '<s>' in the tokenizer, which does not look like an image token");
}

TEST_F(ExportSpliceTest, AnImageTokenAddsImageFeaturesAloneOrBeforeAudio) {
  // Image alone: <stem>_image.onnx, the report with the image key and no audio keys.
  ExportOptions o = Options(out_.Join("image"));
  o.image_token_id = 7;
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->audio_token_source.empty());
  EXPECT_EQ(r->splice_tokens(), (SpliceTokens{7, std::nullopt}));
  EXPECT_TRUE(r->tiers[1].splice_path.ends_with("/embed_tokens_int8_image.onnx")) << r->tiers[1].splice_path;
  EXPECT_EQ(SpliceFiles(o.out_dir), 0);
  nlohmann::json s = Report(o.out_dir)["splice"];
  EXPECT_EQ(s["image_token_id"], 7);
  EXPECT_FALSE(s.contains("audio_token_id"));
  EXPECT_EQ(s["graphs"]["fp32"], "embed_tokens_image.onnx");
  // With the audio flag too: one graph per tier takes both.
  o.out_dir = out_.Join("both");
  o.audio_token_id = 299;
  r = ExportTable(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->tiers[0].splice_path.ends_with("/embed_tokens_image_audio.onnx")) << r->tiers[0].splice_path;
  s = Report(o.out_dir)["splice"];
  EXPECT_EQ(s["image_token_id"], 7);
  EXPECT_EQ(s["audio_token_id"], 299);
  EXPECT_EQ(s["graphs"]["int8"], "embed_tokens_int8_image_audio.onnx");
  // --no-splice wins; one id for both is refused before anything is written.
  o.out_dir = out_.Join("none");
  o.no_splice = true;
  r = ExportTable(o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->splice_tokens().any());
  o.no_splice = false;
  o.out_dir = out_.Join("same");
  o.image_token_id = 299;
  r = ExportTable(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "--image-token-id: 299 is also the audio token id (flag)");
  EXPECT_FALSE(fs::exists(o.out_dir));
}

TEST_F(ExportSpliceTest, ThePlannedBytesCountTheSpliceGraphs) {
  MemoryDisk disk;
  disk.AddFolder("/out");
  disk.SetCapacity(0);
  ExportOptions o = Options("/out");
  o.audio_token_id = 1;
  Result<ExportSummary> refused = ExportTableOn(o, &disk);
  std::smatch m;
  const std::string msg = refused.status().message();
  ASSERT_TRUE(std::regex_search(msg, m, std::regex("writes ([0-9]+) bytes"))) << msg;
  const uint64_t planned = std::stoull(m[1]);
  o.out_dir = out_.path();
  Result<ExportSummary> r = ExportTable(o);
  ASSERT_TRUE(r.ok());
  // Blocks the files hold (the int8 sidecar's alignment gap is a hole, planned as none).
  uint64_t written = 0;
  for (const auto& e : fs::directory_iterator(o.out_dir)) {
    struct stat st;
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    written += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  EXPECT_GE(planned, written);
  EXPECT_LE(planned, written + 4096);
}

}  // namespace
}  // namespace embed2onnx

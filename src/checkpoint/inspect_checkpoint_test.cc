#include "embed2onnx/inspect_checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "test_util/files.h"

namespace embed2onnx {
namespace {
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;

const std::string kFixtures = E2O_REAL_FIXTURES;

TEST(InspectCheckpointTest, ShardedRealCheckpointListsShardsAndThePick) {
  auto text = InspectCheckpoint(kFixtures + "/ferrl-tiny_qwen35", false);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(text->find("table: model.language_model.embed_tokens.weight"), std::string::npos) << *text;
  EXPECT_NE(text->find("model-00002-of-00002.safetensors"), std::string::npos);

  auto js = InspectCheckpoint(kFixtures + "/ferrl-tiny_qwen35/model.safetensors.index.json", true);
  ASSERT_TRUE(js.ok()) << js.status().message();
  nlohmann::json j = nlohmann::json::parse(*js);
  EXPECT_EQ(j["table"]["name"], "model.language_model.embed_tokens.weight");
  EXPECT_NE(j["table"]["why"].get<std::string>().find("well-known"), std::string::npos);
  EXPECT_EQ(j["tensor_count"].get<size_t>(), j["tensors"].size());
  std::set<std::string> files;
  uint64_t total = 0;
  for (const auto& t : j["tensors"]) {
    files.insert(t["file"].get<std::string>());
    total += t["bytes"].get<uint64_t>();
  }
  EXPECT_EQ(files.size(), 2u);
  EXPECT_EQ(total, j["total_bytes"].get<uint64_t>());
  ASSERT_TRUE(j["config"].is_object());
  EXPECT_TRUE(j["config"]["matches_table"].get<bool>());
}

TEST(InspectCheckpointTest, AmbiguousTableIsDescribedNotAnError) {
  TempDir tmp;
  const std::string header =
      R"({"a.embed_tokens.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b.embed_tokens.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]}})";
  WriteFile(tmp.Join("model.safetensors"), SafetensorsBytes(header, std::string(32, '\0')));
  WriteFile(tmp.Join("config.json"), R"({"vocab_size": 3, "hidden_size": 2})");
  auto js = InspectCheckpoint(tmp.Join("model.safetensors"), true);
  ASSERT_TRUE(js.ok()) << js.status().message();
  nlohmann::json j = nlohmann::json::parse(*js);
  EXPECT_TRUE(j["table"]["name"].is_null());
  EXPECT_NE(j["table"]["why"].get<std::string>().find("several tensors"), std::string::npos);
  auto text = InspectCheckpoint(tmp.path(), false);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("table: none"), std::string::npos);
}

TEST(InspectCheckpointTest, ConfigDisagreementIsShown) {
  TempDir tmp;
  const std::string header =
      R"({"model.embed_tokens.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  WriteFile(tmp.Join("model.safetensors"), SafetensorsBytes(header, std::string(16, '\0')));
  WriteFile(tmp.Join("config.json"), R"({"vocab_size": 3, "hidden_size": 2})");
  auto text = InspectCheckpoint(tmp.path(), false);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(text->find("config.json disagrees"), std::string::npos) << *text;
  EXPECT_NE(text->find("vocab_size 3"), std::string::npos) << *text;
}

TEST(InspectCheckpointTest, TheTextSaysWhatConfigJsonSays) {
  TempDir tmp;
  const std::string header =
      R"({"model.embed_tokens.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]}})";
  WriteFile(tmp.Join("model.safetensors"), SafetensorsBytes(header, std::string(24, '\0')));
  WriteFile(tmp.Join("config.json"),
            R"({"model_type": "granite_speech", "audio_token_index": 2, "tie_word_embeddings": true,)"
            R"( "text_config": {"vocab_size": 3, "hidden_size": 2, "embedding_multiplier": 12.0}})");
  auto text = InspectCheckpoint(tmp.path(), false);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_NE(
      text->find("  config.json: model_type granite_speech, vocab_size 3, hidden_size 2, tied, audio token "
                 "2, embedding_multiplier 12 (matches the table)\n"),
      std::string::npos)
      << *text;
  EXPECT_EQ(text->find("disagrees"), std::string::npos) << *text;
  auto js = InspectCheckpoint(tmp.path(), true);
  ASSERT_TRUE(js.ok());
  nlohmann::json j = nlohmann::json::parse(*js);
  EXPECT_EQ(j["config"]["model_type"], "granite_speech");
  EXPECT_EQ(j["config"]["audio_token_id"], 2);
  EXPECT_EQ(j["config"]["audio_token_key"], "audio_token_index");
  // No config.json: no line.
  std::filesystem::remove(tmp.Join("config.json"));
  text = InspectCheckpoint(tmp.path(), false);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("config.json"), std::string::npos) << *text;
}

TEST(InspectCheckpointTest, UnreadableCheckpointIsAnErrorNamingIt) {
  TempDir tmp;
  WriteFile(tmp.Join("model.safetensors"), "short");
  auto r = InspectCheckpoint(tmp.path(), true);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(tmp.Join("model.safetensors")), std::string::npos);
  EXPECT_TRUE(LooksLikeCheckpoint(tmp.path()));
  EXPECT_TRUE(LooksLikeCheckpoint("x/model.safetensors.index.json"));
  EXPECT_FALSE(LooksLikeCheckpoint("x/embed_tokens.onnx"));
}

}  // namespace
}  // namespace embed2onnx

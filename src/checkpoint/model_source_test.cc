#include "embed2onnx/model_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test_util/files.h"

namespace embed2onnx {
namespace {
using test_util::TempDir;
using test_util::WriteFile;
namespace fs = std::filesystem;

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

TEST(HfCacheTest, HubFolderFollowsHuggingfaceHubOrder) {
  EXPECT_EQ(HfHubCacheDir({{"HF_HUB_CACHE", "/a"}, {"HF_HOME", "/b"}, {"HOME", "/h"}}), "/a");
  EXPECT_EQ(HfHubCacheDir({{"HF_HOME", "/b"}, {"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}}), "/b/hub");
  EXPECT_EQ(HfHubCacheDir({{"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}}), "/x/huggingface/hub");
  EXPECT_EQ(HfHubCacheDir({{"HOME", "/h"}}), "/h/.cache/huggingface/hub");
  EXPECT_EQ(HfHubCacheDir({{"HF_HUB_CACHE", ""}, {"HOME", "/h"}}), "/h/.cache/huggingface/hub");
  EXPECT_EQ(HfHubCacheDir({}), "");
}

class HfCacheLayout : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = tmp_.Join("models--ibm-granite--granite-speech-4.1-2b");
    fs::create_directories(repo_ + "/snapshots/" + kCommit);
    fs::create_directories(repo_ + "/refs");
    fs::create_directories(repo_ + "/blobs");
    WriteFile(repo_ + "/refs/main", kCommit + "\n");
    WriteFile(repo_ + "/blobs/abc", "{}");
    fs::create_symlink("../../blobs/abc", repo_ + "/snapshots/" + kCommit + "/config.json");
  }
  TempDir tmp_;
  std::string repo_;
};

TEST_F(HfCacheLayout, MainRefBranchAndCommit) {
  auto e = ResolveHfCache("ibm-granite/granite-speech-4.1-2b", tmp_.path());
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->commit, kCommit);
  EXPECT_EQ(e->revision, "main");
  EXPECT_EQ(e->snapshot, repo_ + "/snapshots/" + kCommit);
  // A commit given as the revision needs no ref.
  auto c = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@" + kCommit, tmp_.path());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->commit, kCommit);
  // A tag or branch is a ref file.
  WriteFile(repo_ + "/refs/v1", kCommit);
  auto t = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@v1", tmp_.path());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->commit, kCommit);
}

TEST_F(HfCacheLayout, WhatIsMissingIsNamedWithTheDownloadCommand) {
  auto r = ResolveHfCache("ibm-granite/other-model", tmp_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find(tmp_.Join("models--ibm-granite--other-model")), std::string::npos);
  EXPECT_NE(r.status().message().find("hf download ibm-granite/other-model"), std::string::npos);

  auto ref = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@dev", tmp_.path());
  ASSERT_FALSE(ref.ok());
  EXPECT_NE(ref.status().message().find(repo_ + "/refs/dev"), std::string::npos);
  EXPECT_NE(ref.status().message().find("--revision dev"), std::string::npos);

  // A ref whose snapshot is gone.
  const std::string other = "fedcba9876543210fedcba9876543210fedcba98";
  WriteFile(repo_ + "/refs/old", other);
  auto snap = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@old", tmp_.path());
  ASSERT_FALSE(snap.ok());
  EXPECT_NE(snap.status().message().find("snapshots/" + other), std::string::npos);

  WriteFile(repo_ + "/refs/bad", "not a commit");
  auto bad = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@bad", tmp_.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
}

TEST_F(HfCacheLayout, IdsThatWouldLeaveTheCacheAreRefused) {
  for (const char* spec : {"../x", "a/../b", "a/b/c", "a//b", "/abs", "a\\b", "a/b@../../x", "a/b@", ""}) {
    auto r = ResolveHfCache(spec, tmp_.path());
    EXPECT_FALSE(r.ok()) << spec;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << spec << ": " << r.status().message();
  }
}

TEST(HfCacheTest, OlderVariableAndTildeAsHuggingfaceHubReadsThem) {
  EXPECT_EQ(HfHubCacheDir({{"HUGGINGFACE_HUB_CACHE", "/old"}, {"HF_HOME", "/b"}}), "/old");
  EXPECT_EQ(HfHubCacheDir({{"HF_HUB_CACHE", "/new"}, {"HUGGINGFACE_HUB_CACHE", "/old"}}), "/new");
  EXPECT_EQ(HfHubCacheDir({{"HF_HOME", "~/hf"}, {"HOME", "/h"}}), "/h/hf/hub");
  EXPECT_EQ(HfHubCacheDir({{"HF_HUB_CACHE", "~"}, {"HOME", "/h"}}), "/h");
  EXPECT_EQ(HfHubCacheDir({{"HF_HUB_CACHE", "a~/b"}, {"HOME", "/h"}}), "a~/b");
}

// huggingface_hub takes a commit only in full: a prefix is refused, naming the full one.
TEST_F(HfCacheLayout, AShortCommitNamesTheFullOne) {
  auto r = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@0123456", tmp_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("in full (40 hex digits)"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("@" + kCommit), std::string::npos) << r.status().message();
  // A prefix of no cached commit is an uncached revision like any other.
  auto none = ResolveHfCache("ibm-granite/granite-speech-4.1-2b@abcdef1", tmp_.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  // A ref whose name looks like hex is still a ref.
  WriteFile(repo_ + "/refs/0123", kCommit);
  EXPECT_TRUE(ResolveHfCache("ibm-granite/granite-speech-4.1-2b@0123", tmp_.path()).ok());
}

TEST_F(HfCacheLayout, ASnapshotWithoutWeightsSaysSo) {
  const std::string snap = repo_ + "/snapshots/" + kCommit;
  auto r = ResolveHfCheckpoint("ibm-granite/granite-speech-4.1-2b", tmp_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(r.status().message().rfind(snap + ": ", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("holds no model.safetensors"), std::string::npos);
  EXPECT_NE(r.status().message().find("hf download ibm-granite/granite-speech-4.1-2b --revision " + kCommit),
            std::string::npos)
      << r.status().message();
  // A link into blobs/ whose blob never arrived.
  fs::create_symlink("../../blobs/missing", snap + "/model.safetensors");
  auto dangling = ResolveHfCheckpoint("ibm-granite/granite-speech-4.1-2b", tmp_.path());
  ASSERT_FALSE(dangling.ok());
  EXPECT_NE(dangling.status().message().find(snap + "/model.safetensors: the blob it links to is not"),
            std::string::npos)
      << dangling.status().message();
  // With the blob there, the snapshot is the checkpoint.
  WriteFile(repo_ + "/blobs/missing", "weights");
  auto ok = ResolveHfCheckpoint("ibm-granite/granite-speech-4.1-2b", tmp_.path());
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->snapshot, snap);
}

TEST(ModelConfigTest, AbsentIsNotAnError) {
  TempDir tmp;
  auto c = ReadModelConfig(tmp.path());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->present);
  EXPECT_TRUE(CheckConfigAgainstTable(*c, 10, 4).ok());
}

TEST(ModelConfigTest, NestedTextConfigWinsAndGraniteFieldsAreRead) {
  TempDir tmp;
  WriteFile(tmp.Join("config.json"), R"({"model_type": "granite_speech", "vocab_size": 7, "hidden_size": 3,
    "architectures": ["GraniteSpeechForConditionalGeneration"], "audio_token_index": 100352,
    "tie_word_embeddings": true,
    "text_config": {"vocab_size": 100353, "hidden_size": 2048, "embedding_multiplier": 12.0}})");
  auto c = ReadModelConfig(tmp.path());
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->present);
  EXPECT_EQ(*c->vocab_size, 100353u);
  EXPECT_EQ(*c->hidden_size, 2048u);
  EXPECT_EQ(*c->audio_token_id, 100352);
  EXPECT_EQ(*c->embedding_multiplier, 12.0);
  EXPECT_TRUE(*c->tie_word_embeddings);
  EXPECT_TRUE(c->IsGraniteSpeech());
  EXPECT_TRUE(CheckConfigAgainstTable(*c, 100353, 2048).ok());
  Status s = CheckConfigAgainstTable(*c, 100352, 2048);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("vocab_size 100353"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("100352"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().rfind(tmp.Join("config.json"), 0), 0u);
}

TEST(ModelConfigTest, Gpt2NamesAndLlmConfig) {
  TempDir tmp;
  WriteFile(tmp.Join("config.json"), R"({"model_type": "gpt2", "n_vocab": 50257, "n_embd": 768})");
  auto c = ReadModelConfig(tmp.path());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->vocab_size, 50257u);
  EXPECT_EQ(*c->hidden_size, 768u);
  EXPECT_FALSE(c->IsGraniteSpeech());
  Status s = CheckConfigAgainstTable(*c, 50257, 769);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hidden_size 768"), std::string::npos);
  EXPECT_NE(s.message().find("769"), std::string::npos);

  WriteFile(tmp.Join("config.json"), R"({"llm_config": {"vocab_size": 100352, "hidden_size": 2048},
    "audio_token_id": 5})");
  auto n = ReadModelConfig(tmp.path());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n->vocab_size, 100352u);
  EXPECT_EQ(*n->audio_token_id, 5);
}

TEST(ModelConfigTest, BadValuesAreNamed) {
  TempDir tmp;
  WriteFile(tmp.Join("config.json"), R"({"vocab_size": "many"})");
  auto c = ReadModelConfig(tmp.path());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("vocab_size"), std::string::npos);
  WriteFile(tmp.Join("config.json"), R"({"text_config": {"hidden_size": -3}})");
  auto d = ReadModelConfig(tmp.path());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("text_config.hidden_size"), std::string::npos) << d.status().message();
  // An audio id past int64 is named as it is written, not wrapped to a negative one.
  WriteFile(tmp.Join("config.json"), R"({"audio_token_index": 18446744073709551615})");
  auto e = ReadModelConfig(tmp.path());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("audio_token_index is 18446744073709551615, not an int64 integer"),
            std::string::npos)
      << e.status().message();
  WriteFile(tmp.Join("config.json"), R"({"audio_token_id": 9223372036854775807})");
  auto f = ReadModelConfig(tmp.path());
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(*f->audio_token_id, INT64_MAX);
  EXPECT_EQ(f->audio_token_key, "audio_token_id");
  WriteFile(tmp.Join("config.json"), "[1, 2]");
  EXPECT_FALSE(ReadModelConfig(tmp.path()).ok());
  WriteFile(tmp.Join("config.json"), "{\"vocab_size\": 3, \"x\": \"\xff\"}");
  EXPECT_FALSE(ReadModelConfig(tmp.path()).ok());
}

TEST(TokenTextTest, TokenizerConfigThenTokenizerJson) {
  TempDir tmp;
  EXPECT_FALSE(TokenText(tmp.path(), 100352).has_value());
  WriteFile(tmp.Join("tokenizer.json"), R"({"added_tokens": [{"id": 100352, "content": "<|audio|>"}],
    "model": {"vocab": {"hello": 7}}})");
  EXPECT_EQ(TokenText(tmp.path(), 100352).value_or(""), "<|audio|>");
  EXPECT_EQ(TokenText(tmp.path(), 7).value_or(""), "hello");
  EXPECT_FALSE(TokenText(tmp.path(), 8).has_value());
  WriteFile(tmp.Join("tokenizer_config.json"),
            R"({"added_tokens_decoder": {"100352": {"content": "<|other|>", "special": true}}})");
  EXPECT_EQ(TokenText(tmp.path(), 100352).value_or(""), "<|other|>");
  WriteFile(tmp.Join("tokenizer_config.json"), "not json");
  EXPECT_EQ(TokenText(tmp.path(), 100352).value_or(""), "<|audio|>");
}

}  // namespace
}  // namespace embed2onnx

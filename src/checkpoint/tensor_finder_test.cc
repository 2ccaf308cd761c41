// FindEmbeddingTable, FindOneOf and EmbeddingCandidates on small hand-made checkpoints.
#include "embed2onnx/tensor_finder.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_util/files.h"

namespace embed2onnx {
namespace {

using test_util::FailsNaming;
using test_util::SafetensorsBytes;
using test_util::TempDir;
using test_util::WriteFile;

using Shape = std::vector<uint64_t>;

class TensorFinder : public ::testing::Test {
 protected:
  // A checkpoint of U8 tensors with these names and shapes, laid out back to back.
  const Checkpoint& Make(const std::vector<std::pair<std::string, Shape>>& tensors) {
    std::string header = "{";
    uint64_t offset = 0;
    for (const auto& [name, shape] : tensors) {
      uint64_t n = 1;
      std::string dims;
      for (uint64_t d : shape) {
        n *= d;
        if (!dims.empty()) dims += ',';
        dims += std::to_string(d);
      }
      if (header.size() > 1) header += ",";
      // Appended piece by piece: GCC 12 -Wrestrict misfires on "literal" + std::string.
      header += '"';
      header += name;
      header += R"(":{"dtype":"U8","shape":[)";
      header += dims;
      header += R"(],"data_offsets":[)";
      header += std::to_string(offset) + "," + std::to_string(offset + n) + "]}";
      offset += n;
    }
    header += "}";
    path_ = dir_.Join("model.safetensors");
    WriteFile(path_, SafetensorsBytes(header, std::string(offset, '\0')));
    Result<Checkpoint> ckpt = Checkpoint::OpenFile(path_);
    EXPECT_TRUE(ckpt.ok()) << ckpt.status().ToString();
    ckpt_ = std::move(ckpt).value();
    return *ckpt_;
  }

  std::string Found(const std::string& requested = "") {
    Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, requested);
    return t.ok() ? (*t)->name : "error: " + t.status().message();
  }

  TempDir dir_;
  std::string path_;
  std::optional<Checkpoint> ckpt_;
};

TEST_F(TensorFinder, Gpt2PicksWteNotWpe) {
  Make({{"transformer.wpe.weight", {16, 4}},
        {"transformer.wte.weight", {61, 4}},
        {"transformer.ln_f.weight", {4}}});
  EXPECT_EQ(Found(), "transformer.wte.weight");
}

TEST_F(TensorFinder, LlamaPicksEmbedTokensNotLmHead) {
  Make({{"lm_head.weight", {32, 4}}, {"model.embed_tokens.weight", {32, 4}}, {"model.norm.weight", {4}}});
  EXPECT_EQ(Found(), "model.embed_tokens.weight");
}

TEST_F(TensorFinder, GraniteSpeechNames) {
  Make({{"language_model.model.embed_tokens.weight", {8, 4}},
        {"language_model.lm_head.weight", {8, 4}},
        {"encoder.input_linear.weight", {4, 4}}});
  EXPECT_EQ(Found(), "language_model.model.embed_tokens.weight");
}

TEST_F(TensorFinder, TwoWellKnownNamesAreAmbiguous) {
  Make({{"model.embed_tokens.weight", {8, 4}}, {"transformer.wte.weight", {8, 4}}});
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(FailsNaming(t.status(), path_,
                          "several tensors look like the embedding table: model.embed_tokens.weight, "
                          "transformer.wte.weight; pick one with --tensor NAME"));
}

TEST_F(TensorFinder, WellKnownNameBeatsLookAlike) {
  Make({{"model.embed_tokens.weight", {8, 4}}, {"vision.word_embeddings.weight", {8, 4}}});
  EXPECT_EQ(Found(), "model.embed_tokens.weight");
}

TEST_F(TensorFinder, WellKnownNameMustBeTwoDimensional) {
  Make({{"model.embed_tokens.weight", {8}}, {"decoder.wte.weight", {8, 4}}});
  EXPECT_EQ(Found(), "decoder.wte.weight");
}

TEST_F(TensorFinder, WellKnownNameOfAnotherRankIsNamedWhenNothingIsFound) {
  Make({{"model.embed_tokens.weight", {8}}, {"w", {2, 2}}});
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(
      FailsNaming(t.status(), path_,
                  "no embedding table found; 'model.embed_tokens.weight' is U8 [8] (rank 1), not a 2-D "
                  "table; tensors: model.embed_tokens.weight, w; pick one with --tensor NAME"));
}

TEST_F(TensorFinder, SingleLookAlikeIsTaken) {
  Make({{"backbone.embed_tokens.weight", {8, 4}},
        {"backbone.layers.0.w", {4, 4}},
        {"pos.embed_tokens.weight", {8}}});
  EXPECT_EQ(Found(), "backbone.embed_tokens.weight");
}

TEST_F(TensorFinder, SeveralLookAlikesAreAmbiguous) {
  Make({{"a.embed_tokens.weight", {8, 4}}, {"b.word_embeddings.weight", {8, 4}}});
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(FailsNaming(t.status(), path_,
                          "a.embed_tokens.weight, b.word_embeddings.weight; pick one with --tensor"));
}

TEST_F(TensorFinder, NothingEmbeddingLikeIsNotFoundListingNames) {
  Make({{"w1", {2, 2}}, {"w2", {2}}});
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(t.status(), path_,
                          "no embedding table found; tensors: w1, w2; pick one with --tensor NAME"));
}

TEST_F(TensorFinder, ManyTensorsAreListedWithACap) {
  std::vector<std::pair<std::string, Shape>> tensors;
  for (int i = 10; i < 25; ++i) tensors.push_back({std::string("w").append(std::to_string(i)), {1}});
  Make(tensors);
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(FailsNaming(t.status(), path_, "w18, w19, ... (15 in all)"));
  EXPECT_EQ(t.status().message().find("w20"), std::string::npos);
}

TEST_F(TensorFinder, RequestedTensorIsReturnedAsIs) {
  Make({{"model.embed_tokens.weight", {8, 4}}, {"custom.table", {8, 4}}});
  EXPECT_EQ(Found("custom.table"), "custom.table");
}

TEST_F(TensorFinder, RequestedAbsentListsCandidates) {
  Make({{"model.embed_tokens.weight", {8, 4}}, {"x.wte.weight", {8, 4}}, {"lm_head.weight", {8, 4}}});
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "nope.weight");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(FailsNaming(t.status(), path_,
                          "tensor 'nope.weight' not found; embedding-like tensors there: "
                          "model.embed_tokens.weight, x.wte.weight"));
}

TEST_F(TensorFinder, RequestedAbsentWithNoCandidatesListsNames) {
  Make({{"w1", {2, 2}}});
  Result<const TensorInfo*> t = FindEmbeddingTable(*ckpt_, "nope");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(FailsNaming(t.status(), path_,
                          "tensor 'nope' not found; no tensor looks like an embedding table; "
                          "tensors there: w1"));
}

TEST_F(TensorFinder, CandidatesAreWellKnownFirst) {
  Make({{"a.embed_tokens.weight", {8, 4}},
        {"transformer.wte.weight", {8, 4}},
        {"model.embed_tokens.weight", {8, 4}},
        {"b.tok_embeddings.weight", {8, 4}},
        {"c.embed_in.weight", {3}}});
  EXPECT_EQ(EmbeddingCandidates(*ckpt_),
            (std::vector<std::string>{"model.embed_tokens.weight", "transformer.wte.weight",
                                      "a.embed_tokens.weight", "b.tok_embeddings.weight"}));
}

TEST_F(TensorFinder, FindOneOfTakesTheFirstAcceptedPresent) {
  Make({{"language_model.model.embed_tokens.weight", {8, 4}}, {"llm.model.embed_tokens.weight", {8, 4}}});
  Result<const TensorInfo*> t =
      FindOneOf(*ckpt_, {"llm.model.embed_tokens.weight", "language_model.model.embed_tokens.weight"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->name, "llm.model.embed_tokens.weight");

  t = FindOneOf(*ckpt_, {"missing.weight", "language_model.model.embed_tokens.weight"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->name, "language_model.model.embed_tokens.weight");
}

TEST_F(TensorFinder, FindOneOfNamesExpectedAndCandidates) {
  Make({{"model.embed_tokens.weight", {8, 4}}});
  Result<const TensorInfo*> t =
      FindOneOf(*ckpt_, {"llm.model.embed_tokens.weight", "language_model.model.embed_tokens.weight"});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(
      FailsNaming(t.status(), path_,
                  "expected one of llm.model.embed_tokens.weight, language_model.model.embed_tokens.weight; "
                  "embedding-like tensors there: model.embed_tokens.weight"));
}

}  // namespace
}  // namespace embed2onnx

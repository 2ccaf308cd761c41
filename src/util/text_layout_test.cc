#include "util/text_layout.h"

#include <gtest/gtest.h>

namespace embed2onnx {
namespace {

TEST(TextLayoutTest, WidthCountsCodePointsAndWideCharacters) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("embed_tokens.onnx"), 17u);
  EXPECT_EQ(DisplayWidth("caf\xc3\xa9"), 4u);               // e-acute: 2 bytes, 1 column
  EXPECT_EQ(DisplayWidth("\xe6\xa8\xa1\xe5\x9e\x8b"), 4u);  // two CJK ideographs
  EXPECT_EQ(DisplayWidth("\xed\x95\x9c"), 2u);              // a Hangul syllable
  EXPECT_EQ(DisplayWidth("e\xcc\x81"), 1u);                 // e + combining acute
  EXPECT_EQ(DisplayWidth("\xf0\x9f\x98\x80"), 2u);          // an emoji
  EXPECT_EQ(DisplayWidth("a\xff"
                         "b"),
            3u);                            // a stray byte: one column
  EXPECT_EQ(DisplayWidth("\xe6\xa8"), 2u);  // a cut sequence: a column a byte
  EXPECT_EQ(DisplayWidth("\xc0\xaf"), 2u);  // overlong '/': not a code point
}

TEST(TextLayoutTest, PaddingAndTruncationGoByColumns) {
  EXPECT_EQ(PadRight("ab", 4), "ab  ");
  EXPECT_EQ(PadRight("\xe6\xa8\xa1", 4), "\xe6\xa8\xa1  ");
  EXPECT_EQ(PadRight("abcdef", 4), "abcdef");
  EXPECT_EQ(PadLeft("\xc3\xa9", 3), "  \xc3\xa9");
  EXPECT_EQ(TruncateToWidth("abcdef", 3), "abc");
  EXPECT_EQ(TruncateToWidth("a\xe6\xa8\xa1\xe5\x9e\x8b", 4), "a\xe6\xa8\xa1");  // never half a character
  EXPECT_EQ(TruncateToWidth("ab", 10), "ab");
}

TEST(TextLayoutTest, WrapKeepsEveryLineWithinTheWidth) {
  const std::string text =
      "  --int4-block   values per int4 block, each with its own fp16 scale and zero point\n"
      "short line\n";
  const std::string wrapped = WrapText(text, 40, 4);
  EXPECT_EQ(wrapped,
            "  --int4-block   values per int4 block,\n"
            "      each with its own fp16 scale and\n"
            "      zero point\n"
            "short line\n");
  size_t start = 0;
  while (start < wrapped.size()) {
    size_t end = wrapped.find('\n', start);
    EXPECT_LE(DisplayWidth(wrapped.substr(start, end - start)), 40u);
    start = end + 1;
  }
  EXPECT_EQ(WrapText("no break at the end", 8), "no break\nat the\nend");
  // A word longer than the width stays whole.
  EXPECT_EQ(WrapText("a verylongword b", 5), "a\nverylongword\nb");
  EXPECT_EQ(WrapText("", 5), "");
  EXPECT_EQ(WrapText("fits\n\nkept", 10), "fits\n\nkept");
  // Spacing is kept inside a line, dropped where it breaks.
  EXPECT_EQ(WrapText("a  b   c    d", 8), "a  b   c\nd");
}

}  // namespace
}  // namespace embed2onnx

// terminal_safe(): what the tools print of untrusted text cannot act on a
// terminal, and what is harmless stays readable.
#include "ringtail/reader/output/terminal_text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ringtail::reader {
namespace {

using namespace std::string_literals;

bool inert(const std::string& text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return text.find("\xC2\x9B") == std::string::npos;
}

TEST(TerminalSafe, KeepsPrintableTextAndUtf8) {
  EXPECT_EQ(terminal_safe("agent-7 \"q\" ok"), "agent-7 \"q\" ok");
  EXPECT_EQ(terminal_safe("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(terminal_safe("\xC2\xA0"), "\xC2\xA0") << "U+00A0 is the first character past the C1 block";
  EXPECT_EQ(terminal_safe(""), "");
}

TEST(TerminalSafe, EscapesControlsAndBadBytes) {
  EXPECT_EQ(terminal_safe("\x1b]0;owned\x07\x1b[2J"), "\\x1b]0;owned\\x07\\x1b[2J");
  EXPECT_EQ(terminal_safe("a\nb\tc\rd"), "a\\x0ab\\x09c\\x0dd");
  EXPECT_EQ(terminal_safe("nul\0end"s), "nul\\x00end");
  EXPECT_EQ(terminal_safe("del\x7F"), "del\\x7f");
  EXPECT_EQ(terminal_safe("csi\xC2\x9B"
                          "2J"),
            "csi\\xc2\\x9b2J")
      << "C1 controls act like ESC sequences";
  EXPECT_EQ(terminal_safe("\x9B"), "\\x9b") << "a lone C1 byte (8-bit CSI)";
  EXPECT_EQ(terminal_safe("\xC0\xAF"), "\\xc0\\xaf") << "overlong";
  EXPECT_EQ(terminal_safe("\xED\xA0\x80"), "\\xed\\xa0\\x80") << "surrogate";
  EXPECT_EQ(terminal_safe("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "past U+10FFFF";
  EXPECT_EQ(terminal_safe("\xE2\x82"), "\\xe2\\x82") << "cut short";
  EXPECT_EQ(terminal_safe("back\\slash"), "back\\\\slash") << "an input escape cannot pass for ours";
}

TEST(TerminalSafe, EveryByteValueComesOutInert) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string safe = terminal_safe(all);
  EXPECT_TRUE(inert(safe));
  // Each byte alone, and each after a UTF-8 lead byte.
  for (int b = 0; b < 256; ++b) {
    for (const std::string& prefix : {""s, "\xC2"s, "\xE2\x82"s, "\xF0\x9F\x98"s}) {
      const std::string text = prefix + static_cast<char>(b);
      EXPECT_TRUE(inert(terminal_safe(text))) << "byte " << b << " after a " << prefix.size() << "-byte prefix";
    }
  }
}

}  // namespace
}  // namespace ringtail::reader

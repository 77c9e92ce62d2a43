#include "output/escape.hpp"

#include <gtest/gtest.h>

namespace connsnoop {
namespace {

using namespace std::string_literals;

TEST(EscapeForTerminal, PlainTextPasses) {
    EXPECT_EQ(escape_for_terminal("curl -s http://169.254.169.254/"), "curl -s http://169.254.169.254/");
    EXPECT_EQ(escape_for_terminal("naïve Ünïcödé 日本"), "naïve Ünïcödé 日本");
}

TEST(EscapeForTerminal, ControlCharactersCannotReachTheTerminal) {
    EXPECT_EQ(escape_for_terminal("\x1b[2J\x1b[H"), "\\x1b[2J\\x1b[H");
    EXPECT_EQ(escape_for_terminal("a\rb\nc\td\x7f"), "a\\x0db\\x0ac\\x09d\\x7f");
    EXPECT_EQ(escape_for_terminal("nul\0x"s), "nul\\x00x");
    EXPECT_EQ(escape_for_terminal("\xc2\x9b"
                                  "31m"),
              "\\xc2\\x9b31m");  // C1 CSI as UTF-8
    EXPECT_EQ(escape_for_terminal("\xe2\x80\xae"
                                  "evil"),
              "\\xe2\\x80\\xaeevil");                                   // RIGHT-TO-LEFT OVERRIDE
    EXPECT_EQ(escape_for_terminal("\xe2\x80\xa8"), "\\xe2\\x80\\xa8");  // LINE SEPARATOR
}

TEST(EscapeForTerminal, InvalidUtf8IsEscapedPerByte) {
    EXPECT_EQ(escape_for_terminal("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(escape_for_terminal("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
    EXPECT_EQ(escape_for_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
    EXPECT_EQ(escape_for_terminal("ok\xe6\x97"), "ok\\xe6\\x97");       // cut sequence
}

TEST(EscapeForTerminal, BackslashCannotForgeAnEscape) { EXPECT_EQ(escape_for_terminal("\\x1b"), "\\\\x1b"); }

TEST(MakeValidUtf8, KeepsValidAndMarksInvalid) {
    EXPECT_EQ(make_valid_utf8("日本 \x1b ok"), "日本 \x1b ok");
    EXPECT_EQ(make_valid_utf8("a\xff"
                              "b"),
              "a\\xffb");
}

TEST(DisplayWidth, CountsTerminalColumnsAndCutsOnBoundaries) {
    EXPECT_EQ(display_width("abc"), 3U);
    EXPECT_EQ(display_width("日本"), 4U);  // wide: two columns each
    EXPECT_EQ(fit_to_width("日本語", 4), "日本");
    EXPECT_EQ(fit_to_width("日本語", 5), "日本");  // 語 would straddle the edge: left out
    EXPECT_EQ(fit_to_width("abc", 10), "abc");
    EXPECT_EQ(display_width("\U0001F600!"), 3U);  // an emoji takes two columns
}

TEST(DisplayWidth, ZeroWidthMarksStayWithTheirCharacter) {
    const std::string e_acute = "e\u0301";  // e + combining acute accent: one column
    EXPECT_EQ(display_width(e_acute + "x"), 2U);
    EXPECT_EQ(fit_to_width(e_acute + "x", 1), e_acute);
    EXPECT_EQ(display_width("a\u200Bb"), 2U);  // zero width space
    EXPECT_EQ(display_width("\\\\x1b"), 5U);   // escaped text counts as shown
}

}  // namespace
}  // namespace connsnoop

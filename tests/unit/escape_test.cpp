#include "output/escape.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "output/display_width.hpp"
#include "terminal_escape_reference.hpp"

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

// What the JSON output did before its one-pass writer, step by step: make
// the text valid UTF-8, let a JSON encoder quote it, escape what a terminal
// would act on. The one-pass writer must give the same bytes.
std::string json_string_the_long_way(std::string_view text) {
    const auto quoted = nlohmann::json(make_valid_utf8(text)).dump(-1, ' ', false);
    return escape_json_invisibles(quoted);
}

std::string json_string_in_one_pass(std::string_view text) {
    std::string out = "\"";
    append_json_string_contents(out, text);
    return out + "\"";
}

TEST(JsonStringContents, SameBytesAsTheEncoderForEveryByteAndPairOfBytes) {
    for (int first = 0; first < 256; ++first) {
        const std::string one(1, static_cast<char>(first));
        ASSERT_EQ(json_string_in_one_pass(one), json_string_the_long_way(one)) << "byte " << first;
        for (int second = 0; second < 256; ++second) {
            const std::string two = one + static_cast<char>(second);
            ASSERT_EQ(json_string_in_one_pass(two), json_string_the_long_way(two)) << first << " " << second;
        }
    }
}

// Fewer than `piece_limit` pieces, each a random byte one time in
// `raw_byte_one_in`, else one of `pieces`.
std::string random_text(std::mt19937& random, const std::vector<std::string>& pieces, std::size_t piece_limit,
                        std::size_t raw_byte_one_in) {
    std::string text;
    const auto count = random() % piece_limit;
    for (std::size_t i = 0; i < count; ++i) {
        if (random() % raw_byte_one_in == 0) {
            text += static_cast<char>(random() % 256);
        } else {
            text += pieces[random() % pieces.size()];
        }
    }
    return text;
}

TEST(JsonStringContents, SameBytesAsTheEncoderForMultiByteAndRandomText) {
    const std::vector<std::string> pieces = {"a",
                                             "\\",
                                             "\"",
                                             "\x1b[2J",
                                             "\r\n\t\b\f",
                                             "\x7f",
                                             "\xc2\x9b",
                                             "\xc2\xa0",
                                             "\xe2\x80\x8e",
                                             "\xe2\x80\xae",
                                             "\xe2\x81\xa6",
                                             "\xe2\x80\xa8",
                                             "\xe2\x80\xaf",
                                             "\xed\xa0\x80",
                                             "\xf0\x9f\x98\x80",
                                             "\xf4\x90\x80\x80",
                                             "\xe6\x97",
                                             "\xc0\xaf",
                                             "日本",
                                             "ż",
                                             std::string(1, '\0'),
                                             "\xff"};
    std::mt19937 random(1234);
    for (int round = 0; round < 20'000; ++round) {
        const std::string text = random_text(random, pieces, 12, 4);
        ASSERT_EQ(json_string_in_one_pass(text), json_string_the_long_way(text)) << ::testing::PrintToString(text);
    }
}

TEST(JsonStringContents, ASpecialByteAnywhereInALongPlainRunIsFound) {
    // Runs are scanned 8 bytes at a time: every position in and across words.
    for (const int special : {0x00, 0x01, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xc2, 0xe2, 0xff}) {
        for (std::size_t at = 0; at < 24; ++at) {
            std::string text(24, 'a');
            text[at] = static_cast<char>(special);
            ASSERT_EQ(json_string_in_one_pass(text), json_string_the_long_way(text)) << special << " at " << at;
            if (special != '"') {
                EXPECT_EQ(escape_for_terminal(text).size(), special == 0x20 ? 24U : 23U + (special == 0x5c ? 2 : 4))
                    << special << " at " << at;
            }
        }
    }
    // Bytes just inside the plain range pass unchanged.
    EXPECT_EQ(json_string_in_one_pass(std::string(17, ' ') + "~!#[]"), "\"" + std::string(17, ' ') + "~!#[]\"");
}

// The scans behind both escapers, the one in use (SSE2 on x86-64) and the
// word-at-a-time one aarch64 builds, against references that look at one
// character at a time: the long way for JSON, and for the terminal
// reference::terminal_one_character_at_a_time.
std::string json_contents_the_long_way(std::string_view text) {
    const auto quoted = json_string_the_long_way(text);
    return quoted.substr(1, quoted.size() - 2);
}

struct EscapeVariant {
    const char* name;
    char* (*write)(char*, std::string_view);
    std::size_t (*room)(std::size_t);
    bool json;
};

const EscapeVariant kEscapeVariants[] = {
    {"json", write_json_string_contents, json_escaped_room, true},
    {"json portable", detail::write_json_string_contents_portable, json_escaped_room, true},
    {"terminal", write_escaped_for_terminal, terminal_escaped_room, false},
    {"terminal portable", detail::write_escaped_for_terminal_portable, terminal_escaped_room, false},
};

// Written into exactly the room the escaper asks for (ASan sees a write
// past it), with guard bytes after it checked too.
std::string escape_in_exact_room(const EscapeVariant& variant, std::string_view text) {
    constexpr std::size_t kGuard = 32;
    const std::size_t room = variant.room(text.size());
    std::vector<char> buffer(room + kGuard, '\x5a');
    const char* const end = variant.write(buffer.data(), text);
    EXPECT_LE(end, buffer.data() + room) << variant.name;
    for (std::size_t i = room; i < buffer.size(); ++i) {
        if (buffer[i] != '\x5a') ADD_FAILURE() << variant.name << ": wrote past its room";
    }
    return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

void expect_every_variant_escapes(std::string_view text) {
    const std::string json = json_contents_the_long_way(text);
    const std::string terminal = reference::terminal_one_character_at_a_time(text);
    for (const auto& variant : kEscapeVariants) {
        ASSERT_EQ(escape_in_exact_room(variant, text), variant.json ? json : terminal)
            << variant.name << ": " << ::testing::PrintToString(std::string(text));
    }
}

TEST(EscapeScan, EveryByteAtEveryPositionOfShortAndLongTexts) {
    // Up to 40 bytes: inside one 16-byte chunk, across two, in a partial tail.
    for (std::size_t length = 1; length <= 40; ++length) {
        for (std::size_t at = 0; at < length; ++at) {
            for (int byte = 0; byte < 256; ++byte) {
                std::string text(length, 'a');
                text[at] = static_cast<char>(byte);
                expect_every_variant_escapes(text);
                if (::testing::Test::HasFatalFailure()) return;
            }
        }
    }
    expect_every_variant_escapes("");
}

TEST(EscapeScan, SequencesAcrossChunkEdgesAndCutAtTheEnd) {
    const std::vector<std::string> sequences = {
        "\xc3\xa9",          // é
        "\xc2\x9b",          // C1 CSI
        "\xc2\xa0",          // no-break space: printable
        "\xe2\x80\xae",      // right-to-left override
        "\xe2\x80\xa8",      // line separator
        "\xe2\x81\xa9",      // pop directional isolate
        "\xe6\x97\xa5",      // 日
        "\xf0\x9f\x98\x80",  // an emoji
        "\xed\xa0\x80",      // a surrogate
        "\xc0\xaf",          // overlong '/'
        "\xe0\x80\xaf",      // overlong, three bytes
        "\xf0\x80\x80\xaf",  // overlong, four bytes
        "\xf4\x90\x80\x80",  // above U+10FFFF
        "\xf8\x88\x80\x80",  // a five-byte lead
        "\x80",              // a lone continuation byte
        "\\\"",
    };
    for (const auto& sequence : sequences) {
        for (std::size_t before = 0; before <= 34; ++before) {
            for (std::size_t after = 0; after <= 18; after += 17) {
                expect_every_variant_escapes(std::string(before, 'x') + sequence + std::string(after, 'y'));
            }
            // Cut short by the end of the text, at every length.
            for (std::size_t cut = 1; cut < sequence.size(); ++cut) {
                expect_every_variant_escapes(std::string(before, 'x') + sequence.substr(0, cut));
                expect_every_variant_escapes(std::string(before, 'x') + sequence.substr(0, cut) + "z");
            }
            if (::testing::Test::HasFatalFailure()) return;
        }
    }
}

TEST(EscapeScan, RandomTextsWithLongPlainRuns) {
    const std::vector<std::string> pieces = {"a",
                                             "plain text with spaces ",
                                             std::string(33, 'p'),
                                             "\x1b[2J",
                                             "\r\n\t\b\f",
                                             "\x7f",
                                             "\\",
                                             "\"",
                                             "\xc2\x9b",
                                             "\xe2\x80\xae",
                                             "\xe6\x97\xa5",
                                             "\xf0\x9f\x98\x80",
                                             "\xed\xa0\x80",
                                             "\xe6\x97",
                                             "\xff",
                                             std::string(1, '\0')};
    std::mt19937 random(20261129);
    for (int round = 0; round < 20'000; ++round) {
        const std::string text = random_text(random, pieces, 10, 5);
        expect_every_variant_escapes(text);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(EscapeForTerminal, AppendsTheSameAsItReturns) {
    std::string out = "prefix ";
    append_escaped_for_terminal(out, "a\x1b\\b");
    EXPECT_EQ(out, "prefix a\\x1b\\\\b");
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

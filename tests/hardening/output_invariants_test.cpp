// Pure checks of the output invariants on hostile input: no root needed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../unit/event_fixtures.hpp"
#include "hardening_support.hpp"
#include "output/escape.hpp"
#include "output/json_format.hpp"
#include "output/table_format.hpp"

namespace connsnoop::testing {
namespace {

TEST(JsonInvisibles, DelC1AndDirectionControlsBecomeUnicodeEscapes) {
    EXPECT_EQ(escape_json_invisibles("\"a\x7f"
                                     "b\xc2\x9b"
                                     "c\xe2\x80\xae"
                                     "d\xe2\x81\xa6"
                                     "e\xe2\x80\xa8"
                                     "f\""),
              "\"a\\u007fb\\u009bc\\u202ed\\u2066e\\u2028f\"");
    // Printable non-ASCII text is left as it is.
    EXPECT_EQ(escape_json_invisibles("\"żółw 猫 é\""), "\"żółw 猫 é\"");
}

TEST(JsonInvisibles, TheLineStillParsesToTheSameStrings) {
    auto event = fixtures::sample_event({std::string("a\x1b[2J\r\n\t\x7f\xc2\x9b\xe2\x80\xae\xff") + "z"});
    event.comm = "\x1b]0;x\x07";
    const auto line = connect_json_line(event);
    EXPECT_EQ(terminal_hazard(line), "") << line;
    const auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record["argv"][0], std::string("a\x1b[2J\r\n\t\x7f\xc2\x9b\xe2\x80\xae\\xff") + "z");
    EXPECT_EQ(record["comm"], "\x1b]0;x\x07");
}

TEST(TableInvariants, EveryHostileByteOfEveryFieldIsInert) {
    // Every single byte value, as a title, as a user name, next to multi-byte controls.
    for (int value = 0; value < 256; ++value) {
        const std::string byte(1, static_cast<char>(value));
        auto event = fixtures::sample_event({byte + "\xe2\x80\xae" + byte, "\xc2\x85"});
        event.user = byte;
        const auto row = format_table_row(event, TableLayout{TimeFormat::none, std::nullopt});
        EXPECT_EQ(terminal_hazard(row), "") << "byte " << value << ": " << row;
    }
}

}  // namespace
}  // namespace connsnoop::testing

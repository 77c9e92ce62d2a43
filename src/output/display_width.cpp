#include "output/display_width.hpp"

#include <locale.h>

#include <cctype>
#include <cstdlib>
#include <cwchar>
#include <string>

namespace connsnoop {

namespace {

// glibc's wcwidth tables, read through the built-in C.UTF-8 locale for this
// thread only: the process locale is left alone.
class Utf8Scope {
public:
    Utf8Scope() : previous_(utf8_locale() ? uselocale(utf8_locale()) : nullptr) {}
    ~Utf8Scope() {
        if (previous_ != nullptr) uselocale(previous_);
    }
    Utf8Scope(const Utf8Scope&) = delete;
    Utf8Scope& operator=(const Utf8Scope&) = delete;

private:
    static locale_t utf8_locale() {
        static const locale_t kUtf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
        return kUtf8;
    }
    locale_t previous_;
};

struct Glyph {
    std::size_t bytes;
    std::size_t columns;
};

Glyph next_glyph(std::string_view text, std::size_t pos) {
    const auto lead = static_cast<unsigned char>(text[pos]);
    if (lead < 0x80) return {1, 1};
    std::mbstate_t state{};
    wchar_t wide = 0;
    const std::size_t length = std::mbrtowc(&wide, text.data() + pos, text.size() - pos, &state);
    if (length == 0 || length > text.size() - pos) return {1, 1};  // not UTF-8 after all: a column a byte
    const int columns = ::wcwidth(wide);
    return {length, columns < 0 ? 1U : static_cast<std::size_t>(columns)};
}

}  // namespace

std::size_t terminal_columns(std::string_view escaped) {
    const Utf8Scope utf8;
    std::size_t columns = 0;
    for (std::size_t pos = 0; pos < escaped.size();) {
        const auto glyph = next_glyph(escaped, pos);
        columns += glyph.columns;
        pos += glyph.bytes;
    }
    return columns;
}

std::string_view fit_to_columns(std::string_view escaped, std::size_t columns) {
    const Utf8Scope utf8;
    std::size_t used = 0;
    std::size_t pos = 0;
    while (pos < escaped.size()) {
        const auto glyph = next_glyph(escaped, pos);
        if (used + glyph.columns > columns) break;
        used += glyph.columns;
        pos += glyph.bytes;
    }
    return escaped.substr(0, pos);
}

bool locale_is_utf8() {
    std::string name;
    for (const char* variable : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        const char* value = std::getenv(variable);
        if (value != nullptr && *value != '\0') {
            name = value;
            break;
        }
    }
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name.find("utf-8") != std::string::npos || name.find("utf8") != std::string::npos;
}

}  // namespace connsnoop

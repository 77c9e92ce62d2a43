#pragma once

#include <cstdio>
#include <string>

#include "output/line_output.hpp"

namespace connsnoop::test {

// What `write(LineOutput&)` put out, read back from a temporary file: the
// bytes a terminal or a pipe would get.
template <class Write>
std::string line_output_text(Write&& write) {
    std::FILE* file = std::tmpfile();
    if (file == nullptr) return "tmpfile failed";
    LineOutput out(file);
    write(out);
    out.flush();
    std::rewind(file);
    char text[512] = {};
    const auto size = std::fread(text, 1, sizeof(text) - 1, file);
    std::fclose(file);
    return std::string(text, size);
}

}  // namespace connsnoop::test

// What no line connsnoop prints may contain: shared by the hardening tests
// and the fuzz targets (so it depends on nothing but the standard library).
#pragma once

#include <string>
#include <string_view>

namespace connsnoop::testing {

// Why `line` (one table row, without its newline) could act on a terminal:
// a C0 control, DEL, a C1 control (raw byte or UTF-8), a Unicode direction
// control or an invalid UTF-8 sequence. Empty when the line is safe.
std::string terminal_hazard(std::string_view line);

}  // namespace connsnoop::testing

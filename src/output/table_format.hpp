// Pure formatting of the human-readable table.
#pragma once

#include <string>

#include "collect/connect_event.hpp"
#include "output/output_options.hpp"

namespace connsnoop {

std::string format_table_header(const TableLayout& layout);
// One row; every untrusted field is escaped, and the row is cut to
// layout.max_width columns (ending in "…") when that is set.
std::string format_table_row(const ConnectEvent& event, const TableLayout& layout);

}  // namespace connsnoop

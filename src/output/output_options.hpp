// How events are shown; filled by the CLI, read by the output layer.
#pragma once

#include <cstddef>
#include <optional>

namespace connsnoop {

enum class OutputFormat { table, json };
enum class TimeFormat { local, iso, none };

struct TableLayout {
    TimeFormat time = TimeFormat::local;
    // Cut rows to this many columns (set on a terminal unless --wide).
    std::optional<std::size_t> max_width;
    // --outcome/--failed: RESULT and LATENCY columns.
    bool outcome_columns = false;
    // --http: a REQUEST column (method, path, IMDS version of request rows).
    bool request_column = false;
};

}  // namespace connsnoop

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
    // The table's own marks in UTF-8 ("←", "…"); false where the locale is
    // not UTF-8: "<-" and "...".
    bool utf8 = true;
    // The header line first (--no-header drops it).
    bool header = true;
    // --udp, --dns: a PROTO column (tcp, udp) before the destination.
    bool protocol_column = false;
};

}  // namespace connsnoop

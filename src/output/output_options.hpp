// How events are shown; filled by the CLI, read by the output layer.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace connsnoop {

enum class OutputFormat { table, json };
enum class TimeFormat { local, iso, none };
// How a JSON record writes each ancestor: pid, comm, cmdline and exited, or
// (--ancestry short) pid and comm only, for lines a fraction as long.
enum class AncestorDetail { full, pid_and_comm };

// A column of the event table (--columns).
enum class TableColumn {
    time,
    pid,
    ppid,
    parent,  // the parent's comm
    user,
    uid,
    comm,
    cmdline,      // the command line alone
    command,      // the command line, where it runs and its parents' names (the default last column)
    protocol,     // tcp or udp
    destination,  // address:port
    port,
    result,
    latency,
    request,
    cgroup,
    container,
    unit,
    exe,
    ns_pid,
};

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
    // --columns: these, in this order; empty: the default set, which the
    // fields above choose (time, PID, USER, DESTINATION, [RESULT LATENCY],
    // [REQUEST], COMMAND).
    std::vector<TableColumn> columns{};
    // --udp, --dns: a PROTO column (tcp, udp) before the destination.
    bool protocol_column = false;
    // Cut a cell longer than its column to the column's width, so that the
    // columns after it stay under their headers. --wide turns it off:
    // nothing is cut, in a terminal, a pipe or a file.
    bool fit_cells = true;
};

}  // namespace connsnoop

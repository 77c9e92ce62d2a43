// Writes whole lines and flushes each one, so events reach a pipe the moment
// they happen (no stdbuf needed). A reader that went away (EPIPE) closes it.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace connsnoop {

class LineOutput {
public:
    // Writes to a stream it does not own (stdout).
    explicit LineOutput(std::FILE* stream) : stream_(stream) {}
    // Appends to a file it owns, which reopen() can replace (log rotation).
    static Result<std::unique_ptr<LineOutput>> open_file(const std::string& path);
    LineOutput(const LineOutput&) = delete;
    LineOutput& operator=(const LineOutput&) = delete;
    ~LineOutput();

    void write_line(std::string_view line);
    // Opens the path again and switches to it: after logrotate renamed the old
    // file, new lines go to a new file, and no line is split or lost between them.
    Status reopen();
    // True once a write failed; the reader is gone or the disk is full.
    [[nodiscard]] bool closed() const { return closed_; }
    // errno of the failed write (EPIPE when the reader went away).
    [[nodiscard]] int error() const { return error_; }

private:
    std::FILE* stream_;
    std::string path_;  // set when this object owns stream_
    bool closed_ = false;
    int error_ = 0;
};

}  // namespace connsnoop

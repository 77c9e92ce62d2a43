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
    // Batched output leaves lines in the stdio buffer until flush(), which the
    // session calls after each ring-buffer batch: one write(2) per batch, not
    // per event, and still nothing waits once the batch is done.
    void set_batched(bool batched) { batched_ = batched; }
    void flush();
    // Notices a pipe whose reader has gone (`connsnoop | head -1`) even when
    // nothing is being written: the write end of such a pipe polls as POLLERR.
    void check_reader();
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
    bool batched_ = false;
    bool closed_ = false;
    int error_ = 0;
};

}  // namespace connsnoop

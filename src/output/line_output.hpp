// Writes whole lines and flushes each one, so events reach a pipe the moment
// they happen (no stdbuf needed). A reader that went away (EPIPE) closes it.
// Lines are gathered in one buffer of its own and written with write(2), one
// call per flush, bypassing stdio's block-sized writes.
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
    // Appends the line that `fill(buffer)` appends to `buffer` (no newline):
    // a formatter writes straight into the output, no string per line.
    template <typename Fill>
    void write_line_with(Fill&& fill) {
        if (closed_) return;
        fill(pending_);
        pending_ += '\n';
        line_added();
    }
    // Batched output keeps lines until flush(), which the session calls after
    // each ring-buffer batch: one write(2) per batch (or per kMaxPendingBytes
    // of a huge batch), not per event, and nothing waits once the batch is done.
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

    // Above this much, a batch is written before it ends (bounded memory).
    static constexpr std::size_t kMaxPendingBytes = 1 << 20;

private:
    void line_added();
    void write_pending();

    std::FILE* stream_;
    std::string pending_;  // whole lines not yet written; its capacity is reused
    std::string path_;     // set when this object owns stream_
    bool batched_ = false;
    bool closed_ = false;
    int error_ = 0;
};

}  // namespace connsnoop

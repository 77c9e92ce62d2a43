// Writes whole lines and flushes each one, so events reach a pipe the moment
// they happen (no stdbuf needed). A reader that went away (EPIPE) closes it.
// Lines are gathered in one buffer of its own and written with write(2), one
// call per flush, bypassing stdio's block-sized writes.
// A file (--output) is never closed by a failed write: a line that does not
// fit (disk full) is dropped whole and counted, and writing resumes when it can.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
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
    // True when lines wait for flush().
    [[nodiscard]] bool has_pending() const { return !pending_.empty(); }
    // Notices a pipe whose reader has gone (`connsnoop | head -1`) even when
    // nothing is being written: the write end of such a pipe polls as POLLERR.
    void check_reader();
    // Opens the path again and switches to it: after logrotate renamed the old
    // file, new lines go to a new file, and no line is split or lost between them.
    Status reopen();
    // True once a write to stdout failed (the reader is gone); never for a file.
    [[nodiscard]] bool closed() const { return closed_; }
    // errno of the failed write (EPIPE when the reader went away).
    [[nodiscard]] int error() const { return error_; }

    // Files only: lines dropped because they could not be written.
    [[nodiscard]] std::uint64_t lost_lines() const { return lost_total_; }
    // Makes the line that says how many lines were dropped; it is written
    // ahead of the next lines once writing works again.
    using LostNotice = std::function<std::string(std::uint64_t newly_lost, std::uint64_t total_lost, int error)>;
    void set_lost_notice(LostNotice notice) { lost_notice_ = std::move(notice); }

    // Above this much, a batch is written before it ends (bounded memory).
    static constexpr std::size_t kMaxPendingBytes = 1 << 20;

private:
    LineOutput() = default;
    void line_added();
    void write_pending();
    void write_pending_to_stream();
    void write_pending_to_file();

    std::FILE* stream_ = nullptr;  // stdout
    int fd_ = -1;                  // --output: a file this object owns, opened O_APPEND
    std::string path_;
    std::string pending_;  // whole lines not yet written; its capacity is reused
    bool batched_ = false;
    bool closed_ = false;
    int error_ = 0;
    std::uint64_t lost_total_ = 0;
    std::uint64_t lost_unreported_ = 0;
    int lost_error_ = 0;  // errno of the last failed write to the file
    LostNotice lost_notice_;
};

}  // namespace connsnoop

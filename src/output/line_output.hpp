// Writes whole lines and flushes each one, so events reach a pipe the moment
// they happen (no stdbuf needed). A reader that went away (EPIPE) closes it.
#pragma once

#include <cstdio>
#include <string_view>

namespace connsnoop {

class LineOutput {
public:
    explicit LineOutput(std::FILE* stream) : stream_(stream) {}

    void write_line(std::string_view line);
    // True once a write failed; the reader is gone or the disk is full.
    [[nodiscard]] bool closed() const { return closed_; }
    // errno of the failed write (EPIPE when the reader went away).
    [[nodiscard]] int error() const { return error_; }

private:
    std::FILE* stream_;
    bool closed_ = false;
    int error_ = 0;
};

}  // namespace connsnoop

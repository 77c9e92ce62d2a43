#include "output/line_output.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>

namespace connsnoop {

namespace {
Result<std::FILE*> open_for_append(const std::string& path) {
    std::FILE* stream = std::fopen(path.c_str(), "ae");  // append, close-on-exec
    if (stream == nullptr) {
        const int err = errno;
        return Error{"--output " + path + ": " + std::strerror(err), "check that the directory exists and is writable",
                     err};
    }
    return stream;
}
}  // namespace

Result<std::unique_ptr<LineOutput>> LineOutput::open_file(const std::string& path) {
    auto stream = open_for_append(path);
    if (!stream) return stream.error();
    std::unique_ptr<LineOutput> output(new LineOutput(*stream));
    output->path_ = path;
    return output;
}

LineOutput::~LineOutput() {
    if (!path_.empty() && stream_ != nullptr) std::fclose(stream_);
}

void LineOutput::write_line(std::string_view line) {
    if (closed_) return;
    errno = 0;
    const bool written = std::fwrite(line.data(), 1, line.size(), stream_) == line.size() &&
                         std::fputc('\n', stream_) != EOF && (batched_ || std::fflush(stream_) == 0);
    if (!written) {
        closed_ = true;
        error_ = errno;
    }
}

void LineOutput::flush() {
    if (closed_) return;
    errno = 0;
    if (std::fflush(stream_) != 0) {
        closed_ = true;
        error_ = errno;
    }
}

void LineOutput::check_reader() {
    if (closed_) return;
    pollfd entry{fileno(stream_), 0, 0};
    if (::poll(&entry, 1, 0) == 1 && (entry.revents & POLLERR) != 0) {
        closed_ = true;
        error_ = EPIPE;
    }
}

Status LineOutput::reopen() {
    if (path_.empty()) return Ok{};
    auto fresh = open_for_append(path_);
    if (!fresh) return fresh.error();
    std::fflush(stream_);  // the old file gets every line written before the rotation
    std::fclose(stream_);
    stream_ = *fresh;
    return Ok{};
}

}  // namespace connsnoop

#include "output/line_output.hpp"

#include <poll.h>
#include <unistd.h>

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
    write_pending();  // a batch still held (an early return) is not lost
    if (!path_.empty() && stream_ != nullptr) std::fclose(stream_);
}

void LineOutput::write_line(std::string_view line) {
    if (closed_) return;
    pending_ += line;
    pending_ += '\n';
    line_added();
}

void LineOutput::line_added() {
    if (!batched_ || pending_.size() >= kMaxPendingBytes) write_pending();
}

void LineOutput::write_pending() {
    if (closed_ || pending_.empty()) return;
    // Whatever went through the stream itself goes first.
    if (std::fflush(stream_) != 0) {
        closed_ = true;
        error_ = errno;
        return;
    }
    const int fd = fileno(stream_);
    std::size_t done = 0;
    while (done < pending_.size()) {
        const ssize_t written = ::write(fd, pending_.data() + done, pending_.size() - done);
        if (written >= 0) {
            done += static_cast<std::size_t>(written);
        } else if (errno == EAGAIN) {  // a non-blocking stdout: wait until it takes more
            pollfd entry{fd, POLLOUT, 0};
            ::poll(&entry, 1, -1);
        } else if (errno != EINTR) {
            closed_ = true;
            error_ = errno;
            break;
        }
    }
    pending_.clear();
}

void LineOutput::flush() { write_pending(); }

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
    write_pending();  // the old file gets every line written before the rotation
    std::fclose(stream_);
    stream_ = *fresh;
    return Ok{};
}

}  // namespace connsnoop

#include "output/line_output.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace connsnoop {

namespace {
Result<int> open_for_append(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        const int err = errno;
        return Error{"--output " + path + ": " + std::strerror(err), "check that the directory exists and is writable",
                     err};
    }
    return fd;
}

// Writes as much of `data` as the descriptor takes and returns how much that
// was; when it stops short, `error` says why (a write that takes nothing
// without an error is a full device).
std::size_t write_all(int fd, std::string_view data, int& error) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t written = ::write(fd, data.data() + done, data.size() - done);
        if (written > 0) {
            done += static_cast<std::size_t>(written);
        } else if (written < 0 && errno == EINTR) {
            continue;
        } else if (written < 0 && errno == EAGAIN) {  // a non-blocking stdout: wait until it takes more
            pollfd entry{fd, POLLOUT, 0};
            ::poll(&entry, 1, -1);
        } else {
            error = written < 0 ? errno : ENOSPC;
            break;
        }
    }
    return done;
}
}  // namespace

Result<std::unique_ptr<LineOutput>> LineOutput::open_file(const std::string& path) {
    auto fd = open_for_append(path);
    if (!fd) return fd.error();
    std::unique_ptr<LineOutput> output(new LineOutput());
    output->fd_ = *fd;
    output->path_ = path;
    return output;
}

LineOutput::~LineOutput() {
    write_pending();  // a batch still held (an early return) is not lost
    if (fd_ >= 0) ::close(fd_);
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
    if (fd_ >= 0) {
        write_pending_to_file();
    } else {
        write_pending_to_stream();
    }
    pending_.clear();
}

void LineOutput::write_pending_to_stream() {
    // Whatever went through the stream itself goes first.
    if (std::fflush(stream_) != 0) {
        closed_ = true;
        error_ = errno;
        return;
    }
    int err = 0;
    if (write_all(fileno(stream_), pending_, err) < pending_.size()) {
        closed_ = true;
        error_ = err;
    }
}

// One write(2) for all pending lines. What did not fit is cut back to the
// last whole line (the file is truncated to it), dropped and counted: a
// reader of the file never sees half a line, and the next lines start clean.
void LineOutput::write_pending_to_file() {
    std::size_t notice_bytes = 0;
    if (lost_unreported_ > 0 && lost_notice_) {
        std::string notice = lost_notice_(lost_unreported_, lost_total_, lost_error_);
        notice += '\n';
        notice_bytes = notice.size();
        pending_.insert(0, notice);
    }
    int err = 0;
    const std::size_t written = write_all(fd_, pending_, err);
    if (written == pending_.size()) {
        if (notice_bytes > 0) lost_unreported_ = 0;
        return;
    }
    const auto last_newline = written == 0 ? std::string::npos : pending_.rfind('\n', written - 1);
    const std::size_t whole = last_newline == std::string::npos ? 0 : last_newline + 1;
    if (whole < written) {
        // The file (O_APPEND) now ends with the `written - whole` bytes of a
        // line cut short: asked for its size only now, off the fast path.
        const auto partial = static_cast<off_t>(written - whole);
        struct stat now {};
        if (::fstat(fd_, &now) == 0 && S_ISREG(now.st_mode) && now.st_size >= partial) {
            if (::ftruncate(fd_, now.st_size - partial) != 0) err = errno;
        }
    }
    const std::size_t dropped_from = std::max(whole, notice_bytes);  // the notice is no event: kept for later
    const auto dropped = static_cast<std::uint64_t>(
        std::count(pending_.begin() + static_cast<std::ptrdiff_t>(dropped_from), pending_.end(), '\n'));
    if (whole >= notice_bytes) lost_unreported_ = 0;  // the notice made it
    lost_total_ += dropped;
    lost_unreported_ += dropped;
    lost_error_ = err;
}

void LineOutput::flush() { write_pending(); }

void LineOutput::check_reader() {
    if (closed_ || fd_ >= 0) return;
    pollfd entry{fileno(stream_), 0, 0};
    if (::poll(&entry, 1, 0) == 1 && (entry.revents & POLLERR) != 0) {
        closed_ = true;
        error_ = EPIPE;
    }
}

Status LineOutput::reopen() {
    if (fd_ < 0) return Ok{};
    auto fresh = open_for_append(path_);
    if (!fresh) return fresh.error();
    write_pending();  // the old file gets every line written before the rotation
    ::close(fd_);
    fd_ = *fresh;
    return Ok{};
}

}  // namespace connsnoop

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
    if (fd_ >= 0) {
        flush_file();
        ::close(fd_);
    }
}

void LineOutput::write_line(std::string_view line) {
    if (fd_ >= 0) {
        pending_.append(line);
        pending_ += '\n';
        if (!batched_) flush_file();
        return;
    }
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
    if (fd_ >= 0) {
        flush_file();
        return;
    }
    if (closed_) return;
    errno = 0;
    if (std::fflush(stream_) != 0) {
        closed_ = true;
        error_ = errno;
    }
}

// One write(2) for all pending lines. What did not fit is cut back to the
// last whole line (the file is truncated to it), dropped and counted: a
// reader of the file never sees half a line, and the next lines start clean.
void LineOutput::flush_file() {
    if (pending_.empty()) return;
    std::size_t notice_bytes = 0;
    if (lost_unreported_ > 0 && lost_notice_) {
        std::string notice = lost_notice_(lost_unreported_, lost_total_, lost_error_) + '\n';
        notice_bytes = notice.size();
        pending_.insert(0, notice);
    }
    struct stat before {};
    const bool sized = ::fstat(fd_, &before) == 0;
    std::size_t written = 0;
    int err = 0;
    while (written < pending_.size()) {
        const ssize_t n = ::write(fd_, pending_.data() + written, pending_.size() - written);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            err = n < 0 ? errno : ENOSPC;
            break;
        }
    }
    if (written < pending_.size()) {
        const auto last_newline = written == 0 ? std::string::npos : pending_.rfind('\n', written - 1);
        const std::size_t whole = last_newline == std::string::npos ? 0 : last_newline + 1;
        if (whole < written && sized) {
            if (::ftruncate(fd_, before.st_size + static_cast<off_t>(whole)) != 0) err = errno;
        }
        const std::size_t dropped_from = std::max(whole, notice_bytes);  // the notice is no event: kept for later
        const auto dropped = static_cast<std::uint64_t>(
            std::count(pending_.begin() + static_cast<std::ptrdiff_t>(dropped_from), pending_.end(), '\n'));
        if (whole >= notice_bytes) lost_unreported_ = 0;  // the notice made it
        lost_total_ += dropped;
        lost_unreported_ += dropped;
        lost_error_ = err;
    } else if (notice_bytes > 0) {
        lost_unreported_ = 0;
    }
    pending_.clear();
}

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
    flush_file();  // the old file gets every line written before the rotation
    ::close(fd_);
    fd_ = *fresh;
    return Ok{};
}

}  // namespace connsnoop

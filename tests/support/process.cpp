#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace connsnoop::testing {

namespace {
void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Appends whatever is readable now; false on EOF.
bool read_available(int fd, std::string& buffer) {
    char chunk[65536];
    while (true) {
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n > 0) {
            buffer.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) return false;
        return errno == EAGAIN || errno == EINTR;
    }
}
}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv) {
    int out_pipe[2];
    int err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDONLY);
        dup2(null_fd, STDIN_FILENO);
        std::vector<char*> args;
        for (auto& arg : argv) args.push_back(arg.data());
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    set_nonblocking(out_fd_);
    set_nonblocking(err_fd_);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      out_fd_(std::exchange(other.out_fd_, -1)),
      err_fd_(std::exchange(other.err_fd_, -1)),
      reaped_(other.reaped_),
      status_(other.status_),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)) {}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
}

bool ChildProcess::read_until(int fd, std::string& buffer, const std::string& needle,
                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer.find(needle) == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd entry{fd, POLLIN, 0};
        if (::poll(&entry, 1, static_cast<int>(left.count())) <= 0) continue;
        if (!read_available(fd, buffer)) return buffer.find(needle) != std::string::npos;
    }
    return true;
}

bool ChildProcess::wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) {
    return read_until(err_fd_, err_, needle, timeout);
}

bool ChildProcess::wait_for_stdout(const std::string& needle, std::chrono::milliseconds timeout) {
    return read_until(out_fd_, out_, needle, timeout);
}

void ChildProcess::send_signal(int signal_number) const {
    if (pid_ > 0 && !reaped_) ::kill(pid_, signal_number);
}

void ChildProcess::drain_pipes() {
    read_available(out_fd_, out_);
    read_available(err_fd_, err_);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
    if (reaped_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int raw_status = 0;
    while (true) {
        drain_pipes();  // keep the pipes from filling while we wait
        const pid_t done = waitpid(pid_, &raw_status, WNOHANG);
        if (done == pid_) break;
        if (std::chrono::steady_clock::now() >= deadline) {
            ::kill(pid_, SIGKILL);
            waitpid(pid_, &raw_status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // The write ends may live on in grandchildren: read only what is there.
    drain_pipes();
    reaped_ = true;
    status_ = WIFEXITED(raw_status) ? WEXITSTATUS(raw_status) : 128 + WTERMSIG(raw_status);
    return status_;
}

std::vector<std::string> ChildProcess::out_lines() const {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < out_.size()) {
        const auto end = out_.find('\n', start);
        if (end == std::string::npos) {
            lines.push_back(out_.substr(start));
            break;
        }
        lines.push_back(out_.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

CommandResult run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
    ChildProcess child(std::move(argv));
    const int status = child.wait(timeout);
    return {status, child.out(), child.err()};
}

}  // namespace connsnoop::testing

// Test support: child processes with captured output, killed and reaped on
// destruction so a failing test leaves nothing running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace connsnoop::testing {

class ChildProcess {
public:
    // Starts argv[0] (looked up in PATH) with stdout and stderr captured.
    explicit ChildProcess(std::vector<std::string> argv);
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ChildProcess(ChildProcess&& other) noexcept;
    ChildProcess& operator=(ChildProcess&&) = delete;
    ~ChildProcess();

    [[nodiscard]] pid_t pid() const { return pid_; }
    // Reads stderr until a line contains `needle`; false on timeout or EOF.
    bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout);
    // Reads stdout until a line contains `needle`; false on timeout or EOF.
    bool wait_for_stdout(const std::string& needle, std::chrono::milliseconds timeout);
    void send_signal(int signal_number) const;
    // Waits for exit (killing it after `timeout`), drains both pipes, returns the exit status
    // (the exit code, or 128 + signal).
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));

    [[nodiscard]] const std::string& out() const { return out_; }
    [[nodiscard]] const std::string& err() const { return err_; }
    [[nodiscard]] std::vector<std::string> out_lines() const;

private:
    bool read_until(int fd, std::string& buffer, const std::string& needle, std::chrono::milliseconds timeout);
    void drain_pipes();

    pid_t pid_ = -1;
    int out_fd_ = -1;
    int err_fd_ = -1;
    bool reaped_ = false;
    int status_ = 0;
    std::string out_;
    std::string err_;
};

// Runs a command to completion; returns its exit status and output.
struct CommandResult {
    int status;
    std::string out;
    std::string err;
};
CommandResult run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace connsnoop::testing

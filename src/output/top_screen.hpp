// The full-screen view of `connsnoop top` (ncurses). Owning a TopScreen
// means the terminal is in curses mode; destroying it restores the terminal,
// whatever ended the run (q, Ctrl-C, SIGTERM, --duration, an error).
#pragma once

#include <memory>
#include <string>

#include "output/top_format.hpp"
#include "util/result.hpp"

namespace connsnoop {

enum class TopCommand { none, quit, next_sort, next_grouping, redraw };

class TopScreen {
public:
    // Takes over the terminal on stdout/stdin.
    static Result<std::unique_ptr<TopScreen>> open();
    TopScreen(const TopScreen&) = delete;
    TopScreen& operator=(const TopScreen&) = delete;
    ~TopScreen();

    // Redraws everything: status lines, the column header, as many rows as fit.
    // `notice` is the latest alert, shown under the status line.
    void draw(const IntervalReport& report, const std::string& notice);
    // The next key pressed, without waiting.
    TopCommand read_command();

private:
    struct Terminal;
    explicit TopScreen(std::unique_ptr<Terminal> terminal);
    std::unique_ptr<Terminal> terminal_;
};

}  // namespace connsnoop

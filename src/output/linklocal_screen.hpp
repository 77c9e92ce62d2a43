// The full-screen view of `connsnoop linklocal` (ncurses): the lines
// format_linklocal_block makes, redrawn each interval. Owning one means the
// terminal is in curses mode; destroying it restores the terminal.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace connsnoop {

class CursesTerminal;

enum class LinklocalKey { none, quit, next_grouping, redraw };

class LinklocalScreen {
public:
    // Takes over the terminal on stdout/stdin (checked first with TopScreen::check_terminal).
    static Result<std::unique_ptr<LinklocalScreen>> open();
    LinklocalScreen(const LinklocalScreen&) = delete;
    LinklocalScreen& operator=(const LinklocalScreen&) = delete;
    ~LinklocalScreen();

    [[nodiscard]] std::size_t width() const;
    // Lines already escaped and cut to width(); the last is the key hint.
    void draw(const std::vector<std::string>& lines);
    [[nodiscard]] LinklocalKey read_key();
    // What was last shown, to print once the screen is gone.
    [[nodiscard]] const std::vector<std::string>& last_lines() const { return shown_; }

private:
    explicit LinklocalScreen(std::unique_ptr<CursesTerminal> terminal);
    std::unique_ptr<CursesTerminal> terminal_;
    std::vector<std::string> shown_;
};

}  // namespace connsnoop

// The terminal on stdout/stdin in curses mode, for the full-screen views
// (top, linklocal). Owning one means curses drives the terminal; destroying
// it restores the terminal. Only the screens' .cpp files include this header:
// it brings in <curses.h> and its macros.
#pragma once

#include <curses.h>

#include <memory>
#include <string>

#include "util/result.hpp"

namespace connsnoop {

class CursesTerminal {
public:
    // Keys are read at once, unechoed and without waiting; no cursor shown.
    // `plain_output_hint` says what to run instead when curses cannot drive
    // the terminal.
    static Result<std::unique_ptr<CursesTerminal>> open(const std::string& plain_output_hint);
    CursesTerminal(const CursesTerminal&) = delete;
    CursesTerminal& operator=(const CursesTerminal&) = delete;
    ~CursesTerminal();

private:
    explicit CursesTerminal(SCREEN* screen) : screen_(screen) {}
    SCREEN* screen_;
};

}  // namespace connsnoop

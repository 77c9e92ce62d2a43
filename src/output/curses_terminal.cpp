#include "output/curses_terminal.hpp"

#include <langinfo.h>

#include <clocale>
#include <cstdlib>
#include <string_view>

namespace connsnoop {

Result<std::unique_ptr<CursesTerminal>> CursesTerminal::open(const std::string& plain_output_hint) {
    // Everything shown is UTF-8 (escape_for_terminal makes it so): curses must
    // know, or it draws "…" and every non-ASCII character as M-x escapes.
    // Without a UTF-8 locale (LANG unset under sudo, say) C.UTF-8 is used.
    std::setlocale(LC_CTYPE, "");
    if (std::string_view(nl_langinfo(CODESET)) != "UTF-8") std::setlocale(LC_CTYPE, "C.UTF-8");
    SCREEN* screen = newterm(nullptr, stdout, stdin);
    if (screen == nullptr) {
        const char* term = std::getenv("TERM");
        return Error{std::string("cannot drive the terminal (TERM=") + (term ? term : "unset") + ")",
                     plain_output_hint};
    }
    cbreak();  // keys at once; Ctrl-C still raises SIGINT, which ends the run and restores the terminal
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    return std::unique_ptr<CursesTerminal>(new CursesTerminal(screen));
}

CursesTerminal::~CursesTerminal() {
    endwin();
    delscreen(screen_);
}

}  // namespace connsnoop

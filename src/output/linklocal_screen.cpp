#include "output/linklocal_screen.hpp"

#include <curses.h>

#include "output/curses_terminal.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"

namespace connsnoop {

namespace {
constexpr const char* kKeyHint = "g grouping  q quit";
constexpr int kCtrlL = 12;
}  // namespace

Result<std::unique_ptr<LinklocalScreen>> LinklocalScreen::open() {
    auto terminal = CursesTerminal::open("for a block every interval use `connsnoop linklocal | cat`, or -o json");
    if (!terminal) return terminal.error();
    return std::unique_ptr<LinklocalScreen>(new LinklocalScreen(std::move(terminal).value()));
}

LinklocalScreen::LinklocalScreen(std::unique_ptr<CursesTerminal> terminal) : terminal_(std::move(terminal)) {}

LinklocalScreen::~LinklocalScreen() = default;

std::size_t LinklocalScreen::width() const { return static_cast<std::size_t>(COLS > 0 ? COLS : 80); }

void LinklocalScreen::draw(const std::vector<std::string>& lines) {
    shown_ = lines;
    erase();
    const int rows = LINES;
    for (int y = 0; y + 1 < rows && static_cast<std::size_t>(y) < lines.size(); ++y) {
        attrset(y == 0 || y == 3 ? A_BOLD : A_NORMAL);
        mvaddstr(y, 0, std::string(fit_to_width(lines[static_cast<std::size_t>(y)], width())).c_str());
    }
    attrset(A_REVERSE);
    mvaddstr(rows - 1, 0, std::string(fit_to_width(kKeyHint, width())).c_str());
    attrset(A_NORMAL);
    refresh();
}

LinklocalKey LinklocalScreen::read_key() {
    const int key = getch();
    if (key == ERR) return LinklocalKey::none;
    if (key == 'q' || key == 'Q') return LinklocalKey::quit;
    if (key == 'g') return LinklocalKey::next_grouping;
    if (key == KEY_RESIZE || key == kCtrlL) {
        clearok(stdscr, TRUE);
        return LinklocalKey::redraw;
    }
    return LinklocalKey::none;
}

}  // namespace connsnoop

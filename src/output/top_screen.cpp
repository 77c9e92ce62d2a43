#include "output/top_screen.hpp"

#include <curses.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>

#include "output/escape.hpp"

namespace connsnoop {

struct TopScreen::Terminal {
    SCREEN* screen = nullptr;
};

namespace {

constexpr const char* kTerminfoDirs = "/etc/terminfo:/lib/terminfo:/usr/share/terminfo";
constexpr const char* kKeyHelp = "keys: s sort column  g grouping  q quit";

// One line, cut to the screen's width; text is already escaped.
void put_line(int y, const std::string& text, attr_t attributes = A_NORMAL, bool fill = false) {
    if (y >= LINES) return;
    const auto width = static_cast<std::size_t>(COLS);
    std::string line(fit_to_width(text, width));
    if (fill && display_width(line) < width) line.append(width - display_width(line), ' ');
    attrset(attributes);
    mvaddstr(y, 0, line.c_str());
    attrset(A_NORMAL);
}

}  // namespace

Result<std::unique_ptr<TopScreen>> TopScreen::open() {
    // Multibyte (UTF-8) command lines need the user's character set.
    std::setlocale(LC_CTYPE, "");
    const char* term = std::getenv("TERM");
    if (term == nullptr || *term == '\0') {
        return Error{"cannot drive the terminal: TERM is not set",
                     "set TERM to your terminal's type, or use connsnoop top -o json, or pipe the output "
                     "(connsnoop top | cat) for summary blocks"};
    }
    // The release binary is static: its ncurses reads the host's terminfo
    // files, from the places distributions keep them, unless the user chose.
    setenv("TERMINFO_DIRS", kTerminfoDirs, /*overwrite=*/0);
    auto terminal = std::make_unique<Terminal>();
    terminal->screen = newterm(nullptr, stdout, stdin);
    if (terminal->screen == nullptr) {
        return Error{std::string("cannot drive the terminal: no usable terminfo description of TERM=") +
                         escape_for_terminal(term) + " (searched $TERMINFO, ~/.terminfo, " +
                         std::getenv("TERMINFO_DIRS") + ")",
                     "install the terminfo files (ncurses-base or ncurses-term), set TERMINFO to their directory, "
                     "or use connsnoop top -o json, or pipe the output (connsnoop top | cat) for summary blocks"};
    }
    cbreak();  // keys at once; Ctrl-C still raises SIGINT, which ends the run and restores the terminal
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    return std::unique_ptr<TopScreen>(new TopScreen(std::move(terminal)));
}

TopScreen::TopScreen(std::unique_ptr<Terminal> terminal) : terminal_(std::move(terminal)) {}

TopScreen::~TopScreen() {
    endwin();
    delscreen(terminal_->screen);
}

void TopScreen::draw(const IntervalReport& report, const std::string& notice) {
    erase();
    put_line(0, "connsnoop top: " + format_report_status(report), report.lost != 0 ? A_BOLD : A_NORMAL);
    put_line(1, notice.empty() ? kKeyHelp : notice, notice.empty() ? A_DIM : A_BOLD);
    put_line(3, format_top_header(report.group_by, report.sort), A_REVERSE, true);
    int y = 4;
    for (std::size_t i = 0; i < report.rows.size() && y < LINES; ++i, ++y) {
        const bool alerting = i < report.alerting.size() && report.alerting[i];
        put_line(y, format_top_row(report.rows[i], report.group_by, alerting), alerting ? A_BOLD : A_NORMAL);
    }
    refresh();
}

TopCommand TopScreen::read_command() {
    const int key = getch();
    switch (key) {
        case 'q':
        case 'Q':
            return TopCommand::quit;
        case 's':
        case 'S':
            return TopCommand::next_sort;
        case 'g':
        case 'G':
            return TopCommand::next_grouping;
        case KEY_RESIZE:
        case 12:  // Ctrl-L
            return TopCommand::redraw;
        default:
            return TopCommand::none;
    }
}

}  // namespace connsnoop

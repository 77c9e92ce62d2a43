#include "output/top_screen.hpp"

#include <curses.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "output/curses_terminal.hpp"
#include "output/display_width.hpp"
#include "output/escape.hpp"

// Last: its capability macros (lines, columns, ...) would rename everything after it.
#include <term.h>

namespace connsnoop {

namespace {

// Where distributions keep terminfo; the static release binary's ncurses
// looks there unless the user chose (TERMINFO_DIRS, TERMINFO, ~/.terminfo).
constexpr const char* kTerminfoDirs = "/etc/terminfo:/lib/terminfo:/usr/share/terminfo";
constexpr int kHeaderLines = 4;  // status, notice, state, column titles
constexpr const char* kKeyHint = "? help  Enter details  / filter  s sort  r reverse  g grouping  p pause  q quit";
// What to run instead, for the view that could not be drawn ("top", "linklocal").
std::string plain_output_hint(std::string_view view) {
    return fmt::format(
        "for a summary every interval use `connsnoop {0} | cat`, or `connsnoop {0} -o json` for one "
        "JSON record each",
        view);
}
constexpr int kEscape = 27;
constexpr int kCtrlL = 12;

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

bool contains_ignoring_case(std::string_view text, std::string_view part) {
    return std::search(text.begin(), text.end(), part.begin(), part.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           }) != text.end();
}

bool is_enter(int key) { return key == '\n' || key == '\r' || key == KEY_ENTER; }
bool is_backspace(int key) { return key == KEY_BACKSPACE || key == 127 || key == 8; }

}  // namespace

Status TopScreen::check_terminal(std::string_view view) {
    const std::string cannot = "cannot draw the " + std::string(view) + " view: ";
    const char* term = std::getenv("TERM");
    const std::string name = term != nullptr ? term : "";
    if (name.empty()) {
        return Error{cannot + "TERM is not set", plain_output_hint(view)};
    }
    setenv("TERMINFO_DIRS", kTerminfoDirs, /*overwrite=*/0);
    const char* dirs = std::getenv("TERMINFO_DIRS");
    const std::string terminfo_dirs = dirs != nullptr ? dirs : kTerminfoDirs;
    int error = 0;
    if (setupterm(nullptr, STDOUT_FILENO, &error) != OK) {
        return Error{cannot + "no terminfo entry for TERM=" + escape_for_terminal(name) +
                         " (searched $TERMINFO, ~/.terminfo, " + terminfo_dirs + ")",
                     plain_output_hint(view)};
    }
    // A terminal that cannot move the cursor (dumb, hard-copy) cannot redraw a screen.
    const char* move = tigetstr(const_cast<char*>("cup"));
    // (char*)-1 is tigetstr's documented answer for "not a string capability".
    const char* not_a_string = reinterpret_cast<char*>(-1);  // NOLINT(performance-no-int-to-ptr)
    const bool usable = move != nullptr && move != not_a_string && tigetflag(const_cast<char*>("hc")) <= 0 &&
                        tigetflag(const_cast<char*>("gn")) <= 0;
    del_curterm(cur_term);
    if (!usable) return Error{cannot + "TERM=" + name + " cannot move the cursor", plain_output_hint(view)};
    return Ok{};
}

Result<std::unique_ptr<TopScreen>> TopScreen::open() {
    auto terminal = CursesTerminal::open(plain_output_hint("top"));
    if (!terminal) return terminal.error();
    set_escdelay(25);  // Esc closes the detail view at once, not after a second
    return std::unique_ptr<TopScreen>(new TopScreen(std::move(terminal).value()));
}

TopScreen::TopScreen(std::unique_ptr<CursesTerminal> terminal) : terminal_(std::move(terminal)) {}

TopScreen::~TopScreen() = default;

void TopScreen::draw(IntervalReport report, const std::string& notice) {
    if (paused_) {
        shown_.detail = std::move(report.detail);  // the details opened while paused
    } else {
        shown_ = std::move(report);
        notice_ = notice;
    }
    render();
}

std::vector<std::size_t> TopScreen::visible_rows() const {
    std::vector<std::size_t> indexes;
    for (std::size_t i = 0; i < shown_.rows.size(); ++i) {
        const auto& row = shown_.rows[i];
        if (filter_.empty() || contains_ignoring_case(row.key, filter_) || contains_ignoring_case(row.label, filter_) ||
            contains_ignoring_case(row.destination, filter_)) {
            indexes.push_back(i);
        }
    }
    return indexes;
}

int TopScreen::page_height() const { return std::max(1, LINES - kHeaderLines); }

TopCommand TopScreen::read_command() {
    const int key = getch();
    if (key == ERR) return TopCommand::none;
    if (key == KEY_RESIZE || key == kCtrlL) {
        clearok(stdscr, TRUE);
        return TopCommand::redraw;
    }
    switch (mode_) {
        case Mode::filter_input:
            return handle_filter_key(key);
        case Mode::help:
            if (key == 'q' || key == 'Q') return TopCommand::quit;
            mode_ = Mode::list;  // any other key: back
            return TopCommand::redraw;
        case Mode::detail:
            return handle_detail_key(key);
        case Mode::list:
            break;
    }
    return handle_list_key(key);
}

TopCommand TopScreen::handle_list_key(int key) {
    const std::size_t rows = visible_rows().size();
    const auto page = static_cast<std::size_t>(page_height());
    switch (key) {
        case 'q':
        case 'Q':
            return TopCommand::quit;
        case 's':
        case 'S':
            return TopCommand::next_sort;
        case 'r':
        case 'R':
            return TopCommand::reverse_sort;
        case 'g':
        case 'G':
            selected_ = first_ = 0;
            return TopCommand::next_grouping;
        case 'p':
        case 'P':
            paused_ = !paused_;
            return TopCommand::redraw;
        case '?':
        case 'h':
            mode_ = Mode::help;
            return TopCommand::redraw;
        case '/':
            mode_ = Mode::filter_input;
            return TopCommand::redraw;
        case KEY_UP:
        case 'k':
            selected_ = selected_ > 0 ? selected_ - 1 : 0;
            return TopCommand::redraw;
        case KEY_DOWN:
        case 'j':
            selected_ = rows == 0 ? 0 : std::min(selected_ + 1, rows - 1);
            return TopCommand::redraw;
        case KEY_PPAGE:
            selected_ = selected_ > page ? selected_ - page : 0;
            first_ = first_ > page ? first_ - page : 0;
            return TopCommand::redraw;
        case KEY_NPAGE:
            selected_ = rows == 0 ? 0 : std::min(selected_ + page, rows - 1);
            first_ += page;
            return TopCommand::redraw;
        case KEY_HOME:
            selected_ = 0;
            return TopCommand::redraw;
        case KEY_END:
            selected_ = rows == 0 ? 0 : rows - 1;
            return TopCommand::redraw;
        case kEscape:
            filter_.clear();
            return TopCommand::redraw;
        default:
            break;
    }
    if (is_enter(key)) {
        const auto visible = visible_rows();
        if (selected_ < visible.size()) {
            detail_key_ = shown_.rows[visible[selected_]].key;
            detail_first_ = 0;
            mode_ = Mode::detail;
        }
        return TopCommand::redraw;
    }
    return TopCommand::none;
}

TopCommand TopScreen::handle_filter_key(int key) {
    // The rows narrow as the filter is typed.
    if (is_enter(key)) {
        mode_ = Mode::list;
    } else if (key == kEscape) {
        filter_.clear();
        mode_ = Mode::list;
    } else if (is_backspace(key)) {
        if (!filter_.empty()) filter_.pop_back();
    } else if (key >= 0x20 && key < 0x7F) {
        filter_ += static_cast<char>(key);
    } else {
        return TopCommand::none;
    }
    selected_ = first_ = 0;
    return TopCommand::redraw;
}

TopCommand TopScreen::handle_detail_key(int key) {
    if (key == 'q' || key == 'Q') return TopCommand::quit;
    if (key == kEscape || is_enter(key) || is_backspace(key) || key == KEY_LEFT) {
        mode_ = Mode::list;
        detail_key_.reset();
        shown_.detail.reset();
        return TopCommand::redraw;
    }
    const auto page = static_cast<std::size_t>(std::max(1, LINES - 2));
    if (key == KEY_DOWN || key == 'j')
        ++detail_first_;
    else if (key == KEY_UP || key == 'k')
        detail_first_ = detail_first_ > 0 ? detail_first_ - 1 : 0;
    else if (key == KEY_NPAGE)
        detail_first_ += page;
    else if (key == KEY_PPAGE)
        detail_first_ = detail_first_ > page ? detail_first_ - page : 0;
    else if (key == KEY_HOME)
        detail_first_ = 0;
    else if (key == 'p' || key == 'P')
        paused_ = !paused_;
    else
        return TopCommand::none;
    return TopCommand::redraw;  // render() keeps detail_first_ within the text
}

void TopScreen::render() {
    erase();
    switch (mode_) {
        case Mode::list:
        case Mode::filter_input:
            render_list();
            break;
        case Mode::detail:
            render_detail();
            break;
        case Mode::help:
            render_help();
            break;
    }
    refresh();
}

void TopScreen::render_list() {
    const auto width = static_cast<std::size_t>(std::max(COLS, 1));
    // The name goes first when the status would not fit: the loss at its end matters more.
    const std::string status = format_report_status(shown_);
    const std::string titled = "connsnoop top: " + status;
    put_line(0, display_width(titled) <= width ? titled : status, shown_.lost != 0 ? A_BOLD : A_NORMAL);
    put_line(1, notice_.empty() ? kKeyHint : notice_, notice_.empty() ? A_DIM : A_BOLD);

    const auto visible = visible_rows();
    std::string state;
    if (paused_) state += "PAUSED (p resumes)  ";
    if (mode_ == Mode::filter_input) {
        state += "filter: " + escape_for_terminal(filter_) + "_  (Enter: apply, Esc: clear)";
    } else if (!filter_.empty()) {
        state += "filter: " + escape_for_terminal(filter_) +
                 fmt::format("  ({} of {} rows; / edits, Esc clears)", visible.size(), shown_.rows.size());
    }
    put_line(2, state, A_BOLD);

    IntervalReport fitted;  // the layout adapts to the rows on screen and the width
    fitted.group_by = shown_.group_by;
    fitted.sort = shown_.sort;
    fitted.outcomes = shown_.outcomes;
    const auto page = static_cast<std::size_t>(page_height());
    if (!visible.empty()) selected_ = std::min(selected_, visible.size() - 1);
    if (selected_ < first_) first_ = selected_;
    if (selected_ >= first_ + page) first_ = selected_ - page + 1;
    first_ = std::min(first_, visible.size() > page ? visible.size() - page : 0);
    for (std::size_t i = first_; i < visible.size() && i < first_ + page; ++i) {
        fitted.rows.push_back(shown_.rows[visible[i]]);
    }
    const TopLayout layout = layout_top_columns(fitted, width);
    put_line(3, format_top_header(layout), A_REVERSE, true);
    for (std::size_t i = first_; i < visible.size() && i < first_ + page; ++i) {
        const std::size_t index = visible[i];
        const bool alerting = index < shown_.alerting.size() && shown_.alerting[index];
        attr_t attributes = alerting ? A_BOLD : A_NORMAL;
        if (i == selected_) attributes |= A_REVERSE;
        put_line(kHeaderLines + static_cast<int>(i - first_), format_top_row(layout, shown_.rows[index], alerting),
                 attributes, i == selected_);
    }
}

void TopScreen::render_detail() {
    const auto width = static_cast<std::size_t>(std::max(COLS, 1));
    put_line(0,
             "connsnoop top: details" + std::string(paused_ ? " (PAUSED)" : "") +
                 "  (Esc or Enter: back, arrows scroll, q quits)",
             A_REVERSE, true);
    std::vector<std::string> text;
    if (shown_.detail) {
        text = format_detail_lines(*shown_.detail, shown_.group_by, shown_.time, shown_.outcomes, width);
    } else {
        text = {"This group is gone: idle too long, or dropped to bound memory."};
    }
    const auto room = static_cast<std::size_t>(std::max(1, LINES - 2));
    detail_first_ = std::min(detail_first_, text.size() > room ? text.size() - room : 0);
    for (std::size_t i = detail_first_; i < text.size() && i < detail_first_ + room; ++i) {
        put_line(2 + static_cast<int>(i - detail_first_), text[i]);
    }
}

void TopScreen::render_help() {
    put_line(0, "connsnoop top: help  (any key: back)", A_REVERSE, true);
    int y = 2;
    for (const auto& line : format_help_lines()) put_line(y++, line);
}

std::vector<std::string> TopScreen::final_ranking() const {
    // As many rows as leave room for the shell's prompt and the run's summary line.
    IntervalReport ranking = shown_;
    const auto visible = visible_rows();
    ranking.rows.clear();
    ranking.alerting.clear();
    const auto room = static_cast<std::size_t>(std::max(1, LINES - 5));
    for (std::size_t i = 0; i < visible.size() && i < room; ++i) {
        ranking.rows.push_back(shown_.rows[visible[i]]);
        ranking.alerting.push_back(visible[i] < shown_.alerting.size() && shown_.alerting[visible[i]]);
    }
    auto block = format_report_block(ranking, static_cast<std::size_t>(std::max(COLS, 1)));
    block.pop_back();  // the block's empty line
    return block;
}

}  // namespace connsnoop

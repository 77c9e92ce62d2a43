// The full-screen view of `connsnoop top` (ncurses). Owning a TopScreen
// means the terminal is in curses mode; destroying it restores the terminal,
// whatever ended the run (q, Ctrl-C, SIGTERM, --duration, an error).
//
// The screen keeps what only the view needs: the selection and scrolling,
// the filter, pause, and the detail and help screens. The session keeps
// what decides the report: the grouping and the sort.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output/top_format.hpp"
#include "util/result.hpp"

namespace connsnoop {

class CursesTerminal;

// What the session must act on; keys the view handles itself give `redraw`.
enum class TopCommand { none, quit, next_sort, reverse_sort, next_grouping, redraw };

class TopScreen {
public:
    // Whether the terminal on stdout can show the view (TERM names a
    // terminfo entry that can move the cursor). Checked before tracing starts.
    static Status check_terminal(std::string_view view);
    // Takes over the terminal on stdout/stdin.
    static Result<std::unique_ptr<TopScreen>> open();
    TopScreen(const TopScreen&) = delete;
    TopScreen& operator=(const TopScreen&) = delete;
    ~TopScreen();

    // Shows `report` (every row, sorted; while paused only its detail is
    // taken). `notice` is the latest alert, shown under the status line.
    void draw(IntervalReport report, const std::string& notice);
    // The next key pressed, without waiting.
    TopCommand read_command();
    // The group whose details are open: the session puts them in report.detail.
    [[nodiscard]] const std::optional<std::string>& detail_key() const { return detail_key_; }
    // The ranking last shown, as plain lines that fit the terminal, to print
    // once the screen is gone.
    [[nodiscard]] std::vector<std::string> final_ranking() const;

private:
    enum class Mode { list, detail, help, filter_input };
    explicit TopScreen(std::unique_ptr<CursesTerminal> terminal);

    [[nodiscard]] std::vector<std::size_t> visible_rows() const;  // indexes into shown_.rows passing the filter
    [[nodiscard]] int page_height() const;
    TopCommand handle_list_key(int key);
    TopCommand handle_filter_key(int key);
    TopCommand handle_detail_key(int key);
    void render();
    void render_list();
    void render_detail();
    void render_help();

    std::unique_ptr<CursesTerminal> terminal_;
    IntervalReport shown_;
    std::string notice_;
    Mode mode_ = Mode::list;
    bool paused_ = false;
    std::string filter_;
    std::size_t selected_ = 0;  // among the visible rows
    std::size_t first_ = 0;     // the visible row at the top of the list
    std::size_t detail_first_ = 0;
    std::optional<std::string> detail_key_;
};

}  // namespace connsnoop

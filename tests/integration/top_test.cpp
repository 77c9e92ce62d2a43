// Root tests of `connsnoop top` and --alert: clients at clearly different
// rates against the stand-in server in a private network namespace.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "connsnoop_runner.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A client making `count` connections at `rate` per second; its command line
// names both, so each client is a group of its own.
struct Client {
    int count;
    int rate;
    [[nodiscard]] std::string tag() const {
        return "connect_loop.py " + std::to_string(count) + " " + std::to_string(rate) + " ";
    }
};
constexpr Client kFast{600, 200};
constexpr Client kMedium{60, 20};
constexpr Client kSlow{6, 2};
constexpr Client kFlood{10'000, 0};  // as fast as it can

struct FloodResult {
    std::uint64_t counted = 0;  // attempts in the rows of the final interval
    std::uint64_t lost = 0;     // as the final interval reports it
    std::vector<std::uint64_t> per_client;
};

class TopTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() != 0) return;
        namespace_ = std::make_unique<NetworkNamespace>("connsnoop-top");
        server_ = start_standin_server(*namespace_, {"169.254.169.254:80"});
    }
    static void TearDownTestSuite() {
        server_.reset();
        namespace_.reset();
    }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    static ChildProcess start_client(const Client& client, const std::string& port = "80") {
        return ChildProcess(
            namespace_->exec({"python3", support_dir() + "/connect_loop.py", std::to_string(client.count),
                              std::to_string(client.rate), kImdsV4, port}));
    }

    // Runs the three clients at once, to the end.
    static void run_three_clients() {
        std::vector<ChildProcess> clients;
        for (const auto& client : {kFast, kMedium, kSlow}) clients.push_back(start_client(client));
        for (auto& client : clients) {
            EXPECT_EQ(client.wait(30s), 0) << client.err();
            EXPECT_NE(client.out().find("done"), std::string::npos) << client.err();
        }
    }

    // Refused connections (nothing listens on port 81) are the fastest attempts
    // this machine can make: two processes connect at full speed, grouped by PID.
    static FloodResult flood(const std::string& ringbuf_size) {
        auto tracer = start_connsnoop({"top", "--dst", kImdsV4, "--port", "81", "--by", "pid", "-o", "json", "--rows",
                                       "0", "--ringbuf-size", ringbuf_size});
        std::vector<ChildProcess> clients;
        clients.push_back(start_client(kFlood, "81"));
        clients.push_back(start_client(kFlood, "81"));
        for (auto& client : clients) EXPECT_EQ(client.wait(60s), 0) << client.err();
        std::this_thread::sleep_for(300ms);
        const auto records = stop_and_parse(tracer);

        FloodResult result;
        if (records.size() < 2) {
            ADD_FAILURE() << tracer.out();
            return result;
        }
        const auto& summary = records.back();
        const auto& final_report = records[records.size() - 2];
        EXPECT_EQ(summary["type"], "summary");
        EXPECT_EQ(final_report["type"], "interval");
        EXPECT_EQ(final_report["group_by"], "pid");
        result.lost = final_report["lost"];
        EXPECT_EQ(result.lost, summary["lost"]);
        for (const auto& client : clients) {
            const auto pid = client.pid();  // a number, as pid is everywhere else
            const auto& rows = final_report["rows"];
            const auto row = std::find_if(rows.begin(), rows.end(), [&](const json& r) { return r["key"] == pid; });
            if (row == rows.end()) {
                ADD_FAILURE() << "no row for pid " << pid << ": " << final_report.dump();
                continue;
            }
            result.per_client.push_back((*row)["attempts"]);
            result.counted += result.per_client.back();
        }
        std::cerr << "[ flood    ] " << 2 * kFlood.count << " connects in " << summary["duration_s"]
                  << " s of tracing, ring buffer " << ringbuf_size << ": " << result.lost << " lost\n";
        return result;
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
    static inline std::unique_ptr<ChildProcess> server_;
};

// The row of `client` in an interval record, or nullptr.
const json* row_of(const json& interval, const Client& client) {
    for (const auto& row : interval["rows"]) {
        if (row["key"].get<std::string>().find(client.tag()) != std::string::npos) return &row;
    }
    return nullptr;
}

TEST_F(TopTest, RanksByCurrentRateCountsEveryConnectionAndAlertsOnlyOnTheFastClient) {
    auto tracer = start_connsnoop({"top", "--imds", "-o", "json", "--interval", "0.5", "--alert", "100"});
    run_three_clients();
    std::this_thread::sleep_for(1500ms);  // the fast client's rate falls back: its alert resolves
    const auto records = stop_and_parse(tracer);

    std::vector<json> intervals;
    std::vector<json> alerts;
    for (const auto& record : records) {
        if (record["type"] == "interval") intervals.push_back(record);
        if (record["type"] == "alert") alerts.push_back(record);
    }
    ASSERT_GE(intervals.size(), 4U) << tracer.out();
    const auto& final_report = intervals.back();
    EXPECT_EQ(final_report["final"], true);
    EXPECT_EQ(final_report["lost"], 0);
    EXPECT_EQ(final_report["group_by"], "command");
    EXPECT_EQ(final_report["events"], kFast.count + kMedium.count + kSlow.count) << final_report.dump();
    for (const auto& client : {kFast, kMedium, kSlow}) {
        const json* row = row_of(final_report, client);
        ASSERT_NE(row, nullptr) << client.tag() << " missing: " << final_report.dump();
        EXPECT_EQ((*row)["attempts"], client.count) << client.tag();
        EXPECT_TRUE((*row)["failures"].is_null());  // no outcome data yet: unknown, not 0
        EXPECT_TRUE((*row)["latency_p99_ms"].is_null());
    }

    // While all three ran, rows are in the order of their current rates.
    bool ranked_while_running = false;
    for (const auto& interval : intervals) {
        const json* fast = row_of(interval, kFast);
        if (fast == nullptr || (*fast)["attempts"] < 100 || (*fast)["attempts"] >= kFast.count) continue;
        const auto& rows = interval["rows"];
        ASSERT_GE(rows.size(), 3U) << interval.dump();
        EXPECT_EQ(&rows[0], fast) << interval.dump();
        EXPECT_EQ(&rows[1], row_of(interval, kMedium)) << interval.dump();
        EXPECT_EQ(&rows[2], row_of(interval, kSlow)) << interval.dump();
        EXPECT_GT(rows[0]["rate_1s"], rows[1]["rate_1s"]);
        EXPECT_GT(rows[1]["rate_1s"], rows[2]["rate_1s"]);
        ranked_while_running = true;
    }
    EXPECT_TRUE(ranked_while_running) << tracer.out();

    // Only the fast client alerts: firing first, resolved last (a scheduling
    // stall on a busy machine may add a resolved/firing pair in between).
    ASSERT_GE(alerts.size(), 2U) << tracer.out();
    ASSERT_EQ(alerts.size() % 2, 0U) << tracer.out();
    for (std::size_t i = 0; i < alerts.size(); ++i) {
        const auto& alert = alerts[i];
        EXPECT_NE(alert["key"].get<std::string>().find(kFast.tag()), std::string::npos) << alert.dump();
        EXPECT_EQ(alert["threshold"], 100);
        EXPECT_EQ(alert["group_by"], "command");
        if (i % 2 == 0) {
            EXPECT_EQ(alert["state"], "firing") << alert.dump();
            EXPECT_GT(alert["rate"], 100) << alert.dump();
        } else {
            EXPECT_EQ(alert["state"], "resolved") << alert.dump();
            EXPECT_LT(alert["rate"], 80) << alert.dump();
        }
    }
}

TEST_F(TopTest, SummaryBlocksReachAPipeEveryInterval) {
    auto tracer = start_connsnoop({"top", "--imds", "--interval", "0.5"});
    const Client client{5, 50};
    auto running = start_client(client);
    EXPECT_EQ(running.wait(10s), 0) << running.err();
    // connsnoop still runs: a block naming the client is already in the pipe.
    ASSERT_TRUE(tracer.wait_for_stdout("by command, sorted by 1s: 1 group, 5 attempts, 0 lost", 3s)) << tracer.out();
    ASSERT_TRUE(tracer.wait_for_stdout(client.tag(), 1s)) << tracer.out();
    EXPECT_TRUE(tracer.wait_for_stdout("\n\n", 1s)) << tracer.out();  // the block ends with an empty line
    // Without --outcome there are no outcome columns; the destination comes before the command.
    EXPECT_NE(tracer.out().find("RATE1S  RATE10S  RATE60S     TOTAL   LAST  DEST               COMMAND"),
              std::string::npos)
        << tracer.out();
    EXPECT_NE(tracer.out().find(" 169.254.169.254:80 "), std::string::npos) << tracer.out();
    EXPECT_EQ(tracer.out().find("FAILED"), std::string::npos) << tracer.out();
    tracer.send_signal(SIGTERM);
    EXPECT_EQ(tracer.wait(10s), 0) << tracer.err();
    EXPECT_NE(tracer.out().find("(final)"), std::string::npos) << tracer.out();
    EXPECT_NE(tracer.err().find("connsnoop: 5 events, 0 lost"), std::string::npos) << tracer.err();
}

// One pipeline for both modes (issue 13): the stream and top, tracing the
// same workload at once, count the same attempts and the same failures per
// client; top's FAILED column is filled from the outcomes.
TEST_F(TopTest, StreamAndTopCountTheSameTotalsAndFailuresFromTheSameWorkload) {
    const std::vector<std::string> filters = {"--dst", kImdsV4,     "--port", "80",  "--port",
                                              "81",    "--outcome", "-o",     "json"};
    std::vector<std::string> stream_args = filters;
    std::vector<std::string> top_args = {"top", "--rows", "0", "--interval", "0.5"};
    top_args.insert(top_args.end(), filters.begin(), filters.end());
    auto stream = start_connsnoop(stream_args);
    auto top = start_connsnoop(top_args);
    const Client answered{20, 40};
    const Client refused{12, 40};  // nothing listens on port 81
    std::vector<ChildProcess> clients;
    clients.push_back(start_client(answered));
    clients.push_back(start_client(refused, "81"));
    for (auto& client : clients) EXPECT_EQ(client.wait(30s), 0) << client.err();
    std::this_thread::sleep_for(300ms);
    const auto stream_records = stop_and_parse(stream);
    const auto top_records = stop_and_parse(top);

    std::map<std::string, std::pair<int, int>> streamed;  // tag -> attempts, failures
    for (const auto& record : stream_records) {
        if (record["type"] != "connect") continue;
        for (const auto& client : {answered, refused}) {
            if (record["cmdline"].get<std::string>().find(client.tag()) == std::string::npos) continue;
            ++streamed[client.tag()].first;
            if (record["result"] != "established") ++streamed[client.tag()].second;
        }
    }
    EXPECT_EQ(streamed[answered.tag()], std::make_pair(answered.count, 0));
    EXPECT_EQ(streamed[refused.tag()], std::make_pair(refused.count, refused.count));

    ASSERT_GE(top_records.size(), 2U) << top.out();
    const auto& final_report = top_records[top_records.size() - 2];
    ASSERT_EQ(final_report["type"], "interval") << final_report.dump();
    for (const auto& client : {answered, refused}) {
        const json* row = row_of(final_report, client);
        ASSERT_NE(row, nullptr) << final_report.dump();
        EXPECT_EQ((*row)["attempts"], streamed[client.tag()].first) << row->dump();
        EXPECT_EQ((*row)["failures"], streamed[client.tag()].second) << row->dump();
    }
    EXPECT_EQ(top_records.back()["events"], stream_records.back()["events"]);
}

TEST_F(TopTest, AlertsInStreamingModeToo) {
    // Table output keeps the pipe small; the alert line sits among the rows.
    auto tracer = start_connsnoop({"--imds", "--alert", "100", "--wide"});
    std::vector<ChildProcess> clients;
    const Client fast{300, 200};
    const Client slow{20, 10};
    for (const auto& client : {fast, slow}) clients.push_back(start_client(client));
    for (auto& client : clients) EXPECT_EQ(client.wait(30s), 0) << client.err();
    std::this_thread::sleep_for(300ms);
    tracer.send_signal(SIGINT);
    ASSERT_EQ(tracer.wait(10s), 0) << tracer.err();

    std::vector<std::string> alert_lines;
    int fast_rows = 0;
    int slow_rows = 0;
    for (const auto& line : tracer.out_lines()) {
        if (line.find(" ALERT ") != std::string::npos)
            alert_lines.push_back(line);
        else if (line.find(fast.tag()) != std::string::npos)
            ++fast_rows;
        else if (line.find(slow.tag()) != std::string::npos)
            ++slow_rows;
    }
    EXPECT_EQ(fast_rows, fast.count);
    EXPECT_EQ(slow_rows, slow.count);
    ASSERT_GE(alert_lines.size(), 1U) << tracer.out();
    EXPECT_NE(alert_lines[0].find(" ALERT firing command "), std::string::npos) << alert_lines[0];
    EXPECT_NE(alert_lines[0].find(fast.tag()), std::string::npos) << alert_lines[0];
    for (const auto& line : alert_lines) EXPECT_EQ(line.find(slow.tag()), std::string::npos) << line;
}

TEST_F(TopTest, CountsStayExactAtTheHighestConnectRate) {
    const auto result = flood("16M");
    if (result.lost == 0) {
        for (auto attempts : result.per_client) EXPECT_EQ(attempts, kFlood.count);
    }
    // Whatever was lost is shown, and accounts for every missing count.
    EXPECT_EQ(result.counted + result.lost, 2U * kFlood.count);
}

TEST_F(TopTest, LossIsShownAndAccountsForEveryMissingCount) {
    // A 4 KB ring buffer (about 14 records) cannot keep up with the flood.
    // How much it loses depends on how fast the reader is (more than half
    // once, 900-1,000 of 20,000 since #14's second pass): what this test
    // needs is that some is lost, and that every loss is accounted for.
    const auto result = flood("4096");
    EXPECT_GT(result.lost, 0U);
    EXPECT_EQ(result.counted + result.lost, 2U * kFlood.count);
}

// A tmux server of our own (its own socket), killed with everything in it at the end.
class Tmux {
public:
    // A socket of its own per instance: a server still shutting down never answers for the next one.
    Tmux() : socket_("connsnoop-test-" + std::to_string(getpid()) + "-" + std::to_string(next_id_++)) {}
    Tmux(const Tmux&) = delete;
    Tmux& operator=(const Tmux&) = delete;
    ~Tmux() { run_command({"tmux", "-L", socket_, "kill-server"}); }

    CommandResult operator()(std::vector<std::string> args) const {
        args.insert(args.begin(), {"tmux", "-L", socket_});
        return run_command(std::move(args));
    }
    [[nodiscard]] std::vector<std::string> screen() const {
        std::vector<std::string> lines;
        std::istringstream text((*this)({"capture-pane", "-p", "-t", "view"}).out);
        for (std::string line; std::getline(text, line);) lines.push_back(line);
        return lines;
    }
    // Waits until `test` holds for the screen; returns the last screen seen.
    template <typename Test>
    std::vector<std::string> wait_for_screen(Test test, std::chrono::milliseconds timeout) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto lines = screen();
        while (!test(lines) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(100ms);
            lines = screen();
        }
        return lines;
    }

private:
    static inline int next_id_ = 0;
    std::string socket_;
};

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    return text;
}

// After connsnoop, the pane's shell prints its exit code and the terminal modes it left behind.
std::string view_command(const std::string& arguments) {
    std::string scope;
    for (const auto& word : own_namespace_filter()) scope += " " + word;
    return "LANG=C.UTF-8 " + connsnoop_binary() + " top " + arguments + scope +
           " 2>/dev/null; echo EXIT=$?; "
           "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo; sleep 60";
}

// After connsnoop ended: exit 0, the terminal modes back, the live view gone
// (no alternate screen, a cursor), the last ranking printed as plain text.
// Returns what the pane shows.
std::string expect_terminal_restored(const Tmux& tmux) {
    const auto lines = tmux.wait_for_screen(
        [](const auto& screen) { return joined(screen).find("icanon") != std::string::npos; }, 20s);
    const std::string text = joined(lines);
    EXPECT_NE(text.find("EXIT=0"), std::string::npos) << text;
    EXPECT_NE(text.find("icanon echo"), std::string::npos) << text;  // not -icanon / -echo
    EXPECT_EQ(text.find("connsnoop top:"), std::string::npos) << "the view is still on screen: " << text;
    EXPECT_EQ(text.find("? help"), std::string::npos) << "the view is still on screen: " << text;
    EXPECT_EQ(tmux({"display-message", "-p", "-t", "view", "#{alternate_on} #{cursor_flag}"}).out, "0 1\n");
    // The ranking above the exit code: its status line and column titles.
    const auto ranking = text.find(" sorted by ");
    EXPECT_NE(ranking, std::string::npos) << text;
    EXPECT_LT(text.find("COMMAND"), text.find("EXIT=0")) << text;
    return text;
}

constexpr std::size_t kFirstRow = 4;  // status, notice, filter/pause state, column header
constexpr std::size_t kMinCommand = 35;

TEST_F(TopTest, TerminalViewShowsTheFastClientFirstSwitchesGroupingAndRestoresTheTerminal) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    ASSERT_EQ(tmux({"new-session", "-d", "-s", "view", "-x", "200", "-y", "30", view_command("--imds")}).status, 0);
    const Client fast{3000, 200};
    const Client slow{30, 2};
    ChildProcess fast_client = start_client(fast);
    ChildProcess slow_client = start_client(slow);

    auto lines = tmux.wait_for_screen(
        [&](const auto& screen) {
            return screen.size() > kFirstRow + 1 && screen[kFirstRow].find(fast.tag()) != std::string::npos &&
                   screen[kFirstRow + 1].find(slow.tag()) != std::string::npos;
        },
        10s);
    ASSERT_GT(lines.size(), kFirstRow + 1);
    EXPECT_NE(lines[0].find("by command, sorted by 1s"), std::string::npos) << joined(lines);
    EXPECT_NE(lines[kFirstRow - 1].find("RATE1S"), std::string::npos) << joined(lines);
    EXPECT_NE(lines[kFirstRow].find(fast.tag()), std::string::npos) << joined(lines);
    EXPECT_NE(lines[kFirstRow + 1].find(slow.tag()), std::string::npos) << joined(lines);

    // g: group by PID; the fast client's PID is on the top row.
    tmux({"send-keys", "-t", "view", "g"});
    const std::string fast_pid = std::to_string(fast_client.pid());
    lines = tmux.wait_for_screen(
        [&](const auto& screen) {
            return screen.size() > kFirstRow && screen[0].find("by pid") != std::string::npos &&
                   screen[kFirstRow].find(" " + fast_pid + " ") != std::string::npos;
        },
        5s);
    ASSERT_GT(lines.size(), kFirstRow);
    EXPECT_NE(lines[0].find("by pid"), std::string::npos) << joined(lines);
    EXPECT_NE(lines[kFirstRow - 1].find(" PID "), std::string::npos) << joined(lines);
    EXPECT_NE(lines[kFirstRow].find(" " + fast_pid + " "), std::string::npos) << joined(lines);

    // q: connsnoop ends with 0 and leaves the terminal as it found it.
    tmux({"send-keys", "-t", "view", "q"});
    expect_terminal_restored(tmux);
}

// --rows sizes the blocks written to a pipe: on a terminal it would be taken
// and ignored, so it is refused there as a command-line error.
TEST_F(TopTest, RowsOnATerminalIsRefusedWithExitCode2) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    ASSERT_EQ(
        tmux({"new-session", "-d", "-s", "view", "-x", "120", "-y", "20", view_command("--imds --rows 5")}).status, 0);
    const auto lines =
        tmux.wait_for_screen([](const auto& screen) { return joined(screen).find("EXIT=") != std::string::npos; }, 20s);
    EXPECT_NE(joined(lines).find("EXIT=2"), std::string::npos) << joined(lines);
}

TEST_F(TopTest, CtrlCInTheTerminalViewRestoresTheTerminal) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    ASSERT_EQ(
        tmux({"new-session", "-d", "-s", "view", "-x", "120", "-y", "20", view_command("--imds --by pid")}).status, 0);
    const auto lines = tmux.wait_for_screen(
        [](const auto& screen) { return joined(screen).find("RATE1S") != std::string::npos; }, 10s);
    ASSERT_NE(joined(lines).find("by pid"), std::string::npos) << joined(lines);
    tmux({"send-keys", "-t", "view", "C-c"});
    expect_terminal_restored(tmux);
}

TEST_F(TopTest, SigtermToTheTerminalViewRestoresTheTerminal) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    ASSERT_EQ(tmux({"new-session", "-d", "-s", "view", "-x", "120", "-y", "20", view_command("--imds")}).status, 0);
    const auto lines = tmux.wait_for_screen(
        [](const auto& screen) { return joined(screen).find("RATE1S") != std::string::npos; }, 10s);
    ASSERT_NE(joined(lines).find("RATE1S"), std::string::npos) << joined(lines);
    // connsnoop is the only child of the pane's shell.
    const std::string shell = tmux({"display-message", "-p", "-t", "view", "#{pane_pid}"}).out;
    const std::string shell_pid = shell.substr(0, shell.find('\n'));
    std::ifstream children("/proc/" + shell_pid + "/task/" + shell_pid + "/children");
    pid_t connsnoop = 0;
    ASSERT_TRUE(children >> connsnoop) << "no child of the pane's shell " << shell_pid;
    ASSERT_EQ(::kill(connsnoop, SIGTERM), 0);
    expect_terminal_restored(tmux);
}

TEST_F(TopTest, TheTerminalViewRedrawsAtOnceWhenTheWindowIsResized) {
    if (run_command({"tmux", "-V"}).status != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    Tmux tmux;
    // A long interval: whatever changes on screen soon is the resize's doing.
    ASSERT_EQ(
        tmux({"new-session", "-d", "-s", "view", "-x", "50", "-y", "10", view_command("--imds --interval 60")}).status,
        0);
    auto lines = tmux.wait_for_screen(
        [](const auto& screen) { return joined(screen).find("RATE1S") != std::string::npos; }, 10s);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0].find("0 lost"), std::string::npos) << "not cut at 50 columns: " << joined(lines);
    ASSERT_EQ(tmux({"resize-window", "-t", "view", "-x", "150", "-y", "20"}).status, 0);
    lines = tmux.wait_for_screen(
        [](const auto& screen) { return !screen.empty() && screen[0].find("0 lost") != std::string::npos; }, 3s);
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines[0].find("by command, sorted by 1s: 0 groups, 0 attempts, 0 lost"), std::string::npos)
        << joined(lines);
    EXPECT_NE(lines[3].find("LAST  DEST COMMAND"), std::string::npos) << joined(lines);
    tmux({"send-keys", "-t", "view", "q"});
    expect_terminal_restored(tmux);
}

// A process that renamed itself (as workers do) and connects to HOST:PORT
// PER_SECOND times a second for SECONDS: its command line is `title`.
std::vector<std::string> titled_client(const std::string& title, const std::string& host, int port, int per_second,
                                       int seconds) {
    return {"perl",
            "-e",
            "$0 = shift; my ($host, $port, $delay, $seconds) = @ARGV; use IO::Socket::IP; "
            "use Time::HiRes qw(sleep time); my $end = time + $seconds; "
            "while (time < $end) { IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => 'tcp'); "
            "sleep $delay; }",
            title,
            host,
            std::to_string(port),
            std::to_string(1.0 / per_second),
            std::to_string(seconds)};
}

// 90 characters: cut at 80 columns, whole at 160.
const std::string kPollerTitle =
    "metadata-poller --role=web-frontend --endpoint=http://169.254.169.254/latest/meta-data/iam/";
const std::string kRefresherTitle = "cred-refresher --role=batch --endpoint=http://169.254.169.254:81/latest/api/token";

std::string screen_line_with(const std::vector<std::string>& screen, const std::string& part) {
    for (const auto& line : screen) {
        if (line.find(part) != std::string::npos) return line;
    }
    return {};
}

// Columns a UTF-8 line takes (the cut marker is one column, three bytes).
std::size_t columns_of(const std::string& text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The PID of `pid`'s parent, from /proc.
std::string parent_of(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("PPid:", 0) == 0) return std::to_string(std::stoi(line.substr(5)));
    }
    return "(no parent of " + std::to_string(pid) + ")";
}

class TopViewTest : public TopTest {
protected:
    void start_view(const std::string& arguments, int width, int height) {
        ASSERT_EQ(run_command({"tmux", "-V"}).status, 0) << "tmux is not installed (scripts/install-deps.sh)";
        ASSERT_EQ(tmux_({"new-session", "-d", "-s", "view", "-x", std::to_string(width), "-y", std::to_string(height),
                         view_command(arguments)})
                      .status,
                  0);
    }
    // The two renamed clients: 50/s to the stand-in server, 10/s to a port nobody listens on.
    void start_titled_clients() {
        clients_.emplace_back(namespace_->exec(titled_client(kPollerTitle, kImdsV4, 80, 50, 60)));
        clients_.emplace_back(namespace_->exec(titled_client(kRefresherTitle, kImdsV4, 81, 10, 60)));
    }
    std::vector<std::string> wait_for(const std::vector<std::string>& parts, std::chrono::milliseconds timeout = 20s,
                                      const std::vector<std::string>& absent = {}) const {
        return tmux_.wait_for_screen(
            [&](const auto& screen) {
                const std::string text = joined(screen);
                return std::all_of(parts.begin(), parts.end(),
                                   [&](const auto& part) { return text.find(part) != std::string::npos; }) &&
                       std::none_of(absent.begin(), absent.end(),
                                    [&](const auto& part) { return text.find(part) != std::string::npos; });
            },
            timeout);
    }
    void keys(std::vector<std::string> names) const {
        names.insert(names.begin(), {"send-keys", "-t", "view"});
        tmux_(std::move(names));
    }

    Tmux tmux_;
    std::vector<ChildProcess> clients_;
};

// At 80x24 the numbers narrow and give way so that the command line keeps 35
// columns; at 160x48 every column is there at full width.
TEST_F(TopViewTest, ColumnsFitTheTerminalTheCommandKeeps35AndTheDestinationIsShown) {
    for (const auto& [width, height] : {std::pair{80, 24}, std::pair{160, 48}}) {
        SCOPED_TRACE(std::to_string(width) + "x" + std::to_string(height));
        Tmux tmux;
        ASSERT_EQ(tmux({"new-session", "-d", "-s", "view", "-x", std::to_string(width), "-y", std::to_string(height),
                        view_command("--dst 169.254.169.254")})
                      .status,
                  0);
        std::vector<ChildProcess> clients;
        clients.emplace_back(namespace_->exec(titled_client(kPollerTitle, kImdsV4, 80, 50, 30)));
        clients.emplace_back(namespace_->exec(titled_client(kRefresherTitle, kImdsV4, 81, 10, 30)));
        const auto screen = tmux.wait_for_screen(
            [](const auto& lines) {
                const std::string text = joined(lines);
                return text.find("metadata-poller") != std::string::npos &&
                       text.find("cred-refresher") != std::string::npos;
            },
            20s);
        const std::string header = screen.size() > kFirstRow ? screen[kFirstRow - 1] : "";
        const std::string poller = screen_line_with(screen, "metadata-poller");
        const std::string refresher = screen_line_with(screen, "cred-refresher");
        ASSERT_FALSE(poller.empty()) << joined(screen);
        ASSERT_FALSE(refresher.empty()) << joined(screen);
        EXPECT_NE(poller.find(" 169.254.169.254:80 "), std::string::npos) << poller;
        EXPECT_NE(refresher.find(" 169.254.169.254:81 "), std::string::npos) << refresher;
        const auto command_column = header.find("COMMAND");
        ASSERT_NE(command_column, std::string::npos) << header;
        EXPECT_EQ(poller.find("metadata-poller"), command_column) << header << "\n" << poller;
        EXPECT_NE(header.find("DEST"), std::string::npos) << header;
        EXPECT_EQ(header.find("FAIL"), std::string::npos) << "no --outcome: " << header;
        const std::string command = poller.substr(command_column);
        if (width == 80) {
            EXPECT_GE(columns_of(command), kMinCommand) << poller;
            EXPECT_EQ(columns_of(poller), 80U) << poller;
            EXPECT_NE(command.find("…"), std::string::npos) << poller;  // the cut is marked
            EXPECT_NE(header.find("*1S"), std::string::npos) << header;
        } else {
            EXPECT_EQ(command, kPollerTitle) << poller;  // whole
            EXPECT_NE(header.find("*RATE1S  RATE10S  RATE60S     TOTAL   LAST  DEST"), std::string::npos) << header;
        }
        tmux({"send-keys", "-t", "view", "q"});
        const std::string after = expect_terminal_restored(tmux);
        EXPECT_NE(after.find("metadata-poller"), std::string::npos) << "the last ranking stays: " << after;
    }
}

TEST_F(TopViewTest, EnterShowsTheDetailsOfTheSelectedRow) {
    start_view("--dst 169.254.169.254", 100, 40);
    start_titled_clients();
    auto screen = wait_for({"metadata-poller", "cred-refresher"});
    ASSERT_NE(screen.size(), 0U);
    ASSERT_NE(screen[kFirstRow].find("metadata-poller"), std::string::npos) << joined(screen);  // the fastest first
    keys({"Enter"});
    screen = wait_for({"Command line: metadata-poller", "Destinations (attempts):"});
    const std::string text = joined(screen);
    EXPECT_NE(text.find("command metadata-poller --role=web-frontend"), std::string::npos) << text;
    // The full command line, wrapped between words.
    EXPECT_NE(text.find("--endpoint=http://169.254.169.254/latest/meta-data/iam/"), std::string::npos) << text;
    EXPECT_NE(text.find("PIDs seen (latest first): " + std::to_string(clients_[0].pid())), std::string::npos) << text;
    EXPECT_NE(text.find("User: root"), std::string::npos) << text;
    EXPECT_NE(text.find("Parents: " + parent_of(clients_[0].pid())), std::string::npos) << text;
    EXPECT_NE(text.find("Container: -"), std::string::npos) << text;
    EXPECT_NE(text.find("169.254.169.254:80"), std::string::npos) << text;
    EXPECT_EQ(text.find("169.254.169.254:81"), std::string::npos) << "only this group's destinations: " << text;
    EXPECT_NE(text.find("First seen: "), std::string::npos) << text;
    EXPECT_NE(text.find("Last seen: "), std::string::npos) << text;
    EXPECT_NE(text.find("Recent results: not traced (run with --outcome)"), std::string::npos) << text;
    keys({"Escape"});
    wait_for({"connsnoop top:", "metadata-poller", "cred-refresher"}, 10s, {"Command line:"});
    keys({"q"});
    expect_terminal_restored(tmux_);
}

TEST_F(TopViewTest, SlashFiltersRowsQuestionMarkListsTheKeysPPauses) {
    start_view("--dst 169.254.169.254", 160, 48);
    start_titled_clients();
    wait_for({"metadata-poller", "cred-refresher"});
    keys({"/", "c", "r", "e", "d", "-", "r", "e", "f", "Enter"});
    auto screen = wait_for({"filter: cred-ref  (1 of 2 rows"}, 10s, {"metadata-poller"});
    EXPECT_NE(joined(screen).find("cred-refresher"), std::string::npos) << joined(screen);
    EXPECT_EQ(joined(screen).find("metadata-poller"), std::string::npos) << joined(screen);
    keys({"Escape"});
    screen = wait_for({"metadata-poller", "cred-refresher"}, 10s, {"filter:"});
    EXPECT_NE(joined(screen).find("metadata-poller"), std::string::npos) << joined(screen);

    keys({"?"});
    screen = wait_for({"Keys", "PgUp, PgDn", "reverse the sort"}, 10s);
    const std::string help = joined(screen);
    for (const char* key : {"Up, Down", "Home, End", "Enter", "filter rows", "next sort column", "next grouping",
                            "pause", "quit, leaving the last ranking"}) {
        EXPECT_NE(help.find(key), std::string::npos) << key << " missing: " << help;
    }
    keys({"Space"});
    wait_for({"metadata-poller"}, 10s, {"Keys"});

    // p: the view stands still while counting goes on.
    keys({"p"});
    screen = wait_for({"PAUSED"}, 10s);
    const std::string frozen = screen.empty() ? "" : screen[0];
    std::this_thread::sleep_for(2500ms);  // two refreshes would have changed the totals
    screen = tmux_.screen();
    ASSERT_FALSE(screen.empty());
    EXPECT_EQ(screen[0], frozen);
    keys({"p"});
    screen = tmux_.wait_for_screen(
        [&](const auto& lines) {
            return !lines.empty() && lines[0] != frozen && joined(lines).find("PAUSED") == std::string::npos;
        },
        10s);
    ASSERT_FALSE(screen.empty());
    EXPECT_NE(screen[0], frozen);

    // r: the slowest first.
    keys({"r"});
    screen = wait_for({"(reversed)"}, 10s);
    ASSERT_GT(screen.size(), kFirstRow);
    EXPECT_NE(screen[kFirstRow].find("cred-refresher"), std::string::npos) << joined(screen);
    keys({"q"});
    expect_terminal_restored(tmux_);
}

// The whitespace-separated fields of a screen line.
std::vector<std::string> fields_of(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string field; in >> field;) fields.push_back(field);
    return fields;
}

// With --outcome the FAILED, MEAN and P99 columns are filled: every attempt
// on the port nobody listens on is refused, none on the server's port; the
// failures sort first on `s`, and the details list the refusals.
TEST_F(TopViewTest, WithOutcomeFailedCountsTheRefusalsOfAPortNobodyListensOn) {
    start_view("--dst 169.254.169.254 --outcome", 132, 30);
    start_titled_clients();
    // Columns at 132: 1S 10S 60S TOTAL FAILED MEAN P99 LAST DEST COMMAND.
    const auto all_refused = [](const std::string& line) {
        const auto fields = fields_of(line);
        return fields.size() > 9 && fields[8] == "169.254.169.254:81" && fields[4] == fields[3] && fields[3] != "0";
    };
    auto screen = tmux_.wait_for_screen(
        [&](const auto& lines) {
            const auto poller = fields_of(screen_line_with(lines, "metadata-poller"));
            return all_refused(screen_line_with(lines, "cred-refresher")) && poller.size() > 9 && poller[4] == "0" &&
                   poller[5].ends_with("ms");
        },
        20s);
    const std::string header = screen.size() > kFirstRow ? screen[kFirstRow - 1] : "";
    EXPECT_NE(header.find("TOTAL  FAILED     MEAN      P99   LAST  DEST"), std::string::npos) << header;
    const auto refresher = screen_line_with(screen, "cred-refresher");
    EXPECT_TRUE(all_refused(refresher)) << joined(screen);
    const auto poller = fields_of(screen_line_with(screen, "metadata-poller"));
    ASSERT_GT(poller.size(), 9U) << joined(screen);
    EXPECT_EQ(poller[4], "0") << joined(screen);               // the server accepts them all
    EXPECT_TRUE(poller[5].ends_with("ms")) << joined(screen);  // a mean latency
    EXPECT_TRUE(poller[6].ends_with("ms")) << joined(screen);  // and a p99

    keys({"s", "s", "s", "s"});  // 10s, 60s, total, failed
    screen = wait_for({"sorted by failed", "*FAILED"}, 10s);
    ASSERT_GT(screen.size(), kFirstRow);
    EXPECT_NE(screen[kFirstRow].find("cred-refresher"), std::string::npos) << joined(screen);
    keys({"Home", "Enter"});
    screen = wait_for({"Recent results (newest first):", "ECONNREFUSED"}, 10s);
    const std::string text = joined(screen);
    EXPECT_NE(text.find("command cred-refresher"), std::string::npos) << text;
    EXPECT_NE(text.find("refused"), std::string::npos) << text;
    EXPECT_NE(text.find("ECONNREFUSED"), std::string::npos) << text;
    keys({"q"});
    expect_terminal_restored(tmux_);
}

// 50 destinations (every address of 127.0.1.100-149 refuses at once), one
// row each, in key order: the arrows, PgUp, PgDn, Home and End reach them all.
TEST_F(TopViewTest, ScrollingReachesRow40AndBeyond) {
    start_view("--dst 127.0.1.0/24 --by dest --sort key", 80, 24);
    clients_.emplace_back(namespace_->exec({"python3", "-c",
                                            "import socket, time\n"
                                            "end = time.time() + 60\n"
                                            "while time.time() < end:\n"
                                            "    for i in range(100, 150):\n"
                                            "        s = socket.socket()\n"
                                            "        try: s.connect(('127.0.1.%d' % i, 9))\n"
                                            "        except OSError: pass\n"
                                            "        s.close()\n"
                                            "    time.sleep(0.5)\n"}));
    auto screen = wait_for({": 50 groups", "127.0.1.100:9"});
    ASSERT_NE(joined(screen).find(": 50 groups"), std::string::npos) << joined(screen);
    const auto detail_of = [&](const std::string& destination) {
        keys({"Enter"});
        const auto shown = wait_for({"dest " + destination}, 10s);
        EXPECT_NE(joined(shown).find("dest " + destination), std::string::npos) << joined(shown);
        keys({"Escape"});
        wait_for({"sorted by key"}, 10s);
    };

    keys({"End"});
    screen = wait_for({"127.0.1.149:9"}, 10s, {"127.0.1.100:9"});
    EXPECT_NE(joined(screen).find("127.0.1.149:9"), std::string::npos) << joined(screen);
    detail_of("127.0.1.149:9");

    keys({"Home"});
    wait_for({"127.0.1.100:9"}, 10s);
    std::vector<std::string> down(39, "Down");
    keys(down);
    screen = wait_for({"127.0.1.139:9"}, 10s, {"127.0.1.100:9"});
    EXPECT_NE(joined(screen).find("127.0.1.139:9"), std::string::npos) << joined(screen);
    EXPECT_EQ(joined(screen).find("127.0.1.100:9"), std::string::npos) << "scrolled: " << joined(screen);
    detail_of("127.0.1.139:9");  // row 40 is the selected one

    keys({"Home", "PgDn", "PgDn"});  // 20 rows a page at 24 lines
    wait_for({"127.0.1.140:9"}, 10s, {"127.0.1.100:9"});
    detail_of("127.0.1.140:9");
    keys({"PgUp"});
    wait_for({"127.0.1.120:9"}, 10s);
    detail_of("127.0.1.120:9");
    keys({"q"});
    expect_terminal_restored(tmux_);
}

// Without a terminal that can move the cursor there is no view: a clear
// error that names the plain outputs, exit 1, before anything is loaded.
TEST_F(TopViewTest, ADumbOrUnknownTerminalGetsAClearErrorAndExit1) {
    for (const auto& [term, message] :
         {std::pair{"dumb", "TERM=dumb cannot move the cursor"},
          std::pair{"connsnoop-no-such-terminal", "no terminfo entry for TERM=connsnoop-no-such-terminal"}}) {
        Tmux tmux;
        ASSERT_EQ(tmux({"new-session", "-d", "-s", "view", "-x", "160", "-y", "10",
                        std::string("TERM=") + term + " " + connsnoop_binary() + " top --imds; echo EXIT=$?; sleep 60"})
                      .status,
                  0);
        const auto screen = tmux.wait_for_screen(
            [](const auto& lines) { return joined(lines).find("EXIT=") != std::string::npos; }, 20s);
        const std::string text = joined(screen);
        EXPECT_NE(text.find(message), std::string::npos) << text;
        EXPECT_NE(text.find("-o json"), std::string::npos) << text;
        EXPECT_NE(text.find("connsnoop top | cat"), std::string::npos) << text;
        EXPECT_NE(text.find("EXIT=1"), std::string::npos) << text;
    }
}

}  // namespace
}  // namespace connsnoop::testing

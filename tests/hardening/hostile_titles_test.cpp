// Hostile process titles, set by real processes ($0 in Perl, prctl(PR_SET_NAME)),
// read back from the table and the JSON output of the real binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "hardening_support.hpp"
#include "network_namespace.hpp"
#include "process.hpp"

namespace connsnoop::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Nothing listens there: the connect is refused, and still traced (CLOSE -> SYN_SENT).
constexpr const char* kTarget = "169.254.169.253";
constexpr const char* kPort = "9";
const std::string kPerlConnect =
    "use IO::Socket::INET; IO::Socket::INET->new(PeerAddr => '169.254.169.253', PeerPort => 9);";

#if defined(__x86_64__)
constexpr int kSysPrctl = 157;
#elif defined(__aarch64__)
constexpr int kSysPrctl = 167;
#endif

// ESC sequences (clear screen, cursor home), CR/LF and a forged row, tab, DEL,
// C1 CSI as UTF-8 and as a raw byte, a right-to-left override, invalid UTF-8,
// and a backslash that could fake an escape.
const std::string kHostileTitle = std::string("evil\x1b[2J\x1b[Hclear\r\n23:00:00 1 root 1.2.3.4:80 forged\tx\x7f") +
                                  "del\xc2\x9b" + "c1\x9b" + "raw\xe2\x80\xae" + "rtl\xff\xfe" + "end\\x41";
const std::string kHostileTitleInTable =
    "evil\\x1b[2J\\x1b[Hclear\\x0d\\x0a23:00:00 1 root 1.2.3.4:80 forged\\x09x\\x7fdel\\xc2\\x9bc1\\x9braw"
    "\\xe2\\x80\\xaertl\\xff\\xfeend\\\\x41";
// In JSON the invalid bytes become the text \xNN; the rest is the same characters.
const std::string kHostileTitleInJson =
    std::string("evil\x1b[2J\x1b[Hclear\r\n23:00:00 1 root 1.2.3.4:80 forged\tx\x7f") + "del\xc2\x9b" +
    "c1\\x9braw\xe2\x80\xae" + "rtl\\xff\\xfeend\\x41";
// 14 bytes: a task name (comm) holds at most 15.
const std::string kHostileComm = std::string("\x1b[2J\r\n\t\x7f\xff\xe2\x80\xae") + "ab";

std::string to_hex(const std::string& bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char byte : bytes) hex += {kHex[byte >> 4], kHex[byte & 0xF]};
    return hex;
}

class HostileTitleTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (geteuid() == 0) namespace_ = std::make_unique<NetworkNamespace>("connsnoop-hx");
    }
    static void TearDownTestSuite() { namespace_.reset(); }
    void SetUp() override {
        if (geteuid() != 0) GTEST_SKIP() << "needs root (loads BPF programs, creates a network namespace)";
    }

    // A table tracer and a JSON tracer watching the same connections.
    struct Tracers {
        ChildProcess table;
        ChildProcess json;
    };
    static Tracers start_tracers(std::vector<std::string> extra_table_args = {}) {
        // --ancestry 0: the row then ends with the title itself.
        std::vector<std::string> table_args{"--dst", kTarget, "--port", kPort, "--ancestry", "0"};
        table_args.insert(table_args.end(), extra_table_args.begin(), extra_table_args.end());
        Tracers tracers{ChildProcess(connsnoop_command(table_args)),
                        ChildProcess(connsnoop_command({"--dst", kTarget, "--port", kPort, "-o", "json"}))};
        EXPECT_TRUE(tracers.table.wait_for_stderr("tracing TCP connects", 10s)) << tracers.table.err();
        EXPECT_TRUE(tracers.json.wait_for_stderr("tracing TCP connects", 10s)) << tracers.json.err();
        return tracers;
    }

    static pid_t run_client(std::vector<std::string> command) {
        ChildProcess client(namespace_->exec(std::move(command)));
        const pid_t pid = client.pid();
        client.wait(15s);
        return pid;
    }

    // Stops both; checks the invariants every run must keep; returns the table
    // rows (without the header) and the JSON records.
    static std::pair<std::vector<std::string>, std::vector<json>> stop(Tracers& tracers, std::size_t expected_events) {
        std::this_thread::sleep_for(300ms);
        tracers.table.send_signal(SIGINT);
        tracers.json.send_signal(SIGINT);
        EXPECT_EQ(tracers.table.wait(10s), 0) << tracers.table.err();
        EXPECT_EQ(tracers.json.wait(10s), 0) << tracers.json.err();

        auto rows = tracers.table.out_lines();
        // One header and one line per event: no title can add a line.
        EXPECT_EQ(rows.size(), expected_events + 1) << tracers.table.out();
        for (const auto& row : rows) EXPECT_EQ(terminal_hazard(row), "") << row;
        if (!rows.empty()) rows.erase(rows.begin());

        for (const auto& line : tracers.json.out_lines()) EXPECT_EQ(terminal_hazard(line), "") << line;
        auto records = parse_json_lines(tracers.json.out_lines());
        EXPECT_EQ(records_of_type(records, "connect").size(), expected_events) << tracers.json.out();
        EXPECT_EQ(records.empty() ? json() : records.back()["type"], "summary");
        EXPECT_EQ(independent_json_lines_check(tracers.json.out()), "");
        return {rows, records_of_type(records, "connect")};
    }

    static inline std::unique_ptr<NetworkNamespace> namespace_;
};

TEST_F(HostileTitleTest, PerlTitleWithControlsBidiAndInvalidUtf8IsEscaped) {
    auto tracers = start_tracers();
    const pid_t perl = run_client({"perl", "-e", "$0 = pack('H*', $ARGV[0]); " + kPerlConnect, to_hex(kHostileTitle)});
    const auto [rows, connects] = stop(tracers, 1);

    ASSERT_EQ(rows.size(), 1U);
    EXPECT_NE(rows[0].find(std::to_string(perl)), std::string::npos) << rows[0];
    EXPECT_EQ(rows[0].substr(rows[0].size() - kHostileTitleInTable.size()), kHostileTitleInTable) << rows[0];

    ASSERT_EQ(connects.size(), 1U);
    EXPECT_EQ(connects[0]["pid"], perl);
    EXPECT_EQ(connects[0]["cmdline"], kHostileTitleInJson);
    EXPECT_EQ(connects[0]["argv"], json::array({kHostileTitleInJson}));
    EXPECT_EQ(connects[0]["comm"], kHostileTitleInJson.substr(0, 15));  // Perl names the task after $0 too
    EXPECT_EQ(connects[0]["argv_truncated"], false);
}

TEST_F(HostileTitleTest, JsonEscapesDelC1AndBidiControlsSoATerminalShowsThemInert) {
    auto tracers = start_tracers();
    run_client({"perl", "-e", "$0 = pack('H*', $ARGV[0]); " + kPerlConnect, to_hex(kHostileTitle)});
    stop(tracers, 1);
    const auto& out = tracers.json.out();
    EXPECT_NE(out.find("\\u001b[2J"), std::string::npos) << out;
    EXPECT_NE(out.find("\\u007fdel"), std::string::npos) << out;
    EXPECT_NE(out.find("\\u009bc1"), std::string::npos) << out;
    EXPECT_NE(out.find("\\u202ertl"), std::string::npos) << out;
    EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
    EXPECT_EQ(out.find("\xe2\x80\xae"), std::string::npos) << out;
}

TEST_F(HostileTitleTest, TaskNameSetWithPrctlIsEscapedWhereTheTableShowsIt) {
    auto tracers = start_tracers();
    // An empty $0 leaves no argv, so the table shows the task name, in brackets.
    const pid_t perl = run_client({"perl", "-e",
                                   "$0 = ''; syscall(" + std::to_string(kSysPrctl) +
                                       ", 15, pack('H*', $ARGV[0])) == 0 "
                                       "or die \"prctl: $!\"; " +
                                       kPerlConnect,
                                   to_hex(kHostileComm)});
    const auto [rows, connects] = stop(tracers, 1);

    ASSERT_EQ(rows.size(), 1U);
    EXPECT_NE(rows[0].find(std::to_string(perl)), std::string::npos) << rows[0];
    const std::string shown = "[\\x1b[2J\\x0d\\x0a\\x09\\x7f\\xff\\xe2\\x80\\xaeab]";
    EXPECT_EQ(rows[0].substr(rows[0].size() - shown.size()), shown) << rows[0];

    ASSERT_EQ(connects.size(), 1U);
    const std::string comm = std::string("\x1b[2J\r\n\t\x7f\\xff\xe2\x80\xae") + "ab";
    EXPECT_EQ(connects[0]["comm"], comm);
    EXPECT_EQ(connects[0]["argv"], json::array());
    EXPECT_EQ(connects[0]["cmdline"], "[" + comm + "]");
}

TEST_F(HostileTitleTest, TaskNameEndsAtItsFirstNul) {
    auto tracers = start_tracers();
    const pid_t python =
        run_client({"python3", "-c",
                    "import ctypes, socket, sys; ctypes.CDLL(None).prctl(15, bytes.fromhex(sys.argv[1]), 0, 0, 0); "
                    "socket.socket().connect_ex(('169.254.169.253', 9))",
                    to_hex(std::string("\x1b]0;owned\x07") + std::string(1, '\0') + "hidden")});
    const auto [rows, connects] = stop(tracers, 1);
    ASSERT_EQ(connects.size(), 1U);
    EXPECT_EQ(connects[0]["pid"], python);
    EXPECT_EQ(connects[0]["comm"], "\x1b]0;owned\x07");  // an OSC "set window title", shown inert
    EXPECT_EQ(tracers.json.out().find("hidden"), std::string::npos);
}

// Where the locale is not UTF-8 the terminal is not either, and a lone byte
// 0x9B is a CSI there: the title "\xc4\x9b2J" (U+011B then "2J") would clear
// the screen. The table, top's and linklocal's text blocks carry no byte
// above 0x7F then.
TEST_F(HostileTitleTest, NoByteAbove0x7FReachesATerminalThatIsNotUtf8) {
    const auto in_c_locale = [](std::vector<std::string> args) {
        auto command = connsnoop_command(std::move(args));
        command.insert(command.begin(), {"env", "LC_ALL=C"});
        return command;
    };
    ChildProcess table(in_c_locale({"--dst", kTarget, "--port", kPort, "--ancestry", "0"}));
    ChildProcess top(in_c_locale({"top", "--dst", kTarget, "--port", kPort, "--interval", "0.5"}));
    ChildProcess linklocal(in_c_locale({"linklocal", "--by", "command", "--interval", "0.5"}));
    ASSERT_TRUE(table.wait_for_stderr("tracing TCP connects", 10s)) << table.err();
    ASSERT_TRUE(top.wait_for_stderr("tracing TCP connects", 10s)) << top.err();
    ASSERT_TRUE(linklocal.wait_for_stderr("counting link-local packets", 10s)) << linklocal.err();
    // Alive for a while after connecting: linklocal names it from /proc.
    run_client({"perl", "-e", "$0 = pack('H*', $ARGV[0]); " + kPerlConnect + " select(undef, undef, undef, 1.5);",
                to_hex(std::string("\xc4\x9b") + "2J caf\xc3\xa9")});
    std::this_thread::sleep_for(700ms);
    for (auto* tracer : {&table, &top, &linklocal}) {
        tracer->send_signal(SIGINT);
        EXPECT_EQ(tracer->wait(10s), 0) << tracer->err();
        const auto& out = tracer->out();
        EXPECT_NE(out.find("\\xc4\\x9b2J caf\\xc3\\xa9"), std::string::npos) << out;
        EXPECT_TRUE(std::none_of(out.begin(), out.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
            << out;
    }
}

TEST_F(HostileTitleTest, TitleOf128KiBIsCutAtTheConfiguredLimitAndMarked) {
    auto tracers = start_tracers({"--argv-max", "1000"});
    // The argv area is made 128 KiB long by a real argument, then $0 fills it.
    const std::string filler(131071, 'A');
    const pid_t perl = run_client({"perl", "-e", "$0 = \"\\e[2Jtitle \" . ('T' x 200000); " + kPerlConnect, filler});
    const auto [rows, connects] = stop(tracers, 1);

    ASSERT_EQ(connects.size(), 1U);
    EXPECT_EQ(connects[0]["pid"], perl);
    EXPECT_EQ(connects[0]["argv_truncated"], true);
    const auto cmdline = connects[0]["cmdline"].get<std::string>();
    EXPECT_EQ(cmdline.size(), 8192U);  // the default --argv-max, and the capture cap
    EXPECT_EQ(cmdline.substr(0, 10), "\x1b[2Jtitle ");
    EXPECT_EQ(cmdline.find_first_not_of('T', 10), std::string::npos);

    ASSERT_EQ(rows.size(), 1U);
    const std::string shown = "\\x1b[2Jtitle " + std::string(990, 'T') + "…";  // 1000 bytes, then the cut mark
    EXPECT_EQ(rows[0].substr(rows[0].size() - shown.size()), shown) << rows[0].substr(0, 200);
    EXPECT_EQ(rows[0].find(std::string(991, 'T')), std::string::npos);
}

}  // namespace
}  // namespace connsnoop::testing

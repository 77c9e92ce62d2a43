#include "output/line_output.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace connsnoop {
namespace {

std::string read_all(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

// A file size limit (RLIMIT_FSIZE) makes write(2) stop short exactly where a
// full disk would: part of a batch, then EFBIG. Lifted when it goes away.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &saved_);
        saved_signal_ = std::signal(SIGXFSZ, SIG_IGN);  // the error, not the signal
        rlimit limited = saved_;
        limited.rlim_cur = bytes;
        ok_ = setrlimit(RLIMIT_FSIZE, &limited) == 0;
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, saved_signal_);
    }
    [[nodiscard]] bool ok() const { return ok_; }

private:
    rlimit saved_{};
    void (*saved_signal_)(int) = nullptr;
    bool ok_ = false;
};

TEST(FileOutput, AShortWriteIsCutBackToWholeLinesCountedAndReportedLater) {
    char dir_template[] = "/tmp/connsnoop-line-output-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    const std::string path = std::string(dir_template) + "/events";
    {
        auto out = LineOutput::open_file(path);
        ASSERT_TRUE(out) << out.error().message;
        auto& lines = **out;
        lines.set_lost_notice([](std::uint64_t newly_lost, std::uint64_t total_lost, int error) {
            return "lost " + std::to_string(newly_lost) + " of " + std::to_string(total_lost) + ": " +
                   std::strerror(error);
        });
        lines.set_batched(true);
        for (const char* line : {"line-0001", "line-0002", "line-0003"}) lines.write_line(line);  // 30 bytes
        lines.flush();
        {
            const FileSizeLimit limit(45);  // room for one more line and half of the next
            ASSERT_TRUE(limit.ok());
            for (const char* line : {"line-0004", "line-0005", "line-0006"}) lines.write_line(line);
            lines.flush();
        }
        EXPECT_EQ(read_all(path), "line-0001\nline-0002\nline-0003\nline-0004\n") << "no half line is left";
        EXPECT_EQ(lines.lost_lines(), 2U);
        EXPECT_FALSE(lines.closed()) << "a file is never given up";

        lines.write_line("line-0007");
        lines.flush();
        EXPECT_EQ(lines.lost_lines(), 2U);
    }
    EXPECT_EQ(read_all(path), "line-0001\nline-0002\nline-0003\nline-0004\nlost 2 of 2: " +
                                  std::string(std::strerror(EFBIG)) + "\nline-0007\n");
    std::remove(path.c_str());
    rmdir(dir_template);
}

}  // namespace
}  // namespace connsnoop

#include "output/line_output.hpp"

#include <cerrno>

namespace connsnoop {

void LineOutput::write_line(std::string_view line) {
    if (closed_) return;
    errno = 0;
    const bool written = std::fwrite(line.data(), 1, line.size(), stream_) == line.size() &&
                         std::fputc('\n', stream_) != EOF && std::fflush(stream_) == 0;
    if (!written) {
        closed_ = true;
        error_ = errno;
    }
}

}  // namespace connsnoop

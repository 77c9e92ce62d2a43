// Serves the Prometheus exposition on /metrics from a thread of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "util/net_address.hpp"
#include "util/result.hpp"

namespace httplib {
class Server;
}

namespace connsnoop {

class MetricsServer {
public:
    // Binds at once (so a busy port is reported before tracing starts), then serves.
    static Result<std::unique_ptr<MetricsServer>> start(const ListenAddress& address,
                                                        std::function<std::string()> render_exposition);
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;
    ~MetricsServer();  // stops serving and joins the thread

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url() const;

private:
    MetricsServer() = default;

    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    std::string host_;
    std::uint16_t port_ = 0;
};

}  // namespace connsnoop

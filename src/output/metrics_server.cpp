#include "output/metrics_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace connsnoop {

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const ListenAddress& address,
                                                            std::function<std::string()> render_exposition) {
    std::unique_ptr<MetricsServer> server(new MetricsServer());
    server->server_ = std::make_unique<httplib::Server>();
    server->host_ = address.host;
    // cpp-httplib sets SO_REUSEPORT, which lets a second exporter share the
    // port and take half the scrapes. SO_REUSEADDR alone still allows a
    // restart while old connections linger in TIME_WAIT.
    server->server_->set_socket_options([](int sock) {
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server->server_->Get("/metrics",
                         [render = std::move(render_exposition)](const httplib::Request&, httplib::Response& response) {
                             response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
                         });
    server->server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
        response.set_content("connsnoop: metrics at /metrics\n", "text/plain");
    });
    int port = address.port;
    if (address.port == 0) {
        port = server->server_->bind_to_any_port(address.host);
    } else if (!server->server_->bind_to_port(address.host, address.port)) {
        port = -1;
    }
    if (port <= 0) {
        const int err = errno;
        std::string message = "--metrics: cannot listen on " + address.host + ":" + std::to_string(address.port);
        if (err == EADDRINUSE) {
            return Error{message + ": address already in use",
                         "another exporter (or connsnoop) listens there; pick another with --metrics ADDR:PORT", err};
        }
        if (err != 0) message += std::string(": ") + std::strerror(err);
        return Error{message, "is the address on this host? pick another with --metrics ADDR:PORT", err};
    }
    server->port_ = static_cast<std::uint16_t>(port);
    server->thread_ = std::thread([raw = server->server_.get()] { raw->listen_after_bind(); });
    return server;
}

MetricsServer::~MetricsServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

std::string MetricsServer::url() const {
    const bool ipv6 = host_.find(':') != std::string::npos;
    return "http://" + (ipv6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) + "/metrics";
}

}  // namespace connsnoop

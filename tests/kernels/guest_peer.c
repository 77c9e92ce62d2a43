// The guest's stand-in metadata service and its clients, one static binary
// (the kernel matrix's initramfs holds no Python, curl or Perl).
//
//   peer serve                    answers HTTP on 169.254.169.254:80 and [fd00:ec2::254]:80
//   peer v1 ADDR                  GET /latest/meta-data/instance-id without a token
//   peer v2 ADDR                  PUT /latest/api/token, then GET .../security-credentials/ with it
//   peer shapes ADDR              two GETs pipelined into one write on one connection, then on
//                                 another "GET /latest/meta-data/instance-id\n" (no version)
//                                 and a shutdown of its side
//   peer connect ADDR PORT        connect() and close; exit 0 when established, 1 otherwise
//   peer token                    prints the token the server hands out
//   peer dns ADDR NAME            sendto ADDR:53 (IPv4) on one unconnected UDP socket: an A query
//                                 for NAME, then an AAAA query; nothing awaits an answer
//
// Each request is one write() of the whole head; HTTP/1.0, one request per
// connection (but for shapes). The server's token is kGuestToken: the matrix asserts that it
// appears nowhere in connsnoop's output.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char kGuestToken[] = "AQAEAGuestTokenValue-5f3c9a1e7d";

static int open_connection(const char* address, int port) {
    struct sockaddr_storage storage;
    socklen_t length;
    memset(&storage, 0, sizeof(storage));
    if (strchr(address, ':')) {
        struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&storage;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short)port);
        if (inet_pton(AF_INET6, address, &sin6->sin6_addr) != 1) return -1;
        length = sizeof(*sin6);
    } else {
        struct sockaddr_in* sin = (struct sockaddr_in*)&storage;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, address, &sin->sin_addr) != 1) return -1;
        length = sizeof(*sin);
    }
    int fd = socket(storage.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr*)&storage, length) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t written = write(fd, data, size);
        if (written <= 0) return -1;
        data += written;
        size -= (size_t)written;
    }
    return 0;
}

// Sends one request head and returns the response body (static buffer).
static const char* request(const char* address, const char* head) {
    static char response[4096];
    int fd = open_connection(address, 80);
    if (fd < 0) {
        perror("peer: connect");
        exit(1);
    }
    if (write_all(fd, head, strlen(head)) != 0) {
        perror("peer: write");
        exit(1);
    }
    size_t used = 0;
    ssize_t got;
    while (used < sizeof(response) - 1 && (got = read(fd, response + used, sizeof(response) - 1 - used)) > 0)
        used += (size_t)got;
    response[used] = '\0';
    close(fd);
    const char* body = strstr(response, "\r\n\r\n");
    if (strncmp(response, "HTTP/1.0 200", 12) != 0 || !body) {
        fprintf(stderr, "peer: unexpected response from %s\n", address);
        exit(1);
    }
    return body + 4;
}

static const char* host_header(const char* address) {
    static char host[128];
    snprintf(host, sizeof(host), strchr(address, ':') ? "[%s]" : "%s", address);
    return host;
}

static int imds_v1(const char* address) {
    char head[512];
    snprintf(head, sizeof(head), "GET /latest/meta-data/instance-id HTTP/1.0\r\nHost: %s\r\n\r\n",
             host_header(address));
    request(address, head);
    return 0;
}

static int imds_v2(const char* address) {
    char head[512];
    char token[128];
    snprintf(head, sizeof(head),
             "PUT /latest/api/token HTTP/1.0\r\nHost: %s\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n",
             host_header(address));
    snprintf(token, sizeof(token), "%s", request(address, head));
    snprintf(head, sizeof(head),
             "GET /latest/meta-data/iam/security-credentials/ HTTP/1.0\r\nHost: %s\r\n"
             "X-aws-ec2-metadata-token: %s\r\n\r\n",
             host_header(address), token);
    request(address, head);
    return 0;
}

// Sends `head` in one write (then, with `shut`, shuts the sending side) and
// reads the reply to its end.
static void send_and_drain(const char* address, const char* head, int shut) {
    char reply[4096];
    int fd = open_connection(address, 80);
    if (fd < 0 || write_all(fd, head, strlen(head)) != 0 || (shut && shutdown(fd, SHUT_WR) != 0)) {
        perror("peer: shapes");
        exit(1);
    }
    while (read(fd, reply, sizeof(reply)) > 0) {
    }
    close(fd);
}

static int request_shapes(const char* address) {
    char head[512];
    snprintf(head, sizeof(head),
             "GET /latest/meta-data/ HTTP/1.0\r\nHost: %s\r\n\r\n"
             "GET /latest/meta-data/instance-id HTTP/1.0\r\nHost: %s\r\n\r\n",
             host_header(address), host_header(address));
    send_and_drain(address, head, 0);
    send_and_drain(address, "GET /latest/meta-data/instance-id\n", 1);
    return 0;
}

static int listen_on(int family, const char* address) {
    int fd = socket(family, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_storage storage;
    socklen_t length;
    memset(&storage, 0, sizeof(storage));
    if (family == AF_INET6) {
        struct sockaddr_in6* sin6 = (struct sockaddr_in6*)&storage;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(80);
        inet_pton(AF_INET6, address, &sin6->sin6_addr);
        length = sizeof(*sin6);
    } else {
        struct sockaddr_in* sin = (struct sockaddr_in*)&storage;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(80);
        inet_pton(AF_INET, address, &sin->sin_addr);
        length = sizeof(*sin);
    }
    if (fd < 0 || bind(fd, (struct sockaddr*)&storage, length) != 0 || listen(fd, 64) != 0) {
        fprintf(stderr, "peer: cannot listen on %s:80: %s\n", address, strerror(errno));
        exit(1);
    }
    return fd;
}

static void answer(int fd) {
    char head[2048];
    size_t used = 0;
    ssize_t got;
    while (used < sizeof(head) - 1 && (got = read(fd, head + used, sizeof(head) - 1 - used)) > 0) {
        used += (size_t)got;
        head[used] = '\0';
        if (strstr(head, "\r\n\r\n")) break;
    }
    head[used] = '\0';
    const int token_request = strncmp(head, "PUT /latest/api/token ", 22) == 0;
    const char* body = token_request ? kGuestToken : "i-0123456789abcdef0";
    if (token_request) {
        printf("peer: issued token\n");
        fflush(stdout);
    }
    char response[512];
    int length =
        snprintf(response, sizeof(response), "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    write_all(fd, response, (size_t)length);
    close(fd);
}

static _Noreturn void serve(void) {
    struct pollfd listeners[2] = {
        {.fd = listen_on(AF_INET, "169.254.169.254"), .events = POLLIN},
        {.fd = listen_on(AF_INET6, "fd00:ec2::254"), .events = POLLIN},
    };
    signal(SIGPIPE, SIG_IGN);
    printf("peer: serving\n");
    fflush(stdout);
    for (;;) {
        if (poll(listeners, 2, -1) < 0) continue;
        for (int i = 0; i < 2; i++) {
            if (!(listeners[i].revents & POLLIN)) continue;
            int fd = accept(listeners[i].fd, NULL, NULL);
            if (fd >= 0) answer(fd);
        }
    }
}

// Two DNS queries (A, AAAA) for a dotted name, sent with sendto.
static int dns_queries(const char* address, const char* name) {
    struct sockaddr_in resolver = {.sin_family = AF_INET, .sin_port = htons(53)};
    unsigned char query[300];
    size_t at = 12;
    if (inet_pton(AF_INET, address, &resolver.sin_addr) != 1 || strlen(name) > 250) return 2;
    memset(query, 0, sizeof(query));
    query[2] = 0x01;  // RD
    query[5] = 1;     // QDCOUNT
    for (const char* label = name; *label;) {
        size_t length = strcspn(label, ".");
        query[at++] = (unsigned char)length;
        memcpy(query + at, label, length);
        at += length;
        label += length;
        if (*label == '.') label++;
    }
    query[at++] = 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return 1;
    const unsigned char types[] = {1, 28};
    for (size_t i = 0; i < sizeof(types); i++) {
        query[1] = (unsigned char)i;  // the ID
        query[at] = 0;
        query[at + 1] = types[i];
        query[at + 2] = 0;
        query[at + 3] = 1;  // IN
        if (sendto(fd, query, at + 4, 0, (struct sockaddr*)&resolver, sizeof(resolver)) < 0) return 1;
    }
    close(fd);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "serve") == 0) serve();
    if (argc == 3 && strcmp(argv[1], "v1") == 0) return imds_v1(argv[2]);
    if (argc == 3 && strcmp(argv[1], "v2") == 0) return imds_v2(argv[2]);
    if (argc == 3 && strcmp(argv[1], "shapes") == 0) return request_shapes(argv[2]);
    if (argc == 2 && strcmp(argv[1], "token") == 0) return puts(kGuestToken) < 0;
    if (argc == 4 && strcmp(argv[1], "dns") == 0) return dns_queries(argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "connect") == 0) {
        int fd = open_connection(argv[2], atoi(argv[3]));
        if (fd < 0) {
            printf("peer: connect %s %s: %s\n", argv[2], argv[3], strerror(errno));
            return 1;
        }
        close(fd);
        return 0;
    }
    fprintf(stderr,
            "usage: peer serve | v1 ADDR | v2 ADDR | shapes ADDR | connect ADDR PORT | token | dns ADDR NAME\n");
    return 2;
}

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <string>

#include "kolokol/storage/posix_io.hpp"
#include "kolokol/storage/wall_clock.hpp"

using namespace kolokol;

namespace {
struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() { REQUIRE(::pipe2(fd, O_CLOEXEC) == 0); }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
    void close_end(int i) {
        ::close(fd[i]);
        fd[i] = -1;
    }
};
}  // namespace

TEST_CASE("write_all writes every byte and read_some reads them back") {
    Pipe p;
    // Under a pipe's 64 KiB, so it fits without a reader draining it.
    std::string text(40000, 'k');
    text[123] = 'x';
    REQUIRE(storage::write_all(p.fd[1], as_bytes(text)));
    p.close_end(1);
    std::string back;
    Bytes buffer(4096);
    while (true) {
        auto n = storage::read_some(p.fd[0], buffer);
        REQUIRE(n);
        if (*n == 0) break;
        back.append(reinterpret_cast<const char*>(buffer.data()), *n);
    }
    CHECK(back == text);
}

TEST_CASE("write_all and read_some fail with the OS's errno and a reason") {
    auto w = storage::write_all(-1, as_bytes(std::string("x")));
    REQUIRE_FALSE(w);
    CHECK(w.error().code == std::error_code(EBADF, std::generic_category()));
    CHECK(w.error().what().starts_with("write failed: "));
    CHECK(w.error().pattern == "write failed: {}");

    Bytes buffer(16);
    auto r = storage::read_some(-1, buffer);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == std::error_code(EBADF, std::generic_category()));
    CHECK(r.error().what().starts_with("read failed: "));

    // A pipe nobody reads any more: EPIPE (SIGPIPE ignored for the test).
    auto old = std::signal(SIGPIPE, SIG_IGN);
    Pipe p;
    p.close_end(0);
    auto e = storage::write_all(p.fd[1], as_bytes(std::string("y")));
    std::signal(SIGPIPE, old);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == std::error_code(EPIPE, std::generic_category()));
}

TEST_CASE("the wall clock counts milliseconds since 1970") {
    const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const auto now = storage::wall_clock_ms();
    CHECK(now > 1704067200000LL);  // after 2024-01-01
    CHECK(now >= before);
}

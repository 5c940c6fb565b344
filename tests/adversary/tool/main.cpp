// kolokol-adversary: a hostile client and forger built from Kolokol's own libraries, used by
// the tests in tests/adversary/ against real kolokol processes. Never installed.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "command.hpp"
#include "kolokol/crypto/init.hpp"

namespace kolokol::adversary {

std::vector<Command>& commands() {
    static std::vector<Command> all;
    return all;
}

namespace {
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
}  // namespace

void usage_error(std::string_view message) {
    throw UsageError(std::string(message));
}

unsigned long number(const std::string& text, const char* what) {
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size())
        usage_error(std::string(what) + " must be a number");
    return v;
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string read_file_or_stdin(const std::string& path) {
    if (path == "-") {
        return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file_or_stdout(const std::string& path, std::string_view bytes) {
    if (path == "-") {
        std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        std::cout.flush();
        return;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace kolokol::adversary

int main(int argc, char** argv) {
    using namespace kolokol::adversary;
    auto& all = commands();
    std::sort(all.begin(), all.end(),
              [](const Command& a, const Command& b) { return a.name < b.name; });
    auto print_usage = [&](std::FILE* to) {
        std::fprintf(to, "usage: kolokol-adversary COMMAND [ARGS…]\n");
        for (const auto& c : all) std::fprintf(to, "  %-22s %s\n", c.name.c_str(), c.usage.c_str());
    };
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    std::string name = argv[1];
    if (name == "--help" || name == "help") {
        print_usage(stdout);
        return 0;
    }
    auto it =
        std::find_if(all.begin(), all.end(), [&](const Command& c) { return c.name == name; });
    if (it == all.end()) {
        std::fprintf(stderr, "kolokol-adversary: no command %s\n", name.c_str());
        print_usage(stderr);
        return 2;
    }
    kolokol::crypto::init();
    std::vector<std::string> args(argv + 2, argv + argc);
    try {
        return it->run(args);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "kolokol-adversary %s: %s\nusage: %s %s\n", name.c_str(), e.what(),
                     name.c_str(), it->usage.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kolokol-adversary %s: %s\n", name.c_str(), e.what());
        return 1;
    }
}

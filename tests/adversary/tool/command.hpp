#pragma once
// The hostile tool's subcommands. Each file under tool/ registers its own with a static
// `Registration`, so areas of attack stay in files of their own and main.cpp never changes.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kolokol::adversary {

// A subcommand gets its arguments after its own name and returns the process's exit code:
// 0 when the attack step ran as asked (whether or not the target resisted), 2 on bad usage,
// 1 when the step itself could not be carried out (the target refused, a file was missing).
using CommandFn = std::function<int(std::span<const std::string> args)>;

struct Command {
    std::string name;
    std::string usage;  // one line: arguments and what the step does
    CommandFn run;
};

std::vector<Command>& commands();

struct Registration {
    explicit Registration(Command c) { commands().push_back(std::move(c)); }
};

// Helpers shared by subcommands.
[[noreturn]] void usage_error(std::string_view message);
std::string read_file_or_stdin(const std::string& path);                     // "-" reads stdin
void write_file_or_stdout(const std::string& path, std::string_view bytes);  // "-" writes stdout
// A whole decimal number, or a usage error naming `what`.
unsigned long number(const std::string& text, const char* what);
// Wall-clock time in Unix milliseconds.
std::int64_t unix_ms();

}  // namespace kolokol::adversary

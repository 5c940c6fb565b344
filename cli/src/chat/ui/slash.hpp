#pragma once
// Parsing what was typed on the chat's input line: a message, or a slash command with
// arguments ("double quotes" group words; \" and \\ escape inside them). "//text" posts the
// message "/text". Pure.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kolokol::cli::chat {

struct SlashCommand {
    std::string name;               // without the slash, lower-cased ASCII: "task"
    std::vector<std::string> args;  // split as a shell would split plain and "quoted" words
    std::string rest;               // everything after the name, trimmed (for free text)
};

struct ParsedInput {
    enum class Kind { empty, message, command, error } kind = Kind::empty;
    std::string message;   // Kind::message
    SlashCommand command;  // Kind::command
    std::string error;     // Kind::error: an unterminated quote
};

ParsedInput parse_input(std::string_view line);

}  // namespace kolokol::cli::chat

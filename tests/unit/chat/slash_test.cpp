#include "chat/ui/slash.hpp"

#include <doctest/doctest.h>

using namespace kolokol::cli::chat;
using Kind = ParsedInput::Kind;

TEST_CASE("plain text is a message, trimmed; blank is nothing") {
    CHECK(parse_input("   ").kind == Kind::empty);
    auto p = parse_input("  Привет всем ");
    CHECK(p.kind == Kind::message);
    CHECK(p.message == "Привет всем");
    p = parse_input("//not a command");
    CHECK(p.kind == Kind::message);
    CHECK(p.message == "/not a command");
}

TEST_CASE("slash commands split words and quoted phrases") {
    auto p = parse_input("/Task \"Buy water\" 2026-11-23 \"say \\\"hi\\\"\"");
    REQUIRE(p.kind == Kind::command);
    CHECK(p.command.name == "task");
    REQUIRE(p.command.args.size() == 3);
    CHECK(p.command.args[0] == "Buy water");
    CHECK(p.command.args[1] == "2026-11-23");
    CHECK(p.command.args[2] == "say \"hi\"");
    CHECK(p.command.rest == "\"Buy water\" 2026-11-23 \"say \\\"hi\\\"\"");
    p = parse_input("/members");
    REQUIRE(p.kind == Kind::command);
    CHECK(p.command.args.empty());
    CHECK(p.command.rest.empty());
    p = parse_input("/alert Задержан у метро");
    CHECK(p.command.rest == "Задержан у метро");
    CHECK(p.command.args.size() == 3);
    CHECK(parse_input("/x \"\"").command.args == std::vector<std::string>{""});
}

TEST_CASE("an unclosed quote is an error, not a command") {
    auto p = parse_input("/task \"Buy water");
    CHECK(p.kind == Kind::error);
    CHECK_FALSE(p.error.empty());
}

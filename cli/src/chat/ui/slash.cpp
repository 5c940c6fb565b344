#include "chat/ui/slash.hpp"

#include "i18n.hpp"

namespace kolokol::cli::chat {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

ParsedInput parse_input(std::string_view line) {
    ParsedInput out;
    const std::string_view trimmed = trim(line);
    if (trimmed.empty()) return out;
    if (trimmed.front() != '/' || trimmed.starts_with("//")) {
        out.kind = ParsedInput::Kind::message;
        out.message =
            trimmed.starts_with("//") ? std::string(trimmed.substr(1)) : std::string(trimmed);
        return out;
    }
    std::string_view body = trimmed.substr(1);
    std::size_t name_end = body.find_first_of(" \t");
    std::string_view name = body.substr(0, name_end);
    for (char c : name)
        out.command.name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    std::string_view rest =
        name_end == std::string_view::npos ? std::string_view{} : trim(body.substr(name_end));
    out.command.rest = std::string(rest);
    std::string word;
    bool in_word = false, quoted = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const char c = rest[i];
        if (quoted) {
            if (c == '\\' && i + 1 < rest.size() && (rest[i + 1] == '"' || rest[i + 1] == '\\')) {
                word.push_back(rest[++i]);
            } else if (c == '"') {
                quoted = false;
            } else {
                word.push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
            in_word = true;
        } else if (c == ' ' || c == '\t') {
            if (in_word) out.command.args.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (quoted) {
        out.kind = ParsedInput::Kind::error;
        out.error = _("a quote is not closed");
        return out;
    }
    if (in_word) out.command.args.push_back(std::move(word));
    out.kind = ParsedInput::Kind::command;
    return out;
}

}  // namespace kolokol::cli::chat

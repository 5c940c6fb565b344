#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <clocale>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "chat/ui/text.hpp"
#include "kolokol/crypto/error.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

// The directory of the running binary, or empty when /proc is not there.
std::string executable_dir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    return exe.parent_path().string();
}

std::string locale_dir() {
    if (const char* env = std::getenv("KOLOKOL_LOCALEDIR"); env && *env) return env;
#if defined(KOLOKOL_BUILD_BINARY_DIR) && defined(KOLOKOL_BUILD_LOCALEDIR)
    if (executable_dir() == KOLOKOL_BUILD_BINARY_DIR) return KOLOKOL_BUILD_LOCALEDIR;
#endif
#ifdef KOLOKOL_LOCALEDIR
    return KOLOKOL_LOCALEDIR;
#else
    return "/usr/local/share/locale";
#endif
}

}  // namespace

std::string translated(const Error& error) {
    if (!error.pattern.empty()) {
        std::vector<std::string> args;
        args.reserve(error.args.size());
        for (const auto& a : error.args) {
            if (a.error)
                args.push_back(translated(*a.error));
            else if (a.literal && !a.text.empty())
                args.emplace_back(::gettext(a.text.c_str()));
            else
                args.push_back(a.text);
        }
        return substitute(::gettext(error.pattern.c_str()), args);
    }
    const std::string english = error.what();
    return english.empty() ? english : std::string(::gettext(english.c_str()));
}

void init_i18n() {
    if (std::setlocale(LC_ALL, "") == nullptr) {
        // An unknown locale in the environment: keep what can be kept (often LC_CTYPE for
        // UTF-8), the rest stays "C".
        std::setlocale(LC_CTYPE, "");
        std::setlocale(LC_MESSAGES, "");
    }
    std::setlocale(LC_NUMERIC, "C");
    std::string dir = locale_dir();
    ::bindtextdomain(text_domain, dir.c_str());
    ::bind_textdomain_codeset(text_domain, "UTF-8");
    ::textdomain(text_domain);
}

namespace {

// CLI11 pads the name column with std::setw, which counts bytes: a translated label ("ТЕКСТ",
// "ОБЯЗАТЕЛЬНО") takes twice the bytes of its columns and pushes its description right. This
// formatter pads by display width instead, and otherwise lays out help exactly as CLI11 does.
class DisplayWidthFormatter : public CLI::Formatter {
public:
    std::string make_option(const CLI::Option* opt, bool is_positional) const override {
        return row(make_option_name(opt, is_positional) + make_option_opts(opt),
                   make_option_desc(opt));
    }
    std::string make_subcommand(const CLI::App* sub) const override {
        return row(sub->get_display_name(true), sub->get_description());
    }

private:
    // As CLI::detail::format_help: the name indented by two, the description from the column
    // on (on the next line when the name reaches it), its later lines indented to the column.
    std::string row(const std::string& name, const std::string& description) const {
        const std::size_t width = get_column_width();
        std::string out = "  " + name;
        const std::size_t used = 2 + chat::display_width(name);
        if (!description.empty()) {
            if (used >= width)
                out += "\n" + std::string(width, ' ');
            else
                out += std::string(width - used, ' ');
            for (char c : description) {
                out += c;
                if (c == '\n') out += std::string(width, ' ');
            }
        }
        return out + "\n";
    }
};

// CLI11's parse errors, in the user's language. CLI11 builds them in English from fixed
// phrases; the common ones are recognised here and said again through gettext, the rest are
// shown as CLI11 wrote them.
std::string translated_failure(const CLI::App* app, const CLI::Error& e) {
    const std::string what = e.what();
    std::smatch m;
    std::string line = what;
    static const std::regex required(R"(^(.+) is required$)");
    static const std::regex extras(R"(^The following arguments? (?:was|were) not expected: (.*)$)");
    static const std::regex not_in(R"(^(\S+): (.*) not in \{(.*)\}$)");
    static const std::regex not_allowed(R"(^The value (.*) is not an allowed value for (.*)$)");
    static const std::regex no_convert(R"(^Could not convert: (.*) = (.*)$)");
    static const std::regex missing(R"(^(\S+): \d+ required \S+ missing$)");
    static const std::regex range(R"(^(\S+): Value (\S+) not in range (\S+) to (\S+)$)");
    if (what == "A subcommand is required")
        line = _("a command is missing: see the list below --help");
    else if (std::regex_match(what, m, required))
        line = subst(_("{} is required"), m[1].str());
    else if (std::regex_match(what, m, extras))
        line = subst(_("not expected here: {}"), m[1].str());
    else if (std::regex_match(what, m, not_in))
        line =
            subst(_("{}: \"{}\" is not one of {}"), m[1].str(), m[2].str(), "{" + m[3].str() + "}");
    else if (std::regex_match(what, m, not_allowed))
        line = subst(_("{}: \"{}\" is not allowed"), m[2].str(), m[1].str());
    else if (std::regex_match(what, m, no_convert))
        line = subst(_("{}: \"{}\" is not a valid value"), m[1].str(), m[2].str());
    else if (std::regex_match(what, m, missing))
        line = subst(_("{} needs a value"), m[1].str());
    else if (std::regex_match(what, m, range))
        line = subst(_("{}: {} is not between {} and {}"), m[1].str(), m[2].str(), m[3].str(),
                     m[4].str());
    std::string out = line + "\n";
    if (app && app->get_help_ptr())
        out +=
            subst(_("Run with {} for more information."), app->get_help_ptr()->get_name()) + "\n";
    return out;
}

void translate_app(CLI::App& app) {
    if (CLI::Option* help = app.get_help_ptr())
        help->description(_("Print this help message and exit"));
    for (CLI::Option* option : app.get_options())
        if (option->get_group() == "Options") option->group(_("Options"));
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_group() == "Subcommands") sub->group(_("Subcommands"));
        translate_app(*sub);
    }
}

}  // namespace

void translate_cli_help(CLI::App& app) {
    // Subcommands share their parent's formatter (CLI11 copies the pointer when they are made),
    // so the new one goes to each of them too.
    auto formatter = std::make_shared<DisplayWidthFormatter>();
    std::function<void(CLI::App&)> install = [&](CLI::App& at) {
        at.formatter(formatter);
        for (CLI::App* sub : at.get_subcommands([](CLI::App*) { return true; })) install(*sub);
    };
    install(app);
    app.failure_message(translated_failure);
    // The labels CLI11 2.1 looks up in its formatter, shared by every subcommand.
    for (const char* key : {N_("Usage"), N_("OPTIONS"), N_("SUBCOMMAND"), N_("SUBCOMMANDS"),
                            N_("REQUIRED"), N_("Positionals"), N_("Env"), N_("Needs"),
                            N_("Excludes"), N_("TEXT"), N_("INT"), N_("UINT"), N_("FLOAT")})
        app.get_formatter()->label(key, _(key));
    translate_app(app);
}

}  // namespace kolokol::cli

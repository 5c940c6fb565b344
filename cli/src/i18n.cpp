#include "i18n.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <clocale>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

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
    // The labels CLI11 2.1 looks up in its formatter, shared by every subcommand.
    for (const char* key : {N_("Usage"), N_("OPTIONS"), N_("SUBCOMMAND"), N_("SUBCOMMANDS"),
                            N_("REQUIRED"), N_("Positionals"), N_("Env"), N_("Needs"),
                            N_("Excludes"), N_("TEXT"), N_("INT"), N_("UINT"), N_("FLOAT")})
        app.get_formatter()->label(key, _(key));
    translate_app(app);
}

}  // namespace kolokol::cli

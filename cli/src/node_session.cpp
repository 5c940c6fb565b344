#include "node_session.hpp"

#include <iostream>
#include <iterator>

#include "clock.hpp"
#include "i18n.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/transport/session_error.hpp"
#include "kolokol/transport/sync_types.hpp"
#include "store_gone.hpp"
#include "terminal.hpp"
#include "unlock_agent_client.hpp"

namespace kolokol::cli {

void raise(const Error& error) {
    throw CommandError(exit_for(error), translated(error));
}

std::unique_ptr<core::Node> open_node() {
    if (!core::Node::exists(home_dir()))
        throw CommandError(Exit::no_store,
                           subst(_("no store in {} — run `kolokol init` first"), home_dir()));
    std::unique_ptr<core::Node> node;
    // The agent's key first (kolokol agent). A key it gives that does not open the store (the
    // store was replaced under it) is not an answer: the passphrase is asked as without one.
    if (auto unlocked = key_from_agent(home_dir())) {
        auto opened = core::Node::open(home_dir(), *unlocked, node_clock());
        if (opened) node = std::move(*opened);
    }
    if (!node) {
        auto passphrase = read_passphrase(_("Passphrase"));
        node = value_or_raise(open_with_passphrase(passphrase.view()));
    }
    // From here until the process ends, a panic or a duress erase of this store by another
    // process ends this one, its keys wiped.
    check(node->guard_store(end_when_gone(home_dir())));
    return node;
}

Result<std::unique_ptr<core::Node>> open_with_passphrase(ByteView passphrase) {
    // Whatever the passphrase turns out to be, a running agent ends first: a duress passphrase
    // erases the store and must leave no agent behind, and a wrong one must look the same. An
    // agent that cannot be locked refuses both, before any derivation.
    end_agent_before_unlock(home_dir());
    return core::Node::open(home_dir(), passphrase, node_clock());
}

std::string argument_or_stdin(const std::string& value) {
    if (value != "-") return value;
    std::string out;
    char buf[4096];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
        out.append(buf, static_cast<std::size_t>(std::cin.gcount()));
        if (out.size() > (1u << 20))
            throw CommandError(Exit::bad_input, _("standard input is larger than 1 MiB"));
    }
    return out;
}

std::string pasted_argument(const std::string& value, const std::string& what) {
    if (value != "-" || !stdin_is_tty()) return core::compact_pasted(argument_or_stdin(value));
    std::cerr << subst(_("Paste {}, then press Enter on an empty line (Ctrl-D also ends it):"),
                       what)
              << std::endl;
    std::string text, line;
    while (std::getline(std::cin, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            if (!text.empty()) break;
            continue;
        }
        text += line;
        if (text.size() > (1u << 20))
            throw CommandError(Exit::bad_input, _("standard input is larger than 1 MiB"));
    }
    return core::compact_pasted(text);
}

std::string hex(ByteView bytes) {
    return crypto::hex_encode(bytes);
}
std::string short_hex(ByteView bytes) {
    return crypto::hex_encode(bytes.first(std::min<std::size_t>(8, bytes.size())));
}

std::string format_time(std::int64_t ms) {
    return objects::format_local(objects::seconds_of_ms(ms), objects::local_zone());
}

}  // namespace kolokol::cli

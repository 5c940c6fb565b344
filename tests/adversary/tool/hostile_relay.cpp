// What a relay (or a relay address planted in a group's list) learns about the members who
// sync with it: `hostile-relay` serves like a relay and writes down, for every session, the
// client's Noise static key and every mailbox the client opens. `member-mailboxes` and
// `member-transport-key` read a member's own home, so a script can tell whose mailboxes the
// relay saw and whether the member's long-term key was among the ones presented.
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "command.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/relay/relay.hpp"
#include "kolokol/storage/envelope.hpp"
#include "kolokol/transport/server.hpp"
#include "kolokol/transport/sync.hpp"

namespace kolokol::adversary {
namespace {

// Envelopes in memory, so the clients' syncs complete as they would with a real relay.
class MemoryReplica final : public transport::Replica {
public:
    Result<std::vector<transport::RecordId>> ids(const transport::MailboxId& mailbox) override {
        std::lock_guard lock(m_mutex);
        auto it = m_index.find(mailbox);
        if (it == m_index.end()) return std::vector<transport::RecordId>{};
        return std::vector<transport::RecordId>(it->second.begin(), it->second.end());
    }
    Result<std::optional<Bytes>> get(const transport::RecordId& id) override {
        std::lock_guard lock(m_mutex);
        auto it = m_envelopes.find(id);
        if (it == m_envelopes.end()) return std::optional<Bytes>{};
        return std::optional<Bytes>(it->second);
    }
    Result<std::vector<bool>> put(const transport::MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override {
        std::lock_guard lock(m_mutex);
        std::vector<bool> out;
        for (const auto& e : envelopes) {
            auto id = storage::record_id_of(e);
            m_envelopes.emplace(id, e);
            m_index[mailbox].insert(id);
            out.push_back(true);
        }
        return out;
    }

private:
    std::mutex m_mutex;
    std::map<transport::RecordId, Bytes> m_envelopes;
    std::map<transport::MailboxId, std::set<transport::RecordId>> m_index;
};

// One session's view of the relay's envelopes, without the ids listed in the withhold file
// when the session began: as if the relay had never stored them. Another session, begun when
// the file lists nothing, gets everything — the relay withholds a record from one member only.
class WithholdingReplica final : public transport::Replica {
public:
    WithholdingReplica(transport::Replica& inner, std::set<transport::RecordId> withheld)
        : m_inner(inner), m_withheld(std::move(withheld)) {}
    Result<std::vector<transport::RecordId>> ids(const transport::MailboxId& mailbox) override {
        auto all = m_inner.ids(mailbox);
        if (!all) return all;
        std::erase_if(*all, [&](const auto& id) { return m_withheld.contains(id); });
        return all;
    }
    Result<std::optional<Bytes>> get(const transport::RecordId& id) override {
        if (m_withheld.contains(id)) return std::optional<Bytes>{};
        return m_inner.get(id);
    }
    Result<std::vector<bool>> put(const transport::MailboxId& mailbox,
                                  std::span<const Bytes> envelopes) override {
        return m_inner.put(mailbox, envelopes);
    }

private:
    transport::Replica& m_inner;
    std::set<transport::RecordId> m_withheld;
};

// The record ids (hex, one a line) the withhold file lists now; none when it is absent.
std::set<transport::RecordId> read_withheld(const std::string& path) {
    std::set<transport::RecordId> out;
    if (path.empty()) return out;
    std::ifstream in(path);
    std::string line;
    while (in && std::getline(in, line)) {
        auto raw = crypto::hex_decode(line);
        if (raw && raw->size() == 32) out.insert(to_array<32>(*raw));
    }
    return out;
}

class SessionLog {
public:
    explicit SessionLog(const std::string& path) : m_out(path, std::ios::app) {
        if (!m_out) throw std::runtime_error("cannot write " + path);
    }
    void line(const std::string& text) {
        std::lock_guard lock(m_mutex);
        m_out << text << "\n";
        m_out.flush();
    }

private:
    std::mutex m_mutex;
    std::ofstream m_out;
};

int hostile_relay(std::span<const std::string> args) {
    std::string withhold_file;
    bool high_key = false;
    for (std::size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "high-key")
            high_key = true;
        else if (args[i].starts_with("withhold="))
            withhold_file = args[i].substr(9);
        else
            usage_error("takes LISTEN and LOG, and optionally high-key and withhold=FILE");
    }
    if (args.size() < 2) usage_error("takes LISTEN and LOG, and optionally high-key");
    // With high-key its static key starts with 0xff, so a LAN member that finds it by beacon is
    // the side that dials (the smaller transport key does).
    auto key = crypto::box_keypair();
    while (high_key && key.public_key[0] != 0xff) key = crypto::box_keypair();
    auto endpoint = transport::parse_listen_address(args[0]);
    if (!endpoint) usage_error(endpoint.error().what());
    auto log = std::make_shared<SessionLog>(args[1]);
    MemoryReplica replica;
    asio::io_context io(1);
    auto next_session = std::make_shared<std::uint64_t>(0);
    transport::Server server(
        io.get_executor(), std::move(key), transport::ServerOptions{},
        [&replica, log, next_session,
         withhold_file](transport::Session& session) -> asio::awaitable<void> {
            const auto n = std::to_string(++*next_session);
            log->line("session " + n + " key " + transport::key_to_text(session.remote_static()));
            WithholdingReplica view(replica, read_withheld(withhold_file));
            transport::ServeOptions options;
            // Serves everything, like a relay, after writing down what was asked for.
            options.admit = [log,
                             n](const transport::MailboxId& mailbox) -> std::optional<std::string> {
                log->line("open " + n + " " + crypto::hex_encode(mailbox));
                return std::nullopt;
            };
            (void)co_await transport::serve_on_session(session, view, std::move(options));
            log->line("end " + n);
        });
    if (auto ok = server.listen(*endpoint); !ok) {
        std::fprintf(stderr, "hostile-relay: %s\n", ok.error().what().c_str());
        return 1;
    }
    if (auto ok = server.start(); !ok) {
        std::fprintf(stderr, "hostile-relay: %s\n", ok.error().what().c_str());
        return 1;
    }
    const auto ep = server.local_endpoint();
    transport::Address address(ep.address().to_string(), ep.port(), server.public_key());
    std::cout << address.to_string() << std::endl;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const asio::error_code&, int) {
        server.stop();
        io.stop();
    });
    io.run();
    return 0;
}

std::unique_ptr<core::Node> open_home(const std::string& home, const std::string& pass_file) {
    std::ifstream in(pass_file);
    std::string line;
    if (!in || !std::getline(in, line)) throw std::runtime_error("cannot read " + pass_file);
    auto node = core::Node::open(home, as_bytes(line));
    if (!node) throw std::runtime_error("cannot open " + home + ": " + node.error().what());
    return std::move(*node);
}

const Registration relay_reg{
    {"hostile-relay",
     "LISTEN LOG [high-key] [withhold=FILE] — serves as a relay on LISTEN (HOST:PORT), prints "
     "its address and writes to LOG `session N key KEY` (the client's Noise static key) and "
     "`open N MAILBOX` (hex) for every session and mailbox opened; runs until SIGTERM. "
     "high-key: a static key starting with 0xff (LAN members found by beacon dial it). "
     "withhold=FILE: a session never sees the record ids (hex, one a line) FILE lists when it "
     "begins",
     hostile_relay}};

const Registration mailboxes_reg{
    {"member-mailboxes",
     "HOME PASSFILE GROUP — the member's mailbox ids (hex, one a line) of GROUP (a name or id)",
     [](std::span<const std::string> args) {
         if (args.size() != 3) usage_error("takes HOME, PASSFILE and GROUP");
         auto node = open_home(args[0], args[1]);
         auto group = node->resolve_group(args[2]);
         if (!group) throw std::runtime_error("no group " + args[2]);
         for (const auto& m : node->mailboxes(&*group)) std::cout << crypto::hex_encode(m) << "\n";
         return 0;
     }}};

const Registration key_reg{
    {"member-transport-key",
     "HOME PASSFILE — the installation's long-term transport key, as addresses show it",
     [](std::span<const std::string> args) {
         if (args.size() != 2) usage_error("takes HOME and PASSFILE");
         auto node = open_home(args[0], args[1]);
         std::cout << transport::key_to_text(node->transport_key().public_key) << "\n";
         return 0;
     }}};

}  // namespace
}  // namespace kolokol::adversary

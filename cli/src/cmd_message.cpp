// kolokol post · read · rejected
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "delivery.hpp"
#include "i18n.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/transport/sync.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
// The member's replica, telling the screen after each batch that arrived.
class FollowReplica final : public transport::Replica {
public:
    FollowReplica(transport::Replica& inner, std::function<void()> arrived)
        : m_inner(inner), m_arrived(std::move(arrived)) {}
    Result<std::vector<core::RecordId>> ids(const core::MailboxId& m) override {
        return m_inner.ids(m);
    }
    Result<std::optional<Bytes>> get(const core::RecordId& id) override { return m_inner.get(id); }
    Result<std::vector<bool>> put(const core::MailboxId& m,
                                  std::span<const Bytes> envelopes) override {
        auto r = m_inner.put(m, envelopes);
        if (r) m_arrived();
        return r;
    }

private:
    transport::Replica& m_inner;
    std::function<void()> m_arrived;
};
}  // namespace

// Stays in a live sync with the group's first reachable relay until SIGINT/SIGTERM.
void follow_group(core::Node& node, const core::GroupId& group, std::function<void()> arrived) {
    auto relays = node.relays(group);
    if (relays.empty())
        throw CommandError(Exit::usage,
                           _("the group has no relay to follow: `kolokol group relay add` one"));
    // Through the proxy when one is set; a Tor-only group is never followed without one.
    auto policy = network_policy(node);
    if (!policy.allows(group)) refuse_tor_only(policy);
    // SIGINT/SIGTERM end the follow (exit 0). A handler rather than a blocked mask: the store
    // guard's thread, started before, does not block them and would be killed by them.
    InterruptGuard interrupt([] { return std::string(_("stopped (Ctrl-C)")); });
    transport::SyncOptions options;
    options.live = true;
    options.stop = interrupt.stop();
    policy.apply(options.connect, relays.front(), &group);
    auto inner = node.replica();
    FollowReplica replica(*inner, std::move(arrived));
    auto r = transport::sync_with(relays.front(), node.mailbox_keys(&group), replica, options);
    if (!r && !options.stop.requested())
        throw CommandError(sync_failure_exit(r.error()),
                           subst("{}: {}", relays.front(), translated(r.error())));
}

// For messages(): every message the group holds.
constexpr std::size_t kAllMessages = std::numeric_limits<std::size_t>::max();

void register_message_commands(CLI::App& app) {
    static std::string group, text;
    static bool each_line = false, json = false;
    static std::size_t limit = 50;
    static bool follow = false, no_send = false;

    auto* post = app.add_subcommand("post", _("Post a message to a group"));
    post->add_option("GROUP", group, _("Group name or id prefix"))->required();
    post->add_option("TEXT", text, _("The message (read from stdin when absent)"));
    post->add_flag("--each-line", each_line, _("Post every line of stdin as its own message"));
    add_send_option(post, no_send);
    post->footer(_(
        "Example:\n  kolokol post \"Legal support\" \"Lawyer is on the way\"\n  echo hi | kolokol "
        "post \"Legal support\""));
    post->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(group));
        if (!text.empty()) {
            value_or_raise(node->post(gid, text));
        } else if (each_line) {
            std::string line;
            std::size_t n = 0;
            while (std::getline(std::cin, line))
                if (!line.empty()) {
                    value_or_raise(node->post(gid, line));
                    ++n;
                }
            std::cerr << subst(P_("Posted {} message.\n", "Posted {} messages.\n", n), n);
            if (n == 0) return;
        } else {
            auto body = argument_or_stdin("-");
            while (!body.empty() && body.back() == '\n') body.pop_back();
            value_or_raise(node->post(gid, body));
        }
        send_written(*node, gid, no_send);
    });

    auto* read = app.add_subcommand("read", _("Show a group's messages, oldest first"));
    read->add_option("GROUP", group, _("Group name or id prefix"))->required();
    read->add_option("--limit", limit, _("How many of the newest messages (default 50)"));
    read->add_flag("--json", json, _("Machine-readable output"));
    read->add_flag("--follow,-f", follow,
                   _("Stay connected to the group's relay and show messages as they arrive"));
    read->footer(
        _("Example:\n  kolokol read \"Legal support\" --limit 20\n  kolokol read \"Legal support\" "
          "--follow"));
    read->callback([] {
        auto node = open_node();
        auto gid = value_or_raise(node->resolve_group(group));
        auto messages = value_or_raise(node->messages(gid, limit));
        if (json) {
            auto j = nlohmann::json::array();
            for (const auto& m : messages) {
                nlohmann::json x = {
                    {"id", hex(m.id)},
                    {"author", m.author_name},
                    {"author_key", hex(m.author)},
                    {"verified", m.author_verified},
                    {"text", m.text},
                    {"lamport", m.lamport},
                    {"seq", m.seq},
                    {"time", objects::format_rfc3339(objects::seconds_of_ms(m.wall_ms),
                                                     objects::local_zone())},
                    {"time_ms", m.wall_ms}};
                if (m.devices > 0) {
                    x["device"] = m.device;
                    x["devices"] = m.devices;
                }
                j.push_back(std::move(x));
            }
            std::cout << j.dump(2) << "\n";
            return;
        }
        if (messages.empty() && !follow) std::cout << _("No messages yet.\n");
        std::set<core::RecordId> shown;
        std::set<core::MemberKey> warned;
        auto print = [&](const std::vector<core::MessageView>& list) {
            for (const auto& m : list) {
                if (!shown.insert(m.id).second) continue;
                if (m.devices > 0 && warned.insert(m.author).second)
                    std::cout << subst(_("! {} wrote from {} devices at once (the same identity "
                                         "on two machines, e.g. after a restore from a backup): "
                                         "their messages from then on are marked by device. If "
                                         "{} did not expect this, someone else may hold a copy "
                                         "of their identity.\n"),
                                       m.author_name, m.devices, m.author_name);
                std::string device;
                if (m.devices > 0)
                    device = m.device > 0 ? " " + subst(_("[device {}]"), m.device)
                                          : " " + std::string(_("[device ?]"));
                std::cout << format_time(m.wall_ms) << "  " << (m.author_verified ? "✓" : " ")
                          << m.author_name << device << ": " << m.text << std::endl;
            }
        };
        print(messages);
        if (follow) {
            // --limit bounds the history shown first, not what arrives: a batch of several
            // messages is shown whole. Everything held now counts as shown, so only what
            // arrives is printed, in the order of the group's history.
            for (const auto& m : value_or_raise(node->messages(gid, kAllMessages)))
                shown.insert(m.id);
            follow_group(*node, gid,
                         [&] { print(value_or_raise(node->messages(gid, kAllMessages))); });
        }
    });

    static std::size_t rlimit = 50;
    auto* rejected = app.add_subcommand("rejected", _("List records this store refused, and why"));
    rejected->add_option("--limit", rlimit, _("How many (default 50)"));
    rejected->add_flag("--json", json, _("Machine-readable output"));
    rejected->footer(_("Example:\n  kolokol rejected --json"));
    rejected->callback([] {
        auto node = open_node();
        auto list = node->rejections(rlimit);
        if (json) {
            auto j = nlohmann::json::array();
            for (const auto& r : list)
                j.push_back({{"id", hex(r.id)},
                             {"reason", std::string(core::reject_reason_name(r.reason))},
                             {"code", static_cast<int>(r.reason)},
                             {"detail", r.detail},
                             {"at_ms", r.at_ms}});
            std::cout << j.dump(2) << "\n";
            return;
        }
        std::cout << subst(
            P_("{} refused record.\n", "{} refused records.\n", node->rejection_count()),
            node->rejection_count());
        for (const auto& r : list)
            std::cout << format_time(r.at_ms) << "  " << short_hex(r.id) << "  "
                      << core::reject_reason_name(r.reason) << " (" << r.detail << ")\n";
    });
}

}  // namespace kolokol::cli

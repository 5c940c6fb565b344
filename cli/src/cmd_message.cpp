// kolokol post · read · rejected
#include <condition_variable>
#include <iostream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "delivery.hpp"
#include "i18n.hpp"
#include "kolokol/core/sync_service.hpp"
#include "kolokol/objects/time_text.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {
// What a follow waits for, told by the service's thread to the command's.
class FollowEvents final : public core::SyncObserver {
public:
    void on_event(const core::SyncEvent& event) override {
        using Kind = core::SyncEvent::Kind;
        if (event.kind != Kind::unreachable && event.kind != Kind::ended &&
            event.kind != Kind::route_failed)
            return;
        {
            std::lock_guard lock(m_mutex);
            m_ended = true;
            m_error = event.error;
        }
        m_changed.notify_all();
    }
    void on_arrived() override {
        {
            std::lock_guard lock(m_mutex);
            m_arrived = true;
        }
        m_changed.notify_all();
    }
    // Waits up to `pause` for something; returns whether envelopes arrived since last asked.
    bool wait(std::chrono::milliseconds pause) {
        std::unique_lock lock(m_mutex);
        m_changed.wait_for(lock, pause, [this] { return m_arrived || m_ended; });
        return std::exchange(m_arrived, false);
    }
    bool ended() {
        std::lock_guard lock(m_mutex);
        return m_ended;
    }
    std::optional<Error> error() {
        std::lock_guard lock(m_mutex);
        return m_error;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_arrived = false;
    bool m_ended = false;
    std::optional<Error> m_error;
};
}  // namespace

// Stays in a live session with the group's first relay, on a SyncService limited to it, until
// SIGINT/SIGTERM or the session ends. `arrived` runs on this thread, with the Node, after
// envelopes arrived.
void follow_group(core::Node& node, const core::GroupId& group,
                  std::function<void(core::Node&)> arrived) {
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
    core::SyncServiceOptions options;
    options.route = route_of(policy);
    options.only_groups = {group};
    options.relays_per_group = 1;
    options.redial = false;
    FollowEvents events;
    std::optional<Error> failed;
    {
        core::SyncService service(node, &events, std::move(options));
        service.update();
        // The signal handler's thread only requests the stop: this thread looks for it.
        while (!interrupt.interrupted() && !events.ended())
            if (events.wait(std::chrono::milliseconds(100))) service.with_node(arrived);
        if (events.wait(std::chrono::milliseconds(0))) service.with_node(arrived);
        service.stop();
        if (!interrupt.interrupted()) failed = events.error();
    }
    if (failed)
        throw CommandError(sync_failure_exit(*failed),
                           subst("{}: {}", relays.front(), translated(*failed)));
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
            follow_group(*node, gid, [&](core::Node& n) {
                print(value_or_raise(n.messages(gid, kAllMessages)));
            });
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

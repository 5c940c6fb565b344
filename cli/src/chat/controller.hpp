#pragma once
// What the chat screen shows and does, without ncurses: the groups with their unread counts,
// the current group's messages, notices from commands, and what a submitted line does (post,
// or a slash command as a thin wrapper over the same Node calls the CLI commands make).
//
// Threading: the screen's thread calls everything here; every Node call here holds the sync
// service's thread (SyncService::hold), which owns the Node. notify_status() may be called from
// any thread.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "chat/ui/screen.hpp"
#include "chat/ui/slash.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/core/sync_service.hpp"

namespace kolokol::cli::chat {

inline constexpr std::size_t kMessagesShown = 300;  // newest messages loaded per group
inline constexpr std::int64_t kEventsAheadMs = 48LL * 3600 * 1000;  // "due soon" in the strip
inline constexpr std::int64_t kAlertBadgeMs = 24LL * 3600 * 1000;   // alerts counted on badges

// A time as typed ("2026-11-23 18:00", "23.11.2026 18:00", "18:00" for today, local unless it
// names an offset; objects::parse_time_text) in the objects' form "YYYY-MM-DDTHH:MM:SSZ".
// nullopt when it is not a time.
std::optional<std::string> to_utc_datetime(std::string_view text);

class ChatController {
public:
    // `sync` owns the Node while the chat runs; with `online` false it is never asked to
    // connect (no background sync).
    ChatController(core::Node& node, core::SyncService& sync, bool online);

    // Chooses the group to show: `group` (a name or id prefix) or the first one. Fails with
    // the Node's error when the group is unknown, or not_found when there is no group at all.
    Status open(const std::optional<std::string>& group);
    // Reloads groups, unread counts and the current group's messages from the store.
    void refresh();
    // Moves to the next (+1) or previous (-1) group, wrapping around.
    void cycle(int delta);
    // Runs what was typed: a message is posted to the current group; a slash command runs.
    void submit(const std::string& line);
    // Page Up / Page Down in the message pane (lines; positive goes back in time).
    void scroll_by(int lines);

    ViewModel view(const LineEditor& input) const;
    // Whether the open group is live: a session that carries it (with one of its relays or
    // peers, or a member found on the LAN for it) is up, or a member is connected to this chat's
    // listener. Another group's session does not make this one live.
    bool live_here() const;
    bool quit_requested() const { return m_quit; }

    // A status line (from any thread); errors show in the error style.
    void notify_status(std::string text, bool error);
    // A notice after the messages, like a command's output (the screen's thread).
    void note(std::string text) { notice(std::move(text)); }

private:
    struct GroupState {
        core::GroupSummary summary;
        std::set<core::RecordId> seen;
        std::size_t unread = 0;
        std::size_t alerts = 0;  // alerts raised in the last day
        // Membership changes waiting for approvals, seen so far: a new one is announced.
        std::set<core::RecordId> proposals;
        bool loaded = false;
    };
    void load();
    void notice(std::string text);
    void run_command(const SlashCommand& command);
    // /pending and /approve ID: the proposals of docs/design.md §5.10.
    void run_proposal_command(const SlashCommand& command, const core::GroupId& group);
    void run_burn_command(const SlashCommand& command, const core::GroupId& group);
    // /event, /task, /case, /alert: one object change through Node::object_change.
    void run_object_command(const SlashCommand& command, const core::GroupId& group);
    void load_strip(const core::GroupId& group);
    void switch_to(std::size_t index);
    const core::GroupId* current_id() const;

    core::Node& m_node;
    core::SyncService& m_sync;
    core::SyncService* m_live;  // null when offline
    core::MemberKey m_me{};
    std::vector<GroupState> m_groups;
    std::size_t m_current = 0;
    std::vector<core::MessageView> m_messages;
    std::vector<MessageItem> m_notices;  // command output, shown after the messages
    std::vector<StripItem> m_strip;      // alerts, events due soon, open tasks
    std::size_t m_scroll = 0;
    std::chrono::steady_clock::time_point m_live_checked{};
    bool m_quit = false;
    mutable std::mutex m_status_mutex;
    std::string m_status;
    bool m_status_error = false;
};

}  // namespace kolokol::cli::chat

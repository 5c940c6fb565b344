#include "chat/controller.hpp"

#include <chrono>
#include <ctime>

#include "network.hpp"
#include "proposals.hpp"
// i18n.hpp after the other headers: `_` is a macro.
#include "i18n.hpp"
#include "kolokol/core/identity.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"
#include "kolokol/storage/wall_clock.hpp"

namespace kolokol::cli::chat {

namespace {

constexpr std::size_t kMaxNotices = 60;

// "14:05" for today, "21.11 14:05" before (the author's clock: untrusted, display only).
std::string short_time(std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    const std::time_t now = std::time(nullptr);
    std::tm tm{}, today{};
    localtime_r(&t, &tm);
    localtime_r(&now, &today);
    char buf[32];
    const bool same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
    std::strftime(buf, sizeof buf, same_day ? "%H:%M" : "%d.%m %H:%M", &tm);
    return buf;
}

// An object's datetime field ("YYYY-MM-DDTHH:MM:SSZ") in local time, "23.11 18:00".
std::string local_datetime(std::string_view iso) {
    auto seconds = objects::parse_datetime(iso);
    if (!seconds) return std::string(iso);
    return short_time(*seconds * 1000);
}

std::int64_t now_ms() {
    return storage::wall_clock_ms();
}

std::string trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return std::string(s);
}

// The free text after the first word of a command's arguments.
std::string after_first_word(const std::string& rest) {
    auto space = rest.find(' ');
    return space == std::string::npos ? std::string() : trim(std::string_view(rest).substr(space));
}

// "Title @ place" → {"Title", "place"}.
std::pair<std::string, std::string> split_place(const std::string& text) {
    auto at = text.find(" @ ");
    if (at == std::string::npos) return {trim(text), {}};
    return {trim(std::string_view(text).substr(0, at)),
            trim(std::string_view(text).substr(at + 3))};
}

}  // namespace

std::optional<std::string> to_utc_datetime(std::string_view text) {
    auto stored = objects::time_text_to_field(text, now_ms() / 1000, objects::local_zone());
    if (!stored) return std::nullopt;
    return *stored;
}

ChatController::ChatController(core::Node& node, core::SyncService& sync, bool online)
    : m_node(node), m_sync(sync), m_live(online ? &sync : nullptr) {
    auto hold = m_sync.hold();
    m_me = m_node.me();
}

const core::GroupId* ChatController::current_id() const {
    return m_current < m_groups.size() ? &m_groups[m_current].summary.id : nullptr;
}

Status ChatController::open(const std::optional<std::string>& group) {
    std::optional<core::GroupId> wanted;
    {
        auto hold = m_sync.hold();
        if (group) {
            auto id = m_node.resolve_group(*group);
            if (!id) return std::unexpected(id.error());
            wanted = *id;
        } else if (m_node.groups().empty()) {
            return fail(core::CoreErrc::not_found,
                        _("you are in no group yet: create one with `kolokol group create NAME` "
                          "or join with `kolokol group join TOKEN`"));
        }
    }
    refresh();
    if (wanted)
        for (std::size_t i = 0; i < m_groups.size(); ++i)
            if (m_groups[i].summary.id == *wanted) switch_to(i);
    notice(
        _("Type a message and press Enter. /help lists the commands; Tab switches groups; "
          "Ctrl-C quits."));
    return {};
}

void ChatController::refresh() {
    // What another process wrote to the store meanwhile (`kolokol post`) goes out live too.
    if (m_live) m_live->written();
    load();
    // New relays, or rotations that gave the group new mailboxes, restart the live syncs.
    const auto now = std::chrono::steady_clock::now();
    if (m_live && now - m_live_checked > std::chrono::seconds(3)) {
        m_live_checked = now;
        m_live->update();
    }
}

void ChatController::load() {
    auto hold = m_sync.hold();
    const std::optional<core::GroupId> current =
        current_id() ? std::optional(*current_id()) : std::nullopt;
    std::vector<GroupState> next;
    for (auto& summary : m_node.groups()) {
        GroupState g;
        for (auto& old : m_groups)
            if (old.summary.id == summary.id) g = std::move(old);
        g.summary = std::move(summary);
        next.push_back(std::move(g));
    }
    m_groups = std::move(next);
    m_current = 0;
    for (std::size_t i = 0; i < m_groups.size(); ++i)
        if (current && m_groups[i].summary.id == *current) m_current = i;

    for (std::size_t i = 0; i < m_groups.size(); ++i) {
        auto& g = m_groups[i];
        auto messages = m_node.messages(g.summary.id, kMessagesShown);
        if (!messages) continue;
        // What was there when the chat opened counts as read; so does all of the group shown.
        const bool first_load = !g.loaded;
        const bool mark_all = first_load || i == m_current;
        g.loaded = true;
        g.unread = 0;
        for (const auto& m : *messages) {
            if (mark_all || m.author == m_me)
                g.seen.insert(m.id);
            else if (!g.seen.contains(m.id))
                ++g.unread;
        }
        if (i == m_current) m_messages = std::move(*messages);
        if (auto waiting = m_node.pending(g.summary.id)) {
            for (const auto& p : *waiting) {
                if (!g.proposals.insert(p.id).second || first_load) continue;
                notice(subst(_("Waiting for approvals in {}: {}. /approve {} approves it."),
                             g.summary.name, proposal_change(m_node, p), proposal_id_text(p.id)));
            }
        }
        g.alerts = 0;
        if (auto alerts = m_node.alerts(g.summary.id))
            for (const auto& a : *alerts)
                if (a.created_wall_clock_ms > now_ms() - kAlertBadgeMs) ++g.alerts;
    }
    if (m_groups.empty()) {
        m_messages.clear();
        m_strip.clear();
    } else {
        load_strip(m_groups[m_current].summary.id);
    }
}

void ChatController::load_strip(const core::GroupId& group) {
    m_strip.clear();
    if (auto alerts = m_node.alerts(group)) {
        for (const auto& a : *alerts) {
            const auto urgency = a.get("urgency");
            const char* pattern = urgency == "critical" ? _("CRITICAL: {}")
                                  : urgency == "urgent" ? _("URGENT: {}")
                                                        : _("Alert: {}");
            m_strip.push_back({Style::alert, "⚠ " + subst(pattern, a.get("text"))});
        }
    }
    if (auto waiting = m_node.pending(group)) {
        for (const auto& p : *waiting)
            m_strip.push_back(
                {Style::alert, subst(P_("Waiting: {} ({} of {} approval)",
                                        "Waiting: {} ({} of {} approvals)", p.needed),
                                     proposal_change(m_node, p), p.approvers.size(), p.needed) +
                                   "  #" + proposal_id_text(p.id)});
    }
    const std::int64_t now = now_ms();
    if (auto events = m_node.events_due(group, now, now + kEventsAheadMs)) {
        for (const auto& e : *events) {
            std::string line =
                subst(_("Event {}: {}"), local_datetime(e.get("starts")), e.get("title"));
            if (!e.get("place").empty()) line += " @ " + std::string(e.get("place"));
            m_strip.push_back({Style::unread, line});
        }
    }
    if (auto tasks = m_node.open_tasks(group)) {
        for (const auto& t : *tasks) {
            std::string line = subst(_("Task: {}"), t.get("title"));
            if (!t.get("due").empty())
                line += " " + subst(_("(due {})"), local_datetime(t.get("due")));
            line += "  #" + crypto::hex_encode(ByteView(t.id).first(2));
            m_strip.push_back({Style::normal, line});
        }
    }
}

void ChatController::switch_to(std::size_t index) {
    if (index >= m_groups.size() || index == m_current) return;
    m_current = index;
    m_scroll = 0;
    m_notices.clear();
    auto& g = m_groups[m_current];
    g.unread = 0;
    auto hold = m_sync.hold();
    if (auto messages = m_node.messages(g.summary.id, kMessagesShown)) {
        m_messages = std::move(*messages);
        for (const auto& m : m_messages) g.seen.insert(m.id);
    }
}

void ChatController::cycle(int delta) {
    if (m_groups.size() < 2) return;
    const auto n = static_cast<long>(m_groups.size());
    const long next = ((static_cast<long>(m_current) + delta) % n + n) % n;
    switch_to(static_cast<std::size_t>(next));
}

void ChatController::scroll_by(int lines) {
    if (lines < 0 && static_cast<std::size_t>(-lines) > m_scroll)
        m_scroll = 0;
    else
        m_scroll = static_cast<std::size_t>(static_cast<long>(m_scroll) + lines);
    // Past the oldest line the renderer shows the oldest page; keep the number bounded.
    m_scroll = std::min<std::size_t>(m_scroll, kMessagesShown * 64);
}

void ChatController::notice(std::string text) {
    MessageItem item;
    item.notice = true;
    item.text = std::move(text);
    m_notices.push_back(std::move(item));
    if (m_notices.size() > kMaxNotices)
        m_notices.erase(m_notices.begin(),
                        m_notices.begin() + static_cast<long>(m_notices.size() - kMaxNotices));
    m_scroll = 0;
}

void ChatController::notify_status(std::string text, bool error) {
    std::lock_guard lock(m_status_mutex);
    m_status = std::move(text);
    m_status_error = error;
}

void ChatController::submit(const std::string& line) {
    auto parsed = parse_input(line);
    switch (parsed.kind) {
        case ParsedInput::Kind::empty:
            return;
        case ParsedInput::Kind::error:
            notify_status(parsed.error, true);
            return;
        case ParsedInput::Kind::command:
            run_command(parsed.command);
            return;
        case ParsedInput::Kind::message:
            break;
    }
    const core::GroupId* gid = current_id();
    if (!gid) {
        notify_status(_("No group to post to."), true);
        return;
    }
    {
        auto hold = m_sync.hold();
        auto r = m_node.post(*gid, parsed.message);
        if (!r) {
            notify_status(subst(_("Not sent: {}"), translated(r.error())), true);
            return;
        }
        if (m_live) m_live->written();
    }
    m_scroll = 0;
    refresh();
}

bool ChatController::live_here() const {
    if (!m_live || m_current >= m_groups.size()) return false;
    if (m_live->incoming() > 0) return true;
    const auto& id = m_groups[m_current].summary.id;
    for (const auto& s : m_live->sessions())
        if (s.connected && s.groups.contains(id)) return true;
    return false;
}

ViewModel ChatController::view(const LineEditor& input) const {
    ViewModel v;
    std::size_t members = 0;
    if (current_id()) {
        const auto& s = m_groups[m_current].summary;
        members = s.members;
        v.title = subst(P_("{} · {} member", "{} · {} members", members), s.name, members);
        if (live_here()) v.title += subst(" · {}", _("live"));
        // The reason is a message literal of the core (KOLOKOL_TEXT): looked up as such.
        if (!s.rotation_needed.empty())
            v.title += " · " + std::string(_(s.rotation_needed.c_str()));
    } else {
        v.title = _("No group");
    }
    for (std::size_t i = 0; i < m_groups.size(); ++i)
        v.groups.push_back(
            {m_groups[i].summary.name, m_groups[i].unread, m_groups[i].alerts, i == m_current});
    v.strip = m_strip;
    for (const auto& m : m_messages)
        v.messages.push_back({short_time(m.wall_ms), m.author_name, m.author_verified,
                              m.author == m_me, false, m.text});
    v.messages.insert(v.messages.end(), m_notices.begin(), m_notices.end());
    v.scroll_back = m_scroll;
    {
        std::lock_guard lock(m_status_mutex);
        v.status = m_status;
        v.status_error = m_status_error;
    }
    v.prompt = "> ";
    v.input = &input;
    return v;
}

void ChatController::run_command(const SlashCommand& c) {
    const core::GroupId* gid = current_id();
    if (c.name == "quit" || c.name == "q" || c.name == "exit") {
        m_quit = true;
        return;
    }
    if (c.name == "help" || c.name == "?") {
        for (const char* line :
             {N_("/group NAME — show another group (Tab and Shift-Tab also switch)"),
              N_("/members — who is in this group; ✓ marks members you verified"),
              N_("/verify NAME [confirm] — your safety number with a member; add confirm once "
                 "you compared it in person"),
              N_("/sync — reconnect to the group's relays and peers now"),
              N_("/peers — the live sessions: relays, peers, LAN members, and your listener"),
              N_("/alert [normal|urgent|critical] TEXT — raise an alert everyone sees at the top "
                 "(urgent unless you say)"),
              N_("/event WHEN TITLE [@ PLACE] — an event; WHEN in your local time: 2026-03-01 "
                 "18:00, 01.03.2026 18:00, or 18:00 today"),
              N_("/task TITLE — an open task; /task done ID marks it done"),
              N_("/case NAME [@ WHERE] — open a detention case"),
              N_("/pending — membership changes waiting for admins' approvals"),
              N_("/approve ID — approve one of them (admins; ID as /pending shows it)"),
              N_("/compromised NAME [confirm] — burn notice: NAME's device is in other hands; "
                 "remove them, rotate, alert the group (admins; add confirm to send it)"),
              N_("/quit — leave the chat (Ctrl-C also quits)"),
              N_("PgUp/PgDn scroll; Up/Down recall what you typed; //text sends a line "
                 "starting with /")})
            notice(_(line));
        return;
    }
    if (c.name == "group" || c.name == "g") {
        if (c.rest.empty()) {
            notify_status(_("Usage: /group NAME"), true);
            return;
        }
        std::optional<core::GroupId> id;
        {
            auto hold = m_sync.hold();
            auto r = m_node.resolve_group(c.rest);
            if (!r) {
                notify_status(translated(r.error()), true);
                return;
            }
            id = *r;
        }
        for (std::size_t i = 0; i < m_groups.size(); ++i)
            if (m_groups[i].summary.id == *id) switch_to(i);
        return;
    }
    if (!gid) {
        notify_status(_("No group is open."), true);
        return;
    }
    if (c.name == "members") {
        auto hold = m_sync.hold();
        auto members = m_node.members(*gid);
        if (!members) {
            notify_status(translated(members.error()), true);
            return;
        }
        for (const auto& m : *members) {
            std::string line = (m.verified ? "✓ " : "  ") + m.name + "  " +
                               crypto::hex_encode(ByteView(m.key).first(8));
            if (m.admin) line += " · " + std::string(_("admin"));
            if (m.me) line += " · " + std::string(_("you"));
            m_notices.push_back({"", "", false, false, true, line});
        }
        m_scroll = 0;
        return;
    }
    if (c.name == "verify") {
        if (c.args.empty() || c.args.size() > 2 || (c.args.size() == 2 && c.args[1] != "confirm")) {
            notify_status(_("Usage: /verify NAME [confirm]"), true);
            return;
        }
        std::string result;
        {
            auto hold = m_sync.hold();
            auto key = m_node.resolve_member(*gid, c.args[0]);
            if (!key) {
                notify_status(translated(key.error()), true);
                return;
            }
            const std::string number = core::safety_number(m_node.me(), *key);
            notice(subst(_("Safety number with {}: {}"), m_node.display_name_of(*key), number));
            if (c.args.size() == 2) {
                if (auto s = m_node.mark_verified(*key); !s) {
                    notify_status(translated(s.error()), true);
                    return;
                }
                notice(subst(_("{} is now marked verified."), m_node.display_name_of(*key)));
            } else {
                notice(
                    _("Compare it in person; if every digit matches, run /verify NAME confirm."));
            }
        }
        refresh();
        return;
    }
    if (c.name == "sync") {
        const bool listening = m_live && m_live->listening();
        {
            auto hold = m_sync.hold();
            auto done = m_node.maintain();
            if (done)
                for (const auto& line : *done) notice(line);
            if (m_node.relays(*gid).empty() && !listening) {
                notify_status(_("This group has no relay: an admin can add one with `kolokol "
                                "group relay add`."),
                              true);
                return;
            }
        }
        if (m_live) {
            m_live->update();
            m_live->reconnect();
        }
        notify_status(_("Reconnecting to the relays and peers…"), false);
        return;
    }
    if (c.name == "peers") {
        if (!m_live) {
            notify_status(_("Offline: no live session."), true);
            return;
        }
        auto sessions = m_live->sessions();
        notice(_("Live sessions:"));
        // Each session by its address, then per group it carries "GROUP-ID · state".
        for (const auto& s : sessions) {
            notice(s.peer);
            const std::string state =
                s.last ? sync_event_text(*s.last) : std::string(_("connecting…"));
            for (const auto& g : s.groups)
                notice("  " + crypto::hex_encode(ByteView(g).first(4)) + " · " + state);
        }
        if (m_live->listening())
            notice(subst(P_("Listening: {} member connected to you",
                            "Listening: {} members connected to you", m_live->incoming()),
                         m_live->incoming()) +
                   (m_live->lan() ? std::string(" · ") + _("LAN discovery on") : std::string()));
        if (sessions.empty() && !m_live->listening())
            notice(_("No relay or peer listed for your groups, and not listening."));
        return;
    }
    if (c.name == "event" || c.name == "task" || c.name == "case" || c.name == "alert") {
        run_object_command(c, *gid);
        return;
    }
    if (c.name == "pending" || c.name == "approve" || c.name == "compromised") {
        run_proposal_command(c, *gid);
        return;
    }
    notify_status(subst(_("Unknown command /{}: /help lists them."), c.name), true);
}

void ChatController::run_proposal_command(const SlashCommand& c, const core::GroupId& group) {
    if (c.name == "compromised") {
        run_burn_command(c, group);
        return;
    }
    if (c.name == "pending") {
        if (!c.args.empty()) {
            notify_status(_("Usage: /pending"), true);
            return;
        }
        auto hold = m_sync.hold();
        auto waiting = m_node.pending(group);
        if (!waiting) {
            notify_status(translated(waiting.error()), true);
            return;
        }
        if (waiting->empty()) notice(_("No changes are waiting for approvals."));
        for (const auto& p : *waiting) notice(proposal_line(m_node, p));
        return;
    }
    if (c.args.size() != 1) {
        notify_status(_("Usage: /approve ID"), true);
        return;
    }
    {
        auto hold = m_sync.hold();
        auto id = m_node.resolve_proposal(group, c.args[0]);
        if (!id) {
            notify_status(translated(id.error()), true);
            return;
        }
        std::string change, alert;
        if (auto waiting = m_node.pending(group))
            for (const auto& p : *waiting)
                if (p.id == *id) {
                    change = proposal_change(m_node, p);
                    alert = proposal_alert(m_node, p);
                }
        if (auto s = m_node.approve(group, *id, alert); !s) {
            notify_status(subst(_("Not approved: {}"), translated(s.error())), true);
            return;
        }
        bool still = false;
        if (auto waiting = m_node.pending(group))
            for (const auto& p : *waiting) still = still || p.id == *id;
        notice(still ? subst(_("Approved: {}. It waits for more approvals."), change)
                     : subst(_("Approved: {}. It has taken effect."), change));
        if (m_live) m_live->written();
    }
    refresh();
}

// `group compromised` from the chat (§5.11), without --at: the first time it only says what it
// would do, and `confirm` sends it — a burn notice cannot be taken back.
void ChatController::run_burn_command(const SlashCommand& c, const core::GroupId& group) {
    if (c.args.empty() || c.args.size() > 2 || (c.args.size() == 2 && c.args[1] != "confirm")) {
        notify_status(_("Usage: /compromised NAME [confirm]"), true);
        return;
    }
    {
        auto hold = m_sync.hold();
        auto who = m_node.resolve_member(group, c.args[0]);
        if (!who) {
            notify_status(translated(who.error()), true);
            return;
        }
        const auto name = m_node.display_name_of(*who);
        if (c.args.size() == 1) {
            notice(subst(_("A burn notice removes {} from the group, rotates its key, alerts "
                           "everyone and rejects whatever their keys sign from now on. It cannot "
                           "be taken back. To send it: /compromised {} confirm"),
                         name, c.args[0]));
            return;
        }
        auto done = m_node.burn_member(group, *who, 0, burn_alert_text(name, {}));
        if (!done) {
            notify_status(subst(_("No burn notice: {}"), translated(done.error())), true);
            return;
        }
        if (done->effective) {
            notice(subst(_("Burn notice sent: removed {}, rotated the group's key and posted an "
                           "alert."),
                         name));
        } else {
            const auto more = done->needed > done->approvers ? done->needed - done->approvers : 0;
            notice(subst(P_("Burn notice for {} proposed ({}): it waits for {} more approval "
                            "(/approve).",
                            "Burn notice for {} proposed ({}): it waits for {} more approvals "
                            "(/approve).",
                            more),
                         name, proposal_id_text(done->notice), more));
        }
        if (m_live) m_live->written();
    }
    refresh();
}

void ChatController::run_object_command(const SlashCommand& c, const core::GroupId& group) {
    core::ObjectEdit edit;
    edit.type = c.name;
    std::string done;
    if (c.name == "alert") {
        std::string text = c.rest;
        // Without a level the type's default (urgent) applies, as for `kolokol alert`.
        if (!c.args.empty() &&
            (c.args[0] == "normal" || c.args[0] == "urgent" || c.args[0] == "critical")) {
            edit.set["urgency"] = c.args[0];
            text = after_first_word(c.rest);
        }
        if (text.empty()) {
            notify_status(_("Usage: /alert [normal|urgent|critical] TEXT"), true);
            return;
        }
        edit.set["text"] = text;
        done = _("Alert raised.");
    } else if (c.name == "task") {
        if (c.args.size() == 2 && c.args[0] == "done") {
            auto hold = m_sync.hold();
            auto id = m_node.resolve_object(group, c.args[1], "task");
            if (!id) {
                notify_status(translated(id.error()), true);
                return;
            }
            edit.object = *id;
            edit.set["status"] = "done";
            done = _("Task marked done.");
        } else if (c.rest.empty()) {
            notify_status(_("Usage: /task TITLE, or /task done ID (the #id shown in the strip)"),
                          true);
            return;
        } else {
            edit.set["title"] = c.rest;
            done = _("Task added.");
        }
    } else if (c.name == "event") {
        // The time is one word ("18:00", "2026-03-01T18:00", "01.03.2026") or a date and a
        // time ("2026-03-01 18:00"), read as `kolokol event add --at` reads it.
        std::optional<std::string> when;
        std::string rest = after_first_word(c.rest);
        if (c.args.size() >= 2)
            if ((when = to_utc_datetime(c.args[0] + " " + c.args[1])))
                rest = after_first_word(rest);
        if (!when && !c.args.empty()) when = to_utc_datetime(c.args[0]);
        auto [title, place] = split_place(rest);
        if (!when || title.empty()) {
            notify_status(_("Usage: /event WHEN TITLE [@ PLACE], WHEN in your local time: "
                            "2026-03-01 18:00, 01.03.2026 18:00 or 18:00 for today"),
                          true);
            return;
        }
        edit.set["starts"] = *when;
        edit.set["title"] = title;
        if (!place.empty()) edit.set["place"] = place;
        done = _("Event added.");
    } else {  // case
        auto [person, where] = split_place(c.rest);
        if (person.empty()) {
            notify_status(_("Usage: /case NAME [@ WHERE DETAINED]"), true);
            return;
        }
        edit.set["person"] = person;
        if (auto now = objects::format_datetime(now_ms() / 1000)) edit.set["detained_at"] = *now;
        if (!where.empty()) edit.set["detained_where"] = where;
        done = _("Case opened; `kolokol case` adds the timeline, lawyer and ledger.");
    }
    {
        auto hold = m_sync.hold();
        auto r = m_node.object_change(group, edit);
        if (!r) {
            notify_status(subst(_("Not saved: {}"), translated(r.error())), true);
            return;
        }
        if (m_live) m_live->written();
    }
    notify_status(done, false);
    refresh();
}

}  // namespace kolokol::cli::chat

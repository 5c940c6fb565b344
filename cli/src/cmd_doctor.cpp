// kolokol doctor — checks the home, the store, the clock and the relays, and says what to fix.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "clock.hpp"
#include "kolokol/storage/wall_clock.hpp"
#include "kolokol/transport/address.hpp"
#include "kolokol/transport/probe.hpp"
#include "kolokol/transport/tor_check.hpp"
#include "network.hpp"
#include "node_session.hpp"
#include "rekey_warning.hpp"
#include "store_gone.hpp"
#include "terminal.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

namespace fs = std::filesystem;

enum class Verdict { ok, problem, note };

struct Finding {
    std::string check;  // permissions, store, clock, proxy, relay, control
    Verdict verdict = Verdict::ok;
    std::string detail;
    std::string fix;  // empty when there is nothing to do
};

struct DoctorArgs {
    bool json = false;
    unsigned timeout_s = 5;
};
DoctorArgs& args() {
    static DoctorArgs a;
    return a;
}

constexpr std::int64_t kSkewLimitMs = 5 * 60 * 1000;
constexpr std::size_t kClockSamples = 200;

// Quotes a path for a shell command the user will copy.
std::string shell_quote(const std::string& s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789/._-+~") == std::string::npos)
        return s;
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03o", static_cast<unsigned>(mode & 0777));
    return buf;
}

void check_permissions(const std::string& home, std::vector<Finding>& out) {
    struct stat st {};
    if (::lstat(home.c_str(), &st) != 0) {
        out.push_back({"permissions", Verdict::problem,
                       subst(_("there is no home directory at {}"), home),
                       _("run `kolokol init` (or `kolokol restore FILE`) to create one")});
        return;
    }
    std::size_t before = out.size();
    if (!S_ISDIR(st.st_mode)) {
        out.push_back({"permissions", Verdict::problem, subst(_("{} is not a directory"), home),
                       _("point --home at the directory that holds store.key and store.db")});
        return;
    }
    if (st.st_uid != ::geteuid())
        out.push_back({"permissions", Verdict::problem,
                       subst(_("{} belongs to another user (uid {})"), home, st.st_uid),
                       subst(_("chown -R $(id -u) {}"), shell_quote(home))});
    if ((st.st_mode & 0077) != 0)
        out.push_back({"permissions", Verdict::problem,
                       subst(_("{} can be opened by other users (mode {}, should be 700)"), home,
                             octal(st.st_mode)),
                       subst(_("chmod 700 {}"), shell_quote(home))});
    std::error_code ec;
    for (fs::directory_iterator it(home, ec), end; !ec && it != end; it.increment(ec)) {
        auto path = it->path().string();
        struct stat fst {};
        if (::lstat(path.c_str(), &fst) != 0) continue;
        if (S_ISLNK(fst.st_mode)) {
            out.push_back(
                {"permissions", Verdict::problem,
                 subst(_("{} is a symbolic link; the store's files must be its own"), path),
                 subst(_("replace the link by the file itself: cp --remove-destination "
                         "\"$(readlink -f {})\" {}"),
                       shell_quote(path), shell_quote(path))});
            continue;
        }
        if (fst.st_uid != ::geteuid())
            out.push_back({"permissions", Verdict::problem,
                           subst(_("{} belongs to another user (uid {})"), path, fst.st_uid),
                           subst(_("chown $(id -u) {}"), shell_quote(path))});
        mode_t want = S_ISDIR(fst.st_mode) ? 0700 : 0600;
        if ((fst.st_mode & 0077) != 0)
            out.push_back({"permissions", Verdict::problem,
                           subst(_("{} can be read by other users (mode {}, should be {})"), path,
                                 octal(fst.st_mode), octal(want)),
                           subst(_("chmod {} {}"), octal(want), shell_quote(path))});
    }
    if (ec)
        out.push_back({"permissions", Verdict::problem,
                       subst(_("cannot list {}: {}"), home, ec.message()),
                       subst(_("chmod 700 {}"), shell_quote(home))});
    if (out.size() == before)
        out.push_back({"permissions", Verdict::ok,
                       subst(_("{} and its files are yours alone (700/600)"), home), ""});
}

// Connects to a relay and completes the Noise handshake within `timeout`; the round trip.
Result<std::chrono::milliseconds> probe(const transport::Address& address,
                                        std::chrono::milliseconds timeout,
                                        const NetworkPolicy& policy) {
    transport::ConnectOptions options;
    options.connect_timeout = timeout;
    policy.apply(options, address.to_string(), nullptr);  // through the proxy, if set
    options.session.handshake_timeout = timeout;
    return transport::probe(address, std::move(options));
}

// The user owning the socket that listens on loopback port `port` of this machine (from
// /proc/net/tcp and tcp6: state 0A, a loopback or wildcard address); nullopt when none is seen.
std::optional<uid_t> loopback_listener_uid(std::uint16_t port) {
    for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line);  // the header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state, queues, timer, retransmits;
            unsigned long uid = 0;
            if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >>
                  uid))
                continue;
            const auto colon = local.rfind(':');
            if (state != "0A" || colon == std::string::npos) continue;
            if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
            const auto ip = local.substr(0, colon);
            const bool loopback_or_any = ip == "0100007F" || ip == "00000000" ||
                                         ip == std::string(32, '0') ||
                                         ip == "00000000000000000000000001000000" ||
                                         ip == "0000000000000000FFFF00000100007F";
            if (loopback_or_any) return static_cast<uid_t>(uid);
        }
    }
    return std::nullopt;
}

// Whether a local listener of `uid` may be the member's Tor: Debian's tor runs as debian-tor,
// a Tor the member started runs as the member, and root is trusted with everything anyway.
// Anyone else may have taken the port while Tor was down.
bool may_be_tor(uid_t uid) {
    if (uid == 0 || uid == ::getuid()) return true;
    const passwd* tor_user = ::getpwnam("debian-tor");
    return tor_user != nullptr && tor_user->pw_uid == uid;
}

std::string user_name(uid_t uid) {
    const passwd* p = ::getpwuid(uid);
    return p != nullptr ? std::string(p->pw_name) : std::to_string(uid);
}

// With a proxy set: whether it answers as Tor (transport::proxy_answers_as_tor). A Tor-only
// group's promise rests on it; for other groups it is a note.
void check_proxy(core::Node& node, std::vector<Finding>& out) {
    auto policy = network_policy(node);
    if (!policy.proxy) return;
    bool tor_only = false;
    for (const auto& g : node.groups()) tor_only = tor_only || node.tor_only(g.id);
    const auto proxy = policy.proxy->to_string();
    auto timeout = std::chrono::milliseconds(std::chrono::seconds(args().timeout_s));
    auto tor = transport::proxy_answers_as_tor(*policy.proxy, timeout);
    if (!tor) {
        out.push_back(
            {"proxy", Verdict::problem,
             subst(_("the proxy {} cannot be reached: {}"), proxy, translated(tor.error())),
             _("start Tor (`sudo systemctl start tor`) or set the proxy again with "
               "`kolokol proxy set`")});
    } else if (const bool local = policy.proxy->host == "127.0.0.1" || policy.proxy->host == "::1";
               *tor && local && loopback_listener_uid(policy.proxy->port) &&
               !may_be_tor(*loopback_listener_uid(policy.proxy->port))) {
        out.push_back(
            {"proxy", tor_only ? Verdict::problem : Verdict::note,
             subst(_("the proxy {} answers as Tor, but its port is held by the user {}, not by "
                     "Tor's user (debian-tor) or you: someone may have taken it while Tor was "
                     "down"),
                   proxy, user_name(*loopback_listener_uid(policy.proxy->port))),
             _("stop that program, then start Tor (`sudo systemctl restart tor`)")});
    } else if (*tor) {
        out.push_back({"proxy", Verdict::ok,
                       subst(_("the proxy {} answers as Tor (it refuses HTTP the way Tor's SOCKS "
                               "port does)"),
                             proxy),
                       ""});
    } else {
        out.push_back({"proxy", tor_only ? Verdict::problem : Verdict::note,
                       subst(_("the proxy {} does not answer as Tor: it is some other SOCKS5 "
                               "proxy, which sees where you connect"),
                             proxy),
                       tor_only ? _("Tor-only groups need Tor: run Debian's tor (with bridges if "
                                    "Tor is blocked, see the README) and `kolokol proxy set "
                                    "socks5://127.0.0.1:9050`")
                                : std::string()});
    }
}

void check_relays(core::Node& node, std::vector<Finding>& out) {
    std::set<std::string> addresses, through_proxy;
    // A Tor-only group's relays are never probed directly.
    auto policy = network_policy(node);
    for (const auto& g : node.groups()) {
        // Every address of every relay: an admin retires the ones that are blocked.
        auto relays = node.relay_addresses(g.id);
        if (!policy.allows(g.id)) {
            out.push_back({"relay", Verdict::note,
                           subst(_("group \"{}\" is Tor only and no proxy is set: its relays "
                                   "were not probed"),
                                 g.name),
                           _("kolokol proxy set socks5://127.0.0.1:9050")});
            continue;
        }
        if (relays.empty())
            out.push_back({"relay", Verdict::note,
                           subst(_("group \"{}\" has no relay: its members sync only by file or "
                                   "directly"),
                                 g.name),
                           ""});
        addresses.insert(relays.begin(), relays.end());
        if (policy.proxy && node.tor_only(g.id)) through_proxy.insert(relays.begin(), relays.end());
    }
    if (addresses.empty()) return;
    auto timeout = std::chrono::milliseconds(std::chrono::seconds(args().timeout_s));
    for (const auto& text : addresses) {
        auto address = transport::Address::parse(text);
        if (!address) {
            out.push_back(
                {"relay", Verdict::problem,
                 subst(_("{} is not a valid relay address: {}"), text, translated(address.error())),
                 _("ask your group's admin to set it again with `kolokol group relay "
                   "add`")});
            continue;
        }
        // A freeze seen there (core/sync_once): syncs with it go in short connections.
        if (auto limit = node.freeze_limit(address->to_string()))
            out.push_back(
                {"relay", Verdict::note,
                 subst(_("connections to {} froze after about {} bytes: syncs with it use short "
                         "connections under that, each fetching on where the last one stopped"),
                       text, *limit),
                 ""});
        auto rtt = probe(*address, timeout, policy);
        if (rtt && through_proxy.contains(text))
            out.push_back({"relay", Verdict::ok,
                           subst(_("{} (of a Tor-only group) answered through the proxy and "
                                   "proved its key in {} ms"),
                                 text, rtt->count()),
                           ""});
        else if (rtt)
            out.push_back({"relay", Verdict::ok,
                           subst(_("{} answered and proved its key in {} ms"), text, rtt->count()),
                           ""});
        else
            out.push_back(
                {"relay", Verdict::problem,
                 subst(_("{} cannot be reached: {}"), text, translated(rtt.error())),
                 _("check this device's network (and Tor or a VPN if you use one); if it "
                   "persists, tell your group's admin — the relay may be down or have moved")});
    }
}

// Control records other members' records name that never reached this member (§5.12): said
// only when there are some.
void check_control(core::Node& node, std::vector<Finding>& out) {
    for (const auto& g : node.groups()) {
        auto missing = node.missing_control(g.id);
        if (!missing || missing->empty()) continue;
        std::string names;
        for (const auto& m : *missing)
            for (const auto& k : m.referrers) {
                const auto name = node.display_name_of(k);
                if (names.find(name) == std::string::npos)
                    names += (names.empty() ? "" : ", ") + name;
            }
        const std::string group = g.name.empty() ? short_hex(g.id) : g.name;
        out.push_back({"control", Verdict::problem,
                       subst(P_("\"{}\": {} control record that records of {} name has not "
                                "reached you",
                                "\"{}\": {} control records that records of {} name have not "
                                "reached you",
                                missing->size()),
                             group, missing->size(), names),
                       _("sync with another relay or by file, and compare `kolokol group audit` "
                         "with other members: a relay may be withholding it")});
    }
}

void check_clock(core::Node& node, std::vector<Finding>& out) {
    const auto now = storage::wall_clock_ms();
    // 2024-01-01: a clock before this has been reset (a dead battery, a fresh device).
    if (now < 1704067200000LL) {
        out.push_back(
            {"clock", Verdict::problem,
             subst(_("this device's clock says {}, which is in the past"), format_time(now)),
             _("set the date and time (or turn on automatic time) in the system "
               "settings")});
        return;
    }
    auto report = node.clock_report(kClockSamples);
    if (report.samples == 0) {
        out.push_back({"clock", Verdict::note,
                       _("clock skew not measured: no records from other members yet"), ""});
        return;
    }
    if (report.ahead_ms > kSkewLimitMs) {
        out.push_back({"clock", Verdict::problem,
                       subst(P_("a member's clock is at least {} minute ahead of this device's "
                                "(or this one is behind)",
                                "a member's clock is at least {} minutes ahead of this device's "
                                "(or this one is behind)",
                                report.ahead_ms / 60000),
                             report.ahead_ms / 60000),
                       _("check this device's date, time and time zone; if they are right, tell "
                         "the group that someone's clock is ahead")});
        return;
    }
    out.push_back({"clock", Verdict::ok,
                   subst(P_("no sign of clock skew in the {} newest record from other members "
                            "(a clock behind this one's cannot be seen this way)",
                            "no sign of clock skew in the {} newest records from other members "
                            "(a clock behind this one's cannot be seen this way)",
                            report.samples),
                         report.samples),
                   ""});
}

// The check's name as shown; --json keeps the English key.
std::string check_label(const std::string& check) {
    if (check == "permissions") return _("permissions");
    if (check == "store") return _("store");
    if (check == "clock") return _("clock");
    if (check == "relay") return _("relay");
    if (check == "proxy") return _("proxy");
    if (check == "control") return _("control records");
    return check;
}

std::string_view verdict_name(Verdict v) {
    switch (v) {
        case Verdict::ok:
            return "ok";
        case Verdict::problem:
            return "problem";
        case Verdict::note:
            return "note";
    }
    return "note";
}

void run_doctor() {
    std::vector<Finding> findings;
    auto home = home_dir();
    check_permissions(home, findings);
    std::unique_ptr<core::Node> node;
    if (!core::Node::exists(home)) {
        findings.push_back({"store", Verdict::problem, subst(_("no store in {}"), home),
                            _("run `kolokol init` to create one, or `kolokol restore FILE` from "
                              "a backup")});
    } else {
        auto passphrase = read_passphrase(_("Passphrase"));
        auto opened = open_with_passphrase(passphrase.view());
        if (!opened) {
            bool wrong = opened.error().code == core::CoreErrc::wrong_passphrase;
            findings.push_back(
                {"store", Verdict::problem,
                 subst(_("the store did not unlock: {}"), translated(opened.error())),
                 wrong ? _("try the passphrase again; if it is lost, only a backup helps "
                           "(`kolokol restore FILE` into a new home)")
                       : _("the store is damaged: restore it from a backup into a new home")});
        } else {
            node = std::move(*opened);
            // Like every command that opens the store: a panic or a duress erase elsewhere ends
            // this one at once, its keys wiped (its relay probes can take seconds).
            check(node->guard_store(end_when_gone(home)));
            if (auto ok = node->check_integrity(); !ok)
                findings.push_back(
                    {"store", Verdict::problem, translated(ok.error()),
                     _("make a backup now if you have none (`kolokol backup -o FILE`), then "
                       "restore it into a new home")});
            else
                findings.push_back({"store", Verdict::ok,
                                    _("the store unlocks and its database passes its check"), ""});
        }
    }
    if (node) {
        check_clock(*node, findings);
        check_proxy(*node, findings);
        check_relays(*node, findings);
        check_control(*node, findings);
        for (const auto& line : foreign_key_update_warnings(*node))
            findings.push_back({"keys", Verdict::problem, line,
                                _("ask an admin for a burn notice (`kolokol group compromised`) "
                                  "and join again with a new identity")});
    } else {
        findings.push_back({"clock", Verdict::note, _("not checked: the store is not open"), ""});
        findings.push_back({"relay", Verdict::note, _("not checked: the store is not open"), ""});
    }

    std::size_t problems = 0;
    for (const auto& f : findings)
        if (f.verdict == Verdict::problem) ++problems;
    if (args().json) {
        auto list = nlohmann::json::array();
        for (const auto& f : findings)
            list.push_back({{"check", f.check},
                            {"status", verdict_name(f.verdict)},
                            {"detail", f.detail},
                            {"fix", f.fix}});
        std::cout << nlohmann::json{{"ok", problems == 0}, {"problems", problems}, {"checks", list}}
                         .dump(2)
                  << "\n";
    } else {
        bool colour = colour_enabled();
        for (const auto& f : findings) {
            std::string mark = f.verdict == Verdict::ok        ? _("ok")
                               : f.verdict == Verdict::problem ? _("PROBLEM")
                                                               : _("note");
            if (colour)
                mark = (f.verdict == Verdict::ok        ? "\033[32m"
                        : f.verdict == Verdict::problem ? "\033[1;31m"
                                                        : "\033[33m") +
                       mark + "\033[0m";
            std::cout << "[" << mark << "] " << check_label(f.check) << ": " << f.detail << "\n";
            if (!f.fix.empty()) std::cout << "    " << _("fix:") << " " << f.fix << "\n";
        }
        if (problems == 0)
            std::cout << _("All is well.") << "\n";
        else
            std::cout << subst(P_("{} problem to fix (see above).",
                                  "{} problems to fix (see above).", problems),
                               problems)
                      << "\n";
    }
    if (problems > 0)
        throw CommandError(Exit::failure,
                           subst(P_("{} problem found", "{} problems found", problems), problems));
}

}  // namespace

void register_doctor_commands(CLI::App& app) {
    auto& a = args();
    auto* doctor = app.add_subcommand(
        "doctor", _("Check this device's store, clock and relays, and say what to fix"));
    doctor->add_flag("--json", a.json, _("Machine-readable findings"));
    doctor->add_option("--timeout", a.timeout_s, _("Seconds to wait for each relay (default 5)"))
        ->check(CLI::Range(1, 60));
    doctor->footer(
        _("Example:\n  kolokol doctor\n\nChecks that the home directory and its files are yours "
          "alone (700/600), that the store unlocks and its database is sound, whether members' "
          "clocks disagree, and that each relay of your groups answers and proves its key. Exit "
          "status 0 when all is well, 1 otherwise."));
    doctor->callback(run_doctor);
}

}  // namespace kolokol::cli

// kolokol bundle export · verify · open · reexport — case bundles for lawyers (DESIGN §4).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "case_summary.hpp"
#include "clock.hpp"
#include "kolokol/age/error.hpp"
#include "kolokol/bundle/bundle.hpp"
#include "kolokol/bundle/node_export.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/storage/output_file.hpp"
#include "kolokol/storage/posix_io.hpp"
#include "node_session.hpp"
#include "terminal.hpp"
// Last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

constexpr std::size_t kMaxKeyFile = 1 << 20;

struct BundleArgs {
    std::vector<std::string> cases;
    std::string group;
    std::vector<std::string> recipients;
    std::vector<std::string> recipient_files;
    bool passphrase = false;
    std::string passphrase_file;  // --bundle-passphrase-file
    std::vector<std::string> identities;
    std::string card;
    std::string output;
    std::string input;
    bool json = false;
};
BundleArgs& args() {
    static BundleArgs a;
    return a;
}

std::string errno_text() {
    return std::strerror(errno);
}

using storage::write_all;

// A small file read whole (key files, recipient files, cards), refused above 1 MiB.
std::string read_small_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CommandError(Exit::not_found, subst(_("cannot read {}"), path));
    std::string text;
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > kMaxKeyFile) {
            crypto::memzero(text);
            throw CommandError(Exit::bad_input, subst(_("{} is larger than 1 MiB"), path));
        }
    }
    return text;
}

crypto::SecretBytes first_line_of(const std::string& path) {
    auto line = passphrase_file_line(path, 0);
    if (line.empty())
        throw CommandError(Exit::usage, subst(_("passphrase file {} is empty"), path));
    return line;
}

// The bundle's passphrase: --bundle-passphrase-file, else line `index`+1 of the passphrase
// file (line 1 unlocks the store where one is opened), else the terminal.
crypto::SecretBytes bundle_passphrase(bool is_new, int index) {
    if (!args().passphrase_file.empty()) return first_line_of(args().passphrase_file);
    return is_new ? read_new_passphrase(_("Bundle passphrase"), index)
                  : read_passphrase(_("Bundle passphrase"), index);
}

[[noreturn]] void raise_bundle(const Error& e) {
    throw CommandError(exit_for(e), translated(e));
}

bundle::Encryption encryption_from_args(int passphrase_index) {
    const auto& a = args();
    bundle::Encryption enc;
    const bool has_recipients = !a.recipients.empty() || !a.recipient_files.empty();
    if (!has_recipients && !a.passphrase)
        throw CommandError(Exit::usage,
                           _("say whom the bundle is for: the lawyer's age recipient (-r age1…, or "
                             "-R FILE with one per line), or -p to protect it with a passphrase "
                             "instead"));
    if (has_recipients && a.passphrase)
        throw CommandError(Exit::usage,
                           _("give the lawyer's age recipients (-r or -R) or -p for a passphrase, "
                             "not both"));
    for (const auto& text : a.recipients) {
        auto r = age::X25519Recipient::parse(text);
        if (!r)
            throw CommandError(Exit::bad_input, subst(_("invalid recipient \"{}\": {}"), text,
                                                      translated(r.error())));
        enc.recipients.push_back(*r);
    }
    for (const auto& path : a.recipient_files) {
        auto rs = age::parse_recipients(read_small_file(path));
        if (!rs)
            throw CommandError(Exit::bad_input,
                               subst(_("recipients file {}: {}"), path, translated(rs.error())));
        enc.recipients.insert(enc.recipients.end(), rs->begin(), rs->end());
    }
    if (a.passphrase) {
        enc.passphrase = bundle_passphrase(true, passphrase_index);
        if (enc.passphrase->empty()) throw CommandError(Exit::usage, _("the passphrase is empty"));
    }
    return enc;
}

std::vector<age::X25519Identity> identities_from_args() {
    std::vector<age::X25519Identity> out;
    for (const auto& path : args().identities) {
        auto text = read_small_file(path);
        auto ids = age::parse_identities(text);
        crypto::memzero(text);
        if (!ids)
            throw CommandError(Exit::bad_input,
                               subst(_("identity file {}: {}"), path, translated(ids.error())));
        for (auto& id : *ids) out.push_back(std::move(id));
    }
    return out;
}

// The output file: written as OUT.partial (never replacing anything), linked to OUT only when
// complete, so a failed or interrupted export leaves no half bundle under the real name.
class BundleOutput {
public:
    explicit BundleOutput(std::string path) : m_path(std::move(path)), m_tmp(m_path + ".partial") {
        struct stat st {};
        if (::lstat(m_path.c_str(), &st) == 0)
            throw CommandError(Exit::exists, subst(_("{} exists: choose another name"), m_path));
        auto fd = storage::create_output_temp(m_tmp);
        if (!fd)
            throw CommandError(
                fd.error().code == storage::StorageErrc::exists ? Exit::exists : Exit::failure,
                fd.error().message);
        m_fd = *fd;
    }
    ~BundleOutput() {
        if (m_fd >= 0) ::close(m_fd);
        if (!m_done) ::unlink(m_tmp.c_str());
    }
    BundleOutput(const BundleOutput&) = delete;
    BundleOutput& operator=(const BundleOutput&) = delete;

    Status write(ByteView data) {
        if (auto st = write_all(m_fd, data); !st) return st;
        m_bytes += data.size();
        return {};
    }
    void commit() {
        if (::fsync(m_fd) != 0 || ::close(m_fd) != 0) {
            m_fd = -1;
            throw CommandError(Exit::failure, subst(_("cannot write {}: {}"), m_tmp, errno_text()));
        }
        m_fd = -1;
        if (::link(m_tmp.c_str(), m_path.c_str()) != 0)
            throw CommandError(errno == EEXIST ? Exit::exists : Exit::failure,
                               subst(_("cannot create {}: {}"), m_path, errno_text()));
        ::unlink(m_tmp.c_str());
        m_done = true;
    }
    std::uint64_t bytes() const { return m_bytes; }

private:
    std::string m_path;
    std::string m_tmp;
    int m_fd = -1;
    bool m_done = false;
    std::uint64_t m_bytes = 0;
};

// The bundle file being read.
class BundleInput {
public:
    explicit BundleInput(const std::string& path) : m_path(path) {
        m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0)
            throw CommandError(errno == ENOENT ? Exit::not_found : Exit::failure,
                               subst(_("cannot open {}: {}"), path, errno_text()));
    }
    ~BundleInput() { ::close(m_fd); }
    BundleInput(const BundleInput&) = delete;
    BundleInput& operator=(const BundleInput&) = delete;
    age::Source source() {
        return [this](MutableByteView out) -> Result<std::size_t> {
            while (true) {
                auto n = ::read(m_fd, out.data(), out.size());
                if (n >= 0) return static_cast<std::size_t>(n);
                if (errno != EINTR)
                    return fail(std::error_code(errno, std::generic_category()),
                                subst(_("cannot read {}: {}"), m_path, errno_text()));
            }
        };
    }
    std::uint64_t size() const {
        struct stat st {};
        return ::fstat(m_fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    }

private:
    std::string m_path;
    int m_fd = -1;
};

// Safe extraction into a folder: every path was checked by the reader (relative, no "..",
// plain characters); here each component is opened without following symlinks, files are
// created exclusively (an existing file is never replaced), and a file larger than the free
// space is refused before it is written. Files and folders are extracted as the bundle is read,
// so everything this extraction created is noted: when the bundle turns out damaged or does
// not verify, discard() removes it all again (nothing that was there before is touched).
class SafeFolder final : public bundle::ExtractTarget {
public:
    explicit SafeFolder(const std::string& dir) : m_dir(dir) {
        if (::mkdir(dir.c_str(), 0700) == 0)
            m_created_root = true;
        else if (errno != EEXIST)
            throw CommandError(Exit::failure, subst(_("cannot create {}: {}"), dir, errno_text()));
        m_root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (m_root < 0) {
            const auto why = errno_text();
            if (m_created_root) ::rmdir(dir.c_str());
            throw CommandError(Exit::failure, subst(_("cannot open folder {}: {}"), dir, why));
        }
    }
    ~SafeFolder() override {
        if (!m_kept) discard();
        if (m_root >= 0) ::close(m_root);
    }
    SafeFolder(const SafeFolder&) = delete;
    SafeFolder& operator=(const SafeFolder&) = delete;

    Status begin(std::string_view path, std::uint64_t size) override {
        struct statvfs vfs {};
        if (::fstatvfs(m_root, &vfs) == 0 &&
            size > static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize)
            return fail(bundle::BundleErrc::too_large,
                        subst(P_("{}: {} byte does not fit in the free space of {}",
                                 "{}: {} bytes do not fit in the free space of {}", size),
                              std::string(path), size, m_dir));
        int dir = ::dup(m_root);
        std::string_view rest = path;
        while (true) {
            auto slash = rest.find('/');
            if (slash == std::string_view::npos) break;
            const std::string part(rest.substr(0, slash));
            rest.remove_prefix(slash + 1);
            if (::mkdirat(dir, part.c_str(), 0700) == 0) {
                const auto done = path.substr(0, path.size() - rest.size() - 1);
                m_dirs.emplace_back(done);
            } else if (errno != EEXIST) {
                ::close(dir);
                return io_fail(path);
            }
            int next = ::openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            ::close(dir);
            if (next < 0) return io_fail(path);
            dir = next;
        }
        m_name = std::string(rest);
        m_fd = ::openat(dir, m_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (m_fd < 0) {
            const int err = errno;
            ::close(dir);
            errno = err;
            if (err == EEXIST)
                return fail(std::error_code(EEXIST, std::generic_category()),
                            subst(_("{} already exists in {}: nothing is overwritten"),
                                  std::string(path), m_dir));
            return io_fail(path);
        }
        m_parent = dir;
        m_path = std::string(path);
        m_files.push_back(m_path);
        return {};
    }
    Status write(ByteView data) override { return write_all(m_fd, data); }
    Status end() override {
        const bool ok = ::close(m_fd) == 0;
        m_fd = -1;
        ::close(m_parent);
        m_parent = -1;
        if (!ok) return io_fail(m_path);
        ++m_written;
        return {};
    }
    std::size_t written() const { return m_written; }
    // The extraction succeeded: what it wrote stays.
    void keep() { m_kept = true; }
    // Removes every file and folder this extraction created (the folder itself too, when it
    // made it) and says in one phrase what, if anything, could not be removed.
    std::string discard() {
        close_file();
        std::vector<std::string> left;
        for (auto it = m_files.rbegin(); it != m_files.rend(); ++it)
            if (!remove_entry(*it, 0)) left.push_back(*it);
        for (auto it = m_dirs.rbegin(); it != m_dirs.rend(); ++it)
            if (!remove_entry(*it, AT_REMOVEDIR)) left.push_back(*it + "/");
        m_files.clear();
        m_dirs.clear();
        m_kept = true;
        if (m_created_root && left.empty()) {
            if (m_root >= 0) ::close(m_root);
            m_root = -1;
            if (::rmdir(m_dir.c_str()) != 0) left.push_back(m_dir);
        }
        if (left.empty()) return subst(_("nothing was left in {}"), m_dir);
        std::string names;
        for (const auto& l : left) names += (names.empty() ? "" : ", ") + l;
        return subst(_("left behind in {}: {}"), m_dir, names);
    }

private:
    // Unlinks `path` (relative to the folder), opening each folder on the way without
    // following symlinks. False when it is still there.
    bool remove_entry(const std::string& path, int flags) {
        if (m_root < 0) return false;
        int dir = ::dup(m_root);
        std::string_view rest = path;
        while (dir >= 0) {
            auto slash = rest.find('/');
            if (slash == std::string_view::npos) break;
            const std::string part(rest.substr(0, slash));
            rest.remove_prefix(slash + 1);
            int next = ::openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            ::close(dir);
            dir = next;
        }
        if (dir < 0) return false;
        const bool gone = ::unlinkat(dir, std::string(rest).c_str(), flags) == 0 || errno == ENOENT;
        ::close(dir);
        return gone;
    }

    Status io_fail(std::string_view path) {
        return fail(std::error_code(errno, std::generic_category()),
                    subst(_("cannot write {}: {}"), std::string(path), errno_text()));
    }
    // A file cut short by an error is removed: only whole files stay behind.
    void close_file() {
        if (m_fd < 0) return;
        ::close(m_fd);
        m_fd = -1;
        ::unlinkat(m_parent, m_name.c_str(), 0);
        ::close(m_parent);
        m_parent = -1;
    }

    std::string m_dir;
    int m_root = -1;
    int m_parent = -1;
    int m_fd = -1;
    std::string m_name;
    std::string m_path;
    std::size_t m_written = 0;
    bool m_created_root = false;
    bool m_kept = false;
    std::vector<std::string> m_files;  // created by this extraction, in order
    std::vector<std::string> m_dirs;
};

std::string short_of(std::string_view hex_text) {
    return std::string(hex_text.substr(0, 16));
}

// Says in plain words what the check proved; returns false when anything failed.
bool print_report(const bundle::VerifyReport& r, const std::string& file,
                  const std::optional<core::Card>& me) {
    const auto key_hex = crypto::hex_encode(r.signer_key);
    if (args().json) {
        nlohmann::json j;
        j["file"] = file;
        j["ok"] = r.ok();
        j["decrypted"] = true;
        j["passphrase"] = r.used_passphrase;
        j["files"] = r.files;
        j["hashes_matched"] = r.hashes_checked;
        j["signature_ok"] = r.signature_ok;
        j["signer"] = {{"name", r.signer_name}, {"sign_key", key_hex}};
        if (me) j["safety_number"] = core::safety_number(me->sign_key, r.signer_key);
        j["custody_ok"] = r.custody_ok;
        j["summary_ok"] = r.summary_ok;
        j["custody"] = nlohmann::json::array();
        for (const auto& e : r.custody)
            j["custody"].push_back({{"seq", e.seq},
                                    {"action", e.action},
                                    {"by", e.by},
                                    {"by_key", crypto::hex_encode(e.by_key)},
                                    {"at", e.at},
                                    {"to", e.to}});
        j["cases"] = r.cases;
        j["exported_at"] = r.exported_at;
        auto problems = nlohmann::json::array();
        for (const auto& p : r.problems) problems.push_back(p.what());
        j["problems"] = problems;
        std::cout << j.dump(2) << "\n";
        return r.ok();
    }
    auto mark = [](bool ok) { return ok ? "✓ " : "✗ "; };
    std::cout << mark(true)
              << subst(_("Decrypted {} ({})"), file,
                       r.used_passphrase ? _("with the passphrase") : _("with your age key"))
              << "\n";
    const bool hashes_ok = std::none_of(r.problems.begin(), r.problems.end(), [](const Error& p) {
        return p.what().find("SHA256SUMS") != std::string::npos;
    });
    std::cout << mark(hashes_ok)
              << subst(_("{}; {}"), subst(P_("{} file read", "{} files read", r.files), r.files),
                       subst(P_("{} SHA-256 hash in SHA256SUMS matches",
                                "{} SHA-256 hashes in SHA256SUMS match", r.hashes_checked),
                             r.hashes_checked))
              << "\n";
    if (r.signature_ok) {
        std::cout << mark(true)
                  << subst(_("manifest.json is signed by \"{}\", signing key {}"), r.signer_name,
                           key_hex)
                  << "\n";
        if (me)
            std::cout << "  "
                      << subst(_("Safety number between you and {}: {}"), r.signer_name,
                               core::safety_number(me->sign_key, r.signer_key))
                      << "\n";
        std::cout << "  "
                  << _("Compare this key (or the safety number) with the exporter in person: the "
                       "signature proves who made the bundle only if the key is theirs.")
                  << "\n";
    } else {
        std::cout << mark(false) << _("The signature on manifest.json does not hold") << "\n";
    }
    if (r.custody_ok) {
        std::cout << mark(true)
                  << subst(P_("Custody chain of {} entry intact:",
                              "Custody chain of {} entries intact:", r.custody.size()),
                           r.custody.size())
                  << "\n";
    } else {
        std::cout << mark(false) << _("The custody chain is broken; entries that check out:")
                  << "\n";
    }
    for (const auto& e : r.custody) {
        std::string to;
        for (const auto& t : e.to) to += (to.empty() ? "" : ", ") + t;
        std::cout << "    " << e.seq << ". " << e.at << "  " << e.action << " " << _("by") << " "
                  << e.by << " (" << short_of(crypto::hex_encode(e.by_key)) << ") " << _("to")
                  << " " << to << "\n";
    }
    if (r.summary_ok)
        std::cout << mark(true) << _("summary.txt is the one manifest.json names") << "\n";
    for (const auto& c : r.cases) std::cout << "  " << _("Case:") << " " << c << "\n";
    for (const auto& p : r.problems) std::cout << mark(false) << translated(p) << "\n";
    if (r.ok())
        std::cout << _("Everything checks out: nothing in the bundle was changed since it was "
                       "signed.")
                  << "\n";
    else
        std::cout << subst(
                         P_("{} problem: do not rely on this bundle as it is.",
                            "{} problems: do not rely on this bundle as it is.", r.problems.size()),
                         r.problems.size())
                  << "\n";
    return r.ok();
}

std::optional<core::Card> card_from_args() {
    const auto& text = args().card;
    if (text.empty()) return std::nullopt;
    std::string card_text = text.starts_with(core::kCardPrefix) ? text : read_small_file(text);
    auto card = core::card_from_text(card_text);
    if (!card)
        throw CommandError(Exit::bad_input, subst(_("--card: {}"), translated(card.error())));
    return *card;
}

age::PassphraseProvider passphrase_provider(int index) {
    return [index]() -> Result<crypto::SecretBytes> { return bundle_passphrase(false, index); };
}

// Finds a case by id prefix in the named group, or in every group.
std::vector<std::pair<core::GroupId, core::RecordId>> resolve_cases(core::Node& node) {
    const auto& a = args();
    std::vector<core::GroupId> groups;
    if (!a.group.empty()) {
        groups.push_back(value_or_raise(node.resolve_group(a.group)));
    } else {
        for (const auto& g : node.groups()) groups.push_back(g.id);
    }
    std::vector<std::pair<core::GroupId, core::RecordId>> out;
    std::set<core::RecordId> seen;
    for (const auto& prefix : a.cases) {
        std::optional<std::pair<core::GroupId, core::RecordId>> found;
        std::optional<Error> last;
        for (const auto& g : groups) {
            auto id = node.resolve_object(g, prefix, "case");
            if (!id) {
                if (id.error().code != core::CoreErrc::not_found) last = id.error();
                continue;
            }
            if (found)
                throw CommandError(Exit::bad_input,
                                   subst(_("case {} matches cases in several groups: give "
                                           "--group"),
                                         prefix));
            found.emplace(g, *id);
        }
        if (!found) {
            if (last) raise(*last);
            throw CommandError(Exit::not_found, subst(_("no case {}"), prefix));
        }
        if (seen.insert(found->second).second) out.push_back(*found);
    }
    return out;
}

void run_export() {
    const auto& a = args();
    auto node = open_node();
    auto encryption = encryption_from_args(1);
    auto found = resolve_cases(*node);
    std::vector<bundle::CaseExport> cases;
    std::uint64_t total = 0;
    for (const auto& [group, id] : found) {
        auto c = bundle::case_export(*node, group, id);
        if (!c) raise_bundle(c.error());
        for (const auto& f : c->attachments) total += f.size;
        cases.push_back(std::move(*c));
    }
    const auto when = now_ms();
    const auto text = case_summary(*node, found, when);
    BundleOutput out(a.output);
    Progress progress(_("Exporting"), total);
    auto summary = bundle::write_bundle(
        cases, bundle::node_signer(*node), encryption, when,
        [&](ByteView b) { return out.write(b); },
        [&](std::uint64_t done, std::uint64_t) { progress.update(done); }, text);
    if (!summary) raise_bundle(summary.error());
    progress.finish();
    out.commit();
    const auto to = encryption.describe();
    if (a.json) {
        std::cout
            << nlohmann::json{{"file", a.output},
                              {"cases", summary->cases},
                              {"files", summary->files},
                              {"file_bytes", summary->file_bytes},
                              {"bytes", out.bytes()},
                              {"manifest_sha256", crypto::hex_encode(summary->manifest_sha256)},
                              {"encrypted_to", to}}
                   .dump(2)
            << "\n";
        return;
    }
    std::cout << subst(_("Exported {} with {} to {}"),
                       subst(P_("{} case", "{} cases", summary->cases), summary->cases),
                       subst(P_("{} file", "{} files", summary->files), summary->files), a.output)
              << "\n";
    std::cout << (a.passphrase ? std::string(_("Encrypted with a passphrase: send it separately"))
                               : subst(P_("Encrypted to {} recipient", "Encrypted to {} recipients",
                                          to.size()),
                                       to.size()))
              << "\n";
    std::cout << subst(_("manifest.json SHA-256: {}"), crypto::hex_encode(summary->manifest_sha256))
              << "\n";
}

// Reads the bundle as verify and open do; throws on errors that stop the reading.
bundle::VerifyReport read(bundle::ExtractTarget* target, int passphrase_index) {
    const auto& a = args();
    auto identities = identities_from_args();
    BundleInput in(a.input);
    Progress progress(_("Checking"), in.size());
    bundle::ReadOptions options;
    options.extract = target;
    options.total_hint = in.size();
    options.progress = [&](std::uint64_t done, std::uint64_t) { progress.update(done); };
    auto report = bundle::read_bundle(in.source(), identities,
                                      passphrase_provider(passphrase_index), options);
    if (!report) raise_bundle(report.error());
    progress.finish();
    return std::move(*report);
}

void run_verify() {
    auto me = card_from_args();
    auto report = read(nullptr, 0);
    if (!print_report(report, args().input, me))
        throw CommandError(Exit::verify_failed, subst(_("{} did not verify"), args().input));
}

void run_open() {
    const auto& a = args();
    auto me = card_from_args();
    SafeFolder folder(a.output);
    std::optional<bundle::VerifyReport> report;
    try {
        report = read(&folder, 0);
    } catch (const CommandError& e) {
        // A damaged or hostile bundle: none of what was extracted before the damage stays.
        throw CommandError(e.exit, std::string(e.what()) + "; " + folder.discard());
    }
    const bool ok = print_report(*report, a.input, me);
    if (!ok)
        throw CommandError(Exit::verify_failed, subst(_("{} did not verify (see above); {}"),
                                                      a.input, folder.discard()));
    folder.keep();
    if (!a.json)
        std::cout << subst(P_("{} file extracted to {}", "{} files extracted to {}",
                              folder.written()),
                           folder.written(), a.output)
                  << "\n";
}

void run_reexport() {
    const auto& a = args();
    auto node = open_node();
    auto identities = identities_from_args();
    // Line 2 of the passphrase file opens the incoming bundle, line 3 protects the new one.
    auto encryption = encryption_from_args(2);
    BundleInput in(a.input);
    BundleOutput out(a.output);
    Progress progress(_("Re-exporting"), in.size());
    bundle::ReadOptions options;
    options.total_hint = in.size();
    options.progress = [&](std::uint64_t done, std::uint64_t) { progress.update(done); };
    auto report = bundle::reexport_bundle(in.source(), identities, passphrase_provider(1), options,
                                          bundle::node_signer(*node), "reexport", encryption,
                                          now_ms(), [&](ByteView b) { return out.write(b); });
    if (!report) raise_bundle(report.error());
    progress.finish();
    if (!report->ok()) {
        print_report(*report, a.input, std::nullopt);
        throw CommandError(Exit::verify_failed,
                           subst(_("{} did not verify: nothing was re-exported"), a.input));
    }
    out.commit();
    std::cout << subst(_("Re-exported {} to {} with custody entry {} by {}"), a.input, a.output,
                       std::to_string(report->custody.size() + 1), node->card().display_name)
              << "\n";
}

void add_encryption_options(CLI::App* cmd) {
    auto& a = args();
    cmd->add_option("-r,--recipient", a.recipients,
                    _("Encrypt to this age recipient (age1…); repeatable"))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_option("-R,--recipients-file", a.recipient_files,
                    _("Encrypt to the recipients listed in FILE; repeatable"))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("-p,--passphrase", a.passphrase, _("Encrypt with a passphrase instead"));
}

void add_reading_options(CLI::App* cmd) {
    auto& a = args();
    cmd->add_option("-i,--identity", a.identities,
                    _("age identity file (AGE-SECRET-KEY-1…); repeatable. Without it a "
                      "passphrase-encrypted bundle asks for its passphrase"))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

}  // namespace

void register_bundle_commands(CLI::App& app) {
    auto& a = args();
    auto* b = app.add_subcommand(
        "bundle", _("Case bundles for lawyers: one encrypted, signed file that opens with age"));
    b->require_subcommand(1);

    auto* e = b->add_subcommand("export", _("Export cases, their files and history as a bundle"));
    e->add_option("case", a.cases, _("Case id prefix (at least 4 hex digits); several allowed"))
        ->required();
    e->add_option("-g,--group", a.group, _("Only look for the cases in this group"));
    add_encryption_options(e);
    e->add_option("--bundle-passphrase-file", a.passphrase_file,
                  _("With -p: read the bundle's passphrase from the first line of this file"));
    e->add_option("-o,--output", a.output, _("The bundle file to write (never overwritten)"))
        ->required();
    e->add_flag("--json", a.json, _("Print the summary as JSON"));
    e->footer(
        _("Example:\n  kolokol bundle export 3fa9 -r age1… -o case.age\nWith "
          "--passphrase-file, line 1 unlocks the store and line 2 is the bundle passphrase."));
    e->callback(run_export);

    auto* v = b->add_subcommand("verify", _("Decrypt a bundle and check every hash, the "
                                            "signature and the custody chain"));
    v->add_option("file", a.input, _("The bundle file"))->required();
    add_reading_options(v);
    v->add_option("--bundle-passphrase-file", a.passphrase_file,
                  _("Read the bundle's passphrase from the first line of this file"));
    v->add_option("--card", a.card,
                  _("Your own kolokol card (text or file), to show the safety number with the "
                    "signer"));
    v->add_flag("--json", a.json, _("Print the report as JSON"));
    v->footer(_("Example:\n  kolokol bundle verify case.age -i key.txt"));
    v->callback(run_verify);

    auto* o = b->add_subcommand("open", _("Check a bundle and extract it safely into a folder"));
    o->add_option("file", a.input, _("The bundle file"))->required();
    add_reading_options(o);
    o->add_option("--bundle-passphrase-file", a.passphrase_file,
                  _("Read the bundle's passphrase from the first line of this file"));
    o->add_option("-o,--output", a.output,
                  _("Folder to extract into (created if missing; existing files are never "
                    "overwritten)"))
        ->required();
    o->add_option("--card", a.card, _("Your own kolokol card, to show the safety number"));
    o->add_flag("--json", a.json, _("Print the report as JSON"));
    o->footer(_("Example:\n  kolokol bundle open case.age -i key.txt -o case/"));
    o->callback(run_open);

    auto* r = b->add_subcommand(
        "reexport", _("Pass a bundle on: re-encrypt it with a signed custody entry by you"));
    r->add_option("file", a.input, _("The bundle you received"))->required();
    add_reading_options(r);
    add_encryption_options(r);
    r->add_option("--bundle-passphrase-file", a.passphrase_file,
                  _("Read the passphrase of the bundle you received from this file"));
    r->add_option("-o,--output", a.output, _("The new bundle file (never overwritten)"))
        ->required();
    r->footer(
        _("Example:\n  kolokol bundle reexport case.age -i key.txt -r age1… -o "
          "for-court.age"));
    r->callback(run_reexport);
}

}  // namespace kolokol::cli

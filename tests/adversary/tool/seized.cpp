// Seized devices: what someone who holds the machine can read. `home-secrets` lists the keys a
// home holds (opened with its passphrase, as a coerced owner would); `scan-memory` looks for
// those bytes in a running process's memory and says for each copy whether it lies in locked
// memory (which is never written to swap) or in memory the kernel may swap out.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/storage/database.hpp"
#include "kolokol/storage/keyfile.hpp"
#include "node_access.hpp"
#include "schema.hpp"

namespace kolokol::adversary {
namespace {

std::string first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) throw std::runtime_error("cannot read " + path);
    return line;
}

std::string hex(ByteView b) {
    return crypto::hex_encode(b);
}

// home-secrets HOME PASSFILE OUT: every key the home holds, one "label hex" line each.
int home_secrets(std::span<const std::string> args) {
    if (args.size() != 3) usage_error("expects HOME PASSFILE OUT");
    const std::filesystem::path home = args[0];
    const std::string pass = first_line(args[1]);
    auto node = core::Node::open(home, as_bytes(pass));
    if (!node)
        throw std::runtime_error("cannot open " + home.string() + ": " + node.error().what());
    auto& impl = core::NodeTestAccess::impl(**node);
    std::ostringstream out;
    // The Ed25519 secret key is seed || public key: the seed is the secret part.
    out << "identity-seed " << hex(impl.identity.sign.secret_key.view().first(32)) << "\n";
    out << "identity-box " << hex(impl.identity.box.secret_key.view()) << "\n";
    auto transport = (*node)->transport_key();
    out << "transport " << hex(transport.secret_key.view()) << "\n";
    for (const auto& [mailbox, keys] : impl.epochs) {
        const std::string id = hex(ByteView(keys.epoch_id).first(4));
        if (keys.secret) out << "epoch-secret:" << id << " " << hex(keys.secret->view()) << "\n";
        if (keys.content_key)
            out << "epoch-content:" << id << " " << hex(keys.content_key->view()) << "\n";
        out << "epoch-control:" << id << " " << hex(keys.control_key.view()) << "\n";
        out << "epoch-file:" << id << " " << hex(keys.file_key.view()) << "\n";
        out << "epoch-mailbox:" << id << " " << hex(keys.mailbox_seed.view()) << "\n";
    }
    node->reset();
    auto unlocked = storage::KeyFile::unlock(home / "store.key", as_bytes(pass));
    if (unlocked && unlocked->kind == storage::SlotKind::real)
        out << "database-key " << hex(unlocked->db_key.view()) << "\n";
    write_file_or_stdout(args[2], out.str());
    return 0;
}

struct Secret {
    std::string label;
    Bytes bytes;
    std::size_t hits = 0;
};

struct Region {
    std::uint64_t start = 0, end = 0;
    bool readable = false;
    bool locked = false;
    std::string name;
};

// /proc/PID/smaps: each mapping's range, permissions, name and VmFlags ("lo": VM_LOCKED, so
// every page of it stays in RAM). mlock() of part of a mapping splits it, so the flag is exact
// to the page.
std::vector<Region> read_regions(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/smaps");
    if (!in) throw std::runtime_error("cannot read /proc/" + pid + "/smaps");
    std::vector<Region> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmFlags:")) {
            if (!out.empty())
                out.back().locked = (" " + line + " ").find(" lo ") != std::string::npos;
            continue;
        }
        // A mapping's header: "start-end perms offset dev inode [name]".
        const auto dash = line.find('-');
        const auto space = line.find(' ');
        if (dash == std::string::npos || space == std::string::npos || dash > space) continue;
        bool is_header = true;
        for (std::size_t i = 0; i < space; ++i)
            if (i != dash && !std::isxdigit(static_cast<unsigned char>(line[i]))) is_header = false;
        if (!is_header) continue;
        Region r;
        r.start = std::stoull(line.substr(0, dash), nullptr, 16);
        r.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
        r.readable = line.size() > space + 1 && line[space + 1] == 'r';
        std::istringstream fields(line.substr(space + 1));
        std::string perms, offset, dev, inode;
        fields >> perms >> offset >> dev >> inode;
        std::getline(fields >> std::ws, r.name);
        if (r.name.empty()) r.name = "[anon]";
        out.push_back(r);
    }
    return out;
}

// scan-memory PID SECRETS: reads every readable mapping of PID through /proc/PID/mem and prints
// "hit LABEL ADDRESS locked|UNLOCKED MAPPING" for each copy of a secret, "missing LABEL" for a
// secret found nowhere, and a summary line "secrets=N found=F hits=H unlocked=U".
int scan_memory(std::span<const std::string> args) {
    if (args.size() != 2) usage_error("expects PID SECRETS");
    const std::string& pid = args[0];
    std::vector<Secret> secrets;
    {
        std::istringstream in(read_file_or_stdin(args[1]));
        std::string label, value;
        while (in >> label >> value) {
            auto bytes = crypto::hex_decode(value);
            if (!bytes || bytes->size() < 16) throw std::runtime_error("bad secret " + label);
            secrets.push_back({label, std::move(*bytes), 0});
        }
    }
    if (secrets.empty()) usage_error("no secrets given");
    // Candidates by their first two bytes, so that each offset costs one table lookup.
    std::vector<std::vector<std::size_t>> by_prefix(1 << 16);
    for (std::size_t i = 0; i < secrets.size(); ++i)
        by_prefix[secrets[i].bytes[0] | (secrets[i].bytes[1] << 8)].push_back(i);
    std::size_t longest = 0;
    for (const auto& s : secrets) longest = std::max(longest, s.bytes.size());

    const int mem = ::open(("/proc/" + pid + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
    if (mem < 0)
        throw std::runtime_error("cannot open /proc/" + pid + "/mem: " + std::strerror(errno));
    std::size_t hits = 0, unlocked = 0;
    constexpr std::size_t kChunk = 1 << 20;
    Bytes buf(kChunk + longest);
    // Smallest mappings first: a process in a KDF holds a mapping of hundreds of MiB (scrypt's,
    // Argon2id's) that takes the better part of a second to read, and a short command may have
    // dropped its keys by the time a scan in address order reached the arena's slabs above it.
    auto regions = read_regions(pid);
    std::stable_sort(regions.begin(), regions.end(), [](const auto& a, const auto& b) {
        return a.end - a.start < b.end - b.start;
    });
    for (const auto& r : regions) {
        if (!r.readable || r.name == "[vvar]" || r.name == "[vsyscall]") continue;
        // A readable mapping of a terabyte or more is a sanitizer's shadow memory (ASan reserves
        // tens of terabytes of it without backing): it holds poison marks, never program data,
        // and reading it through /proc/PID/mem would not end. Said, so a skip is never silent.
        if (r.end - r.start >= (std::uint64_t{1} << 40)) {
            std::printf("skip 0x%llx-0x%llx %s (shadow memory)\n",
                        static_cast<unsigned long long>(r.start),
                        static_cast<unsigned long long>(r.end), r.name.c_str());
            continue;
        }
        // Chunks overlap by one secret's length, so a copy across a chunk boundary is seen once.
        for (std::uint64_t at = r.start; at < r.end; at += kChunk) {
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(r.end - at, kChunk + longest - 1));
            const ssize_t got = ::pread(mem, buf.data(), want, static_cast<off_t>(at));
            if (got <= 0) break;  // unreadable (e.g. a guard page): the rest of this mapping too
            const std::size_t n = static_cast<std::size_t>(got);
            const std::size_t starts = std::min<std::size_t>(n, kChunk);
            for (std::size_t i = 0; i + 1 < n && i < starts; ++i) {
                const auto& cands = by_prefix[buf[i] | (buf[i + 1] << 8)];
                for (std::size_t c : cands) {
                    auto& s = secrets[c];
                    if (i + s.bytes.size() > n ||
                        std::memcmp(buf.data() + i, s.bytes.data(), s.bytes.size()) != 0)
                        continue;
                    ++s.hits;
                    ++hits;
                    if (!r.locked) ++unlocked;
                    std::printf("hit %s 0x%llx %s %s\n", s.label.c_str(),
                                static_cast<unsigned long long>(at + i),
                                r.locked ? "locked" : "UNLOCKED", r.name.c_str());
                }
            }
            if (n < want) break;
        }
    }
    ::close(mem);
    std::size_t found = 0;
    for (const auto& s : secrets) {
        if (s.hits > 0)
            ++found;
        else
            std::printf("missing %s\n", s.label.c_str());
    }
    std::printf("secrets=%zu found=%zu hits=%zu unlocked=%zu\n", secrets.size(), found, hits,
                unlocked);
    return 0;
}

// unseal-store HOME PASSFILE: rewrites the home's secret columns in the clear and forgets that
// they were sealed — a store as kolokol wrote it before it sealed them — so that a test can watch
// the next open migrate it. Prints how many columns it rewrote.
int unseal_store(std::span<const std::string> args) {
    if (args.size() != 2) usage_error("expects HOME PASSFILE");
    const std::filesystem::path home = args[0];
    const std::string pass = first_line(args[1]);
    auto unlocked = storage::KeyFile::unlock(home / "store.key", as_bytes(pass));
    if (!unlocked || unlocked->kind != storage::SlotKind::real)
        throw std::runtime_error("cannot unlock " + home.string());
    auto db = storage::Database::open(home / "store.db", unlocked->db_key, false);
    if (!db) throw std::runtime_error(db.error().what());
    auto check = [](const auto& r) {
        if (!r) throw std::runtime_error(r.error().what());
    };
    auto tx = db->begin();
    check(tx);
    std::size_t rewritten = 0;
    // Identity: one row, three columns.
    for (const char* column : {"sign_secret", "box_secret", "transport_secret"}) {
        auto get = db->prepare(std::string("SELECT ") + column + " FROM identity");
        check(get);
        auto row = get->step();
        check(row);
        if (!*row) continue;
        auto plain = db->open_secret(get->column_blob(0),
                                     core::secret_place(std::string("identity.") + column));
        check(plain);
        get->reset();
        auto put = db->prepare(std::string("UPDATE identity SET ") + column + " = ?");
        check(put);
        put->bind(1, plain->view());
        check(put->step());
        ++rewritten;
    }
    // Epochs: every row, every key column it holds.
    std::vector<Bytes> epochs;
    {
        auto list = db->prepare("SELECT epoch_id FROM epochs");
        check(list);
        for (;;) {
            auto r = list->step();
            check(r);
            if (!*r) break;
            auto id = list->column_blob(0);
            epochs.emplace_back(id.begin(), id.end());
        }
    }
    for (const auto& epoch : epochs) {
        for (const char* column : {"secret", "control_key", "mailbox_seed", "file_key"}) {
            auto get =
                db->prepare(std::string("SELECT ") + column + " FROM epochs WHERE epoch_id = ?");
            check(get);
            get->bind(1, ByteView(epoch));
            auto row = get->step();
            check(row);
            if (!*row || get->column_is_null(0)) continue;
            auto plain = db->open_secret(
                get->column_blob(0), core::secret_place(std::string("epochs.") + column, epoch));
            check(plain);
            get->reset();
            auto put =
                db->prepare(std::string("UPDATE epochs SET ") + column + " = ? WHERE epoch_id = ?");
            check(put);
            put->bind(1, plain->view()).bind(2, ByteView(epoch));
            check(put->step());
            ++rewritten;
        }
    }
    check(db->exec("DELETE FROM schema_versions WHERE component = 'core-secrets'"));
    check(tx->commit());
    std::printf("rewrote %zu secret columns in the clear\n", rewritten);
    return 0;
}

// add-groups HOME PASSFILE N: creates N groups, as N `kolokol group create` would, so that a
// test can hold many epochs' keys without waiting for N processes.
int add_groups(std::span<const std::string> args) {
    if (args.size() != 3) usage_error("expects HOME PASSFILE N");
    const std::string pass = first_line(args[1]);
    const auto n = std::stoul(args[2]);
    auto node = core::Node::open(args[0], as_bytes(pass));
    if (!node) throw std::runtime_error(node.error().what());
    for (unsigned long i = 0; i < n; ++i) {
        auto g = (*node)->create_group("group " + std::to_string(i));
        if (!g) throw std::runtime_error(g.error().what());
    }
    return 0;
}

const Registration reg_secrets{
    {"home-secrets",
     "HOME PASSFILE OUT — opens the home with its passphrase (the first line of PASSFILE) and "
     "writes every key it holds to OUT (\"-\": stdout), one \"label hex\" line each: the "
     "identity's seed and box secret, the transport secret, each epoch's secret and subkeys, "
     "the database key",
     home_secrets}};
const Registration reg_unseal{
    {"unseal-store",
     "HOME PASSFILE — rewrites the home's secret columns in the clear and forgets they were "
     "sealed, as a store written before sealing holds them",
     unseal_store}};
const Registration reg_groups{
    {"add-groups", "HOME PASSFILE N — creates N groups in the home (as N `group create` would)",
     add_groups}};
const Registration reg_scan{
    {"scan-memory",
     "PID SECRETS — searches every readable mapping of PID (/proc/PID/mem; needs root or "
     "ptrace rights) for each secret in SECRETS (as home-secrets writes them) and prints each "
     "copy with its address, whether its mapping is locked (VmFlags lo), and a summary line",
     scan_memory}};

}  // namespace
}  // namespace kolokol::adversary

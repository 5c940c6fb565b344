// kolokol age keygen · encrypt · decrypt — the age v1 tool, flag-compatible with `age` and
// `age-keygen`, so files and keys move freely between the two.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "app.hpp"
#include "exit_codes.hpp"
#include "i18n.hpp"
#include "kolokol/age/decryptor.hpp"
#include "kolokol/age/encryptor.hpp"
#include "kolokol/age/keys.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/storage/output_file.hpp"
#include "kolokol/storage/posix_io.hpp"
#include "terminal.hpp"

namespace kolokol::cli {

namespace {

constexpr std::size_t kIoBytes = 1 << 20;

using storage::read_some;
using storage::write_all;

std::string errno_text(int err) {
    return std::strerror(err);
}

bool is_stdio(const std::string& path) {
    return path.empty() || path == "-";
}

// The input: a file, or standard input for "" and "-".
class Input {
public:
    explicit Input(const std::string& path) : m_name(is_stdio(path) ? _("standard input") : path) {
        if (is_stdio(path)) return;
        m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0)
            throw CommandError(errno == ENOENT ? Exit::not_found : Exit::failure,
                               subst(_("cannot open input file {}: {}"), path, errno_text(errno)));
        m_owned = true;
    }
    ~Input() {
        if (m_owned) ::close(m_fd);
    }
    Input(const Input&) = delete;
    Input& operator=(const Input&) = delete;

    int fd() const { return m_fd; }
    const std::string& name() const { return m_name; }
    // Size for the progress bar; 0 when unknown (a pipe or terminal).
    std::uint64_t size() const {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
        return static_cast<std::uint64_t>(st.st_size);
    }

private:
    std::string m_name;
    int m_fd = STDIN_FILENO;
    bool m_owned = false;
};

// The output: a file or standard output. A file is written as OUT.partial — created only when
// the first byte is ready, exclusively and never through a link planted at that name — and
// renamed over OUT (replacing it, as age does) only once complete. So a wrong key, a damaged
// file or an interrupted run leaves no file behind and OUT as it was.
class Output {
public:
    explicit Output(std::string path) : m_path(std::move(path)), m_tmp(m_path + ".partial") {
        if (is_stdio(m_path)) m_fd = STDOUT_FILENO;
    }
    ~Output() {
        if (m_created) {
            ::close(m_fd);
            ::unlink(m_tmp.c_str());
        }
    }
    Output(const Output&) = delete;
    Output& operator=(const Output&) = delete;

    Status write(ByteView data) {
        if (m_fd < 0) {
            if (auto st = create(); !st) return st;
        }
        return write_all(m_fd, data);
    }
    // Creates the file even for an empty result (as age does), closes it and moves it into place.
    void commit() {
        if (m_fd < 0) {
            if (auto st = create(); !st)
                throw CommandError(
                    st.error().code == storage::StorageErrc::exists ? Exit::exists : Exit::failure,
                    translated(st.error()));
        }
        if (!m_created) return;
        if (::close(m_fd) != 0) {
            const int err = errno;
            m_fd = -1;
            ::unlink(m_tmp.c_str());
            m_created = false;
            throw CommandError(Exit::failure,
                               subst(_("cannot write {}: {}"), m_path, errno_text(err)));
        }
        m_created = false;
        if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
            const int err = errno;
            ::unlink(m_tmp.c_str());
            throw CommandError(Exit::failure,
                               subst(_("cannot write {}: {}"), m_path, errno_text(err)));
        }
    }

private:
    Status create() {
        auto fd = storage::create_output_temp(m_tmp);
        if (!fd) return std::unexpected(fd.error());
        m_fd = *fd;
        m_created = true;
        return {};
    }

    std::string m_path;
    std::string m_tmp;
    int m_fd = -1;
    bool m_created = false;  // the temporary file exists and is ours to remove on failure
};

// Reads a small text file (identities, recipients) whole, refusing anything larger than age's
// key files can sensibly be. "-" reads standard input.
std::string read_key_file(const std::string& path, bool stdin_taken) {
    if (path == "-" && stdin_taken)
        throw CommandError(Exit::usage,
                           _("standard input cannot hold both the input and a key file"));
    Input in(path);
    std::string text;
    Bytes buffer(64 * 1024);
    while (true) {
        auto n = read_some(in.fd(), buffer);
        if (!n)
            throw CommandError(Exit::failure,
                               subst(_("cannot read {}: {}"), in.name(), translated(n.error())));
        if (*n == 0) break;
        text.append(as_chars(ByteView(buffer).first(*n)));
        if (text.size() > age::kMaxKeyFileBytes) {
            crypto::memzero(text);
            crypto::memzero(MutableByteView(buffer));
            throw CommandError(Exit::bad_input,
                               subst(_("{} is too large to be a key file"), in.name()));
        }
    }
    crypto::memzero(MutableByteView(buffer));
    return text;
}

// A file no identity opened was made for someone else, or with another passphrase when one
// was asked for.
Exit age_exit(const Error& e, bool passphrase_asked) {
    if (passphrase_asked && e.code == age::AgeErrc::no_match) return Exit::wrong_passphrase;
    return exit_for(e);
}

[[noreturn]] void throw_age(const Error& e, bool passphrase_asked = false) {
    throw CommandError(age_exit(e, passphrase_asked), translated(e));
}

// RFC 3339 local time with offset, as age-keygen writes in "# created:".
std::string rfc3339_now() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &local);
    const long offset = local.tm_gmtoff / 60;  // minutes east of UTC, within a day
    if (offset == 0) return std::string(stamp) + "Z";
    const long magnitude = (offset < 0 ? -offset : offset) % (24 * 60);
    char zone[32];
    std::snprintf(zone, sizeof zone, "%c%02ld:%02ld", offset < 0 ? '-' : '+', magnitude / 60,
                  magnitude % 60);
    return std::string(stamp) + zone;
}

struct KeygenOptions {
    std::string output;
};

void run_keygen(const KeygenOptions& opt) {
    auto identity = age::X25519Identity::generate();
    auto recipient = identity.recipient().to_string();
    int fd = STDOUT_FILENO;
    if (!is_stdio(opt.output)) {
        // Never replace an existing key file: that would destroy the only copy of a secret key.
        fd = ::open(opt.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            throw CommandError(errno == EEXIST ? Exit::exists : Exit::failure,
                               subst(_("cannot create {}: {}"), opt.output, errno_text(errno)));
    } else {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH))
            std::fputs(_("Warning: writing secret key to a world-readable file.\n"), stderr);
    }
    auto secret = identity.to_string();
    std::string text =
        "# created: " + rfc3339_now() + "\n# public key: " + recipient + "\n" + secret + "\n";
    crypto::memzero(secret);
    auto st = write_all(fd, as_bytes(text));
    crypto::memzero(text);
    if (fd != STDOUT_FILENO && ::close(fd) != 0 && st)
        st = fail(std::error_code(errno, std::generic_category()), errno_text(errno));
    if (!st)
        throw CommandError(Exit::failure,
                           subst(_("cannot write the key: {}"), translated(st.error())));
    if (fd != STDOUT_FILENO || !stdout_is_tty())
        std::fputs(subst(_("Public key: {}\n"), recipient).c_str(), stderr);
}

struct EncryptCliOptions {
    std::vector<std::string> recipients;
    std::vector<std::string> recipient_files;
    bool passphrase = false;
    bool armor = false;
    std::string output;
    std::string input;
};

void run_encrypt(const EncryptCliOptions& opt) {
    if (opt.armor)
        throw CommandError(Exit::usage,
                           _("ASCII armor (-a) is not supported: the output is always binary"));
    const bool has_recipients = !opt.recipients.empty() || !opt.recipient_files.empty();
    if (!has_recipients && !opt.passphrase)
        throw CommandError(Exit::usage,
                           _("missing recipients: use -r/--recipient, -R/--recipients-file or "
                             "-p/--passphrase"));
    if (has_recipients && opt.passphrase)
        throw CommandError(Exit::usage,
                           _("-p/--passphrase can't be combined with -r/--recipient or "
                             "-R/--recipients-file"));
    if (opt.output.empty() && stdout_is_tty())
        throw CommandError(Exit::usage,
                           _("refusing to output binary to the terminal: use -o FILE, or force "
                             "with \"-o -\""));

    std::vector<age::X25519Recipient> recipients;
    for (const auto& text : opt.recipients) {
        if (text.starts_with("ssh-"))
            throw CommandError(Exit::bad_input,
                               _("SSH recipients are not supported: use age1… keys"));
        auto r = age::X25519Recipient::parse(text);
        if (!r)
            throw CommandError(Exit::bad_input, subst(_("invalid recipient \"{}\": {}"), text,
                                                      translated(r.error())));
        recipients.push_back(*r);
    }
    for (const auto& path : opt.recipient_files) {
        auto text = read_key_file(path, is_stdio(opt.input));
        auto rs = age::parse_recipients(text);
        if (!rs)
            throw CommandError(Exit::bad_input,
                               subst(_("recipients file {}: {}"), path, translated(rs.error())));
        recipients.insert(recipients.end(), rs->begin(), rs->end());
    }

    Input in(opt.input);
    std::optional<crypto::SecretBytes> passphrase;
    if (opt.passphrase) {
        passphrase = read_new_passphrase(_("Enter passphrase"));
        if (passphrase->empty()) throw CommandError(Exit::usage, _("the passphrase is empty"));
    }
    Output out(opt.output);
    age::Sink sink = [&](ByteView bytes) { return out.write(bytes); };
    age::EncryptOptions options;
    options.sink_thread = true;  // writing out overlaps with sealing
    auto enc = passphrase ? age::Encryptor::with_passphrase(passphrase->view(), sink, options)
                          : age::Encryptor::to_recipients(recipients, sink, options);
    passphrase.reset();
    if (!enc) throw_age(enc.error());

    Progress progress(_("Encrypting"), in.size());
    Bytes buffer(kIoBytes);
    std::uint64_t done = 0;
    while (true) {
        auto n = read_some(in.fd(), buffer);
        if (!n)
            throw CommandError(Exit::failure,
                               subst(_("cannot read {}: {}"), in.name(), translated(n.error())));
        if (*n == 0) break;
        if (auto st = enc->write(ByteView(buffer).first(*n)); !st) throw_age(st.error());
        progress.update(done += *n);
    }
    if (auto st = enc->finish(); !st) throw_age(st.error());
    progress.finish();
    out.commit();
}

struct DecryptCliOptions {
    std::vector<std::string> identity_files;
    std::string output;
    std::string input;
};

void run_decrypt(const DecryptCliOptions& opt) {
    std::vector<age::X25519Identity> identities;
    for (const auto& path : opt.identity_files) {
        auto text = read_key_file(path, is_stdio(opt.input));
        if (text.starts_with("age-encryption.org/")) {
            crypto::memzero(text);
            throw CommandError(
                Exit::bad_input,
                subst(_("identity file {} is itself age-encrypted: decrypt it first"), path));
        }
        auto ids = age::parse_identities(text);
        crypto::memzero(text);
        if (!ids)
            throw CommandError(Exit::bad_input,
                               subst(_("identity file {}: {}"), path, translated(ids.error())));
        for (auto& id : *ids) identities.push_back(std::move(id));
    }

    Input in(opt.input);
    bool asked = false;
    std::exception_ptr prompt_failure;
    age::PassphraseProvider provider = [&]() -> Result<crypto::SecretBytes> {
        asked = true;
        try {
            return read_passphrase(_("Enter passphrase"));
        } catch (...) {
            prompt_failure = std::current_exception();
            return fail(age::AgeErrc::no_match, "no passphrase");
        }
    };
    auto dec = age::Decryptor::open([&](MutableByteView b) { return read_some(in.fd(), b); },
                                    identities, provider);
    if (prompt_failure) std::rethrow_exception(prompt_failure);
    if (!dec) throw_age(dec.error(), asked);

    Output out(opt.output);
    Progress progress(_("Decrypting"), in.size());
    Bytes buffer(kIoBytes);
    std::uint64_t done = 0;
    while (true) {
        auto n = dec->read(buffer);
        if (!n) throw_age(n.error());
        if (*n == 0) break;
        if (auto st = out.write(ByteView(buffer).first(*n)); !st) throw_age(st.error());
        // Plaintext bytes, against the ciphertext size: close enough for a progress bar.
        progress.update(done += *n);
    }
    progress.finish();
    out.commit();
}

}  // namespace

void register_age_commands(CLI::App& app) {
    auto* age_cmd = app.add_subcommand(
        "age", _("Encrypt and decrypt files in the standard age format (compatible with `age`)"));
    age_cmd->require_subcommand(1);

    static KeygenOptions keygen;
    auto* kg = age_cmd->add_subcommand("keygen", _("Generate an age key pair, like age-keygen"));
    kg->add_option("-o,--output", keygen.output,
                   _("Write the key to FILE (mode 0600; never overwrites an existing file)"));
    kg->footer(_("Example:\n  kolokol age keygen -o key.txt"));
    kg->callback([] { run_keygen(keygen); });

    static EncryptCliOptions enc;
    auto* e =
        age_cmd->add_subcommand("encrypt", _("Encrypt a file to age recipients or a passphrase"));
    e->add_option("-r,--recipient", enc.recipients, _("Encrypt to RECIPIENT (age1…); repeatable"))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    e->add_option("-R,--recipients-file", enc.recipient_files,
                  _("Encrypt to the recipients listed in PATH; repeatable"))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    e->add_flag("-p,--passphrase", enc.passphrase,
                _("Encrypt with a passphrase (scrypt); honours --passphrase-file"));
    e->add_flag("-a,--armor", enc.armor, _("Not supported: the output is always binary"));
    e->add_option("-o,--output", enc.output, _("Write to OUTPUT (overwritten if it exists)"));
    e->add_option("input", enc.input, _("File to encrypt (default: standard input)"));
    e->footer(_("Example:\n  kolokol age encrypt -r age1… -o notes.txt.age notes.txt"));
    e->callback([] { run_encrypt(enc); });

    static DecryptCliOptions dec;
    auto* d = age_cmd->add_subcommand("decrypt", _("Decrypt an age file"));
    d->add_option("-i,--identity", dec.identity_files,
                  _("Use the identity file at PATH (AGE-SECRET-KEY-1… lines); repeatable. Without "
                    "it, passphrase-encrypted files ask for the passphrase"))
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    d->add_option("-o,--output", dec.output, _("Write to OUTPUT (overwritten if it exists)"));
    d->add_option("input", dec.input, _("File to decrypt (default: standard input)"));
    d->footer(_("Example:\n  kolokol age decrypt -i key.txt -o notes.txt notes.txt.age"));
    d->callback([] { run_decrypt(dec); });
}

}  // namespace kolokol::cli

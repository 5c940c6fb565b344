#include "kolokol/storage/keyfile.hpp"

#include <array>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "kolokol/crypto/aead.hpp"
#include "kolokol/crypto/byte_reader.hpp"
#include "kolokol/crypto/hash.hpp"
#include "private_file.hpp"

namespace kolokol::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSlotAdLabel = "kolokol/keyslot/1";
constexpr std::size_t kSaltBytes = crypto::kArgon2SaltBytes;
constexpr std::size_t kWrappedBytes = 32;
constexpr std::size_t kSealedBytes = kWrappedBytes + crypto::kAeadTagBytes;
static_assert(kKeySlotBytes == kSaltBytes + 8 + 8 + crypto::kXNonceBytes + kSealedBytes);

struct Slot {
    ByteArray<kSaltBytes> salt{};
    crypto::Argon2Params params;
    ByteArray<crypto::kXNonceBytes> nonce{};
    ByteArray<kSealedBytes> sealed{};
};
using Slots = std::array<Slot, 2>;

// What the duress slot wraps instead of a key. Public and fixed: only someone who can open the
// slot sees it, and a random database key equal to it has probability 2^-256.
const ByteArray<32>& duress_marker() {
    static const ByteArray<32> marker = crypto::blake2b_256("kolokol/keyslot/duress-marker", {});
    return marker;
}

// The AD binds the parameters and salt, so editing them in the file breaks the slot instead of
// silently weakening it.
Bytes slot_ad(const Slot& slot) {
    Bytes ad = to_bytes(kSlotAdLabel);
    append(ad, slot.salt);
    put_u64be(ad, slot.params.opslimit);
    put_u64be(ad, slot.params.memlimit);
    return ad;
}

void encode(Bytes& out, const Slot& slot) {
    append(out, slot.salt);
    put_u64be(out, slot.params.opslimit);
    put_u64be(out, slot.params.memlimit);
    append(out, slot.nonce);
    append(out, slot.sealed);
}

bool params_in_bounds(const crypto::Argon2Params& p) {
    return p.opslimit >= kMinOpslimit && p.opslimit <= kMaxOpslimit && p.memlimit >= kMinMemlimit &&
           p.memlimit <= kMaxMemlimit;
}

std::optional<Slot> decode(ByteReader& in) {
    Slot slot;
    auto salt = in.array<kSaltBytes>();
    auto ops = in.u64be();
    auto mem = in.u64be();
    auto nonce = in.array<crypto::kXNonceBytes>();
    auto sealed = in.array<kSealedBytes>();
    if (!salt || !ops || !mem || !nonce || !sealed) return std::nullopt;
    slot.salt = *salt;
    slot.params = {*ops, *mem};
    slot.nonce = *nonce;
    slot.sealed = *sealed;
    return slot;
}

Status check_passphrase(ByteView pass, std::string_view which) {
    if (pass.empty()) return fail(StorageErrc::invalid_argument, "{} is empty", which);
    if (pass.size() > kMaxPassphraseBytes)
        return fail(StorageErrc::invalid_argument, "{} is longer than {} bytes", which,
                    kMaxPassphraseBytes);
    return {};
}

// `what` names the file in errors ("key file /path").
Result<Slots> parse_slots(ByteView bytes, const std::string& what) {
    if (bytes.size() != kKeyFileBytes)
        return fail(StorageErrc::keyfile_corrupt, "{} is {} bytes, expected {}", what, bytes.size(),
                    kKeyFileBytes);
    ByteReader in(bytes);
    auto a = decode(in);
    auto b = decode(in);
    if (!a || !b || !in.empty()) return fail(StorageErrc::keyfile_corrupt, "{} is malformed", what);
    // Refuse before running Argon2id: a tampered file must not make us spend hours or GiBs, and
    // slots with different costs would make the two derivations distinguishable by time.
    if (!params_in_bounds(a->params) || !params_in_bounds(b->params) ||
        a->params.opslimit != b->params.opslimit || a->params.memlimit != b->params.memlimit)
        return fail(StorageErrc::keyfile_corrupt, "{} names impossible key derivation parameters",
                    what);
    return Slots{*a, *b};
}

// Maps the errors of opening and reading a key file to the key file's own.
Error key_file_error(const Error& e, const fs::path& path) {
    if (e.code == make_error_code(StorageErrc::not_found))
        return {make_error_code(StorageErrc::keyfile_missing), "no key file at " + path.string()};
    if (e.code == make_error_code(StorageErrc::invalid_argument))
        return {make_error_code(StorageErrc::keyfile_corrupt),
                "key file " + path.string() + " is too large to be a key file"};
    return e;
}

// The key file held open (for unlock and erase: the bytes judged and the bytes overwritten are
// those of one file, whatever renames happen meanwhile), its bytes and its parsed slots.
struct HeldKeyFile {
    detail::HeldFile file;
    Bytes bytes;
    Slots slots;
};

Result<HeldKeyFile> hold_key_file(const fs::path& path) {
    auto file = detail::hold_file(path);
    if (!file) return std::unexpected(key_file_error(file.error(), path));
    auto bytes = detail::read_held(*file, kKeyFileBytes, path);
    if (!bytes) return std::unexpected(key_file_error(bytes.error(), path));
    auto slots = parse_slots(*bytes, "key file " + path.string());
    if (!slots) return std::unexpected(slots.error());
    return HeldKeyFile{std::move(*file), std::move(*bytes), *slots};
}

// The bytes of slot `index` as a file holds them.
ByteView slot_bytes(const Bytes& file, std::size_t index) {
    return ByteView(file).subspan(index * kKeySlotBytes, kKeySlotBytes);
}

bool same_slot(const Bytes& a, const Bytes& b, std::size_t index) {
    auto x = slot_bytes(a, index), y = slot_bytes(b, index);
    return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

KeyFileSeen seen_of(const HeldKeyFile& held) {
    return {static_cast<std::uint64_t>(held.file.st.st_dev),
            static_cast<std::uint64_t>(held.file.st.st_ino), to_array<kKeyFileBytes>(held.bytes)};
}

Result<crypto::SecretBytes> derive(ByteView pass, const Slot& slot) {
    auto kek = crypto::argon2id(crypto::kAeadKeyBytes, pass, slot.salt, slot.params);
    if (!kek)
        return fail(StorageErrc::kdf_failed, "Argon2id failed (memlimit {} MiB): out of memory?",
                    slot.params.memlimit >> 20);
    return std::move(*kek);
}

std::optional<crypto::SecretBytes> open_slot(const crypto::SecretBytes& kek, const Slot& slot) {
    return crypto::xchacha_open_secret(kek.view(), slot.nonce, slot_ad(slot), slot.sealed);
}

Result<Slot> wrap(ByteView plaintext, ByteView pass, const crypto::Argon2Params& params,
                  crypto::Random& random) {
    Slot slot;
    random.fill(slot.salt);
    random.fill(slot.nonce);
    slot.params = params;
    auto kek = derive(pass, slot);
    if (!kek) return std::unexpected(kek.error());
    Bytes sealed = crypto::xchacha_seal(kek->view(), slot.nonce, slot_ad(slot), plaintext);
    slot.sealed = to_array<kSealedBytes>(sealed);
    return slot;
}

// A slot nobody can open, with the same shape as one that someone can.
Slot filler(const crypto::Argon2Params& params, crypto::Random& random) {
    Slot slot;
    random.fill(slot.salt);
    random.fill(slot.nonce);
    random.fill(slot.sealed);
    slot.params = params;
    return slot;
}

// Two slots nobody can open, with the parameters of `slots`: what an erased file holds.
Slots erased(const Slots& slots) {
    auto& random = crypto::system_random();
    const auto params = slots[0].params;
    return Slots{filler(params, random), filler(params, random)};
}

Bytes encode_file(const Slots& slots) {
    Bytes out;
    out.reserve(kKeyFileBytes);
    encode(out, slots[0]);
    encode(out, slots[1]);
    return out;
}

// MemAvailable from /proc/meminfo, in bytes; nullopt when it cannot be read.
std::optional<std::uint64_t> available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    std::uint64_t kib = 0;
    while (in >> key >> kib) {
        std::getline(in, unit);
        if (key == "MemAvailable:") return kib * 1024;
    }
    return std::nullopt;
}

// Both slots' derivations at once on two threads, when the machine has a second core and memory
// to spare for both: each takes memlimit, and together they may take at most a quarter of what
// the kernel says is available. One after the other otherwise, or when a concurrent one failed
// (out of memory). Either way both run in full.
std::array<Result<crypto::SecretBytes>, 2> derive_both(const Slots& slots, ByteView pass) {
    const auto need = 2 * slots[0].params.memlimit;
    const auto avail = available_memory();
    if (std::thread::hardware_concurrency() >= 2 && avail && *avail / 4 >= need) {
        std::optional<Result<crypto::SecretBytes>> second;
        std::thread other([&] { second.emplace(derive(pass, slots[1])); });
        auto first = derive(pass, slots[0]);
        other.join();
        if (first && *second) return {std::move(first), std::move(*second)};
    }
    auto first = derive(pass, slots[0]);
    return {std::move(first), derive(pass, slots[1])};
}

// Derives the key-encryption keys of both slots, then tries to open both. Both derivations and
// both opens always run: how long this takes must not say which slot matched.
Result<std::array<std::optional<crypto::SecretBytes>, 2>> open_both(const Slots& slots,
                                                                    ByteView pass) {
    auto keks = derive_both(slots, pass);
    for (auto& k : keks)
        if (!k) return std::unexpected(k.error());
    std::array<std::optional<crypto::SecretBytes>, 2> out{open_slot(*keks[0], slots[0]),
                                                          open_slot(*keks[1], slots[1])};
    return out;
}

bool is_duress(const std::optional<crypto::SecretBytes>& plain) {
    return plain && crypto::equal_ct(plain->view(), duress_marker());
}
bool is_real(const std::optional<crypto::SecretBytes>& plain) {
    return plain && plain->size() == kWrappedBytes && !is_duress(plain);
}

}  // namespace

Result<crypto::SecretBytes> KeyFile::create(const fs::path& path, ByteView passphrase,
                                            std::optional<ByteView> duress_passphrase,
                                            const crypto::Argon2Params& params) {
    return create(path, passphrase, duress_passphrase, params, crypto::system_random());
}

Result<crypto::SecretBytes> KeyFile::create(const fs::path& path, ByteView passphrase,
                                            std::optional<ByteView> duress_passphrase,
                                            const crypto::Argon2Params& params,
                                            crypto::Random& random) {
    if (auto s = check_passphrase(passphrase, "passphrase"); !s) return std::unexpected(s.error());
    if (duress_passphrase) {
        if (auto s = check_passphrase(*duress_passphrase, "duress passphrase"); !s)
            return std::unexpected(s.error());
        if (crypto::equal_ct(passphrase, *duress_passphrase))
            return fail(StorageErrc::invalid_argument,
                        "the duress passphrase must differ from the passphrase");
    }
    if (!params_in_bounds(params))
        return fail(StorageErrc::invalid_argument, "Argon2id parameters out of bounds");
    // Checked again atomically by the final link(); this only saves two derivations.
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec)))
        return fail(StorageErrc::exists, "key file {} already exists", path.string());

    crypto::SecretBytes db_key(kWrappedBytes);
    random.fill(db_key.mutable_view());
    auto real = wrap(db_key.view(), passphrase, params, random);
    if (!real) return std::unexpected(real.error());
    Slot other;
    if (duress_passphrase) {
        auto duress = wrap(duress_marker(), *duress_passphrase, params, random);
        if (!duress) return std::unexpected(duress.error());
        other = *duress;
    } else {
        other = filler(params, random);
    }
    const bool real_first = random.uniform(2) == 0;
    Slots slots = real_first ? Slots{*real, other} : Slots{other, *real};
    if (auto s = detail::write_atomic(path, encode_file(slots), /*no_replace=*/true, random); !s)
        return std::unexpected(s.error());
    return db_key;
}

Result<crypto::Argon2Params> KeyFile::parameters(ByteView file_bytes) {
    auto slots = parse_slots(file_bytes, "the key file");
    if (!slots) return std::unexpected(slots.error());
    return (*slots)[0].params;
}

Result<KeyFileSeen> KeyFile::look(const fs::path& path) {
    auto held = hold_key_file(path);
    if (!held) return std::unexpected(held.error());
    return seen_of(*held);
}

namespace {

// How every passphrase attempt that does not fail early ends: an erase of both slots in place
// (the duress passphrase, when asked to erase), else the metadata change every attempt makes.
// settle() ends overwrite_in_place() too, so afterwards nothing in stat tells the outcomes
// apart. Failures are not reported: a read-only file still unlocks, and a failed erase still
// answers "wrong".
//
// A passphrase change may have left its temporary key file beside the key file (a `passwd`
// killed before its rename): it wraps the same database key under the new passphrase, so an
// erase overwrites it too — with erased slots when it parses, else with random bytes — and
// every other attempt makes the same metadata change to it. An erase also follows a passphrase
// change that renamed its new file into place after this attempt held the old one (the two
// raced): a key file at `path` that is not the held one and keeps the slot `kept` byte for byte
// (a passphrase change never rewraps the slot it does not open) is erased as well, until the
// file at `path` is the erased one or another store's. change_passphrase() checks the other way
// round after its rename, so whichever of the two comes last sees the other.
using FileId = std::pair<dev_t, ino_t>;

FileId id_of(const HeldKeyFile& held) {
    return {held.file.st.st_dev, held.file.st.st_ino};
}

// Erases the key file now at `path` when it is not `seen` and keeps slot `kept` of `reference`
// byte for byte — a passphrase change renamed in, since one never rewraps the slot it does not
// open. Returns the file it erased.
std::optional<FileId> erase_successor(const fs::path& path, const Bytes& reference,
                                      std::size_t kept, FileId seen) {
    auto next = hold_key_file(path);
    if (!next || id_of(*next) == seen || !same_slot(next->bytes, reference, kept))
        return std::nullopt;
    (void)detail::overwrite_in_place(next->file, encode_file(erased(next->slots)), path);
    return id_of(*next);
}

void end_attempt(HeldKeyFile& held, const fs::path& path, bool erase, std::size_t kept) {
    const fs::path temp = detail::temp_path_for(path);
    if (auto t = detail::hold_file(temp)) {
        if (erase) {
            Bytes noise;
            auto bytes = detail::read_held(*t, kKeyFileBytes, temp);
            auto slots = bytes ? parse_slots(*bytes, "temporary key file") : Result<Slots>{};
            if (bytes && slots) {
                noise = encode_file(erased(*slots));
            } else {
                noise.resize(std::min<std::size_t>(static_cast<std::size_t>(t->st.st_size),
                                                   2 * kKeyFileBytes));
                crypto::system_random().fill(noise);
            }
            (void)detail::overwrite_in_place(*t, noise, temp);
        } else {
            (void)detail::settle(*t, temp);
        }
    }
    if (!erase) {
        (void)detail::settle(held.file, path);
        return;
    }
    (void)detail::overwrite_in_place(held.file, encode_file(erased(held.slots)), path);
    FileId last = id_of(held);
    for (int round = 0; round < 4; ++round) {
        auto erased_one = erase_successor(path, held.bytes, kept, last);
        if (!erased_one) return;
        last = *erased_one;
    }
}

}  // namespace

Result<Unlocked> KeyFile::unlock(const fs::path& path, ByteView passphrase, OnDuress on_duress) {
    if (auto s = check_passphrase(passphrase, "passphrase"); !s) return std::unexpected(s.error());
    auto held = hold_key_file(path);
    if (!held) return std::unexpected(held.error());
    const auto& slots = held->slots;
    auto opened = open_both(slots, passphrase);
    if (!opened) return std::unexpected(opened.error());
    auto& [first, second] = *opened;
    // create() and change_passphrase() never let one passphrase open both slots; should a
    // hand-made file do so anyway, the real key wins.
    std::optional<crypto::SecretBytes>* real = is_real(first)    ? &first
                                               : is_real(second) ? &second
                                                                 : nullptr;
    const bool duress = !real && (is_duress(first) || is_duress(second));
    end_attempt(*held, path, duress && on_duress == OnDuress::erase, is_duress(first) ? 0 : 1);
    if (real) return Unlocked{SlotKind::real, std::move(**real), seen_of(*held)};
    if (duress) return Unlocked{SlotKind::duress, {}, {}};
    return fail(StorageErrc::wrong_passphrase, "wrong passphrase");
}

Status KeyFile::change_passphrase(const fs::path& path, ByteView old_pass, ByteView new_pass) {
    return change_passphrase(path, old_pass, new_pass, crypto::system_random());
}

Status KeyFile::change_passphrase(const fs::path& path, ByteView old_pass, ByteView new_pass,
                                  crypto::Random& random) {
    if (auto s = check_passphrase(old_pass, "old passphrase"); !s) return s;
    if (auto s = check_passphrase(new_pass, "new passphrase"); !s) return s;
    auto held = hold_key_file(path);
    if (!held) return std::unexpected(held.error());
    const Slots& slots = held->slots;
    auto opened = open_both(slots, old_pass);
    if (!opened) return std::unexpected(opened.error());
    std::size_t real_index = 0;
    if (is_real((*opened)[0])) {
        real_index = 0;
    } else if (is_real((*opened)[1])) {
        real_index = 1;
    } else {
        // The current passphrase is judged as an unlock judges it: the duress passphrase
        // erases the store here too, and it and a wrong one make the same metadata change and
        // give the same answer.
        const bool duress_first = is_duress((*opened)[0]);
        end_attempt(*held, path, duress_first || is_duress((*opened)[1]), duress_first ? 0 : 1);
        return fail(StorageErrc::wrong_passphrase, "wrong passphrase");
    }
    const crypto::SecretBytes& db_key = *(*opened)[real_index];

    const Slot& other = slots[1 - real_index];
    auto other_kek = derive(new_pass, other);
    if (!other_kek) return std::unexpected(other_kek.error());
    if (open_slot(*other_kek, other))
        return fail(StorageErrc::invalid_argument,
                    "the new passphrase must differ from the duress passphrase");

    auto rewrapped = wrap(db_key.view(), new_pass, slots[real_index].params, random);
    if (!rewrapped) return std::unexpected(rewrapped.error());
    Slots updated = slots;
    updated[real_index] = *rewrapped;
    // A duress passphrase typed in another process while this ran erased the old file in place
    // (or a panic overwrote it): once the new file is in place — and before the old one's blocks
    // are overwritten — the old one is read again, and if it changed the new file must not
    // bring the keys back. The erase, for its part, follows a new file renamed in before it
    // looked (end_attempt()).
    auto check_old = [&]() -> Status {
        auto after = detail::read_held(held->file, kKeyFileBytes, path);
        if (after && *after == held->bytes) return {};
        (void)erase_successor(path, held->bytes, 1 - real_index, id_of(*held));
        return fail(StorageErrc::erased,
                    "the store was erased while its passphrase was being changed");
    };
    return detail::write_atomic(path, encode_file(updated), /*no_replace=*/false, random,
                                check_old);
}

Status KeyFile::wipe_keys(const fs::path& path) {
    auto held = hold_key_file(path);
    if (!held) return std::unexpected(held.error());
    return detail::overwrite_in_place(held->file, encode_file(erased(held->slots)), path);
}

Status KeyFile::destroy(const fs::path& path) {
    auto& random = crypto::system_random();
    // A temp file left by an interrupted rewrite holds a full copy of the slots.
    if (auto s = detail::shred(detail::temp_path_for(path), random); !s) return s;
    return detail::shred(path, random);
}

}  // namespace kolokol::storage

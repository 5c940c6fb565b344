#pragma once
// The key file beside the database (DESIGN §4 "Store"): two slots of identical size and format.
// One wraps the 32-byte database key under the real passphrase; the other wraps a duress
// marker under the duress passphrase, or is random bytes when no duress passphrase was set.
// Nothing in the file says which slot is which, or whether a duress passphrase exists.
//
// File layout (exactly 208 bytes, no header, no version field — a different size is a
// different format):
//
//   file  = slot || slot                    slot order chosen at random when created
//   slot  = salt      16 bytes              random
//           opslimit   8 bytes, big-endian  Argon2id passes (same in both slots)
//           memlimit   8 bytes, big-endian  Argon2id memory in bytes (same in both slots)
//           nonce     24 bytes              random, fresh on every (re)wrap
//           sealed    48 bytes              XChaCha20-Poly1305 ciphertext + tag
//   kek    = Argon2id13(passphrase, salt, opslimit, memlimit) -> 32 bytes
//            (crypto_pwhash with crypto_pwhash_ALG_ARGON2ID13)
//   sealed = XChaCha20-Poly1305(kek, nonce, ad = "kolokol/keyslot/1" || salt || opslimit ||
//            memlimit, plaintext = 32 bytes: the database key, or the duress marker)
//   filler (no duress passphrase): random salt, nonce and sealed bytes, the real slot's
//            opslimit/memlimit — byte for byte the same shape as a used slot.
//
// Parsing is bounded: a file that is not exactly 208 bytes, or whose slots name parameters
// outside [kMinOpslimit, kMaxOpslimit] x [kMinMemlimit, kMaxMemlimit] or differ between the
// slots, is keyfile_corrupt — before any Argon2id runs.
//
// Unlocking always runs both derivations and both AEAD opens, whatever the first slot gave,
// so the time taken does not depend on which slot (if any) matched.
//
// Creating and changing the passphrase are atomic: a 0600 temp file beside the key file is
// written and fsynced, then renamed (link()ed, for create) into place and the directory fsynced.
// A crash leaves either the old or the new file. The replaced file's blocks are overwritten with
// random bytes, best effort.
//
// Erasing (the duress path) is not a rename, which would show: a new inode, and new times on the
// file and its directory. Both slots are overwritten in place with one write of the whole file,
// its modification time is put back, and it is fsynced. The file is 208 bytes, inside one disk
// sector, so a power cut leaves the old bytes or the new; a kill -9 before the write leaves the
// old file, at or after it the new. Were a write torn anyway, each slot's AEAD tag (its AD binds
// the salt and parameters) makes a slot with any byte changed open for nobody: no outcome opens
// with a half-erased key. Every unlock makes the same metadata change, whatever the passphrase
// (see unlock()), so that afterwards stat shows nothing that tells an erase from a wrong guess.
//
// Thread-safety: the functions are stateless; concurrent writers of the same file are not
// coordinated (the last rename wins), so callers serialise passphrase changes.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"
#include "kolokol/crypto/kdf.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/error.hpp"

namespace kolokol::storage {

inline constexpr std::size_t kKeySlotBytes = 16 + 8 + 8 + 24 + 48;
inline constexpr std::size_t kKeyFileBytes = 2 * kKeySlotBytes;
// Passphrases longer than this are refused (invalid_argument) rather than hashed.
inline constexpr std::size_t kMaxPassphraseBytes = 4096;
// Bounds on the parameters a key file may name. The minimum is libsodium's (tests use it via
// crypto::argon2_min()); the maximum keeps a tampered file from pinning the CPU for hours or
// asking for more than 4 GiB.
inline constexpr std::uint64_t kMinOpslimit = 1;
inline constexpr std::uint64_t kMaxOpslimit = 64;
inline constexpr std::uint64_t kMinMemlimit = 8192;
inline constexpr std::uint64_t kMaxMemlimit = std::uint64_t{4} << 30;

struct KeyFileParams {
    crypto::Argon2Params argon2;
};

// Measures Argon2id on this machine and returns parameters for which one derivation takes about
// `per_derivation` (unlock runs two). Memory grows first (up to 1 GiB, at most a quarter of the
// physical RAM), then passes. Never below crypto::argon2_interactive(): a slow machine gets
// INTERACTIVE even if that takes longer than asked. Calibrates on this thread's CPU time, so
// load from other processes skews it less; takes about 1.5-2.5 x `per_derivation`.
crypto::Argon2Params tune_argon2(std::chrono::milliseconds per_derivation);

enum class SlotKind { real, duress };

// The key file as an unlock read it: which file it was and its bytes. A StoreGuard compares the
// file with it later, to tell an erasure or removal from a passphrase change.
struct KeyFileSeen {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    ByteArray<kKeyFileBytes> bytes{};
};

struct Unlocked {
    SlotKind kind = SlotKind::real;
    // The 32-byte database key for SlotKind::real; empty for SlotKind::duress.
    crypto::SecretBytes db_key;
    KeyFileSeen seen;
};

// What unlock() does when the passphrase opens the duress slot.
enum class OnDuress {
    report,  // returns SlotKind::duress and leaves the slots as they are
    erase,   // first erases both slots in place, as wipe_keys() does, through the same open file
};

class KeyFile {
public:
    // Creates the key file at `path` (refusing to overwrite anything: exists) with a fresh random
    // 32-byte database key and returns that key. `passphrase` and `duress_passphrase` must be
    // 1..kMaxPassphraseBytes bytes and differ (invalid_argument); `params` must be within the
    // bounds above (invalid_argument). Errors: exists, io, kdf_failed.
    static Result<crypto::SecretBytes> create(const std::filesystem::path& path,
                                              ByteView passphrase,
                                              std::optional<ByteView> duress_passphrase,
                                              const crypto::Argon2Params& params);
    // The same with an explicit source of randomness (key, salts, nonces, slot order, filler).
    static Result<crypto::SecretBytes> create(const std::filesystem::path& path,
                                              ByteView passphrase,
                                              std::optional<ByteView> duress_passphrase,
                                              const crypto::Argon2Params& params,
                                              crypto::Random& random);

    // Runs both slot derivations and reports which slot opened. Errors: keyfile_missing,
    // keyfile_corrupt, wrong_passphrase (neither slot opens), invalid_argument (empty or
    // over-long passphrase), kdf_failed, io.
    //
    // Whatever the outcome, once the derivations have run the key file gets the metadata change
    // an erase makes: its modification time is set to what it was (so it stays) and the file is
    // fsynced, which moves its change time to now. A wrong passphrase, the real one and the
    // duress one therefore all leave the inode, size and modification time of the file and its
    // directory as they were and the change time at the attempt. (The file is opened read-write
    // when its mode allows; read-only, the metadata change still happens.) With OnDuress::erase
    // a duress passphrase also overwrites both slots in place first; a failure to erase is not
    // reported (the caller answers as for a wrong passphrase either way).
    static Result<Unlocked> unlock(const std::filesystem::path& path, ByteView passphrase,
                                   OnDuress on_duress = OnDuress::report);

    // The key file at `path` as it is now (its inode and bytes), for a StoreGuard of a store
    // this process just created. Checks the bytes as parameters() does; runs no derivation.
    // Errors: keyfile_missing, keyfile_corrupt, io.
    static Result<KeyFileSeen> look(const std::filesystem::path& path);

    // Checks a key file's bytes exactly as unlock() does before deriving anything (size, layout,
    // parameters in bounds and equal in both slots) and returns the Argon2id parameters it names.
    // Runs no key derivation. Errors: keyfile_corrupt. Stateless; the bytes are only read.
    static Result<crypto::Argon2Params> parameters(ByteView file_bytes);

    // Rewraps the real slot under `new_pass` (fresh salt and nonce, same parameters); the
    // database key — and so the database — is unchanged, and the other slot is left as it was.
    // `old_pass` must open the real slot. Otherwise it is judged as unlock() judges it, with
    // OnDuress::erase: the duress passphrase erases both slots in place, and it and a wrong one
    // make the same metadata change and give wrong_passphrase. A `new_pass` that opens the duress
    // slot is refused (invalid_argument), since it would make the two passphrases ambiguous. Runs
    // three derivations. Errors as unlock(), plus io for the rewrite.
    static Status change_passphrase(const std::filesystem::path& path, ByteView old_pass,
                                    ByteView new_pass);
    static Status change_passphrase(const std::filesystem::path& path, ByteView old_pass,
                                    ByteView new_pass, crypto::Random& random);

    // Crypto-erases in place, for the duress path: both slots are replaced by random filler with
    // the file's own parameters, so the file keeps its size and still parses, and every later
    // unlock fails with wrong_passphrase after the usual two derivations — exactly as for a
    // wrong passphrase — while the database key is gone. (Random bytes instead would parse as
    // keyfile_corrupt and give the erasure away.) One write over the same inode, then the
    // modification time is put back and the file fsynced (see the top of this header); the
    // directory is not touched. Errors: keyfile_missing, keyfile_corrupt, io (also when the file
    // cannot be written). Runs no key derivation.
    static Status wipe_keys(const std::filesystem::path& path);

    // Overwrites the key file (and any leftover temp file of an interrupted rewrite) with random
    // bytes, fsyncs, unlinks and fsyncs the directory. Without the key file the database is
    // noise. Succeeds when there is nothing to destroy. Runs no key derivation: fast.
    static Status destroy(const std::filesystem::path& path);
};

}  // namespace kolokol::storage

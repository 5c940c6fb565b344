#pragma once
// A sync file cut into parts, binary or armored as text, so that any messenger or mail service
// can carry it (DESIGN §11.1.1). The parts are put together again, in any order, before the
// sync file is read the usual way; nothing is imported until the set is whole.
//
// Binary part: "KKPART01" ‖ set id (8) ‖ u32be index (1..count) ‖ u32be count ‖ u64be total
// ‖ u64be offset ‖ u32be size ‖ check (32) ‖ body (size bytes), where the body is bytes
// [offset, offset + size) of the whole sync file of `total` bytes and check =
// BLAKE2b-256("kolokol/sync-part/v1" ‖ 0x00 ‖ the 44 header bytes before it ‖ body).
//
// Armored part: the binary part in base64 (RFC 4648, no padding, 64 characters a line) between
//   -----BEGIN KOLOKOL SYNC PART 3 OF 12 SET 1f2e3d4c5b6a7980-----
//   -----END KOLOKOL SYNC PART 3 OF 12 SET 1f2e3d4c5b6a7980-----
// Text around a block is ignored; one text file may hold several blocks; lines may end in CR
// and carry leading whitespace or mail quote marks ('>').
//
// The check is no protection against someone who wants to change a part (the sync file's
// chunks are authenticated for that, §11.1); it names a part damaged on the way.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kolokol/crypto/bytes.hpp"
#include "kolokol/crypto/error.hpp"

namespace kolokol::core {

inline constexpr std::size_t kMinPartSize = 4 << 10;   // a part file is at least 4 KiB
inline constexpr std::size_t kMaxPartSize = 64 << 20;  // and at most 64 MiB
inline constexpr std::uint32_t kMaxPartCount = 9999;   // parts in a set
inline constexpr std::size_t kPartHeaderSize = 76;     // binary part header, check included
inline constexpr std::size_t kMaxArmorLine = 128;      // BEGIN and END lines, trimmed

using PartSetId = ByteArray<8>;

struct PartHeader {
    PartSetId set{};
    std::uint32_t index = 0;  // 1-based
    std::uint32_t count = 0;
    std::uint64_t total = 0;   // bytes of the whole sync file
    std::uint64_t offset = 0;  // where this part's body starts in it
    std::uint32_t size = 0;    // body bytes
    ByteArray<32> check{};
};

struct Part {
    PartHeader header;
    Bytes body;
};

// "1f2e3d4c5b6a7980": how a set is named to users.
std::string set_name(const PartSetId& set);

// "2M", "512K", "4096" (bytes), K and M = 1024 and 1024², with an optional "B" or "iB". Fails
// with CoreErrc::bad_input outside kMinPartSize..kMaxPartSize.
Result<std::size_t> parse_part_size(std::string_view text);

// The binary part for `header` (its check is computed; the one given is ignored) and `body`.
Bytes encode_part(const PartHeader& header, ByteView body);
// Parses and checks one binary part: header bounds (index ≤ count ≤ kMaxPartCount, size ≤
// kMaxPartSize, offset + size ≤ total), length, check. CoreErrc::bad_input, the message saying
// what is wrong, otherwise.
Result<Part> decode_part(ByteView bytes);
// The armored text of a binary part made by encode_part.
std::string armor_part(const PartHeader& header, ByteView binary_part);

// One block found in text. `label` holds what its BEGIN line says when it parsed.
struct ArmorBlock {
    std::uint64_t offset = 0;  // of the BEGIN line's first byte
    std::optional<PartHeader> label;
    Result<Part> part;
};

// Finds armored blocks in text fed to it in pieces of any size, keeping at most one part's
// bytes (≤ kPartHeaderSize + kMaxPartSize) and one short line in memory. Calls `on_block`
// for every block when its END line (or the text's end, or the next BEGIN line) is reached;
// `on_block` returns false to stop the scan.
class ArmorScanner {
public:
    explicit ArmorScanner(std::function<bool(ArmorBlock&&)> on_block);
    void feed(std::string_view text);
    // The end of the text: a block still open is reported damaged.
    void finish();
    bool stopped() const { return m_stopped; }
    bool seen_begin() const { return m_seen_begin; }

private:
    void line_done();
    void body_char(char c);
    void open_block(std::string_view begin_line);
    void close_block(std::optional<Error> damage, std::string_view end_line = {});
    void flush_base64();

    std::function<bool(ArmorBlock&&)> m_on_block;
    std::uint64_t m_pos = 0, m_line_start = 0;
    std::string m_line;  // the current line's first kMaxArmorLine characters, quote marks off
    bool m_line_long = false;
    enum class Mode { lead, marker, body } m_mode = Mode::lead;
    bool m_inside = false, m_stopped = false, m_seen_begin = false;
    // The open block.
    std::uint64_t m_block_offset = 0;
    std::optional<PartHeader> m_label;
    std::optional<Error> m_damage;
    std::string m_base64;
    Bytes m_decoded;
};

// Every block of `text` (the libFuzzer target's entry).
std::vector<ArmorBlock> parse_armored_parts(std::string_view text);

// Writing. `part_size` 0: one part written to `out` itself (it must fit in kMaxPartSize);
// otherwise parts of at most `part_size` bytes each, written to out.partNN (armored:
// out.partNN.txt, NN zero-padded to the count's digits). Each is written as a sync file is
// (a 0600 temporary beside it, fsynced, renamed); on failure the parts written are removed.
struct PartOptions {
    std::size_t part_size = 0;
    bool armor = false;
};
struct PartsWritten {
    PartSetId set{};
    std::vector<std::filesystem::path> files;
};
// Cuts the `total` bytes readable with pread() from `whole_fd` into parts of set `set`.
Result<PartsWritten> write_parts(int whole_fd, std::uint64_t total,
                                 const std::filesystem::path& out, const PartOptions& options,
                                 const PartSetId& set);

// Reading. Where one part of the set is (a binary file, or a block in a text file).
struct PartSource {
    std::filesystem::path path;
    std::uint64_t offset = 0;  // of the armored block; 0 for a binary part
    bool armored = false;
    PartHeader header;
};
struct PartSet {
    PartSetId set{};
    std::uint32_t count = 0;
    std::uint64_t total = 0;
    std::vector<PartSource> parts;  // in index order, count of them
    // Second copies (same set, index and check), ignored.
    std::vector<PartSource> duplicates;
    // Damaged copies passed over because the set is whole without them: what each is (the
    // error names the file and, when its header still says so, the part).
    std::vector<Error> damaged;
    // Files in the folders given that hold no part.
    std::size_t ignored_files = 0;
};
// The parts in `inputs` (files, or folders whose files are looked at, not below). Every part
// is read and checked; a part of another set, two different parts under one number, a missing
// part — each fails with CoreErrc::bad_input naming the file or the part ("part 3 of 5 of set
// 1f2e3d4c5b6a7980 is missing"); a path that does not exist with CoreErrc::not_found. A damaged
// part fails the same way unless the set is whole without it (a good copy of it was given too):
// then it is passed over and listed in PartSet::damaged.
Result<PartSet> collect_parts(std::span<const std::filesystem::path> inputs);

// Reads the whole sync file out of a PartSet, part by part, reading and checking each part
// again (a part changed since collect_parts fails). Holds one part in memory.
class PartSetReader {
public:
    explicit PartSetReader(const PartSet& set) : m_set(set) {}
    // Fills `out` as far as the file goes; 0 at its end.
    Result<std::size_t> read(std::span<std::uint8_t> out);

private:
    const PartSet& m_set;
    std::size_t m_next = 0;
    Bytes m_body;
    std::size_t m_at = 0;
};

// Whether `path` is a whole sync file ("KKSYNC01" first).
bool is_whole_sync_file(const std::filesystem::path& path);

}  // namespace kolokol::core

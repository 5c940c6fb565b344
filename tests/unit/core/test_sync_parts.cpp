// Sync files cut into parts (core/src/sync_parts.cpp, sync_part_set.cpp): the part codec, the
// armor, and putting a set together from files in any order.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "kolokol/core/sync_parts.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;

namespace {
Bytes pattern_bytes(std::size_t n, std::uint8_t seed) {
    Bytes out(n);
    std::uint32_t x = seed + 1;
    for (auto& b : out) {
        x = x * 1103515245 + 12345;
        b = static_cast<std::uint8_t>(x >> 16);
    }
    return out;
}

PartHeader header_of(std::uint32_t index, std::uint32_t count, std::uint64_t total,
                     std::uint64_t offset) {
    PartHeader h;
    h.set = {1, 2, 3, 4, 5, 6, 7, 8};
    h.index = index;
    h.count = count;
    h.total = total;
    h.offset = offset;
    return h;
}

bool says(const Error& e, std::string_view text) {
    return e.message.find(text) != std::string::npos;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
void write_text(const std::filesystem::path& path, std::string_view text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

// A "whole sync file" of `bytes` cut into parts under dir/name.
PartsWritten cut(const std::filesystem::path& dir, const std::string& name, ByteView bytes,
                 PartOptions options, std::uint8_t set_byte) {
    auto whole = dir / (name + ".whole");
    write_text(whole, as_chars(bytes));
    const int fd = ::open(whole.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    PartSetId set{};
    set.fill(set_byte);
    auto written = write_parts(fd, bytes.size(), dir / name, options, set);
    ::close(fd);
    std::filesystem::remove(whole);
    REQUIRE(written.has_value());
    return *written;
}

Bytes read_all(const PartSet& set) {
    PartSetReader reader(set);
    Bytes out;
    std::uint8_t buf[1000];
    for (;;) {
        auto n = reader.read(buf);
        REQUIRE(n.has_value());
        if (*n == 0) break;
        out.insert(out.end(), buf, buf + *n);
    }
    return out;
}
}  // namespace

TEST_CASE("part sizes take K and M, and stay within 4K..64M") {
    CHECK(parse_part_size("2M") == std::size_t{2} << 20);
    CHECK(parse_part_size("512K") == std::size_t{512} << 10);
    CHECK(parse_part_size("4KiB") == std::size_t{4096});
    CHECK(parse_part_size("64m") == std::size_t{64} << 20);
    CHECK(parse_part_size("8192") == std::size_t{8192});
    for (auto bad : {"3K", "65M", "4095", "2G", "", "M", "abc", "-4K", "4 K",
                     "99999999999999999999M", "18014398509481984K"}) {
        CAPTURE(bad);
        auto r = parse_part_size(bad);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
    }
}

TEST_CASE("a binary part decodes back, and each damage is said") {
    auto body = pattern_bytes(5000, 1);
    auto part = encode_part(header_of(2, 3, 12000, 4000), body);
    REQUIRE(part.size() == kPartHeaderSize + body.size());
    auto back = decode_part(part);
    REQUIRE(back.has_value());
    CHECK(back->body == body);
    CHECK(back->header.index == 2);
    CHECK(back->header.count == 3);
    CHECK(back->header.size == 5000);

    auto fails = [](const Bytes& b, std::string_view why) {
        auto r = decode_part(b);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
        CHECK_MESSAGE(says(r.error(), why), r.error().message);
    };
    fails(Bytes(part.begin(), part.end() - 1), "truncated");
    fails(Bytes(part.begin(), part.begin() + 50), "truncated");
    auto longer = part;
    longer.push_back(0);
    fails(longer, "bytes after its end");
    auto flipped = part;
    flipped[kPartHeaderSize + 100] ^= 0x20;
    fails(flipped, "checksum");
    auto header_flipped = part;
    header_flipped[39] ^= 1;  // the offset: 4001, still in bounds
    fails(header_flipped, "checksum");
    fails(Bytes(part.begin() + 1, part.end()), "not a part");
    // Out of bounds before anything is read: count 0, index past count, count past the cap, a
    // body past the whole.
    fails(encode_part(header_of(1, 0, 100, 0), Bytes(10)), "out of bounds");
    fails(encode_part(header_of(4, 3, 100, 0), Bytes(10)), "out of bounds");
    fails(encode_part(header_of(1, kMaxPartCount + 1, 100, 0), Bytes(10)), "out of bounds");
    fails(encode_part(header_of(1, 1, 100, 95), Bytes(10)), "out of bounds");
    fails(encode_part(header_of(1, 1, 0, 0), Bytes{}), "out of bounds");
}

TEST_CASE("armored parts survive what messengers and mail do to text") {
    auto body = pattern_bytes(3000, 2);
    auto h = header_of(1, 2, 6000, 0);
    auto binary = encode_part(h, body);
    auto text = armor_part(h, binary);
    CHECK(text.starts_with("-----BEGIN KOLOKOL SYNC PART 1 OF 2 SET 0102030405060708-----\n"));
    CHECK(text.ends_with("-----END KOLOKOL SYNC PART 1 OF 2 SET 0102030405060708-----\n"));
    for (auto c : text) CHECK((c == '\n' || (c >= 0x20 && c < 0x7f)));

    auto one_good = [&](const std::string& t) {
        auto blocks = parse_armored_parts(t);
        REQUIRE(blocks.size() == 1);
        REQUIRE(blocks[0].part.has_value());
        CHECK(blocks[0].part->body == body);
        REQUIRE(blocks[0].label.has_value());
        CHECK(blocks[0].label->index == 1);
    };
    one_good(text);
    std::string crlf, quoted;
    for (auto c : text) {
        if (c == '\n') crlf += '\r';
        crlf += c;
    }
    one_good(crlf);
    std::size_t at = 0;
    while (at < text.size()) {
        auto nl = text.find('\n', at);
        quoted += "> " + text.substr(at, nl - at) + "  \n";
        at = nl + 1;
    }
    one_good(quoted);
    one_good("Forwarded from Anna, 12:03\nsee below\n\n" + text + "\nsent from my phone");
    // Fed a byte at a time, the scanner finds the same.
    std::vector<ArmorBlock> bytewise;
    ArmorScanner scanner([&](ArmorBlock&& b) {
        bytewise.push_back(std::move(b));
        return true;
    });
    for (char c : crlf) scanner.feed(std::string_view(&c, 1));
    scanner.finish();
    REQUIRE(bytewise.size() == 1);
    CHECK(bytewise[0].part.has_value());

    // Two blocks in one text, each at its own offset.
    auto h2 = header_of(2, 2, 6000, 3000);
    auto second = armor_part(h2, encode_part(h2, pattern_bytes(3000, 3)));
    auto both = parse_armored_parts("a\n" + text + "b\n" + second);
    REQUIRE(both.size() == 2);
    CHECK(both[0].offset == 2);
    CHECK(both[1].offset == 2 + text.size() + 2);
    CHECK(both[1].part.has_value());

    auto damaged = [](const std::string& t, std::string_view why) {
        auto blocks = parse_armored_parts(t);
        REQUIRE(blocks.size() == 1);
        REQUIRE_FALSE(blocks[0].part.has_value());
        CHECK(blocks[0].part.error().code == CoreErrc::bad_input);
        CHECK_MESSAGE(says(blocks[0].part.error(), why), blocks[0].part.error().message);
    };
    // One base64 character changed: the part's checksum names it.
    auto changed = text;
    auto pos = changed.find('\n', 80) + 10;
    changed[pos] = changed[pos] == 'A' ? 'B' : 'A';
    damaged(changed, "checksum");
    auto line_lost = text;
    auto first_nl = line_lost.find('\n');
    line_lost.erase(first_nl + 1, 65);
    damaged(line_lost, "");
    damaged(text.substr(0, text.size() - 40), "before its END line");
    auto starred = text;
    starred[first_nl + 5] = '*';
    damaged(starred, "not base64");
    auto other_end = text;
    other_end.replace(other_end.rfind("1 OF 2"), 6, "2 OF 2");
    damaged(other_end, "BEGIN and END lines differ");
    // The label says another part than the contents.
    auto relabelled = text;
    relabelled.replace(relabelled.find("1 OF 2"), 6, "2 OF 2");
    relabelled.replace(relabelled.rfind("1 OF 2"), 6, "2 OF 2");
    damaged(relabelled, "does not match its contents");
    damaged(
        "-----BEGIN KOLOKOL SYNC PART x OF 2 SET 0102030405060708-----\nAAAA\n"
        "-----END KOLOKOL SYNC PART 1 OF 2 SET 0102030405060708-----\n",
        "BEGIN line does not parse");
    // A block whose body goes on past what its header allows is cut short, not buffered: 8 MiB
    // of base64 on one line after a header that says 3,000 bytes.
    auto head = text.substr(0, text.find('\n', text.find('\n', first_nl + 1) + 1) + 1);
    damaged(head + std::string(8 << 20, 'A') + "\n" + text.substr(text.rfind("-----END")),
            "longer than its header says");
    // A BEGIN line longer than any is not one; text without a block has none.
    CHECK(parse_armored_parts("-----BEGIN KOLOKOL SYNC PART 1 OF 2 SET 0102030405060708-----" +
                              std::string(200, ' ') + "x\n")
              .empty());
    CHECK(parse_armored_parts("hello\n-----END KOLOKOL SYNC PART 1 OF 2 SET 0102030405060708-----")
              .empty());
}

TEST_CASE("a set is put together from its parts in any order, duplicates ignored") {
    TempDir dir;
    auto whole = pattern_bytes(50000, 4);
    for (bool armor : {false, true}) {
        CAPTURE(armor);
        auto sub = dir.path() / (armor ? "armored" : "binary");
        std::filesystem::create_directories(sub);
        auto written = cut(sub, "x.sync", whole, {4096, armor}, armor ? 7 : 8);
        REQUIRE(written.files.size() >= (armor ? 17u : 13u));
        for (const auto& f : written.files) CHECK(std::filesystem::file_size(f) <= 4096);
        CHECK(written.files[0].filename() == (armor ? "x.sync.part01.txt" : "x.sync.part01"));
        // Shuffled, with a copy of part 3 under another name.
        std::vector<std::filesystem::path> given(written.files.rbegin(), written.files.rend());
        std::filesystem::copy_file(written.files[2], sub / "copy-of-3");
        given.push_back(sub / "copy-of-3");
        auto set = collect_parts(given);
        REQUIRE(set.has_value());
        CHECK(set->count == written.files.size());
        REQUIRE(set->duplicates.size() == 1);
        CHECK(set->duplicates[0].header.index == 3);
        CHECK(read_all(*set) == whole);
        // The folder works as well; a file in it that is no part is counted, not refused.
        write_text(sub / "notes.txt", "nothing here");
        auto from_folder = collect_parts(std::vector{sub});
        REQUIRE(from_folder.has_value());
        CHECK(from_folder->ignored_files == 1);
        CHECK(read_all(*from_folder) == whole);
        std::filesystem::remove(sub / "copy-of-3");
        std::filesystem::remove(sub / "notes.txt");
    }
    // All armored parts pasted into one text file, in reverse order, with chatter between.
    auto armored = collect_parts(std::vector{dir.path() / "armored"});
    REQUIRE(armored.has_value());
    std::string pasted;
    for (auto it = armored->parts.rbegin(); it != armored->parts.rend(); ++it)
        pasted += "[12:0" + std::to_string(it->header.index % 10) + "] Anna:\n" +
                  read_text(it->path) + "\n";
    write_text(dir.path() / "pasted.txt", pasted);
    auto from_paste = collect_parts(std::vector{dir.path() / "pasted.txt"});
    REQUIRE(from_paste.has_value());
    CHECK(read_all(*from_paste) == whole);
}

TEST_CASE("a set with a part missing, damaged or from another set is refused by name") {
    TempDir dir;
    auto whole = pattern_bytes(30000, 5);
    auto written = cut(dir.path(), "s", whole, {4096, true}, 0xab);
    REQUIRE(written.files.size() >= 8);
    const auto n = std::to_string(written.files.size());
    auto refused = [](std::vector<std::filesystem::path> given, const std::string& why) {
        auto r = collect_parts(given);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
        CHECK_MESSAGE(says(r.error(), why), r.error().message);
    };
    auto without = [&](std::initializer_list<std::size_t> gone) {
        std::vector<std::filesystem::path> given;
        for (std::size_t i = 0; i < written.files.size(); ++i)
            if (std::find(gone.begin(), gone.end(), i) == gone.end())
                given.push_back(written.files[i]);
        std::reverse(given.begin(), given.end());
        return given;
    };
    refused(without({2}), "part 3 of " + n + " of set abababababababab is missing");
    refused(without({1, 4}), "parts 2, 5 of " + n + " of set abababababababab are missing");
    // A part of another set, given with the rest.
    auto other = cut(dir.path(), "t", pattern_bytes(9000, 6), {4096, false}, 0xcd);
    auto with_other = without({});
    with_other.push_back(other.files[1]);
    refused(with_other, other.files[1].string() + ": part 2 of " +
                            std::to_string(other.files.size()) +
                            " of set cdcdcdcdcdcdcdcd is from another set");
    // A damaged part: named by its file and number.
    auto text = read_text(written.files[3]);
    auto pos = text.find('\n', 100) + 3;
    text[pos] = text[pos] == 'Q' ? 'R' : 'Q';
    write_text(written.files[3], text);
    refused(without({}), written.files[3].string() + ": part 4 of " + n +
                             " of set abababababababab is damaged: its checksum does not match");
    // Two different parts under one number: the same set id over other bytes of the same size.
    auto changed = whole;
    changed[6000] ^= 1;  // in part 3
    auto twin = cut(dir.path(), "u", changed, {4096, true}, 0xab);
    auto paths = without({3});
    paths.push_back(twin.files[2]);
    refused(paths, " are both part 3 of " + n + " of set abababababababab, but differ");
    // A part of a cut into other sizes, under the same set id, does not agree on the count.
    auto resized = cut(dir.path(), "v", whole, {8192, false}, 0xab);
    paths = without({3});
    paths.push_back(resized.files[0]);
    refused(paths, "does not agree with the other parts");
    // Not a part at all, named; a path that is not there, not found.
    write_text(dir.path() / "letter.txt", "Dear Anna");
    refused({dir.path() / "letter.txt"}, "letter.txt is neither a sync file nor a part of one");
    auto gone = collect_parts(std::vector{dir.path() / "nothing"});
    REQUIRE_FALSE(gone.has_value());
    CHECK(gone.error().code == CoreErrc::not_found);
}

TEST_CASE("a damaged copy of a part beside a good one is passed over and said") {
    TempDir dir;
    auto whole = pattern_bytes(30000, 7);
    auto written = cut(dir.path(), "s", whole, {4096, true}, 0x5a);
    REQUIRE(written.files.size() >= 8);
    const auto n = std::to_string(written.files.size());
    // A copy of part 4 with one base64 character changed, and a binary-looking file whose
    // header is gone: both damaged.
    auto text = read_text(written.files[3]);
    auto pos = text.find('\n', 100) + 3;
    text[pos] = text[pos] == 'Q' ? 'R' : 'Q';
    write_text(dir.path() / "copy-of-4.txt", text);
    write_text(dir.path() / "stub", "KKPART01");
    std::vector<std::filesystem::path> given(written.files.begin(), written.files.end());
    given.push_back(dir.path() / "copy-of-4.txt");
    given.push_back(dir.path() / "stub");
    auto set = collect_parts(given);
    REQUIRE(set.has_value());
    CHECK(set->parts.size() == written.files.size());
    REQUIRE(set->damaged.size() == 2);
    CHECK(says(set->damaged[0], "copy-of-4.txt: part 4 of " + n +
                                    " of set 5a5a5a5a5a5a5a5a is damaged: its checksum"));
    CHECK(says(set->damaged[1], "stub: a part of a sync file is damaged"));
    PartSetReader reader(*set);
    Bytes back(whole.size() + 10);
    auto got = reader.read(back);
    REQUIRE(got.has_value());
    CHECK(*got == whole.size());
    back.resize(*got);
    CHECK(back == whole);

    // With the good part 4 gone, its damaged copy is what is said, not a missing part.
    given.erase(given.begin() + 3);
    auto refused = collect_parts(given);
    REQUIRE_FALSE(refused.has_value());
    CHECK_MESSAGE(says(refused.error(), "copy-of-4.txt: part 4 of " + n +
                                            " of set "
                                            "5a5a5a5a5a5a5a5a is damaged"),
                  refused.error().message);
    // With part 2 gone instead, the missing part is said (the damaged 4 has a good copy); a
    // damaged file whose header says nothing could be any part, and is said first.
    given.insert(given.begin() + 3, written.files[3]);
    given.erase(given.begin() + 1);
    refused = collect_parts(given);
    REQUIRE_FALSE(refused.has_value());
    CHECK_MESSAGE(says(refused.error(), "stub: a part of a sync file is damaged"),
                  refused.error().message);
    given.pop_back();
    refused = collect_parts(given);
    REQUIRE_FALSE(refused.has_value());
    CHECK_MESSAGE(says(refused.error(), "part 2 of " + n + " of set 5a5a5a5a5a5a5a5a is missing"),
                  refused.error().message);
}

TEST_CASE("a member reads a sync file out of its parts, and nothing before all are there") {
    TempDir dir;
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    auto group = *a->create_group("Legal support");
    auto token = a->add_member(group, card_to_text(b->card()), false, false);
    REQUIRE(token.has_value());
    REQUIRE(b->join(*token).has_value());
    deliver(*a, *b);
    for (int i = 0; i < 30; ++i)
        REQUIRE(a->post(group, "message " + std::to_string(i) + std::string(200, '.')).has_value());
    auto out = dir.path() / "parts";
    std::filesystem::create_directories(out);
    PartsWritten written;
    auto n = a->write_sync_parts(out / "k.sync", {}, {4096, true}, &written);
    REQUIRE(n.has_value());
    CHECK(*n >= 30);
    REQUIRE(written.files.size() > 2);
    // Only the parts are left: no whole file, no temporary.
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(out)) {
        CHECK(e.path().string().ends_with(".txt"));
        ++files;
    }
    CHECK(files == written.files.size());

    const auto before = texts(*b, group);
    std::filesystem::rename(written.files[1], dir.path() / "held-back");
    auto r = b->read_sync_files(std::vector{out});
    REQUIRE_FALSE(r.has_value());
    CHECK(says(r.error(), "part 2 of " + std::to_string(written.files.size()) + " of set " +
                              set_name(written.set) + " is missing"));
    CHECK(texts(*b, group) == before);
    std::filesystem::rename(dir.path() / "held-back", written.files[1]);
    PartSet parts;
    r = b->read_sync_files(std::vector{out}, &parts);
    REQUIRE(r.has_value());
    CHECK(parts.count == written.files.size());
    CHECK(parts.set == written.set);
    CHECK(texts(*b, group).size() == before.size() + 30);
    CHECK(texts(*b, group) == texts(*a, group));

    // One armored part, no size given: the file named; a whole file reads as it always did.
    REQUIRE(a->post(group, "one more").has_value());
    REQUIRE(a->write_sync_parts(dir.path() / "one.txt", {}, {0, true}, &written).has_value());
    REQUIRE(written.files == std::vector{dir.path() / "one.txt"});
    REQUIRE(b->read_sync_files(std::vector{dir.path() / "one.txt"}).has_value());
    CHECK(texts(*b, group).back() == "one more");
    REQUIRE(a->post(group, "and another").has_value());
    REQUIRE(a->write_sync_file(dir.path() / "whole.sync", {}).has_value());
    parts = {};
    REQUIRE(b->read_sync_files(std::vector{dir.path() / "whole.sync"}, &parts).has_value());
    CHECK(parts.count == 0);
    CHECK(texts(*b, group).back() == "and another");
}

// Coordination objects through real Nodes: object changes as signed records, convergence under
// any delivery order, permissions, redaction, attachments (with damaged and missing chunks),
// bad input, and retention down to the bytes of the database.

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <random>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"
#include "kolokol/objects/error.hpp"
#include "kolokol/objects/values.hpp"
#include "kolokol/storage/error.hpp"
#include "node_access.hpp"
#include "node_fixture.hpp"

using namespace kolokol;
using namespace kolokol::core;
using namespace kolokol::test;
namespace fs = std::filesystem;

namespace {

struct Team {
    TempDir dir;
    std::unique_ptr<Node> a = make_node(dir.path() / "a", "Anna");
    std::unique_ptr<Node> b = make_node(dir.path() / "b", "Boris");
    std::unique_ptr<Node> c = make_node(dir.path() / "c", "Clara");
    GroupId group{};
    Team() {
        group = *a->create_group("Legal support");
        for (auto* n : {b.get(), c.get()}) {
            auto token = a->add_member(group, card_to_text(n->card()), false, true);
            REQUIRE(token.has_value());
            REQUIRE(n->join(*token).has_value());
        }
        exchange();
    }
    void exchange() {
        for (int round = 0; round < 2; ++round)
            for (auto* from : {a.get(), b.get(), c.get()})
                for (auto* to : {a.get(), b.get(), c.get()})
                    if (from != to) deliver(*from, *to);
    }
};

RecordId open_case(Node& n, const GroupId& g, const std::string& person) {
    ObjectEdit e;
    e.type = "case";
    e.set = {{"person", person}, {"status", "detained"}};
    auto id = n.object_change(g, e);
    REQUIRE(id.has_value());
    return *id;
}

Result<RecordId> set_field(Node& n, const GroupId& g, const RecordId& obj, const std::string& type,
                           const std::string& field, const std::string& value) {
    ObjectEdit e;
    e.type = type;
    e.object = obj;
    e.set = {{field, value}};
    return n.object_change(g, e);
}

Result<RecordId> append(Node& n, const GroupId& g, const RecordId& obj, const std::string& type,
                        const std::string& list, std::map<std::string, std::string> item) {
    ObjectEdit e;
    e.type = type;
    e.object = obj;
    e.append = objects::ListAppend{list, std::move(item)};
    return n.object_change(g, e);
}

Bytes random_bytes(std::size_t n, std::uint32_t seed) {
    Bytes out(n);
    std::mt19937 rng(seed);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
}

fs::path write_file(const fs::path& p, ByteView data) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    return p;
}

Bytes read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string str(const Bytes& b) {
    return std::string(b.begin(), b.end());
}

// A chunk record for `index` of the attachment, holding `bytes`, sealed for the group by member c
// but claiming a as its author: what any member holding the group's key can forge.
Bytes forge_chunk(Team& t, const AttachmentInfo& info, std::uint32_t index, ByteView bytes) {
    auto& ci = NodeTestAccess::impl(*t.c);
    pb::RecordBody forged;
    forged.mutable_chunk()->set_attachment_id(to_string(info.attachment_id));
    forged.mutable_chunk()->set_index(index);
    forged.mutable_chunk()->set_data(to_string(bytes));
    auto epoch = ci.prepare(t.group, forged, std::nullopt);
    REQUIRE(epoch.has_value());
    forged.set_author(to_string(NodeTestAccess::impl(*t.a).identity.sign.public_key));
    return ci.seal(forged, *epoch);
}

}  // namespace

TEST_CASE("a case: fields, timeline, ledger totals and history through the Node") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan Petrov");
    REQUIRE(append(*t.a, t.group, id, "case", "timeline",
                   {{"text", "Detained at the metro"}, {"at", "2026-03-01T10:00:00Z"}}));
    REQUIRE(append(*t.a, t.group, id, "case", "ledger",
                   {{"amount", "150.50"}, {"currency", "EUR"}, {"direction", "paid"}}));
    REQUIRE(append(*t.a, t.group, id, "case", "ledger",
                   {{"amount", "49.50"}, {"currency", "EUR"}, {"direction", "paid"}}));
    REQUIRE(set_field(*t.a, t.group, id, "case", "lawyer", "M. Sokolova"));

    auto cv = t.a->case_view(t.group, id);
    REQUIRE(cv.has_value());
    CHECK(cv->object.get("person") == "Ivan Petrov");
    CHECK(cv->object.get("lawyer") == "M. Sokolova");
    CHECK(cv->object.list("timeline").size() == 1);
    REQUIRE(cv->totals.size() == 1);
    CHECK(cv->totals[0].cents == 20000);
    CHECK(cv->totals[0].direction == "paid");

    auto h = t.a->object_history(t.group, id);
    REQUIRE(h.has_value());
    CHECK(h->size() == 7);  // created, person, status, note, 2 payments, lawyer
    CHECK(h->front().kind == HistoryEntry::Kind::created);
    CHECK(h->back().name == "lawyer");
    CHECK(h->back().author == t.a->me());

    // Another member holding the same records sees the same case.
    t.exchange();
    auto other = t.b->object(t.group, id);
    REQUIRE(other.has_value());
    CHECK(*other == cv->object);
    auto found = t.b->resolve_object(t.group, objects::key_hex(id).substr(0, 6), "case");
    REQUIRE(found.has_value());
    CHECK(*found == id);
    CHECK(t.b->resolve_object(t.group, "zz", "case").error().code == CoreErrc::bad_input);
}

TEST_CASE("bad input is refused with its reason and nothing is written") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan");
    auto check_bad = [&](ObjectEdit e, std::string_view says) {
        auto r = t.a->object_change(t.group, e);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code == CoreErrc::bad_input);
        CHECK(r.error().message.find(says) != std::string::npos);
    };
    ObjectEdit e;
    e.type = "petition";
    check_bad(e, "petition");
    e.type = "case";
    e.set = {{"shoe_size", "42"}};
    check_bad(e, "shoe_size");
    e.set = {{"person", std::string(300, 'x')}};
    check_bad(e, "person");
    e.set = {{"detained_at", "2026-02-30T10:00:00Z"}};
    check_bad(e, "detained_at");
    e.set = {{"detained_at", "9999-01-01T00:00:00Z"}};
    check_bad(e, "detained_at");
    e.set.clear();
    e.object = id;
    e.append = objects::ListAppend{
        "ledger", {{"amount", "1e99"}, {"currency", "EUR"}, {"direction", "paid"}}};
    check_bad(e, "amount");
    e.append = objects::ListAppend{
        "ledger", {{"amount", "100000000000000"}, {"currency", "EUR"}, {"direction", "paid"}}};
    check_bad(e, "amount");
    auto h = t.a->object_history(t.group, id);
    REQUIRE(h.has_value());
    CHECK(h->size() == 3);  // created, person, status
}

TEST_CASE("concurrent edits in any order with duplicates converge on the rule's winner") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan");
    t.exchange();
    // Everyone edits the same fields without seeing the others: equal Lamport clocks, so the
    // greatest author key wins each register.
    std::vector<Node*> nodes = {t.a.get(), t.b.get(), t.c.get()};
    for (auto* n : nodes) {
        REQUIRE(set_field(*n, t.group, id, "case", "status", "charged"));
        REQUIRE(set_field(*n, t.group, id, "case", "lawyer", n->card().display_name + "'s lawyer"));
        REQUIRE(append(*n, t.group, id, "case", "timeline",
                       {{"text", "note by " + n->card().display_name}}));
    }
    auto winner = *std::max_element(nodes.begin(), nodes.end(),
                                    [](Node* x, Node* y) { return x->me() < y->me(); });

    // Observers receive all envelopes in random orders, in random batches, with duplicates.
    std::vector<Bytes> all;
    for (auto* n : nodes)
        for (auto& e : all_envelopes(*n)) all.push_back(e);
    std::vector<ObjectView> seen;
    for (std::uint32_t seed = 1; seed <= 4; ++seed) {
        TempDir d;
        auto o = make_node(d.path() / "o", "Observer");
        auto token = t.a->add_member(t.group, card_to_text(o->card()), false, true);
        REQUIRE(token.has_value());
        REQUIRE(o->join(*token).has_value());
        auto extra = all_envelopes(*t.a);  // the add and its welcome epoch
        std::vector<Bytes> input = all;
        input.insert(input.end(), extra.begin(), extra.end());
        std::mt19937 rng(seed);
        for (std::size_t i = 0; i < input.size() / 3; ++i)
            input.push_back(input[rng() % input.size()]);
        std::shuffle(input.begin(), input.end(), rng);
        std::size_t at = 0;
        while (at < input.size()) {
            std::size_t n = std::min<std::size_t>(input.size() - at, 1 + rng() % 40);
            REQUIRE(o->ingest(std::span<const Bytes>(input.data() + at, n)).has_value());
            at += n;
        }
        auto v = o->object(t.group, id);
        REQUIRE(v.has_value());
        seen.push_back(*v);
    }
    t.exchange();
    for (auto* n : nodes) seen.push_back(*n->object(t.group, id));
    for (const auto& v : seen) CHECK(v == seen.front());
    CHECK(seen.front().get("lawyer") == winner->card().display_name + "'s lawyer");
    CHECK(seen.front().fields.at("lawyer").author == winner->me());
    CHECK(seen.front().list("timeline").size() == 3);
}

TEST_CASE("only the author or an admin redacts; peers honour the redaction") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan");
    t.exchange();
    auto secret_note =
        append(*t.b, t.group, id, "case", "timeline", {{"text", "safehouse at Lenina 12"}});
    REQUIRE(secret_note.has_value());
    auto anna_msg = t.a->post(t.group, "Anna's message");
    REQUIRE(anna_msg.has_value());
    t.exchange();

    // Boris may not redact Anna's record: the Node refuses, and a forged redaction record that
    // skips the check is rejected by every peer at ingest.
    auto refused = t.b->redact(t.group, *anna_msg, "");
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == CoreErrc::not_permitted);
    pb::RecordBody forged;
    forged.mutable_redaction()->set_target(to_string(*anna_msg));
    auto& bi = NodeTestAccess::impl(*t.b);
    auto forged_id = bi.write(t.group, forged);
    CHECK_FALSE(forged_id.has_value());  // refused by Boris's own ingest (not_admin)
    CHECK(texts(*t.b, t.group) == std::vector<std::string>{"Anna's message"});

    // Boris redacts his own note.
    REQUIRE(t.b->redact(t.group, *secret_note, "too revealing").has_value());
    t.exchange();
    for (auto* n : {t.a.get(), t.b.get(), t.c.get()}) {
        auto w = n->object(t.group, id);
        REQUIRE(w.has_value());
        CHECK(w->list("timeline").empty());  // the tombstone lost the item's required text
        // No copy of the note's plaintext anywhere in the store's rows.
        auto& im = NodeTestAccess::impl(*n);
        auto st = im.db.prepare(
            "SELECT kind, signed FROM records WHERE n = coalesce((SELECT n FROM record_ids "
            "WHERE id = ?1), (SELECT seq FROM envelopes WHERE id = ?1))");
        REQUIRE(st.has_value());
        st->bind(1, ByteView(*secret_note));
        REQUIRE(*st->step());
        CHECK(st->column_int64(0) == 9);
        auto blob = st->column_blob(1);
        CHECK(std::string(as_chars(blob)).find("Lenina") == std::string::npos);
        auto env = im.envelopes->contains(*secret_note);
        REQUIRE(env.has_value());
        CHECK_FALSE(*env);
    }
    // Anna, an admin, may redact Clara's message.
    auto clara_msg = t.c->post(t.group, "Clara says something rash");
    REQUIRE(clara_msg.has_value());
    t.exchange();
    REQUIRE(t.a->redact(t.group, *clara_msg, "").has_value());
    t.exchange();
    CHECK(texts(*t.c, t.group) == std::vector<std::string>{"Anna's message"});
    // A member who never saw the redacted record is not left waiting for it.
    TempDir d;
    auto late = make_node(d.path() / "late", "Dora");
    auto token = t.a->add_member(t.group, card_to_text(late->card()), false, true);
    REQUIRE(late->join(*token).has_value());
    deliver(*t.a, *late);
    CHECK(texts(*late, t.group) == std::vector<std::string>{"Anna's message"});
    CHECK(late->object(t.group, id).has_value());
}

TEST_CASE("a removed member's later edits are rejected") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan");
    t.exchange();
    REQUIRE(t.a->remove_member(t.group, t.c->me()).has_value());
    // Clara has not heard of her removal and keeps editing.
    REQUIRE(set_field(*t.c, t.group, id, "case", "lawyer", "someone unvetted"));
    auto r = deliver(*t.c, *t.a);
    CHECK(r.rejected >= 1);
    auto v = t.a->object(t.group, id);
    REQUIRE(v.has_value());
    CHECK(v->get("lawyer") == "");
}

TEST_CASE("attachments: byte-identical through a peer; damaged and missing chunks come back") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan");
    auto data = random_bytes(1'000'000, 7);
    auto src = write_file(t.dir.path() / "court-decision.pdf", data);
    std::uint64_t last_progress = 0;
    AttachOptions o;
    o.object = id;
    o.media_type = "application/pdf";
    o.progress = [&](std::uint64_t done, std::uint64_t total) {
        CHECK(done <= total);
        last_progress = done;
    };
    auto info = t.a->attach_file(t.group, src, o);
    REQUIRE(info.has_value());
    CHECK(last_progress == data.size());
    CHECK(info->chunk_count == 21);
    CHECK(info->name == "court-decision.pdf");
    CHECK(info->sha256 == crypto::sha256(data));
    auto cv = t.a->case_view(t.group, id);
    REQUIRE(cv.has_value());
    REQUIRE(cv->attachments.size() == 1);
    CHECK(cv->object.list("attachments").size() == 1);

    deliver(*t.a, *t.b);
    auto out = t.dir.path() / "out.pdf";
    REQUIRE(t.b->export_attachment(t.group, info->manifest_id, out).has_value());
    CHECK(read_file(out) == data);
    CHECK(t.b->export_attachment(t.group, info->manifest_id, out).error().code == CoreErrc::exists);

    // Damage one chunk envelope at Boris's: detected by index, dropped, re-fetched.
    auto& bi = NodeTestAccess::impl(*t.b);
    auto st = bi.db.prepare(
        "SELECT id FROM attachment_chunks WHERE attachment_id = ? AND idx IN (5, 9) ORDER BY idx");
    REQUIRE(st.has_value());
    st->bind(1, ByteView(info->attachment_id));
    REQUIRE(*st->step());
    auto chunk5 = to_array<32>(st->column_blob(0));
    REQUIRE(*st->step());
    auto chunk9 = to_array<32>(st->column_blob(0));
    auto up = bi.db.prepare(
        "UPDATE envelopes SET bytes = substr(bytes, 1, 100) || X'00' || substr(bytes, 102) "
        "WHERE id = ?");
    REQUIRE(up.has_value());
    up->bind(1, ByteView(chunk5));
    REQUIRE(up->step().has_value());
    RecordId gone[] = {chunk9};
    REQUIRE(bi.envelopes->remove(gone).has_value());

    auto listed = t.b->attachments(t.group, id);
    REQUIRE(listed.has_value());
    CHECK(listed->at(0).missing == std::vector<std::uint32_t>{9});
    auto bad = t.b->export_attachment(t.group, info->manifest_id, out, true);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == objects::ObjectErrc::chunk_corrupt);
    CHECK(bad.error().message.find("chunk 5") != std::string::npos);
    CHECK(read_file(out) == data);  // the earlier export was not touched by the failed one
    listed = t.b->attachments(t.group, id);
    CHECK(listed->at(0).missing == std::vector<std::uint32_t>{5, 9});
    auto missing =
        t.b->read_attachment(t.group, info->manifest_id, [](ByteView) -> Status { return {}; });
    CHECK(missing.error().code == objects::ObjectErrc::chunk_missing);

    // A reopened Node still knows to take the dropped chunk back.
    t.b.reset();
    t.b = reopen(t.dir.path() / "b");
    deliver(*t.a, *t.b);
    listed = t.b->attachments(t.group, id);
    CHECK(listed->at(0).missing.empty());
    auto again = t.dir.path() / "again.pdf";
    REQUIRE(t.b->export_attachment(t.group, info->manifest_id, again).has_value());
    CHECK(read_file(again) == data);
    auto by_prefix =
        t.b->resolve_attachment(t.group, crypto::hex_encode(info->manifest_id).substr(0, 8));
    REQUIRE(by_prefix.has_value());
    CHECK(by_prefix->manifest_id == info->manifest_id);

    // Redacting the manifest takes every chunk with it, here and at peers.
    REQUIRE(t.a->redact(t.group, info->manifest_id, "").has_value());
    deliver(*t.a, *t.b);
    for (auto* n : {t.a.get(), t.b.get()}) {
        auto& im = NodeTestAccess::impl(*n);
        auto c = im.db.prepare("SELECT COUNT(*) FROM attachment_chunks");
        REQUIRE(*c->step());
        CHECK(c->column_int64(0) == 0);
        CHECK_FALSE(*im.envelopes->contains(chunk5));
        CHECK(n->attachments(t.group)->empty());
    }
}

TEST_CASE("a chunk swapped in the store for a forged one is caught by the manifest") {
    // Reading does not check a chunk's signature again: the manifest's chunk-id hash pins it.
    // Here a member forges chunk 3 (right attachment, index, data and claimed author, signed
    // with her own key) and points the store's chunk table at it: the read must fail, though
    // the file's SHA-256 still matches.
    Team t;
    auto data = random_bytes(300'000, 11);
    auto src = write_file(t.dir.path() / "statement.pdf", data);
    auto info = t.a->attach_file(t.group, src, {});
    REQUIRE(info.has_value());
    deliver(*t.a, *t.b);

    const std::size_t cb = 48 * 1024;
    auto envelope = forge_chunk(t, *info, 3, ByteView(data).subspan(3 * cb, cb));
    auto forged_id = storage::record_id_of(envelope);

    auto& bi = NodeTestAccess::impl(*t.b);
    storage::StoredEnvelope e{forged_id, storage::parse_envelope(envelope)->mailbox, envelope, 0,
                              0};
    REQUIRE(bi.envelopes->put(std::span<const storage::StoredEnvelope>(&e, 1)).has_value());
    auto up =
        bi.db.prepare("UPDATE attachment_chunks SET id = ? WHERE attachment_id = ? AND idx = 3");
    REQUIRE(up.has_value());
    up->bind(1, ByteView(forged_id)).bind(2, ByteView(info->attachment_id));
    REQUIRE(up->step().has_value());
    REQUIRE(bi.db.changes() == 1);

    Bytes got;
    auto r = t.b->read_attachment(t.group, info->manifest_id, [&](ByteView d) -> Status {
        got.insert(got.end(), d.begin(), d.end());
        return {};
    });
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == objects::ObjectErrc::hash_mismatch);
    CHECK(r.error().message.find("not the ones its manifest names") != std::string::npos);
    CHECK(got.size() == data.size());  // every byte went by; the verdict comes at the end
    auto out = t.dir.path() / "statement-out.pdf";
    CHECK_FALSE(t.b->export_attachment(t.group, info->manifest_id, out).has_value());
    CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("an envelope replaced under a chunk's id is caught at the end, found and dropped") {
    // Reading does not hash each envelope again to check its id: SQLCipher authenticates the
    // pages, and the file's SHA-256 pins the bytes. Here a member who holds the store's key puts
    // a forged envelope under chunk 3's id (valid for the group, claiming the author, same size).
    // With other bytes the read fails once the SHA-256 is in, names chunk 3 and drops it, and
    // the next sync brings the real one back. With the same bytes nothing was lost: it reads.
    Team t;
    auto data = random_bytes(300'000, 12);
    auto src = write_file(t.dir.path() / "witness.pdf", data);
    auto info = t.a->attach_file(t.group, src, {});
    REQUIRE(info.has_value());
    deliver(*t.a, *t.b);
    auto& bi = NodeTestAccess::impl(*t.b);
    auto st = bi.db.prepare("SELECT id FROM attachment_chunks WHERE attachment_id = ? AND idx = 3");
    REQUIRE(st.has_value());
    st->bind(1, ByteView(info->attachment_id));
    REQUIRE(*st->step());
    const auto chunk3 = to_array<32>(st->column_blob(0));

    const std::size_t cb = 48 * 1024;
    auto forge = [&](const Bytes& chunk_data) {
        auto envelope = forge_chunk(t, *info, 3, chunk_data);
        auto up = bi.db.prepare("UPDATE envelopes SET bytes = ? WHERE id = ?");
        REQUIRE(up.has_value());
        up->bind(1, ByteView(envelope)).bind(2, ByteView(chunk3));
        REQUIRE(up->step().has_value());
        REQUIRE(bi.db.changes() == 1);
    };
    auto read_all = [&](Bytes& got) {
        got.clear();
        return t.b->read_attachment(t.group, info->manifest_id, [&](ByteView d) -> Status {
            got.insert(got.end(), d.begin(), d.end());
            return {};
        });
    };

    Bytes same(data.begin() + 3 * cb, data.begin() + 4 * cb);
    forge(same);
    Bytes got;
    REQUIRE(read_all(got).has_value());
    CHECK(got == data);

    Bytes other = same;
    other[100] ^= 1;
    forge(other);
    auto bad = read_all(got);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code == objects::ObjectErrc::chunk_corrupt);
    CHECK(bad.error().message.find("chunk 3 ") != std::string::npos);
    CHECK(got.size() == data.size());  // every byte went by; the verdict comes at the end
    CHECK_FALSE(*bi.envelopes->contains(chunk3));
    auto listed = t.b->attachments(t.group);
    REQUIRE(listed.has_value());
    CHECK(listed->at(0).missing == std::vector<std::uint32_t>{3});

    deliver(*t.a, *t.b);
    REQUIRE(read_all(got).has_value());
    CHECK(got == data);
}

TEST_CASE("an empty file and a file of exactly one chunk round-trip") {
    Team t;
    for (std::size_t size : {std::size_t{0}, std::size_t{48 * 1024}, std::size_t{48 * 1024 + 1}}) {
        auto data = random_bytes(size, static_cast<std::uint32_t>(size));
        auto src = write_file(t.dir.path() / ("f" + std::to_string(size)), data);
        auto info = t.a->attach_file(t.group, src, {});
        REQUIRE(info.has_value());
        deliver(*t.a, *t.c);
        Bytes got;
        REQUIRE(t.c->read_attachment(t.group, info->manifest_id, [&](ByteView d) -> Status {
            got.insert(got.end(), d.begin(), d.end());
            return {};
        }));
        CHECK(got == data);
    }
}

TEST_CASE("a manifest whose chunks do not add up is refused") {
    Team t;
    auto& ai = NodeTestAccess::impl(*t.a);
    auto base = [] {
        pb::RecordBody b;
        auto* m = b.mutable_manifest();
        m->set_attachment_id(std::string(16, 'x'));
        m->set_name("photo.jpg");
        m->set_size(100'000);
        m->set_sha256(std::string(32, 's'));
        m->set_chunk_bytes(48 * 1024);
        m->set_chunk_count(3);
        m->set_chunks_hash(std::string(32, 'h'));
        return b;
    };
    auto ok = ai.write(t.group, base());
    CHECK(ok.has_value());
    auto wrong_count = base();
    wrong_count.mutable_manifest()->set_chunk_count(2);
    auto r = ai.write(t.group, wrong_count);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.find("does not add up") != std::string::npos);
    auto bad_name = base();
    bad_name.mutable_manifest()->set_name("../../etc/passwd");
    CHECK_FALSE(ai.write(t.group, bad_name).has_value());
    auto huge = base();
    huge.mutable_manifest()->set_size(std::uint64_t{5} << 30);
    CHECK_FALSE(ai.write(t.group, huge).has_value());
    // The well-formed one names chunks nobody wrote: reading it says which one is missing.
    auto read = t.a->read_attachment(t.group, *ok, [](ByteView) -> Status { return {}; });
    REQUIRE_FALSE(read.has_value());
    CHECK(read.error().code == objects::ObjectErrc::chunk_missing);
    CHECK(read.error().message.find("chunk 0") != std::string::npos);
}

TEST_CASE("views for the chat: alerts first by urgency, events due, open tasks") {
    Team t;
    auto mk = [&](const std::string& type, std::map<std::string, std::string> set) {
        ObjectEdit e;
        e.type = type;
        e.set = std::move(set);
        auto id = t.a->object_change(t.group, e);
        REQUIRE(id.has_value());
        return *id;
    };
    mk("alert", {{"text", "rally moved"}, {"urgency", "normal"}});
    mk("alert", {{"text", "detained at station 3 — lawyer needed"}, {"urgency", "critical"}});
    mk("event", {{"title", "soon"}, {"starts", "2030-01-02T10:00:00Z"}});
    mk("event", {{"title", "later"}, {"starts", "2031-01-02T10:00:00Z"}});
    mk("event", {{"title", "off"}, {"starts", "2030-01-01T10:00:00Z"}, {"status", "cancelled"}});
    auto done = mk("task", {{"title", "leaflets"}, {"status", "done"}});
    mk("task", {{"title", "signatures"}, {"target", "1000"}});
    auto alerts = t.a->alerts(t.group);
    REQUIRE(alerts->size() == 2);
    CHECK(alerts->front().get("urgency") == "critical");
    auto from = *objects::parse_datetime("2030-01-01T00:00:00Z") * 1000;
    auto due = t.a->events_due(t.group, from, from + 30LL * 86400 * 1000);
    REQUIRE(due->size() == 1);
    CHECK(due->front().get("title") == "soon");
    auto open = t.a->open_tasks(t.group);
    REQUIRE(open->size() == 1);
    CHECK(open->front().get("title") == "signatures");
    CHECK(open->front().id != done);
}

TEST_CASE("retention: expired records, chunks and epoch secrets are gone from every file") {
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto a = make_node(dir.path() / "a", "Anna");
    auto b = make_node(dir.path() / "b", "Boris");
    a->set_clock(clock);
    b->set_clock(clock);
    auto g = *a->create_group("G");
    auto token = a->add_member(g, card_to_text(b->card()), false, true);
    REQUIRE(b->join(*token).has_value());
    deliver(*a, *b);

    const std::string secret = "EXPIRING-PLAINTEXT-4711";
    auto msg = a->post(g, secret);
    REQUIRE(msg.has_value());
    // A message's text is stored once, sealed in its envelope: the envelope's bytes are what a
    // plaintext export holds of it while it is kept.
    auto msg_envelope = a->envelope(*msg);
    REQUIRE(msg_envelope.has_value());
    REQUIRE(msg_envelope->has_value());
    auto id = open_case(*a, g, secret + "-case");
    auto file = write_file(dir.path() / "x.bin", as_bytes(std::string(70'000, 'Q') + secret));
    auto att = a->attach_file(g, file, {});
    REQUIRE(att.has_value());
    deliver(*a, *b);
    // A new epoch, so the old one's secret can go once nothing written in it remains.
    REQUIRE(a->rotate(g).has_value());
    deliver(*a, *b);
    deliver(*b, *a);

    now += 3600 * 1000;
    REQUIRE(a->set_retention(g, 24 * 3600).has_value());
    deliver(*a, *b);
    CHECK(b->retention(g) == 24 * 3600);
    CHECK(texts(*b, g) == std::vector<std::string>{secret});  // not yet expired

    now += 2 * 24 * 3600 * 1000LL;
    auto fresh = a->post(g, "fresh");
    REQUIRE(fresh.has_value());
    auto fresh_envelope = a->envelope(*fresh);
    REQUIRE(fresh_envelope.has_value());
    REQUIRE(fresh_envelope->has_value());
    deliver(*a, *b);
    for (auto* n : {a.get(), b.get()}) {
        auto r = n->apply_retention();
        REQUIRE(r.has_value());
        CHECK(r->records > 0);
        // The WAL was checkpointed and truncated: no old page lingers in it.
        auto home = dir.path() / (n == a.get() ? "a" : "b");
        std::error_code ec;
        CHECK(fs::file_size(home / "store.db-wal", ec) == 0);
        CHECK(texts(*n, g) == std::vector<std::string>{"fresh"});
        CHECK_FALSE(n->object(g, id).has_value());
        CHECK(n->attachments(g)->empty());
    }
    // Expired copies offered again by a peer stay out.
    auto again = deliver(*a, *b);
    CHECK(again.added == 0);
    // The old epoch's secret went with its records; B can still write.
    REQUIRE(b->post(g, "still here").has_value());

    for (const char* who : {"a", "b"}) {
        auto& node = std::string(who) == "a" ? *a : *b;
        auto& im = NodeTestAccess::impl(node);
        auto st =
            im.db.prepare("SELECT COUNT(*) FROM epochs WHERE group_id = ? AND secret IS NULL");
        st->bind(1, ByteView(g));
        REQUIRE(*st->step());
        CHECK(st->column_int64(0) >= 1);
        // A plaintext copy of the whole database: neither the text nor the ids remain.
        auto plain = dir.path() / (std::string(who) + "-plain.db");
        // The store opens without SQLITE_OPEN_CREATE: an empty file is an empty database.
        std::ofstream(plain).close();
        auto attached = im.db.exec("ATTACH DATABASE '" + plain.string() + "' AS plaintext KEY ''");
        std::string why = attached ? std::string() : attached.error().message;
        INFO(why);
        REQUIRE(attached);
        REQUIRE(im.db.exec("SELECT sqlcipher_export('plaintext')"));
        auto bytes = str(read_file(plain));
        CHECK(bytes.size() > 4096);
        // The export does hold what is kept: the kept message's id and envelope.
        CHECK(bytes.find(std::string(as_chars(ByteView(*fresh)))) != std::string::npos);
        CHECK(bytes.find(str(**fresh_envelope)) != std::string::npos);
        CHECK(bytes.find(str(**msg_envelope)) == std::string::npos);
        CHECK(bytes.find(secret) == std::string::npos);
        CHECK(bytes.find(std::string(as_chars(ByteView(*msg)))) == std::string::npos);
        CHECK(bytes.find(std::string(as_chars(ByteView(id)))) == std::string::npos);
        fs::remove(plain);
        // And no file of the home holds them either (WAL included).
        CHECK(files_containing(dir.path() / who, secret).empty());
        CHECK(files_containing(dir.path() / who, std::string(as_chars(ByteView(*msg)))).empty());
    }
}

TEST_CASE("retention: a kept message does not name the expired one before it on its chain") {
    // Anna posts M1 and, half a period later, K, whose `prev` is M1. Once M1 expires and K does
    // not, no row may still name M1 (SECURITY.md row 30): K's link to it is cut.
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto a = make_node(dir.path() / "a", "Anna");
    a->set_clock(clock);
    auto g = *a->create_group("G");
    REQUIRE(a->set_retention(g, 24 * 3600).has_value());
    auto m1 = a->post(g, "first, to expire");
    REQUIRE(m1.has_value());
    now += 14 * 3600 * 1000LL;
    auto k = a->post(g, "second, kept");
    REQUIRE(k.has_value());
    auto& im = NodeTestAccess::impl(*a);
    auto prev_of = [&](const RecordId& id) {
        auto row = im.records.row(id);
        REQUIRE(row.has_value());
        return row->prev;
    };
    REQUIRE(prev_of(*k) == std::optional<RecordId>(*m1));
    now += 14 * 3600 * 1000LL;
    auto r = a->apply_retention();
    REQUIRE(r.has_value());
    CHECK(r->records >= 1);
    CHECK(texts(*a, g) == std::vector<std::string>{"second, kept"});
    CHECK_FALSE(prev_of(*k).has_value());
    auto plain = dir.path() / "plain.db";
    std::ofstream(plain).close();
    REQUIRE(im.db.exec("ATTACH DATABASE '" + plain.string() + "' AS plaintext KEY ''"));
    REQUIRE(im.db.exec("SELECT sqlcipher_export('plaintext')"));
    auto bytes = str(read_file(plain));
    CHECK(bytes.find(std::string(as_chars(ByteView(*k)))) != std::string::npos);
    CHECK(bytes.find(std::string(as_chars(ByteView(*m1)))) == std::string::npos);
}

TEST_CASE("an object and its files are stored all or nothing, also when the disk fills") {
    Team t;
    auto& impl = NodeTestAccess::impl(*t.a);
    auto count = [&](const char* sql) {
        auto st = impl.db.prepare(sql);
        REQUIRE(st);
        REQUIRE(st->step());
        return st->column_int64(0);
    };
    const auto video = random_bytes(3 * 1024 * 1024 + 77, 11);
    const auto path = write_file(t.dir.path() / "video.bin", video);
    const auto case_id = open_case(*t.a, t.group, "Ivan P.");
    const auto records_before = count("SELECT COUNT(*) FROM records");
    const auto envelopes_before = count("SELECT COUNT(*) FROM envelopes");
    REQUIRE(t.a->objects(t.group, "report")->empty());  // the fold is cached from here on

    // SQLite's own ceiling on the database's pages: the same SQLITE_FULL a full disk gives, in
    // the middle of the chunks.
    const auto pages = count("PRAGMA page_count");
    REQUIRE(impl.db.exec("PRAGMA max_page_count = " + std::to_string(pages + 200)));
    ObjectEdit report;
    report.type = "report";
    report.set = {{"place", "Polling station 1234"}, {"at", "2026-03-15T17:05:00Z"}};
    const FileToAttach files[] = {{path, "", "video/mp4"}};
    auto r = t.a->object_change_with_files(t.group, report, files);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == storage::StorageErrc::full);
    auto attached = t.a->attach_file(t.group, path, AttachOptions{case_id, "", "", {}});
    REQUIRE_FALSE(attached);
    CHECK(attached.error().code == storage::StorageErrc::full);

    // Nothing of either is left: no report (also not in the cached fold), no manifest, no
    // chunk, no row, no envelope, and the case shows no attachment.
    CHECK(t.a->objects(t.group, "report")->empty());
    CHECK(t.a->attachments(t.group)->empty());
    CHECK(t.a->case_view(t.group, case_id)->attachments.empty());
    CHECK(t.a->case_view(t.group, case_id)->object.list("attachments").empty());
    CHECK(count("SELECT COUNT(*) FROM records") == records_before);
    CHECK(count("SELECT COUNT(*) FROM envelopes") == envelopes_before);
    CHECK(count("SELECT COUNT(*) FROM attachment_chunks") == 0);

    // With room again the same calls work once, and the author's chain is whole: peers take
    // every record.
    REQUIRE(impl.db.exec("PRAGMA max_page_count = 1073741823"));
    auto ok = t.a->object_change_with_files(t.group, report, files);
    REQUIRE_MESSAGE(ok, ok.error().what());
    REQUIRE(ok->attachments.size() == 1);
    CHECK(ok->attachments[0].media_type == "video/mp4");
    REQUIRE(t.a->attach_file(t.group, path, AttachOptions{case_id, "", "", {}}));
    CHECK(t.a->objects(t.group, "report")->size() == 1);
    CHECK(t.a->object(t.group, ok->change)->list("attachments").size() == 1);
    auto report_files = t.a->attachments(t.group, ok->change);
    REQUIRE(report_files->size() == 1);
    CHECK(t.a->case_view(t.group, case_id)->attachments.size() == 1);
    auto peer = deliver(*t.a, *t.b);
    CHECK(peer.rejected == 0);
    CHECK(peer.pending == 0);
    Bytes got;
    REQUIRE(t.b->read_attachment(t.group, report_files->front().manifest_id, [&](ByteView d) {
        got.insert(got.end(), d.begin(), d.end());
        return Status{};
    }));
    CHECK(got == video);

    // A file missing among several changes nothing either, before anything is written.
    const auto before = count("SELECT COUNT(*) FROM records");
    const FileToAttach two[] = {{path, "", ""}, {t.dir.path() / "missing.bin", "", ""}};
    auto missing = t.a->object_change_with_files(t.group, report, two);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == CoreErrc::not_found);
    CHECK(count("SELECT COUNT(*) FROM records") == before);
}

TEST_CASE(
    "an object's body is stored once, in its envelope, and a body kept in the table reads "
    "the same") {
    Team t;
    auto id = open_case(*t.a, t.group, "Ivan Petrov");
    REQUIRE(set_field(*t.a, t.group, id, "case", "lawyer", "M. Sokolova"));
    t.exchange();
    auto& im = NodeTestAccess::impl(*t.b);
    auto count = [&](const char* sql) {
        auto st = im.db.prepare(sql);
        REQUIRE(st.has_value());
        REQUIRE(*st->step());
        return st->column_int64(0);
    };
    const auto objects = count("SELECT COUNT(*) FROM records WHERE kind = 6");
    CHECK(objects == 2);  // the case opened with its fields, then the lawyer set
    CHECK(count("SELECT COUNT(*) FROM records WHERE kind = 6 AND length(signed) = 0") == objects);
    auto before = t.b->object(t.group, id);
    REQUIRE(before.has_value());
    CHECK(before->get("lawyer") == "M. Sokolova");

    // Rows as a store written before bodies were stored once holds them: the body in the table.
    auto row = im.records.row(id);
    REQUIRE(row.has_value());
    REQUIRE(im.records.keep_bodies(row->epoch).has_value());
    CHECK(count("SELECT COUNT(*) FROM records WHERE kind = 6 AND length(signed) > 0") == objects);
    im.object_sets.clear();
    auto after = t.b->object(t.group, id);
    REQUIRE(after.has_value());
    CHECK(*after == *before);
}

TEST_CASE(
    "a message's body is stored once, in its envelope, and a body kept in the table reads the "
    "same") {
    Team t;
    REQUIRE(t.a->post(t.group, "first").has_value());
    auto second = t.a->post(t.group, "second");
    REQUIRE(second.has_value());
    t.exchange();
    auto& im = NodeTestAccess::impl(*t.b);
    auto count = [&](const char* sql) {
        auto st = im.db.prepare(sql);
        REQUIRE(st.has_value());
        REQUIRE(*st->step());
        return st->column_int64(0);
    };
    CHECK(count("SELECT COUNT(*) FROM records WHERE kind = 1") == 2);
    CHECK(count("SELECT COUNT(*) FROM records WHERE kind = 1 AND length(signed) = 0") == 2);
    const std::vector<std::string> both{"first", "second"};
    CHECK(texts(*t.b, t.group) == both);

    // Rows as a store written before messages were stored once holds them: the body in the table.
    auto row = im.records.row(*second);
    REQUIRE(row.has_value());
    REQUIRE(im.records.keep_bodies(row->epoch).has_value());
    CHECK(count("SELECT COUNT(*) FROM records WHERE kind = 1 AND length(signed) > 0") == 2);
    CHECK(texts(*t.b, t.group) == both);
}

TEST_CASE("a redaction by an admin whose removal arrives later is void: its targets show again") {
    TempDir dir;
    auto anna = make_node(dir.path() / "a", "Anna");
    auto ivan = make_node(dir.path() / "i", "Ivan");
    auto boris = make_node(dir.path() / "b", "Boris");
    auto carl = make_node(dir.path() / "c", "Carl");
    auto g = *anna->create_group("Legal support");
    for (auto* n : {ivan.get(), boris.get(), carl.get()}) {
        auto token = anna->add_member(g, card_to_text(n->card()), n == ivan.get(), true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    auto everyone = {anna.get(), ivan.get(), boris.get()};
    auto exchange = [&] {
        for (int round = 0; round < 2; ++round)
            for (auto* from : everyone)
                for (auto* to : everyone)
                    if (from != to) deliver(*from, *to);
        deliver(*anna, *carl);
    };
    exchange();
    // Carl is offline from here on.
    auto post = anna->post(g, "Lawyer Kuznetsov takes the case");
    REQUIRE(post.has_value());
    auto data = random_bytes(200'000, 11);
    auto info = anna->attach_file(g, write_file(dir.path() / "photo.jpg", data), {});
    REQUIRE(info.has_value());
    for (auto* from : everyone)
        for (auto* to : everyone)
            if (from != to) deliver(*from, *to);
    REQUIRE(texts(*boris, g) == std::vector<std::string>{"Lawyer Kuznetsov takes the case"});

    // Anna writes on and removes Ivan, who has not heard of it: his redactions sort before the
    // removal (lower Lamport clocks) but are concurrent with it.
    for (int i = 0; i < 5; ++i) REQUIRE(anna->post(g, "later " + std::to_string(i)));
    REQUIRE(anna->remove_member(g, ivan->me()).has_value());
    REQUIRE(ivan->redact(g, *post, "stale admin").has_value());
    REQUIRE(ivan->redact(g, info->manifest_id, "stale admin").has_value());

    // Boris gets Ivan's redactions first: at his position Ivan is an admin, so they apply.
    deliver(*ivan, *boris);
    auto& bi = NodeTestAccess::impl(*boris);
    CHECK(bi.records.kind(*post) == RecordKind::redacted);
    CHECK(boris->attachments(g)->empty());
    // The removal voids them: the targets are forgotten, then fetched again and shown.
    deliver(*anna, *boris);
    CHECK_FALSE(bi.records.contains(*post));
    CHECK_FALSE(bi.records.contains(info->manifest_id));
    deliver(*anna, *boris);
    auto shown = texts(*boris, g);
    CHECK(std::find(shown.begin(), shown.end(), "Lawyer Kuznetsov takes the case") != shown.end());
    CHECK(shown == texts(*anna, g));
    auto out = dir.path() / "out.jpg";
    REQUIRE(boris->export_attachment(g, info->manifest_id, out).has_value());
    CHECK(read_file(out) == data);
    // Again from Ivan: his redactions are refused now, and nothing goes.
    deliver(*ivan, *boris);
    CHECK(texts(*boris, g) == texts(*anna, g));
    CHECK(boris->attachments(g)->size() == 1);

    // Carl catches up in one batch, in Lamport order: the redactions come before the removal,
    // and are void by the end of the batch, before they deleted anything.
    auto batch = all_envelopes(*anna);
    for (auto& e : all_envelopes(*ivan)) batch.push_back(std::move(e));
    REQUIRE(carl->ingest(batch).has_value());
    CHECK(texts(*carl, g) == texts(*anna, g));
    REQUIRE(carl->export_attachment(g, info->manifest_id, dir.path() / "carl.jpg").has_value());
    CHECK(read_file(dir.path() / "carl.jpg") == data);
    auto& ci = NodeTestAccess::impl(*carl);
    CHECK(*ci.envelopes->contains(*post));
}

TEST_CASE(
    "a redaction by a member a removed admin promoted does not stand: its target shows again") {
    TempDir dir;
    auto anna = make_node(dir.path() / "a", "Anna");
    auto ivan = make_node(dir.path() / "i", "Ivan");
    auto yuri = make_node(dir.path() / "y", "Yuri");
    auto boris = make_node(dir.path() / "b", "Boris");
    auto g = *anna->create_group("Legal support");
    for (auto* n : {ivan.get(), yuri.get(), boris.get()}) {
        auto token = anna->add_member(g, card_to_text(n->card()), n == ivan.get(), true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    auto everyone = {anna.get(), ivan.get(), yuri.get(), boris.get()};
    auto exchange = [&] {
        for (int round = 0; round < 2; ++round)
            for (auto* from : everyone)
                for (auto* to : everyone)
                    if (from != to) deliver(*from, *to);
    };
    exchange();
    auto post = anna->post(g, "Lawyer Kuznetsov takes the case");
    REQUIRE(post.has_value());
    exchange();

    // Anna removes Ivan; Ivan, who has not heard of it, makes Yuri an admin, and Yuri redacts
    // Anna's post.
    REQUIRE(anna->remove_member(g, ivan->me()).has_value());
    REQUIRE(ivan->set_role(g, yuri->me(), true).has_value());
    deliver(*ivan, *yuri);
    REQUIRE(yuri->redact(g, *post, "stale admin's accomplice").has_value());

    // Boris gets the promotion and the redaction first: the post goes.
    deliver(*ivan, *boris);
    deliver(*yuri, *boris);
    auto& bi = NodeTestAccess::impl(*boris);
    CHECK(bi.records.kind(*post) == RecordKind::redacted);
    // The removal voids the promotion: Yuri, not dropped, was no admin at his redaction's
    // position and the post is not his, so the redaction does not stand. The post is forgotten,
    // fetched again and shown.
    deliver(*anna, *boris);
    CHECK_FALSE(bi.records.contains(*post));
    deliver(*anna, *boris);
    auto shown = texts(*boris, g);
    CHECK(std::find(shown.begin(), shown.end(), "Lawyer Kuznetsov takes the case") != shown.end());
    CHECK(shown == texts(*anna, g));
}

TEST_CASE("a redaction of a redaction deletes its text in either order; its own effect stays") {
    Team t;
    // Clara is offline from here on.
    auto exchange_ab = [&] {
        for (int round = 0; round < 2; ++round) {
            deliver(*t.a, *t.b);
            deliver(*t.b, *t.a);
        }
    };
    auto post = t.b->post(t.group, "Safe house: Lesnaya 14");
    REQUIRE(post.has_value());
    exchange_ab();
    auto r0 = t.b->redact(t.group, *post, "posted by mistake: LESNAYA-14");
    REQUIRE(r0.has_value());
    // What a peer that had not seen Anna's redaction yet would serve: Boris's redaction whole.
    auto boris_before = all_envelopes(*t.b);
    exchange_ab();
    auto r1 = t.a->redact(t.group, *r0, "the reason repeats the address");
    REQUIRE(r1.has_value());
    exchange_ab();
    // Clara gets Anna's redaction of it first, and Boris's redaction after.
    deliver(*t.a, *t.c);
    REQUIRE(t.c->ingest(boris_before).has_value());
    for (auto* n : {t.a.get(), t.b.get(), t.c.get()}) {
        auto& im = NodeTestAccess::impl(*n);
        CHECK(im.records.kind(*r0) == RecordKind::redacted);
        CHECK_FALSE(*im.envelopes->contains(*r0));
        auto st = im.db.prepare(
            "SELECT signed FROM records WHERE n = coalesce((SELECT n FROM record_ids "
            "WHERE id = ?1), (SELECT seq FROM envelopes WHERE id = ?1))");
        REQUIRE(st.has_value());
        st->bind(1, ByteView(*r0));
        REQUIRE(*st->step());
        CHECK(std::string(as_chars(st->column_blob(0))).find("LESNAYA") == std::string::npos);
        // The first redaction still deletes its target.
        auto shown = texts(*n, t.group);
        CHECK(std::find(shown.begin(), shown.end(), "Safe house: Lesnaya 14") == shown.end());
        CHECK_FALSE(im.envelopes->contains(*post).value_or(true));
    }
}

TEST_CASE("a redaction void for a while and then standing again deletes its target again") {
    TempDir dir;
    auto anna = make_node(dir.path() / "a", "Anna");
    auto boris = make_node(dir.path() / "b", "Boris");
    auto clara = make_node(dir.path() / "c", "Clara");
    auto mila = make_node(dir.path() / "m", "Mila");
    auto xavier = make_node(dir.path() / "x", "Xavier");
    auto g = *anna->create_group("Legal support");
    for (auto* n : {boris.get(), clara.get(), mila.get(), xavier.get()}) {
        const bool admin = n == boris.get() || n == clara.get();
        auto token = anna->add_member(g, card_to_text(n->card()), admin, true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    auto everyone = {anna.get(), boris.get(), clara.get(), mila.get(), xavier.get()};
    auto exchange = [&] {
        for (int round = 0; round < 2; ++round)
            for (auto* from : everyone)
                for (auto* to : everyone)
                    if (from != to) deliver(*from, *to);
    };
    exchange();
    REQUIRE(anna->set_quorum(g, 2).has_value());
    exchange();
    REQUIRE(*mila->quorum(g) == 2);
    auto post = xavier->post(g, "Safe house: Lesnaya 14");
    REQUIRE(post.has_value());
    exchange();

    // Xavier redacts his own post; Mila gets it, Boris and Clara do not.
    REQUIRE(xavier->redact(g, *post, "wrong channel").has_value());
    deliver(*xavier, *mila);
    auto& mi = NodeTestAccess::impl(*mila);
    CHECK(mi.records.kind(*post) == RecordKind::redacted);
    // Boris proposes removing Xavier (its cutoff is the post); Clara, whose device is in other
    // hands, approves it.
    REQUIRE(boris->remove_member(g, xavier->me()).has_value());
    deliver(*boris, *clara);
    auto waiting = clara->pending(g);
    REQUIRE(waiting.has_value());
    REQUIRE(waiting->size() == 1);
    REQUIRE(clara->approve(g, waiting->front().id).has_value());
    // Anna sends the burn notice for Clara; Boris approves it, but Mila does not hear of it yet.
    auto notice = anna->burn_member(g, clara->me());
    REQUIRE(notice.has_value());
    REQUIRE_FALSE(notice->effective);
    deliver(*anna, *boris);
    REQUIRE(boris->approve(g, notice->notice).has_value());

    // At Mila, Clara's approval completes the removal: Xavier's redaction is void, and the post
    // is forgotten and fetched again.
    deliver(*clara, *mila);
    deliver(*clara, *mila);
    deliver(*anna, *mila);
    CHECK(mi.records.kind(*post) == RecordKind::message);
    // The notice drops Clara's approval: the removal waits, Xavier is a member, and his
    // redaction stands again. The post goes again.
    deliver(*boris, *mila);
    deliver(*anna, *mila);
    auto members = mila->members(g);
    REQUIRE(members.has_value());
    std::vector<std::string> names;
    for (const auto& m : *members) names.push_back(m.name);
    REQUIRE(std::find(names.begin(), names.end(), "Xavier") != names.end());
    CHECK(mi.records.kind(*post) == RecordKind::redacted);
    CHECK_FALSE(*mi.envelopes->contains(*post));
    auto shown = texts(*mila, g);
    CHECK(std::find(shown.begin(), shown.end(), "Safe house: Lesnaya 14") == shown.end());
}

TEST_CASE("retention: a period past 100 years in a record is taken as 100 years, not wrapped") {
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto anna = make_node(dir.path() / "a", "Anna");
    auto boris = make_node(dir.path() / "b", "Boris");
    for (auto* n : {anna.get(), boris.get()}) n->set_clock(clock);
    auto g = *anna->create_group("Legal support");
    auto token = anna->add_member(g, card_to_text(boris->card()), false, true);
    REQUIRE(token.has_value());
    REQUIRE(boris->join(*token).has_value());
    deliver(*anna, *boris);
    REQUIRE(boris->post(g, "old news").has_value());
    deliver(*boris, *anna);
    now += 3600 * 1000;
    // A settings record `set_retention` would refuse to write: 10^16 seconds, whose cutoff
    // (now - seconds * 1000) wraps into the future. A shortening (from "off"), so it deletes
    // once held a day: the clock moves on a day first.
    pb::RecordBody body;
    body.mutable_settings()->set_set_retention(true);
    body.mutable_settings()->set_retention_seconds(10'000'000'000'000'000ULL);
    auto& a = NodeTestAccess::impl(*anna);
    REQUIRE(a.write(g, std::move(body), a.rotation_epoch(g)).has_value());
    deliver(*anna, *boris);
    now += 24 * 3600 * 1000LL + 1000;
    for (auto* n : {anna.get(), boris.get()}) {
        CHECK(n->retention_in_force(g).deleting_seconds == 100ULL * 365 * 24 * 3600);
        REQUIRE(n->apply_retention().has_value());
        auto shown = texts(*n, g);
        CHECK(std::find(shown.begin(), shown.end(), "old news") != shown.end());
    }
    // A post written now is not expired on arrival.
    REQUIRE(anna->post(g, "fresh").has_value());
    deliver(*anna, *boris);
    auto shown = texts(*boris, g);
    CHECK(std::find(shown.begin(), shown.end(), "fresh") != shown.end());
}

TEST_CASE("retention: a shorter period deletes only once held for a day, also its writer's own") {
    TempDir dir;
    std::int64_t now = 1'900'000'000'000;
    auto clock = [&] { return now; };
    auto anna = make_node(dir.path() / "a", "Anna");
    auto ivan = make_node(dir.path() / "i", "Ivan");
    auto boris = make_node(dir.path() / "b", "Boris");
    for (auto* n : {anna.get(), ivan.get(), boris.get()}) n->set_clock(clock);
    auto g = *anna->create_group("Legal support");
    for (auto* n : {ivan.get(), boris.get()}) {
        auto token = anna->add_member(g, card_to_text(n->card()), n == ivan.get(), true);
        REQUIRE(token.has_value());
        REQUIRE(n->join(*token).has_value());
    }
    auto everyone = {anna.get(), ivan.get(), boris.get()};
    auto exchange = [&] {
        for (int round = 0; round < 2; ++round)
            for (auto* from : everyone)
                for (auto* to : everyone)
                    if (from != to) deliver(*from, *to);
    };
    exchange();
    REQUIRE(anna->post(g, "old news").has_value());
    exchange();
    now += 3600 * 1000;

    // Ivan, removed without knowing it, sets a minute: Boris holds the setting before the
    // removal and deletes nothing; the removal then voids it.
    for (int i = 0; i < 3; ++i) REQUIRE(anna->post(g, "later " + std::to_string(i)));
    REQUIRE(anna->remove_member(g, ivan->me()).has_value());
    REQUIRE(ivan->set_retention(g, 60).has_value());
    // Twice: the second is "no shorter" than the first, which is not settled itself.
    REQUIRE(ivan->set_retention(g, 60).has_value());
    deliver(*ivan, *boris);
    CHECK(boris->retention(g) == 60);
    now += 120 * 1000;
    REQUIRE(boris->apply_retention().has_value());
    auto shown = texts(*boris, g);
    CHECK(std::find(shown.begin(), shown.end(), "old news") != shown.end());
    deliver(*anna, *boris);
    CHECK(boris->retention(g) == 0);
    CHECK(texts(*boris, g) == texts(*anna, g));

    // Anna's own setting waits the day too, at her store as at Boris's: a seized copy of her
    // home signs with her key, and this device cannot tell its settings from hers.
    const auto set_at = now;
    REQUIRE(anna->set_retention(g, 60).has_value());
    deliver(*anna, *boris);
    for (auto* n : {anna.get(), boris.get()}) {
        REQUIRE(n->apply_retention().has_value());
        shown = texts(*n, g);
        CHECK(std::find(shown.begin(), shown.end(), "old news") != shown.end());
        const auto r = n->retention_in_force(g);
        CHECK(r.set_seconds == 60);
        CHECK(r.deleting_seconds == 0);
        CHECK(r.from_ms == set_at + 24 * 3600 * 1000LL);
    }
    now += 24 * 3600 * 1000LL;  // a day (kRetentionSettleMs)
    for (auto* n : {anna.get(), boris.get()}) {
        CHECK(n->retention_in_force(g).from_ms == 0);
        CHECK(n->retention_in_force(g).deleting_seconds == 60);
        auto r = n->apply_retention();
        REQUIRE(r.has_value());
        CHECK(r->records > 0);
        shown = texts(*n, g);
        CHECK(std::find(shown.begin(), shown.end(), "old news") == shown.end());
    }
    CHECK(texts(*boris, g) == texts(*anna, g));
    // A longer period applies at once, here and there.
    REQUIRE(anna->set_retention(g, 3600).has_value());
    deliver(*anna, *boris);
    for (auto* n : {anna.get(), boris.get()}) {
        CHECK(n->retention_in_force(g).deleting_seconds == 3600);
        CHECK(n->retention_in_force(g).from_ms == 0);
    }
}

namespace {

// The record ids of the carried copies `n` holds in `g`.
std::vector<RecordId> carried_copies(Node& n, const GroupId& g) {
    std::vector<RecordId> out;
    auto& im = NodeTestAccess::impl(n);
    REQUIRE(im.records.each(g, {RecordKind::object}, false, [&](const StoredRecord& rec) {
        auto body = parse_stored_body(rec.body);
        if (body && body->has_object() && body->object().carried()) out.push_back(rec.row.id);
        return true;
    }));
    return out;
}

// `from`'s envelopes, without those of `skip`.
std::vector<Bytes> envelopes_but(Node& from, const std::vector<RecordId>& skip) {
    std::vector<Bytes> leave;
    for (const auto& id : skip) {
        auto e = from.envelope(id);
        REQUIRE(e.has_value());
        REQUIRE(e->has_value());
        leave.push_back(**e);
    }
    std::vector<Bytes> out;
    for (auto& e : all_envelopes(from))
        if (std::find(leave.begin(), leave.end(), e) == leave.end()) out.push_back(std::move(e));
    return out;
}

}  // namespace

TEST_CASE("a redaction voids what a carried copy took from its target, in either order") {
    // Boris, no admin, writes a contact with a home address by mistake; Anna, an admin, adds the
    // role and carries it; Dora is added without history, so Anna's node copies the contact
    // into the new epoch, naming the write each field comes from. Boris redacts his write: at
    // Dora, who holds only the copy, the name and address he wrote go and Anna's role stays —
    // whether the redaction reaches her after the copy or before it.
    for (const bool redaction_first : {false, true}) {
        CAPTURE(redaction_first);
        Team t;
        ObjectEdit add;
        add.type = "contact";
        add.set = {{"name", "Lawyer Petrov"}, {"reach", "HOME: Sadovaya 1"}};
        auto contact = t.b->object_change(t.group, add);
        REQUIRE(contact.has_value());
        t.exchange();
        REQUIRE(set_field(*t.a, t.group, *contact, "contact", "role", "lawyer").has_value());
        ObjectEdit carry;
        carry.type = "contact";
        carry.object = *contact;
        carry.carry = true;
        REQUIRE(t.a->object_change(t.group, carry).has_value());

        TempDir d;
        auto dora = make_node(d.path() / "dora", "Dora");
        auto token = t.a->add_member(t.group, card_to_text(dora->card()), false, false);
        REQUIRE(token.has_value());
        REQUIRE(dora->join(*token).has_value());
        const auto copies = carried_copies(*t.a, t.group);
        REQUIRE(copies.size() == 1);
        // Boris learns of the add (not of the copy, when the redaction is to come first: his
        // redaction must not name the copy as a parent) and redacts his own write.
        REQUIRE(t.b->ingest(envelopes_but(*t.a, copies)).has_value());
        if (!redaction_first) {
            deliver(*t.a, *dora);
            auto before = dora->object(t.group, *contact);
            REQUIRE(before.has_value());
            CHECK(before->carried_copy);
            CHECK(before->get("reach") == "HOME: Sadovaya 1");
            CHECK(before->fields.at("reach").carried_from.record == *contact);
            CHECK(before->fields.at("role").carried_from.author ==
                  NodeTestAccess::impl(*t.a).identity.sign.public_key);
        }
        auto redaction = t.b->redact(t.group, *contact, "my mistake");
        REQUIRE(redaction.has_value());
        auto env = t.b->envelope(*redaction);
        REQUIRE(env.has_value());
        REQUIRE(env->has_value());
        if (redaction_first) {
            auto first = envelopes_but(*t.a, copies);
            first.push_back(**env);
            REQUIRE(dora->ingest(first).has_value());
            CHECK_FALSE(dora->object(t.group, *contact).has_value());
            deliver(*t.a, *dora);
        } else {
            REQUIRE(dora->ingest(std::vector<Bytes>{**env}).has_value());
        }
        deliver(*t.b, *dora);
        auto seen = dora->object(t.group, *contact);
        REQUIRE(seen.has_value());
        CHECK(seen->carried_copy);
        CHECK(seen->get("reach").empty());
        CHECK(seen->get("name").empty());
        CHECK(seen->get("role") == "lawyer");
        // The members who hold the write show the same.
        deliver(*t.b, *t.a);
        auto at_anna = t.a->object(t.group, *contact);
        REQUIRE(at_anna.has_value());
        CHECK(at_anna->get("reach").empty());
        CHECK(at_anna->get("role") == "lawyer");
        // Dora's node, opened again (the fold rebuilt from the store), shows the same.
        dora.reset();
        auto again = reopen(d.path() / "dora");
        auto rebuilt = again->object(t.group, *contact);
        REQUIRE(rebuilt.has_value());
        CHECK(rebuilt->get("reach").empty());
        CHECK(rebuilt->get("role") == "lawyer");
    }
}

#include "node_fixture.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "kolokol/crypto/encoding.hpp"
#include "kolokol/crypto/random.hpp"

namespace kolokol::test {

TempDir::TempDir() {
    auto base = std::filesystem::temp_directory_path();
    auto name = "kolokol-test-" + crypto::hex_encode(crypto::system_random().bytes(8));
    m_path = base / name;
    std::filesystem::create_directories(m_path);
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

std::unique_ptr<core::Node> make_node(const std::filesystem::path& home, const std::string& name) {
    core::InitOptions o;
    o.display_name = name;
    o.passphrase = as_bytes(kTestPassphrase);
    o.kdf = core::KdfProfile::fast;
    auto ok = core::Node::init(home, o);
    REQUIRE_MESSAGE(ok.has_value(), (ok ? "" : ok.error().what()));
    return reopen(home);
}

std::unique_ptr<core::Node> reopen(const std::filesystem::path& home) {
    auto node = core::Node::open(home, as_bytes(kTestPassphrase));
    REQUIRE_MESSAGE(node.has_value(), (node ? "" : node.error().what()));
    return std::move(*node);
}

std::vector<Bytes> all_envelopes(core::Node& from) {
    std::vector<Bytes> out;
    for (const auto& mb : from.mailboxes()) {
        auto ids = from.envelope_ids(mb);
        REQUIRE(ids.has_value());
        for (const auto& id : *ids) {
            auto env = from.envelope(id);
            REQUIRE(env.has_value());
            REQUIRE(env->has_value());
            out.push_back(**env);
        }
    }
    return out;
}

core::IngestReport deliver(core::Node& from, core::Node& to) {
    auto envs = all_envelopes(from);
    auto r = to.ingest(envs);
    REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().what()));
    return *r;
}

std::vector<std::string> texts(core::Node& node, const core::GroupId& group) {
    auto msgs = node.messages(group, 100000);
    REQUIRE(msgs.has_value());
    std::vector<std::string> out;
    for (const auto& m : *msgs) out.push_back(m.text);
    return out;
}

std::vector<std::pair<std::filesystem::path, std::string>> read_tree(
    const std::filesystem::path& dir) {
    std::vector<std::pair<std::filesystem::path, std::string>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        out.emplace_back(e.path(), std::string(std::istreambuf_iterator<char>(in), {}));
    }
    return out;
}

std::vector<std::filesystem::path> files_containing(const std::filesystem::path& dir,
                                                    std::string_view needle) {
    std::vector<std::filesystem::path> out;
    for (const auto& [path, bytes] : read_tree(dir))
        if (bytes.find(needle) != std::string::npos) out.push_back(path);
    return out;
}

}  // namespace kolokol::test

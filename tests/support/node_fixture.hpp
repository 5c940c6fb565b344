#pragma once
// Helpers for tests that drive real Nodes in temporary homes (fast KDF).

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kolokol/core/node.hpp"

namespace kolokol::test {

// A directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

inline constexpr std::string_view kTestPassphrase = "correct horse battery staple";

// Creates and opens a member in `home` (fast KDF).
std::unique_ptr<core::Node> make_node(const std::filesystem::path& home, const std::string& name);
std::unique_ptr<core::Node> reopen(const std::filesystem::path& home);

// Every envelope `from` holds, in every mailbox it can reach.
std::vector<Bytes> all_envelopes(core::Node& from);
// Hands `from`'s envelopes to `to` (as one carrier would) and returns the report.
core::IngestReport deliver(core::Node& from, core::Node& to);
// Message texts of a group, oldest first.
std::vector<std::string> texts(core::Node& node, const core::GroupId& group);

// Every byte of every regular file under `dir`.
std::vector<std::pair<std::filesystem::path, std::string>> read_tree(
    const std::filesystem::path& dir);
// The files under `dir` that contain `needle`.
std::vector<std::filesystem::path> files_containing(const std::filesystem::path& dir,
                                                    std::string_view needle);

}  // namespace kolokol::test

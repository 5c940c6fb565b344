#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "kolokol/storage/error.hpp"
#include "kolokol/storage/output_file.hpp"
#include "kolokol/storage/posix_io.hpp"
#include "temp_dir.hpp"

using namespace kolokol;
using kolokol::storage::test::TempDir;

namespace {
bool exists_here(const std::filesystem::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}
}  // namespace

TEST_CASE("output temp: the exit path removes the files still being written, and only those") {
    TempDir dir;
    // One still being written, one moved into place, one removed and made again by someone
    // else at the same name (another inode): only the first goes.
    auto writing = dir / "evidence.jpg.kolokol-partial";
    auto fd = storage::create_output_temp(writing);
    REQUIRE(fd);
    REQUIRE(storage::write_all(*fd, as_bytes("PLAINTEXT OF THE EVIDENCE")));

    auto done_tmp = dir / "backup.age.tmp";
    auto done = dir / "backup.age";
    auto fd2 = storage::create_output_temp(done_tmp);
    REQUIRE(fd2);
    ::close(*fd2);
    std::filesystem::rename(done_tmp, done);

    auto other = dir / "sync.partial";
    auto fd3 = storage::create_output_temp(other);
    REQUIRE(fd3);
    ::close(*fd3);
    std::filesystem::remove(other);
    storage::test::write_file(other, as_bytes("someone else's file"));

    storage::remove_output_temps();
    CHECK_FALSE(exists_here(writing));
    CHECK(exists_here(done));
    CHECK(exists_here(other));
    // The writer's descriptor still works: nothing faults in a thread still writing.
    CHECK(storage::write_all(*fd, as_bytes("more")));
    ::close(*fd);
}

TEST_CASE("output temp: files that left their temporary name free their slot") {
    TempDir dir;
    // Far more than the 64 slots, each renamed into place before the next: none is refused.
    for (int i = 0; i < 200; ++i) {
        auto tmp = dir / ("out" + std::to_string(i) + ".tmp");
        auto fd = storage::create_output_temp(tmp);
        REQUIRE(fd);
        ::close(*fd);
        std::filesystem::rename(tmp, dir / ("out" + std::to_string(i)));
    }
    // 64 kept open at their temporary names fill the table: the next is refused, with nothing
    // left behind, rather than written where the exit path could not remove it.
    std::vector<std::filesystem::path> open_ones;
    for (int i = 0; i < 64; ++i) {
        open_ones.push_back(dir / ("held" + std::to_string(i) + ".tmp"));
        auto fd = storage::create_output_temp(open_ones.back());
        REQUIRE(fd);
        ::close(*fd);
    }
    auto refused = storage::create_output_temp(dir / "one-more.tmp");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == make_error_code(storage::StorageErrc::io));
    CHECK_FALSE(exists_here(dir / "one-more.tmp"));
    storage::remove_output_temps();
    for (const auto& p : open_ones) CHECK_FALSE(exists_here(p));
    // Removed, they free their slots again.
    auto again = storage::create_output_temp(dir / "again.tmp");
    REQUIRE(again);
    ::close(*again);
}

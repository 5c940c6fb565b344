#include "kolokol/storage/store_guard.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include "kolokol/storage/error.hpp"
#include "private_file.hpp"

namespace kolokol::storage {

namespace {

// Names created, removed or renamed in the directory, and the directory itself going.
constexpr std::uint32_t kDirectoryEvents = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                           IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;
// The key file's bytes, its metadata (an unlock attempt's settle(), its last link going) and
// the file itself going.
constexpr std::uint32_t kKeyFileEvents = IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// The key file's bytes (at most one past a key file's size) and its stat, read without
// changing its access time (O_NOATIME, which only the owner may ask for).
std::optional<Bytes> read_key_file(const std::filesystem::path& path, struct stat& st) {
    constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
    detail::Fd fd(::open(path.c_str(), kFlags | O_NOATIME));
    if (!fd.ok() && errno == EPERM) fd = detail::Fd(::open(path.c_str(), kFlags));
    if (!fd.ok() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    Bytes out(kKeyFileBytes + 1);
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::pread(fd.get(), out.data() + got, out.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return std::nullopt;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

}  // namespace

struct StoreGuard::Impl {
    Paths paths;
    Held held;
    std::function<void()> on_gone;
    detail::Fd inotify;
    detail::Fd stop;
    std::thread thread;

    void watch() {
        if (!inotify.ok()) return;
        // Idempotent for an inode already watched; after a passphrase change the key file is a
        // new inode, which this adds.
        if (::inotify_add_watch(inotify.get(), paths.key_file.c_str(), kKeyFileEvents) < 0 &&
            errno != ENOENT) {
            // Out of watches: judge the store by looking at it every kPollInterval instead.
            inotify = detail::Fd();
        }
    }

    // True when something happened (or it is time to look again); false when asked to stop.
    bool wait() {
        pollfd fds[2] = {{inotify.ok() ? inotify.get() : -1, POLLIN, 0}, {stop.get(), POLLIN, 0}};
        const int timeout = inotify.ok() ? -1 : static_cast<int>(kPollInterval.count());
        for (;;) {
            int n = ::poll(fds, 2, timeout);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                ::usleep(static_cast<useconds_t>(kPollInterval.count() * 1000));
                return true;
            }
            if (fds[1].revents != 0) return false;
            break;
        }
        if (fds[0].revents != 0) {
            // Which events came does not matter: after any, the store is judged as a whole. An
            // overflowed queue (IN_Q_OVERFLOW) is just another event.
            alignas(inotify_event) char buf[4096];
            while (::read(inotify.get(), buf, sizeof buf) > 0) {
            }
        }
        return true;
    }

    // The watch goes on before the store is judged: a write that lands after the judgement
    // read the key file then always leaves an event. (Watching after judging lost an erase
    // that came just after a passphrase change: the new key file was read before the erase
    // and watched only after it, so nothing woke the guard again.)
    void run() {
        do {
            watch();
            if (gone(paths, held)) {
                on_gone();
                return;
            }
        } while (wait());
    }
};

StoreGuard::StoreGuard(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

StoreGuard::~StoreGuard() {
    const std::uint64_t one = 1;
    (void)!::write(m_impl->stop.get(), &one, sizeof one);
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

Result<std::unique_ptr<StoreGuard>> StoreGuard::start(Paths paths, KeyFileSeen key_file,
                                                      std::function<void()> on_gone) {
    auto impl = std::make_unique<Impl>();
    struct stat st {};
    if (::stat(paths.database.c_str(), &st) != 0)
        return fail(StorageErrc::io, "stat {}: {}", paths.database.string(),
                    std::string(std::strerror(errno)));
    impl->held = {key_file, static_cast<std::uint64_t>(st.st_dev),
                  static_cast<std::uint64_t>(st.st_ino)};
    impl->paths = std::move(paths);
    impl->on_gone = std::move(on_gone);
    impl->stop = detail::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!impl->stop.ok())
        return fail(StorageErrc::io, "eventfd: {}", std::string(std::strerror(errno)));
    impl->inotify = detail::Fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (impl->inotify.ok() &&
        ::inotify_add_watch(impl->inotify.get(), impl->paths.directory.c_str(), kDirectoryEvents) <
            0)
        impl->inotify = detail::Fd();
    try {
        Impl* raw = impl.get();
        impl->thread = std::thread([raw] { raw->run(); });
    } catch (const std::system_error& e) {
        return fail(StorageErrc::io, "cannot start the store guard: {}", std::string(e.what()));
    }
    return std::unique_ptr<StoreGuard>(new StoreGuard(std::move(impl)));
}

bool StoreGuard::gone(const Paths& paths, Held& held) {
    struct stat db {};
    if (::stat(paths.database.c_str(), &db) != 0 || !S_ISREG(db.st_mode)) return true;
    if (static_cast<std::uint64_t>(db.st_dev) != held.database_device ||
        static_cast<std::uint64_t>(db.st_ino) != held.database_inode)
        return true;
    struct stat key {};
    auto bytes = read_key_file(paths.key_file, key);
    if (!bytes) return true;
    if (static_cast<std::uint64_t>(key.st_dev) == held.key_file.device &&
        static_cast<std::uint64_t>(key.st_ino) == held.key_file.inode)
        return !std::equal(bytes->begin(), bytes->end(), held.key_file.bytes.begin(),
                           held.key_file.bytes.end());
    // Another file in its place. A passphrase change renames one in that parses and rewraps
    // only the real slot: the other (the duress slot or the filler) stays byte for byte where
    // it was. An erase replaces both slots, so a new key file erased before the guard first
    // read it — an erase just after a passphrase change — keeps neither, and is gone; no
    // timing decides it.
    if (bytes->size() != kKeyFileBytes || !KeyFile::parameters(*bytes)) return true;
    const auto& old = held.key_file.bytes;
    const auto same_slot = [&](std::size_t i) {
        const auto at = static_cast<std::ptrdiff_t>(i * kKeySlotBytes);
        return std::equal(bytes->begin() + at, bytes->begin() + at + kKeySlotBytes,
                          old.begin() + at);
    };
    if (!same_slot(0) && !same_slot(1)) return true;
    held.key_file = {static_cast<std::uint64_t>(key.st_dev), static_cast<std::uint64_t>(key.st_ino),
                     to_array<kKeyFileBytes>(*bytes)};
    return false;
}

}  // namespace kolokol::storage

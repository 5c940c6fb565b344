#include "store_gone.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "app.hpp"
#include "kolokol/crypto/secret.hpp"
#include "kolokol/storage/memory.hpp"
#include "kolokol/storage/output_file.hpp"
// i18n.hpp last: `_` is a macro.
#include "i18n.hpp"

namespace kolokol::cli {

namespace {

std::atomic<void (*)()> g_restore{nullptr};

// A thread that touches what is wiped below may fault on it: it waits for the end instead.
void park(int) {
    for (;;) ::pause();
}

// Points every descriptor this process holds on a file in the store at /dev/null, so that no
// thread writes to the store again: the database of a panic is deleted but still open here,
// and after a duress erase the database must stay exactly as it was.
void let_go_of_files(const std::string& prefix) {
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    DIR* dir = ::opendir("/proc/self/fd");
    if (devnull < 0 || dir == nullptr) {
        if (dir != nullptr) ::closedir(dir);
        return;
    }
    const int own = ::dirfd(dir);
    while (const dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == own || fd == devnull) continue;
        char target[4096];
        const std::string link = std::string("/proc/self/fd/") + e->d_name;
        const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
        if (n <= 0) continue;
        if (std::string_view(target, static_cast<std::size_t>(n)).starts_with(prefix))
            (void)::dup2(devnull, static_cast<int>(fd));
    }
    ::closedir(dir);
}

[[noreturn]] void end_now(const std::string& prefix, const std::string& message) {
    struct sigaction sa {};
    sa.sa_handler = park;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE}) ::sigaction(sig, &sa, nullptr);
    // What a command was writing outside the store (an attachment's plaintext, a backup) must
    // not outlive it under its temporary name: no later run of the command will clear it.
    storage::remove_output_temps();
    let_go_of_files(prefix);
    // Keys first (small and the most important), then everything SQLite holds: the page cache
    // of decrypted records and SQLCipher's copy of the database key.
    crypto::wipe_all_secrets();
    storage::wipe_database_memory();
    if (auto restore = g_restore.load()) restore();
    (void)!::write(STDERR_FILENO, message.data(), message.size());
    ::_exit(static_cast<int>(Exit::store_gone));
}

}  // namespace

std::function<void()> end_when_gone(const std::filesystem::path& dir) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(dir, ec);
    std::string prefix = (ec ? dir : canonical).string();
    if (!prefix.ends_with('/')) prefix += '/';
    // Made now: at the end nothing but the wiping and the exit should run.
    std::string message =
        "kolokol: " +
        std::string(_("the store is gone (its key file or database was destroyed); "
                      "stopping")) +
        "\n";
    return [prefix = std::move(prefix), message = std::move(message)] { end_now(prefix, message); };
}

void on_store_gone(void (*restore)()) {
    g_restore = restore;
}

}  // namespace kolokol::cli

#pragma once
// What a kolokol process does when the store it has open is gone from under it (a panic, a
// duress passphrase typed in another process, the files removed): storage::StoreGuard notices,
// and this ends the process at once, leaving nothing behind in it.

#include <filesystem>
#include <functional>

namespace kolokol::cli {

// The function a StoreGuard of the store in `dir` calls. Computes the store's canonical path now,
// while it exists.
std::function<void()> end_when_gone(const std::filesystem::path& dir);

// Runs first when the store is gone, e.g. to give the terminal back (chat). Must only use
// async-signal-safe calls: other threads may be anywhere.
void on_store_gone(void (*restore)());

}  // namespace kolokol::cli

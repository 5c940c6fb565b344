#pragma once
// Runs a batch of independent chunk jobs on the calling thread plus one helper thread. Both take
// jobs from a shared counter, so a helper that is not scheduled in time costs nothing: the
// caller then does all the work and withdraws the offer. The helper is started on first use and
// joined when the runner is destroyed.

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>

namespace kolokol::age::detail {

class ChunkRunner {
public:
    // `threads` 1 runs everything on the caller; 2 or more uses one helper thread.
    explicit ChunkRunner(unsigned threads) : m_parallel(threads > 1) {}
    ~ChunkRunner();
    ChunkRunner(const ChunkRunner&) = delete;
    ChunkRunner& operator=(const ChunkRunner&) = delete;

    // Calls job(i) once for every i in [0, count), in any order and possibly concurrently;
    // returns when all have finished. Jobs must not throw.
    void run(std::size_t count, const std::function<void(std::size_t)>& job);

private:
    enum class State { idle, offered, running };
    void helper_loop();

    bool m_parallel;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::function<void()> m_task;
    State m_state = State::idle;
    bool m_stop = false;
};

}  // namespace kolokol::age::detail

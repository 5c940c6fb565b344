#include "parallel.hpp"

#include <atomic>

namespace kolokol::age::detail {

ChunkRunner::~ChunkRunner() {
    if (!m_thread.joinable()) return;
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
}

void ChunkRunner::helper_loop() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait(lock, [&] { return m_state == State::offered || m_stop; });
        if (m_stop) return;
        m_state = State::running;
        lock.unlock();
        m_task();
        lock.lock();
        m_task = nullptr;
        m_state = State::idle;
        m_done.notify_one();
    }
}

void ChunkRunner::run(std::size_t count, const std::function<void(std::size_t)>& job) {
    if (!m_parallel || count < 2) {
        for (std::size_t i = 0; i < count; ++i) job(i);
        return;
    }
    if (!m_thread.joinable()) m_thread = std::thread([this] { helper_loop(); });
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) job(i);
    };
    {
        std::lock_guard lock(m_mutex);
        m_task = work;
        m_state = State::offered;
    }
    m_wake.notify_one();
    work();
    std::unique_lock lock(m_mutex);
    if (m_state == State::offered) {
        // The helper never started: nothing of this batch is left for it.
        m_task = nullptr;
        m_state = State::idle;
        return;
    }
    m_done.wait(lock, [&] { return m_state == State::idle; });
}

}  // namespace kolokol::age::detail

#include "worker_pool.hpp"

#include <algorithm>

namespace kolokol::core {

WorkerPool::WorkerPool(unsigned threads) {
    threads = std::max(1u, threads);
    m_threads.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) m_threads.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    for (auto& t : m_threads) t.join();
}

void WorkerPool::work() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait(lock, [&] { return m_stop || !m_ranges.empty(); });
        if (m_stop) return;
        auto [begin, end] = m_ranges.back();
        m_ranges.pop_back();
        ++m_running;
        const auto* fn = m_fn;
        lock.unlock();
        std::exception_ptr error;
        try {
            (*fn)(begin, end);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        if (error && !m_error) m_error = error;
        --m_running;
        m_done.notify_all();
    }
}

void WorkerPool::for_each(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn) {
    if (n == 0) return;
    const std::size_t parts = m_threads.size() + 1;
    const std::size_t per = (n + parts - 1) / parts;
    {
        std::lock_guard lock(m_mutex);
        m_fn = &fn;
        m_error = nullptr;
        // The first range is the caller's; the rest go to the workers.
        for (std::size_t b = per; b < n; b += per) m_ranges.emplace_back(b, std::min(n, b + per));
    }
    m_wake.notify_all();
    std::exception_ptr error;
    try {
        fn(0, std::min(n, per));
    } catch (...) {
        error = std::current_exception();
    }
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_ranges.empty() && m_running == 0; });
    m_fn = nullptr;
    if (!error) error = m_error;
    m_error = nullptr;
    lock.unlock();
    if (error) std::rethrow_exception(error);
}

}  // namespace kolokol::core

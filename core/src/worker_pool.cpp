#include "worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <memory>

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

void WorkerPool::pipeline(std::size_t n, const std::function<void(std::size_t)>& work,
                          const std::function<bool(std::size_t)>& consume) {
    if (n == 0) return;
    std::atomic<std::size_t> next{0};
    auto done = std::make_unique<std::atomic<bool>[]>(n);
    std::atomic<bool> failed{false};
    auto run_one = [&](std::size_t i) {
        try {
            work(i);
        } catch (...) {
            std::lock_guard lock(m_mutex);
            if (!m_error) m_error = std::current_exception();
            failed.store(true, std::memory_order_release);
        }
        done[i].store(true, std::memory_order_release);
        done[i].notify_one();
    };
    // Each worker claims items until none are left (or the run was stopped).
    const std::function<void(std::size_t, std::size_t)> claim = [&](std::size_t, std::size_t) {
        for (;;) {
            const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
            if (i >= n) return;
            run_one(i);
        }
    };
    {
        std::lock_guard lock(m_mutex);
        m_fn = &claim;
        m_error = nullptr;
        for (std::size_t t = 0; t < m_threads.size(); ++t) m_ranges.emplace_back(0, 0);
    }
    m_wake.notify_all();
    std::exception_ptr error;
    try {
        for (std::size_t k = 0; k < n; ++k) {
            while (!done[k].load(std::memory_order_acquire)) {
                const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
                if (i < n) {
                    run_one(i);
                } else {
                    // Every item is claimed; k is in progress on a worker.
                    done[k].wait(false, std::memory_order_acquire);
                }
            }
            if (failed.load(std::memory_order_acquire) || !consume(k)) break;
        }
    } catch (...) {
        error = std::current_exception();
    }
    // Nothing more is claimed; the workers' ranges end when their current item does.
    next.store(n, std::memory_order_relaxed);
    std::unique_lock lock(m_mutex);
    // A worker that never woke up leaves its (empty) range behind: take it back.
    m_ranges.clear();
    m_done.wait(lock, [&] { return m_running == 0; });
    m_fn = nullptr;
    if (!error) error = m_error;
    m_error = nullptr;
    lock.unlock();
    if (error) std::rethrow_exception(error);
}

}  // namespace kolokol::core

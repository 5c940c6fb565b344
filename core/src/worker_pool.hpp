#pragma once
// A fixed set of worker threads that lives as long as its owner (the node): ingest opens and
// verifies envelopes on it instead of starting threads for every batch.
//
// for_each() may be called from one thread at a time (the node's); the workers only run the
// function given to the call in progress. The destructor stops and joins the workers.

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kolokol::core {

class WorkerPool {
public:
    // `threads` workers (at least one); the calling thread of for_each() works too.
    explicit WorkerPool(unsigned threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    unsigned size() const { return static_cast<unsigned>(m_threads.size()); }

    // Calls fn(begin, end) on disjoint ranges that together cover [0, n), on the workers and the
    // calling thread, and returns when all have returned. An exception thrown by fn is rethrown
    // here (the first one) after every range has finished.
    void for_each(std::size_t n, const std::function<void(std::size_t, std::size_t)>& fn);

    // Calls work(i) for every i in [0, n) on the workers, claimed in increasing order, while
    // the calling thread calls consume(i) for each i in order as soon as work(i) has returned:
    // a serial consumer overlaps the parallel work ahead of it. The caller runs work() itself
    // instead of waiting whenever the next item is not done and some are still unclaimed.
    // consume() returning false stops the run: nothing more is claimed, and pipeline() returns
    // once every work() call in progress has returned. An exception from work() or consume()
    // stops the run the same way and is rethrown after that wait (the first one).
    void pipeline(std::size_t n, const std::function<void(std::size_t)>& work,
                  const std::function<bool(std::size_t)>& consume);

private:
    void work();

    std::mutex m_mutex;
    std::condition_variable m_wake;  // a job was posted, or stop
    std::condition_variable m_done;  // a worker finished its range
    std::vector<std::thread> m_threads;
    const std::function<void(std::size_t, std::size_t)>* m_fn = nullptr;
    std::vector<std::pair<std::size_t, std::size_t>> m_ranges;  // not yet taken
    std::size_t m_running = 0;                                  // taken, not yet finished
    std::exception_ptr m_error;
    bool m_stop = false;
};

}  // namespace kolokol::core

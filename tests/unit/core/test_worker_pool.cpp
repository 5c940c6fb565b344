#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "worker_pool.hpp"

using kolokol::core::WorkerPool;

TEST_CASE("a worker pool covers every index once, call after call, on its own threads") {
    WorkerPool pool(3);
    CHECK(pool.size() == 3);
    std::mutex m;
    std::set<std::thread::id> seen_threads;
    for (std::size_t n : {1u, 2u, 7u, 1000u, 4u, 0u, 1001u}) {
        CAPTURE(n);
        std::vector<std::atomic<int>> hits(n);
        pool.for_each(n, [&](std::size_t b, std::size_t e) {
            REQUIRE(b < e);
            REQUIRE(e <= n);
            for (auto i = b; i < e; ++i) ++hits[i];
            std::lock_guard lock(m);
            seen_threads.insert(std::this_thread::get_id());
        });
        for (std::size_t i = 0; i < n; ++i) CHECK(hits[i].load() == 1);
    }
    // The caller and at most the three workers: the threads are kept, not started per call.
    CHECK(seen_threads.size() >= 2);
    CHECK(seen_threads.size() <= 4);
}

TEST_CASE("an exception in a worker's range reaches the caller after every range ran") {
    WorkerPool pool(2);
    std::atomic<std::size_t> ran{0};
    CHECK_THROWS_AS(pool.for_each(90,
                                  [&](std::size_t b, std::size_t e) {
                                      ran += e - b;
                                      if (b > 0) throw std::runtime_error("range failed");
                                  }),
                    std::runtime_error);
    CHECK(ran.load() == 90);
    // The pool still works afterwards.
    std::atomic<std::size_t> again{0};
    pool.for_each(10, [&](std::size_t b, std::size_t e) { again += e - b; });
    CHECK(again.load() == 10);
}

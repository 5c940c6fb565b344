#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
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

TEST_CASE("a pipeline consumes every item in order, each after its work, while work runs ahead") {
    WorkerPool pool(2);
    for (std::size_t n : {1u, 3u, 500u, 0u, 64u}) {
        CAPTURE(n);
        std::vector<std::atomic<int>> worked(n);
        std::vector<std::size_t> consumed;
        std::atomic<std::size_t> ahead{0};  // work done beyond the item being consumed
        pool.pipeline(
            n, [&](std::size_t i) { ++worked[i]; },
            [&](std::size_t k) {
                REQUIRE(worked[k].load() == 1);
                for (std::size_t j = k + 1; j < n; ++j)
                    if (worked[j].load() != 0) ++ahead;
                consumed.push_back(k);
                // A slow consumer: the workers get ahead of it.
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                return true;
            });
        CHECK(consumed.size() == n);
        for (std::size_t k = 0; k < consumed.size(); ++k) CHECK(consumed[k] == k);
        for (std::size_t i = 0; i < n; ++i) CHECK(worked[i].load() == 1);
        if (n >= 64) CHECK(ahead.load() > 0);
    }
}

TEST_CASE("a pipeline stops when its consumer says so, and waits for the work in progress") {
    WorkerPool pool(2);
    std::vector<std::atomic<int>> worked(1000);
    std::atomic<int> running{0};
    std::size_t consumed = 0;
    pool.pipeline(
        worked.size(),
        [&](std::size_t i) {
            ++running;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
            ++worked[i];
            --running;
        },
        [&](std::size_t k) {
            ++consumed;
            return k < 9;
        });
    CHECK(consumed == 10);
    CHECK(running.load() == 0);  // nothing still runs once pipeline() returned
    std::size_t total = 0;
    for (auto& w : worked) total += static_cast<std::size_t>(w.load());
    CHECK(total < worked.size());  // the rest was never claimed

    // An exception in work stops the run and reaches the caller; the pool still works.
    std::atomic<std::size_t> seen{0};
    CHECK_THROWS_AS(pool.pipeline(
                        100,
                        [&](std::size_t i) {
                            if (i == 40) throw std::runtime_error("work failed");
                        },
                        [&](std::size_t k) {
                            ++seen;
                            REQUIRE(k < 100);
                            return true;
                        }),
                    std::runtime_error);
    CHECK(seen.load() <= 40);
    std::atomic<std::size_t> again{0};
    pool.pipeline(
        10, [&](std::size_t) { ++again; }, [](std::size_t) { return true; });
    CHECK(again.load() == 10);
}

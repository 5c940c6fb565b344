#pragma once
// The blocking forms of transport's coroutines (sync_with, probe): the coroutine on an
// io_context of its own, run on the calling thread until it ends.

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <exception>
#include <optional>
#include <string>

#include "kolokol/crypto/error.hpp"

namespace kolokol::transport::detail {

// Runs `work` to its end and returns its result. The co_spawn's completion handler turns an
// exception escaping `work` into `thrown(what)` (a Result<T> holding an error), so nothing is
// thrown out of the io_context or out of this call.
template <class T, class Thrown>
Result<T> run_blocking(asio::awaitable<Result<T>> work, Thrown thrown) {
    asio::io_context io;
    std::optional<Result<T>> out;
    asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, Result<T> r) {
        if (!e) {
            out = std::move(r);
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            out = thrown(std::string(x.what()));
        } catch (...) {
            out = thrown(std::string("unknown exception"));
        }
    });
    io.run();
    if (!out) return thrown(std::string("it did not run"));
    return std::move(*out);
}

}  // namespace kolokol::transport::detail

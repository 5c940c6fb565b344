#include "kolokol/transport/ws_gateway.hpp"

#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <list>
#include <map>
#include <mutex>

#include "kolokol/transport/session_error.hpp"
#include "ws_tunnel.hpp"

namespace kolokol::transport {

namespace {
using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using Tunnel = detail::WsTunnel<asio::ip::tcp::socket>;

// The answer to anything but an upgrade carried: a bare 404 (the web server puts its own page in
// its place), then the connection ends.
asio::awaitable<void> answer_not_found(asio::ip::tcp::socket& socket,
                                       asio::steady_timer& deadline) {
    const auto answer = ws::not_found_response();
    co_await (asio::async_write(socket, asio::buffer(answer), use_tuple) ||
              deadline.async_wait(use_tuple));
    std::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}
}  // namespace

asio::ip::address client_address(const asio::ip::address& peer, std::string_view head,
                                 const std::vector<asio::ip::address>& trusted) {
    const auto from = SessionSlots::normalized(peer);
    bool believed = from.is_loopback();
    for (const auto& t : trusted) believed = believed || SessionSlots::normalized(t) == from;
    if (!believed) return peer;
    auto named = ws::real_ip(head);
    if (!named) return peer;
    std::error_code ec;
    auto address = asio::ip::make_address(*named, ec);
    return ec ? peer : address;
}

struct WsGateway::State : std::enable_shared_from_this<WsGateway::State> {
    State(asio::any_io_executor ex, WsGatewayOptions o)
        : executor(ex), acceptor(asio::make_strand(ex)), options(std::move(o)) {}

    asio::any_io_executor executor;
    asio::ip::tcp::acceptor acceptor;
    WsGatewayOptions options;
    mutable std::mutex mutex;  // guards what follows
    WsGatewayStats counts;
    std::size_t active = 0;
    bool stopped = false;
    // Upgrades carried, by client address and by client prefix (SessionSlots' normal forms).
    std::map<asio::ip::address, std::size_t> at_address;
    std::map<asio::ip::address, std::size_t> in_prefix;
    // Every open connection's socket, to close on stop() (on its own strand).
    std::list<std::pair<asio::any_io_executor, asio::ip::tcp::socket*>> open;

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(asio::ip::tcp::socket socket);
};

asio::awaitable<void> WsGateway::State::accept_loop() {
    auto self = shared_from_this();
    for (;;) {
        asio::ip::tcp::socket socket(asio::make_strand(executor));
        auto [ec] = co_await acceptor.async_accept(socket, use_tuple);
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
            log_line(options.log, LogLevel::warning, "websocket gateway: accept: " + ec.message());
            asio::steady_timer pause(acceptor.get_executor());
            pause.expires_after(std::chrono::milliseconds(100));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        {
            std::lock_guard lock(mutex);
            ++counts.accepted;
            if (stopped) co_return;
            if (active >= options.max_connections) {
                ++counts.refused;
                continue;  // the socket closes here
            }
            ++active;
        }
        auto strand = socket.get_executor();
        asio::co_spawn(strand, serve(std::move(socket)), [self](std::exception_ptr e) {
            {
                std::lock_guard lock(self->mutex);
                --self->active;
            }
            log_exception(self->options.log, "transport: websocket gateway", e);
        });
    }
}

// g++ 12 reports -Wmismatched-new-delete for this coroutine's frame, as for drive_engine in
// sync_session.cpp: asio's frame allocator's ::operator new inlined into the ramp and paired
// with awaitable_frame_base::operator delete, its matching deallocation — a false positive that
// depends on inlining decisions.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> WsGateway::State::serve(asio::ip::tcp::socket socket) {
    auto self = shared_from_this();
    auto executor = socket.get_executor();
    // Registered so stop() can close it; unregistered when serve() ends.
    std::list<std::pair<asio::any_io_executor, asio::ip::tcp::socket*>>::iterator entry;
    {
        std::lock_guard lock(mutex);
        if (stopped) co_return;
        entry = open.emplace(open.end(), executor, &socket);
    }
    struct Unregister {
        State& s;
        decltype(entry) it;
        ~Unregister() {
            std::lock_guard lock(s.mutex);
            s.open.erase(it);
        }
    } unregister{*this, entry};

    asio::steady_timer deadline(executor);
    deadline.expires_after(options.request_timeout);
    std::string head;
    std::string rest;
    std::array<char, 2048> chunk{};
    bool complete = false;
    while (head.size() <= ws::kMaxHandshakeBytes) {
        auto got = co_await (socket.async_read_some(asio::buffer(chunk), use_tuple) ||
                             deadline.async_wait(use_tuple));
        if (got.index() == 1) break;
        auto [ec, n] = std::get<0>(got);
        if (ec) co_return;
        const auto before = head.size();
        head.append(chunk.data(), n);
        if (auto end = head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
            end != std::string::npos) {
            rest = head.substr(end + 4);
            head.resize(end + 4);
            complete = true;
            break;
        }
    }
    auto key = complete ? ws::check_upgrade_request(head, options.path) : std::nullopt;
    if (!key) {
        {
            std::lock_guard lock(mutex);
            ++counts.not_found;
        }
        co_await answer_not_found(socket, deadline);
        co_return;
    }

    std::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (peer_ec) co_return;
    const auto client =
        SessionSlots::normalized(client_address(peer.address(), head, options.trusted_proxies));
    const auto prefix = SessionSlots::prefix_of(client);
    bool over = false;
    {
        std::lock_guard lock(mutex);
        over = at_address[client] >= options.per_address || in_prefix[prefix] >= options.per_prefix;
        if (over) {
            ++counts.refused_client;
        } else {
            ++at_address[client];
            ++in_prefix[prefix];
        }
        if (at_address[client] == 0) at_address.erase(client);
        if (in_prefix[prefix] == 0) in_prefix.erase(prefix);
    }
    if (over) {
        co_await answer_not_found(socket, deadline);
        co_return;
    }
    struct Counted {
        State& s;
        asio::ip::address client, prefix;
        ~Counted() {
            std::lock_guard lock(s.mutex);
            if (--s.at_address[client] == 0) s.at_address.erase(client);
            if (--s.in_prefix[prefix] == 0) s.in_prefix.erase(prefix);
        }
    } counted{*this, client, prefix};
    asio::ip::tcp::socket relay(executor);
    // Bound before it connects, so the Server finds its client when it accepts it.
    std::error_code bind_ec;
    relay.open(options.target.protocol(), bind_ec);
    if (!bind_ec) relay.bind(asio::ip::tcp::endpoint(options.target.address(), 0), bind_ec);
    const auto local = bind_ec ? asio::ip::tcp::endpoint() : relay.local_endpoint(bind_ec);
    if (bind_ec) {
        log_line(options.log, LogLevel::warning,
                 "websocket gateway: no local port for the relay: " + bind_ec.message());
        co_return;
    }
    struct Origin {
        ClientOrigins* table;
        asio::ip::tcp::endpoint local;
        ~Origin() {
            if (table) table->remove(local);
        }
    } origin{options.origins.get(), local};
    if (options.origins) options.origins->add(local, client);
    auto connected =
        co_await (relay.async_connect(options.target, use_tuple) || deadline.async_wait(use_tuple));
    if (connected.index() == 1 || std::get<0>(std::get<0>(connected))) {
        log_line(options.log, LogLevel::warning,
                 "websocket gateway: the relay's own port does not answer");
        co_return;
    }
    const auto answer = ws::upgrade_response(*key);
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(answer), use_tuple);
    if (wec) co_return;
    {
        std::lock_guard lock(mutex);
        ++counts.upgraded;
    }
    std::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    relay.set_option(asio::ip::tcp::no_delay(true), ignored);
    auto tunnel = std::make_shared<Tunnel>(std::move(socket), std::move(relay), ws::Role::server);
    // The tunnel's socket replaces this one in the registry.
    {
        std::lock_guard lock(mutex);
        entry->second = &tunnel->outer;
    }
    co_await (tunnel->down(Bytes(rest.begin(), rest.end())) && tunnel->up() && tunnel->writer());
    tunnel->stop();
    {
        std::lock_guard lock(mutex);
        entry->second = nullptr;
    }
}
#pragma GCC diagnostic pop

WsGateway::WsGateway(asio::any_io_executor executor, WsGatewayOptions options)
    : m_state(std::make_shared<State>(executor, std::move(options))) {}

WsGateway::~WsGateway() {
    stop();
}

Status WsGateway::listen(const asio::ip::tcp::endpoint& endpoint) {
    std::error_code ec;
    auto& a = m_state->acceptor;
    a.open(endpoint.protocol(), ec);
    if (!ec) a.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(endpoint, ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail(TransportErrc::listen_failed, "could not listen: {}", ec.message());
    return {};
}

void WsGateway::start() {
    auto state = m_state;
    asio::co_spawn(state->acceptor.get_executor(), state->accept_loop(),
                   [state](std::exception_ptr e) {
                       log_exception(state->options.log, "transport: websocket gateway", e);
                   });
}

void WsGateway::stop() {
    auto state = m_state;
    std::lock_guard lock(state->mutex);
    if (state->stopped) return;
    state->stopped = true;
    asio::dispatch(state->acceptor.get_executor(), [state] {
        std::error_code ignored;
        state->acceptor.close(ignored);
    });
    for (auto& [executor, socket] : state->open) {
        if (!socket) continue;
        // Closed on the connection's strand; serve() is still registered, so the socket lives.
        asio::post(executor, [state, s = socket] {
            std::lock_guard inner(state->mutex);
            for (auto& [e, open] : state->open)
                if (open == s) {
                    std::error_code ignored;
                    s->shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
                    s->close(ignored);
                }
        });
    }
}

asio::ip::tcp::endpoint WsGateway::local_endpoint() const {
    std::error_code ec;
    return m_state->acceptor.local_endpoint(ec);
}

WsGatewayStats WsGateway::stats() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->counts;
}

}  // namespace kolokol::transport

#include "relay_flood_client.hpp"

#include <algorithm>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <set>
#include <sstream>

#include "command.hpp"
#include "kolokol/crypto/hash.hpp"
#include "kolokol/storage/envelope.hpp"
#include "kolokol/transport/reconcile.hpp"

namespace kolokol::adversary {

using namespace transport;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// Envelope bytes per Envelopes frame, under the sync frame cap with room for the frame itself.
constexpr std::size_t kFrameEnvelopeBytes = 60'000;

std::unexpected<Error> broken(std::string why) {
    return fail(SyncErrc::protocol_violation, std::move(why));
}

asio::awaitable<Result<asio::ip::tcp::socket>> dial_from(asio::ip::address source,
                                                         asio::any_io_executor executor,
                                                         std::string host, std::uint16_t port,
                                                         std::chrono::milliseconds timeout) {
    std::error_code ec;
    auto target = asio::ip::make_address(host, ec);
    if (ec) co_return fail(TransportErrc::connect_failed, "not an IP address: " + host);
    asio::ip::tcp::socket socket(executor);
    socket.open(target.is_v4() ? asio::ip::tcp::v4() : asio::ip::tcp::v6(), ec);
    if (!ec) socket.bind({source, 0}, ec);
    if (ec)
        co_return fail(TransportErrc::connect_failed,
                       "cannot bind " + source.to_string() + ": " + ec.message());
    asio::steady_timer deadline(executor);
    deadline.expires_after(timeout);
    auto r = co_await (socket.async_connect({target, port}, use_tuple) ||
                       deadline.async_wait(use_tuple));
    if (r.index() == 1) co_return fail(TransportErrc::connect_failed, "timed out");
    if (auto [cec] = std::get<0>(r); cec)
        co_return fail(TransportErrc::connect_failed, cec.message());
    co_return std::move(socket);
}

}  // namespace

Dialer bound_dialer(asio::ip::address source) {
    return [source](asio::any_io_executor ex, std::string host, std::uint16_t port,
                    std::chrono::milliseconds timeout) {
        return dial_from(source, std::move(ex), std::move(host), port, timeout);
    };
}

std::vector<asio::ip::address> parse_sources(const std::string& list) {
    std::vector<asio::ip::address> out;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty()) continue;
        std::error_code ec;
        auto a = asio::ip::make_address(item, ec);
        if (ec) usage_error("not an IP address: " + item);
        out.push_back(a);
    }
    if (out.empty()) usage_error("no source address given");
    return out;
}

MailboxKey mailbox_key_from(const std::string& text) {
    auto seed = crypto::blake2b_256("kolokol-adversary/mailbox-seed", as_bytes(text));
    return MailboxKey::from_seed(seed);
}

Bytes random_envelope(const MailboxId& mailbox, std::size_t size, crypto::Random& rng) {
    size = std::clamp(size, storage::kEnvelopeMinBytes, storage::kEnvelopeMaxBytes);
    Bytes e{storage::kEnvelopeVersion};
    append(e, mailbox);
    append(e, rng.bytes(size - e.size()));
    return e;
}

asio::awaitable<Result<RawSync>> RawSync::connect(const Address& address,
                                                  const crypto::BoxKeyPair& local,
                                                  std::optional<asio::ip::address> source) {
    ConnectOptions options;
    options.session.handshake_timeout = std::chrono::seconds(30);
    options.session.idle_timeout = std::chrono::hours(1);
    options.session.send_timeout = std::chrono::seconds(60);
    if (source) options.dialer = bound_dialer(*source);
    auto s = co_await transport::connect(address, local, options);
    if (!s) co_return std::unexpected(s.error());
    co_return RawSync(std::move(*s));
}

asio::awaitable<Status> RawSync::send(const pb::SyncFrame& frame) {
    const auto text = frame.SerializeAsString();
    Bytes bytes(text.begin(), text.end());
    co_return co_await m_session.send(std::move(bytes));
}

asio::awaitable<Result<pb::SyncFrame>> RawSync::receive() {
    auto msg = co_await m_session.receive();
    if (!msg) co_return std::unexpected(msg.error());
    pb::SyncFrame f;
    if (!f.ParseFromArray(msg->data(), static_cast<int>(msg->size())))
        co_return broken("the relay sent a frame that does not parse");
    co_return f;
}

pb::SyncFrame RawSync::hello(std::uint64_t window_bytes) {
    pb::SyncFrame f;
    auto* h = f.mutable_hello();
    h->set_version(kSyncVersion);
    h->set_window_bytes(window_bytes);
    h->set_max_reconciliations(8);
    h->set_max_wants(8'192);
    return f;
}

pb::SyncFrame RawSync::open(const MailboxKey& key) const {
    pb::SyncFrame f;
    auto* o = f.mutable_open();
    o->set_mailbox(to_string(key.id));
    o->set_public_key(to_string(key.public_key));
    o->set_signature(to_string(sign_mailbox_open(key, m_session.handshake_hash())));
    return f;
}

asio::awaitable<Result<Opened>> hello_and_open(RawSync& sync, const MailboxKey& key) {
    if (auto s = co_await sync.send(RawSync::hello(kSyncMaxWindowBytes)); !s)
        co_return std::unexpected(s.error());
    if (auto s = co_await sync.send(sync.open(key)); !s) co_return std::unexpected(s.error());
    Opened out;
    for (;;) {
        auto f = co_await sync.receive();
        if (!f) co_return std::unexpected(f.error());
        if (f->has_hello()) out.window_bytes = f->hello().window_bytes();
        if (f->has_close()) co_return broken("the relay closed: " + f->close().detail());
        if (f->has_open_result()) {
            if (!f->open_result().accepted())
                co_return broken("the relay refused the mailbox: " + f->open_result().detail());
            if (out.window_bytes == 0) co_return broken("an open result before the hello");
            co_return out;
        }
    }
}

asio::awaitable<Result<std::vector<bool>>> push_envelopes(RawSync& sync, const MailboxKey& key,
                                                          std::uint64_t window_bytes,
                                                          const std::vector<Bytes>& envelopes) {
    std::vector<bool> stored(envelopes.size(), false);
    std::size_t next = 0;         // first envelope not yet sent
    std::uint64_t acked = 0;      // envelopes settled (seq = index + 1)
    std::uint64_t in_flight = 0;  // bytes sent and not settled
    std::vector<std::uint64_t> size_of(envelopes.size());
    while (acked < envelopes.size()) {
        // Fill the relay's window, one burst of frames, the last one flushed.
        while (next < envelopes.size() && in_flight + envelopes[next].size() <= window_bytes) {
            pb::SyncFrame f;
            auto* e = f.mutable_envelopes();
            e->set_mailbox(to_string(key.id));
            std::size_t bytes = 0;
            while (next < envelopes.size() &&
                   bytes + envelopes[next].size() <= kFrameEnvelopeBytes &&
                   in_flight + envelopes[next].size() <= window_bytes) {
                e->add_envelopes(to_string(envelopes[next]));
                bytes += envelopes[next].size();
                in_flight += envelopes[next].size();
                size_of[next] = envelopes[next].size();
                ++next;
            }
            e->set_flush(next == envelopes.size() ||
                         in_flight + envelopes[next].size() > window_bytes);
            if (auto s = co_await sync.send(f); !s) co_return std::unexpected(s.error());
        }
        auto f = co_await sync.receive();
        if (!f) co_return std::unexpected(f.error());
        if (f->has_close()) co_return broken("the relay closed: " + f->close().detail());
        if (!f->has_ack()) continue;
        const auto& a = f->ack();
        if (a.through() <= acked || a.through() > next) co_return broken("an ack out of range");
        std::set<std::uint64_t> rejected;
        for (const auto& r : a.rejected()) rejected.insert(r.seq());
        for (std::uint64_t seq = acked + 1; seq <= a.through(); ++seq) {
            stored[seq - 1] = !rejected.contains(seq);
            in_flight -= size_of[seq - 1];
        }
        acked = a.through();
    }
    co_return stored;
}

asio::awaitable<Result<std::vector<RecordId>>> fetch_all(RawSync& sync, const MailboxKey& key) {
    pb::SyncFrame fa;
    fa.mutable_fetch_all()->set_mailbox(to_string(key.id));
    if (auto s = co_await sync.send(fa); !s) co_return std::unexpected(s.error());
    std::vector<RecordId> ids;
    std::uint64_t received = 0;
    for (;;) {
        auto f = co_await sync.receive();
        if (!f) co_return std::unexpected(f.error());
        if (f->has_close()) co_return broken("the relay closed: " + f->close().detail());
        if (f->has_fetched() && f->fetched().done()) co_return ids;
        if (!f->has_envelopes()) continue;
        for (const auto& e : f->envelopes().envelopes()) {
            ids.push_back(storage::record_id_of(as_bytes(e)));
            ++received;
        }
        if (f->envelopes().flush()) {
            pb::SyncFrame ack;
            ack.mutable_ack()->set_through(received);
            if (auto s = co_await sync.send(ack); !s) co_return std::unexpected(s.error());
        }
    }
}

Bytes costly_reconcile_message(crypto::Random& rng) {
    // Each range: bound (length byte + 2 prefix bytes), mode, 16-byte fingerprint = 20 bytes;
    // 2,900 of them stay under the 60,000-byte message cap.
    constexpr std::size_t kRanges = 2'900;
    Bytes m{kReconcileVersion};
    std::uint32_t last = 0;
    for (std::size_t i = 1; i < kRanges; ++i) {
        auto v = static_cast<std::uint32_t>(i * 65'536 / kRanges);
        if ((v & 0xff) == 0) ++v;  // a bound's last prefix byte is never zero
        if (v <= last) continue;
        last = v;
        m.push_back(2);
        m.push_back(static_cast<std::uint8_t>(v >> 8));
        m.push_back(static_cast<std::uint8_t>(v));
        m.push_back(1);  // fingerprint
        append(m, rng.bytes(kFingerprintBytes));
    }
    m.push_back(0);  // the end of the id space
    m.push_back(1);
    append(m, rng.bytes(kFingerprintBytes));
    return m;
}

}  // namespace kolokol::adversary

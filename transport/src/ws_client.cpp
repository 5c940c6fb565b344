#include "ws_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "kolokol/crypto/random.hpp"
#include "ws_tunnel.hpp"

namespace kolokol::transport::detail {

namespace {

using namespace asio::experimental::awaitable_operators;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

// `why` is a message literal (KOLOKOL_TEXT) or an error, shown in the user's language.
std::unexpected<Error> failed(const Address& a, const char* why) {
    return fail(TransportErrc::connect_failed, "could not connect to {}:{}: {}", a.host_text(),
                a.port, why);
}
std::unexpected<Error> failed(const Address& a, const Error& why) {
    return fail(TransportErrc::connect_failed, "could not connect to {}:{}: {}", a.host_text(),
                a.port, why);
}

// A failed TLS handshake in words a user can act on; OpenSSL's own text (English) only where no
// reason below fits.
Error tls_failure(const std::error_code& ec, SSL* ssl) {
    const auto code = TransportErrc::connect_failed;
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset)
        return make_error(code,
                          "TLS: the server closed the connection during the handshake (it "
                          "may not speak TLS on this port, or the network cut it)");
    if (ec.category() == asio::error::get_ssl_category()) {
        const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
        if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            switch (SSL_get_verify_result(ssl)) {
                case X509_V_ERR_CERT_HAS_EXPIRED:
                    return make_error(code, "TLS: the web server's certificate has expired");
                case X509_V_ERR_CERT_NOT_YET_VALID:
                    return make_error(code,
                                      "TLS: the web server's certificate is not valid yet (is "
                                      "this computer's clock right?)");
                case X509_V_ERR_HOSTNAME_MISMATCH:
                case X509_V_ERR_IP_ADDRESS_MISMATCH:
                    return make_error(code,
                                      "TLS: the web server's certificate is for another name");
                default:
                    return make_error(code,
                                      "TLS: the web server's certificate is not signed by an "
                                      "authority this computer trusts (see KOLOKOL_CA_FILE)");
            }
        }
        if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST)
            return make_error(code, "TLS: the server does not speak TLS on this port");
        if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION)
            return make_error(code,
                              "TLS: the web server offers no TLS version this client "
                              "accepts (1.2 or later)");
    }
    return make_error(code, "TLS: the handshake failed: {}", ec.message());
}

bool is_ip_literal(const std::string& host) {
    std::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

// The TLS client context: TLS 1.2 at least, the peer's certificate checked against the given
// CAs or the system's.
Result<std::shared_ptr<asio::ssl::context>> client_context(const Address& a,
                                                           const std::string& ca_file) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    std::error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1,
                     ec);
    if (ca_file.empty())
        ctx->set_default_verify_paths(ec);
    else
        ctx->load_verify_file(ca_file, ec);
    if (ec)
        return failed(
            a, make_error(TransportErrc::connect_failed,
                          "TLS: the trusted certificates could not be loaded: {}", ec.message()));
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    return ctx;
}

}  // namespace

Result<std::pair<asio::ip::tcp::socket, asio::ip::tcp::socket>> loopback_pair(
    asio::any_io_executor executor) {
    std::error_code ec;
    asio::ip::tcp::acceptor acceptor(executor);
    const asio::ip::tcp::endpoint any(asio::ip::address_v4::loopback(), 0);
    acceptor.open(any.protocol(), ec);
    if (!ec) acceptor.bind(any, ec);
    if (!ec) acceptor.listen(4, ec);
    asio::ip::tcp::socket near(executor);
    if (!ec) near.connect(acceptor.local_endpoint(), ec);
    if (ec)
        return fail(TransportErrc::io_error, "could not make a loopback connection: {}",
                    ec.message());
    const auto near_endpoint = near.local_endpoint(ec);
    for (int attempt = 0; attempt < 4 && !ec; ++attempt) {
        asio::ip::tcp::socket far(executor);
        acceptor.accept(far, ec);
        if (ec) break;
        if (far.remote_endpoint(ec) == near_endpoint && !ec)
            return std::pair(std::move(near), std::move(far));
    }
    return fail(TransportErrc::io_error, "could not make a loopback connection: {}",
                ec ? ec.message() : "another process connected first");
}

asio::awaitable<Result<Session>> connect_websocket(Address address,
                                                   const crypto::BoxKeyPair& local_static,
                                                   ConnectOptions options) {
    if (auto valid = options.session.validate(); !valid) co_return std::unexpected(valid.error());
    auto executor = co_await asio::this_coro::executor;
    auto dial = options.dialer ? options.dialer : direct_dialer();
    auto socket = co_await dial(executor, address.host, address.port, options.connect_timeout);
    if (!socket) co_return std::unexpected(socket.error());
    auto ctx = client_context(address, options.tls_ca_file);
    if (!ctx) co_return std::unexpected(ctx.error());

    TlsStream tls(std::move(*socket), **ctx);
    // What an ordinary browser's ClientHello names: the host (SNI) and HTTP/1.1 (ALPN).
    if (!is_ip_literal(address.host) &&
        SSL_set_tlsext_host_name(tls.native_handle(), address.host.c_str()) != 1)
        co_return failed(address, KOLOKOL_TEXT("TLS: the host name could not be set"));
    static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    if (SSL_set_alpn_protos(tls.native_handle(), kAlpn, sizeof kAlpn) != 0)
        co_return failed(address, KOLOKOL_TEXT("TLS: ALPN could not be set"));
    // OpenSSL's own name check, so that a mismatch is told apart from an unknown authority.
    auto* param = SSL_get0_param(tls.native_handle());
    const int named = is_ip_literal(address.host)
                          ? X509_VERIFY_PARAM_set1_ip_asc(param, address.host.c_str())
                          : X509_VERIFY_PARAM_set1_host(param, address.host.c_str(), 0);
    if (named != 1) co_return failed(address, KOLOKOL_TEXT("TLS: the host name could not be set"));

    // The TLS handshake and the upgrade share the session's handshake deadline.
    asio::steady_timer deadline(executor);
    deadline.expires_after(options.session.handshake_timeout);
    auto shook = co_await (tls.async_handshake(asio::ssl::stream_base::client, use_tuple) ||
                           deadline.async_wait(use_tuple));
    if (shook.index() == 1) co_return failed(address, KOLOKOL_TEXT("TLS: timed out"));
    if (auto [hec] = std::get<0>(shook); hec)
        co_return failed(address, tls_failure(hec, tls.native_handle()));

    std::array<std::uint8_t, 16> nonce{};
    crypto::system_random().fill(nonce);
    const auto key = ws::make_client_key(nonce);
    const std::string host_header = address.port == kHttpsPort
                                        ? address.host_text()
                                        : address.host_text() + ":" + std::to_string(address.port);
    const auto request = ws::client_request(host_header, address.ws_path, key);
    auto wrote = co_await (asio::async_write(tls, asio::buffer(request), use_tuple) ||
                           deadline.async_wait(use_tuple));
    if (wrote.index() == 1)
        co_return failed(address, KOLOKOL_TEXT("the web server did not answer in time"));
    if (auto [wec, n] = std::get<0>(wrote); wec)
        co_return failed(address,
                         make_error(TransportErrc::connect_failed,
                                    "the web server closed the connection: {}", wec.message()));

    // The response head; bytes after it already belong to the WebSocket stream.
    std::string head;
    Bytes rest;
    std::array<char, 2048> chunk{};
    for (;;) {
        auto got = co_await (tls.async_read_some(asio::buffer(chunk), use_tuple) ||
                             deadline.async_wait(use_tuple));
        if (got.index() == 1)
            co_return failed(address, KOLOKOL_TEXT("the web server did not answer in time"));
        auto [rec, n] = std::get<0>(got);
        if (rec) co_return failed(address, KOLOKOL_TEXT("the web server closed the connection"));
        const auto before = head.size();
        head.append(chunk.data(), n);
        if (auto end = head.find("\r\n\r\n", before >= 3 ? before - 3 : 0);
            end != std::string::npos) {
            rest.assign(head.begin() + static_cast<std::ptrdiff_t>(end + 4), head.end());
            head.resize(end + 4);
            break;
        }
        if (head.size() > ws::kMaxHandshakeBytes)
            co_return failed(address, KOLOKOL_TEXT("the web server's answer is too long"));
    }
    if (!ws::check_upgrade_response(head, key)) {
        auto line = head.substr(0, std::min(head.find("\r\n"), std::size_t{80}));
        co_return failed(address, make_error(TransportErrc::connect_failed,
                                             "the web server refused the upgrade ({})", line));
    }

    auto pair = loopback_pair(executor);
    if (!pair) co_return std::unexpected(pair.error());
    auto tunnel = std::make_shared<WsTunnel<TlsStream>>(std::move(tls), std::move(pair->second),
                                                        ws::Role::client);
    // The context outlives the stream: the tunnel's completion holds both.
    WsTunnel<TlsStream>::start(tunnel, std::move(rest), options.session.log,
                               std::shared_ptr<void>(*ctx));
    co_return co_await Session::initiate(std::move(pair->first), local_static, address.key,
                                         std::move(options.session));
}

}  // namespace kolokol::transport::detail

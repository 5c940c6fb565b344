// What case bundles need from the Node beyond the public views: a signature by the member's
// identity key, limited to the bundle domains.
#include "kolokol/crypto/sign.hpp"
#include "node_impl.hpp"

namespace kolokol::core {

Result<crypto::Signature> Node::sign_bundle(std::string_view domain, ByteView message) {
    if (!domain.starts_with("kolokol/bundle/"))
        return fail(CoreErrc::bad_input, "only case-bundle domains are signed here");
    return crypto::sign(m_impl->identity.sign.secret_key, domain, message);
}

}  // namespace kolokol::core

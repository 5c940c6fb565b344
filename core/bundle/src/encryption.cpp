#include "encryption.hpp"

namespace kolokol::bundle::detail {

Result<age::Encryptor> make_encryptor(const Encryption& encryption, const age::Sink& sink) {
    const bool has_recipients = !encryption.recipients.empty();
    if (has_recipients == encryption.passphrase.has_value())
        return fail(BundleErrc::bad_input,
                    "a bundle is encrypted to recipients or to one passphrase, not both");
    age::EncryptOptions options;
    options.random = encryption.random;
    options.scrypt_work_factor = encryption.scrypt_work_factor;
    options.sink_thread = true;  // writing out overlaps with sealing; write_bundle's sink says so
    if (encryption.passphrase)
        return age::Encryptor::with_passphrase(encryption.passphrase->view(), sink, options);
    return age::Encryptor::to_recipients(encryption.recipients, sink, options);
}

}  // namespace kolokol::bundle::detail

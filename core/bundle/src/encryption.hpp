#pragma once

#include "kolokol/bundle/bundle.hpp"

namespace kolokol::bundle::detail {

// An age encryptor for `encryption`: the passphrase alone, or the recipients (bad_input when
// there are neither or both).
Result<age::Encryptor> make_encryptor(const Encryption& encryption, const age::Sink& sink);

}  // namespace kolokol::bundle::detail

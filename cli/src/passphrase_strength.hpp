#pragma once
// A warning for very weak new passphrases. The store's key file and a backup are only as strong
// as their passphrase once a device or file is taken: Argon2id and scrypt slow each guess, but a
// short, common or patterned passphrase falls to a small list of guesses.
//
// "Very weak" means any of: fewer than 10 characters; fewer than 5 different characters; a
// common password, or one followed only by digits and punctuation ("password2024!"); only digits
// (dates, phone numbers) below 16 characters; a run of neighbouring keys or letters ("qwertyuiop",
// "йцукенгш", "abcdefgh", "987654321"). No dictionary is consulted beyond a few dozen words,
// nothing leaves the machine, and a warned passphrase is still accepted: the person decides.

#include <optional>
#include <string>

#include "kolokol/crypto/bytes.hpp"

namespace kolokol::cli {

// Why `passphrase` is very weak (one translated phrase), or nullopt.
std::optional<std::string> weakness(ByteView passphrase);

// Prints one warning line on stderr when `passphrase` is very weak.
void warn_if_weak(ByteView passphrase);

}  // namespace kolokol::cli

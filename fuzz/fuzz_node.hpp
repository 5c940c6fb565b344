#pragma once
// A Node with a fresh identity in a private temp home (fast KDF, removed at exit), for targets
// whose parser is a Node method. Each target is one .cpp file, so the definitions live here.
// Aborts when the fixture cannot be made: a fuzz run without it would test nothing.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "kolokol/core/node.hpp"

namespace kolokol::fuzz {
namespace detail {
struct Home {
    std::filesystem::path dir;
    std::unique_ptr<core::Node> node;
    Home() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "kolokol-fuzz-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) std::abort();
        dir = tmpl;
        core::InitOptions o;
        o.display_name = "fuzz";
        static constexpr std::string_view pass = "fuzz passphrase";
        o.passphrase = as_bytes(pass);
        o.kdf = core::KdfProfile::fast;
        if (!core::Node::init(dir / "home", o)) std::abort();
        auto opened = core::Node::open(dir / "home", as_bytes(pass));
        if (!opened) std::abort();
        node = std::move(*opened);
    }
    ~Home() {
        node.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};
inline Home& home() {
    static Home h;
    return h;
}
}  // namespace detail

inline core::Node& node() {
    return *detail::home().node;
}
// The temp home's parent directory, for targets that hand the parser a file.
inline const std::filesystem::path& scratch_dir() {
    return detail::home().dir;
}

}  // namespace kolokol::fuzz

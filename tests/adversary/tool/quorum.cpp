// Quorum steps of honest admins, for the attacks on groups with a quorum (seized_admin_burn.sh)
// while the command line has no `group quorum` / `group approve`: they call the same library
// functions those commands call.
//
//   set-quorum HOME PASSFILE GROUP K      — Node::set_quorum
//   approve HOME PASSFILE GROUP PREFIX    — Node::approve of the pending proposal whose id
//                                           starts with the hex PREFIX
#include <fstream>
#include <iostream>

#include "command.hpp"
#include "kolokol/core/node.hpp"
#include "kolokol/crypto/encoding.hpp"

namespace kolokol::adversary {
namespace {

std::unique_ptr<core::Node> open_home(const std::string& home, const std::string& pass_file) {
    std::ifstream in(pass_file);
    std::string pass;
    if (!std::getline(in, pass)) throw std::runtime_error("cannot read " + pass_file);
    auto node = core::Node::open(home, as_bytes(pass));
    if (!node) throw std::runtime_error(node.error().what());
    return std::move(*node);
}

int set_quorum(std::span<const std::string> args) {
    if (args.size() != 4) usage_error("expects HOME PASSFILE GROUP K");
    auto node = open_home(args[0], args[1]);
    auto g = node->resolve_group(args[2]);
    if (!g) throw std::runtime_error(g.error().what());
    auto k = static_cast<std::uint32_t>(number(args[3], "K"));
    if (auto r = node->set_quorum(*g, k); !r) {
        std::cerr << r.error().what() << "\n";
        return 1;
    }
    return 0;
}

int approve(std::span<const std::string> args) {
    if (args.size() != 4) usage_error("expects HOME PASSFILE GROUP PREFIX");
    auto node = open_home(args[0], args[1]);
    auto g = node->resolve_group(args[2]);
    if (!g) throw std::runtime_error(g.error().what());
    auto waiting = node->pending(*g);
    if (!waiting) throw std::runtime_error(waiting.error().what());
    for (const auto& p : *waiting) {
        if (crypto::hex_encode(p.id).rfind(args[3], 0) != 0) continue;
        if (auto r = node->approve(*g, p.id); !r) {
            std::cerr << r.error().what() << "\n";
            return 1;
        }
        std::cout << "approved " << crypto::hex_encode(p.id) << "\n";
        return 0;
    }
    std::cerr << "no pending proposal starts with " << args[3] << "\n";
    return 1;
}

const Registration reg_quorum{
    {"set-quorum",
     "HOME PASSFILE GROUP K — sets the group's quorum, as an honest admin (Node::set_quorum)",
     set_quorum}};
const Registration reg_approve{
    {"approve",
     "HOME PASSFILE GROUP PREFIX — approves the pending proposal whose id starts with PREFIX, "
     "as an honest admin (Node::approve)",
     approve}};

}  // namespace
}  // namespace kolokol::adversary

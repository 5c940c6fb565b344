#pragma once
// White-box access to a Node's internals, for tests that forge or inspect records.

#include "kolokol/core/node.hpp"
#include "node_impl.hpp"

namespace kolokol::core {
struct NodeTestAccess {
    static Node::Impl& impl(Node& n) { return *n.m_impl; }
};
}  // namespace kolokol::core

#include "kolokol/transport/sync_error.hpp"

#include <string>

namespace kolokol::transport {

namespace {
struct SyncCategory : std::error_category {
    const char* name() const noexcept override { return "kolokol.sync"; }
    std::string message(int c) const override {
        switch (static_cast<SyncErrc>(c)) {
            case SyncErrc::protocol_violation:
                return KOLOKOL_TEXT("the peer broke the sync protocol");
            case SyncErrc::unopened_mailbox:
                return KOLOKOL_TEXT("the peer used a mailbox it did not open");
            case SyncErrc::limit_exceeded:
                return KOLOKOL_TEXT("the peer went past a sync limit");
            case SyncErrc::version_mismatch:
                return KOLOKOL_TEXT("the peer speaks another sync version");
            case SyncErrc::replica_failed:
                return KOLOKOL_TEXT("the local store failed during sync");
            case SyncErrc::peer_closed:
                return KOLOKOL_TEXT("the peer closed the session");
            case SyncErrc::invalid_key:
                return KOLOKOL_TEXT("a mailbox key does not match its mailbox");
            case SyncErrc::stopped:
                return KOLOKOL_TEXT("the sync was stopped");
            case SyncErrc::stalled:
                return KOLOKOL_TEXT("the connection stopped carrying data (frozen)");
            case SyncErrc::budget_spent:
                return KOLOKOL_TEXT("a short connection reached its byte budget");
        }
        return KOLOKOL_TEXT("unknown sync error");
    }
};
}  // namespace

const std::error_category& SyncErrc_category() {
    static SyncCategory category;
    return category;
}

}  // namespace kolokol::transport

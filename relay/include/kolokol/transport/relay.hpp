#pragma once
// Moved to kolokol/relay/relay.hpp (target kolokol_relay); this path keeps older includes working.

#include "kolokol/relay/relay.hpp"

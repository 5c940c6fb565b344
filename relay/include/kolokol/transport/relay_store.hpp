#pragma once
// Moved to kolokol/relay/relay_store.hpp (target kolokol_relay); this path keeps older includes
// working.

#include "kolokol/relay/relay_store.hpp"

#pragma once
// The temporary file an output (a sync file, a part of one, a backup) is written to before it is
// renamed into place, created as every output file is (storage/output_file.hpp), with the error
// in core's terms: `exists` when the name is taken, `io` otherwise.

#include <filesystem>

#include "kolokol/core/errors.hpp"
#include "kolokol/storage/error.hpp"
#include "kolokol/storage/output_file.hpp"

namespace kolokol::core {

inline Result<int> create_temp_output(const std::filesystem::path& tmp) {
    auto created = storage::create_output_temp(tmp);
    if (!created)
        return reclassify(
            make_error_code(created.error().code == storage::StorageErrc::exists ? CoreErrc::exists
                                                                                 : CoreErrc::io),
            created.error());
    return *created;
}

}  // namespace kolokol::core

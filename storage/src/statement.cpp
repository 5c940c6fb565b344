#include <sqlite3.h>

#include <utility>

#include "kolokol/storage/database.hpp"
#include "sqlite_error.hpp"

namespace kolokol::storage {

Statement::~Statement() {
    release();
}

Statement::Statement(Statement&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)),
      m_stmt(std::exchange(other.m_stmt, nullptr)),
      m_bind_error(std::exchange(other.m_bind_error, 0)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        release();
        m_db = std::exchange(other.m_db, nullptr);
        m_stmt = std::exchange(other.m_stmt, nullptr);
        m_bind_error = std::exchange(other.m_bind_error, 0);
    }
    return *this;
}

void Statement::release() {
    if (m_stmt != nullptr) sqlite3_finalize(m_stmt);
    m_stmt = nullptr;
    m_db = nullptr;
}

namespace {
// A zero-length bind with a null pointer would bind NULL; point at a real (empty) buffer.
constexpr char kEmpty[1] = {0};
}  // namespace

Statement& Statement::bind(int index, ByteView blob) {
    if (m_stmt == nullptr) return *this;
    const void* data = blob.empty() ? static_cast<const void*>(kEmpty) : blob.data();
    int rc = sqlite3_bind_blob64(m_stmt, index, data, blob.size(), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK && m_bind_error == 0) m_bind_error = rc;
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    if (m_stmt == nullptr) return *this;
    int rc = sqlite3_bind_int64(m_stmt, index, value);
    if (rc != SQLITE_OK && m_bind_error == 0) m_bind_error = rc;
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    if (m_stmt == nullptr) return *this;
    const char* data = text.empty() ? kEmpty : text.data();
    int rc = sqlite3_bind_text64(m_stmt, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK && m_bind_error == 0) m_bind_error = rc;
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (m_stmt == nullptr) return *this;
    int rc = sqlite3_bind_null(m_stmt, index);
    if (rc != SQLITE_OK && m_bind_error == 0) m_bind_error = rc;
    return *this;
}

Result<bool> Statement::step() {
    if (m_stmt == nullptr) return fail(StorageErrc::invalid_argument, "step: empty statement");
    if (m_bind_error != 0) {
        int rc = m_bind_error;
        return fail(StorageErrc::invalid_argument, "bind: {} in {}", sqlite3_errstr(rc),
                    sqlite3_sql(m_stmt));
    }
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Error err = detail::sqlite_error(m_db, rc, "step");
    // Make the statement usable again (the bindings stay).
    sqlite3_reset(m_stmt);
    return std::unexpected(std::move(err));
}

ByteView Statement::column_blob(int column) const {
    const void* data = sqlite3_column_blob(m_stmt, column);
    // Size after the pointer, as SQLite's documentation prescribes.
    int size = sqlite3_column_bytes(m_stmt, column);
    if (data == nullptr || size <= 0) return {};
    return {static_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)};
}

std::int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(m_stmt, column);
}

std::string Statement::column_text(int column) const {
    const unsigned char* data = sqlite3_column_text(m_stmt, column);
    int size = sqlite3_column_bytes(m_stmt, column);
    if (data == nullptr || size <= 0) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

void Statement::reset() {
    if (m_stmt == nullptr) return;
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    m_bind_error = 0;
}

}  // namespace kolokol::storage

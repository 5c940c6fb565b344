#include "tar_writer.hpp"

#include <archive_entry.h>

#include <memory>

#include "kolokol/bundle/error.hpp"

namespace kolokol::bundle::detail {

TarWriter::TarWriter(std::function<Status(ByteView)> out) : m_out(std::move(out)) {}

TarWriter::~TarWriter() {
    if (m_archive) archive_write_free(m_archive);
}

la_ssize_t TarWriter::on_write(struct archive*, void* self, const void* data, size_t n) {
    auto& w = *static_cast<TarWriter*>(self);
    if (auto st = w.m_out(ByteView(static_cast<const std::uint8_t*>(data), n)); !st) {
        w.m_error = st.error();
        return -1;
    }
    return static_cast<la_ssize_t>(n);
}

Status TarWriter::check(int rc, const char* what) {
    if (rc == ARCHIVE_OK) return {};
    if (m_error) return std::unexpected(*m_error);
    const char* msg = m_archive ? archive_error_string(m_archive) : nullptr;
    if (!msg) return fail(BundleErrc::io, "tar: {}", what);
    return fail(BundleErrc::io, "tar: {}: {}", what, std::string(msg));
}

Status TarWriter::open() {
    m_archive = archive_write_new();
    if (!m_archive) return fail(BundleErrc::io, "tar: out of memory");
    if (auto st = check(archive_write_set_format_pax_restricted(m_archive), "format"); !st)
        return st;
    // Unblocked: file data goes to the sink in the caller's pieces rather than being copied
    // into 10 KiB records first (the age layer does its own 64 KiB chunking). Readers need no
    // blocking; the archive still ends with the two zero records tar expects.
    if (auto st = check(archive_write_set_bytes_per_block(m_archive, 0), "blocking"); !st)
        return st;
    if (auto st = check(archive_write_open(m_archive, this, nullptr, &TarWriter::on_write, nullptr),
                        "open");
        !st)
        return st;
    m_open = true;
    return {};
}

Status TarWriter::begin(const std::string& path, std::uint64_t size, std::int64_t mtime_s) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        &archive_entry_free);
    if (!entry) return fail(BundleErrc::io, "tar: out of memory");
    // UTF-8 whatever the locale: names outside ASCII go into a pax header as UTF-8, which tar
    // and libarchive readers restore.
    archive_entry_set_pathname_utf8(entry.get(), path.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry.get(), static_cast<time_t>(mtime_s), 0);
    m_left = size;
    return check(archive_write_header(m_archive, entry.get()), "header");
}

Status TarWriter::write(ByteView data) {
    if (data.size() > m_left)
        return fail(BundleErrc::hash_mismatch, "tar: more bytes than the declared size");
    while (!data.empty()) {
        auto n = archive_write_data(m_archive, data.data(), data.size());
        if (n <= 0) {
            if (m_error) return std::unexpected(*m_error);
            return fail(BundleErrc::io, "tar: {}", archive_error_string(m_archive));
        }
        data = data.subspan(static_cast<std::size_t>(n));
        m_left -= static_cast<std::uint64_t>(n);
    }
    return {};
}

Status TarWriter::end() {
    if (m_left != 0)
        return fail(BundleErrc::hash_mismatch, "tar: fewer bytes than the declared size");
    return check(archive_write_finish_entry(m_archive), "finish entry");
}

Status TarWriter::close() {
    if (!m_open) return {};
    m_open = false;
    return check(archive_write_close(m_archive), "close");
}

Status TarWriter::add(const std::string& path, std::string_view content, std::int64_t mtime_s) {
    if (auto st = begin(path, content.size(), mtime_s); !st) return st;
    if (auto st = write(as_bytes(content)); !st) return st;
    return end();
}

}  // namespace kolokol::bundle::detail

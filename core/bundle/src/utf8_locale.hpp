#pragma once
// libarchive converts entry names through the C library's multibyte functions, in the calling
// thread's locale. Bundle names are UTF-8 (pax) whatever the user's locale, and in the "C"
// locale libarchive 3.6 can neither write a UTF-8 name (it crashes on the failed conversion)
// nor read one without a warning that stops the read. So the bundle's tar code runs with the
// thread's LC_CTYPE set to C.UTF-8 (glibc has it built in), restored when this goes out of
// scope. Only the calling thread is affected; without C.UTF-8 nothing changes.

#include <locale.h>

namespace kolokol::bundle::detail {

class Utf8Locale {
public:
    Utf8Locale() {
        // Made once and kept for the life of the process: freelocale while another thread
        // still uses it would be an error, and one locale object is all it costs.
        static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
        if (utf8) m_previous = uselocale(utf8);
    }
    ~Utf8Locale() {
        if (m_previous) uselocale(m_previous);
    }
    Utf8Locale(const Utf8Locale&) = delete;
    Utf8Locale& operator=(const Utf8Locale&) = delete;

private:
    locale_t m_previous = static_cast<locale_t>(0);
};

}  // namespace kolokol::bundle::detail

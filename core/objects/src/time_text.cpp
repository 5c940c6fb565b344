#include "kolokol/objects/time_text.hpp"

#include <cstdio>
#include <ctime>
#include <mutex>
#include <set>

#include "civil.hpp"
#include "kolokol/objects/values.hpp"

namespace kolokol::objects {

namespace {

using detail::Civil;
using detail::floor_div;

constexpr std::int32_t kMaxOffsetSeconds = 14 * 3600;

class CLibraryZone final : public TimeZone {
public:
    CLibraryZone() {
        static std::once_flag once;
        std::call_once(once, [] { tzset(); });
    }
    std::int32_t offset_at(std::int64_t unix_seconds) const override {
        const auto t = static_cast<std::time_t>(unix_seconds);
        std::tm tm{};
        if (!localtime_r(&t, &tm)) return 0;
        return static_cast<std::int32_t>(tm.tm_gmtoff);
    }
};

// A cursor over the text: every read either consumes what it names or leaves the position.
class Cursor {
public:
    explicit Cursor(std::string_view s) : m_s(s) {}
    bool done() const { return m_at == m_s.size(); }
    char peek() const { return done() ? '\0' : m_s[m_at]; }
    bool eat(char c) {
        if (peek() != c) return false;
        ++m_at;
        return true;
    }
    bool eat_word(std::string_view w) {
        if (m_s.substr(m_at, w.size()) != w) return false;
        m_at += w.size();
        return true;
    }
    // Between `min` and `max` digits; nullopt (and nothing consumed) when fewer than `min`.
    std::optional<int> number(std::size_t min, std::size_t max) {
        std::size_t n = 0;
        int v = 0;
        while (n < max && m_at + n < m_s.size() && m_s[m_at + n] >= '0' && m_s[m_at + n] <= '9') {
            v = v * 10 + (m_s[m_at + n] - '0');
            ++n;
        }
        if (n < min) return std::nullopt;
        m_at += n;
        return v;
    }
    std::size_t position() const { return m_at; }
    void rewind(std::size_t at) { m_at = at; }

private:
    std::string_view m_s;
    std::size_t m_at = 0;
};

struct Date {
    int year = 0, month = 0, day = 0;
};
struct Clock {
    int hour = 0, minute = 0, second = 0;
};

// "2026-12-05" or "5.12.2026".
std::optional<Date> read_date(Cursor& c) {
    const auto start = c.position();
    Date d;
    if (auto y = c.number(4, 4); y && c.eat('-')) {
        auto m = c.number(2, 2);
        if (m && c.eat('-')) {
            if (auto day = c.number(2, 2)) return Date{*y, *m, *day};
        }
        c.rewind(start);
        return std::nullopt;
    }
    c.rewind(start);
    auto day = c.number(1, 2);
    if (!day || !c.eat('.')) {
        c.rewind(start);
        return std::nullopt;
    }
    auto month = c.number(1, 2);
    if (!month || !c.eat('.')) {
        c.rewind(start);
        return std::nullopt;
    }
    auto year = c.number(4, 4);
    if (!year) {
        c.rewind(start);
        return std::nullopt;
    }
    d = {*year, *month, *day};
    return d;
}

// "10:05", "9:30", "10:05:30", "10:05:30.250".
std::optional<Clock> read_clock(Cursor& c) {
    const auto start = c.position();
    auto h = c.number(1, 2);
    if (!h || !c.eat(':')) {
        c.rewind(start);
        return std::nullopt;
    }
    auto m = c.number(2, 2);
    if (!m) {
        c.rewind(start);
        return std::nullopt;
    }
    Clock k{*h, *m, 0};
    if (c.eat(':')) {
        auto s = c.number(2, 2);
        if (!s) {
            c.rewind(start);
            return std::nullopt;
        }
        k.second = *s;
        if (c.eat('.') || c.eat(',')) {
            if (!c.number(1, 9)) {
                c.rewind(start);
                return std::nullopt;
            }
        }
    }
    return k;
}

// "Z", "UTC", "GMT", "+03:00", "+0300", "+03", after at most one space. The offset in seconds,
// or std::nullopt when there is no zone; an unexpected zone-like ending fails the whole text.
struct Zone {
    bool present = false;
    std::int32_t offset = 0;
};
std::expected<Zone, TimeProblem> read_zone(Cursor& c) {
    const auto start = c.position();
    c.eat(' ');
    if (c.done()) {
        c.rewind(start);
        return Zone{};
    }
    if (c.eat('Z') || c.eat('z') || c.eat_word("UTC") || c.eat_word("GMT")) return Zone{true, 0};
    const char sign = c.peek();
    if (sign != '+' && sign != '-') return std::unexpected(TimeProblem::not_a_time);
    c.eat(sign);
    auto hours = c.number(2, 2);
    if (!hours) return std::unexpected(TimeProblem::not_a_time);
    int minutes = 0;
    if (c.eat(':')) {
        auto m = c.number(2, 2);
        if (!m) return std::unexpected(TimeProblem::not_a_time);
        minutes = *m;
    } else if (auto m = c.number(2, 2)) {
        minutes = *m;
    }
    if (minutes > 59) return std::unexpected(TimeProblem::no_such_date);
    const std::int32_t off = *hours * 3600 + minutes * 60;
    if (off > kMaxOffsetSeconds) return std::unexpected(TimeProblem::no_such_date);
    return Zone{true, sign == '-' ? -off : off};
}

bool real_date(const Date& d) {
    return d.month >= 1 && d.month <= 12 && d.day >= 1 &&
           d.day <= detail::days_in_month(d.year, d.month);
}

bool real_clock(const Clock& k) {
    return k.hour <= 23 && k.minute <= 59 && k.second <= 59;
}

std::int64_t civil_seconds(const Date& d, const Clock& k) {
    return detail::days_from_civil(d.year, static_cast<unsigned>(d.month),
                                   static_cast<unsigned>(d.day)) *
               86400 +
           k.hour * 3600 + k.minute * 60 + k.second;
}

Date date_of(std::int64_t local_seconds) {
    const Civil c = detail::civil_from_days(floor_div(local_seconds, 86400));
    return {static_cast<int>(c.year), static_cast<int>(c.month), static_cast<int>(c.day)};
}

// The instant a wall-clock time names in `zone`: offsets never exceed a day, so the offsets in
// force a day either side cover every candidate; each candidate is kept if the zone agrees.
std::expected<std::int64_t, TimeProblem> resolve_local(std::int64_t civil, const TimeZone& zone) {
    std::set<std::int64_t> found;
    for (std::int64_t probe : {civil - 86400, civil, civil + 86400}) {
        const std::int64_t t = civil - zone.offset_at(probe);
        if (t + zone.offset_at(t) == civil) found.insert(t);
    }
    if (found.empty()) return std::unexpected(TimeProblem::skipped);
    if (found.size() > 1) return std::unexpected(TimeProblem::ambiguous);
    return *found.begin();
}

struct Parts {
    std::int64_t civil = 0;  // the wall-clock time as if it were UTC
    Zone zone;
};

std::string two(int v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d", v);
    return buf;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

}  // namespace

const TimeZone& local_zone() {
    static const CLibraryZone zone;
    return zone;
}

std::expected<std::int64_t, TimeProblem> parse_time_text(std::string_view text,
                                                         std::int64_t now_unix,
                                                         const TimeZone& zone) {
    text = trim(text);
    // Longer than any accepted form: refused before it is looked at.
    if (text.empty() || text.size() > 48) return std::unexpected(TimeProblem::not_a_time);
    if (text == "now") return now_unix;
    Cursor c(text);
    auto date = read_date(c);
    std::optional<Clock> clock;
    if (date) {
        if (!c.done()) {
            // The separator: 'T', or spaces.
            if (!c.eat('T') && !c.eat('t')) {
                if (!c.eat(' ')) return std::unexpected(TimeProblem::not_a_time);
                while (c.eat(' ')) {
                }
            }
            clock = read_clock(c);
            if (!clock) return std::unexpected(TimeProblem::not_a_time);
        }
    } else {
        clock = read_clock(c);
        if (!clock) return std::unexpected(TimeProblem::not_a_time);
    }
    Zone z;
    if (clock) {
        auto read = read_zone(c);
        if (!read) return std::unexpected(read.error());
        z = *read;
    }
    if (!c.done()) return std::unexpected(TimeProblem::not_a_time);
    const Clock k = clock.value_or(Clock{});
    if (!real_clock(k)) return std::unexpected(TimeProblem::no_such_date);
    Date d;
    if (date) {
        d = *date;
        if (d.year < kMinYear || d.year > kMaxYear)
            return std::unexpected(TimeProblem::out_of_range);
        if (!real_date(d)) return std::unexpected(TimeProblem::no_such_date);
    } else {
        // Today, where the time is meant: at the given offset, or in the zone.
        const std::int32_t off = z.present ? z.offset : zone.offset_at(now_unix);
        d = date_of(now_unix + off);
    }
    const std::int64_t civil = civil_seconds(d, k);
    std::int64_t t = 0;
    if (z.present) {
        t = civil - z.offset;
    } else {
        auto r = resolve_local(civil, zone);
        if (!r) return r;
        t = *r;
    }
    if (!format_datetime(t)) return std::unexpected(TimeProblem::out_of_range);
    return t;
}

std::expected<std::string, TimeProblem> time_text_to_field(std::string_view text,
                                                           std::int64_t now_unix,
                                                           const TimeZone& zone) {
    auto t = parse_time_text(text, now_unix, zone);
    if (!t) return std::unexpected(t.error());
    auto s = format_datetime(*t);
    if (!s) return std::unexpected(TimeProblem::out_of_range);
    return *s;
}

namespace {

struct LocalParts {
    Date date;
    Clock clock;
    std::int32_t offset = 0;
};

LocalParts local_parts(std::int64_t t, const TimeZone& zone) {
    LocalParts p;
    p.offset = zone.offset_at(t);
    const std::int64_t local = t + p.offset;
    p.date = date_of(local);
    const std::int64_t secs = local - floor_div(local, 86400) * 86400;
    p.clock = {static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
               static_cast<int>(secs % 60)};
    return p;
}

std::string offset_text(std::int32_t offset) {
    const char sign = offset < 0 ? '-' : '+';
    const std::int32_t a = offset < 0 ? -offset : offset;
    return std::string(1, sign) + two(a / 3600) + ":" + two(a / 60 % 60);
}

std::string date_text(const Date& d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
    return buf;
}

}  // namespace

std::string format_local(std::int64_t unix_seconds, const TimeZone& zone) {
    const auto p = local_parts(unix_seconds, zone);
    return date_text(p.date) + " " + two(p.clock.hour) + ":" + two(p.clock.minute);
}

std::string format_offset(std::int64_t unix_seconds, const TimeZone& zone) {
    return offset_text(zone.offset_at(unix_seconds));
}

std::string format_rfc3339(std::int64_t unix_seconds, const TimeZone& zone) {
    const auto p = local_parts(unix_seconds, zone);
    return date_text(p.date) + "T" + two(p.clock.hour) + ":" + two(p.clock.minute) + ":" +
           two(p.clock.second) + offset_text(p.offset);
}

std::int64_t seconds_of_ms(std::int64_t ms) {
    return floor_div(ms, 1000);
}

std::optional<std::string> field_time_in(std::string_view stored, const TimeZone& zone,
                                         bool rfc3339) {
    auto t = parse_datetime(stored);
    if (!t) return std::nullopt;
    return rfc3339 ? format_rfc3339(*t, zone) : format_local(*t, zone);
}

}  // namespace kolokol::objects

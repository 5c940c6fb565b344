#pragma once
// Times as people type and read them (DESIGN §13.2). An object stores an instant in one form,
// "YYYY-MM-DDTHH:MM:SSZ" (values.hpp); people type wall-clock times in their own zone, often
// without a date, and read times in their own zone. This is the one parser and the one formatter
// for every command, the chat and the case summary, so that "10:05" typed in Moscow is stored as
// 07:05Z and shown as 10:05 again to a reader in Moscow.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace kolokol::objects {

// A time zone as far as these functions need one: the offset from UTC in force at an instant.
// Implementations are pure functions of the instant and safe to call from several threads.
class TimeZone {
public:
    virtual ~TimeZone() = default;
    // Seconds east of UTC in force at `unix_seconds` (Moscow: +10800, New York in winter:
    // -18000).
    virtual std::int32_t offset_at(std::int64_t unix_seconds) const = 0;
};

// The process's zone as the C library knows it: TZ, else /etc/localtime, else UTC. Read once,
// on the first call.
const TimeZone& local_zone();

// One fixed offset for all time (UTC is FixedZone(0)); also what an explicit "+03:00" means.
class FixedZone final : public TimeZone {
public:
    explicit FixedZone(std::int32_t offset_seconds) : m_offset(offset_seconds) {}
    std::int32_t offset_at(std::int64_t) const override { return m_offset; }

private:
    std::int32_t m_offset;
};

// Why a text is not a time. Front ends turn these into messages in the user's language.
enum class TimeProblem : std::uint8_t {
    not_a_time,    // none of the accepted forms
    no_such_date,  // the form is right but the date or time is not (31.02, 24:00, +15:00)
    out_of_range,  // before 1900 or after 2200 (the stored form's range)
    skipped,       // a local time the clocks jumped over (the spring change to summer time)
    ambiguous,     // a local time that happened twice (the autumn change): give the offset
};

// Parses a time as people type it, and returns seconds since 1970-01-01T00:00:00Z. Accepted,
// with ASCII spaces around ignored:
//   2026-12-05                 midnight at the start of that day
//   2026-12-05 10:05           also with 'T' for the space, and with seconds (10:05:30, and
//   2026-12-05T10:05:30.250    a fraction, which is dropped)
//   05.12.2026 [10:05[:30]]    day.month.year, as typed in Russia and much of Europe; the day
//                              and month may have one digit
//   10:05[:30]                 today (by `now_unix` in the zone that applies)
//   now
// A date with a time, or a time alone, may end in a zone: "Z", "UTC", "GMT", or an offset
// "+03:00", "+0300", "+03", "-05:00" (at most 14 hours), after an optional space. Without one,
// the time is a wall-clock time in `zone`; a wall-clock time that did not exist there (skipped)
// or existed twice (ambiguous) is refused rather than guessed.
std::expected<std::int64_t, TimeProblem> parse_time_text(std::string_view text,
                                                         std::int64_t now_unix,
                                                         const TimeZone& zone);

// The same, returned in the stored form ("2026-12-05T07:05:00Z"), ready for a datetime field.
std::expected<std::string, TimeProblem> time_text_to_field(std::string_view text,
                                                           std::int64_t now_unix,
                                                           const TimeZone& zone);

// "2026-12-05 10:05": the wall-clock time in `zone`, to the minute. What tables and lists show.
std::string format_local(std::int64_t unix_seconds, const TimeZone& zone);
// "+03:00", "-05:00", "+00:00": the offset in force at that instant.
std::string format_offset(std::int64_t unix_seconds, const TimeZone& zone);
// "2026-12-05T10:05:00+03:00": RFC 3339 in `zone`, with its offset. What --json shows.
std::string format_rfc3339(std::int64_t unix_seconds, const TimeZone& zone);
// Milliseconds (a record's wall clock) to seconds, rounding down also before 1970.
std::int64_t seconds_of_ms(std::int64_t ms);

// A stored datetime field value ("2026-12-05T07:05:00Z") shown in `zone`: format_local, or with
// `rfc3339` format_rfc3339. nullopt when the value is not in the stored form.
std::optional<std::string> field_time_in(std::string_view stored, const TimeZone& zone,
                                         bool rfc3339 = false);

}  // namespace kolokol::objects

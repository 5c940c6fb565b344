#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>

#include "kolokol/objects/time_text.hpp"
#include "kolokol/objects/values.hpp"

using namespace kolokol;
using namespace kolokol::objects;

namespace {

// 2026-12-05T12:00:00Z, a Saturday.
constexpr std::int64_t kNow = 1796472000;
const FixedZone kMoscow(3 * 3600);
const FixedZone kNewYork(-5 * 3600);
const FixedZone kUtc(0);

// A zone with summer time: +01:00, and +02:00 from 2026-03-29T01:00:00Z to
// 2026-10-25T01:00:00Z (the EU rule for that year), so 02:30 on 29 March never happens there
// and 02:30 on 25 October happens twice.
class SummerZone final : public TimeZone {
public:
    std::int32_t offset_at(std::int64_t t) const override {
        static const std::int64_t kStart = *parse_datetime("2026-03-29T01:00:00Z");
        static const std::int64_t kEnd = *parse_datetime("2026-10-25T01:00:00Z");
        return t >= kStart && t < kEnd ? 7200 : 3600;
    }
};

std::string stored(std::string_view text, const TimeZone& zone, std::int64_t now = kNow) {
    auto t = time_text_to_field(text, now, zone);
    return t ? *t : "error " + std::to_string(static_cast<int>(t.error()));
}

}  // namespace

TEST_CASE("a wall-clock time without a zone is local: 10:05 in Moscow is 07:05Z") {
    CHECK(stored("2026-12-05 10:05", kMoscow) == "2026-12-05T07:05:00Z");
    CHECK(stored("2026-12-05T10:05", kMoscow) == "2026-12-05T07:05:00Z");
    CHECK(stored("2026-12-05T10:05:30", kMoscow) == "2026-12-05T07:05:30Z");
    CHECK(stored("2026-12-05 10:05", kNewYork) == "2026-12-05T15:05:00Z");
    CHECK(stored("2026-12-05 10:05", kUtc) == "2026-12-05T10:05:00Z");
    // Date only: the start of that day where the user is.
    CHECK(stored("2026-12-05", kMoscow) == "2026-12-04T21:00:00Z");
    CHECK(stored("2026-12-05", kNewYork) == "2026-12-05T05:00:00Z");
    // Time only: today, by the clock given, in the user's zone.
    CHECK(stored("10:05", kMoscow) == "2026-12-05T07:05:00Z");
    CHECK(stored("9:30", kMoscow) == "2026-12-05T06:30:00Z");
    // 23:30 in New York at 12:00Z is still 5 December there.
    CHECK(stored("23:30", kNewYork) == "2026-12-06T04:30:00Z");
    // At 22:30Z it is already 6 December in Moscow: "today" is the 6th there.
    CHECK(stored("01:15", kMoscow, kNow + 10 * 3600 + 1800) == "2026-12-05T22:15:00Z");
    CHECK(stored("now", kMoscow) == "2026-12-05T12:00:00Z");
}

TEST_CASE("offsets and Z are taken as written, whatever the local zone") {
    CHECK(stored("2026-12-05T10:05+03:00", kNewYork) == "2026-12-05T07:05:00Z");
    CHECK(stored("2026-12-05T10:05:00+03:00", kUtc) == "2026-12-05T07:05:00Z");
    CHECK(stored("2026-12-05 10:05 +0300", kUtc) == "2026-12-05T07:05:00Z");
    CHECK(stored("2026-12-05 10:05+03", kUtc) == "2026-12-05T07:05:00Z");
    CHECK(stored("2026-12-05T10:05-05:00", kMoscow) == "2026-12-05T15:05:00Z");
    CHECK(stored("2026-12-05T10:05+05:30", kMoscow) == "2026-12-05T04:35:00Z");
    CHECK(stored("2026-12-05T10:05Z", kMoscow) == "2026-12-05T10:05:00Z");
    CHECK(stored("2026-12-05T10:05:00Z", kMoscow) == "2026-12-05T10:05:00Z");
    CHECK(stored("2026-12-05 10:05 UTC", kMoscow) == "2026-12-05T10:05:00Z");
    CHECK(stored("2026-12-05T10:05:00.123Z", kMoscow) == "2026-12-05T10:05:00Z");
    CHECK(stored("10:05Z", kMoscow) == "2026-12-05T10:05:00Z");
    CHECK(stored("10:05+03:00", kNewYork) == "2026-12-05T07:05:00Z");
    // The stored form reads back as itself.
    CHECK(stored("1900-01-01T00:00:00Z", kMoscow) == "1900-01-01T00:00:00Z");
}

TEST_CASE("day.month.year as typed in Russia") {
    CHECK(stored("05.12.2026", kMoscow) == "2026-12-04T21:00:00Z");
    CHECK(stored("05.12.2026 10:05", kMoscow) == "2026-12-05T07:05:00Z");
    CHECK(stored("5.12.2026 10:05", kMoscow) == "2026-12-05T07:05:00Z");
    CHECK(stored("5.1.2027 8:00", kMoscow) == "2027-01-05T05:00:00Z");
    CHECK(stored("  05.12.2026   10:05:30  ", kMoscow) == "2026-12-05T07:05:30Z");
}

TEST_CASE("what is not a time is refused with the reason") {
    auto problem = [](std::string_view text, const TimeZone& zone = kMoscow) {
        auto t = parse_time_text(text, kNow, zone);
        REQUIRE_FALSE(t.has_value());
        return t.error();
    };
    for (const char* bad : {"",
                            " ",
                            "tomorrow",
                            "2026",
                            "2026-12",
                            "2026-12-5",
                            "2026/12/05",
                            "12/05/2026",
                            "05.12",
                            "05.12.26",
                            "2026-12-05T",
                            "2026-12-05T10",
                            "2026-12-05 10:5",
                            "10",
                            "10:",
                            "10:05:",
                            "10:05:3",
                            "2026-12-05 10:05 MSK",
                            "2026-12-05 10:05+3",
                            "2026-12-05 10:05 +03:00 x",
                            "2026-12-05+03:00",
                            "１０:05",
                            "10:05\n",
                            "2026-12-05T10:05:00.Z",
                            "-2026-12-05",
                            "now please"})
        CHECK_MESSAGE(problem(bad) == TimeProblem::not_a_time, bad);
    for (const char* bad :
         {"2026-02-29", "2026-13-01", "2026-12-32", "31.02.2026", "0.1.2026", "24:00", "10:60",
          "10:05:60", "2026-12-05T10:05+14:01", "2026-12-05T10:05+03:60"})
        CHECK_MESSAGE(problem(bad) == TimeProblem::no_such_date, bad);
    CHECK(parse_time_text("2028-02-29", kNow, kMoscow).has_value());  // a leap year is fine
    CHECK(problem("1899-12-31") == TimeProblem::out_of_range);
    CHECK(problem("3000-01-01") == TimeProblem::out_of_range);
    CHECK(problem("2200-12-31T23:30-05:00", kUtc) == TimeProblem::out_of_range);
    CHECK(problem(std::string(100, '1')) == TimeProblem::not_a_time);
}

TEST_CASE("a local time the clocks skipped or repeated is refused, not guessed") {
    const SummerZone zone;
    auto problem = [&](std::string_view text) {
        auto t = parse_time_text(text, kNow, zone);
        return t ? std::optional<TimeProblem>{} : std::optional<TimeProblem>{t.error()};
    };
    CHECK(problem("2026-03-29 02:30") == TimeProblem::skipped);
    CHECK(problem("2026-10-25 02:30") == TimeProblem::ambiguous);
    // Either side of a change, and with the offset given, all is clear.
    CHECK(stored("2026-03-29 01:59", zone) == "2026-03-29T00:59:00Z");
    CHECK(stored("2026-03-29 03:00", zone) == "2026-03-29T01:00:00Z");
    CHECK(stored("2026-10-25 02:30+02:00", zone) == "2026-10-25T00:30:00Z");
    CHECK(stored("2026-10-25 02:30+01:00", zone) == "2026-10-25T01:30:00Z");
    CHECK(stored("2026-07-01 12:00", zone) == "2026-07-01T10:00:00Z");
    CHECK(stored("2026-12-01 12:00", zone) == "2026-12-01T11:00:00Z");
}

TEST_CASE("times are shown in the reader's zone, and RFC 3339 carries the offset") {
    const auto t = *parse_datetime("2026-12-05T07:05:00Z");
    CHECK(format_local(t, kMoscow) == "2026-12-05 10:05");
    CHECK(format_local(t, kNewYork) == "2026-12-05 02:05");
    CHECK(format_rfc3339(t, kMoscow) == "2026-12-05T10:05:00+03:00");
    CHECK(format_rfc3339(t, kNewYork) == "2026-12-05T02:05:00-05:00");
    CHECK(format_rfc3339(t, kUtc) == "2026-12-05T07:05:00+00:00");
    CHECK(format_rfc3339(t, FixedZone(5 * 3600 + 1800)) == "2026-12-05T12:35:00+05:30");
    CHECK(format_offset(t, kNewYork) == "-05:00");
    CHECK(field_time_in("2026-12-05T07:05:00Z", kMoscow) == "2026-12-05 10:05");
    CHECK(field_time_in("2026-12-05T07:05:00Z", kMoscow, true) == "2026-12-05T10:05:00+03:00");
    CHECK_FALSE(field_time_in("10:05", kMoscow));
    // Before 1970 and across midnight backwards.
    CHECK(format_rfc3339(-1, kUtc) == "1969-12-31T23:59:59+00:00");
    CHECK(seconds_of_ms(-1) == -1);
    CHECK(seconds_of_ms(1999) == 1);
    // What is shown parses back to the same instant.
    for (std::int64_t s : {std::int64_t{0}, t, t + 59, *parse_datetime("1900-01-01T06:00:00Z")}) {
        CHECK(parse_time_text(format_rfc3339(s, kMoscow), kNow, kUtc) == s);
        CHECK(parse_time_text(format_rfc3339(s, kNewYork), kNow, kMoscow) == s);
    }
}

TEST_CASE("the process zone follows TZ") {
    const char* old = std::getenv("TZ");
    const std::string saved = old ? old : "";
    setenv("TZ", "Europe/Moscow", 1);
    tzset();
    const auto t = *parse_datetime("2026-12-05T07:05:00Z");
    CHECK(local_zone().offset_at(t) == 3 * 3600);
    CHECK(stored("2026-12-05 10:05", local_zone()) == "2026-12-05T07:05:00Z");
    setenv("TZ", "America/New_York", 1);
    tzset();
    CHECK(local_zone().offset_at(t) == -5 * 3600);
    CHECK(local_zone().offset_at(*parse_datetime("2026-07-01T12:00:00Z")) == -4 * 3600);
    // 2:30 on 8 March 2026 does not exist in New York (clocks go from 2:00 to 3:00).
    CHECK(parse_time_text("2026-03-08 02:30", kNow, local_zone()) ==
          std::unexpected(TimeProblem::skipped));
    if (old)
        setenv("TZ", saved.c_str(), 1);
    else
        unsetenv("TZ");
    tzset();
}

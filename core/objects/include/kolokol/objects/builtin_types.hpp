#pragma once
// The built-in object types (DESIGN §6): event, task, case, contact, report, alert.
//
//   event   title, starts, ends, place, roles, status(planned|confirmed|cancelled|done)
//           rsvp[]        {member, answer*(yes|no|maybe), role}
//   task    title, assignee, due, status(open|done), count, target
//           progress[]    {count*, note}
//   case    person, alias, detained_at, detained_where, charges, lawyer,
//           status(detained|charged|in_court|sentenced|released|closed)
//           timeline[]    {text*, at}
//           ledger[]      {amount*, currency*, direction*(pledged|received|paid), purpose}
//           attachments[] {manifest*, name}
//   contact name, role(lawyer|journalist|medic|other), reach, vetted_by, status(active|removed)
//           vetting[]     {verdict*(vouch|doubt|withdraw), note}
//   report  place, at, category, text
//           attachments[] {manifest*, name}
//   alert   text, urgency(normal|urgent|critical), status(open|resolved)
//
// Defaults written by a create that sets none: event status planned, task status open, case
// status detained, alert urgency urgent. A contact's and an alert's status have none, so that
// creates stay readable by versions without those fields: unset means active and open (see
// is_active in views.hpp). A task's count is derived from its progress items (task_count).
// (* = required in a list item.) The table lives in builtin_types.cpp; adding a type is one
// entry there.

#include "kolokol/objects/schema.hpp"

namespace kolokol::objects {

inline constexpr std::string_view kEvent = "event";
inline constexpr std::string_view kTask = "task";
inline constexpr std::string_view kCase = "case";
inline constexpr std::string_view kContact = "contact";
inline constexpr std::string_view kReport = "report";
inline constexpr std::string_view kAlert = "alert";

// A registry holding exactly the built-in types. Built once; safe to share between threads.
const TypeRegistry& builtin_types();

}  // namespace kolokol::objects

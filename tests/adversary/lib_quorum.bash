# Helpers for the quorum attacks (docs/design.md §5.10, §5.11), sourced after lib.bash,
# lib_adversary.bash and lib_tokens.bash, with a relay started and the members made.

# quorum_scene "ADMINS" "MEMBERS" [K]: Anna creates $G on the relay, makes each of ADMINS an
# admin and invites each of MEMBERS, sets the quorum to K (2 by default), and everyone syncs.
quorum_scene() {
  local w
  as anna group create "$G" >/dev/null
  as anna group relay add "$G" "$RELAY" >/dev/null
  for w in $1; do
    as "$w" group join "$(as anna group add "$G" "$(card_of "$w")" --admin 2>/dev/null)" >/dev/null
  done
  for w in $2; do invite anna "$w"; done
  as anna group quorum "$G" "${3:-2}" >/dev/null 2>&1
  for w in anna $1 $2 anna; do as "$w" sync >/dev/null 2>&1 || true; done
}

# members_of WHO: WHO's members of $G, one a line, sorted, " admin" after each admin's name.
members_of() {
  as "$1" group members "$G" --json |
    python3 -c 'import json,sys; print("\n".join(sorted(m["name"] + (" admin" if m["admin"] else "") for m in json.load(sys.stdin))))'
}

# pending_json WHO: the proposals waiting at WHO, as JSON.
pending_json() { as "$1" group pending "$G" --json; }

#!/usr/bin/env bash
# Regenerates po/kolokol.pot from every user-facing string — in cli/src the _(), N_() and P_()
# markers of cli/src/i18n.hpp; in the libraries (core, envelope, storage, transport, relay) the
# messages of fail() and make_error(), and KOLOKOL_TEXT() (see
# core/crypto/include/kolokol/crypto/error.hpp)
# — and merges it into each language's .po, so new strings show up there untranslated (and
# changed ones fuzzy) for a translator to finish.
#   po/update.sh            regenerate kolokol.pot and merge into every LANG.po
#   po/update.sh --pot OUT  only write the template to OUT (used by the completeness test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/kolokol.pot"
merge=1
if [ "${1:-}" = "--pot" ]; then out=$2; merge=0; fi
cd "$root"
mapfile -t sources < <(find cli/src -name '*.cpp' -o -name '*.hpp' | LC_ALL=C sort)
mapfile -t libraries < <(find core envelope storage transport relay \( -name '*.cpp' -o -name '*.hpp' \) \
  ! -path '*/crypto/include/kolokol/crypto/error.hpp' | LC_ALL=C sort)
common=(--language=C++ --from-code=UTF-8 --add-comments=TRANSLATORS: --package-name=kolokol
  --msgid-bugs-address= --sort-by-file)
xgettext "${common[@]}" --keyword=_ --keyword=N_ --keyword=P_:1,2 -o "$out" "${sources[@]}"
# The libraries' messages: fail(code, "…"), make_error(code, "…"), KOLOKOL_TEXT("…") and the
# SOCKS5 dialer's connect_error("…"). -k alone drops the default keywords (gettext and friends).
xgettext "${common[@]}" -k --keyword=fail:2 --keyword=make_error:2 --keyword=KOLOKOL_TEXT \
  --keyword=connect_error:1 --join-existing -o "$out" "${libraries[@]}"
# The template's creation date changes on every run; keep the file stable when nothing else did.
sed -i '/^"POT-Creation-Date:/d' "$out"
if [ "$merge" = 1 ]; then
  while read -r lang; do
    [ -n "$lang" ] || continue
    msgmerge --quiet --update --backup=none --no-fuzzy-matching "$here/$lang.po" "$out"
    # Strings gone from the sources leave the catalogue too.
    msgattrib --no-obsolete -o "$here/$lang.po" "$here/$lang.po"
  done < "$here/LINGUAS"
fi

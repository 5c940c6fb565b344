#!/usr/bin/env bash
# Regenerates po/kolokol.pot from every user-facing string in cli/src (the _(), N_() and P_()
# markers of cli/src/i18n.hpp) and merges it into each language's .po, so new strings show up
# there untranslated (and changed ones fuzzy) for a translator to finish.
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
xgettext --language=C++ --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=P_:1,2 \
  --add-comments=TRANSLATORS: --package-name=kolokol --msgid-bugs-address= \
  --sort-by-file -o "$out" "${sources[@]}"
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

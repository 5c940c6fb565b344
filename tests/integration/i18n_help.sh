# Help that teaches: every command and subcommand's --help shows a real example (a line
# "  kolokol …"), in English and in Russian, and `kolokol` alone tells a newcomer the next step.
source "$(dirname "$0")/lib.bash"
export LC_ALL=C.UTF-8
unset LANGUAGE LC_MESSAGES

checked=0
missing=()
# walk LANG CMD… — checks CMD's help, then each subcommand it lists.
walk() {
  local lang=$1; shift
  local out
  out=$(LANG=$lang LC_ALL=$lang "$KOLOKOL" "$@" --help 2>&1) || fail "kolokol $* --help failed: $out"
  checked=$((checked + 1))
  grep -qE '^  kolokol [a-z-]' <<<"$out" || missing+=("[$lang] kolokol $*")
  # Subcommands are listed under the (translated) "Subcommands:" heading, one per line.
  local heading subs s
  heading=$([ "$lang" = ru_RU.UTF-8 ] && echo "Команды:" || echo "Subcommands:")
  subs=$(awk -v h="$heading" '$0 == h {f = 1; next} /^$/ {f = 0} f && /^  [a-z]/ {print $1}' <<<"$out")
  for s in $subs; do walk "$lang" "$@" "$s"; done
}
walk C.UTF-8
english=$checked
[ "$english" -ge 40 ] || fail "only $english commands found: the walk is broken"
walk ru_RU.UTF-8
[ "$checked" -eq $((2 * english)) ] || fail "Russian help lists other commands than English ($checked vs $english)"
((${#missing[@]} == 0)) || fail "commands whose --help has no example:
$(printf '  %s\n' "${missing[@]}")"
echo "ok: all $english commands show an example, in English and Russian"

out=$("$KOLOKOL")
grep -qF 'Next step: `kolokol init`' <<<"$out" || fail "kolokol alone does not say what to do next: $out"
echo "ok: kolokol alone names the next step"

# The man page and docs/exit-codes.md document every exit code the CLI defines.
root=$(cd "$(dirname "$0")/../.." && pwd)
codes=$(sed -n '/enum class Exit/,/};/p' "$root/cli/src/app.hpp" | grep -oE '= [0-9]+' | tr -dc '0-9\n')
[ -n "$codes" ] || fail "no exit codes found in cli/src/app.hpp"
for c in $codes; do
  grep -qx "\.B $c" "$root/docs/man/kolokol.1" || fail "the man page does not document exit code $c"
  grep -qE "^\| $c \|" "$root/docs/exit-codes.md" || fail "docs/exit-codes.md does not document exit code $c"
done
echo "ok: the man page and docs/exit-codes.md document exit codes $(echo $codes)"

# Bash completion offers every top-level command the binary has, and a command's subcommands.
source "$root/completion/kolokol.bash"
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _kolokol; printf '%s\n' "${COMPREPLY[@]}"; }
top=$(complete_words kolokol "")
cmds=$("$KOLOKOL" --help | awk '/^Subcommands:$/ {f = 1; next} /^$/ {f = 0} f && /^  [a-z]/ {print $1}')
for c in $cmds; do
  grep -qx "$c" <<<"$top" || fail "bash completion does not offer the command $c"
done
grep -qx rotate <<<"$(complete_words kolokol group "")" || fail "bash completion lacks group subcommands"
grep -qx history <<<"$(complete_words kolokol case "")" || fail "bash completion lacks case subcommands"
echo "ok: bash completion offers all $(wc -w <<<"$cmds") commands and their subcommands"

#!/usr/bin/env python3
"""po/mark_strings.py FILE... — the mechanical half of a translation sweep: wraps the plain
string-literal arguments of CLI11 help calls (add_subcommand, add_option, add_flag, footer,
description) and of CommandError in _(), in place, adding #include "i18n.hpp" where needed.
Prints what it wrapped. Messages built by concatenation are left alone: rewrite those by hand
as subst(_("... {} ..."), value) so translators can move the values."""
import re, sys

CALLS = {  # name: list of arg indices that are user-facing text
    'add_subcommand': [1], 'add_option': [2], 'add_flag': [1, 2], 'footer': [0],
    'description': [0], 'CommandError': [1], 'add_option_group': [1],
}

def lex_args(s, i):
    """s[i] is '('. Returns (list of (start,end) for each arg, index after ')')."""
    depth = 0; args = []; start = i + 1; j = i
    while j < len(s):
        c = s[j]
        if c == '"':
            j += 1
            while s[j] != '"':
                if s[j] == '\\': j += 1
                j += 1
        elif c == "'":
            j += 1
            while s[j] != "'":
                if s[j] == '\\': j += 1
                j += 1
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                args.append((start, j)); return args, j + 1
        elif c == ',' and depth == 1:
            args.append((start, j)); start = j + 1
        j += 1
    return None, j

LIT = re.compile(r'\s*("(?:[^"\\]|\\.)*"\s*)+$', re.S)

def process(text):
    out = []; pos = 0; changed = []
    pat = re.compile(r'\b(' + '|'.join(CALLS) + r')\s*\(')
    edits = []
    for m in pat.finditer(text):
        name = m.group(1)
        args, end = lex_args(text, m.end() - 1)
        if not args: continue
        idxs = CALLS[name]
        if name == 'add_flag':
            idxs = [len(args) - 1] if len(args) >= 2 else []
        for k in idxs:
            if k >= len(args): continue
            a, b = args[k]
            seg = text[a:b]
            if LIT.match(seg) and seg.strip() != '""':
                lead = len(seg) - len(seg.lstrip())
                trail = len(seg) - len(seg.rstrip())
                edits.append((a + lead, b - trail))
    for a, b in sorted(edits, reverse=True):
        changed.append(text[a:b][:70].replace('\n', ' '))
        text = text[:a] + '_(' + text[a:b] + ')' + text[b:]
    return text, changed

for path in sys.argv[1:]:
    src = open(path).read()
    new, changed = process(src)
    if new != src:
        if '#include "i18n.hpp"' not in new:
            # after the last #include line
            lines = new.split('\n')
            last = max(i for i, l in enumerate(lines) if l.startswith('#include'))
            lines.insert(last + 1, '#include "i18n.hpp"')
            new = '\n'.join(lines)
        open(path, 'w').write(new)
    print(path, len(changed))
    for c in changed: print('   ', c)

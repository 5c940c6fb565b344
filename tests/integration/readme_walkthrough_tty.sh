# The README walk-through with every passphrase typed at a real terminal (tmux), not read from
# files: the commands that read a card or token from standard input, or write to a pipe, must
# still ask on the terminal and never show what is typed. See readme_walkthrough.sh.
WALKTHROUGH_PASSPHRASES=terminal exec bash "$(dirname "$0")/readme_walkthrough.sh"

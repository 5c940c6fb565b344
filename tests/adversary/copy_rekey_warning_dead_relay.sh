# copy_rekey_warning_withheld.sh with a second, honest relay listed that goes down before the
# attack: Boris's sync fails on it and must still warn of the key update kept from him.
DEAD_SECOND_RELAY=1 exec bash "$(dirname "$0")/copy_rekey_warning_withheld.sh"

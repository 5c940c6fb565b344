# bash completion for kolokol                                  -*- shell-script -*-
# Installed to share/bash-completion/completions/kolokol; or: source completion/kolokol.bash

_kolokol_groups() {
    # Group names come from the store only when it opens without asking (a passphrase file);
    # completion never prompts for a passphrase.
    [ -n "${KOLOKOL_PASSPHRASE_FILE:-}" ] || return 0
    kolokol group list --json 2>/dev/null |
        sed -n 's/^ *"name": *"\(.*\)",\{0,1\}$/\1/p'
}

_kolokol() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="init passwd panic agent lock whoami verify group post read rejected sync serve relay
        age chat backup restore doctor proxy settings event task case contact report alert redact
        attachment bundle rekey"
    local global_opts="--home --passphrase-file --help"

    # The command (and subcommand) typed so far, skipping global options and their values.
    local cmd="" sub="" i npos=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --home | --passphrase-file) ((i++)) ;;
            -*) ;;
            *)
                if [ -z "$cmd" ]; then
                    cmd=${words[i]}
                elif [ -z "$sub" ]; then
                    sub=${words[i]}
                else
                    ((npos++))
                fi
                ;;
        esac
    done

    case $prev in
        --home | --data)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        --passphrase-file | --backup-passphrase-file | -o | --output | --to-file | --from-file | \
            -i | --identity | -R | --recipients-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --kdf)
            COMPREPLY=($(compgen -W "tuned fast" -- "$cur"))
            return
            ;;
    esac

    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands $global_opts" -- "$cur"))
        return
    fi

    local opts=""
    case $cmd in
        init) opts="--name --duress --kdf" ;;
        passwd) opts="" ;;
        panic) opts="--yes" ;;
        agent) opts="--idle --foreground" ;;
        lock) opts="" ;;
        whoami) opts="--qr --no-qr --json" ;;
        verify) opts="--confirm --json" ;;
        group)
            if [ -z "$sub" ]; then
                COMPREPLY=($(compgen -W "create add token join members remove compromised role quorum pending approve withdraw audit rotate relay tor-only retention rekey-interval list --help" -- "$cur"))
                return
            fi
            case $sub in
                add) opts="--admin --with-history" ;;
                members | list | pending | audit) opts="--json" ;;
                role)
                    if [ "$npos" -ge 2 ]; then
                        COMPREPLY=($(compgen -W "admin member" -- "$cur"))
                        return
                    fi
                    ;;
                relay)
                    if [ "$prev" = relay ]; then
                        COMPREPLY=($(compgen -W "add remove list add-address retire-address" -- "$cur"))
                        return
                    fi
                    ;;
            esac
            ;;
        post) opts="--each-line" ;;
        read) opts="--limit --json --follow" ;;
        rejected) opts="--limit --json" ;;
        sync) opts="--to-file --part-size --armor --from-file --json --proxy" ;;
        serve) opts="--listen --lan --lan-port --lan-group --lan-interval-ms --lan-interface" ;;
        relay) opts="--listen --data --max-sessions --per-address --mailbox-max-count
            --mailbox-max-bytes --ttl-days --retired-grace-hours --threads --kdf" ;;
        age)
            if [ -z "$sub" ]; then
                COMPREPLY=($(compgen -W "keygen encrypt decrypt --help" -- "$cur"))
                return
            fi
            case $sub in
                keygen) opts="-o --output" ;;
                encrypt) opts="-r --recipient -R --recipients-file -p --passphrase -o --output" ;;
                decrypt) opts="-i --identity -o --output" ;;
            esac
            ;;
        chat) opts="--offline --listen --lan --lan-port --lan-group --lan-interval-ms --lan-interface" ;;
        event | task | case | contact | report | attachment | bundle)
            if [ -z "$sub" ]; then
                local subs
                case $cmd in
                    event) subs="add rsvp show list carry uncarry" ;;
                    task) subs="add assign done progress list carry uncarry" ;;
                    case) subs="open set note pay attach show list history carry uncarry" ;;
                    contact) subs="add set remove list carry uncarry" ;;
                    report) subs="add list carry uncarry" ;;
                    attachment) subs="get list" ;;
                    bundle) subs="export verify open reexport" ;;
                esac
                COMPREPLY=($(compgen -W "$subs --help" -- "$cur"))
                return
            fi
            opts="--json"
            ;;
        alert) opts="--urgency list" ;;
        redact) opts="--reason" ;;
        backup) opts="-o --output --history --backup-passphrase-file --force --json" ;;
        restore) opts="--backup-passphrase-file --kdf --json" ;;
        doctor) opts="--json --timeout" ;;
        proxy)
            if [ -z "$sub" ]; then
                COMPREPLY=($(compgen -W "show set clear" -- "$cur"))
                return
            fi
            ;;
        settings)
            if [ -z "$sub" ]; then
                COMPREPLY=($(compgen -W "show set --json" -- "$cur"))
                return
            fi
            if [ "$sub" = set ] && [ "$prev" = set ]; then
                COMPREPLY=($(compgen -W "unverified-quota" -- "$cur"))
                return
            fi
            ;;
    esac
    local candidates=() g
    read -r -a candidates <<<"$(echo $opts --help)"
    local want_group=0
    case $cmd in
        post | read | chat) [ -z "$sub" ] && want_group=1 ;;
        group) case $sub in add | token | members | remove | compromised | role | quorum | pending | approve | withdraw | audit | rotate) [ "$prev" = "$sub" ] && want_group=1 ;; esac ;;
    esac
    if [ "$want_group" = 1 ] && [[ $cur != -* ]]; then
        while IFS= read -r g; do [ -n "$g" ] && candidates+=("$g"); done < <(_kolokol_groups)
    fi
    COMPREPLY=()
    for g in "${candidates[@]}"; do
        [[ $g == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$g")")
    done
    if [ ${#COMPREPLY[@]} -eq 0 ] && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _kolokol kolokol

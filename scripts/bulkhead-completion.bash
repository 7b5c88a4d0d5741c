# bash completion for bulkhead(1): subcommands, their options, *.bh files.
# Installed to share/bash-completion/completions/bulkhead; or: source this file.

_bulkhead() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="check explain compile audit diff fmt graph"
    local sub="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            check | explain | compile | audit | diff | fmt | graph)
                sub=${words[i]}
                break
                ;;
        esac
    done

    # Option values first.
    case $prev in
        --color)
            COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W "text json sarif" -- "$cur"))
            return
            ;;
        --baseline | --baseline-legacy | --policy-dir | --legacy-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        -o | --output)
            if [[ $sub == compile ]]; then
                COMPREPLY=($(compgen -d -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return
            ;;
        --inventory | --system-info | --batch | --labels)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --nft-ruleset | --qvm-firewall)
            # QUBE=FILE: the qube is the user's to type; after '=' (a word break), a file.
            [[ $cur == *=* ]] && cur=${cur#*=}
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --intent)
            COMPREPLY=($(compgen -f -X '!*.bh' -- "$cur") $(compgen -d -- "$cur"))
            return
            ;;
        --git)
            COMPREPLY=($(compgen -W "$(git for-each-ref --format='%(refname:short)' 2>/dev/null) HEAD" -- "$cur"))
            return
            ;;
        --severity | --qrexec-file)
            return
            ;;
    esac

    local opts
    case $sub in
        "")
            opts="--color --version --help"
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$commands" -- "$cur"))
            fi
            return
            ;;
        check) opts="--each --show-model --baseline --baseline-legacy --no-baseline --severity --format --help" ;;
        explain) opts="--baseline --baseline-legacy --no-baseline --batch --net-witnesses --help" ;;
        compile) opts="-o --output --qrexec-file --baseline --baseline-legacy --no-baseline --severity --format --no-kernel-check --help" ;;
        audit) opts="--policy-dir --legacy-dir --inventory --system-info --intent --qrexec-file --labels --nft-ruleset --qvm-firewall --severity --format --help" ;;
        diff) opts="--git --baseline --baseline-legacy --no-baseline --format --help" ;;
        fmt) opts="--check --stdout --help" ;;
        graph) opts="--baseline --baseline-legacy --no-baseline -o --output --svg --png --all --help" ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi
    [[ $sub == audit ]] && return # audit takes no positional files
    if [[ $sub == explain && $cur != */* ]]; then
        # After the policy files: '->' and qube names are the user's to type.
        local w
        for w in "${words[@]:i+1:cword-i-1}"; do
            [[ $w == *.bh ]] || return
        done
    fi
    COMPREPLY=($(compgen -f -X '!*.bh' -- "$cur") $(compgen -d -S / -- "$cur"))
    compopt -o nospace 2>/dev/null
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} != */ ]] && compopt +o nospace 2>/dev/null
    return 0
}
complete -F _bulkhead bulkhead

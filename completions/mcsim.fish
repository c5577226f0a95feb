# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mcsim_global_optspecs
    string join \n v/verbose q/quiet h/help V/version
end

function __fish_mcsim_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mcsim_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mcsim_using_subcommand
    set -l cmd (__fish_mcsim_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mcsim -n "__fish_mcsim_needs_command" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_needs_command" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_needs_command" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "parse" -d 'Check a workbook: sheets, functions, unsupported functions, parse errors, circular references; with `--recalc`, recalculate it and compare with Excel\'s stored values'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "generate" -d 'Write the man pages and shell completions (for packagers and the repository)'
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -l format -d 'Output format: `table` prints a summary; `json` prints the whole report, including every formula cell with `--recalc`, to stdout' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -l show -d 'How many mismatching cells, top functions and cells per unsupported function to list in `table` format (`json` always lists all)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -l max-decompressed-bytes -d 'Refuse a workbook whose parts would decompress to more than this many bytes (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -l max-zip-entries -l max-entries -d 'Refuse a workbook whose zip archive has more than this many entries' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -l max-entry-ratio -d 'Refuse a workbook with a part over 1 MiB compressed more than this ratio to one' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -l recalc -d 'Recalculate every formula cell and compare with the values stored in the file; exit with status 1 if any compared cell differs'
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand parse" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -l check -d 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -s h -l help -d 'Print help'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -f -a "man" -d 'Man pages (`mcsim.1` and one per subcommand) into DIR'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -f -a "completions" -d 'The completion script for SHELL (or every shell, with `all`) into DIR'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and not __fish_seen_subcommand_from man completions all" -f -a "all" -d 'Both, into ROOT/man and ROOT/completions: `cargo run -- generate all .` refreshes the repository\'s copies'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from man" -l check -d 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from man" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from man" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from man" -s h -l help -d 'Print help'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from man" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from completions" -l check -d 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from completions" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from completions" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from completions" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from all" -l check -d 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from all" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from all" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from all" -s h -l help -d 'Print help'
complete -c mcsim -n "__fish_mcsim_using_subcommand generate; and __fish_seen_subcommand_from all" -s V -l version -d 'Print version'


use builtin;
use str;

set edit:completion:arg-completer[mcsim] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mcsim'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mcsim'= {
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand parse 'Check a workbook: sheets, functions, unsupported functions, parse errors, circular references; with `--recalc`, recalculate it and compare with Excel''s stored values'
            cand generate 'Write the man pages and shell completions (for packagers and the repository)'
        }
        &'mcsim;parse'= {
            cand --format 'Output format: `table` prints a summary; `json` prints the whole report, including every formula cell with `--recalc`, to stdout'
            cand --show 'How many mismatching cells, top functions and cells per unsupported function to list in `table` format (`json` always lists all)'
            cand --max-decompressed-bytes 'Refuse a workbook whose parts would decompress to more than this many bytes (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix'
            cand --max-zip-entries 'Refuse a workbook whose zip archive has more than this many entries'
            cand --max-entries 'Refuse a workbook whose zip archive has more than this many entries'
            cand --max-entry-ratio 'Refuse a workbook with a part over 1 MiB compressed more than this ratio to one'
            cand --recalc 'Recalculate every formula cell and compare with the values stored in the file; exit with status 1 if any compared cell differs'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcsim;generate'= {
            cand --check 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand man 'Man pages (`mcsim.1` and one per subcommand) into DIR'
            cand completions 'The completion script for SHELL (or every shell, with `all`) into DIR'
            cand all 'Both, into ROOT/man and ROOT/completions: `cargo run -- generate all .` refreshes the repository''s copies'
        }
        &'mcsim;generate;man'= {
            cand --check 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcsim;generate;completions'= {
            cand --check 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcsim;generate;all'= {
            cand --check 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}


using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mcsim' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mcsim'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mcsim' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('parse', 'parse', [CompletionResultType]::ParameterValue, 'Check a workbook: sheets, functions, unsupported functions, parse errors, circular references; with `--recalc`, recalculate it and compare with Excel''s stored values')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write the man pages and shell completions (for packagers and the repository)')
            break
        }
        'mcsim;parse' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: `table` prints a summary; `json` prints the whole report, including every formula cell with `--recalc`, to stdout')
            [CompletionResult]::new('--show', '--show', [CompletionResultType]::ParameterName, 'How many mismatching cells, top functions and cells per unsupported function to list in `table` format (`json` always lists all)')
            [CompletionResult]::new('--max-decompressed-bytes', '--max-decompressed-bytes', [CompletionResultType]::ParameterName, 'Refuse a workbook whose parts would decompress to more than this many bytes (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix')
            [CompletionResult]::new('--max-zip-entries', '--max-zip-entries', [CompletionResultType]::ParameterName, 'Refuse a workbook whose zip archive has more than this many entries')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'Refuse a workbook whose zip archive has more than this many entries')
            [CompletionResult]::new('--max-entry-ratio', '--max-entry-ratio', [CompletionResultType]::ParameterName, 'Refuse a workbook with a part over 1 MiB compressed more than this ratio to one')
            [CompletionResult]::new('--recalc', '--recalc', [CompletionResultType]::ParameterName, 'Recalculate every formula cell and compare with the values stored in the file; exit with status 1 if any compared cell differs')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mcsim;generate' {
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Man pages (`mcsim.1` and one per subcommand) into DIR')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'The completion script for SHELL (or every shell, with `all`) into DIR')
            [CompletionResult]::new('all', 'all', [CompletionResultType]::ParameterValue, 'Both, into ROOT/man and ROOT/completions: `cargo run -- generate all .` refreshes the repository''s copies')
            break
        }
        'mcsim;generate;man' {
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mcsim;generate;completions' {
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mcsim;generate;all' {
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Do not write: compare with the files already in the directory and exit with status 1 if any is missing or different')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}

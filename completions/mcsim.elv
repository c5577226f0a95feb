
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
            cand run 'Run a Monte Carlo simulation of a workbook and report statistics, sensitivities and threshold checks'
            cand results 'Report statistics, sensitivities and comparisons from a samples file written by `mcsim run --out`'
            cand doctor 'Report what this machine offers mcsim: CPU cores and features, GPUs, the CUDA driver and NVRTC'
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
        &'mcsim;run'= {
            cand -c 'A model file (TOML) listing inputs, outputs, correlations and run settings; its inputs override the workbook''s distribution functions. Default: mcsim.toml beside the workbook, if there is one'
            cand --config 'A model file (TOML) listing inputs, outputs, correlations and run settings; its inputs override the workbook''s distribution functions. Default: mcsim.toml beside the workbook, if there is one'
            cand -n 'Number of iterations. Default: the model file''s `iterations`, else 10000'
            cand --iterations 'Number of iterations. Default: the model file''s `iterations`, else 10000'
            cand --seed 'Seed of the random streams. Default: the model file''s `seed`, else a random one; the seed used is always reported, so any run can be repeated exactly'
            cand --sampling 'Sampling method: `lhs` (Latin Hypercube) or `mc` (plain Monte Carlo). Default: the model file''s `sampling`, else `lhs`'
            cand --threads 'Worker threads. Default: all cores. Results do not depend on it'
            cand --backend 'Backend: `auto` (a GPU when usable, else the CPU), `cpu` or `cuda` (fails with the reason when no GPU can be used). The report names the backend that ran'
            cand -o 'Write every iteration''s inputs and outputs to FILE; the format follows the extension: .parquet, .arrow (.feather, .ipc) or .csv (with the run''s metadata in FILE.meta.json). Read it back with `mcsim results FILE`. `-` writes them to stdout (Parquet unless --out-format says otherwise) for a pipe; the report then goes to stderr, or to --report'
            cand --out 'Write every iteration''s inputs and outputs to FILE; the format follows the extension: .parquet, .arrow (.feather, .ipc) or .csv (with the run''s metadata in FILE.meta.json). Read it back with `mcsim results FILE`. `-` writes them to stdout (Parquet unless --out-format says otherwise) for a pipe; the report then goes to stderr, or to --report'
            cand --out-format 'The samples format of --out, whatever its extension. With `--out -`: `arrow` is the Arrow IPC stream format (`pyarrow.ipc.open_stream`), written block by block as the run goes, so a reader starts before the run ends; `csv` has a header row and no metadata'
            cand --report 'Write the report (table or JSON, per --format) to FILE instead of stdout. Without it, `--out -` sends the report to stderr, keeping stdout for the samples alone'
            cand --format 'Output format: `table` prints a summary for people; `json` prints the whole report (every statistic, sensitivity and threshold) to stdout'
            cand --save-as 'Write a copy of the workbook to FILE (.xlsx, or .xlsm for a macro-enabled workbook) in which the statistics cells (RiskMean, RiskPercentile, ...) and the cells that depend on them hold the simulated values; everything else is kept as it is. FILE must not be the input workbook'
            cand --set 'Fix a cell for this run (what-if): `Sheet!A1=VALUE`, split at the first `=`. VALUE is a number, TRUE/FALSE or text. A fixed input is no longer uncertain. Repeatable'
            cand --output 'Simulate this cell as an output, without a model file: `Sheet!B5`, `B5` (first sheet) or a defined name, optionally `=NAME` to name it. Repeatable; adds to the outputs the workbook marks (RiskOutput) and the model file lists. Without any outputs, the result formulas of a data table over a RAND() model are used'
            cand --percentile 'Also report this percentile, in percent: `--percentile 1` is the 1st percentile, `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th, 75th, 90th, 95th and 99th are always reported'
            cand --var-level 'Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the mean below it (0 < A < 100). Repeatable. The 5% tail is always reported'
            cand --target 'Report the probabilities of each output falling below and above X. Repeatable'
            cand --fail-if 'Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked'
            cand --until-converged 'Stop early once every output''s mean and percentiles are stable within this relative tolerance (a fraction: 0.01 is 1%) at 95% confidence; -n is then the maximum'
            cand --shard 'Run only shard I of N (`--shard 2/8`, I from 0): a contiguous slice of the iterations, the same values the unsharded run computes for them; with --out, the samples file keeps the run''s iteration numbers and `mcsim results merge` joins the shards. `auto` reads the index from the scheduler: Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with --shards N or MCSIM_SHARDS), Slurm arrays (SLURM_ARRAY_TASK_ID), AWS Batch array jobs (AWS_BATCH_JOB_ARRAY_INDEX). -n is the whole run''s iterations'
            cand --shards 'The number of shards for `--shard auto` when the scheduler does not tell it (Kubernetes)'
            cand --memory 'Memory for keeping every sample in RAM (`512MiB`, `2GiB`, `1GB`, or bytes; default `1GiB`). Below it, statistics are exact from the kept samples. Beyond it, statistics stream in constant memory: moments, targets, percentiles, VaR and CVaR stay exact (percentiles by a second pass that recomputes the iterations), rank correlations use ranks estimated from the first pass; the JSON key `statistics_mode` says which'
            cand --top 'Show at most N inputs per output in the sensitivity tables (`table` format)'
            cand --max-decompressed-bytes 'Refuse a workbook whose parts would decompress to more than this many bytes (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix'
            cand --max-zip-entries 'Refuse a workbook whose zip archive has more than this many entries'
            cand --max-entries 'Refuse a workbook whose zip archive has more than this many entries'
            cand --max-entry-ratio 'Refuse a workbook with a part over 1 MiB compressed more than this ratio to one'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcsim;results'= {
            cand --out 'With `merge`: the merged samples file (format from the extension, or --out-format)'
            cand --out-format 'With `merge`: the merged file''s format, whatever its extension'
            cand --in-format 'The format of the samples read from stdin (`-`), when not to be told from their first bytes'
            cand --format 'Output format: `table` prints a summary; `json` the whole report; `csv` one row per output (its statistics; with --compare, the comparison)'
            cand --output 'Report only this output (default: every output)'
            cand --compare 'Compare with another samples file (B), output by output: B minus this file (A)'
            cand --plot 'Draw a chart of --output (default: the first output) to the file given by --to'
            cand --to 'Where --plot writes its chart: FILE.svg or FILE.png'
            cand --percentile 'Also report this percentile, in percent: `--percentile 1` is the 1st percentile, `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th, 75th, 90th, 95th and 99th are always reported'
            cand --var-level 'Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the mean below it (0 < A < 100). Repeatable. The 5% tail is always reported'
            cand --target 'Report the probabilities of each output falling below and above X. Repeatable'
            cand --fail-if 'Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked'
            cand --top 'Show at most N inputs per output in the sensitivity tables (`table` format)'
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mcsim;doctor'= {
            cand -v 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand --verbose 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
            cand -q 'Print no warnings or progress on stderr (errors are still printed)'
            cand --quiet 'Print no warnings or progress on stderr (errors are still printed)'
            cand -h 'Print help'
            cand --help 'Print help'
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

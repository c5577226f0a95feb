
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
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a Monte Carlo simulation of a workbook and report statistics, sensitivities and threshold checks')
            [CompletionResult]::new('results', 'results', [CompletionResultType]::ParameterValue, 'Report statistics, sensitivities and comparisons from a samples file written by `mcsim run --out`')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the team server: accounts, shared workbooks, queued runs and their results over HTTP (`/api/v1`)')
            [CompletionResult]::new('register', 'register', [CompletionResultType]::ParameterValue, 'Create an account on a team server whose registration is open')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'Log in to a team server; the token is saved for the other remote commands')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'Log out: revoke the saved token on the server and forget it')
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'Manage users on the team server (admins)')
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload a workbook to the team server (a new model, or a new version of yours with the same name)')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel a queued or running run on the team server (owner or editor)')
            [CompletionResult]::new('share', 'share', [CompletionResultType]::ParameterValue, 'Share a model or run on the team server with another user, or revoke it')
            [CompletionResult]::new('notify', 'notify', [CompletionResultType]::ParameterValue, 'Show or change your notifications from the team server: email and a signed webhook when a run ends')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Report what this machine offers mcsim: CPU cores and features, GPUs, the CUDA driver and NVRTC')
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
        'mcsim;run' {
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Run a model on the team server instead (its id or name; see `mcsim upload`): prints the run''s id, or with --wait its report. --config sends the model file with it')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'A model file (TOML) listing inputs, outputs, correlations and run settings; its inputs override the workbook''s distribution functions. Default: mcsim.toml beside the workbook, if there is one')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A model file (TOML) listing inputs, outputs, correlations and run settings; its inputs override the workbook''s distribution functions. Default: mcsim.toml beside the workbook, if there is one')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Number of iterations. Default: the model file''s `iterations`, else 10000')
            [CompletionResult]::new('--iterations', '--iterations', [CompletionResultType]::ParameterName, 'Number of iterations. Default: the model file''s `iterations`, else 10000')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the random streams. Default: the model file''s `seed`, else a random one; the seed used is always reported, so any run can be repeated exactly')
            [CompletionResult]::new('--sampling', '--sampling', [CompletionResultType]::ParameterName, 'Sampling method: `lhs` (Latin Hypercube) or `mc` (plain Monte Carlo). Default: the model file''s `sampling`, else `lhs`')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Worker threads. Default: all cores. Results do not depend on it')
            [CompletionResult]::new('--backend', '--backend', [CompletionResultType]::ParameterName, 'Backend: `auto` (a GPU when usable, else the CPU), `cpu` or `cuda` (fails with the reason when no GPU can be used). The report names the backend that ran')
            [CompletionResult]::new('--devices', '--devices', [CompletionResultType]::ParameterName, 'The GPUs a GPU backend uses: `all` (the default) or device numbers such as `0,1`. Iterations are split across them in contiguous slices; results do not depend on the devices used')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write every iteration''s inputs and outputs to FILE; the format follows the extension: .parquet, .arrow (.feather, .ipc) or .csv (with the run''s metadata in FILE.meta.json). Read it back with `mcsim results FILE`. `-` writes them to stdout (Parquet unless --out-format says otherwise) for a pipe; the report then goes to stderr, or to --report')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write every iteration''s inputs and outputs to FILE; the format follows the extension: .parquet, .arrow (.feather, .ipc) or .csv (with the run''s metadata in FILE.meta.json). Read it back with `mcsim results FILE`. `-` writes them to stdout (Parquet unless --out-format says otherwise) for a pipe; the report then goes to stderr, or to --report')
            [CompletionResult]::new('--out-format', '--out-format', [CompletionResultType]::ParameterName, 'The samples format of --out, whatever its extension. With `--out -`: `arrow` is the Arrow IPC stream format (`pyarrow.ipc.open_stream`), written block by block as the run goes, so a reader starts before the run ends; `csv` has a header row and no metadata')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the report (table or JSON, per --format) to FILE instead of stdout. Without it, `--out -` sends the report to stderr, keeping stdout for the samples alone')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: `table` prints a summary for people; `json` prints the whole report (every statistic, sensitivity and threshold) to stdout')
            [CompletionResult]::new('--save-as', '--save-as', [CompletionResultType]::ParameterName, 'Write a copy of the workbook to FILE (.xlsx, or .xlsm for a macro-enabled workbook) in which the statistics cells (RiskMean, RiskPercentile, ...) and the cells that depend on them hold the simulated values; everything else is kept as it is. FILE must not be the input workbook')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Fix a cell for this run (what-if): `Sheet!A1=VALUE`, split at the first `=`. VALUE is a number, TRUE/FALSE or text. A fixed input is no longer uncertain. Repeatable')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Simulate this cell as an output, without a model file: `Sheet!B5`, `B5` (first sheet) or a defined name, optionally `=NAME` to name it. Repeatable; adds to the outputs the workbook marks (RiskOutput) and the model file lists. Without any outputs, the result formulas of a data table over a RAND() model are used')
            [CompletionResult]::new('--percentile', '--percentile', [CompletionResultType]::ParameterName, 'Also report this percentile, in percent: `--percentile 1` is the 1st percentile, `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th, 75th, 90th, 95th and 99th are always reported')
            [CompletionResult]::new('--var-level', '--var-level', [CompletionResultType]::ParameterName, 'Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the mean below it (0 < A < 100). Repeatable. The 5% tail is always reported')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Report the probabilities of each output falling below and above X. Repeatable')
            [CompletionResult]::new('--fail-if', '--fail-if', [CompletionResultType]::ParameterName, 'Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked')
            [CompletionResult]::new('--until-converged', '--until-converged', [CompletionResultType]::ParameterName, 'Stop early once every output''s mean and percentiles are stable within this relative tolerance (a fraction: 0.01 is 1%) at 95% confidence; -n is then the maximum')
            [CompletionResult]::new('--shard', '--shard', [CompletionResultType]::ParameterName, 'Run only shard I of N (`--shard 2/8`, I from 0): a contiguous slice of the iterations, the same values the unsharded run computes for them; with --out, the samples file keeps the run''s iteration numbers and `mcsim results merge` joins the shards. `auto` reads the index from the scheduler: Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with --shards N or MCSIM_SHARDS), Slurm arrays (SLURM_ARRAY_TASK_ID), AWS Batch array jobs (AWS_BATCH_JOB_ARRAY_INDEX). -n is the whole run''s iterations')
            [CompletionResult]::new('--shards', '--shards', [CompletionResultType]::ParameterName, 'The number of shards for `--shard auto` when the scheduler does not tell it (Kubernetes)')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'With --shard: write the shard''s accumulators (a small JSON file: the run''s identity, and per output the block statistics and histogram) to FILE, a path or an s3:// URL. By default, with --shard and --out, they go beside the samples file (`shard-0.parquet` -> `shard-0.stats.json`). `mcsim results merge` of these files alone gives the run''s statistics without its samples: moments, min, max, errors and targets exact, percentiles within a stated bracket')
            [CompletionResult]::new('--memory', '--memory', [CompletionResultType]::ParameterName, 'Memory for keeping every sample in RAM (`512MiB`, `2GiB`, `1GB`, or bytes; default `1GiB`). Below it, statistics are exact from the kept samples. Beyond it, statistics stream in constant memory: moments, targets, percentiles, VaR and CVaR stay exact (percentiles by a second pass that recomputes the iterations), rank correlations use ranks estimated from the first pass; the JSON key `statistics_mode` says which')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Show at most N inputs per output in the sensitivity tables (`table` format)')
            [CompletionResult]::new('--max-decompressed-bytes', '--max-decompressed-bytes', [CompletionResultType]::ParameterName, 'Refuse a workbook whose parts would decompress to more than this many bytes (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix')
            [CompletionResult]::new('--max-zip-entries', '--max-zip-entries', [CompletionResultType]::ParameterName, 'Refuse a workbook whose zip archive has more than this many entries')
            [CompletionResult]::new('--max-entries', '--max-entries', [CompletionResultType]::ParameterName, 'Refuse a workbook whose zip archive has more than this many entries')
            [CompletionResult]::new('--max-entry-ratio', '--max-entry-ratio', [CompletionResultType]::ParameterName, 'Refuse a workbook with a part over 1 MiB compressed more than this ratio to one')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'With --remote: follow the run''s progress and print its report as a local run does (same formats and exit status)')
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
        'mcsim;results' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'With `merge`: the merged samples file (format from the extension, or --out-format); for a merge of accumulator files, a .json file for the merged statistics')
            [CompletionResult]::new('--out-format', '--out-format', [CompletionResultType]::ParameterName, 'With `merge`: the merged file''s format, whatever its extension')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Print the stored report of a run on the team server instead (`mcsim run --remote`). With --compare RUN_ID, compares the two runs'' samples on the server; with --plot, the server draws the chart')
            [CompletionResult]::new('--samples', '--samples', [CompletionResultType]::ParameterName, 'With --remote: download the run''s samples (Parquet) to FILE')
            [CompletionResult]::new('--in-format', '--in-format', [CompletionResultType]::ParameterName, 'The format of the samples read from stdin (`-`), when not to be told from their first bytes')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: `table` prints a summary; `json` the whole report; `csv` one row per output (its statistics; with --compare, the comparison)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report only this output (default: every output)')
            [CompletionResult]::new('--compare', '--compare', [CompletionResultType]::ParameterName, 'Compare with another samples file (B), output by output: B minus this file (A). With --remote, another run''s id')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw a chart of --output (default: the first output) to the file given by --to')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where --plot writes its chart: FILE.svg or FILE.png')
            [CompletionResult]::new('--percentile', '--percentile', [CompletionResultType]::ParameterName, 'Also report this percentile, in percent: `--percentile 1` is the 1st percentile, `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th, 75th, 90th, 95th and 99th are always reported')
            [CompletionResult]::new('--var-level', '--var-level', [CompletionResultType]::ParameterName, 'Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the mean below it (0 < A < 100). Repeatable. The 5% tail is always reported')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Report the probabilities of each output falling below and above X. Repeatable')
            [CompletionResult]::new('--fail-if', '--fail-if', [CompletionResultType]::ParameterName, 'Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Show at most N inputs per output in the sensitivity tables (`table` format)')
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
        'mcsim;serve' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'A configuration file (TOML): every setting below, plus `[smtp]` and `[webhooks]` for notifications (see docs/server.md). Flags given on the command line win over it')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'The address to listen on (`127.0.0.1:0` picks a free port, printed on stderr). Default: 127.0.0.1:8080')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Where workbooks, samples files and the SQLite database are kept. Default: `mcsim-server` in the platform''s data directory (`~/.local/share/mcsim-server` on Linux)')
            [CompletionResult]::new('--storage', '--storage', [CompletionResultType]::ParameterName, 'Where workbooks and samples files are kept: a directory, or `s3://BUCKET/PREFIX` (S3 or an S3-compatible store, for several replicas; needs a build with the `s3` feature). Default: the data directory')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'The database: `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: SQLite in the data directory')
            [CompletionResult]::new('--database-schema', '--database-schema', [CompletionResultType]::ParameterName, 'PostgreSQL schema to keep the tables in (created if missing)')
            [CompletionResult]::new('--workers', '--workers', [CompletionResultType]::ParameterName, 'Runs executed at the same time; 0 runs none (runs stay queued). Default: 1')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Threads each run uses. Default: all cores')
            [CompletionResult]::new('--max-upload', '--max-upload', [CompletionResultType]::ParameterName, 'Largest workbook upload (bytes, or with a KiB/MiB/GiB suffix). Default: 64MiB')
            [CompletionResult]::new('--max-iterations', '--max-iterations', [CompletionResultType]::ParameterName, 'Largest number of iterations a run may ask for. Default: 100000000')
            [CompletionResult]::new('--token-ttl', '--token-ttl', [CompletionResultType]::ParameterName, 'How long a login stays valid, in seconds. Default: 30 days')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log format: `text`, or `json` for one JSON object per line. Default: text')
            [CompletionResult]::new('--public-url', '--public-url', [CompletionResultType]::ParameterName, 'The server''s URL as users reach it, for the links in notifications')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Serve HTTPS with this PEM certificate chain (with --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The PEM private key of --tls-cert')
            [CompletionResult]::new('--create-admin', '--create-admin', [CompletionResultType]::ParameterName, 'Create an admin account with this name (password read from stdin) and exit')
            [CompletionResult]::new('--open-registration', '--open-registration', [CompletionResultType]::ParameterName, 'Let anyone create an account (`mcsim register`); otherwise an admin adds users')
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
        'mcsim;register' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server''s URL (`http://host:8080`)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The account''s name')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from stdin (its first line) instead of asking on the terminal')
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
        'mcsim;login' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The server''s URL (`http://host:8080`)')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'The account''s name')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from stdin (its first line) instead of asking on the terminal')
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
        'mcsim;logout' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
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
        'mcsim;user' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no warnings or progress on stderr (errors are still printed)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a user (admins only)')
            [CompletionResult]::new('password', 'password', [CompletionResultType]::ParameterValue, 'Change your password: stdin''s first line is the current one, the second the new one')
            [CompletionResult]::new('disable', 'disable', [CompletionResultType]::ParameterValue, 'Disable a user: their logins end and they cannot log in (admins only)')
            [CompletionResult]::new('enable', 'enable', [CompletionResultType]::ParameterValue, 'Enable a disabled user again (admins only)')
            break
        }
        'mcsim;user;add' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the new account''s password from stdin (its first line)')
            [CompletionResult]::new('--admin', '--admin', [CompletionResultType]::ParameterName, 'Make the new account an admin')
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
        'mcsim;user;password' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the current and the new password from stdin (two lines) instead of asking')
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
        'mcsim;user;disable' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
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
        'mcsim;user;enable' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
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
        'mcsim;upload' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The model''s name on the server. Default: the file name without its extension')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format: `json` prints `{"id", "name", "version"}` and the parse summary')
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
        'mcsim;cancel' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
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
        'mcsim;share' {
            [CompletionResult]::new('--with', '--with', [CompletionResultType]::ParameterName, 'The user to share with (or revoke)')
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'The role given')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--revoke', '--revoke', [CompletionResultType]::ParameterName, 'Revoke the user''s access instead')
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
        'mcsim;notify' {
            [CompletionResult]::new('--email', '--email', [CompletionResultType]::ParameterName, 'Email notifications on or off (on needs an address: --email-to, or one set before)')
            [CompletionResult]::new('--email-to', '--email-to', [CompletionResultType]::ParameterName, 'The address emails go to')
            [CompletionResult]::new('--webhook', '--webhook', [CompletionResultType]::ParameterName, 'The URL webhooks are posted to (http:// or https://); needs a secret (--secret-stdin) unless one is set already')
            [CompletionResult]::new('--events', '--events', [CompletionResultType]::ParameterName, 'The events notified, comma-separated: succeeded (or finished), failed, cancelled')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--no-webhook', '--no-webhook', [CompletionResultType]::ParameterName, 'Stop the webhook (its URL is removed)')
            [CompletionResult]::new('--secret-stdin', '--secret-stdin', [CompletionResultType]::ParameterName, 'Read the webhook''s signing secret (16 to 256 bytes) from stdin''s first line')
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
        'mcsim;doctor' {
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

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
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "run" -d 'Run a Monte Carlo simulation of a workbook and report statistics, sensitivities and threshold checks'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "results" -d 'Report statistics, sensitivities and comparisons from a samples file written by `mcsim run --out`'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "serve" -d 'Run the team server: accounts, shared workbooks, queued runs and their results over HTTP (`/api/v1`)'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "register" -d 'Create an account on a team server whose registration is open'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "login" -d 'Log in to a team server; the token is saved for the other remote commands'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "logout" -d 'Log out: revoke the saved token on the server and forget it'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "user" -d 'Manage users on the team server (admins)'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "upload" -d 'Upload a workbook to the team server (a new model, or a new version of yours with the same name)'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "cancel" -d 'Cancel a queued or running run on the team server (owner or editor)'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "share" -d 'Share a model or run on the team server with another user, or revoke it'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "notify" -d 'Show or change your notifications from the team server: email and a signed webhook when a run ends'
complete -c mcsim -n "__fish_mcsim_needs_command" -f -a "doctor" -d 'Report what this machine offers mcsim: CPU cores and features, GPUs, the CUDA driver and NVRTC'
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
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l remote -d 'Run a model on the team server instead (its id or name; see `mcsim upload`): prints the run\'s id, or with --wait its report. --config sends the model file with it' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s c -l config -d 'A model file (TOML) listing inputs, outputs, correlations and run settings; its inputs override the workbook\'s distribution functions. Default: mcsim.toml beside the workbook, if there is one' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s n -l iterations -d 'Number of iterations. Default: the model file\'s `iterations`, else 10000' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l seed -d 'Seed of the random streams. Default: the model file\'s `seed`, else a random one; the seed used is always reported, so any run can be repeated exactly' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l sampling -d 'Sampling method: `lhs` (Latin Hypercube) or `mc` (plain Monte Carlo). Default: the model file\'s `sampling`, else `lhs`' -r -f -a "lhs\t'Latin Hypercube: stratified, so statistics converge faster (the default)'
mc\t'Plain Monte Carlo: independent draws'"
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l threads -d 'Worker threads. Default: all cores. Results do not depend on it' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l backend -d 'Backend: `auto` (a GPU when usable, else the CPU), `cpu` or `cuda` (fails with the reason when no GPU can be used). The report names the backend that ran' -r -f -a "auto\t'A GPU when one is usable and the model compiles for it, else the CPU (the report says which ran, and why not the GPU)'
cpu\t'The CPU'
cuda\t'A GPU; fails with the reason when none can be used'"
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l devices -d 'The GPUs a GPU backend uses: `all` (the default) or device numbers such as `0,1`. Iterations are split across them in contiguous slices; results do not depend on the devices used' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s o -l out -d 'Write every iteration\'s inputs and outputs to FILE; the format follows the extension: .parquet, .arrow (.feather, .ipc) or .csv (with the run\'s metadata in FILE.meta.json). Read it back with `mcsim results FILE`. `-` writes them to stdout (Parquet unless --out-format says otherwise) for a pipe; the report then goes to stderr, or to --report' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l out-format -d 'The samples format of --out, whatever its extension. With `--out -`: `arrow` is the Arrow IPC stream format (`pyarrow.ipc.open_stream`), written block by block as the run goes, so a reader starts before the run ends; `csv` has a header row and no metadata' -r -f -a "parquet\t'Apache Parquet (Snappy-compressed)'
arrow\t'Arrow IPC: the file format (Feather v2) to a file, the stream format to a pipe'
csv\t'Comma-separated values with a header row'"
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l report -d 'Write the report (table or JSON, per --format) to FILE instead of stdout. Without it, `--out -` sends the report to stderr, keeping stdout for the samples alone' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l format -d 'Output format: `table` prints a summary for people; `json` prints the whole report (every statistic, sensitivity and threshold) to stdout' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l save-as -d 'Write a copy of the workbook to FILE (.xlsx, or .xlsm for a macro-enabled workbook) in which the statistics cells (RiskMean, RiskPercentile, ...) and the cells that depend on them hold the simulated values; everything else is kept as it is. FILE must not be the input workbook' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l set -d 'Fix a cell for this run (what-if): `Sheet!A1=VALUE`, split at the first `=`. VALUE is a number, TRUE/FALSE or text. A fixed input is no longer uncertain. Repeatable' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l output -d 'Simulate this cell as an output, without a model file: `Sheet!B5`, `B5` (first sheet) or a defined name, optionally `=NAME` to name it. Repeatable; adds to the outputs the workbook marks (RiskOutput) and the model file lists. Without any outputs, the result formulas of a data table over a RAND() model are used' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l percentile -d 'Also report this percentile, in percent: `--percentile 1` is the 1st percentile, `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th, 75th, 90th, 95th and 99th are always reported' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l var-level -d 'Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the mean below it (0 < A < 100). Repeatable. The 5% tail is always reported' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l target -d 'Report the probabilities of each output falling below and above X. Repeatable' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l fail-if -d 'Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l until-converged -d 'Stop early once every output\'s mean and percentiles are stable within this relative tolerance (a fraction: 0.01 is 1%) at 95% confidence; -n is then the maximum' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l shard -d 'Run only shard I of N (`--shard 2/8`, I from 0): a contiguous slice of the iterations, the same values the unsharded run computes for them; with --out, the samples file keeps the run\'s iteration numbers and `mcsim results merge` joins the shards. `auto` reads the index from the scheduler: Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with --shards N or MCSIM_SHARDS), Slurm arrays (SLURM_ARRAY_TASK_ID), AWS Batch array jobs (AWS_BATCH_JOB_ARRAY_INDEX). -n is the whole run\'s iterations' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l shards -d 'The number of shards for `--shard auto` when the scheduler does not tell it (Kubernetes)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l stats -d 'With --shard: write the shard\'s accumulators (a small JSON file: the run\'s identity, and per output the block statistics and histogram) to FILE, a path or an s3:// URL. By default, with --shard and --out, they go beside the samples file (`shard-0.parquet` -> `shard-0.stats.json`). `mcsim results merge` of these files alone gives the run\'s statistics without its samples: moments, min, max, errors and targets exact, percentiles within a stated bracket' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l memory -d 'Memory for keeping every sample in RAM (`512MiB`, `2GiB`, `1GB`, or bytes; default `1GiB`). Below it, statistics are exact from the kept samples. Beyond it, statistics stream in constant memory: moments, targets, percentiles, VaR and CVaR stay exact (percentiles by a second pass that recomputes the iterations), rank correlations use ranks estimated from the first pass; the JSON key `statistics_mode` says which' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l top -d 'Show at most N inputs per output in the sensitivity tables (`table` format)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l max-decompressed-bytes -d 'Refuse a workbook whose parts would decompress to more than this many bytes (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l max-zip-entries -l max-entries -d 'Refuse a workbook whose zip archive has more than this many entries' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l max-entry-ratio -d 'Refuse a workbook with a part over 1 MiB compressed more than this ratio to one' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -l wait -d 'With --remote: follow the run\'s progress and print its report as a local run does (same formats and exit status)'
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand run" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l out -d 'With `merge`: the merged samples file (format from the extension, or --out-format); for a merge of accumulator files, a .json file for the merged statistics' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l out-format -d 'With `merge`: the merged file\'s format, whatever its extension' -r -f -a "parquet\t'Apache Parquet (Snappy-compressed)'
arrow\t'Arrow IPC: the file format (Feather v2) to a file, the stream format to a pipe'
csv\t'Comma-separated values with a header row'"
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l remote -d 'Print the stored report of a run on the team server instead (`mcsim run --remote`). With --compare RUN_ID, compares the two runs\' samples on the server; with --plot, the server draws the chart' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l samples -d 'With --remote: download the run\'s samples (Parquet) to FILE' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l in-format -d 'The format of the samples read from stdin (`-`), when not to be told from their first bytes' -r -f -a "parquet\t'Apache Parquet (Snappy-compressed)'
arrow\t'Arrow IPC: the file format (Feather v2) to a file, the stream format to a pipe'
csv\t'Comma-separated values with a header row'"
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l format -d 'Output format: `table` prints a summary; `json` the whole report; `csv` one row per output (its statistics; with --compare, the comparison)' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'
csv\t'One CSV row per output: its statistics, or with --compare the comparison'"
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l output -d 'Report only this output (default: every output)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l compare -d 'Compare with another samples file (B), output by output: B minus this file (A). With --remote, another run\'s id' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l plot -d 'Draw a chart of --output (default: the first output) to the file given by --to' -r -f -a "histogram\t'Histogram of one output'
cdf\t'Cumulative distribution of one output'
tornado\t'Tornado chart of one output\'s rank correlations with the inputs'"
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l to -d 'Where --plot writes its chart: FILE.svg or FILE.png' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l percentile -d 'Also report this percentile, in percent: `--percentile 1` is the 1st percentile, `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th, 75th, 90th, 95th and 99th are always reported' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l var-level -d 'Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the mean below it (0 < A < 100). Repeatable. The 5% tail is always reported' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l target -d 'Report the probabilities of each output falling below and above X. Repeatable' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l fail-if -d 'Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -l top -d 'Show at most N inputs per output in the sensitivity tables (`table` format)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand results" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l config -d 'A configuration file (TOML): every setting below, plus `[smtp]` and `[webhooks]` for notifications (see docs/server.md). Flags given on the command line win over it' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l bind -d 'The address to listen on (`127.0.0.1:0` picks a free port, printed on stderr). Default: 127.0.0.1:8080' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l data-dir -d 'Where workbooks, samples files and the SQLite database are kept. Default: `mcsim-server` in the platform\'s data directory (`~/.local/share/mcsim-server` on Linux)' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l storage -d 'Where workbooks and samples files are kept: a directory, or `s3://BUCKET/PREFIX` (S3 or an S3-compatible store, for several replicas; needs a build with the `s3` feature). Default: the data directory' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l database -d 'The database: `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: SQLite in the data directory' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l database-schema -d 'PostgreSQL schema to keep the tables in (created if missing)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l workers -d 'Runs executed at the same time; 0 runs none (runs stay queued). Default: 1' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l threads -d 'Threads each run uses. Default: all cores' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l max-upload -d 'Largest workbook upload (bytes, or with a KiB/MiB/GiB suffix). Default: 64MiB' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l max-iterations -d 'Largest number of iterations a run may ask for. Default: 100000000' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l token-ttl -d 'How long a login stays valid, in seconds. Default: 30 days' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l log-format -d 'Log format: `text`, or `json` for one JSON object per line. Default: text' -r -f -a "text\t''
json\t''"
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l public-url -d 'The server\'s URL as users reach it, for the links in notifications' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l tls-cert -d 'Serve HTTPS with this PEM certificate chain (with --tls-key)' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l tls-key -d 'The PEM private key of --tls-cert' -r -F
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l create-admin -d 'Create an admin account with this name (password read from stdin) and exit' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -l open-registration -d 'Let anyone create an account (`mcsim register`); otherwise an admin adds users'
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand serve" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -l server -d 'The server\'s URL (`http://host:8080`)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -l user -d 'The account\'s name' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -l password-stdin -d 'Read the password from stdin (its first line) instead of asking on the terminal'
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand register" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -l server -d 'The server\'s URL (`http://host:8080`)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -l user -d 'The account\'s name' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -l password-stdin -d 'Read the password from stdin (its first line) instead of asking on the terminal'
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand login" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand logout" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand logout" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand logout" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand logout" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand logout" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -s h -l help -d 'Print help'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -f -a "add" -d 'Add a user (admins only)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -f -a "password" -d 'Change your password: stdin\'s first line is the current one, the second the new one'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -f -a "disable" -d 'Disable a user: their logins end and they cannot log in (admins only)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and not __fish_seen_subcommand_from add password disable enable" -f -a "enable" -d 'Enable a disabled user again (admins only)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -l password-stdin -d 'Read the new account\'s password from stdin (its first line)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -l admin -d 'Make the new account an admin'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from password" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from password" -l password-stdin -d 'Read the current and the new password from stdin (two lines) instead of asking'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from password" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from password" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from password" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from password" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from disable" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from disable" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from disable" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from disable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from disable" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from enable" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from enable" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from enable" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from enable" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand user; and __fish_seen_subcommand_from enable" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand upload" -l name -d 'The model\'s name on the server. Default: the file name without its extension' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand upload" -l format -d 'Output format: `json` prints `{"id", "name", "version"}` and the parse summary' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand upload" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand upload" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand upload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand upload" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand cancel" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand cancel" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand cancel" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -l with -d 'The user to share with (or revoke)' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -l role -d 'The role given' -r -f -a "viewer\t'Reads the model and its runs'
editor\t'Also starts runs, uploads new versions and cancels runs'"
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -l revoke -d 'Revoke the user\'s access instead'
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand share" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l email -d 'Email notifications on or off (on needs an address: --email-to, or one set before)' -r -f -a "on\t'Enabled'
off\t'Disabled'"
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l email-to -d 'The address emails go to' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l webhook -d 'The URL webhooks are posted to (http:// or https://); needs a secret (--secret-stdin) unless one is set already' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l events -d 'The events notified, comma-separated: succeeded (or finished), failed, cancelled' -r
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l format -d 'Output format' -r -f -a "table\t'A summary for people'
json\t'The full report as one JSON document (for scripts)'"
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l no-webhook -d 'Stop the webhook (its URL is removed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -l secret-stdin -d 'Read the webhook\'s signing secret (16 to 256 bytes) from stdin\'s first line'
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mcsim -n "__fish_mcsim_using_subcommand notify" -s V -l version -d 'Print version'
complete -c mcsim -n "__fish_mcsim_using_subcommand doctor" -s v -l verbose -d 'Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this'
complete -c mcsim -n "__fish_mcsim_using_subcommand doctor" -s q -l quiet -d 'Print no warnings or progress on stderr (errors are still printed)'
complete -c mcsim -n "__fish_mcsim_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c mcsim -n "__fish_mcsim_using_subcommand doctor" -s V -l version -d 'Print version'
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

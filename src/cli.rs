//! The command line, as clap types. Nothing here does any work: `commands/` turns these
//! arguments into a library's options and calls it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mcsim_workbook::LoadOptions;

/// Headless Monte Carlo simulation of Excel workbooks.
#[derive(Debug, Parser)]
#[command(
    name = "mcsim",
    version,
    about = "Headless Monte Carlo simulation of Excel workbooks",
    long_about = "Headless Monte Carlo simulation of Excel workbooks.\n\n\
        mcsim reads .xlsx/.xlsm workbooks, evaluates their formulas with Excel's semantics \
        without Excel, and runs Monte Carlo simulations of @RISK-style models.",
    after_help = "Exit status: 0 success, 1 completed but the result is a failure, 2 error.",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Options every subcommand accepts.
    #[command(flatten)]
    pub global: GlobalArgs,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Log more to stderr: `-v` debug, `-vv` trace. `RUST_LOG` overrides this.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Print no warnings or progress on stderr (errors are still printed).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a workbook: sheets, functions, unsupported functions, parse errors, circular
    /// references; with `--recalc`, recalculate it and compare with Excel's stored values.
    #[command(
        long_about = "Check a workbook: sheets, formula counts, the functions it uses, functions mcsim \
            does not implement (and the cells using them), formulas that do not parse, and circular \
            references.\n\n\
            With --recalc, every formula cell is recalculated and compared with the value Excel \
            stored in the file: numbers must agree within 1e-9 relative (1e-12 absolute), text, \
            booleans and errors exactly. Cells whose formula calls a volatile function (RAND, NOW, \
            TODAY, ...) and cells without a stored value (files written by openpyxl and similar \
            tools) are listed but not compared.",
        after_long_help = "Exit status:\n  \
            0  the workbook was read (and, with --recalc, every compared cell matched)\n  \
            1  --recalc found cells whose computed value differs from the stored one\n  \
            2  error: the file is missing, not an .xlsx/.xlsm workbook, damaged, or over a limit\n\n\
            Examples:\n  \
            mcsim parse model.xlsx\n  \
            mcsim parse --recalc --show 20 model.xlsx\n  \
            mcsim parse --recalc --format json model.xlsx > report.json"
    )]
    Parse(ParseArgs),

    /// Run a Monte Carlo simulation of a workbook and report statistics, sensitivities and
    /// threshold checks.
    #[command(
        long_about = "Run a Monte Carlo simulation of a workbook.\n\n\
            Uncertain inputs are cells holding @RISK-style distribution functions \
            (=RiskNormal(100, 10), =RiskPert(..), ...) or RAND(), and inputs listed in a model \
            file (--config). Outputs are cells marked with =RiskOutput(\"name\")+..., listed in \
            the model file, or named with --output. Without any, the result formulas of a \
            What-If data table over a RAND() model are the outputs; a data table used as the \
            simulation loop (its input cell blank or unused) also sets the default number of \
            iterations to its row count. Data tables are recalculated as Excel does. Without \
            --config, a file named mcsim.toml beside the workbook is used when there is one.\n\n\
            Each iteration draws every input, recalculates the workbook and records every output. \
            The report gives, per output, the mean, standard deviation, percentiles, VaR/CVaR and \
            the inputs it is most sensitive to (Spearman rank correlation, standardized regression \
            coefficient, contribution to variance). The seed is always reported: the same seed \
            gives the same numbers whatever the number of threads.\n\n\
            stdout carries only the report; a progress bar (on a terminal), warnings and errors \
            go to stderr.",
        after_long_help = "Model file (TOML; unknown keys are errors):\n  \
            iterations = 10000\n  \
            seed = 42\n  \
            sampling = \"lhs\"\n  \
            [[input]]\n  \
            cell = \"Inputs!B3\"\n  \
            name = \"price\"\n  \
            dist = { type = \"normal\", mean = 55, sd = 5 }\n  \
            [[output]]\n  \
            cell = \"Outputs!B2\"\n  \
            name = \"NPV\"\n\n\
            Threshold expressions (--fail-if):\n  \
            P(NPV < 0) > 0.2        probability, as a fraction\n  \
            mean(NPV) < 1e6         also std, min, max, median\n  \
            p5(NPV) < -2e6          a percentile, in percent\n  \
            var(NPV, 0.05) < -3e6   VaR/CVaR at a tail level given as a fraction\n\n\
            Exit status:\n  \
            0  the simulation ran and no --fail-if condition holds\n  \
            1  the simulation ran and a --fail-if condition holds (named on stderr)\n  \
            2  error: bad workbook or model file, bad distribution parameters, unknown --set\n     \
            cell, bad --fail-if expression, no inputs or outputs, or a usage error\n\n\
            Examples:\n  \
            mcsim run model.xlsx -n 100000 --seed 42\n  \
            mcsim run model.xlsx --config model.mcsim.toml --out samples.parquet\n  \
            mcsim run model.xlsx --set Inputs!B9=0.10 --percentile 0.5 --percentile 99.5\n  \
            mcsim run sim.xlsx --output Model!B12=Profit --output 'Summary!C5'\n  \
            mcsim run model.xlsx --until-converged 0.005 -n 1000000\n  \
            mcsim run model.xlsx --fail-if 'P(NPV < 0) > 0.2' --format json > report.json"
    )]
    Run(RunArgs),

    /// Report statistics, sensitivities and comparisons from a samples file written by
    /// `mcsim run --out`.
    #[command(
        long_about = "Re-derive statistics and sensitivities from a samples file written by \
            `mcsim run --out` (.parquet, .arrow/.feather/.ipc or .csv), without re-running the \
            workbook.\n\n\
            With --compare, the same outputs of a second samples file are compared with this \
            one's: difference of the means and whether it exceeds Monte Carlo error (Welch's \
            t-test at 5%), differences of the percentiles, and a two-sample \
            Kolmogorov-Smirnov test of the whole distributions. With --plot, a chart is \
            written to the file given by --to (.svg or .png).",
        after_long_help = "Exit status:\n  \
            0  the report was produced and no --fail-if condition holds\n  \
            1  a --fail-if condition holds (named on stderr)\n  \
            2  error: missing file, not a samples file, unknown --output name, or a usage error\n\n\
            Examples:\n  \
            mcsim results samples.parquet\n  \
            mcsim results samples.parquet --output NPV --format json\n  \
            mcsim results new.parquet --compare old.parquet\n  \
            mcsim results samples.csv --output NPV --plot histogram --to npv.svg\n  \
            mcsim results samples.arrow --fail-if 'P(NPV < 0) > 0.2'"
    )]
    Results(ResultsArgs),

    /// Run the team server: accounts, shared workbooks, queued runs and their results over
    /// HTTP (`/api/v1`).
    #[command(
        long_about = "Run the team server: one daemon holding accounts, uploaded workbooks (with \
            their versions and parse summaries), runs queued in its database and executed by its \
            workers, and their reports and samples files, shared between users as viewer or \
            editor. HTTP/JSON under /api/v1, described at /api/v1/openapi.json; /healthz, \
            /readyz and /metrics (Prometheus) answer without a token.\n\n\
            The database is SQLite in the data directory unless --database names another \
            (sqlite://PATH or postgres://...). With --create-admin NAME, the command reads the \
            admin's password from stdin, creates the account and exits. A --config file holds \
            the same settings plus email (SMTP) and webhook notifications (docs/server.md).",
        after_long_help = "Examples:\n  \
            echo \"$PASSWORD\" | mcsim serve --data-dir /var/lib/mcsim --create-admin alice\n  \
            mcsim serve --bind 0.0.0.0:8080 --data-dir /var/lib/mcsim\n  \
            mcsim serve --data-dir /var/lib/mcsim --database postgres://mcsim@db/mcsim --workers 4\n  \
            mcsim serve --config /etc/mcsim/serve.toml --log-format json"
    )]
    Serve(ServeArgs),

    /// Create an account on a team server whose registration is open.
    Register(RegisterArgs),

    /// Log in to a team server; the token is saved for the other remote commands.
    #[command(
        long_about = "Log in to a team server. The token is saved, readable only by you (mode \
            0600), in $MCSIM_CONFIG_DIR when set, else in the platform's configuration directory \
            (~/.config/mcsim on Linux), and used by upload, run --remote, results --remote, share \
            and user add until it expires or you log out."
    )]
    Login(LoginArgs),

    /// Log out: revoke the saved token on the server and forget it.
    Logout(LogoutArgs),

    /// Manage users on the team server (admins).
    #[command(subcommand)]
    User(UserCommand),

    /// Upload a workbook to the team server (a new model, or a new version of yours with the same name).
    Upload(UploadArgs),

    /// Cancel a queued or running run on the team server (owner or editor).
    Cancel(CancelArgs),

    /// Share a model or run on the team server with another user, or revoke it.
    #[command(
        long_about = "Share a model (id m...) or a run (id r...) with another user: a viewer \
            reads it (and a model's runs); an editor also starts runs, uploads new versions and \
            cancels runs. Only the owner shares, revokes and deletes.",
        after_long_help = "Examples:\n  \
            mcsim share m1a2b3c4d5e6f7a8b --with bob --role viewer\n  \
            mcsim share m1a2b3c4d5e6f7a8b --with bob --revoke"
    )]
    Share(ShareArgs),

    /// Show or change your notifications from the team server: email and a signed webhook when
    /// a run ends.
    #[command(
        long_about = "Show (without options) or change your notifications from the team server. \
            When one of your runs ends, the server can email you (when it has SMTP settings) and \
            POST a JSON payload to a webhook, signed with HMAC-SHA256 of `TIMESTAMP.BODY` with \
            your secret (header X-Mcsim-Signature: sha256=HEX). Options not given are kept.",
        after_long_help = "Examples:\n  \
            mcsim notify\n  \
            mcsim notify --email on --email-to me@example.com\n  \
            printf '%s\\n' \"$SECRET\" | mcsim notify --webhook https://hooks.example.com/mcsim --secret-stdin\n  \
            mcsim notify --events succeeded,failed,cancelled\n  \
            mcsim notify --no-webhook --email off"
    )]
    Notify(NotifyArgs),

    /// Report what this machine offers mcsim: CPU cores and features, GPUs, the CUDA driver and
    /// NVRTC.
    Doctor,

    /// Write the man pages and shell completions (for packagers and the repository).
    #[command(hide = true)]
    Generate(GenerateArgs),
}

/// Arguments of `mcsim serve`. Each setting can also be given in the `--config` file (flags
/// win); the defaults named here apply when neither gives it.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A configuration file (TOML): every setting below, plus `[smtp]` and `[webhooks]` for
    /// notifications (see docs/server.md). Flags given on the command line win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The address to listen on (`127.0.0.1:0` picks a free port, printed on stderr). Default:
    /// 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<std::net::SocketAddr>,

    /// Where workbooks, samples files and the SQLite database are kept. Default: `mcsim-server`
    /// in the platform's data directory (`~/.local/share/mcsim-server` on Linux).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where workbooks and samples files are kept: a directory, or `s3://BUCKET/PREFIX` (S3 or
    /// an S3-compatible store, for several replicas; needs a build with the `s3` feature).
    /// Default: the data directory.
    #[arg(long, value_name = "DIR|URL", env = "MCSIM_STORAGE")]
    pub storage: Option<String>,

    /// The database: `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: SQLite in the data
    /// directory.
    #[arg(long, value_name = "URL", env = "MCSIM_DATABASE_URL")]
    pub database: Option<String>,

    /// PostgreSQL schema to keep the tables in (created if missing).
    #[arg(long, value_name = "NAME")]
    pub database_schema: Option<String>,

    /// Let anyone create an account (`mcsim register`); otherwise an admin adds users.
    #[arg(long)]
    pub open_registration: bool,

    /// Runs executed at the same time; 0 runs none (runs stay queued). Default: 1.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,

    /// Threads each run uses. Default: all cores.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// Largest workbook upload (bytes, or with a KiB/MiB/GiB suffix). Default: 64MiB.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_upload: Option<u64>,

    /// Largest number of iterations a run may ask for. Default: 100000000.
    #[arg(long, value_name = "N")]
    pub max_iterations: Option<u64>,

    /// How long a login stays valid, in seconds. Default: 30 days.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
    pub token_ttl: Option<i64>,

    /// Log format: `text`, or `json` for one JSON object per line. Default: text.
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,

    /// The server's URL as users reach it, for the links in notifications.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,

    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Create an admin account with this name (password read from stdin) and exit.
    #[arg(long, value_name = "NAME")]
    pub create_admin: Option<String>,
}

/// Arguments of `mcsim register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The server's URL (`http://host:8080`).
    #[arg(long, value_name = "URL")]
    pub server: String,

    /// The account's name.
    #[arg(long, value_name = "NAME")]
    pub user: String,

    /// Read the password from stdin (its first line) instead of asking on the terminal.
    #[arg(long)]
    pub password_stdin: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's URL (`http://host:8080`).
    #[arg(long, value_name = "URL")]
    pub server: String,

    /// The account's name.
    #[arg(long, value_name = "NAME")]
    pub user: String,

    /// Read the password from stdin (its first line) instead of asking on the terminal.
    #[arg(long)]
    pub password_stdin: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `mcsim user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (admins only).
    Add(UserAddArgs),
    /// Change your password: stdin's first line is the current one, the second the new one.
    Password(UserPasswordArgs),
    /// Disable a user: their logins end and they cannot log in (admins only).
    Disable(UserNameArgs),
    /// Enable a disabled user again (admins only).
    Enable(UserNameArgs),
}

/// Arguments of `mcsim user password`.
#[derive(Debug, Args)]
pub struct UserPasswordArgs {
    /// Read the current and the new password from stdin (two lines) instead of asking.
    #[arg(long)]
    pub password_stdin: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// A user name (`mcsim user disable NAME`).
#[derive(Debug, Args)]
pub struct UserNameArgs {
    /// The account's name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The new account's name.
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Read the new account's password from stdin (its first line).
    #[arg(long)]
    pub password_stdin: bool,

    /// Make the new account an admin.
    #[arg(long)]
    pub admin: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The workbook (.xlsx or .xlsm).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The model's name on the server. Default: the file name without its extension.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Output format: `json` prints `{"id", "name", "version"}` and the parse summary.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The run's id.
    #[arg(value_name = "RUN_ID")]
    pub id: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim share`.
#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The model or run id.
    #[arg(value_name = "ID")]
    pub id: String,

    /// The user to share with (or revoke).
    #[arg(long = "with", value_name = "USER")]
    pub with: String,

    /// The role given.
    #[arg(
        long,
        value_enum,
        required_unless_present = "revoke",
        conflicts_with = "revoke"
    )]
    pub role: Option<ShareRole>,

    /// Revoke the user's access instead.
    #[arg(long)]
    pub revoke: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `mcsim notify`.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// Email notifications on or off (on needs an address: --email-to, or one set before).
    #[arg(long, value_enum, value_name = "on|off")]
    pub email: Option<OnOff>,

    /// The address emails go to.
    #[arg(long, value_name = "ADDRESS")]
    pub email_to: Option<String>,

    /// The URL webhooks are posted to (http:// or https://); needs a secret (--secret-stdin)
    /// unless one is set already.
    #[arg(long, value_name = "URL", conflicts_with = "no_webhook")]
    pub webhook: Option<String>,

    /// Stop the webhook (its URL is removed).
    #[arg(long)]
    pub no_webhook: bool,

    /// Read the webhook's signing secret (16 to 256 bytes) from stdin's first line.
    #[arg(long)]
    pub secret_stdin: bool,

    /// The events notified, comma-separated: succeeded (or finished), failed, cancelled.
    #[arg(long, value_name = "EVENTS", value_delimiter = ',')]
    pub events: Option<Vec<String>>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `on` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// A role given by `mcsim share`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShareRole {
    /// Reads the model and its runs.
    Viewer,
    /// Also starts runs, uploads new versions and cancels runs.
    Editor,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people.
    Table,
    /// The full report as one JSON document (for scripts).
    Json,
}

/// Arguments of `mcsim parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The workbook (.xlsx or .xlsm).
    #[arg(value_name = "WORKBOOK")]
    pub workbook: PathBuf,

    /// Output format: `table` prints a summary; `json` prints the whole report, including
    /// every formula cell with `--recalc`, to stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Recalculate every formula cell and compare with the values stored in the file; exit
    /// with status 1 if any compared cell differs.
    #[arg(long)]
    pub recalc: bool,

    /// How many mismatching cells, top functions and cells per unsupported function to list
    /// in `table` format (`json` always lists all).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub show: usize,

    /// Workbook loading limits.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Limits on the workbook file, shared by every command that loads one.
#[derive(Debug, Args)]
#[command(next_help_heading = "Workbook limits")]
pub struct LoadArgs {
    /// Refuse a workbook whose parts would decompress to more than this many bytes
    /// (a guard against zip bombs). Accepts a plain number or a KiB/MiB/GiB suffix.
    #[arg(
        long,
        value_name = "BYTES",
        value_parser = parse_bytes,
        default_value = "1GiB"
    )]
    pub max_decompressed_bytes: u64,

    /// Refuse a workbook whose zip archive has more than this many entries.
    #[arg(
        long,
        value_name = "N",
        visible_alias = "max-entries",
        default_value_t = LoadOptions::default().max_entries
    )]
    pub max_zip_entries: usize,

    /// Refuse a workbook with a part over 1 MiB compressed more than this ratio to one.
    #[arg(long, value_name = "RATIO", default_value_t = LoadOptions::default().max_entry_ratio)]
    pub max_entry_ratio: u64,
}

impl LoadArgs {
    /// The loader's options.
    pub fn options(&self) -> LoadOptions {
        LoadOptions::default()
            .with_max_decompressed_bytes(self.max_decompressed_bytes)
            .with_max_entries(self.max_zip_entries)
            .with_max_entry_ratio(self.max_entry_ratio)
    }
}

/// Which backend runs the compiled model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum BackendArg {
    /// A GPU when one is usable and the model compiles for it, else the CPU (the report says
    /// which ran, and why not the GPU).
    #[default]
    Auto,
    /// The CPU.
    Cpu,
    /// A GPU; fails with the reason when none can be used.
    Cuda,
}

/// Sampling method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sampling {
    /// Latin Hypercube: stratified, so statistics converge faster (the default).
    Lhs,
    /// Plain Monte Carlo: independent draws.
    Mc,
}

impl Sampling {
    /// The name the library takes.
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Lhs => "lhs",
            Sampling::Mc => "mc",
        }
    }
}

/// Arguments of `mcsim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workbook (.xlsx or .xlsm).
    #[arg(value_name = "WORKBOOK", required_unless_present = "remote")]
    pub workbook: Option<PathBuf>,

    /// Run a model on the team server instead (its id or name; see `mcsim upload`): prints the
    /// run's id, or with --wait its report. --config sends the model file with it.
    #[arg(long, value_name = "MODEL", conflicts_with_all = ["workbook", "out", "out_format", "save_as", "report", "threads", "memory"])]
    pub remote: Option<String>,

    /// With --remote: follow the run's progress and print its report as a local run does
    /// (same formats and exit status).
    #[arg(long, requires = "remote")]
    pub wait: bool,

    /// A model file (TOML) listing inputs, outputs, correlations and run settings; its inputs
    /// override the workbook's distribution functions. Default: mcsim.toml beside the workbook,
    /// if there is one.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Number of iterations. Default: the model file's `iterations`, else 10000.
    #[arg(short = 'n', long, value_name = "N", value_parser = parse_positive)]
    pub iterations: Option<u64>,

    /// Seed of the random streams. Default: the model file's `seed`, else a random one; the
    /// seed used is always reported, so any run can be repeated exactly.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,

    /// Sampling method: `lhs` (Latin Hypercube) or `mc` (plain Monte Carlo). Default: the model
    /// file's `sampling`, else `lhs`.
    #[arg(long, value_enum, value_name = "METHOD")]
    pub sampling: Option<Sampling>,

    /// Worker threads. Default: all cores. Results do not depend on it.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// Backend: `auto` (a GPU when usable, else the CPU), `cpu` or `cuda` (fails with the
    /// reason when no GPU can be used). The report names the backend that ran.
    #[arg(long, value_enum, value_name = "BACKEND", default_value = "auto")]
    pub backend: BackendArg,

    /// The GPUs a GPU backend uses: `all` (the default) or device numbers such as `0,1`.
    /// Iterations are split across them in contiguous slices; results do not depend on the
    /// devices used.
    #[arg(long, value_name = "LIST", value_parser = parse_devices)]
    pub devices: Option<mcsim_ops::run::Devices>,

    /// Write every iteration's inputs and outputs to FILE; the format follows the extension:
    /// .parquet, .arrow (.feather, .ipc) or .csv (with the run's metadata in FILE.meta.json).
    /// Read it back with `mcsim results FILE`. `-` writes them to stdout (Parquet unless
    /// --out-format says otherwise) for a pipe; the report then goes to stderr, or to --report.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// The samples format of --out, whatever its extension. With `--out -`: `arrow` is the Arrow
    /// IPC stream format (`pyarrow.ipc.open_stream`), written block by block as the run goes, so
    /// a reader starts before the run ends; `csv` has a header row and no metadata.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "out")]
    pub out_format: Option<SamplesFormatArg>,

    /// Write the report (table or JSON, per --format) to FILE instead of stdout. Without it,
    /// `--out -` sends the report to stderr, keeping stdout for the samples alone.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Output format: `table` prints a summary for people; `json` prints the whole report
    /// (every statistic, sensitivity and threshold) to stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write a copy of the workbook to FILE (.xlsx, or .xlsm for a macro-enabled workbook) in
    /// which the statistics cells (RiskMean, RiskPercentile, ...) and the cells that depend on
    /// them hold the simulated values; everything else is kept as it is. FILE must not be the
    /// input workbook.
    #[arg(long, value_name = "FILE")]
    pub save_as: Option<PathBuf>,

    /// Fix a cell for this run (what-if): `Sheet!A1=VALUE`, split at the first `=`. VALUE is a
    /// number, TRUE/FALSE or text. A fixed input is no longer uncertain. Repeatable.
    #[arg(long = "set", value_name = "REF=VALUE", value_parser = parse_set)]
    pub sets: Vec<(String, String)>,

    /// Simulate this cell as an output, without a model file: `Sheet!B5`, `B5` (first sheet) or
    /// a defined name, optionally `=NAME` to name it. Repeatable; adds to the outputs the
    /// workbook marks (RiskOutput) and the model file lists. Without any outputs, the result
    /// formulas of a data table over a RAND() model are used.
    #[arg(long = "output", value_name = "REF[=NAME]", value_parser = parse_output)]
    pub outputs: Vec<(String, Option<String>)>,

    /// Statistics and threshold options.
    #[command(flatten)]
    pub stats: StatsArgs,

    /// Stop early once every output's mean and percentiles are stable within this relative
    /// tolerance (a fraction: 0.01 is 1%) at 95% confidence; -n is then the maximum.
    #[arg(long, value_name = "TOL", value_parser = parse_tolerance)]
    pub until_converged: Option<f64>,

    /// Run only shard I of N (`--shard 2/8`, I from 0): a contiguous slice of the iterations,
    /// the same values the unsharded run computes for them; with --out, the samples file keeps
    /// the run's iteration numbers and `mcsim results merge` joins the shards. `auto` reads the
    /// index from the scheduler: Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX, with --shards N
    /// or MCSIM_SHARDS), Slurm arrays (SLURM_ARRAY_TASK_ID), AWS Batch array jobs
    /// (AWS_BATCH_JOB_ARRAY_INDEX). -n is the whole run's iterations.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,

    /// The number of shards for `--shard auto` when the scheduler does not tell it (Kubernetes).
    #[arg(long, value_name = "N", requires = "shard")]
    pub shards: Option<u32>,

    /// With --shard: write the shard's accumulators (a small JSON file: the run's identity, and
    /// per output the block statistics and histogram) to FILE, a path or an s3:// URL. By
    /// default, with --shard and --out, they go beside the samples file (`shard-0.parquet` ->
    /// `shard-0.stats.json`). `mcsim results merge` of these files alone gives the run's
    /// statistics without its samples: moments, min, max, errors and targets exact, percentiles
    /// within a stated bracket.
    #[arg(long = "stats", value_name = "FILE", requires = "shard")]
    pub stats_file: Option<PathBuf>,

    /// Memory for keeping every sample in RAM (`512MiB`, `2GiB`, `1GB`, or bytes; default
    /// `1GiB`). Below it, statistics are exact from the kept samples. Beyond it, statistics
    /// stream in constant memory: moments, targets, percentiles, VaR and CVaR stay exact
    /// (percentiles by a second pass that recomputes the iterations), rank correlations use ranks
    /// estimated from the first pass; the JSON key `statistics_mode` says which.
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,

    /// Show at most N inputs per output in the sensitivity tables (`table` format).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,

    /// Workbook loading limits.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Statistics options shared by `run` and `results`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Also report this percentile, in percent: `--percentile 1` is the 1st percentile,
    /// `--percentile 99.5` the 99.5th (0 to 100). Repeatable. The 1st, 5th, 10th, 25th, 50th,
    /// 75th, 90th, 95th and 99th are always reported.
    #[arg(long = "percentile", value_name = "P", value_parser = parse_percent_closed)]
    pub percentiles: Vec<f64>,

    /// Report the value at risk (VaR) and conditional value at risk (CVaR) of the lower tail of
    /// this size, in percent like --percentile: `--var-level 5` gives the 5th percentile and the
    /// mean below it (0 < A < 100). Repeatable. The 5% tail is always reported.
    #[arg(long = "var-level", value_name = "A", value_parser = parse_percent_open)]
    pub var_levels: Vec<f64>,

    /// Report the probabilities of each output falling below and above X. Repeatable.
    #[arg(long = "target", value_name = "X", allow_negative_numbers = true)]
    pub targets: Vec<f64>,

    /// Exit with status 1 if this condition holds, e.g. `P(NPV < 0) > 0.2` or
    /// `mean(NPV) < 1e6` (see the grammar below). Repeatable; all are checked.
    #[arg(long = "fail-if", value_name = "EXPR")]
    pub fail_if: Vec<String>,
}

/// A samples file format (`--out-format`, `--in-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SamplesFormatArg {
    /// Apache Parquet (Snappy-compressed).
    Parquet,
    /// Arrow IPC: the file format (Feather v2) to a file, the stream format to a pipe.
    Arrow,
    /// Comma-separated values with a header row.
    Csv,
}

impl SamplesFormatArg {
    /// The library's format.
    pub fn format(self) -> mcsim_results::SamplesFormat {
        match self {
            SamplesFormatArg::Parquet => mcsim_results::SamplesFormat::Parquet,
            SamplesFormatArg::Arrow => mcsim_results::SamplesFormat::ArrowIpc,
            SamplesFormatArg::Csv => mcsim_results::SamplesFormat::Csv,
        }
    }
}

/// Output format of `mcsim results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultsFormat {
    /// A summary for people.
    Table,
    /// The full report as one JSON document (for scripts).
    Json,
    /// One CSV row per output: its statistics, or with --compare the comparison.
    Csv,
}

/// A chart `mcsim results` can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlotKind {
    /// Histogram of one output.
    Histogram,
    /// Cumulative distribution of one output.
    Cdf,
    /// Tornado chart of one output's rank correlations with the inputs.
    Tornado,
}

/// Arguments of `mcsim results`.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// The samples file (.parquet, .arrow/.feather/.ipc or .csv) written by `mcsim run --out`.
    /// `-` reads the samples from stdin (`mcsim run WB --out - | mcsim results -`), in the
    /// format told from their first bytes or given by --in-format; a Parquet stream is held in
    /// memory whole (its footer is at the end), up to 4 GiB; Arrow streams and CSV are not.
    /// `merge SHARD... --out FILE` first joins the samples files of a sharded run
    /// (`mcsim run --shard I/N --out ..`; paths or `*` patterns, any order) into FILE, checking
    /// that they are the shards of one run with none missing or repeated, then reports on FILE
    /// (equal to the unsharded run's statistics; JSON `mode`: `exact`). Given only the shards'
    /// accumulator files (`.json`, `mcsim run --shard I/N --stats FILE`), it merges those
    /// (JSON `mode`: `merged-accumulators`): moments, min, max, errors and targets exact,
    /// percentiles estimated with a bracket `[low, high]` that holds the exact value; --out
    /// FILE.json is then optional and gets the JSON report. A file named `merge` is read as
    /// `./merge`.
    #[arg(value_name = "FILE", required_unless_present = "remote", num_args = 1..)]
    pub files: Vec<PathBuf>,

    /// With `merge`: the merged samples file (format from the extension, or --out-format); for
    /// a merge of accumulator files, a .json file for the merged statistics.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// With `merge`: the merged file's format, whatever its extension.
    #[arg(long, value_enum, value_name = "FORMAT", requires = "out")]
    pub out_format: Option<SamplesFormatArg>,

    /// Print the stored report of a run on the team server instead (`mcsim run --remote`).
    /// With --compare RUN_ID, compares the two runs' samples on the server; with --plot, the
    /// server draws the chart.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["files", "in_format"])]
    pub remote: Option<String>,

    /// With --remote: download the run's samples (Parquet) to FILE.
    #[arg(long, value_name = "FILE", requires = "remote")]
    pub samples: Option<PathBuf>,

    /// The format of the samples read from stdin (`-`), when not to be told from their first
    /// bytes.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub in_format: Option<SamplesFormatArg>,

    /// Output format: `table` prints a summary; `json` the whole report; `csv` one row per
    /// output (its statistics; with --compare, the comparison).
    #[arg(long, value_enum, default_value_t = ResultsFormat::Table)]
    pub format: ResultsFormat,

    /// Report only this output (default: every output).
    #[arg(long, value_name = "NAME")]
    pub output: Option<String>,

    /// Compare with another samples file (B), output by output: B minus this file (A). With
    /// --remote, another run's id.
    #[arg(long, value_name = "OTHER_FILE")]
    pub compare: Option<PathBuf>,

    /// Draw a chart of --output (default: the first output) to the file given by --to.
    #[arg(long, value_enum, requires = "to", value_name = "KIND")]
    pub plot: Option<PlotKind>,

    /// Where --plot writes its chart: FILE.svg or FILE.png.
    #[arg(long, value_name = "FILE", requires = "plot")]
    pub to: Option<PathBuf>,

    /// Statistics and threshold options.
    #[command(flatten)]
    pub stats: StatsArgs,

    /// Show at most N inputs per output in the sensitivity tables (`table` format).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub top: usize,
}

/// Arguments of `mcsim generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Do not write: compare with the files already in the directory and exit with status 1
    /// if any is missing or different.
    #[arg(long, global = true)]
    pub check: bool,

    /// What to generate.
    #[command(subcommand)]
    pub what: GenerateWhat,
}

/// What `mcsim generate` writes.
#[derive(Debug, Subcommand)]
pub enum GenerateWhat {
    /// Man pages (`mcsim.1` and one per subcommand) into DIR.
    Man {
        /// The directory.
        dir: PathBuf,
    },
    /// The completion script for SHELL (or every shell, with `all`) into DIR.
    Completions {
        /// The shell, or `all`.
        shell: ShellChoice,
        /// The directory.
        dir: PathBuf,
    },
    /// Both, into ROOT/man and ROOT/completions: `cargo run -- generate all .` refreshes the
    /// repository's copies.
    All {
        /// The directory holding `man/` and `completions/`.
        #[arg(default_value = ".")]
        root: PathBuf,
    },
}

/// A shell, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellChoice {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
    /// Every shell above.
    All,
}

/// Parses a byte count: `1048576`, `512KiB`, `64MiB`, `1GiB` (also `K`, `M`, `G`, binary).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a byte count (examples: 1048576, 64MiB, 1GiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit `{other}` (use a plain number of bytes, or KiB, MiB, GiB)"
            ));
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Parses `--set REF=VALUE`, split at the first `=`.
fn parse_set(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((reference, value)) if !reference.trim().is_empty() => {
            Ok((reference.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not REF=VALUE (example: --set Inputs!B9=0.1)"
        )),
    }
}

/// `REF` or `REF=NAME`.
fn parse_output(text: &str) -> Result<(String, Option<String>), String> {
    let (reference, name) = match text.split_once('=') {
        Some((r, n)) => (r.trim(), Some(n.trim())),
        None => (text.trim(), None),
    };
    if reference.is_empty() || name.is_some_and(str::is_empty) {
        return Err(format!(
            "`{text}` is not REF or REF=NAME (example: --output Model!B12=Profit)"
        ));
    }
    Ok((reference.to_owned(), name.map(str::to_owned)))
}

fn parse_number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))
}

/// A count of at least 1.
fn parse_positive(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".to_owned()),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A thread count of at least 1.
fn parse_threads(text: &str) -> Result<usize, String> {
    let n = parse_positive(text)?;
    usize::try_from(n).map_err(|_| format!("{n} threads is too many"))
}

/// `--devices`: `all` or a list of device numbers.
fn parse_devices(text: &str) -> Result<mcsim_ops::run::Devices, String> {
    mcsim_ops::run::Devices::parse(text)
}

/// A percent in [0, 100], returned as a fraction.
fn parse_percent_closed(text: &str) -> Result<f64, String> {
    let p = parse_number(text)?;
    if (0.0..=100.0).contains(&p) {
        Ok(p / 100.0)
    } else {
        Err(format!(
            "{p} is not a percentile: give it in percent, from 0 to 100 (5 is the 5th percentile)"
        ))
    }
}

/// A percent in (0, 100), returned as a fraction.
fn parse_percent_open(text: &str) -> Result<f64, String> {
    let p = parse_number(text)?;
    if p > 0.0 && p < 100.0 {
        Ok(p / 100.0)
    } else {
        Err(format!(
            "{p} is not a tail level: give it in percent, above 0 and below 100 (5 is the 5% lower tail)"
        ))
    }
}

/// A relative tolerance in (0, 1).
fn parse_tolerance(text: &str) -> Result<f64, String> {
    let t = parse_number(text)?;
    if t > 0.0 && t < 1.0 {
        Ok(t)
    } else {
        Err(format!(
            "{t} is not a relative tolerance: give a fraction above 0 and below 1 (0.01 is 1%)"
        ))
    }
}

/// `--memory SIZE`: bytes from `512MiB`, `2GiB`, `1.5GB`, `100000`.
fn parse_memory(s: &str) -> Result<u64, String> {
    mcsim_ops::run::parse_size(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("100"), Ok(100));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("1gib"), Ok(1 << 30));
        assert_eq!(parse_bytes("2K"), Ok(2048));
        assert!(parse_bytes("").is_err());
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("99999999999999999999").is_err());
        assert!(parse_bytes("99999999999G").is_err());
    }

    #[test]
    fn sets_percents_and_tolerances() {
        assert_eq!(
            parse_set("Inputs!B9=0.5"),
            Ok(("Inputs!B9".to_owned(), "0.5".to_owned()))
        );
        assert_eq!(parse_set("A1=x=y"), Ok(("A1".to_owned(), "x=y".to_owned())));
        assert!(parse_set("A1").is_err());
        assert!(parse_set("=3").is_err());
        assert_eq!(parse_percent_closed("5"), Ok(0.05));
        assert_eq!(parse_percent_closed("100"), Ok(1.0));
        assert!(parse_percent_closed("101").is_err());
        assert!(parse_percent_closed("-1").is_err());
        assert!(parse_percent_closed("nan").is_err());
        assert_eq!(parse_percent_open("2.5"), Ok(0.025));
        assert!(parse_percent_open("0").is_err());
        assert!(parse_percent_open("100").is_err());
        assert_eq!(parse_tolerance("0.01"), Ok(0.01));
        assert!(parse_tolerance("1").is_err());
        assert!(parse_tolerance("0").is_err());
    }
}

//! The team server's commands: `serve` runs it (`mcsim_server`); `register`, `login`,
//! `logout`, `user add`, `upload`, `share`, `notify`, `run --remote` and `results --remote` are its
//! client, over HTTP with a blocking client so the command line stays synchronous. The login
//! token is kept in `credentials.json` (mode 0600) in the configuration directory.

use std::fs;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::report::{self, Align, num};
use super::{ExitStatus, Printer, StatsOptions};
use crate::cli::{
    CancelArgs, Format, LoginArgs, LogoutArgs, NotifyArgs, OnOff, RegisterArgs, ResultsArgs,
    ResultsFormat, RunArgs, ServeArgs, ShareArgs, ShareRole, UploadArgs, UserCommand,
};

// -------------------------------------------------------------------------------------------
// serve

/// Runs `mcsim serve` (or creates an admin with `--create-admin`): the flags over the
/// `--config` file over the defaults.
pub fn serve(args: ServeArgs, printer: Printer) -> Result<ExitStatus> {
    let options = serve_options(&args)?;
    if let Some(name) = args.create_admin {
        let password = read_password(true, "")?;
        mcsim_server::create_admin_blocking(options, &name, &password).map_err(|e| anyhow!(e))?;
        printer.info(format_args!("created admin {name}"));
        return Ok(ExitStatus::Success);
    }
    mcsim_server::serve_blocking(options).map_err(|e| anyhow!(e))?;
    Ok(ExitStatus::Success)
}

/// The settings given as flags, in the configuration file's terms.
fn serve_flags(args: &ServeArgs) -> Result<mcsim_server::ServeConfig> {
    Ok(mcsim_server::ServeConfig {
        bind: args.bind,
        data_dir: args.data_dir.clone(),
        database: args.database.clone(),
        database_schema: args.database_schema.clone(),
        storage: args.storage.clone(),
        registration: args
            .open_registration
            .then_some(mcsim_server::config::Registration::Open),
        workers: args.workers,
        threads: args.threads,
        max_upload: args.max_upload.map(mcsim_server::config::ByteSize),
        max_iterations: args.max_iterations,
        token_ttl: args.token_ttl,
        log_format: args
            .log_format
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| anyhow!(e))?,
        public_url: args.public_url.clone(),
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        ..mcsim_server::ServeConfig::default()
    })
}

fn serve_options(args: &ServeArgs) -> Result<mcsim_server::ServeOptions> {
    let file = match &args.config {
        Some(path) => mcsim_server::ServeConfig::load(path).map_err(|e| anyhow!(e))?,
        None => mcsim_server::ServeConfig::default(),
    };
    serve_flags(args)?
        .over(file)
        .into_options(|| data_dir().map_err(|e| e.to_string()))
        .map_err(|e| anyhow!(e))
}

/// Whether `mcsim serve` logs JSON (`--log-format json`, or `log_format = "json"` in its
/// configuration file); decided before logging starts. A file that cannot be read is reported
/// by the command itself.
pub fn serve_json_logs(args: &ServeArgs) -> bool {
    match &args.log_format {
        Some(format) => format == "json",
        None => {
            args.config
                .as_deref()
                .and_then(|path| mcsim_server::ServeConfig::load(path).ok())
                .and_then(|c| c.log_format)
                == Some(mcsim_server::LogFormat::Json)
        }
    }
}

/// The platform's data directory + `mcsim-server` (by hand, as [`config_dir`]).
fn data_dir() -> Result<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local").join("share")))
    };
    base.map(|b| b.join("mcsim-server"))
        .ok_or_else(|| anyhow!("no data directory: give --data-dir"))
}

// -------------------------------------------------------------------------------------------
// The saved session

/// What `mcsim login` saves.
#[derive(Debug, Serialize, Deserialize)]
struct Session {
    server: String,
    user: String,
    token: String,
    expires_at: i64,
}

/// `$MCSIM_CONFIG_DIR`, else the platform's configuration directory + `mcsim`. Written by
/// hand (a few environment variables) rather than with the `dirs` crate, to add no
/// dependency for it.
fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("MCSIM_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = if cfg!(windows) {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library").join("Application Support"))
    } else {
        env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")))
    };
    base.map(|b| b.join("mcsim"))
        .ok_or_else(|| anyhow!("no configuration directory: set MCSIM_CONFIG_DIR"))
}

fn session_path() -> Result<PathBuf> {
    Ok(config_dir()?.join("credentials.json"))
}

fn load_session() -> Result<Session> {
    let path = session_path()?;
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            bail!("not logged in: run `mcsim login --server URL --user NAME`")
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    serde_json::from_str(&text)
        .with_context(|| format!("{} is damaged: run `mcsim login` again", path.display()))
}

/// Saves the session readable by the user only (0600, in a 0700 directory on Unix).
fn save_session(session: &Session) -> Result<PathBuf> {
    let path = session_path()?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = serde_json::to_string_pretty(session)?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An existing file keeps its mode on open: set it.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())?;
    Ok(path)
}

// -------------------------------------------------------------------------------------------
// HTTP

/// A client of one server, with the saved token when logged in.
struct Remote {
    http: Client,
    server: String,
    token: Option<String>,
}

impl Remote {
    fn new(server: &str, token: Option<String>) -> Result<Self> {
        let server = server.trim_end_matches('/').to_owned();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            bail!("--server `{server}`: give a URL such as http://host:8080");
        }
        let http = Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .context("cannot start the HTTP client")?;
        Ok(Remote {
            http,
            server,
            token,
        })
    }

    fn logged_in() -> Result<(Self, Session)> {
        let session = load_session()?;
        let remote = Remote::new(&session.server, Some(session.token.clone()))?;
        Ok((remote, session))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.server)
    }

    fn with_token(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.with_token(self.http.get(self.url(path)))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.with_token(self.http.post(self.url(path)))
    }

    fn delete(&self, path: &str) -> RequestBuilder {
        self.with_token(self.http.delete(self.url(path)))
    }

    /// Sends, and turns an error status into the server's one-line message.
    fn send(&self, request: RequestBuilder) -> Result<Response> {
        let response = request.send().map_err(|e| {
            anyhow!(
                "cannot reach the server at {}: {}",
                self.server,
                error_chain(&e)
            )
        })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(server_error(response))
        }
    }

    fn json(&self, request: RequestBuilder) -> Result<Value> {
        let response = self.send(request)?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        response
            .json()
            .map_err(|e| anyhow!("the server's answer is not JSON: {}", error_chain(&e)))
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.ends_with(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// The server's error as one line: `not found: model m12...`, `too large: ...`.
fn server_error(response: Response) -> anyhow::Error {
    let status = response.status();
    let body: Option<Value> = response.json().ok();
    let code = body
        .as_ref()
        .and_then(|b| b["error"]["code"].as_str())
        .unwrap_or("")
        .to_owned();
    let message = body
        .as_ref()
        .and_then(|b| b["error"]["message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the server answered {status}"));
    match code.as_str() {
        "not_found" => anyhow!("not found: {message}"),
        "too_large" => anyhow!("too large: {message}"),
        "forbidden" => anyhow!("forbidden: {message}"),
        "rate_limited" => anyhow!("rate limited: {message}"),
        "token_expired" => anyhow!("token expired: run `mcsim login` again"),
        _ => anyhow!("{message}"),
    }
}

/// The password: stdin's first line with `--password-stdin`, else asked on the terminal
/// without echo (`stty -echo`).
fn read_password(from_stdin: bool, prompt: &str) -> Result<String> {
    let mut line = String::new();
    if from_stdin {
        io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
    } else if io::stdin().is_terminal() {
        let mut err = io::stderr().lock();
        write!(err, "{prompt}")?;
        err.flush()?;
        let echo_off = std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success());
        let read = io::stdin().lock().read_line(&mut line);
        if echo_off {
            let _ = std::process::Command::new("stty")
                .arg("echo")
                .stdin(std::process::Stdio::inherit())
                .status();
        }
        writeln!(err)?;
        read.context("cannot read the password")?;
    } else {
        bail!("stdin is not a terminal: give the password on stdin with --password-stdin");
    }
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("the password is empty");
    }
    Ok(password)
}

fn print_json(value: &Value) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

fn print_line(text: impl std::fmt::Display) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

// -------------------------------------------------------------------------------------------
// Accounts

/// Runs `mcsim register`.
pub fn register(args: RegisterArgs, _printer: Printer) -> Result<ExitStatus> {
    let password = read_password(args.password_stdin, "password: ")?;
    let remote = Remote::new(&args.server, None)?;
    let answer = remote.json(
        remote
            .post("/register")
            .json(&json!({"username": args.user, "password": password})),
    )?;
    match args.format {
        Format::Json => print_json(&answer)?,
        Format::Table => print_line(format_args!(
            "registered {} on {} (log in with `mcsim login`)",
            args.user, remote.server
        ))?,
    }
    Ok(ExitStatus::Success)
}

/// Runs `mcsim login`.
pub fn login(args: LoginArgs, printer: Printer) -> Result<ExitStatus> {
    let password = read_password(args.password_stdin, "password: ")?;
    let remote = Remote::new(&args.server, None)?;
    let answer = remote.json(
        remote
            .post("/login")
            .json(&json!({"username": args.user, "password": password})),
    )?;
    let token = answer["token"]
        .as_str()
        .ok_or_else(|| anyhow!("the server's login answer has no token"))?
        .to_owned();
    let session = Session {
        server: remote.server.clone(),
        user: args.user.clone(),
        token,
        expires_at: answer["expires_at"].as_i64().unwrap_or(0),
    };
    let path = save_session(&session)?;
    printer.info(format_args!("token saved in {}", path.display()));
    match args.format {
        Format::Json => print_json(&json!({
            "server": session.server, "user": session.user, "expires_at": session.expires_at,
        }))?,
        Format::Table => print_line(format_args!(
            "logged in to {} as {}",
            session.server, session.user
        ))?,
    }
    Ok(ExitStatus::Success)
}

/// Runs `mcsim logout`: revokes the token (an already invalid one is fine) and forgets it.
pub fn logout(args: LogoutArgs, _printer: Printer) -> Result<ExitStatus> {
    let (remote, session) = Remote::logged_in()?;
    match remote.send(remote.post("/logout")) {
        Ok(_) => {}
        Err(e) if e.to_string().starts_with("token expired") => {}
        Err(e) if e.to_string().starts_with("not logged in") => {}
        Err(e) => return Err(e),
    }
    let path = session_path()?;
    fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    match args.format {
        Format::Json => print_json(&json!({"server": session.server, "user": session.user}))?,
        Format::Table => print_line(format_args!("logged out of {}", session.server))?,
    }
    Ok(ExitStatus::Success)
}

/// Runs `mcsim user ...`.
pub fn user(command: UserCommand, _printer: Printer) -> Result<ExitStatus> {
    match command {
        UserCommand::Add(args) => {
            let password = read_password(args.password_stdin, "new user's password: ")?;
            let (remote, _) = Remote::logged_in()?;
            let answer = remote.json(remote.post("/users").json(&json!({
                "username": args.name, "password": password, "admin": args.admin,
            })))?;
            match args.format {
                Format::Json => print_json(&answer)?,
                Format::Table => print_line(format_args!(
                    "added {}{}",
                    args.name,
                    if args.admin { " (admin)" } else { "" }
                ))?,
            }
            Ok(ExitStatus::Success)
        }
        UserCommand::Password(args) => {
            let old = read_password(args.password_stdin, "current password: ")?;
            let new = read_password(args.password_stdin, "new password: ")?;
            let (remote, session) = Remote::logged_in()?;
            remote.json(
                remote
                    .post("/password")
                    .json(&json!({"old_password": old, "new_password": new})),
            )?;
            match args.format {
                Format::Json => print_json(&json!({"user": session.user, "changed": true}))?,
                Format::Table => print_line(format_args!(
                    "password changed for {} (other logins have ended)",
                    session.user
                ))?,
            }
            Ok(ExitStatus::Success)
        }
        UserCommand::Disable(args) => set_disabled(&args.name, "disable", args.format),
        UserCommand::Enable(args) => set_disabled(&args.name, "enable", args.format),
    }
}

/// `mcsim user disable|enable NAME`.
fn set_disabled(name: &str, action: &str, format: Format) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let answer = remote.json(remote.post(&format!("/users/{}/{action}", path_segment(name))))?;
    match format {
        Format::Json => print_json(&answer)?,
        Format::Table => print_line(format_args!("{action}d {name}"))?,
    }
    Ok(ExitStatus::Success)
}

// -------------------------------------------------------------------------------------------
// Models and sharing

/// Runs `mcsim upload`.
pub fn upload(args: UploadArgs, _printer: Printer) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let bytes =
        fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workbook.xlsx".into());
    let mut query = format!("?file_name={}", path_segment(&file_name));
    if let Some(name) = &args.name {
        query.push_str(&format!("&name={}", path_segment(name)));
    }
    let answer = remote.json(
        remote
            .post(&format!("/models{query}"))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes),
    )?;
    match args.format {
        Format::Json => print_json(&answer)?,
        Format::Table => {
            let mut out = io::stdout().lock();
            writeln!(out, "id       {}", answer["id"].as_str().unwrap_or("?"))?;
            writeln!(out, "name     {}", answer["name"].as_str().unwrap_or("?"))?;
            writeln!(out, "version  {}", answer["version"])?;
            let totals = &answer["summary"]["totals"];
            if totals.is_object() {
                writeln!(
                    out,
                    "parsed   {} sheets, {} formulas, {} unsupported functions",
                    totals["sheets"], totals["formulas"], totals["unsupported_functions"]
                )?;
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// Runs `mcsim share`.
pub fn share(args: ShareArgs, _printer: Printer) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let kind = if args.id.starts_with('r') {
        "runs"
    } else {
        "models"
    };
    let answer = if args.revoke {
        remote.json(remote.delete(&format!(
            "/{kind}/{}/shares/{}",
            path_segment(&args.id),
            path_segment(&args.with)
        )))?;
        json!({"id": args.id, "user": args.with, "role": null})
    } else {
        let role = match args.role {
            Some(ShareRole::Editor) => "editor",
            _ => "viewer",
        };
        remote.json(
            remote
                .post(&format!("/{kind}/{}/shares", path_segment(&args.id)))
                .json(&json!({"user": args.with, "role": role})),
        )?
    };
    match args.format {
        Format::Json => print_json(&answer)?,
        Format::Table if args.revoke => {
            print_line(format_args!(
                "revoked {}'s access to {}",
                args.with, args.id
            ))?;
        }
        Format::Table => print_line(format_args!(
            "shared {} with {} as {}",
            args.id,
            args.with,
            answer["role"].as_str().unwrap_or("?")
        ))?,
    }
    Ok(ExitStatus::Success)
}

/// Runs `mcsim notify`: without options prints the settings (`GET /api/v1/notifications`),
/// with some changes those (`PUT`, the others kept) and prints the result.
pub fn notify(args: NotifyArgs, _printer: Printer) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let mut change = serde_json::Map::new();
    if let Some(address) = &args.email_to {
        change.insert("email".into(), json!(address));
    }
    if let Some(email) = args.email {
        change.insert("email_enabled".into(), json!(email == OnOff::On));
    }
    if let Some(url) = &args.webhook {
        change.insert("webhook_url".into(), json!(url));
    }
    if args.no_webhook {
        change.insert("webhook_url".into(), Value::Null);
    }
    if args.secret_stdin {
        let mut line = String::new();
        io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the webhook secret from stdin")?;
        let secret = line.trim_end_matches(['\n', '\r']);
        if secret.is_empty() {
            bail!("the webhook secret on stdin is empty");
        }
        change.insert("webhook_secret".into(), json!(secret));
    }
    if let Some(events) = &args.events {
        let events: Vec<&str> = events
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| if e == "finished" { "succeeded" } else { e })
            .collect();
        change.insert("events".into(), json!(events));
    }
    let settings = if change.is_empty() {
        remote.json(remote.get("/notifications"))?
    } else {
        remote.json(
            remote
                .with_token(remote.http.put(remote.url("/notifications")))
                .json(&Value::Object(change)),
        )?
    };
    match args.format {
        Format::Json => print_json(&settings)?,
        Format::Table => {
            let text = |key: &str| settings[key].as_str().map(str::to_owned);
            let email = match (settings["email_enabled"].as_bool(), text("email")) {
                (Some(true), Some(address)) => format!("on, to {address}"),
                (_, Some(address)) => format!("off (address {address})"),
                _ => "off".to_owned(),
            };
            let webhook = match text("webhook_url") {
                Some(url) if settings["webhook_secret_set"].as_bool() == Some(true) => {
                    format!("{url} (signed)")
                }
                Some(url) => url,
                None => "none".to_owned(),
            };
            let events: Vec<&str> = settings["events"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            print_line(format_args!("email:   {email}"))?;
            print_line(format_args!("webhook: {webhook}"))?;
            print_line(format_args!(
                "events:  {}",
                if events.is_empty() {
                    "none".to_owned()
                } else {
                    events.join(", ")
                }
            ))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// Runs `mcsim cancel`.
pub fn cancel(args: CancelArgs, _printer: Printer) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let answer = remote.json(remote.post(&format!("/runs/{}/cancel", path_segment(&args.id))))?;
    match args.format {
        Format::Json => print_json(&answer)?,
        Format::Table => print_line(format_args!(
            "{} {}",
            args.id,
            answer["status"].as_str().unwrap_or("?")
        ))?,
    }
    Ok(ExitStatus::Success)
}

/// Percent-encodes a path segment or query value (ids and user names are plain, but a typo
/// must not change the path).
fn path_segment(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// -------------------------------------------------------------------------------------------
// Runs

/// Runs `mcsim run --remote MODEL`.
pub fn run(args: RunArgs, stats: StatsOptions, printer: Printer) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let config = match &args.config {
        Some(path) => Some(
            fs::read_to_string(path)
                .with_context(|| format!("cannot read the model file {}", path.display()))?,
        ),
        None => None,
    };
    let request = json!({
        "model": args.remote,
        "iterations": args.iterations,
        "seed": args.seed,
        "sampling": args.sampling.map(|s| s.name()),
        "sets": args.sets,
        "outputs": args.outputs,
        "percentiles": stats.percentiles,
        "risk_levels": stats.risk_levels,
        "targets": stats.targets,
        "fail_if": stats.fail_if,
        "until_converged": args.until_converged,
        "config": config,
    });
    let answer = remote.json(remote.post("/runs").json(&request))?;
    let id = answer["id"]
        .as_str()
        .ok_or_else(|| anyhow!("the server's answer has no run id"))?
        .to_owned();
    if !args.wait {
        match args.format {
            Format::Json => print_json(&json!({"id": id}))?,
            Format::Table => print_line(&id)?,
        }
        return Ok(ExitStatus::Success);
    }
    let status = follow(&remote, &id, printer)?;
    finished_report(&remote, &id, &status, args.format, printer)
}

/// Follows a run's Server-Sent Events until it ends; returns its last status document.
fn follow(remote: &Remote, id: &str, printer: Printer) -> Result<Value> {
    let response = remote.send(
        remote
            .get(&format!("/runs/{}/events", path_segment(id)))
            .timeout(Duration::from_secs(30 * 24 * 3600)),
    )?;
    let bar = (!printer.is_quiet() && io::stderr().is_terminal()).then(|| {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {human_pos}/{human_len} iterations  {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let mut event = String::new();
    let mut data = String::new();
    let mut end = None;
    for line in BufReader::new(response).lines() {
        let line = line.context("the progress stream broke off")?;
        if line.is_empty() {
            let doc: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
            if event == "end" {
                end = Some(doc);
                break;
            }
            if let Some(bar) = &bar {
                bar.set_message(doc["status"].as_str().unwrap_or("").to_owned());
                if let (Some(done), Some(total)) = (doc["done"].as_u64(), doc["total"].as_u64()) {
                    bar.set_length(total);
                    bar.set_position(done);
                }
            }
            event.clear();
            data.clear();
        } else if let Some(value) = line.strip_prefix("event:") {
            event = value.trim().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push_str(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    match end {
        Some(doc) => Ok(doc),
        None => remote.json(remote.get(&format!("/runs/{}", path_segment(id)))),
    }
}

/// Prints a finished run's report, or fails with why it has none.
fn finished_report(
    remote: &Remote,
    id: &str,
    status: &Value,
    format: Format,
    printer: Printer,
) -> Result<ExitStatus> {
    match status["status"].as_str().unwrap_or("") {
        "succeeded" => {}
        "failed" => bail!(
            "run {id} failed: {}",
            status["error"].as_str().unwrap_or("no reason given")
        ),
        "cancelled" => bail!("run {id} was cancelled"),
        "deleted" => bail!("not found: run {id} (deleted)"),
        other => bail!(
            "run {id} is {other} ({} of {} iterations): try again later",
            status["done"],
            status["total"]
        ),
    }
    let report = remote.json(remote.get(&format!("/runs/{}/report", path_segment(id))))?;
    for warning in report["warnings"].as_array().into_iter().flatten() {
        if let Some(w) = warning.as_str() {
            printer.warn(w);
        }
    }
    match format {
        Format::Json => print_json(&report)?,
        Format::Table => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            write_report_table(&mut out, id, &report)?;
            out.flush()?;
        }
    }
    let mut failed = false;
    for t in report["thresholds"].as_array().into_iter().flatten() {
        if t["holds"].as_bool() == Some(true) {
            failed = true;
            printer.always(format_args!(
                "failed: --fail-if `{}` holds (the statistic is {})",
                t["condition"].as_str().unwrap_or("?"),
                t["value"].as_f64().map_or_else(|| "?".to_owned(), num)
            ));
        }
    }
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// A remote run's report for people: the run, the outputs' statistics, the most influential
/// inputs and the thresholds (`--format json` gives everything, as a local run).
fn write_report_table(out: &mut impl Write, id: &str, report: &Value) -> io::Result<()> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    writeln!(out, "Run {id}")?;
    writeln!(out, "  workbook     {}", text(&report["workbook"]))?;
    writeln!(out, "  iterations   {}", text(&report["iterations"]))?;
    writeln!(out, "  seed         {}", text(&report["seed"]))?;
    writeln!(out, "  sampling     {}", text(&report["sampling"]))?;
    writeln!(out, "  evaluation   {}", text(&report["evaluation"]))?;
    writeln!(
        out,
        "  elapsed      {:.2} s",
        report["elapsed_seconds"].as_f64().unwrap_or(0.0)
    )?;
    let outputs = report["outputs"].as_array().cloned().unwrap_or_default();
    writeln!(out)?;
    writeln!(out, "Outputs ({})", outputs.len())?;
    let header = [
        "output", "mean", "sd", "min", "p5", "p50", "p95", "max", "errors",
    ];
    let mut align = vec![Align::Right; header.len()];
    align[0] = Align::Left;
    let number = |v: &Value| v.as_f64().map_or_else(|| "-".to_owned(), num);
    let rows: Vec<Vec<String>> = outputs
        .iter()
        .map(|o| {
            let s = &o["summary"];
            let pct = |p: f64| {
                s["percentiles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|x| x["p"].as_f64().is_some_and(|q| (q - p).abs() < 1e-12))
                    .map_or_else(|| "-".to_owned(), |x| number(&x["value"]))
            };
            vec![
                text(&o["name"]),
                number(&s["mean"]),
                number(&s["std_dev"]),
                number(&s["min"]),
                pct(0.05),
                pct(0.5),
                pct(0.95),
                number(&s["max"]),
                text(&s["errors"]),
            ]
        })
        .collect();
    report::write_table(out, &header, &align, &rows)?;
    let thresholds = report["thresholds"].as_array().cloned().unwrap_or_default();
    if !thresholds.is_empty() {
        writeln!(out)?;
        writeln!(out, "Thresholds")?;
        for t in &thresholds {
            writeln!(
                out,
                "  {}  {}  {}",
                text(&t["condition"]),
                number(&t["value"]),
                if t["holds"].as_bool() == Some(true) {
                    "HOLDS"
                } else {
                    "ok"
                }
            )?;
        }
    }
    Ok(())
}

/// Runs `mcsim results --remote RUN_ID [--samples FILE]`.
pub fn results(args: ResultsArgs, printer: Printer) -> Result<ExitStatus> {
    let (remote, _) = Remote::logged_in()?;
    let id = args.remote.clone().unwrap_or_default();
    let status = remote.json(remote.get(&format!("/runs/{}", path_segment(&id))))?;
    if let Some(path) = &args.samples
        && status["status"] == "succeeded"
    {
        download(
            &remote,
            &format!("/runs/{}/samples", path_segment(&id)),
            path,
        )?;
        printer.info(format_args!("samples written to {}", path.display()));
    }
    if let (Some(kind), Some(to)) = (args.plot, &args.to) {
        let chart = match kind {
            crate::cli::PlotKind::Histogram => "histogram",
            crate::cli::PlotKind::Cdf => "cdf",
            crate::cli::PlotKind::Tornado => "tornado",
        };
        let format = match to.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("png") => "png",
            Some(e) if e.eq_ignore_ascii_case("svg") => "svg",
            _ => bail!("--to {}: give a .svg or .png file", to.display()),
        };
        let mut query = format!("?chart={chart}&format={format}");
        if let Some(output) = &args.output {
            query.push_str(&format!("&output={}", path_segment(output)));
        }
        download(
            &remote,
            &format!("/runs/{}/plot{query}", path_segment(&id)),
            to,
        )?;
        printer.info(format_args!("chart written to {}", to.display()));
        return Ok(ExitStatus::Success);
    }
    if let Some(other) = &args.compare {
        return compare(&remote, &id, &other.to_string_lossy(), args.format);
    }
    let format = match args.format {
        ResultsFormat::Json => Format::Json,
        ResultsFormat::Table => Format::Table,
        ResultsFormat::Csv => {
            bail!("--format csv is not available with --remote: use table or json")
        }
    };
    finished_report(&remote, &id, &status, format, printer)
}

/// `mcsim results --remote A --compare B`: the server compares the runs' samples.
fn compare(remote: &Remote, a: &str, b: &str, format: ResultsFormat) -> Result<ExitStatus> {
    let report = remote.json(remote.get(&format!(
        "/runs/{}/compare/{}",
        path_segment(a),
        path_segment(b)
    )))?;
    match format {
        ResultsFormat::Json => print_json(&report)?,
        ResultsFormat::Csv => {
            bail!("--format csv is not available with --remote: use table or json")
        }
        ResultsFormat::Table => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            writeln!(out, "Run {b} compared with run {a} (B - A)")?;
            let header = ["output", "mean A", "mean B", "diff", "differs (5%)"];
            let mut align = vec![Align::Right; header.len()];
            align[0] = Align::Left;
            let number = |v: &Value| v.as_f64().map_or_else(|| "-".to_owned(), num);
            let rows: Vec<Vec<String>> = report["comparison"]["outputs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| {
                    vec![
                        o["output"].as_str().unwrap_or("?").to_owned(),
                        number(&o["mean_a"]),
                        number(&o["mean_b"]),
                        number(&o["mean_diff"]),
                        if o["mean_differs"].as_bool() == Some(true) {
                            "yes".to_owned()
                        } else {
                            "no".to_owned()
                        },
                    ]
                })
                .collect();
            report::write_table(&mut out, &header, &align, &rows)?;
            out.flush()?;
        }
    }
    Ok(ExitStatus::Success)
}

/// Downloads to `path` through a temporary file beside it, so that a broken transfer leaves
/// nothing half-written.
fn download(remote: &Remote, api_path: &str, path: &Path) -> Result<()> {
    let mut response = remote.send(remote.get(api_path).timeout(Duration::from_secs(3600)))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = dir.join(format!(
        ".{}.part",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".into())
    ));
    let result = (|| -> Result<()> {
        let mut file =
            fs::File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = response
                .read(&mut buffer)
                .context("the download broke off")?;
            if n == 0 {
                break;
            }
            file.write_all(&buffer[..n])?;
        }
        file.sync_all()?;
        fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

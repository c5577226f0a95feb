//! The team server end to end: `mcsim serve` on 127.0.0.1 with a random port, driven by the
//! real `mcsim` binary as two users (plus raw HTTP for the endpoints the CLI does not call).
//! Runs on SQLite, and on PostgreSQL too when `MCSIM_TEST_POSTGRES` holds a URL
//! (`postgres://postgres@127.0.0.1:5432/test`), each run in a fresh schema.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Run, temp};
use crate::run::{means, risk_model, run_json};

/// A running `mcsim serve`.
struct Server {
    child: Child,
    url: String,
    /// Its stderr, line by line, as far as read.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Stops it abruptly (as a crash would).
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it with SIGTERM (a graceful shutdown) and waits up to 60 s for it to exit.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `host:port`.
    fn addr(&self) -> &str {
        self.url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
    }
}

/// Where the server keeps its data, and its database arguments.
struct Backend {
    data: PathBuf,
    db_args: Vec<String>,
}

impl Backend {
    fn serve_args(&self) -> Vec<String> {
        let mut args = vec![
            "serve".to_owned(),
            "--data-dir".to_owned(),
            self.data.display().to_string(),
        ];
        args.extend(self.db_args.iter().cloned());
        args
    }

    /// Starts the server on `bind` (`127.0.0.1:0`: a free port).
    fn start(&self, bind: &str, extra: &[&str]) -> Server {
        let mut args = self.serve_args();
        args.extend(["--bind", bind, "--threads", "2"].map(str::to_owned));
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        spawn_server(&args)
    }
}

/// Runs `mcsim ARGS` (a `serve` command) and waits for the line that says where it listens
/// (text, or a JSON log line whose `fields.message` says it).
fn spawn_server(args: &[String]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcsim"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("MCSIM_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start mcsim serve");
    let stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let lines = log.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let message = if line.starts_with('{') {
                serde_json::from_str::<Value>(&line)
                    .ok()
                    .and_then(|v| v["fields"]["message"].as_str().map(str::to_owned))
                    .unwrap_or_default()
            } else {
                line.clone()
            };
            lines.lock().unwrap().push(line);
            if !sent && let Some(url) = message.strip_prefix("mcsim server listening on ") {
                let _ = tx.send(url.to_owned());
                sent = true;
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the server did not start: {:?}", log.lock().unwrap()));
    Server { child, url, log }
}

/// Runs `mcsim ARGS` as the user whose token lives in `config`, with `stdin`.
fn mcsim_as(config: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcsim"))
        .args(args)
        .env("MCSIM_CONFIG_DIR", config)
        .env_remove("RUST_LOG")
        .env_remove("MCSIM_DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run mcsim");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// One plain HTTP/1.1 request; returns the status and the body.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The token `mcsim login` saved in `config`.
fn token(config: &Path) -> String {
    let text = std::fs::read_to_string(config.join("credentials.json")).unwrap();
    let session: Value = serde_json::from_str(&text).unwrap();
    session["token"].as_str().unwrap().to_owned()
}

/// Asserts exit status 2 and one `error: ...` line containing `needle`.
fn assert_error(run: &Run, needle: &str) {
    run.expect_code(2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error line expected:\n{}", run.stderr);
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "expected `{needle}` in: {}",
        run.stderr
    );
}

/// Polls `mcsim results --remote ID` until the run has finished (status 0 or 1), up to 120 s.
fn wait_results(config: &Path, id: &str, extra: &[&str]) -> Run {
    let started = Instant::now();
    loop {
        let mut args = vec!["results", "--remote", id, "--format", "json"];
        args.extend_from_slice(extra);
        let run = mcsim_as(config, &args, "");
        if run.code != 2 || !run.stderr.contains("try again later") {
            return run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "run {id} did not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The run's status document, by raw HTTP.
fn status_of(server: &Server, token: &str, id: &str) -> Value {
    let (code, body) = http(
        server.addr(),
        "GET",
        &format!("/api/v1/runs/{id}"),
        Some(token),
        b"",
    );
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The whole suite against one database.
fn suite(db_args: Vec<String>) {
    let dir = temp();
    let backend = Backend {
        data: dir.path().join("data"),
        db_args,
    };
    let (alice, bob) = (dir.path().join("alice"), dir.path().join("bob"));
    let model = risk_model();

    // The first admin, created offline.
    let mut create = backend.serve_args();
    create.extend(["--create-admin".to_owned(), "alice".to_owned()]);
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    mcsim_as(&alice, &create, "alice-password\n").expect_code(0);

    let server = backend.start(
        "127.0.0.1:0",
        &["--open-registration", "--max-upload", "2MiB"],
    );
    // Restarts listen on the same address, so the saved logins stay valid.
    let addr = server.addr().to_owned();
    let url = server.url.clone();
    let (code, body) = http(server.addr(), "GET", "/healthz", None, b"");
    assert_eq!((code, body.as_str()), (200, "ok"));
    let (code, _) = http(server.addr(), "GET", "/readyz", None, b"");
    assert_eq!(code, 200);

    // Accounts: a wrong password, then logins; bob registers himself.
    let run = mcsim_as(
        &alice,
        &[
            "login",
            "--server",
            &url,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "wrong-password\n",
    );
    assert_error(&run, "wrong user name or password");
    mcsim_as(
        &alice,
        &[
            "login",
            "--server",
            &url,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "alice-password\n",
    )
    .expect_code(0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(alice.join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the token file must be private");
    }
    mcsim_as(
        &bob,
        &[
            "register",
            "--server",
            &url,
            "--user",
            "bob",
            "--password-stdin",
        ],
        "bob-password\n",
    )
    .expect_code(0);
    mcsim_as(
        &bob,
        &[
            "login",
            "--server",
            &url,
            "--user",
            "bob",
            "--password-stdin",
        ],
        "bob-password\n",
    )
    .expect_code(0);
    // Only an admin adds users.
    let run = mcsim_as(
        &bob,
        &["user", "add", "carol", "--password-stdin"],
        "carol-password\n",
    );
    assert_error(&run, "forbidden");
    mcsim_as(
        &alice,
        &["user", "add", "carol", "--password-stdin"],
        "carol-password\n",
    )
    .expect_code(0);

    // Upload: a model and a second version of it, with the parse summary.
    let run = mcsim_as(
        &alice,
        &["upload", &model, "--name", "npv", "--format", "json"],
        "",
    );
    run.expect_code(0);
    let up = run.json();
    let model_id = up["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (up["name"].as_str(), up["version"].as_i64()),
        (Some("npv"), Some(1))
    );
    assert!(up["summary"]["totals"]["formulas"].as_u64().unwrap() > 0);
    let up2 = mcsim_as(
        &alice,
        &["upload", &model, "--name", "npv", "--format", "json"],
        "",
    );
    up2.expect_code(0);
    assert_eq!(up2.json()["version"].as_i64(), Some(2));
    assert_eq!(up2.json()["id"].as_str(), Some(model_id.as_str()));

    // Uploads of one new name at once: one model, distinct versions.
    let small = dir.path().join("small.xlsx");
    crate::common::write_xlsx(&small, &crate::common::typed_row(Some("6")), &[]);
    let uploads: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let run = mcsim_as(
                        &alice,
                        &[
                            "upload",
                            small.to_str().unwrap(),
                            "--name",
                            "conc",
                            "--format",
                            "json",
                        ],
                        "",
                    );
                    run.expect_code(0);
                    run.json()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let conc_id = uploads[0]["id"].as_str().unwrap().to_owned();
    assert!(
        uploads.iter().all(|u| u["id"] == conc_id.as_str()),
        "{uploads:?}"
    );
    let mut versions: Vec<i64> = uploads
        .iter()
        .map(|u| u["version"].as_i64().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [1, 2, 3, 4]);

    // A remote run with --wait gives the same numbers as a local run with the same seed.
    let run = mcsim_as(
        &alice,
        &[
            "run", "--remote", "npv", "-n", "2000", "--seed", "7", "--wait", "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    let remote_report = run.json();
    let local_report = run_json(dir.path(), &[&model, "-n", "2000", "--seed", "7"]);
    assert_eq!(means(&remote_report), means(&local_report));
    assert_eq!(remote_report["iterations"], 2000);
    let output_name = means(&remote_report)[0].0.clone();

    // The model file travels with the run (--config), as for a local run.
    let plain = crate::common::example("npv_project.xlsx");
    let config = crate::common::example("npv_project.mcsim.toml");
    let (plain, config) = (plain.to_str().unwrap(), config.to_str().unwrap());
    mcsim_as(&alice, &["upload", plain, "--name", "plain"], "").expect_code(0);
    let run = mcsim_as(
        &alice,
        &[
            "run", "--remote", "plain", "--config", config, "-n", "600", "--seed", "4", "--wait",
            "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    let local = run_json(
        dir.path(),
        &[plain, "--config", config, "-n", "600", "--seed", "4"],
    );
    assert_eq!(means(&run.json()), means(&local));
    // A model file that does not parse is refused before the run is queued.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "iterationz = 5\n").unwrap();
    let run = mcsim_as(
        &alice,
        &[
            "run",
            "--remote",
            "plain",
            "--config",
            bad.to_str().unwrap(),
        ],
        "",
    );
    assert_error(&run, "iterationz");

    // Without --wait: the id; then the stored report and the samples.
    let run = mcsim_as(
        &alice,
        &[
            "run", "--remote", &model_id, "-n", "1000", "--seed", "3", "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    let run_id = run.json()["id"].as_str().unwrap().to_owned();
    let samples = dir.path().join("samples.parquet");
    let results = wait_results(&alice, &run_id, &["--samples", samples.to_str().unwrap()]);
    results.expect_code(0);
    let stored = results.json();
    let from_samples = run_json_results(dir.path(), &samples);
    let (a, b) = (means(&stored), means(&from_samples));
    assert_eq!(a.len(), b.len());
    for ((name_a, mean_a), (name_b, mean_b)) in a.iter().zip(&b) {
        assert_eq!(name_a, name_b);
        assert!(
            (mean_a - mean_b).abs() <= 1e-9 * mean_a.abs().max(1.0),
            "{name_a}: report {mean_a} vs samples {mean_b}"
        );
    }

    // Two runs compared on the server, from their samples.
    let run = mcsim_as(
        &alice,
        &[
            "run", "--remote", "npv", "-n", "1000", "--seed", "4", "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    let other_id = run.json()["id"].as_str().unwrap().to_owned();
    wait_results(&alice, &other_id, &[]).expect_code(0);
    let run = mcsim_as(
        &alice,
        &[
            "results",
            "--remote",
            &run_id,
            "--compare",
            &other_id,
            "--format",
            "json",
        ],
        "",
    );
    run.expect_code(0);
    let comparison = run.json();
    let compared = comparison["comparison"]["outputs"].as_array().unwrap();
    assert_eq!(compared.len(), a.len());
    for ((name, mean), c) in a.iter().zip(compared) {
        assert_eq!(c["output"].as_str(), Some(name.as_str()));
        let mean_a = c["mean_a"].as_f64().unwrap();
        assert!((mean_a - mean).abs() <= 1e-9 * mean.abs().max(1.0), "{c}");
    }
    mcsim_as(
        &alice,
        &["results", "--remote", &run_id, "--compare", &other_id],
        "",
    )
    .expect_code(0);

    // Charts drawn on the server, as `mcsim results --plot`.
    let chart = dir.path().join("npv.svg");
    mcsim_as(
        &alice,
        &[
            "results",
            "--remote",
            &run_id,
            "--plot",
            "histogram",
            "--to",
            chart.to_str().unwrap(),
        ],
        "",
    )
    .expect_code(0);
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.contains("<svg"), "{}", &svg[..svg.len().min(200)]);
    let run = mcsim_as(
        &alice,
        &[
            "results",
            "--remote",
            &run_id,
            "--plot",
            "cdf",
            "--output",
            "nope",
            "--to",
            chart.to_str().unwrap(),
        ],
        "",
    );
    assert_error(&run, "nope");

    // --fail-if: exit 1 as a local run.
    let condition = format!("mean({output_name}) > -1e300");
    let run = mcsim_as(
        &alice,
        &[
            "run",
            "--remote",
            "npv",
            "-n",
            "500",
            "--seed",
            "1",
            "--wait",
            "--fail-if",
            &condition,
        ],
        "",
    );
    run.expect_code(1);
    assert!(run.stderr.contains("holds"), "{}", run.stderr);

    // A job that fails: it fails alone, with the library's message; the server goes on.
    let run = mcsim_as(
        &alice,
        &[
            "run",
            "--remote",
            "npv",
            "-n",
            "500",
            "--set",
            "Nowhere!Z99=1",
            "--wait",
        ],
        "",
    );
    assert_error(&run, "failed");
    assert!(run.stderr.contains("Nowhere"), "{}", run.stderr);

    // Bob sees none of alice's objects: every endpoint answers 404.
    let bob_token = token(&bob);
    for (method, path) in [
        ("GET", format!("/api/v1/models/{model_id}")),
        ("GET", format!("/api/v1/models/{model_id}/download")),
        ("DELETE", format!("/api/v1/models/{model_id}")),
        ("POST", format!("/api/v1/models/{model_id}/versions")),
        ("POST", format!("/api/v1/models/{model_id}/shares")),
        ("DELETE", format!("/api/v1/models/{model_id}/shares/bob")),
        ("GET", format!("/api/v1/runs/{run_id}")),
        ("GET", format!("/api/v1/runs/{run_id}/report")),
        ("GET", format!("/api/v1/runs/{run_id}/samples")),
        ("GET", format!("/api/v1/runs/{run_id}/events")),
        ("POST", format!("/api/v1/runs/{run_id}/cancel")),
        ("POST", format!("/api/v1/runs/{run_id}/shares")),
    ] {
        let body = if method == "POST" && path.ends_with("shares") {
            br#"{"user": "bob", "role": "editor"}"#.as_slice()
        } else {
            b"".as_slice()
        };
        let (code, answer) = http(server.addr(), method, &path, Some(&bob_token), body);
        assert_eq!(code, 404, "{method} {path}: {answer}");
    }
    let (_, list) = http(
        server.addr(),
        "GET",
        "/api/v1/models",
        Some(&bob_token),
        b"",
    );
    assert_eq!(
        serde_json::from_str::<Value>(&list).unwrap()["models"],
        serde_json::json!([])
    );
    let (_, list) = http(server.addr(), "GET", "/api/v1/runs", Some(&bob_token), b"");
    assert_eq!(
        serde_json::from_str::<Value>(&list).unwrap()["runs"],
        serde_json::json!([])
    );
    assert_error(
        &mcsim_as(&bob, &["results", "--remote", &run_id], ""),
        "not found",
    );
    assert_error(
        &mcsim_as(&bob, &["run", "--remote", &model_id], ""),
        "not found",
    );
    assert_error(
        &mcsim_as(
            &bob,
            &["results", "--remote", &run_id, "--compare", &run_id],
            "",
        ),
        "not found",
    );
    assert_error(
        &mcsim_as(&bob, &["run", "--remote", "npv"], ""),
        "not found",
    );
    assert_error(
        &mcsim_as(
            &bob,
            &["share", &model_id, "--with", "carol", "--role", "viewer"],
            "",
        ),
        "not found",
    );

    // Sharing: a viewer reads the model's runs but cannot start one; an editor can; revoked,
    // it is gone again.
    mcsim_as(
        &alice,
        &["share", &model_id, "--with", "bob", "--role", "viewer"],
        "",
    )
    .expect_code(0);
    let seen = mcsim_as(
        &bob,
        &["results", "--remote", &run_id, "--format", "json"],
        "",
    );
    seen.expect_code(0);
    assert_eq!(means(&seen.json()), means(&stored));
    assert_error(
        &mcsim_as(&bob, &["run", "--remote", &model_id], ""),
        "forbidden",
    );
    mcsim_as(
        &alice,
        &["share", &model_id, "--with", "bob", "--role", "editor"],
        "",
    )
    .expect_code(0);
    let run = mcsim_as(
        &bob,
        &[
            "run", "--remote", "npv", "-n", "300", "--seed", "2", "--wait", "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    // Bob cannot share or delete what he does not own.
    assert_error(
        &mcsim_as(
            &bob,
            &["share", &model_id, "--with", "carol", "--role", "viewer"],
            "",
        ),
        "forbidden",
    );
    mcsim_as(
        &alice,
        &["share", &model_id, "--with", "bob", "--revoke"],
        "",
    )
    .expect_code(0);
    assert_error(
        &mcsim_as(&bob, &["results", "--remote", &run_id], ""),
        "not found",
    );
    // A run shared on its own.
    mcsim_as(
        &alice,
        &["share", &run_id, "--with", "bob", "--role", "viewer"],
        "",
    )
    .expect_code(0);
    mcsim_as(&bob, &["results", "--remote", &run_id], "").expect_code(0);
    // The owner's status of the run lists its shares (read in the access query); a viewer's
    // does not.
    assert_eq!(
        status_of(&server, &token(&alice), &run_id)["shares"],
        serde_json::json!([{"user": "bob", "role": "viewer"}])
    );
    let bob_status = status_of(&server, &token(&bob), &run_id);
    assert_eq!(bob_status["role"], "viewer");
    assert!(bob_status.get("shares").is_none(), "{bob_status}");
    mcsim_as(&alice, &["share", &run_id, "--with", "bob", "--revoke"], "").expect_code(0);
    assert_eq!(
        status_of(&server, &token(&alice), &run_id)["shares"],
        serde_json::json!([])
    );
    assert_error(
        &mcsim_as(&bob, &["results", "--remote", &run_id], ""),
        "not found",
    );

    // Password change: the old password no longer logs in, the new one does.
    let carol = carol_dir(dir.path());
    let login_carol = |password: &str| {
        mcsim_as(
            &carol,
            &[
                "login",
                "--server",
                &url,
                "--user",
                "carol",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    };
    login_carol("carol-password").expect_code(0);
    mcsim_as(
        &carol,
        &["user", "password", "--password-stdin"],
        "carol-password\ncarol-new-password\n",
    )
    .expect_code(0);
    assert_error(
        &login_carol("carol-password"),
        "wrong user name or password",
    );
    login_carol("carol-new-password").expect_code(0);
    // An admin disables an account: its logins end and it cannot log in; then enables it.
    assert_error(
        &mcsim_as(&bob, &["user", "disable", "carol"], ""),
        "forbidden",
    );
    mcsim_as(&alice, &["user", "disable", "carol"], "").expect_code(0);
    assert_error(
        &mcsim_as(&carol, &["results", "--remote", &run_id], ""),
        "not logged in",
    );
    assert_error(&login_carol("carol-new-password"), "disabled");
    mcsim_as(&alice, &["user", "enable", "carol"], "").expect_code(0);
    login_carol("carol-new-password").expect_code(0);

    // Hostile input: each a 4xx with a clear message, and nothing left half-written.
    let big = dir.path().join("big.xlsx");
    std::fs::write(&big, vec![7u8; 3 << 20]).unwrap();
    assert_error(
        &mcsim_as(&alice, &["upload", big.to_str().unwrap()], ""),
        "too large",
    );
    // The same without a declared length (chunked): refused once past the cap.
    let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
    let request = format!(
        "POST /api/v1/models?name=chunked HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}0\r\n\r\n",
        token(&alice),
        chunk.repeat(40)
    );
    let (code, answer) = http_raw(server.addr(), &request);
    assert_eq!(code, 413, "{answer}");
    assert!(answer.contains("upload too large"), "{answer}");
    let bomb = dir.path().join("bomb.xlsx");
    write_bomb(&bomb);
    let run = mcsim_as(&alice, &["upload", bomb.to_str().unwrap()], "");
    run.expect_code(2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    let broken = dir.path().join("broken.xlsx");
    crate::common::write_xlsx(
        &broken,
        "<row r=\"1\"><c r=\"A1\"><f>1+*</f></c></row>",
        &[],
    );
    let run = mcsim_as(&alice, &["upload", broken.to_str().unwrap()], "");
    assert_error(&run, "do not parse");
    assert!(run.stderr.contains("A1"), "{}", run.stderr);
    for name in ["../evil", "a/b", "..", "x\\y"] {
        let run = mcsim_as(&alice, &["upload", &model, "--name", name], "");
        assert_error(&run, "invalid model name");
    }
    let alice_token = token(&alice);
    let (code, answer) = http(
        server.addr(),
        "POST",
        "/api/v1/runs",
        Some(&alice_token),
        b"{not json",
    );
    assert_eq!(code, 400, "{answer}");
    assert!(answer.contains("invalid JSON"), "{answer}");
    let (code, answer) = http(
        server.addr(),
        "POST",
        "/api/v1/runs",
        Some(&alice_token),
        br#"{"model": "npv", "iterationz": 5}"#,
    );
    assert_eq!(code, 422, "{answer}");
    assert!(answer.contains("iterationz"), "{answer}");
    let tmp_left: Vec<_> = std::fs::read_dir(backend.data.join("tmp"))
        .unwrap()
        .collect();
    assert!(
        tmp_left.is_empty(),
        "uploads left half-written: {tmp_left:?}"
    );
    let (code, _) = http(server.addr(), "GET", "/api/v1/models", None, b"");
    assert_eq!(code, 401);

    // Restart with a queued job: a daemon without workers queues it; the next one runs it.
    server.kill();
    let server = backend.start(&addr, &["--workers", "0"]);
    let run = mcsim_as(
        &alice,
        &[
            "run", "--remote", "npv", "-n", "700", "--seed", "5", "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    let queued = run.json()["id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        status_of(&server, &alice_token, &queued)["status"],
        "queued"
    );
    server.kill();
    let server = backend.start(&addr, &[]);
    let done = wait_results(&alice, &queued, &[]);
    done.expect_code(0);
    assert_eq!(done.json()["iterations"], 700);

    // A running job interrupted by a crash is queued again and runs again.
    let run = mcsim_as(
        &alice,
        &[
            "run", "--remote", "npv", "-n", "3000000", "--seed", "9", "--format", "json",
        ],
        "",
    );
    run.expect_code(0);
    let long = run.json()["id"].as_str().unwrap().to_owned();
    wait_status(&server, &alice_token, &long, "running");
    server.kill();
    let server = backend.start(&addr, &[]);
    wait_status(&server, &alice_token, &long, "running");
    // Progress as Server-Sent Events while it runs.
    let events = read_events(server.addr(), &alice_token, &long, 2);
    assert!(events.contains("event: progress"), "{events}");
    assert!(events.contains("\"status\":\"running\""), "{events}");

    // A graceful shutdown (SIGTERM) stops it and queues it again, and ends the event streams
    // of those following it.
    let follower = {
        let (addr, token, id) = (addr.clone(), alice_token.clone(), long.clone());
        std::thread::spawn(move || read_events(&addr, &token, &id, usize::MAX))
    };
    std::thread::sleep(Duration::from_millis(300));
    let stopping = Instant::now();
    server.terminate();
    assert!(
        stopping.elapsed() < Duration::from_secs(20),
        "the shutdown waited {:?}",
        stopping.elapsed()
    );
    let events = follower.join().unwrap();
    assert!(events.contains("event: end"), "{events}");
    let server = backend.start(&addr, &["--workers", "0"]);
    assert_eq!(status_of(&server, &alice_token, &long)["status"], "queued");
    // Cancelled while queued; bob (no access) cannot.
    assert_error(&mcsim_as(&bob, &["cancel", &long], ""), "not found");
    let run = mcsim_as(&alice, &["cancel", &long, "--format", "json"], "");
    run.expect_code(0);
    assert_eq!(run.json()["status"], "cancelled");
    assert_error(
        &mcsim_as(&alice, &["cancel", &long], ""),
        "only a queued or running run",
    );
    assert_error(
        &mcsim_as(&alice, &["results", "--remote", &long], ""),
        "cancelled",
    );
    // A finished run's event stream is its end.
    let events = read_events(server.addr(), &alice_token, &run_id, 1);
    assert!(events.contains("event: end"), "{events}");
    assert!(events.contains("\"status\":\"succeeded\""), "{events}");

    // Huge headers: refused.
    let huge = format!("X-Big: {}\r\n", "a".repeat(1 << 20));
    let (code, _) = http_raw(
        server.addr(),
        &format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{huge}\r\n"),
    );
    assert!(
        code == 431 || code == 0 || (400..500).contains(&code),
        "{code}"
    );

    // Failed logins are rate-limited (per account and per address).
    for _ in 0..10 {
        let run = mcsim_as(
            &carol_dir(dir.path()),
            &[
                "login",
                "--server",
                &url,
                "--user",
                "carol",
                "--password-stdin",
            ],
            "not-carols-password\n",
        );
        assert_error(&run, "wrong user name or password");
    }
    let run = mcsim_as(
        &carol_dir(dir.path()),
        &[
            "login",
            "--server",
            &url,
            "--user",
            "carol",
            "--password-stdin",
        ],
        "carol-new-password\n",
    );
    assert_error(&run, "too many failed logins");

    // The audit log records who did what; only an admin reads it.
    let (code, answer) = http(
        server.addr(),
        "GET",
        "/api/v1/audit",
        Some(&alice_token),
        b"",
    );
    assert_eq!(code, 200, "{answer}");
    let log: Value = serde_json::from_str(&answer).unwrap();
    let has = |user: &str, action: &str| {
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user"] == user && e["action"] == action)
    };
    for (user, action) in [
        ("alice", "upload"),
        ("alice", "share"),
        ("alice", "revoke"),
        ("alice", "start_run"),
        ("bob", "start_run"),
        ("alice", "disable_user"),
        ("carol", "change_password"),
    ] {
        assert!(has(user, action), "no {user} {action} in {answer}");
    }
    let (code, _) = http(
        server.addr(),
        "GET",
        "/api/v1/audit",
        Some(&token(&bob)),
        b"",
    );
    assert_eq!(code, 403);

    // Deleting a model deletes its versions' files, its runs and their files.
    let (code, answer) = http(
        server.addr(),
        "DELETE",
        &format!("/api/v1/models/{model_id}"),
        Some(&alice_token),
        b"",
    );
    assert_eq!(code, 204, "{answer}");
    // The other models too (found by name).
    let (_, list) = http(
        server.addr(),
        "GET",
        "/api/v1/models?search=plain",
        Some(&alice_token),
        b"",
    );
    let list: Value = serde_json::from_str(&list).unwrap();
    let id = list["models"][0]["id"].as_str().unwrap().to_owned();
    let (code, answer) = http(
        server.addr(),
        "DELETE",
        &format!("/api/v1/models/{id}"),
        Some(&alice_token),
        b"",
    );
    assert_eq!(code, 204, "{answer}");
    let (code, answer) = http(
        server.addr(),
        "DELETE",
        &format!("/api/v1/models/{conc_id}"),
        Some(&alice_token),
        b"",
    );
    assert_eq!(code, 204, "{answer}");
    assert_error(
        &mcsim_as(&alice, &["results", "--remote", &run_id], ""),
        "not found",
    );
    let files = |sub: &str| -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![backend.data.join(sub)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    };
    assert_eq!(files("blobs"), Vec::<PathBuf>::new());
    assert_eq!(files("runs"), Vec::<PathBuf>::new());

    // An expired token: one line saying so.
    server.kill();
    let server = backend.start(&addr, &["--token-ttl", "1"]);
    mcsim_as(
        &bob,
        &[
            "login",
            "--server",
            &url,
            "--user",
            "bob",
            "--password-stdin",
        ],
        "bob-password\n",
    )
    .expect_code(0);
    std::thread::sleep(Duration::from_millis(2100));
    assert_error(
        &mcsim_as(&bob, &["results", "--remote", &run_id], ""),
        "token expired",
    );

    // Logout revokes the token.
    mcsim_as(&alice, &["logout"], "").expect_code(0);
    assert_error(
        &mcsim_as(&alice, &["results", "--remote", &run_id], ""),
        "not logged in",
    );
    let (code, _) = http(server.addr(), "GET", "/api/v1/me", Some(&alice_token), b"");
    assert_eq!(code, 401);
}

fn carol_dir(dir: &Path) -> PathBuf {
    dir.join("carol")
}

/// Waits up to 60 s for the run to reach `status`.
fn wait_status(server: &Server, token: &str, id: &str, status: &str) {
    let started = Instant::now();
    loop {
        let s = status_of(server, token, id);
        if s["status"] == status {
            return;
        }
        assert!(
            matches!(s["status"].as_str(), Some("queued" | "running")),
            "{s}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not {status}: {s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The first `count` events of a run's event stream, as text.
fn read_events(addr: &str, token: &str, id: &str, count: usize) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "GET /api/v1/runs/{id}/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut text = String::new();
    let mut buffer = [0u8; 4096];
    while text.matches("event: ").count() < count && !text.contains("event: end") {
        let Ok(n) = stream.read(&mut buffer) else {
            break;
        };
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    text
}

/// Sends `request` as is; returns the status (0 when the server closed the connection).
fn http_raw(addr: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = stream.write_all(request.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// `mcsim results FILE --format json` in `dir`.
fn run_json_results(dir: &Path, samples: &Path) -> Value {
    let run = crate::common::mcsim_in(
        dir,
        &["results", samples.to_str().unwrap(), "--format", "json"],
    );
    run.expect_code(0);
    run.json()
}

/// A zip bomb dressed as a workbook: a valid workbook plus a part of 300 MB of zeros, which
/// deflates to about 300 KB (over the server's 256 MiB decompressed cap and the ratio guard).
fn write_bomb(path: &Path) {
    let zeros = vec![0u8; 300_000_000];
    crate::common::write_xlsx(
        path,
        "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>",
        &[("xl/media/zeros.bin", &zeros)],
    );
    assert!(std::fs::metadata(path).unwrap().len() < 2 << 20);
}

#[test]
fn team_server_on_sqlite() {
    suite(Vec::new());
}

#[test]
fn team_server_on_postgres() {
    let Ok(url) = std::env::var("MCSIM_TEST_POSTGRES") else {
        // Not configured here: the SQLite suite covers the server; CI sets the variable.
        return;
    };
    let schema = fresh_schema();
    suite(vec![
        "--database".into(),
        url.clone(),
        "--database-schema".into(),
        schema.clone(),
    ]);
    drop_schema(&url, &schema);
}

/// A schema name no other test run uses.
fn fresh_schema() -> String {
    let mut suffix = [0u8; 6];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    for (i, b) in suffix.iter_mut().enumerate() {
        *b = b'a' + ((nanos >> (i * 5)) % 26) as u8;
    }
    format!(
        "mcsim_test_{}_{}",
        std::process::id(),
        String::from_utf8(suffix.to_vec()).unwrap()
    )
}

/// Best effort: drops the schema when psql is there (a leftover one harms nothing).
fn drop_schema(url: &str, schema: &str) {
    let _ = Command::new("psql")
        .args([url, "-qc", &format!("DROP SCHEMA {schema} CASCADE")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

// ---------------------------------------------------------------------------------------------
// Configuration file, metrics, OpenAPI, JSON logs, notifications, TLS

/// Creates the admin `alice` in `data`, starts the server with `extra` and logs her in; returns
/// the server and her configuration directory.
fn server_with_alice(dir: &Path, db_args: &[String], extra: &[&str]) -> (Backend, Server, PathBuf) {
    let backend = Backend {
        data: dir.join("data"),
        db_args: db_args.to_vec(),
    };
    let alice = dir.join("alice");
    let mut create = backend.serve_args();
    create.extend(["--create-admin".to_owned(), "alice".to_owned()]);
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    mcsim_as(&alice, &create, "alice-password\n").expect_code(0);
    let server = backend.start("127.0.0.1:0", extra);
    login(&alice, &server.url, "alice", "alice-password");
    (backend, server, alice)
}

fn login(config: &Path, url: &str, user: &str, password: &str) {
    mcsim_as(
        config,
        &["login", "--server", url, "--user", user, "--password-stdin"],
        &format!("{password}\n"),
    )
    .expect_code(0);
}

/// Starts a run of `model` as the user of `config`; returns its id.
fn start_run(config: &Path, model: &str, extra: &[&str]) -> String {
    let mut args = vec!["run", "--remote", model, "--format", "json"];
    args.extend_from_slice(extra);
    let run = mcsim_as(config, &args, "");
    run.expect_code(0);
    run.json()["id"].as_str().unwrap().to_owned()
}

/// The value of the series `key` (name and labels, as written) in a Prometheus exposition; 0
/// when absent.
fn metric(text: &str, key: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

fn scrape(server: &Server, token: Option<&str>) -> String {
    let (code, body) = http(server.addr(), "GET", "/metrics", token, b"");
    assert_eq!(code, 200, "{body}");
    body
}

#[test]
fn serve_reads_a_config_file_and_flags_win() {
    let dir = temp();
    let data = dir.path().join("data");
    let config = dir.path().join("mcsim-serve.toml");
    std::fs::write(
        &config,
        format!(
            "bind = \"127.0.0.1:0\"\ndata_dir = {:?}\nregistration = \"open\"\n\
             max_upload = \"64MiB\"\nthreads = 2\nlog_format = \"json\"\n\
             metrics_token = \"metrics-secret-123\"\n\n[webhooks]\nretries = 1\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let server = spawn_server(&[
        "serve".into(),
        "--config".into(),
        config.display().to_string(),
        "--max-upload".into(),
        "1KiB".into(),
    ]);
    // The data directory of the file is used.
    assert!(data.join("mcsim.db").is_file());
    // The file's log format: the announcement is a JSON log line.
    assert!(server.log.lock().unwrap()[0].starts_with('{'));
    // The file opens registration.
    let bob = dir.path().join("bob");
    mcsim_as(
        &bob,
        &[
            "register",
            "--server",
            &server.url,
            "--user",
            "bob",
            "--password-stdin",
        ],
        "bob-password\n",
    )
    .expect_code(0);
    login(&bob, &server.url, "bob", "bob-password");
    // The flag's 1 KiB upload limit wins over the file's 64 MiB.
    let model = risk_model();
    assert!(std::fs::metadata(&model).unwrap().len() > 1024);
    assert_error(&mcsim_as(&bob, &["upload", &model], ""), "too large");
    // Without `[webhooks] allow_private`, webhooks cannot point at internal addresses.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/",
    ] {
        let (code, answer) = put_notifications(
            &server,
            &token(&bob),
            &format!(r#"{{"webhook_url": "{url}", "webhook_secret": "0123456789abcdef"}}"#),
        );
        assert_eq!(code, 400, "{url}: {answer}");
        assert!(
            answer.to_string().contains("internal addresses"),
            "{answer}"
        );
    }
    // The file's metrics token guards /metrics.
    let (code, _) = http(server.addr(), "GET", "/metrics", None, b"");
    assert_eq!(code, 401);
    let (code, _) = http(server.addr(), "GET", "/metrics", Some("wrong"), b"");
    assert_eq!(code, 401);
    scrape(&server, Some("metrics-secret-123"));
    drop(server);

    // A misspelt key or a bad value stops the daemon with one line naming it.
    for (text, needle) in [
        ("workerz = 2\n", "workerz"),
        ("registration = \"sometimes\"\n", "sometimes"),
        ("tls_cert = \"c.pem\"\n", "tls_key"),
        (
            "[smtp]\nhost = \"h\"\nfrom = \"not an address\"\n",
            "smtp.from",
        ),
    ] {
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text).unwrap();
        let run = mcsim_as(
            &bob,
            &[
                "serve",
                "--config",
                bad.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            "",
        );
        assert_error(&run, needle);
    }
    let run = mcsim_as(&bob, &["serve", "--config", "/nonexistent/x.toml"], "");
    assert_error(&run, "cannot read /nonexistent/x.toml");
}

#[test]
fn metrics_count_requests_runs_and_iterations() {
    metrics_suite(&[]);
}

/// The metrics and the webhooks on PostgreSQL (when `MCSIM_TEST_POSTGRES` is set): the
/// queries behind `/metrics` and the notification settings' upsert.
#[test]
fn metrics_and_webhooks_on_postgres() {
    let Ok(url) = std::env::var("MCSIM_TEST_POSTGRES") else {
        return;
    };
    for suite in [metrics_suite, webhooks_suite, webhook_restart_suite] {
        let schema = fresh_schema();
        suite(&[
            "--database".into(),
            url.clone(),
            "--database-schema".into(),
            schema.clone(),
        ]);
        drop_schema(&url, &schema);
    }
}

fn metrics_suite(db_args: &[String]) {
    let dir = temp();
    // No workers first: the run stays queued.
    let (backend, server, alice) = server_with_alice(dir.path(), db_args, &["--workers", "0"]);
    mcsim_as(&alice, &["upload", &risk_model(), "--name", "npv"], "").expect_code(0);
    let id = start_run(&alice, "npv", &["-n", "3000", "--seed", "7"]);

    let before = scrape(&server, None);
    let healthz = "mcsim_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}";
    for _ in 0..3 {
        http(server.addr(), "GET", "/healthz", None, b"");
    }
    let token = token(&alice);
    let (code, _) = http(
        server.addr(),
        "GET",
        "/api/v1/runs/rnope",
        Some(&token),
        b"",
    );
    assert_eq!(code, 404);
    let after = scrape(&server, None);
    assert_eq!(
        metric(&after, healthz) - metric(&before, healthz),
        3.0,
        "{after}"
    );
    // Counted under the route's pattern, not the path.
    assert_eq!(
        metric(
            &after,
            "mcsim_http_requests_total{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"404\"}"
        ),
        1.0,
        "{after}"
    );
    assert!(!after.contains("rnope"));
    assert!(
        metric(
            &after,
            "mcsim_http_request_duration_seconds_count{route=\"/healthz\"}"
        ) >= 3.0
    );
    assert_eq!(
        metric(
            &after,
            "mcsim_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"
        ),
        metric(
            &after,
            "mcsim_http_request_duration_seconds_count{route=\"/healthz\"}"
        )
    );
    assert_eq!(metric(&after, "mcsim_queue_depth"), 1.0, "{after}");
    assert_eq!(metric(&after, "mcsim_runs{state=\"queued\"}"), 1.0);
    assert_eq!(metric(&after, "mcsim_runs{state=\"succeeded\"}"), 0.0);
    assert!(after.contains("# TYPE mcsim_http_request_duration_seconds histogram"));

    // With a worker the run is done: the queue is empty and its iterations are counted.
    // On the same address, so that alice's saved login goes on.
    let addr = server.addr().to_owned();
    server.kill();
    let server = backend.start(&addr, &[]);
    wait_status(&server, &token, &id, "succeeded");
    let done = scrape(&server, None);
    assert_eq!(metric(&done, "mcsim_queue_depth"), 0.0, "{done}");
    assert_eq!(metric(&done, "mcsim_runs{state=\"succeeded\"}"), 1.0);
    assert_eq!(metric(&done, "mcsim_iterations_total"), 3000.0, "{done}");
    assert_eq!(metric(&done, "mcsim_jobs_running"), 0.0);

    // While a long run runs: one job, a positive rate, iterations counted as they go.
    let long = start_run(&alice, "npv", &["-n", "50000000", "--seed", "9"]);
    let live = wait_for("the long run's progress", || {
        let text = scrape(&server, None);
        (metric(&text, "mcsim_iterations_total") > 3000.0).then_some(text)
    });
    assert_eq!(metric(&live, "mcsim_jobs_running"), 1.0, "{live}");
    assert_eq!(metric(&live, "mcsim_runs{state=\"running\"}"), 1.0);
    assert!(metric(&live, "mcsim_iterations_per_second") > 0.0, "{live}");
    mcsim_as(&alice, &["cancel", &long], "").expect_code(0);
    wait_status(&server, &token, &long, "cancelled");
    let after = scrape(&server, None);
    assert_eq!(metric(&after, "mcsim_runs{state=\"cancelled\"}"), 1.0);
    assert_eq!(metric(&after, "mcsim_iterations_per_second"), 0.0);
}

#[test]
fn openapi_document_covers_the_live_routes() {
    let dir = temp();
    let (_backend, server, _alice) = server_with_alice(dir.path(), &[], &[]);
    let (code, body) = http(server.addr(), "GET", "/api/v1/openapi.json", None, b"");
    assert_eq!(code, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 25, "{}", paths.len());
    // Every documented operation is served: without a token, each answers something other
    // than "no such endpoint" (404) or "method not allowed" (405).
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "x1")
                .replace("{other}", "x2")
                .replace("{name}", "bob")
                .replace("{user}", "bob");
            let (code, answer) = http(server.addr(), &method.to_uppercase(), &concrete, None, b"");
            assert!(
                code != 405 && !answer.contains("no such endpoint"),
                "{method} {path}: {code} {answer}"
            );
            let public = operations[method]["security"] == serde_json::json!([]);
            if !public {
                assert_eq!(code, 401, "{method} {path} must need a token: {answer}");
            }
        }
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = temp();
    let backend = Backend {
        data: dir.path().join("data"),
        db_args: Vec::new(),
    };
    let server = backend.start("127.0.0.1:0", &["--log-format", "json", "-v"]);
    http(server.addr(), "GET", "/healthz", None, b"");
    http(server.addr(), "GET", "/api/v1/me", None, b"");
    let log = server.log.clone();
    server.terminate();
    let lines = log.lock().unwrap().clone();
    assert!(lines.len() >= 3, "{lines:?}");
    let mut requests = Vec::new();
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
        if v["fields"]["message"] == "request" {
            requests.push(v["fields"].clone());
        }
    }
    assert!(
        requests
            .iter()
            .any(|f| f["route"] == "/healthz" && f["status"] == 200 && f["method"] == "GET"),
        "{lines:?}"
    );
    assert!(
        requests
            .iter()
            .any(|f| f["path"] == "/api/v1/me" && f["status"] == 401),
        "{lines:?}"
    );
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
struct Hook {
    headers: std::collections::HashMap<String, String>,
    body: String,
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first `failures` requests, then 200;
/// records every request.
fn webhook_receiver(failures: usize) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Hook>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = std::collections::HashMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let (k, v) = l.split_once(':').unwrap();
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
            let length: usize = headers["content-length"].parse().unwrap();
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).unwrap();
            let n = {
                let mut got = record.lock().unwrap();
                got.push(Hook {
                    headers,
                    body: String::from_utf8(body).unwrap(),
                });
                got.len()
            };
            let status = if n <= failures {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = stream.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    (url, got)
}

/// HMAC-SHA256 of `TIMESTAMP.BODY`, computed here independently of the server's code.
fn expected_signature(secret: &str, timestamp: &str, body: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn put_notifications(server: &Server, token: &str, body: &str) -> (u16, Value) {
    let (code, answer) = http(
        server.addr(),
        "PUT",
        "/api/v1/notifications",
        Some(token),
        body.as_bytes(),
    );
    (code, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn webhooks_are_signed_and_retried() {
    webhooks_suite(&[]);
}

fn webhooks_suite(db_args: &[String]) {
    let dir = temp();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        // The receivers listen on 127.0.0.1, which webhooks may reach only when allowed.
        "public_url = \"https://mcsim.example.com\"\n[webhooks]\nretries = 3\nbackoff_ms = 50\n\
         timeout_seconds = 5\nallow_private = true\n",
    )
    .unwrap();
    let (_backend, server, alice) =
        server_with_alice(dir.path(), db_args, &["--config", config.to_str().unwrap()]);
    let token = token(&alice);
    let secret = "a-webhook-secret-of-some-length";

    // Settings: defaults, then checked changes; the secret is never answered.
    let (code, body) = http(
        server.addr(),
        "GET",
        "/api/v1/notifications",
        Some(&token),
        b"",
    );
    assert_eq!(code, 200);
    let defaults: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        defaults["events"],
        serde_json::json!(["succeeded", "failed"])
    );
    assert_eq!(defaults["webhook_url"], Value::Null);
    let (url, got) = webhook_receiver(2);
    let (code, answer) =
        put_notifications(&server, &token, &format!("{{\"webhook_url\": \"{url}\"}}"));
    assert_eq!(code, 400, "a webhook without a secret: {answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("secret")
    );
    for bad in [
        r#"{"webhook_url": "ftp://x/y", "webhook_secret": "0123456789abcdef"}"#,
        r#"{"webhook_secret": "short"}"#,
        r#"{"events": ["exploded"]}"#,
        r#"{"email_enabled": true}"#,
        r#"{"email": "not an address"}"#,
        r#"{"colour": "red"}"#,
    ] {
        let (code, answer) = put_notifications(&server, &token, bad);
        // 422 for a well-formed body with an unknown field (axum's JSON rejection).
        assert!(matches!(code, 400 | 422), "{bad}: {code} {answer}");
    }
    let (code, settings) = put_notifications(
        &server,
        &token,
        &format!(
            r#"{{"webhook_url": "{url}", "webhook_secret": "{secret}", "events": ["succeeded", "failed"]}}"#
        ),
    );
    assert_eq!(code, 200, "{settings}");
    assert_eq!(settings["webhook_secret_set"], true);
    assert!(!settings.to_string().contains(secret));

    // A run that succeeds: the receiver fails twice, the third attempt is delivered.
    mcsim_as(&alice, &["upload", &risk_model(), "--name", "npv"], "").expect_code(0);
    let id = start_run(&alice, "npv", &["-n", "2000", "--seed", "3"]);
    let hooks = wait_for("three webhook attempts", || {
        let got = got.lock().unwrap();
        (got.len() >= 3).then(|| got.clone())
    });
    // The run's end was recorded before (and whatever) the delivery.
    assert_eq!(status_of(&server, &token, &id)["status"], "succeeded");
    assert_eq!(hooks.len(), 3, "no attempt after the delivered one");
    for (i, hook) in hooks.iter().enumerate() {
        let h = &hook.headers;
        assert_eq!(h["x-mcsim-event"], "run.succeeded");
        assert_eq!(h["x-mcsim-attempt"], (i + 1).to_string());
        assert_eq!(h["x-mcsim-delivery"], hooks[0].headers["x-mcsim-delivery"]);
        assert_eq!(h["content-type"], "application/json");
        let timestamp = &h["x-mcsim-timestamp"];
        assert_eq!(
            h["x-mcsim-signature"],
            format!(
                "sha256={}",
                expected_signature(secret, timestamp, &hook.body)
            )
        );
        // Signed with another secret, it would not match.
        assert_ne!(
            h["x-mcsim-signature"],
            format!(
                "sha256={}",
                expected_signature("another-secret-value", timestamp, &hook.body)
            )
        );
        let payload: Value = serde_json::from_str(&hook.body).unwrap();
        assert_eq!(payload["event"], "run.succeeded");
        assert_eq!(payload["run"]["id"], id.as_str());
        assert_eq!(payload["run"]["status"], "succeeded");
        assert_eq!(payload["run"]["done"], 2000);
        assert_eq!(
            payload["run"]["report_url"],
            format!("https://mcsim.example.com/api/v1/runs/{id}/report")
        );
    }

    // A failing run is notified too; a cancelled one is not (not among the events).
    let failed = start_run(&alice, "npv", &["-n", "500", "--set", "Nowhere!Z99=1"]);
    let hook = wait_for("the failure's webhook", || {
        got.lock().unwrap().get(3).cloned()
    });
    let payload: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(payload["event"], "run.failed");
    assert_eq!(payload["run"]["id"], failed.as_str());
    assert!(
        payload["run"]["error"]
            .as_str()
            .unwrap()
            .contains("Nowhere")
    );

    // A receiver that never answers 2xx: every attempt fails, the job is not affected, and
    // the failure is counted.
    let (dead_url, dead) = webhook_receiver(usize::MAX);
    let (code, _) = put_notifications(
        &server,
        &token,
        &format!(r#"{{"webhook_url": "{dead_url}"}}"#),
    );
    assert_eq!(code, 200);
    let id = start_run(&alice, "npv", &["-n", "500"]);
    wait_status(&server, &token, &id, "succeeded");
    wait_for("four failed attempts", || {
        (dead.lock().unwrap().len() >= 4).then_some(())
    });
    wait_for("the failure counted", || {
        let text = scrape(&server, None);
        (metric(
            &text,
            "mcsim_notifications_total{channel=\"webhook\",result=\"failed\"}",
        ) == 1.0)
            .then_some(())
    });
    let text = scrape(&server, None);
    assert_eq!(
        metric(
            &text,
            "mcsim_notifications_total{channel=\"webhook\",result=\"delivered\"}"
        ),
        2.0
    );
    assert_eq!(dead.lock().unwrap().len(), 4, "1 attempt + 3 retries");
}

/// A webhook whose first attempt failed is queued in the database: after a graceful restart
/// the next daemon makes the next attempt (the same delivery, attempt 2, signed).
#[test]
fn queued_webhooks_survive_a_restart() {
    webhook_restart_suite(&[]);
}

fn webhook_restart_suite(db_args: &[String]) {
    let dir = temp();
    let config = dir.path().join("serve.toml");
    // 4 s between the first and the second attempt: the daemon is stopped in between.
    std::fs::write(
        &config,
        "[webhooks]\nretries = 3\nbackoff_ms = 4000\ntimeout_seconds = 5\nallow_private = true\n",
    )
    .unwrap();
    let config_arg = ["--config", config.to_str().unwrap()];
    let (backend, server, alice) = server_with_alice(dir.path(), db_args, &config_arg);
    let token = token(&alice);
    let secret = "a-webhook-secret-of-some-length";
    let (url, got) = webhook_receiver(1);
    let (code, answer) = put_notifications(
        &server,
        &token,
        &format!(r#"{{"webhook_url": "{url}", "webhook_secret": "{secret}"}}"#),
    );
    assert_eq!(code, 200, "{answer}");
    mcsim_as(&alice, &["upload", &risk_model(), "--name", "npv"], "").expect_code(0);
    let id = start_run(&alice, "npv", &["-n", "500", "--seed", "5"]);
    wait_for("the first (failing) attempt", || {
        (!got.lock().unwrap().is_empty()).then_some(())
    });
    server.terminate();
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "the stopped daemon made no second attempt"
    );
    let server = backend.start("127.0.0.1:0", &config_arg);
    let hooks = wait_for("the resumed attempt", || {
        let got = got.lock().unwrap();
        (got.len() >= 2).then(|| got.clone())
    });
    let (first, second) = (&hooks[0].headers, &hooks[1].headers);
    assert_eq!(second["x-mcsim-delivery"], first["x-mcsim-delivery"]);
    assert_eq!(first["x-mcsim-attempt"], "1");
    assert_eq!(second["x-mcsim-attempt"], "2");
    assert_eq!(hooks[1].body, hooks[0].body);
    assert_eq!(
        second["x-mcsim-signature"],
        format!(
            "sha256={}",
            expected_signature(secret, &second["x-mcsim-timestamp"], &hooks[1].body)
        )
    );
    let payload: Value = serde_json::from_str(&hooks[1].body).unwrap();
    assert_eq!(payload["run"]["id"], id.as_str());
    wait_for("the delivery counted by the new daemon", || {
        let text = scrape(&server, None);
        (metric(
            &text,
            "mcsim_notifications_total{channel=\"webhook\",result=\"delivered\"}",
        ) == 1.0)
            .then_some(())
    });
    // Delivered means forgotten: another restart sends nothing more.
    server.terminate();
    let server = backend.start("127.0.0.1:0", &config_arg);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(got.lock().unwrap().len(), 2);
    drop(server);
}

/// `mcsim notify` shows and changes the notification settings through the API.
#[test]
fn notify_command_shows_and_changes_the_settings() {
    let dir = temp();
    let config = dir.path().join("serve.toml");
    std::fs::write(&config, "[webhooks]\nallow_private = true\n").unwrap();
    let (_backend, server, alice) =
        server_with_alice(dir.path(), &[], &["--config", config.to_str().unwrap()]);
    let token = token(&alice);
    let notify = |args: &[&str], stdin: &str| {
        let mut all = vec!["notify"];
        all.extend_from_slice(args);
        mcsim_as(&alice, &all, stdin)
    };
    let defaults = notify(&["--format", "json"], "");
    defaults.expect_code(0);
    assert_eq!(
        defaults.json()["events"],
        serde_json::json!(["succeeded", "failed"])
    );
    assert_eq!(defaults.json()["webhook_url"], Value::Null);

    // A webhook needs a secret; the server's message comes through as one line.
    let url = "http://127.0.0.1:9/hook";
    assert_error(&notify(&["--webhook", url], ""), "secret");
    let secret = "0123456789abcdef-secret";
    let set = notify(
        &[
            "--webhook",
            url,
            "--secret-stdin",
            "--events",
            "finished,cancelled",
            "--format",
            "json",
        ],
        &format!("{secret}\n"),
    );
    set.expect_code(0);
    let settings = set.json();
    assert_eq!(settings["webhook_url"], url);
    assert_eq!(settings["webhook_secret_set"], true);
    assert_eq!(
        settings["events"],
        serde_json::json!(["succeeded", "cancelled"])
    );
    assert!(!set.stdout.contains(secret), "the secret is never shown");
    // What the API reads back is what the command set.
    let (code, body) = http(
        server.addr(),
        "GET",
        "/api/v1/notifications",
        Some(&token),
        b"",
    );
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), settings);

    // Email: on needs an address; options not given are kept.
    assert_error(&notify(&["--email", "on"], ""), "address");
    let table = notify(&["--email", "on", "--email-to", "me@example.com"], "");
    table.expect_code(0);
    assert!(
        table.stdout.contains("email:   on, to me@example.com"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains(&format!("webhook: {url} (signed)")),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("events:  succeeded, cancelled"),
        "{}",
        table.stdout
    );
    assert_error(&notify(&["--events", "exploded"], ""), "unknown event");
    assert_error(
        &notify(&["--webhook", url, "--secret-stdin"], "short\n"),
        "16 to 256",
    );
    notify(&["--email", "maybe"], "").expect_code(2);

    let off = notify(&["--no-webhook", "--email", "off", "--format", "json"], "");
    off.expect_code(0);
    let settings = off.json();
    assert_eq!(settings["webhook_url"], Value::Null);
    assert_eq!(settings["email_enabled"], false);
    assert_eq!(settings["email"], "me@example.com");
    assert_eq!(
        settings["events"],
        serde_json::json!(["succeeded", "cancelled"])
    );

    // Logged out, it says so.
    mcsim_as(&alice, &["logout"], "").expect_code(0);
    notify(&[], "").expect_code(2);
}

#[test]
fn email_notifications_reach_an_smtp_server() {
    // `host:port` of an SMTP sink and the Maildir it writes (.ci/run starts aiosmtpd).
    let (Ok(smtp), Ok(maildir)) = (
        std::env::var("MCSIM_TEST_SMTP"),
        std::env::var("MCSIM_TEST_SMTP_DIR"),
    ) else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("note: MCSIM_TEST_SMTP / MCSIM_TEST_SMTP_DIR unset: email test skipped");
        }
        return;
    };
    let (host, port) = smtp.rsplit_once(':').unwrap();
    let dir = temp();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[smtp]\nhost = \"{host}\"\nport = {port}\ntls = \"none\"\nfrom = \"mcsim <mcsim@example.com>\"\n"
        ),
    )
    .unwrap();
    let (_backend, server, alice) =
        server_with_alice(dir.path(), &[], &["--config", config.to_str().unwrap()]);
    let token = token(&alice);
    // A unique address, so that other runs' mail in the shared sink does not count.
    let to = format!("alice.{}@example.com", std::process::id());
    let (code, answer) = put_notifications(
        &server,
        &token,
        &format!(r#"{{"email": "{to}", "email_enabled": true}}"#),
    );
    assert_eq!(code, 200, "{answer}");
    mcsim_as(&alice, &["upload", &risk_model(), "--name", "npv"], "").expect_code(0);
    let id = start_run(&alice, "npv", &["-n", "1000"]);
    let failed = start_run(&alice, "npv", &["-n", "500", "--set", "Nowhere!Z99=1"]);
    let new = Path::new(&maildir).join("new");
    let find = |needle: &str| {
        std::fs::read_dir(&new).ok()?.flatten().find_map(|e| {
            // Undo quoted-printable's soft line breaks.
            let text = std::fs::read_to_string(e.path())
                .ok()?
                .replace("=\r\n", "")
                .replace("=\n", "");
            (text.contains(&to) && text.contains(needle)).then_some(text)
        })
    };
    let mail = wait_for("the success email", || find(&format!("run {id} ")));
    assert!(mail.contains("succeeded"), "{mail}");
    assert!(mail.contains("From: mcsim <mcsim@example.com>"), "{mail}");
    let mail = wait_for("the failure email", || find(&format!("run {failed} ")));
    assert!(
        mail.contains("failed") && mail.contains("Nowhere"),
        "{mail}"
    );
    let text = scrape(&server, None);
    assert_eq!(
        metric(
            &text,
            "mcsim_notifications_total{channel=\"email\",result=\"delivered\"}"
        ),
        2.0
    );
}

#[test]
fn https_with_a_certificate() {
    let dir = temp();
    // A test CA and a certificate for 127.0.0.1 signed by it (a self-signed certificate used
    // as the server's own is refused by webpki).
    let d = dir.path();
    let (ca, cert, key) = (d.join("ca.pem"), d.join("cert.pem"), d.join("key.pem"));
    std::fs::write(
        d.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(d)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let made = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=mcsim-test-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]) && openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]) && openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "cert.pem",
        "-extfile",
        "ext",
    ]);
    if !made || Command::new("curl").arg("--version").output().is_err() {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("note: openssl or curl missing: HTTPS test skipped");
        }
        return;
    }
    let backend = Backend {
        data: dir.path().join("data"),
        db_args: Vec::new(),
    };
    let server = backend.start(
        "127.0.0.1:0",
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let curl = |extra: &[&str], path: &str| {
        Command::new("curl")
            .args(["-sS", "--max-time", "20"])
            .args(extra)
            .arg(format!("{}{path}", server.url))
            .output()
            .unwrap()
    };
    let out = curl(&["--cacert", ca.to_str().unwrap()], "/healthz");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");
    // The API over HTTPS: a login attempt is answered (and rate-limited by address).
    let out = curl(
        &[
            "--cacert",
            cert.to_str().unwrap(),
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"username":"x","password":"yyyyyyyy"}"#,
        ],
        "/api/v1/login",
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrong user name or password"));
    // An untrusted certificate is refused by the client; plain HTTP gets no answer.
    assert!(!curl(&[], "/healthz").status.success());
    let (code, _) = http_raw(
        server.addr(),
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_ne!(code, 200);
    // The server goes on after the failed handshakes.
    let out = curl(&["--cacert", ca.to_str().unwrap()], "/healthz");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok");

    // The command line over HTTPS, trusting the test CA (SSL_CERT_FILE, as for any rustls
    // client that reads the system's roots).
    let cli = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcsim"))
            .args(args)
            .env("MCSIM_CONFIG_DIR", d.join("client"))
            .env("SSL_CERT_FILE", &ca)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let mut create = backend.serve_args();
    create.extend(["--create-admin".to_owned(), "alice".to_owned()]);
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    assert!(cli(&create, "alice-password\n").status.success());
    let out = cli(
        &[
            "login",
            "--server",
            &server.url,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "alice-password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(
        &["upload", &risk_model(), "--name", "npv", "--format", "json"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let up: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(up["version"], 1);
}

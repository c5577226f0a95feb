//! Stand-ins for the team server's commands in a build without the `server` feature.

use anyhow::{Result, bail};

use super::{ExitStatus, Printer, StatsOptions};
use crate::cli::{
    CancelArgs, LoginArgs, LogoutArgs, NotifyArgs, RegisterArgs, ResultsArgs, RunArgs, ServeArgs,
    ShareArgs, UploadArgs, UserCommand,
};

fn disabled() -> Result<ExitStatus> {
    bail!("this mcsim was built without the team server (cargo feature `server`)")
}

/// `mcsim serve`.
pub fn serve(_: ServeArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// Whether `mcsim serve` logs JSON (never without the server).
pub fn serve_json_logs(_: &ServeArgs) -> bool {
    false
}
/// `mcsim register`.
pub fn register(_: RegisterArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim login`.
pub fn login(_: LoginArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim logout`.
pub fn logout(_: LogoutArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim user`.
pub fn user(_: UserCommand, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim upload`.
pub fn upload(_: UploadArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim share`.
pub fn share(_: ShareArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim notify`.
pub fn notify(_: NotifyArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim run --remote`.
pub fn run(_: RunArgs, _: StatsOptions, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim results --remote`.
pub fn results(_: ResultsArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}
/// `mcsim cancel`.
pub fn cancel(_: CancelArgs, _: Printer) -> Result<ExitStatus> {
    disabled()
}

//! `run --save-as FILE.xlsx`: a copy of the workbook whose statistics cells hold the simulated
//! values (see [`mcsim_workbook::save_with_values`] for what the copy preserves).

use std::path::{Path, PathBuf};

use mcsim_workbook::{CellUpdate, save_with_values};

use crate::error::OpsError;

fn refuse(message: String) -> OpsError {
    OpsError::Run { message }
}

/// The file's extension, lower-cased (`xlsx`), or empty.
fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// `path` made absolute and resolved as far as it exists: the canonical parent folder joined
/// with the file name when the file does not exist yet.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = parent.canonicalize().unwrap_or(parent);
    match path.file_name() {
        Some(name) => parent.join(name),
        None => parent,
    }
}

/// Checks `--save-as` before the simulation runs: `out` must end in `.xlsx` or `.xlsm` (the
/// input's kind: a macro-enabled workbook saved as `.xlsx` does not open in Excel), must not
/// be the input workbook, and its folder must exist. Overwriting another existing file is
/// allowed.
///
/// # Errors
///
/// [`OpsError::Run`] naming the file and the rule.
pub fn check_save_as(workbook: &Path, out: &Path) -> Result<(), OpsError> {
    let shown = out.display();
    let ext = extension(out);
    if ext != "xlsx" && ext != "xlsm" {
        return Err(refuse(format!(
            "--save-as {shown}: the copy must be an .xlsx or .xlsm file"
        )));
    }
    let input_ext = extension(workbook);
    if (input_ext == "xlsx" || input_ext == "xlsm") && input_ext != ext {
        return Err(refuse(format!(
            "--save-as {shown}: the workbook is an .{input_ext} file, so the copy must end in \
             .{input_ext} too (Excel refuses a file whose extension does not match its content)"
        )));
    }
    if resolved(out) == resolved(workbook) {
        return Err(refuse(format!(
            "--save-as {shown} is the input workbook; refusing to overwrite it \
             (give another file name)"
        )));
    }
    if out.is_dir() {
        return Err(refuse(format!("--save-as {shown} is a folder")));
    }
    if let Some(parent) = out.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(refuse(format!(
            "--save-as {shown}: the folder {} does not exist",
            parent.display()
        )));
    }
    Ok(())
}

/// Writes the copy of `workbook` (whose bytes are `bytes`) to `out` with `updates` as the
/// cells' cached values. The copy is written to a temporary file beside `out` and then renamed,
/// so a failure leaves no half-written workbook.
///
/// # Errors
///
/// The checks of [`check_save_as`]; [`OpsError::Run`] when the workbook cannot be rewritten
/// (an update names an unknown sheet, a damaged part); [`OpsError::Io`] when the file cannot be
/// written.
pub fn write_save_as(
    workbook: &Path,
    bytes: &[u8],
    out: &Path,
    updates: &[CellUpdate],
) -> Result<(), OpsError> {
    check_save_as(workbook, out)?;
    let copy = save_with_values(bytes, updates).map_err(|e| {
        let mut message = format!("--save-as {}: {e}", out.display());
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        refuse(message)
    })?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = out.with_file_name(format!(".{name}.mcsim-partial"));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OpsError::Io { path, source }
    };
    std::fs::write(&tmp, &copy).map_err(io(&tmp))?;
    if let Err(e) = std::fs::rename(&tmp, out) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(out)(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_input_and_other_kinds() {
        let dir = std::env::temp_dir().join(format!("mcsim-save-as-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("model.xlsx");
        std::fs::write(&input, b"x").unwrap();
        let same = dir.join(".").join("model.xlsx");
        let err = check_save_as(&input, &same).unwrap_err().to_string();
        assert!(err.contains("is the input workbook"), "{err}");
        assert!(check_save_as(&input, &dir.join("model.csv")).is_err());
        assert!(check_save_as(&input, &dir.join("model.xlsm")).is_err());
        assert!(check_save_as(&input, &dir.join("nope/out.xlsx")).is_err());
        check_save_as(&input, &dir.join("out.XLSX")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}

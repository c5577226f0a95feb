//! The entry points: [`load`] and [`load_bytes`].

use std::io::{BufReader, Cursor};
use std::path::Path;

use calamine::{Reader, Xlsx, XlsxError};

use crate::error::LoadError;
use crate::guard::{self, Package};
use crate::model::{DataTable, DefinedName, Sheet, Workbook};
use crate::options::LoadOptions;
use crate::package::{self, SheetKind, WorkbookInfo};
use crate::rawsheet;
use crate::sheet::{self, SheetBuilder};

/// Loads the `.xlsx` / `.xlsm` workbook at `path`.
///
/// The file is read into memory and handed to [`load_bytes`], with the path as the name
/// used in messages.
///
/// # Errors
///
/// [`LoadError::Io`] when the file cannot be read, and every error of [`load_bytes`].
pub fn load(path: &Path, options: &LoadOptions) -> Result<Workbook, LoadError> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: display.clone(),
        source,
    })?;
    load_bytes(&bytes, &display, options)
}

/// Loads a workbook from its bytes (an upload, say). `name_hint` is the file name used in
/// messages and, for files that are not zip archives, to tell `.csv` / `.xls` / ... apart.
///
/// What is loaded:
/// - every worksheet, in workbook order (chart sheets are skipped; dialog and macro sheets
///   are skipped with a warning), with every cell that has a value or a formula;
/// - formulas without the leading `=`; shared formulas as [`Formula::Text`] on the anchor and
///   [`Formula::Shared`] on the other cells; array formulas as [`Formula::Array`] with their
///   range, on the anchor cell only;
/// - cached values: numbers (dates as serial numbers in the workbook's date system), text,
///   booleans and errors as Excel spells them (`#DIV/0!`, `#SPILL!`, ...). A formula cell
///   whose file stored no `<v>` has [`CellValue::Empty`]; a formula cell with `t="str"` and
///   an empty `<v></v>` (a formula returning `""`) has `CellValue::Text("")`;
/// - defined names with their scope (`localSheetId` mapped to the index in
///   [`Workbook::sheets`]); names local to a sheet that is not loaded are skipped with a
///   warning;
/// - the 1904 date system flag;
/// - the Excel tables of each worksheet ([`Workbook::tables`]); a table part that cannot be
///   read is skipped with a warning;
/// - the hidden rows of each worksheet, by hand or by a filter ([`Workbook::hidden_rows`]);
/// - the links to other workbooks with their cached values and defined names
///   ([`Workbook::external_books`]);
/// - data validation and conditional formatting rules, plain and x14
///   ([`Workbook::data_validations`], [`Workbook::conditional_formats`]).
///
/// Data tables (What-If Analysis) are listed in [`Workbook::data_tables`]; their cells keep
/// their cached values as constants (the engine recalculates them).
///
/// # Errors
///
/// See [`LoadError`]: unsupported formats, encrypted files, archives beyond the
/// [`LoadOptions`] limits, unsafe entry names, and damaged files.
///
/// [`Formula::Text`]: crate::Formula::Text
/// [`Formula::Shared`]: crate::Formula::Shared
/// [`Formula::Array`]: crate::Formula::Array
/// [`CellValue::Empty`]: crate::CellValue::Empty
pub fn load_bytes(
    bytes: &[u8],
    name_hint: &str,
    options: &LoadOptions,
) -> Result<Workbook, LoadError> {
    load_impl(bytes, name_hint, options, CellSource::Calamine)
}

/// Which reader reads the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellSource {
    /// calamine, falling back to this crate's reader for sheets calamine refuses.
    Calamine,
    /// This crate's reader for every sheet (to compare the two in tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Own,
}

pub(crate) fn load_impl(
    bytes: &[u8],
    name_hint: &str,
    options: &LoadOptions,
    source: CellSource,
) -> Result<Workbook, LoadError> {
    let mut pkg = guard::open(bytes, name_hint, options)?;
    let (dir, workbook_name) = package::workbook_location(&mut pkg)?;
    if !pkg.has(&format!("{dir}{workbook_name}")) {
        return Err(LoadError::corrupt(
            name_hint,
            format!("it has no workbook part '{dir}{workbook_name}' (is it an Excel file?)"),
        ));
    }

    let mut xlsx: Xlsx<Cursor<&[u8]>> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| from_calamine(name_hint, "cannot open the workbook", e))?;
    let date1904 = xlsx.has_1904_epoch();
    let info = package::read_workbook(&mut pkg, &dir, &workbook_name)?;

    let mut warnings = Vec::new();
    let mut sheets = Vec::new();
    let mut data_tables = Vec::new();
    let mut tables = Vec::new();
    let mut hidden_rows = Vec::new();
    let mut data_validations = Vec::new();
    let mut conditional_formats = Vec::new();
    // Index in `<sheets>` (what localSheetId counts) → index in `sheets`.
    let mut loaded_index: Vec<Option<usize>> = Vec::with_capacity(info.sheets.len());
    let mut strings: Option<Vec<String>> = None;
    let known: Vec<String> = xlsx.sheet_names();

    for entry in &info.sheets {
        match &entry.kind {
            SheetKind::Worksheet => {}
            SheetKind::Chartsheet => {
                loaded_index.push(None);
                continue;
            }
            SheetKind::Other(kind) => {
                warnings.push(format!(
                    "sheet '{}' is not a worksheet ({kind}); it is skipped",
                    entry.name
                ));
                loaded_index.push(None);
                continue;
            }
        }
        let part = match &entry.part {
            Some(part) if pkg.has(part) => part.clone(),
            _ => {
                return Err(LoadError::corrupt(
                    name_hint,
                    format!("the part of sheet '{}' is missing", entry.name),
                ));
            }
        };
        if !known.contains(&entry.name) {
            return Err(LoadError::corrupt(
                name_hint,
                format!("sheet '{}' is not in calamine's sheet list", entry.name),
            ));
        }
        let (cells, specs) = read_sheet(
            &mut pkg,
            &mut xlsx,
            &info,
            &entry.name,
            &part,
            date1904,
            &mut strings,
            &mut warnings,
            source,
        )?;
        let sheet_tables = crate::tables::read_sheet_tables(
            &mut pkg,
            sheets.len(),
            &entry.name,
            &part,
            &mut warnings,
        )?;
        let rules =
            crate::validation::scan(&mut pkg, sheets.len(), &entry.name, &part, &mut warnings)?;
        data_validations.extend(rules.validations);
        conditional_formats.extend(rules.formats);
        let rows = crate::rows::scan(&mut pkg, &part)?;
        hidden_rows.extend(crate::rows::classify(sheets.len(), rows, &sheet_tables));
        tables.extend(sheet_tables);
        loaded_index.push(Some(sheets.len()));
        for (range, spec) in specs {
            data_tables.push(DataTable {
                sheet: sheets.len(),
                range,
                two_d: spec.two_d,
                row_input: spec.row_input,
                r1: spec.r1,
                r2: spec.r2,
            });
        }
        sheets.push(Sheet {
            name: entry.name.clone(),
            cells,
        });
    }

    let mut names = Vec::with_capacity(info.names.len());
    for raw in info.names {
        let scope = match raw.local_sheet_id.as_deref() {
            None => None,
            Some(id) => {
                let position = id.trim().parse::<usize>().ok();
                match position.and_then(|i| loaded_index.get(i).copied()) {
                    Some(Some(index)) => Some(index),
                    Some(None) => {
                        let sheet = position
                            .and_then(|i| info.sheets.get(i))
                            .map_or("?", |s| s.name.as_str());
                        warnings.push(format!(
                            "defined name '{}' is local to sheet '{sheet}', which is not a \
                             loaded worksheet; the name is skipped",
                            raw.name
                        ));
                        continue;
                    }
                    None => {
                        warnings.push(format!(
                            "defined name '{}' has localSheetId=\"{id}\", which is not a sheet; \
                             the name is skipped",
                            raw.name
                        ));
                        continue;
                    }
                }
            }
        };
        names.push(DefinedName {
            name: raw.name,
            scope,
            formula: raw.formula,
            hidden: raw.hidden,
        });
    }

    let external_books =
        crate::external::read_external_books(&mut pkg, &dir, &workbook_name, &mut warnings)?;

    for w in &warnings {
        tracing::debug!(file = name_hint, "{w}");
    }
    Ok(Workbook {
        sheets,
        names,
        date1904,
        warnings,
        data_tables,
        tables,
        hidden_rows,
        external_books,
        data_validations,
        conditional_formats,
    })
}

/// Reads one worksheet: the array-formula scan, then calamine, then (only if calamine
/// refuses a cached error value it does not know) this crate's own reader.
#[allow(clippy::too_many_arguments)]
fn read_sheet(
    pkg: &mut Package<'_>,
    xlsx: &mut Xlsx<Cursor<&[u8]>>,
    info: &WorkbookInfo,
    name: &str,
    part: &str,
    date1904: bool,
    strings: &mut Option<Vec<String>>,
    warnings: &mut Vec<String>,
    source: CellSource,
) -> Result<SheetContent, LoadError> {
    let file = pkg.file;
    let mut builder = SheetBuilder::default();
    let outcome = match source {
        CellSource::Calamine => {
            let specials = sheet::scan_specials(pkg, part)?;
            sheet::read_with_calamine(xlsx, name, &specials, date1904, &mut builder)
        }
        CellSource::Own => Err(XlsxError::CellError("(test)".to_owned())),
    };
    match outcome {
        Ok(()) => {}
        Err(XlsxError::CellError(code)) => {
            tracing::debug!(
                file,
                sheet = name,
                "calamine does not know the error value {code:?}; reading the sheet with the fallback reader"
            );
            if strings.is_none() {
                *strings = Some(read_shared_strings(pkg, &info.dir)?);
            }
            builder = SheetBuilder::default();
            sheet::read_with_fallback(
                pkg,
                part,
                strings.as_deref().unwrap_or_default(),
                date1904,
                &mut builder,
            )?;
        }
        Err(e) => {
            return Err(from_calamine(
                file,
                &format!("cannot read sheet '{name}'"),
                e,
            ));
        }
    }
    let tables = builder.data_tables();
    Ok((builder.finish(name, warnings), tables))
}

/// A sheet's cells and data tables.
type SheetContent = (
    Vec<crate::model::Cell>,
    Vec<((u32, u32, u32, u32), crate::rawsheet::TableSpec)>,
);

/// The shared strings, read from where calamine reads them (`<workbook folder>sharedStrings.xml`).
fn read_shared_strings(pkg: &mut Package<'_>, dir: &str) -> Result<Vec<String>, LoadError> {
    let file = pkg.file;
    let path = format!("{dir}sharedStrings.xml");
    let Some(input) = pkg.open(&path)? else {
        return Ok(Vec::new());
    };
    rawsheet::read_shared_strings(BufReader::new(input))
        .map_err(|e| LoadError::corrupt_with(file, format!("cannot parse the part '{path}'"), e))
}

fn from_calamine(file: &str, what: &str, e: XlsxError) -> LoadError {
    match e {
        XlsxError::Password => LoadError::Encrypted {
            path: file.to_owned(),
        },
        e => LoadError::corrupt_with(file, what, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Workbooks to compare the two cell readers on: the committed fixtures and the Excel corpus.
    fn workbooks() -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")];
        // The Excel corpus copied into the repository (tests/corpus/excel).
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/excel");
        assert!(
            corpus.is_dir(),
            "the corpus copy is missing: {}",
            corpus.display()
        );
        dirs.push(corpus);
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm")
                }) {
                    files.push(path);
                }
            }
        }
        files.sort();
        files
    }

    /// The fallback reader must give exactly what calamine gives, so a sheet read by it
    /// (because of a `#SPILL!`, say) behaves like any other.
    #[test]
    fn own_reader_matches_calamine() {
        let files = workbooks();
        assert!(files.len() >= 4, "fixtures missing: {files:?}");
        let options = LoadOptions::default();
        let mut cells = 0usize;
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            let name = file.display().to_string();
            let a = load_impl(&bytes, &name, &options, CellSource::Calamine)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let b = load_impl(&bytes, &name, &options, CellSource::Own)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(a.sheets.len(), b.sheets.len(), "{name}");
            for (sa, sb) in a.sheets.iter().zip(&b.sheets) {
                assert_eq!(sa.name, sb.name, "{name}");
                assert_eq!(sa.cells.len(), sb.cells.len(), "{name} / {}", sa.name);
                for (ca, cb) in sa.cells.iter().zip(&sb.cells) {
                    assert_eq!(ca, cb, "{name} / {}", sa.name);
                }
                cells += sa.cells.len();
            }
            assert_eq!(a.names, b.names, "{name}");
            assert_eq!(a.warnings, b.warnings, "{name}");
        }
        assert!(cells > 100, "only {cells} cells compared");
    }
}

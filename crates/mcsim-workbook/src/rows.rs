//! Hidden rows and filters of a worksheet: `<row hidden="1">` and the sheet's `<autoFilter>`,
//! which SUBTOTAL and AGGREGATE read (Excel stores a row hidden by a filter and one hidden by
//! hand alike; a hidden row inside the data rows of an active filter counts as filtered).

use std::io::{BufRead, BufReader};

use quick_xml::events::Event;

use crate::error::{BoxError, LoadError};
use crate::guard::Package;
use crate::model::{HiddenRows, Table};
use crate::sheet::stream_contains;
use crate::xml;

/// What a worksheet part says about its rows.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RowScan {
    /// Zero-based rows with `hidden="1"`, ascending.
    pub hidden: Vec<u32>,
    /// The sheet's own `<autoFilter ref>` when it filters on at least one column.
    pub filter: Option<(u32, u32, u32, u32)>,
}

/// Scans the part for hidden rows (and the sheet's filter). The part is first searched for a
/// `hidden` attribute set to true; only when one occurs is it parsed.
pub(crate) fn scan(pkg: &mut Package<'_>, part: &str) -> Result<RowScan, LoadError> {
    let file = pkg.file;
    let Some(input) = pkg.open(part)? else {
        return Ok(RowScan::default());
    };
    let found = stream_contains(
        input,
        &[
            b"hidden=\"1\"",
            b"hidden='1'",
            b"hidden=\"true\"",
            b"hidden='true'",
        ],
    )
    .map_err(|e| {
        LoadError::corrupt_with(file, format!("cannot decompress the part '{part}'"), e)
    })?;
    if !found {
        return Ok(RowScan::default());
    }
    let Some(input) = pkg.open(part)? else {
        return Ok(RowScan::default());
    };
    read_rows(BufReader::new(input))
        .map_err(|e| LoadError::corrupt_with(file, format!("cannot parse the part '{part}'"), e))
}

fn is_true(v: Option<String>) -> bool {
    matches!(v.as_deref().map(str::trim), Some("1" | "true"))
}

/// Reads the `<row>` elements and the worksheet-level `<autoFilter>` (not those of custom sheet
/// views, which sit deeper).
pub(crate) fn read_rows<R: BufRead>(input: R) -> Result<RowScan, BoxError> {
    let mut reader = xml::reader(input);
    let mut buf = Vec::with_capacity(1024);
    let mut out = RowScan::default();
    let mut depth = 0usize;
    // The next row's zero-based index when `r` is left out.
    let mut next_row: u32 = 0;
    // Inside the worksheet's own autoFilter: its range and whether a column filters.
    let mut filter: Option<((u32, u32, u32, u32), bool)> = None;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => {
                depth += 1;
                match e.local_name().as_ref() {
                    "row" => {
                        let row = match xml::attr(&e, "r")? {
                            Some(r) => xml::parse_row_number(&r)
                                .ok_or_else(|| format!("bad row number r=\"{r}\""))?,
                            None => next_row,
                        };
                        next_row = row.saturating_add(1);
                        if is_true(xml::attr(&e, "hidden")?) {
                            out.hidden.push(row);
                        }
                    }
                    "autoFilter" if depth == 2 => {
                        filter = xml::attr(&e, "ref")?
                            .as_deref()
                            .and_then(xml::parse_range_ref)
                            .map(|r| (r, false));
                    }
                    // A criterion inside `<filterColumn>` (a bare one only shows a button).
                    "filters" | "customFilters" | "top10" | "dynamicFilter" | "colorFilter"
                    | "iconFilter"
                        if depth == 4 =>
                    {
                        if let Some(f) = filter.as_mut() {
                            f.1 = true;
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                if depth == 2
                    && e.local_name().as_ref() == "autoFilter"
                    && let Some((range, true)) = filter.take()
                {
                    out.filter = Some(range);
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out.hidden.sort_unstable();
    out.hidden.dedup();
    Ok(out)
}

/// Splits a sheet's hidden rows into those hidden by hand and those hidden by a filter: a
/// hidden row among the data rows (below the header) of the sheet's active filter or of a table
/// with an active filter is filtered.
pub(crate) fn classify(sheet: usize, scan: RowScan, tables: &[Table]) -> Option<HiddenRows> {
    if scan.hidden.is_empty() {
        return None;
    }
    // Filtered spans of rows, inclusive.
    let mut spans: Vec<(u32, u32)> = Vec::new();
    if let Some((r1, _, r2, _)) = scan.filter {
        spans.push((r1.saturating_add(1), r2));
    }
    for t in tables.iter().filter(|t| t.sheet == sheet && t.filtered) {
        let (r1, _, r2, _) = t.range;
        spans.push((
            r1.saturating_add(t.header_row_count),
            r2.saturating_sub(t.totals_row_count),
        ));
    }
    let mut rows = HiddenRows {
        sheet,
        ..HiddenRows::default()
    };
    for row in scan.hidden {
        if spans.iter().any(|&(a, b)| (a..=b).contains(&row)) {
            rows.filtered.push(row);
        } else {
            rows.hidden.push(row);
        }
    }
    Some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_the_sheet_filter() {
        let xml = br#"<worksheet><sheetData><row r="2" hidden="1"><c r="A2"><v>1</v></c></row><row><c r="A3"><v>2</v></c></row><row hidden="true"/><row r="9" hidden="0"/></sheetData><autoFilter ref="A1:C6"><filterColumn colId="0"><filters><filter val="2"/></filters></filterColumn></autoFilter><customSheetViews><customSheetView><autoFilter ref="A1:Z99"/></customSheetView></customSheetViews></worksheet>"#;
        let scan = read_rows(&xml[..]).unwrap();
        assert_eq!(scan.hidden, vec![1, 3]);
        assert_eq!(scan.filter, Some((0, 0, 5, 2)));
        // An autoFilter without a filtering column filters nothing.
        let xml = br#"<worksheet><sheetData><row r="4" hidden="1"/></sheetData><autoFilter ref="A1:C6"><filterColumn colId="1" hiddenButton="1"/></autoFilter></worksheet>"#;
        let scan = read_rows(&xml[..]).unwrap();
        assert_eq!(scan.hidden, vec![3]);
        assert_eq!(scan.filter, None);
    }

    #[test]
    fn hidden_rows_in_a_filter_are_filtered() {
        let table = |range, filtered| Table {
            sheet: 0,
            name: "T".into(),
            display_name: "T".into(),
            range,
            header_row_count: 1,
            totals_row_count: 1,
            columns: vec!["a".into()],
            filtered,
        };
        // Rows 2..=4 are the data of the filtered table (header row 1, totals row 5).
        let tables = [table((1, 0, 5, 0), true), table((10, 0, 20, 0), false)];
        let scan = RowScan {
            hidden: vec![0, 1, 2, 4, 5, 12],
            filter: None,
        };
        let rows = classify(0, scan, &tables).unwrap();
        assert_eq!(rows.filtered, vec![2, 4]);
        assert_eq!(rows.hidden, vec![0, 1, 5, 12]);
        // The sheet's filter: its first row is the header.
        let scan = RowScan {
            hidden: vec![6, 7, 9],
            filter: Some((6, 0, 8, 3)),
        };
        let rows = classify(1, scan, &tables).unwrap();
        assert_eq!(
            (rows.sheet, rows.filtered, rows.hidden),
            (1, vec![7], vec![6, 9])
        );
        assert!(classify(0, RowScan::default(), &tables).is_none());
    }
}

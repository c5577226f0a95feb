//! Data validation (`<dataValidations>`) and conditional formatting (`<conditionalFormatting>`)
//! of a worksheet, in both their plain forms and the x14 forms Excel writes in the sheet's
//! `<extLst>` (`<x14:dataValidation>` with `<xm:f>` / `<xm:sqref>`, used when a rule refers to
//! another sheet).

use std::io::{BufRead, BufReader};

use quick_xml::events::Event;

use crate::error::{BoxError, LoadError};
use crate::guard::Package;
use crate::model::{CfRule, ConditionalFormat, DataValidation, Range};
use crate::sheet::stream_contains;
use crate::xml;

/// The rules of one worksheet.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Rules {
    pub validations: Vec<DataValidation>,
    pub formats: Vec<ConditionalFormat>,
}

/// Reads the data validations and conditional formats of the sheet part `part` (sheet index
/// `sheet`). The part is first searched for the element names; only when one occurs is it
/// parsed. A part whose rules cannot be parsed gives none, with a warning (the cells load).
pub(crate) fn scan(
    pkg: &mut Package<'_>,
    sheet: usize,
    sheet_name: &str,
    part: &str,
    warnings: &mut Vec<String>,
) -> Result<Rules, LoadError> {
    let file = pkg.file;
    let Some(input) = pkg.open(part)? else {
        return Ok(Rules::default());
    };
    let found =
        stream_contains(input, &[b"dataValidation", b"conditionalFormatting"]).map_err(|e| {
            LoadError::corrupt_with(file, format!("cannot decompress the part '{part}'"), e)
        })?;
    if !found {
        return Ok(Rules::default());
    }
    let Some(input) = pkg.open(part)? else {
        return Ok(Rules::default());
    };
    match read_rules(BufReader::new(input), sheet) {
        Ok(rules) => Ok(rules),
        Err(e) => {
            warnings.push(format!(
                "sheet '{sheet_name}': cannot read its data validation or conditional formatting \
                 ({e}); they are not checked"
            ));
            Ok(Rules::default())
        }
    }
}

fn is_true(v: Option<String>) -> bool {
    matches!(v.as_deref().map(str::trim), Some("1" | "true"))
}

/// Parses `sqref`: space-separated cells and ranges, whole columns (`A:C`) and rows (`2:5`).
pub(crate) fn parse_sqref(s: &str) -> Vec<Range> {
    s.split_whitespace().filter_map(parse_area).collect()
}

fn parse_area(s: &str) -> Option<Range> {
    if let Some(r) = xml::parse_range_ref(s) {
        return Some(r);
    }
    let (a, b) = s.split_once(':')?;
    let (a, b) = (a.trim_start_matches('$'), b.trim_start_matches('$'));
    let column = |x: &str| -> Option<u32> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        xml::parse_cell_ref(&format!("{x}1")).map(|p| p.1)
    };
    if let (Some(c1), Some(c2)) = (column(a), column(b)) {
        return Some((0, c1.min(c2), 1_048_575, c1.max(c2)));
    }
    let (r1, r2) = (xml::parse_row_number(a)?, xml::parse_row_number(b)?);
    Some((r1.min(r2), 0, r1.max(r2), 16_383))
}

/// A data validation being read.
struct PendingValidation {
    rule: DataValidation,
    /// The `sqref` attribute, or the `<xm:sqref>` child of the x14 form.
    sqref: String,
}

/// A conditional format being read.
struct PendingFormat {
    sqref: String,
    rules: Vec<CfRule>,
}

/// Reads the rules of a sheet part. `<sheetData>` is skipped.
pub(crate) fn read_rules<R: BufRead>(input: R, sheet: usize) -> Result<Rules, BoxError> {
    let mut reader = xml::reader(input);
    let mut buf = Vec::with_capacity(1024);
    let mut text_buf = Vec::new();
    let mut out = Rules::default();
    let mut dv: Option<PendingValidation> = None;
    let mut cf: Option<PendingFormat> = None;
    let mut rule: Option<CfRule> = None;
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "sheetData" => xml::skip(&mut reader, &mut text_buf, "sheetData")?,
                "dataValidation" => {
                    dv = Some(PendingValidation {
                        rule: DataValidation {
                            sheet,
                            kind: xml::attr(&e, "type")?.unwrap_or_else(|| "none".into()),
                            operator: xml::attr(&e, "operator")?
                                .unwrap_or_else(|| "between".into()),
                            ranges: Vec::new(),
                            formula1: None,
                            formula2: None,
                            allow_blank: is_true(xml::attr(&e, "allowBlank")?),
                            show_error_message: is_true(xml::attr(&e, "showErrorMessage")?),
                        },
                        sqref: xml::attr(&e, "sqref")?.unwrap_or_default(),
                    });
                }
                "formula1" | "formula2" if dv.is_some() => {
                    let second = e.local_name().as_ref() == "formula2";
                    let text = xml::read_text(&mut reader, &mut text_buf, "formula")?;
                    let text = Some(strip_equals(&text));
                    if let Some(p) = dv.as_mut() {
                        if second {
                            p.rule.formula2 = text;
                        } else {
                            p.rule.formula1 = text;
                        }
                    }
                }
                "sqref" => {
                    let text = xml::read_text(&mut reader, &mut text_buf, "sqref")?;
                    if let Some(p) = dv.as_mut() {
                        p.sqref = text;
                    } else if let Some(p) = cf.as_mut() {
                        p.sqref = text;
                    }
                }
                "conditionalFormatting" => {
                    cf = Some(PendingFormat {
                        sqref: xml::attr(&e, "sqref")?.unwrap_or_default(),
                        rules: Vec::new(),
                    });
                }
                "cfRule" if cf.is_some() => {
                    rule = Some(CfRule {
                        kind: xml::attr(&e, "type")?.unwrap_or_default(),
                        operator: xml::attr(&e, "operator")?,
                        priority: xml::attr(&e, "priority")?.and_then(|p| p.trim().parse().ok()),
                        formulas: Vec::new(),
                    });
                }
                // A value object of a colour scale, data bar or icon set, whose `<xm:f>` is a
                // threshold, not a rule formula.
                "cfvo" => xml::skip(&mut reader, &mut text_buf, "cfvo")?,
                "formula" | "f" if rule.is_some() => {
                    let text = xml::read_text(&mut reader, &mut text_buf, "formula")?;
                    if let Some(r) = rule.as_mut() {
                        r.formulas.push(strip_equals(&text));
                    }
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "dataValidation" => {
                    if let Some(mut p) = dv.take() {
                        p.rule.ranges = parse_sqref(&p.sqref);
                        if !p.rule.ranges.is_empty() {
                            out.validations.push(p.rule);
                        }
                    }
                }
                "cfRule" => {
                    if let (Some(r), Some(p)) = (rule.take(), cf.as_mut()) {
                        p.rules.push(r);
                    }
                }
                "conditionalFormatting" => {
                    if let Some(p) = cf.take() {
                        let ranges = parse_sqref(&p.sqref);
                        if !ranges.is_empty() {
                            out.formats.push(ConditionalFormat {
                                sheet,
                                ranges,
                                rules: p.rules,
                            });
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

fn strip_equals(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('=').unwrap_or(s).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_x14_rules() {
        let xml = br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:x14="x14" xmlns:xm="xm"><sheetData><row r="1"><c r="A1"><f>dataValidation</f></c></row></sheetData>
<conditionalFormatting sqref="B2:B9 D1"><cfRule type="expression" dxfId="0" priority="2"><formula>B2&gt;SUM(Table1[Qty])</formula></cfRule><cfRule type="cellIs" operator="between" priority="1"><formula>1</formula><formula>"a&amp;b"</formula></cfRule><cfRule type="colorScale" priority="3"><colorScale><cfvo type="min"/><cfvo type="formula" val="A1"/></colorScale></cfRule></conditionalFormatting>
<dataValidations count="2"><dataValidation type="whole" allowBlank="1" showErrorMessage="1" sqref="C2:C5 E:E"><formula1>1</formula1><formula2>$F$1</formula2></dataValidation><dataValidation type="list" operator="equal" sqref="A1"><formula1>INDIRECT("Table1[Region]")</formula1></dataValidation></dataValidations>
<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"><x14:dataValidations count="1"><x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1"><x14:formula1><xm:f>Lists!$A$2:$A$4</xm:f></x14:formula1><xm:sqref>G2:G10</xm:sqref></x14:dataValidation></x14:dataValidations></ext>
<ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"><x14:conditionalFormattings><x14:conditionalFormatting><x14:cfRule type="dataBar" id="{1}"><x14:dataBar><x14:cfvo type="num"><xm:f>0</xm:f></x14:cfvo></x14:dataBar></x14:cfRule><x14:cfRule type="expression" priority="4" id="{2}"><xm:f>Lists!A2=1</xm:f></x14:cfRule><xm:sqref>H1:H3</xm:sqref></x14:conditionalFormatting></x14:conditionalFormattings></ext></extLst></worksheet>"#;
        let rules = read_rules(&xml[..], 1).unwrap();
        assert_eq!(
            rules.validations,
            vec![
                DataValidation {
                    sheet: 1,
                    kind: "whole".into(),
                    operator: "between".into(),
                    ranges: vec![(1, 2, 4, 2), (0, 4, 1_048_575, 4)],
                    formula1: Some("1".into()),
                    formula2: Some("$F$1".into()),
                    allow_blank: true,
                    show_error_message: true,
                },
                DataValidation {
                    sheet: 1,
                    kind: "list".into(),
                    operator: "equal".into(),
                    ranges: vec![(0, 0, 0, 0)],
                    formula1: Some("INDIRECT(\"Table1[Region]\")".into()),
                    formula2: None,
                    allow_blank: false,
                    show_error_message: false,
                },
                DataValidation {
                    sheet: 1,
                    kind: "list".into(),
                    operator: "between".into(),
                    ranges: vec![(1, 6, 9, 6)],
                    formula1: Some("Lists!$A$2:$A$4".into()),
                    formula2: None,
                    allow_blank: true,
                    show_error_message: true,
                },
            ]
        );
        assert_eq!(rules.formats.len(), 2);
        let cf = &rules.formats[0];
        assert_eq!(cf.ranges, vec![(1, 1, 8, 1), (0, 3, 0, 3)]);
        assert_eq!(cf.rules.len(), 3);
        assert_eq!(cf.rules[0].formulas, vec!["B2>SUM(Table1[Qty])"]);
        assert_eq!(cf.rules[0].priority, Some(2));
        assert_eq!(cf.rules[1].operator.as_deref(), Some("between"));
        assert_eq!(cf.rules[1].formulas, vec!["1", "\"a&b\""]);
        assert!(cf.rules[2].formulas.is_empty());
        let x14 = &rules.formats[1];
        assert_eq!(x14.ranges, vec![(0, 7, 2, 7)]);
        assert_eq!(x14.rules.len(), 2);
        assert!(
            x14.rules[0].formulas.is_empty(),
            "a data bar's threshold is no rule formula"
        );
        assert_eq!(x14.rules[1].formulas, vec!["Lists!A2=1"]);
    }

    #[test]
    fn sqref_forms() {
        assert_eq!(parse_sqref("A1"), vec![(0, 0, 0, 0)]);
        assert_eq!(parse_sqref("$B$2:$C$3"), vec![(1, 1, 2, 2)]);
        assert_eq!(parse_sqref("2:3"), vec![(1, 0, 2, 16_383)]);
        assert_eq!(parse_sqref("C:A"), vec![(0, 0, 1_048_575, 2)]);
        assert!(parse_sqref("nonsense").is_empty());
    }
}

//! Small quick-xml helpers shared by the part readers.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::BoxError;

/// A reader configured like calamine's: `<a/>` is reported as `<a></a>`, text is not
/// trimmed, end names are not checked.
pub(crate) fn reader<R: BufRead>(input: R) -> Reader<R> {
    let mut reader = Reader::from_reader(input);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.trim_text(false);
    config.check_end_names = false;
    config.check_comments = false;
    reader
}

/// The value of the attribute whose local name (prefix ignored) is `local`.
pub(crate) fn attr(e: &BytesStart<'_>, local: &str) -> Result<Option<String>, BoxError> {
    for a in e.attributes().with_checks(false) {
        let a = a?;
        if a.key.local_name().as_ref() == local {
            return Ok(Some(
                a.normalized_value(XmlVersion::Implicit1_0)?.into_owned(),
            ));
        }
    }
    Ok(None)
}

/// The value of the attribute whose full name (with prefix) is `name`.
pub(crate) fn attr_full(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, BoxError> {
    for a in e.attributes().with_checks(false) {
        let a = a?;
        if a.key.as_ref() == name {
            return Ok(Some(
                a.normalized_value(XmlVersion::Implicit1_0)?.into_owned(),
            ));
        }
    }
    Ok(None)
}

/// Appends the text of an entity or character reference.
pub(crate) fn push_entity(r: &BytesRef<'_>, out: &mut String) -> Result<(), BoxError> {
    if let Some(s) = quick_xml::escape::resolve_xml_entity(r.as_ref()) {
        out.push_str(s);
        return Ok(());
    }
    if let Some(c) = r.resolve_char_ref()? {
        out.push(c);
        return Ok(());
    }
    Err(format!("unknown XML entity &{};", r.as_ref()).into())
}

/// Reads the text content of the element just opened, up to its end tag. Text of nested
/// elements is included.
pub(crate) fn read_text<R: BufRead>(
    reader: &mut Reader<R>,
    buf: &mut Vec<u8>,
    element: &'static str,
) -> Result<String, BoxError> {
    let mut out = String::new();
    let mut depth = 0usize;
    loop {
        buf.clear();
        match reader.read_event_into(buf)? {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::CData(t) => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => push_entity(&r, &mut out)?,
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                if depth == 0 {
                    return Ok(out);
                }
                depth -= 1;
            }
            Event::Eof => return Err(eof(element)),
            _ => {}
        }
    }
}

/// Skips the element just opened, up to its end tag.
pub(crate) fn skip<R: BufRead>(
    reader: &mut Reader<R>,
    buf: &mut Vec<u8>,
    element: &'static str,
) -> Result<(), BoxError> {
    let mut depth = 0usize;
    loop {
        buf.clear();
        match reader.read_event_into(buf)? {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            Event::Eof => return Err(eof(element)),
            _ => {}
        }
    }
}

/// Reads a rich-text string element (`<si>` or `<is>`) just opened, as calamine does:
/// the `<t>` runs are concatenated, phonetic runs (`<rPh>`) are skipped, text without
/// `xml:space="preserve"` is trimmed of ASCII whitespace and `_xHHHH_` escapes are decoded.
pub(crate) fn read_rich_string<R: BufRead>(
    reader: &mut Reader<R>,
    buf: &mut Vec<u8>,
    text_buf: &mut Vec<u8>,
    element: &'static str,
) -> Result<String, BoxError> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut phonetic_depth: Option<usize> = None;
    loop {
        buf.clear();
        match reader.read_event_into(buf)? {
            Event::Start(e) => {
                let local = e.local_name();
                if local.as_ref() == "rPh" && phonetic_depth.is_none() {
                    phonetic_depth = Some(depth);
                    depth += 1;
                } else if local.as_ref() == "t" && phonetic_depth.is_none() {
                    let preserve = attr_full(&e, "xml:space")?.is_some_and(|v| v == "preserve");
                    let text = read_text(reader, text_buf, "t")?;
                    let text = if preserve {
                        text.as_str()
                    } else {
                        text.trim_matches([' ', '\t', '\r', '\n'])
                    };
                    out.push_str(&unescape_ooxml(text));
                } else {
                    depth += 1;
                }
            }
            Event::End(_) => {
                if depth == 0 {
                    return Ok(out);
                }
                depth -= 1;
                if phonetic_depth == Some(depth) {
                    phonetic_depth = None;
                }
            }
            Event::Eof => return Err(eof(element)),
            _ => {}
        }
    }
}

/// The error for an element left open at the end of the part.
pub(crate) fn eof(element: &str) -> BoxError {
    format!("unexpected end of the part inside <{element}>").into()
}

/// Decodes Excel's `_xHHHH_` escapes (UTF-16 code units; `_x005F_` escapes an underscore).
pub(crate) fn unescape_ooxml(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let Some(first) = find_escape(bytes, 0) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut next = Some(first);
    while let Some((index, unit)) = next {
        out.push_str(&s[copied..index]);
        let mut end = index + 7;
        match unit {
            0xD800..=0xDBFF => match parse_escape(bytes, end) {
                Some(low @ 0xDC00..=0xDFFF) => {
                    let cp =
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    out.push(char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER));
                    end += 7;
                }
                _ => out.push(char::REPLACEMENT_CHARACTER),
            },
            0xDC00..=0xDFFF => out.push(char::REPLACEMENT_CHARACTER),
            _ => out.push(char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
        copied = end;
        next = find_escape(bytes, end);
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

fn find_escape(bytes: &[u8], mut start: usize) -> Option<(usize, u16)> {
    while let Some(offset) = bytes.get(start..)?.iter().position(|&b| b == b'_') {
        let index = start + offset;
        if let Some(unit) = parse_escape(bytes, index) {
            return Some((index, unit));
        }
        start = index + 1;
    }
    None
}

fn parse_escape(bytes: &[u8], index: usize) -> Option<u16> {
    let e = bytes.get(index..index + 7)?;
    if e[0] != b'_' || e[1] != b'x' || e[6] != b'_' {
        return None;
    }
    let mut unit: u16 = 0;
    for &b in &e[2..6] {
        let d = char::from(b).to_digit(16)?;
        unit = unit * 16 + u16::try_from(d).ok()?;
    }
    Some(unit)
}

/// Parses an A1 cell reference (`B12`, `$B$12`) into zero-based `(row, col)`.
pub(crate) fn parse_cell_ref(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let bytes = s.as_bytes();
    let mut i = 0;
    if bytes.first() == Some(&b'$') {
        i += 1;
    }
    let mut col: u32 = 0;
    let col_start = i;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_alphabetic() {
            col = col
                .checked_mul(26)?
                .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)?;
            i += 1;
        } else {
            break;
        }
    }
    if i == col_start || col > 16_384 {
        return None;
    }
    if bytes.get(i) == Some(&b'$') {
        i += 1;
    }
    let digits = bytes.get(i..)?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let row: u32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    if row == 0 || row > 1_048_576 {
        return None;
    }
    Some((row - 1, col - 1))
}

/// Parses an A1 range (`A1:C3`, or a single cell `B2`) into zero-based
/// `(first_row, first_col, last_row, last_col)`, normalised so first <= last.
pub(crate) fn parse_range_ref(s: &str) -> Option<(u32, u32, u32, u32)> {
    let (a, b) = match s.split_once(':') {
        Some((a, b)) => (parse_cell_ref(a)?, parse_cell_ref(b)?),
        None => {
            let a = parse_cell_ref(s)?;
            (a, a)
        }
    };
    Some((a.0.min(b.0), a.1.min(b.1), a.0.max(b.0), a.1.max(b.1)))
}

/// Parses a row number attribute (`r` of `<row>`, 1-based) into a zero-based row.
pub(crate) fn parse_row_number(s: &str) -> Option<u32> {
    let row: u32 = s.trim().parse().ok()?;
    if row == 0 || row > 1_048_576 {
        return None;
    }
    Some(row - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_refs() {
        assert_eq!(parse_cell_ref("A1"), Some((0, 0)));
        assert_eq!(parse_cell_ref("$AB$12"), Some((11, 27)));
        assert_eq!(parse_cell_ref("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(parse_cell_ref("XFE1"), None);
        assert_eq!(parse_cell_ref("A0"), None);
        assert_eq!(parse_cell_ref("A1048577"), None);
        assert_eq!(parse_cell_ref("1"), None);
        assert_eq!(parse_cell_ref("A"), None);
        assert_eq!(parse_range_ref("B3:A1"), Some((0, 0, 2, 1)));
        assert_eq!(parse_range_ref("C4"), Some((3, 2, 3, 2)));
    }

    #[test]
    fn ooxml_escapes() {
        assert_eq!(unescape_ooxml("plain"), "plain");
        assert_eq!(unescape_ooxml("a_x000D_b"), "a\rb");
        assert_eq!(unescape_ooxml("_x005F_x000D_"), "_x000D_");
        assert_eq!(unescape_ooxml("_xD83D__xDCF7_"), "\u{1F4F7}");
        assert_eq!(unescape_ooxml("_xD83D_"), "\u{FFFD}");
        assert_eq!(unescape_ooxml("x_x00"), "x_x00");
    }
}

//! Splits formula text into tokens.

use crate::ast::{ErrorKind, Span};
use crate::error::ParseError;

/// A token with its span.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub span: Span,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Str(String),
    Err(ErrorKind),
    /// A bare word: function or defined name, `TRUE`, a cell (`$A$1`), a column (`A`) or a row (`$3`).
    Word(String),
    /// A structured reference: the table name, if written, and the text between the outer
    /// brackets (escapes kept): `Table1[[#Data],[A]]` is `(Some("Table1"), "[#Data],[A]")`.
    Structured(Option<String>, String),
    /// A sheet qualifier: `Sheet1!` or `'My Sheet'!` (the name without quotes or `!`).
    Sheet(String),
    Op(&'static str),
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Semi,
    Colon,
    /// Whitespace: meaningful only as the intersection operator between two references.
    Ws,
}

fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '\\' || c == '$'
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '\\' | '?' | '$')
}

/// Reads the bracketed part of a structured reference that opens at `chars[open]`: the text
/// between the outer brackets and the index after the closing one. Brackets nest; `'` escapes the
/// next character.
fn bracket(src: &str, chars: &[(usize, char)], open: usize) -> Result<(String, usize), ParseError> {
    let end_of = |i: usize| chars.get(i).map_or(src.len(), |c| c.0);
    let mut depth = 0usize;
    let mut j = open;
    while let Some(&(_, c)) = chars.get(j) {
        match c {
            '\'' => j += 1,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    let body = src[end_of(open + 1)..end_of(j)].to_string();
                    return Ok((body, j + 1));
                }
            }
            _ => {}
        }
        j += 1;
    }
    Err(ParseError::new(
        "missing `]` in a structured reference",
        end_of(open),
        src.len(),
    ))
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    // Both sized from the text up front: grown push by push, the token list's reallocations were
    // half of tokenizing grid_20k's 20,000 formulas (perf, session 9). A formula has at most one
    // token per character.
    let mut chars: Vec<(usize, char)> = Vec::with_capacity(src.len());
    chars.extend(src.char_indices());
    let end_of = |i: usize| chars.get(i).map_or(src.len(), |c| c.0);
    let mut out = Vec::with_capacity(chars.len() / 2 + 2);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let push = |out: &mut Vec<Token>, kind: Tok, j: usize| {
            out.push(Token {
                kind,
                span: Span::new(start, end_of(j)),
            })
        };
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                let mut j = i;
                while j < chars.len() && matches!(chars[j].1, ' ' | '\t' | '\n' | '\r') {
                    j += 1;
                }
                push(&mut out, Tok::Ws, j);
                i = j;
            }
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(ParseError::new("unterminated string", start, src.len()));
                        }
                        Some((_, '"')) if chars.get(j + 1).map(|c| c.1) == Some('"') => {
                            s.push('"');
                            j += 2;
                        }
                        Some((_, '"')) => {
                            j += 1;
                            break;
                        }
                        Some((_, ch)) => {
                            s.push(*ch);
                            j += 1;
                        }
                    }
                }
                push(&mut out, Tok::Str(s), j);
                i = j;
            }
            '\'' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(ParseError::new(
                                "unterminated sheet name",
                                start,
                                src.len(),
                            ));
                        }
                        Some((_, '\'')) if chars.get(j + 1).map(|c| c.1) == Some('\'') => {
                            s.push('\'');
                            j += 2;
                        }
                        Some((_, '\'')) => {
                            j += 1;
                            break;
                        }
                        Some((_, ch)) => {
                            s.push(*ch);
                            j += 1;
                        }
                    }
                }
                if chars.get(j).map(|c| c.1) != Some('!') {
                    return Err(ParseError::new(
                        "a quoted name must be a sheet name followed by `!`",
                        start,
                        end_of(j),
                    ));
                }
                // `'[1]My Sheet'!A1`: a sheet of another workbook, named with its index in the
                // workbook's external links (the engine reads the values Excel cached).
                push(&mut out, Tok::Sheet(s), j + 1);
                i = j + 1;
            }
            '#' => {
                let rest = &src[start..];
                let found = ErrorKind::ALL
                    .into_iter()
                    .filter(|e| {
                        rest.len() >= e.as_str().len()
                            && rest[..e.as_str().len()].eq_ignore_ascii_case(e.as_str())
                    })
                    .max_by_key(|e| e.as_str().len());
                match found {
                    Some(e) => {
                        let stop = start + e.as_str().len();
                        let mut j = i;
                        while j < chars.len() && chars[j].0 < stop {
                            j += 1;
                        }
                        push(&mut out, Tok::Err(e), j);
                        i = j;
                    }
                    None => {
                        return Err(ParseError::new("unknown error literal", start, start + 1));
                    }
                }
            }
            '0'..='9' | '.' => {
                let mut j = i;
                while j < chars.len() && (chars[j].1.is_ascii_digit() || chars[j].1 == '.') {
                    j += 1;
                }
                // exponent
                if j < chars.len() && matches!(chars[j].1, 'e' | 'E') {
                    let mut k = j + 1;
                    if k < chars.len() && matches!(chars[k].1, '+' | '-') {
                        k += 1;
                    }
                    if k < chars.len() && chars[k].1.is_ascii_digit() {
                        while k < chars.len() && chars[k].1.is_ascii_digit() {
                            k += 1;
                        }
                        j = k;
                    }
                }
                // A word that starts with digits (a sheet name like `2019!`) or a row-qualified word.
                if j < chars.len() && is_word_char(chars[j].1) && chars[j].1 != '.' {
                    let mut k = j;
                    while k < chars.len() && is_word_char(chars[k].1) {
                        k += 1;
                    }
                    if chars.get(k).map(|c| c.1) == Some('!') {
                        let name = src[start..end_of(k)].to_string();
                        push(&mut out, Tok::Sheet(name), k + 1);
                        i = k + 1;
                        continue;
                    }
                    return Err(ParseError::new("malformed number", start, end_of(k)));
                }
                let text = &src[start..end_of(j)];
                let v: f64 = text
                    .parse()
                    .map_err(|_| ParseError::new("malformed number", start, end_of(j)))?;
                push(&mut out, Tok::Num(v), j);
                i = j;
            }
            c if is_word_start(c) => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j].1) {
                    j += 1;
                }
                let word = src[start..end_of(j)].to_string();
                if chars.get(j).map(|c| c.1) == Some('[') {
                    let (body, k) = bracket(src, &chars, j)?;
                    push(&mut out, Tok::Structured(Some(word), body), k);
                    i = k;
                } else if chars.get(j).map(|c| c.1) == Some('!') {
                    push(&mut out, Tok::Sheet(word), j + 1);
                    i = j + 1;
                } else {
                    push(&mut out, Tok::Word(word), j);
                    i = j;
                }
            }
            '[' => {
                let (body, k) = bracket(src, &chars, i)?;
                // `[1]Sheet1!A1`: a sheet of another workbook, which becomes the sheet name
                // `[1]Sheet1` (as `'[1]Sheet1'!A1` reads).
                let mut w = k;
                while w < chars.len() && is_word_char(chars[w].1) {
                    w += 1;
                }
                if w > k && chars.get(w).map(|c| c.1) == Some('!') {
                    let name = format!("[{body}]{}", &src[end_of(k)..end_of(w)]);
                    push(&mut out, Tok::Sheet(name), w + 1);
                    i = w + 1;
                    continue;
                }
                // `[1]!Rate`: a defined name of another workbook, qualified by the book alone.
                if w == k && chars.get(k).map(|c| c.1) == Some('!') {
                    push(&mut out, Tok::Sheet(format!("[{body}]")), k + 1);
                    i = k + 1;
                    continue;
                }
                if chars
                    .get(k)
                    .is_some_and(|c| is_word_char(c.1) || c.1 == '\'' || c.1 == '!')
                {
                    return Err(ParseError::new(
                        "references to other workbooks are not supported",
                        start,
                        end_of(k),
                    ));
                }
                push(&mut out, Tok::Structured(None, body), k);
                i = k;
            }
            _ => {
                let two = chars.get(i + 1).map(|c| c.1);
                let (kind, len) = match (c, two) {
                    ('<', Some('>')) => (Tok::Op("<>"), 2),
                    ('<', Some('=')) => (Tok::Op("<="), 2),
                    ('>', Some('=')) => (Tok::Op(">="), 2),
                    ('<', _) => (Tok::Op("<"), 1),
                    ('>', _) => (Tok::Op(">"), 1),
                    ('=', _) => (Tok::Op("="), 1),
                    ('+', _) => (Tok::Op("+"), 1),
                    ('-', _) => (Tok::Op("-"), 1),
                    ('*', _) => (Tok::Op("*"), 1),
                    ('/', _) => (Tok::Op("/"), 1),
                    ('^', _) => (Tok::Op("^"), 1),
                    ('&', _) => (Tok::Op("&"), 1),
                    ('%', _) => (Tok::Op("%"), 1),
                    ('@', _) => (Tok::Op("@"), 1),
                    ('(', _) => (Tok::LParen, 1),
                    (')', _) => (Tok::RParen, 1),
                    ('{', _) => (Tok::LBrace, 1),
                    ('}', _) => (Tok::RBrace, 1),
                    (',', _) => (Tok::Comma, 1),
                    (';', _) => (Tok::Semi, 1),
                    (':', _) => (Tok::Colon, 1),
                    _ => {
                        return Err(ParseError::new(
                            format!("unexpected character `{c}`"),
                            start,
                            end_of(i + 1),
                        ));
                    }
                };
                push(&mut out, kind, i + len);
                i += len;
            }
        }
    }
    Ok(out)
}

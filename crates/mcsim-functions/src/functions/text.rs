//! Text functions.
//!
//! Text is counted in characters (Excel counts UTF-16 code units; for text in the Basic
//! Multilingual Plane the two agree). A text result longer than 32,767 characters is `#VALUE!`.
//! Numbers become text in the General format (see [`Value::to_text`]); TEXT, FIXED and DOLLAR apply
//! Excel number formats (see [`format_number`]).

use super::args::opt;
use super::date::{parse_date_time, serial_to_ymd};
use super::{Arg, Ctx, FnSpec, Lift, VARIADIC};
use crate::tri;
use crate::value::{Array, Value, parse_number};
use mcsim_formula::ErrorKind;
use std::sync::Arc;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("TEXT", 2, 2, Lift::All, fn_text),
    FnSpec::new("PHONETIC", 1, 1, Lift::None, fn_phonetic),
    FnSpec::new("CONCAT", 1, VARIADIC, Lift::None, fn_concat),
    FnSpec::new("CONCATENATE", 1, VARIADIC, Lift::All, fn_concatenate),
    FnSpec::new("LEFT", 1, 2, Lift::All, fn_left),
    FnSpec::new("LEFTB", 1, 2, Lift::All, fn_left),
    FnSpec::new("RIGHT", 1, 2, Lift::All, fn_right),
    FnSpec::new("RIGHTB", 1, 2, Lift::All, fn_right),
    FnSpec::new("MID", 3, 3, Lift::All, fn_mid),
    FnSpec::new("MIDB", 3, 3, Lift::All, fn_mid),
    FnSpec::new("LEN", 1, 1, Lift::All, fn_len),
    FnSpec::new("LENB", 1, 1, Lift::All, fn_len),
    FnSpec::new("VALUE", 1, 1, Lift::All, fn_value),
    FnSpec::new("UPPER", 1, 1, Lift::All, fn_upper),
    FnSpec::new("LOWER", 1, 1, Lift::All, fn_lower),
    FnSpec::new("PROPER", 1, 1, Lift::All, fn_proper),
    FnSpec::new("TRIM", 1, 1, Lift::All, fn_trim),
    FnSpec::new("SUBSTITUTE", 3, 4, Lift::All, fn_substitute),
    FnSpec::new("REPLACE", 4, 4, Lift::All, fn_replace),
    FnSpec::new("REPLACEB", 4, 4, Lift::All, fn_replace),
    FnSpec::new("FIND", 2, 3, Lift::All, fn_find),
    FnSpec::new("FINDB", 2, 3, Lift::All, fn_find),
    FnSpec::new("SEARCH", 2, 3, Lift::All, fn_search),
    FnSpec::new("SEARCHB", 2, 3, Lift::All, fn_search),
    FnSpec::new("REPT", 2, 2, Lift::All, fn_rept),
    FnSpec::new("EXACT", 2, 2, Lift::All, fn_exact),
    FnSpec::new("TEXTJOIN", 3, VARIADIC, Lift::Mask(0b10), fn_textjoin),
    FnSpec::new("CHAR", 1, 1, Lift::All, fn_char),
    FnSpec::new("CODE", 1, 1, Lift::All, fn_code),
    FnSpec::new("UNICHAR", 1, 1, Lift::All, fn_unichar),
    FnSpec::new("UNICODE", 1, 1, Lift::All, fn_unicode),
    FnSpec::new("CLEAN", 1, 1, Lift::All, fn_clean),
    FnSpec::new("T", 1, 1, Lift::All, fn_t),
    FnSpec::new("FIXED", 1, 3, Lift::All, fn_fixed),
    FnSpec::new("DOLLAR", 1, 2, Lift::All, fn_dollar),
    FnSpec::new("NUMBERVALUE", 1, 3, Lift::All, fn_numbervalue),
    FnSpec::new("TEXTBEFORE", 2, 6, Lift::Mask(!0b10), fn_textbefore),
    FnSpec::new("TEXTAFTER", 2, 6, Lift::Mask(!0b10), fn_textafter),
    FnSpec::new("TEXTSPLIT", 2, 6, Lift::Mask(0b11_1001), fn_textsplit),
    FnSpec::new("VALUETOTEXT", 1, 2, Lift::All, fn_valuetotext),
    FnSpec::new("ARRAYTOTEXT", 1, 2, Lift::Mask(0b10), fn_arraytotext),
];

/// Longest text Excel keeps in a cell.
const MAX_TEXT: usize = 32767;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn text_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<Arc<str>, ErrorKind> {
    match args.get(i) {
        Some(a) => ctx.text(a),
        None => Ok(Arc::from("")),
    }
}

fn num_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg], i: usize) -> Result<f64, ErrorKind> {
    match args.get(i) {
        Some(a) => ctx.number(a),
        None => Ok(0.0),
    }
}

/// A text result, `#VALUE!` when longer than Excel allows.
fn text_result(s: String) -> Value {
    if s.len() > MAX_TEXT && s.chars().count() > MAX_TEXT {
        Value::Error(ErrorKind::Value)
    } else {
        Value::from(s)
    }
}

fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// The byte offset of character `n` (or the length when past the end).
fn byte_at(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

/// A count argument (LEFT's num_chars...): truncated, `#VALUE!` if negative.
fn count_arg(v: f64) -> Result<usize, ErrorKind> {
    if v.is_nan() || v < 0.0 {
        return Err(ErrorKind::Value);
    }
    Ok(if v > 1e9 {
        1_000_000_000
    } else {
        v.trunc() as usize
    })
}

// ---------------------------------------------------------------------------------------------
// Basic text functions
// ---------------------------------------------------------------------------------------------

fn fn_concat(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let mut out = String::new();
    let mut err = None;
    for a in args {
        ctx.for_each_cell(a, &mut |v| {
            if err.is_some() {
                return;
            }
            match v.to_text() {
                Ok(t) => {
                    if out.len() <= 4 * MAX_TEXT {
                        out.push_str(&t)
                    }
                }
                Err(e) => err = Some(e),
            }
        });
        if let Some(e) = err {
            return Value::Error(e);
        }
    }
    text_result(out)
}

fn fn_concatenate(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let mut out = String::new();
    for i in 0..args.len() {
        out.push_str(&tri!(text_arg(ctx, args, i)));
    }
    text_result(out)
}

/// LEFT/RIGHT's num_chars: 1 when not given; an empty argument or cell counts as 0.
fn chars_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<f64, ErrorKind> {
    match args.get(1) {
        None => Ok(1.0),
        Some(a) => ctx.number(a),
    }
}

fn fn_left(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let n = tri!(count_arg(tri!(chars_arg(ctx, args))));
    Value::from(&t[..byte_at(&t, n)])
}

fn fn_right(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let n = tri!(count_arg(tri!(chars_arg(ctx, args))));
    let len = char_count(&t);
    Value::from(&t[byte_at(&t, len.saturating_sub(n))..])
}

fn fn_mid(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let start = tri!(num_arg(ctx, args, 1));
    let n = tri!(count_arg(tri!(num_arg(ctx, args, 2))));
    if start.is_nan() || start < 1.0 {
        return Value::Error(ErrorKind::Value);
    }
    let start = if start > 1e9 {
        1_000_000_000
    } else {
        start.trunc() as usize - 1
    };
    let a = byte_at(&t, start);
    let b = a + byte_at(&t[a..], n);
    Value::from(&t[a..b])
}

fn fn_len(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    Value::Number(t.encode_utf16().count() as f64)
}

/// VALUE's reading of text as a number: numbers, percentages, currency, dates and times.
pub fn value_of_text(s: &str) -> Result<f64, ErrorKind> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ErrorKind::Value);
    }
    if t.contains(',') && !t.contains(':') && !t.contains('/') && !bad_grouping(t)
        || !t.contains(',')
    {
        if let Some(v) = parse_number(t).or_else(|| parse_date_time(t)) {
            return Ok(v);
        }
    } else if let Some(v) = parse_date_time(t) {
        return Ok(v);
    }
    // Other currency symbols, before or after the number ("12€", "€ 12").
    for sym in ['€', '£', '¥'] {
        if let Some(r) = t.strip_suffix(sym).or_else(|| t.strip_prefix(sym))
            && let Some(v) = parse_number(r.trim())
        {
            return Ok(v);
        }
    }
    Err(ErrorKind::Value)
}

/// A number with thousands separators must have groups of exactly three digits ("12,34" is not
/// a number).
fn bad_grouping(t: &str) -> bool {
    let int_part = t.split('.').next().unwrap_or(t);
    let mut groups = int_part.split(',');
    groups.next();
    groups.any(|g| g.chars().take_while(|c| c.is_ascii_digit()).count() != 3)
}

fn fn_value(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let v = match args.first() {
        Some(a) => ctx.scalar(a),
        None => Value::Empty,
    };
    match v {
        Value::Number(n) => Value::Number(n),
        Value::Empty => Value::Number(0.0),
        Value::Text(t) => value_of_text(&t).into(),
        Value::Error(e) => Value::Error(e),
        _ => Value::Error(ErrorKind::Value),
    }
}

fn fn_upper(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::from(tri!(text_arg(ctx, args, 0)).to_uppercase())
}

fn fn_lower(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::from(tri!(text_arg(ctx, args, 0)).to_lowercase())
}

/// PROPER: a letter is upper case after a non-letter, lower case after a letter.
pub fn proper(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_letter = true;
        } else {
            out.push(c);
            prev_letter = false;
        }
    }
    out
}

fn fn_proper(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::from(proper(&tri!(text_arg(ctx, args, 0))))
}

/// TRIM: removes leading and trailing spaces and collapses inner runs of spaces to one (only the
/// ASCII space, as Excel does).
pub fn trim(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn fn_trim(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::from(trim(&tri!(text_arg(ctx, args, 0))))
}

fn fn_substitute(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let old = tri!(text_arg(ctx, args, 1));
    let new = tri!(text_arg(ctx, args, 2));
    let instance = match opt(args, 3) {
        None => None,
        Some(a) => {
            let n = tri!(ctx.number(a));
            if n.is_nan() || n < 1.0 {
                return Value::Error(ErrorKind::Value);
            }
            Some(n.trunc())
        }
    };
    if old.is_empty() {
        return Value::Text(t);
    }
    let out = match instance {
        None => t.replace(&*old, &new),
        Some(k) => {
            let mut out = t.to_string();
            if let Some((pos, _)) = t.match_indices(&*old).nth((k as usize).saturating_sub(1)) {
                out.replace_range(pos..pos + old.len(), &new);
            }
            out
        }
    };
    text_result(out)
}

fn fn_replace(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let start = tri!(num_arg(ctx, args, 1));
    let n = tri!(count_arg(tri!(num_arg(ctx, args, 2))));
    let new = tri!(text_arg(ctx, args, 3));
    if start.is_nan() || start < 1.0 {
        return Value::Error(ErrorKind::Value);
    }
    let start = if start > 1e9 {
        1_000_000_000
    } else {
        start.trunc() as usize - 1
    };
    let a = byte_at(&t, start);
    let b = a + byte_at(&t[a..], n);
    let mut out = String::with_capacity(t.len() + new.len());
    out.push_str(&t[..a]);
    out.push_str(&new);
    out.push_str(&t[b..]);
    text_result(out)
}

/// FIND/SEARCH's start argument: a character index (0-based), `#VALUE!` outside 1..=len.
fn start_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg], len: usize) -> Result<usize, ErrorKind> {
    let s = ctx.number_or(args, 2, 1.0)?;
    if s.is_nan() || s < 1.0 || s.trunc() > len as f64 + 1.0 {
        return Err(ErrorKind::Value);
    }
    Ok(s.trunc() as usize - 1)
}

fn fn_find(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let needle = tri!(text_arg(ctx, args, 0));
    let hay = tri!(text_arg(ctx, args, 1));
    let hay: Vec<char> = hay.chars().collect();
    let start = tri!(start_arg(ctx, args, hay.len()));
    let needle: Vec<char> = needle.chars().collect();
    if needle.is_empty() {
        return Value::Number((start + 1) as f64);
    }
    if start >= hay.len() {
        return Value::Error(ErrorKind::Value);
    }
    match hay[start..]
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
    {
        Some(p) => Value::Number((start + p + 1) as f64),
        None => Value::Error(ErrorKind::Value),
    }
}

/// A wildcard pattern element (SEARCH, and criteria elsewhere).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pat {
    Char(char),
    One,
    Any,
}

fn compile_wildcards(p: &str) -> Vec<Pat> {
    let mut out = Vec::new();
    let mut it = p.chars().flat_map(char::to_lowercase).peekable();
    while let Some(c) = it.next() {
        match c {
            '~' => {
                if let Some(n) = it.next() {
                    out.push(Pat::Char(n));
                }
            }
            '?' => out.push(Pat::One),
            '*' => out.push(Pat::Any),
            c => out.push(Pat::Char(c)),
        }
    }
    out
}

/// Does `pat` match a prefix of `text`?
fn match_prefix(pat: &[Pat], text: &[char]) -> bool {
    // Iterative matcher with backtracking on the last '*'.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p == pat.len() {
            return true;
        }
        match pat[p] {
            Pat::Any => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Pat::One if t < text.len() => {
                p += 1;
                t += 1;
                continue;
            }
            Pat::Char(c) if t < text.len() && text[t] == c => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                star = Some((sp, st + 1));
                p = sp + 1;
                t = st + 1;
            }
            _ => return false,
        }
    }
}

fn fn_search(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let needle = tri!(text_arg(ctx, args, 0));
    let hay = tri!(text_arg(ctx, args, 1));
    let hay: Vec<char> = hay.chars().flat_map(char::to_lowercase).collect();
    let start = tri!(start_arg(ctx, args, hay.len()));
    let pat = compile_wildcards(&needle);
    if pat.is_empty() {
        return Value::Number((start + 1) as f64);
    }
    if start >= hay.len() {
        return Value::Error(ErrorKind::Value);
    }
    for p in start..hay.len() {
        if match_prefix(&pat, &hay[p..]) {
            return Value::Number((p + 1) as f64);
        }
    }
    Value::Error(ErrorKind::Value)
}

fn fn_rept(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let n = tri!(num_arg(ctx, args, 1));
    let n = tri!(count_arg(n));
    if n.saturating_mul(char_count(&t)) > MAX_TEXT {
        return Value::Error(ErrorKind::Value);
    }
    Value::from(t.repeat(n))
}

fn fn_exact(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let a = tri!(text_arg(ctx, args, 0));
    let b = tri!(text_arg(ctx, args, 1));
    Value::Bool(a == b)
}

/// Values of a range or array argument, row by row, empty cells included.
fn dense_values(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<Vec<Value>, ErrorKind> {
    match a {
        Arg::Union(areas) => {
            let mut out = Vec::new();
            for area in areas.iter() {
                out.extend(ctx.area_array(*area).data);
            }
            Ok(out)
        }
        _ => Ok(ctx.array(a)?.data.clone()),
    }
}

fn fn_textjoin(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let delims: Vec<String> = match args.first() {
        Some(a) => {
            let vals = tri!(dense_values(ctx, a));
            let mut d = Vec::with_capacity(vals.len());
            for v in vals {
                d.push(tri!(v.to_text()).to_string());
            }
            d
        }
        None => Vec::new(),
    };
    let ignore_empty = tri!(ctx.boolean_or(args, 1, false));
    let mut parts: Vec<Arc<str>> = Vec::new();
    for a in args.iter().skip(2) {
        let vals = match a {
            Arg::Value(v) if !matches!(v, Value::Array(_)) => vec![v.clone()],
            _ => tri!(dense_values(ctx, a)),
        };
        for v in vals {
            let t = tri!(v.to_text());
            if ignore_empty && t.is_empty() {
                continue;
            }
            parts.push(t);
        }
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0
            && !delims.is_empty()
            && let Some(d) = delims.get((i - 1) % delims.len())
        {
            out.push_str(d);
        }
        out.push_str(p);
        if out.len() > 4 * MAX_TEXT {
            return Value::Error(ErrorKind::Value);
        }
    }
    text_result(out)
}

/// Windows-1252 characters 128-159 (the others map to the same Unicode code point).
const CP1252_HIGH: [u32; 32] = [
    0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
];

fn fn_char(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(num_arg(ctx, args, 0)).trunc();
    if !(1.0..=255.0).contains(&n) {
        return Value::Error(ErrorKind::Value);
    }
    let n = n as u32;
    let cp = if (128..160).contains(&n) {
        CP1252_HIGH[(n - 128) as usize]
    } else {
        n
    };
    match char::from_u32(cp) {
        Some(c) => Value::from(c.to_string()),
        None => Value::Error(ErrorKind::Value),
    }
}

fn fn_code(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let Some(c) = t.chars().next() else {
        return Value::Error(ErrorKind::Value);
    };
    let u = c as u32;
    let code = if u < 128 || (160..256).contains(&u) {
        u
    } else if let Some(i) = CP1252_HIGH.iter().position(|&x| x == u) {
        128 + i as u32
    } else {
        63 // '?': not in the code page
    };
    Value::Number(code as f64)
}

fn fn_unichar(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let n = tri!(num_arg(ctx, args, 0)).trunc();
    if !(1.0..=1_114_111.0).contains(&n) {
        return Value::Error(ErrorKind::Value);
    }
    match char::from_u32(n as u32) {
        Some(c) => Value::from(c.to_string()),
        None => Value::Error(ErrorKind::Na),
    }
}

fn fn_unicode(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    match t.chars().next() {
        Some(c) => Value::Number(c as u32 as f64),
        None => Value::Error(ErrorKind::Value),
    }
}

fn fn_clean(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    Value::from(t.chars().filter(|&c| c as u32 >= 32).collect::<String>())
}

fn fn_t(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let v = match args.first() {
        Some(a) => ctx.scalar(a),
        None => Value::Empty,
    };
    match v {
        Value::Text(t) => Value::Text(t),
        Value::Error(e) => Value::Error(e),
        _ => Value::from(""),
    }
}

/// FIXED/DOLLAR's formatting: `decimals` may be negative (rounding to tens, hundreds...).
fn fixed_text(x: f64, decimals: f64, commas: bool, currency: bool) -> Result<String, ErrorKind> {
    if !decimals.is_finite() || decimals > 127.0 {
        return Err(ErrorKind::Value);
    }
    let d = decimals.trunc().max(-308.0) as i32;
    let v = if d < 0 {
        let p = 10f64.powi(-d);
        round_half_away(x / p, 0) * p
    } else {
        x
    };
    let dd = d.max(0) as usize;
    let (int, frac) = round_digits(v.abs(), dd);
    let int = if int.is_empty() { "0".to_string() } else { int };
    let int = if commas { group_thousands(&int) } else { int };
    let mut body = if currency { format!("${int}") } else { int };
    if dd > 0 {
        body.push('.');
        body.push_str(&frac);
    }
    let nonzero = body.bytes().any(|b| (b'1'..=b'9').contains(&b));
    Ok(if x < 0.0 && nonzero {
        if currency {
            format!("({body})")
        } else {
            format!("-{body}")
        }
    } else {
        body
    })
}

fn round_half_away(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    let v = crate::value::round15(x * p);
    v.abs().round().copysign(x) / p
}

fn fn_fixed(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num_arg(ctx, args, 0));
    let d = tri!(ctx.number_or(args, 1, 2.0));
    let no_commas = tri!(ctx.boolean_or(args, 2, false));
    match fixed_text(x, d, !no_commas, false) {
        Ok(s) => Value::from(s),
        Err(e) => Value::Error(e),
    }
}

fn fn_dollar(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(num_arg(ctx, args, 0));
    let d = tri!(ctx.number_or(args, 1, 2.0));
    match fixed_text(x, d, true, true) {
        Ok(s) => Value::from(s),
        Err(e) => Value::Error(e),
    }
}

/// NUMBERVALUE's kernel.
pub fn numbervalue(text: &str, dec: char, group: char) -> Result<f64, ErrorKind> {
    let mut s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return Ok(0.0);
    }
    let mut pct = 0;
    while let Some(r) = s.strip_suffix('%') {
        s = r.to_string();
        pct += 1;
    }
    let mut out = String::with_capacity(s.len());
    let mut seen_dec = false;
    for c in s.chars() {
        if c == dec {
            if seen_dec {
                return Err(ErrorKind::Value);
            }
            seen_dec = true;
            out.push('.');
        } else if c == group {
            if seen_dec {
                return Err(ErrorKind::Value);
            }
        } else {
            out.push(c);
        }
    }
    let v = if out == "." {
        Some(0.0)
    } else {
        parse_number(&out)
    };
    let v = v.ok_or(ErrorKind::Value)?;
    Ok(v / 100f64.powi(pct))
}

fn fn_numbervalue(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let t = tri!(text_arg(ctx, args, 0));
    let sep = |ctx: &mut Ctx<'_, '_>, i: usize, d: char| -> Result<char, ErrorKind> {
        match opt(args, i) {
            None => Ok(d),
            Some(a) => ctx.text(a)?.chars().next().ok_or(ErrorKind::Value),
        }
    };
    let dec = tri!(sep(ctx, 1, '.'));
    let group = tri!(sep(ctx, 2, ','));
    if dec == group {
        return Value::Error(ErrorKind::Value);
    }
    numbervalue(&t, dec, group).into()
}

// ---------------------------------------------------------------------------------------------
// TEXTBEFORE, TEXTAFTER, TEXTSPLIT
// ---------------------------------------------------------------------------------------------

/// The delimiters of an argument (a text or an array of texts).
fn delimiters(ctx: &mut Ctx<'_, '_>, a: &Arg) -> Result<Vec<String>, ErrorKind> {
    let vals = match a {
        Arg::Value(v) if !matches!(v, Value::Array(_)) => vec![v.clone()],
        _ => dense_values(ctx, a)?,
    };
    vals.iter()
        .map(|v| v.to_text().map(|t| t.to_string()))
        .collect()
}

/// Occurrences (start, end) in characters of any of the delimiters, scanning from the left,
/// without overlaps.
fn occurrences(text: &[char], delims: &[Vec<char>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let hit = delims
            .iter()
            .filter(|d| !d.is_empty() && i + d.len() <= text.len() && text[i..i + d.len()] == d[..])
            .map(|d| d.len())
            .max();
        match hit {
            Some(l) => {
                out.push((i, i + l));
                i += l;
            }
            None => i += 1,
        }
    }
    out
}

fn text_before_after(ctx: &mut Ctx<'_, '_>, args: &[Arg], after: bool) -> Value {
    let text = tri!(text_arg(ctx, args, 0));
    let delims = match args.get(1) {
        Some(a) => tri!(delimiters(ctx, a)),
        None => vec![String::new()],
    };
    let explicit_instance = opt(args, 2).is_some();
    let n = tri!(ctx.number_or(args, 2, 1.0));
    let mode = tri!(ctx.number_or(args, 3, 0.0)).trunc();
    let match_end = tri!(ctx.number_or(args, 4, 0.0)).trunc();
    if n.is_nan()
        || n.trunc() == 0.0
        || !(mode == 0.0 || mode == 1.0)
        || !(match_end == 0.0 || match_end == 1.0)
    {
        return Value::Error(ErrorKind::Value);
    }
    let n = n.floor();
    let not_found = || match args.get(5) {
        Some(Arg::Value(Value::Empty)) => Value::from(""),
        Some(Arg::Value(v)) => v.first(),
        Some(a) => ctx_free_scalar(a),
        None => Value::Error(ErrorKind::Na),
    };
    let fold = |s: &str| -> Vec<char> {
        if mode == 1.0 {
            s.chars().flat_map(char::to_lowercase).collect()
        } else {
            s.chars().collect()
        }
    };
    let orig: Vec<char> = text.chars().collect();
    let hay = fold(&text);
    let ds: Vec<Vec<char>> = delims.iter().map(|d| fold(d)).collect();
    if hay.len() != orig.len() {
        // Case folding changed the length (rare letters): fall back to exact matching.
        return Value::Error(ErrorKind::Value);
    }
    let len = orig.len();
    let max_dlen = ds.iter().map(|d| d.len()).max().unwrap_or(0);
    // Excel rejects an explicit instance number larger than the number of places the delimiter
    // could occur.
    let max_instances = (len as f64 - max_dlen as f64 + 1.0).max(0.0);
    if explicit_instance && max_dlen > 0 && n.abs() > max_instances {
        return Value::Error(ErrorKind::Value);
    }
    let slice =
        |a: usize, b: usize| -> Value { Value::from(orig[a..b].iter().collect::<String>()) };
    // An empty delimiter matches at once: at the start searching forwards, at the end backwards.
    if ds.iter().any(|d| d.is_empty()) {
        let pos = if n > 0.0 { 0 } else { len };
        return if after {
            slice(pos, len)
        } else {
            slice(0, pos)
        };
    }
    let occ = if n > 0.0 {
        occurrences(&hay, &ds)
    } else {
        // Scan from the right: reverse text and delimiters.
        let rh: Vec<char> = hay.iter().rev().copied().collect();
        let rd: Vec<Vec<char>> = ds
            .iter()
            .map(|d| d.iter().rev().copied().collect())
            .collect();
        occurrences(&rh, &rd)
            .into_iter()
            .map(|(a, b)| (len - b, len - a))
            .collect()
    };
    let k = n.abs() as usize;
    let found = if let Some(&o) = occ.get(k - 1) {
        Some(o)
    } else if match_end == 1.0 && occ.len() == k - 1 {
        // The end (searching forwards) or the start (backwards) of the text acts as a delimiter.
        Some(if n > 0.0 { (len, len) } else { (0, 0) })
    } else {
        None
    };
    match found {
        Some((a, b)) => {
            if after {
                slice(b, len)
            } else {
                slice(0, a)
            }
        }
        None => not_found(),
    }
}

/// The value of an argument that lifting already reduced to a scalar.
fn ctx_free_scalar(a: &Arg) -> Value {
    match a {
        Arg::Value(v) => v.first(),
        _ => Value::Error(ErrorKind::Value),
    }
}

fn fn_textbefore(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    text_before_after(ctx, args, false)
}

fn fn_textafter(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    text_before_after(ctx, args, true)
}

fn fn_textsplit(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let text = tri!(text_arg(ctx, args, 0));
    let col_d = match opt(args, 1) {
        Some(a) => tri!(delimiters(ctx, a)),
        None => Vec::new(),
    };
    let row_d = match opt(args, 2) {
        Some(a) => tri!(delimiters(ctx, a)),
        None => Vec::new(),
    };
    let ignore_empty = tri!(ctx.boolean_or(args, 3, false));
    let mode = tri!(ctx.number_or(args, 4, 0.0)).trunc();
    if !(mode == 0.0 || mode == 1.0) {
        return Value::Error(ErrorKind::Value);
    }
    let pad = match opt(args, 5) {
        Some(a) => ctx.scalar(a),
        None => Value::Error(ErrorKind::Na),
    };
    if (col_d.is_empty() && row_d.is_empty())
        || col_d.iter().chain(row_d.iter()).any(|d| d.is_empty())
    {
        return Value::Error(ErrorKind::Value);
    }
    let fold = |s: &str| -> Vec<char> {
        if mode == 1.0 {
            s.chars().flat_map(char::to_lowercase).collect()
        } else {
            s.chars().collect()
        }
    };
    let orig: Vec<char> = text.chars().collect();
    let hay = fold(&text);
    if hay.len() != orig.len() {
        return Value::Error(ErrorKind::Value);
    }
    let cd: Vec<Vec<char>> = col_d.iter().map(|d| fold(d)).collect();
    let rd: Vec<Vec<char>> = row_d.iter().map(|d| fold(d)).collect();
    // Split positions on the folded text, cut the original.
    let cut = |a: usize, b: usize| orig[a..b].iter().collect::<String>();
    let row_spans: Vec<(usize, usize)> = if rd.is_empty() {
        vec![(0, hay.len())]
    } else {
        let mut v = Vec::new();
        let mut prev = 0;
        for (a, b) in occurrences(&hay, &rd) {
            v.push((prev, a));
            prev = b;
        }
        v.push((prev, hay.len()));
        v
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (ra, rb) in row_spans {
        let cells: Vec<String> = if cd.is_empty() {
            vec![cut(ra, rb)]
        } else {
            let mut v = Vec::new();
            let mut prev = ra;
            for (a, b) in occurrences(&hay[ra..rb], &cd) {
                v.push(cut(prev, ra + a));
                prev = ra + b;
            }
            v.push(cut(prev, rb));
            v
        };
        let cells: Vec<String> = if ignore_empty {
            cells.into_iter().filter(|c| !c.is_empty()).collect()
        } else {
            cells
        };
        if ignore_empty && cells.is_empty() {
            continue;
        }
        rows.push(cells);
    }
    if rows.is_empty() {
        return Value::Error(ErrorKind::Calc);
    }
    let ncols = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
    let nrows = rows.len();
    let mut data = Vec::with_capacity(nrows * ncols);
    for r in rows {
        let k = r.len();
        data.extend(r.into_iter().map(Value::from));
        data.extend(std::iter::repeat_n(pad.clone(), ncols - k));
    }
    if nrows == 1 && ncols == 1 {
        return data.pop().unwrap_or(Value::Empty);
    }
    Value::Array(Arc::new(Array::new(nrows, ncols, data)))
}

// ---------------------------------------------------------------------------------------------
// VALUETOTEXT, ARRAYTOTEXT
// ---------------------------------------------------------------------------------------------

fn value_to_text(v: &Value, strict: bool) -> String {
    match v {
        Value::Text(t) => {
            if strict {
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                t.to_string()
            }
        }
        Value::Error(e) => e.as_str().to_string(),
        Value::Array(_) => value_to_text(&v.first(), strict),
        other => other.to_text().map(|t| t.to_string()).unwrap_or_default(),
    }
}

fn format_arg(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<bool, ErrorKind> {
    let f = ctx.number_or(args, 1, 0.0)?.trunc();
    if f == 0.0 {
        Ok(false)
    } else if f == 1.0 {
        Ok(true)
    } else {
        Err(ErrorKind::Value)
    }
}

fn fn_valuetotext(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let v = match args.first() {
        Some(a) => ctx.scalar(a),
        None => Value::Empty,
    };
    let strict = tri!(format_arg(ctx, args));
    Value::from(value_to_text(&v, strict))
}

fn fn_arraytotext(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let strict = tri!(format_arg(ctx, args));
    let arr = match args.first() {
        Some(a) => tri!(ctx.array(a)),
        None => return Value::Error(ErrorKind::Value),
    };
    let mut out = String::new();
    if strict {
        out.push('{');
    }
    for r in 0..arr.rows {
        for c in 0..arr.cols {
            if r + c > 0 {
                out.push_str(match (strict, c == 0) {
                    (false, _) => ", ",
                    (true, true) => ";",
                    (true, false) => ",",
                });
            }
            if let Some(v) = arr.get(r, c) {
                out.push_str(&value_to_text(v, strict));
            }
        }
    }
    if strict {
        out.push('}');
    }
    text_result(out)
}

// ---------------------------------------------------------------------------------------------
// TEXT: Excel number formats
// ---------------------------------------------------------------------------------------------

fn fn_text(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let v = match args.first() {
        Some(a) => ctx.scalar(a),
        None => Value::Empty,
    };
    let fmt = tri!(text_arg(ctx, args, 1));
    let date1904 = ctx.date1904();
    let r = match v {
        Value::Error(e) => return Value::Error(e),
        Value::Number(n) => format_number(n, &fmt, date1904),
        Value::Empty => format_number(0.0, &fmt, date1904),
        Value::Bool(b) => format_text(if b { "TRUE" } else { "FALSE" }, &fmt),
        Value::Text(t) => match value_of_text(&t) {
            Ok(n) if !t.trim().is_empty() => format_number(n, &fmt, date1904),
            _ => format_text(&t, &fmt),
        },
        Value::Array(_) => return Value::Error(ErrorKind::Value),
    };
    match r {
        Ok(s) => text_result(s),
        Err(e) => Value::Error(e),
    }
}

/// A token of a number format section.
#[derive(Debug, Clone, PartialEq)]
enum FTok {
    Lit(String),
    /// `0`, `#` or `?`.
    Digit(char),
    Dot,
    Comma,
    Percent,
    /// `E+` (true) or `E-` (false).
    Exp(bool),
    Slash,
    At,
    General,
    Year(usize),
    /// `m`..`mmmmm`: month, or minutes when next to hours/seconds.
    Month(usize),
    Minute(usize),
    Day(usize),
    Hour(usize),
    Second(usize),
    /// `.0`, `.00`, `.000` after seconds.
    SubSecond(usize),
    /// AM/PM marker: the two texts to show.
    AmPm(&'static str, &'static str),
    /// `[h]`, `[m]`, `[s]` (unit char, width).
    Elapsed(char, usize),
}

/// A parsed format section.
#[derive(Debug, Clone, Default)]
struct Section {
    toks: Vec<FTok>,
    cond: Option<(String, f64)>,
}

impl Section {
    fn is_date(&self) -> bool {
        self.toks.iter().any(|t| {
            matches!(
                t,
                FTok::Year(_)
                    | FTok::Month(_)
                    | FTok::Minute(_)
                    | FTok::Day(_)
                    | FTok::Hour(_)
                    | FTok::Second(_)
                    | FTok::AmPm(..)
                    | FTok::Elapsed(..)
            )
        })
    }
    fn has_digits(&self) -> bool {
        self.toks.iter().any(|t| matches!(t, FTok::Digit(_)))
    }
}

/// Splits a format into sections at `;` outside quotes, escapes and brackets.
fn split_sections(fmt: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = fmt.chars();
    let mut in_quote = false;
    let mut in_bracket = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quote = !in_quote;
                cur.push(c);
            }
            '\\' | '_' | '*' if !in_quote => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '[' if !in_quote => {
                in_bracket = true;
                cur.push(c);
            }
            ']' if !in_quote => {
                in_bracket = false;
                cur.push(c);
            }
            ';' if !in_quote && !in_bracket => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_section(s: &str) -> Result<Section, ErrorKind> {
    // `[$-F800]` and `[$-F400]` stand for the system's long date and time formats, whatever
    // follows them; these are the United States' (the locale mcsim formats in).
    let lower = s.to_ascii_lowercase();
    if lower.contains("[$-f800]") {
        return parse_section("dddd, mmmm d, yyyy");
    }
    if lower.contains("[$-f400]") {
        return parse_section("h:mm:ss AM/PM");
    }
    let chars: Vec<char> = s.chars().collect();
    let mut toks: Vec<FTok> = Vec::new();
    let mut cond = None;
    let mut i = 0;
    let lit = |toks: &mut Vec<FTok>, s: &str| {
        if let Some(FTok::Lit(l)) = toks.last_mut() {
            l.push_str(s);
        } else {
            toks.push(FTok::Lit(s.to_string()));
        }
    };
    let run = |i: usize, pred: &dyn Fn(char) -> bool| -> usize {
        let mut j = i;
        while j < chars.len() && pred(chars[j]) {
            j += 1;
        }
        j - i
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                let mut j = i + 1;
                let mut t = String::new();
                while j < chars.len() && chars[j] != '"' {
                    t.push(chars[j]);
                    j += 1;
                }
                lit(&mut toks, &t);
                i = j + 1;
            }
            '\\' => {
                if let Some(&n) = chars.get(i + 1) {
                    lit(&mut toks, &n.to_string());
                }
                i += 2;
            }
            '_' => {
                lit(&mut toks, " ");
                i += 2;
            }
            '*' => i += 2,
            '[' => {
                let mut j = i + 1;
                let mut t = String::new();
                while j < chars.len() && chars[j] != ']' {
                    t.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
                let lower = t.to_ascii_lowercase();
                if !lower.is_empty() && lower.chars().all(|c| c == 'h') {
                    toks.push(FTok::Elapsed('h', lower.len()));
                } else if !lower.is_empty() && lower.chars().all(|c| c == 'm') {
                    toks.push(FTok::Elapsed('m', lower.len()));
                } else if !lower.is_empty() && lower.chars().all(|c| c == 's') {
                    toks.push(FTok::Elapsed('s', lower.len()));
                } else if let Some(cur) = t.strip_prefix('$') {
                    let sym = cur.split('-').next().unwrap_or("");
                    if !sym.is_empty() {
                        lit(&mut toks, sym);
                    }
                } else if t.starts_with(['<', '>', '=']) {
                    let op_len = t
                        .chars()
                        .take_while(|c| matches!(c, '<' | '>' | '='))
                        .count();
                    let (op, val) = t.split_at(op_len);
                    let v: f64 = val.trim().parse().map_err(|_| ErrorKind::Value)?;
                    cond = Some((op.to_string(), v));
                }
                // Colours and other bracketed codes show nothing.
            }
            '0' | '#' | '?' => {
                toks.push(FTok::Digit(c));
                i += 1;
            }
            '.' => {
                // After seconds, ".0" gives fractions of a second.
                let after_seconds = toks
                    .iter()
                    .rev()
                    .find(|t| !matches!(t, FTok::Lit(_)))
                    .is_some_and(|t| matches!(t, FTok::Second(_) | FTok::Elapsed('s', _)));
                let zeros = run(i + 1, &|c| c == '0');
                if after_seconds && zeros > 0 {
                    toks.push(FTok::SubSecond(zeros));
                    i += 1 + zeros;
                } else {
                    toks.push(FTok::Dot);
                    i += 1;
                }
            }
            ',' => {
                toks.push(FTok::Comma);
                i += 1;
            }
            '%' => {
                toks.push(FTok::Percent);
                i += 1;
            }
            '/' => {
                toks.push(FTok::Slash);
                i += 1;
            }
            '@' => {
                toks.push(FTok::At);
                i += 1;
            }
            'E' | 'e' if matches!(chars.get(i + 1), Some('+') | Some('-')) => {
                toks.push(FTok::Exp(chars[i + 1] == '+'));
                i += 2;
            }
            'y' | 'Y' => {
                let n = run(i, &|c| c == 'y' || c == 'Y');
                toks.push(FTok::Year(n));
                i += n;
            }
            'm' | 'M' => {
                let n = run(i, &|c| c == 'm' || c == 'M');
                toks.push(FTok::Month(n));
                i += n;
            }
            'd' | 'D' => {
                let n = run(i, &|c| c == 'd' || c == 'D');
                toks.push(FTok::Day(n));
                i += n;
            }
            'h' | 'H' => {
                let n = run(i, &|c| c == 'h' || c == 'H');
                toks.push(FTok::Hour(n));
                i += n;
            }
            's' | 'S' => {
                let n = run(i, &|c| c == 's' || c == 'S');
                toks.push(FTok::Second(n));
                i += n;
            }
            'A' | 'a' => {
                let rest: String = chars[i..].iter().take(5).collect();
                if rest.eq_ignore_ascii_case("am/pm") {
                    let upper = rest.starts_with('A');
                    toks.push(if upper {
                        FTok::AmPm("AM", "PM")
                    } else {
                        FTok::AmPm("am", "pm")
                    });
                    i += 5;
                } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case("a/p") {
                    toks.push(if c == 'A' {
                        FTok::AmPm("A", "P")
                    } else {
                        FTok::AmPm("a", "p")
                    });
                    i += 3;
                } else {
                    lit(&mut toks, &c.to_string());
                    i += 1;
                }
            }
            'G' | 'g' => {
                let rest: String = chars[i..].iter().take(7).collect();
                if rest.eq_ignore_ascii_case("general") {
                    toks.push(FTok::General);
                    i += 7;
                } else {
                    lit(&mut toks, &c.to_string());
                    i += 1;
                }
            }
            _ => {
                lit(&mut toks, &c.to_string());
                i += 1;
            }
        }
    }
    // m/mm next to hours or seconds means minutes.
    let idx: Vec<usize> = (0..toks.len())
        .filter(|&k| !matches!(toks[k], FTok::Lit(_)))
        .collect();
    for (pos, &k) in idx.iter().enumerate() {
        if let FTok::Month(n) = toks[k]
            && n <= 2
        {
            let prev_hour =
                pos > 0 && matches!(toks[idx[pos - 1]], FTok::Hour(_) | FTok::Elapsed('h', _));
            let next_sec = idx
                .get(pos + 1)
                .is_some_and(|&q| matches!(toks[q], FTok::Second(_) | FTok::Elapsed('s', _)));
            if prev_hour || next_sec {
                toks[k] = FTok::Minute(n);
            }
        }
    }
    Ok(Section { toks, cond })
}

/// Formats a number with an Excel format code, as TEXT does.
pub fn format_number(v: f64, fmt: &str, date1904: bool) -> Result<String, ErrorKind> {
    if !v.is_finite() {
        return Err(ErrorKind::Num);
    }
    let raw = split_sections(fmt);
    let mut secs = Vec::with_capacity(raw.len());
    for s in &raw {
        secs.push(parse_section(s)?);
    }
    // Pick the section: with conditions ([>100]) the first two sections are tried in turn;
    // otherwise positive;negative;zero, where the negative section shows no minus sign.
    let n = secs.len();
    let test = |c: &(String, f64)| match c.0.as_str() {
        "<" => v < c.1,
        "<=" => v <= c.1,
        ">" => v > c.1,
        ">=" => v >= c.1,
        "=" => v == c.1,
        "<>" => v != c.1,
        _ => false,
    };
    let (idx, sign_needed) = if secs.iter().any(|s| s.cond.is_some()) {
        let mut chosen = None;
        for (k, s) in secs.iter().enumerate().take(2) {
            match &s.cond {
                Some(c) if test(c) => {
                    chosen = Some((k, false));
                    break;
                }
                Some(_) => {}
                None => {
                    chosen = Some((k, v < 0.0 && k == 0));
                    break;
                }
            }
        }
        chosen.unwrap_or((if n >= 3 { 2 } else { n - 1 }, false))
    } else if v > 0.0 || (v == 0.0 && n < 3) {
        (0, v < 0.0)
    } else if v < 0.0 && n >= 2 {
        (1, false)
    } else if v == 0.0 {
        (2, false)
    } else {
        (0, true)
    };
    let sec = &secs[idx.min(n - 1)];
    let x = v.abs();
    // A text-only section (with @) used for a number shows the number in General.
    if sec.is_date() {
        if sec.has_digits() {
            return Err(ErrorKind::Value);
        }
        if v < 0.0 {
            return Err(ErrorKind::Value);
        }
        let s = format_date(v, sec, date1904)?;
        return Ok(s);
    }
    let body = format_numeric(x, sec)?;
    if sign_needed && !body.zero {
        Ok(format!("-{}", body.text))
    } else {
        Ok(body.text)
    }
}

/// Formats text with the text section of a format (the 4th, or one holding `@`); without one,
/// the text is returned unchanged.
pub fn format_text(t: &str, fmt: &str) -> Result<String, ErrorKind> {
    let raw = split_sections(fmt);
    let sec = if raw.len() >= 4 {
        Some(parse_section(&raw[3])?)
    } else {
        let mut found = None;
        for s in &raw {
            let p = parse_section(s)?;
            if p.toks.contains(&FTok::At) {
                found = Some(p);
                break;
            }
        }
        found
    };
    let Some(sec) = sec else {
        return Ok(t.to_string());
    };
    let mut out = String::new();
    for tok in &sec.toks {
        match tok {
            FTok::At => out.push_str(t),
            FTok::Lit(l) => out.push_str(l),
            _ => {}
        }
    }
    Ok(out)
}

struct Formatted {
    text: String,
    /// No non-zero digit shown (so no minus sign either).
    zero: bool,
}

/// The 15 significant decimal digits of `v > 0` and the exponent `e` with v = 0.d1d2... × 10^e.
fn sig_digits(v: f64) -> (Vec<u8>, i32) {
    let s = format!("{v:.14e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: Vec<u8> = m
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    let e: i32 = e.parse().unwrap_or(0);
    (digits, e + 1)
}

/// `v >= 0` rounded (half away from zero, on 15 significant digits) to `decimals` places:
/// the integer digits ("" for zero) and exactly `decimals` fraction digits.
fn round_digits(v: f64, decimals: usize) -> (String, String) {
    if v == 0.0 || !v.is_finite() {
        return (String::new(), "0".repeat(decimals));
    }
    let (mut digits, mut e) = sig_digits(v);
    let keep = e + decimals as i32;
    if keep < 0 {
        return (String::new(), "0".repeat(decimals));
    }
    let keep = keep as usize;
    if keep < digits.len() {
        let round_up = digits[keep] >= 5;
        digits.truncate(keep);
        if round_up {
            let mut k = keep;
            loop {
                if k == 0 {
                    digits.insert(0, 1);
                    e += 1;
                    break;
                }
                k -= 1;
                if digits[k] == 9 {
                    digits[k] = 0;
                } else {
                    digits[k] += 1;
                    break;
                }
            }
        }
    }
    // Digits now represent 0.d1d2.. × 10^e, with up to e + decimals digits.
    let mut int = String::new();
    let mut frac = String::new();
    for p in 0..(e.max(0) as usize + decimals) {
        // Position p counts from the first integer digit (or from the point when e <= 0).
        let (is_int, di) = if e > 0 {
            (p < e as usize, p as i64)
        } else {
            (false, p as i64 + e as i64)
        };
        let d = if di >= 0 {
            digits.get(di as usize).copied().unwrap_or(0)
        } else {
            0
        };
        if is_int {
            int.push((b'0' + d) as char);
        } else {
            frac.push((b'0' + d) as char);
        }
    }
    let int = int.trim_start_matches('0').to_string();
    frac.truncate(decimals);
    while frac.len() < decimals {
        frac.push('0');
    }
    (int, frac)
}

fn group_thousands(int: &str) -> String {
    let b = int.as_bytes();
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, &c) in b.iter().enumerate() {
        if i > 0 && (b.len() - i).is_multiple_of(3) && c.is_ascii_digit() {
            out.push(',');
        }
        out.push(c as char);
    }
    out
}

/// Excel's General format for a number in a width of 11 characters (TEXT(x, "General")).
pub fn general(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let neg = v < 0.0;
    let a = v.abs();
    let (digits, e) = sig_digits(a);
    let _ = digits;
    // Decimal candidate.
    let dec = {
        let int_digits = e.max(1);
        if int_digits > 11 {
            None
        } else {
            let decimals = (10 - int_digits).max(0) as usize;
            let (int, frac) = round_digits(a, decimals);
            if int.len() > 11 {
                None
            } else {
                let frac = frac.trim_end_matches('0').to_string();
                let int = if int.is_empty() { "0".to_string() } else { int };
                let sig = {
                    let all = format!("{int}{frac}");
                    let t = all.trim_start_matches('0').trim_end_matches('0');
                    t.len()
                };
                let s = if frac.is_empty() {
                    int
                } else {
                    format!("{int}.{frac}")
                };
                Some((s, sig))
            }
        }
    };
    // Scientific candidate.
    let sci = {
        let mut exp = e - 1;
        let mant_dec = if exp.abs() >= 100 { 4 } else { 5 };
        let m = a / 10f64.powi(exp);
        let (mut int, mut frac) = round_digits(m, mant_dec);
        if int.len() > 1 {
            exp += 1;
            let (i2, f2) = round_digits(a / 10f64.powi(exp), mant_dec);
            int = i2;
            frac = f2;
        }
        let frac = frac.trim_end_matches('0').to_string();
        let int = if int.is_empty() { "0".to_string() } else { int };
        let sig = int.len() + frac.len();
        let mant = if frac.is_empty() {
            int
        } else {
            format!("{int}.{frac}")
        };
        (
            format!("{mant}E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()),
            sig,
        )
    };
    let body = match dec {
        Some((d, sig)) if sig >= sci.1 && sig > 0 => d,
        _ => sci.0,
    };
    if neg { format!("-{body}") } else { body }
}

fn format_numeric(x: f64, sec: &Section) -> Result<Formatted, ErrorKind> {
    let toks = &sec.toks;
    // General (possibly with literals around it).
    if !toks.iter().any(|t| matches!(t, FTok::Digit(_))) {
        // General, @, or literals only ("abc" shows "abc").
        let g = general(x);
        let mut zero = true;
        let mut out = String::new();
        for t in toks {
            match t {
                FTok::General | FTok::At => {
                    out.push_str(&g);
                    zero = x == 0.0;
                }
                FTok::Lit(l) => out.push_str(l),
                FTok::Percent => out.push('%'),
                FTok::Dot => out.push('.'),
                FTok::Comma => out.push(','),
                FTok::Slash => out.push('/'),
                _ => {}
            }
        }
        return Ok(Formatted { text: out, zero });
    }
    // Fractions.
    if let Some(sp) = toks.iter().position(|t| *t == FTok::Slash)
        && toks[..sp].iter().any(|t| matches!(t, FTok::Digit(_)))
    {
        return Ok(format_fraction(x, toks, sp));
    }
    let exp_pos = toks.iter().position(|t| matches!(t, FTok::Exp(_)));
    let mantissa_end = exp_pos.unwrap_or(toks.len());
    let dot_pos = toks[..mantissa_end].iter().position(|t| *t == FTok::Dot);
    let int_end = dot_pos.unwrap_or(mantissa_end);
    let percents = toks.iter().filter(|t| **t == FTok::Percent).count();
    // Commas: grouping when between integer digit placeholders; scaling when right after the last.
    let int_digit_idx: Vec<usize> = (0..int_end)
        .filter(|&k| matches!(toks[k], FTok::Digit(_)))
        .collect();
    let first_digit = int_digit_idx.first().copied();
    let last_int_digit = int_digit_idx.last().copied();
    let mut grouping = false;
    let mut scale = 0;
    if let (Some(f), Some(l)) = (first_digit, last_int_digit) {
        grouping = (f..l).any(|k| toks[k] == FTok::Comma);
        let mut k = l + 1;
        while k < toks.len() && toks[k] == FTok::Comma {
            scale += 1;
            k += 1;
        }
    } else if dot_pos.is_none() {
        // No integer placeholders: trailing commas after the last placeholder scale too.
    }
    if let Some(d) = dot_pos {
        // "0.0,," style scaling after the decimals.
        let last_digit = (d..mantissa_end)
            .rev()
            .find(|&k| matches!(toks[k], FTok::Digit(_)));
        if let Some(ld) = last_digit {
            let mut k = ld + 1;
            while k < toks.len() && toks[k] == FTok::Comma {
                scale += 1;
                k += 1;
            }
        }
    }
    let mut x = x * 100f64.powi(percents as i32) / 1000f64.powi(scale);
    let frac_ph: Vec<char> = match dot_pos {
        Some(d) => toks[d + 1..mantissa_end]
            .iter()
            .filter_map(|t| {
                if let FTok::Digit(c) = t {
                    Some(*c)
                } else {
                    None
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let int_ph: Vec<char> = int_digit_idx
        .iter()
        .filter_map(|&k| {
            if let FTok::Digit(c) = toks[k] {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    // Scientific notation.
    let mut exp_text = String::new();
    if let Some(ep) = exp_pos {
        let plus = matches!(toks[ep], FTok::Exp(true));
        let exp_digits = toks[ep + 1..]
            .iter()
            .filter(|t| matches!(t, FTok::Digit(_)))
            .count()
            .max(1);
        let ni = int_ph.len().max(1) as i32;
        let mut e = if x == 0.0 {
            0
        } else {
            x.log10().floor() as i32
        };
        if x != 0.0 {
            // Guard log10 rounding.
            if 10f64.powi(e) > x {
                e -= 1;
            }
            if 10f64.powi(e + 1) <= x {
                e += 1;
            }
        }
        let mut exp = if ni > 1 && int_ph.contains(&'#') {
            e.div_euclid(ni) * ni
        } else {
            e - (ni - 1)
        };
        if x == 0.0 {
            exp = 0;
        }
        let mut m = x / 10f64.powi(exp);
        let (int, _) = round_digits(m, frac_ph.len());
        if int.len() as i32 > ni {
            exp += if ni > 1 && int_ph.contains(&'#') {
                ni
            } else {
                1
            };
            m = x / 10f64.powi(exp);
        }
        x = m;
        let sign = if exp < 0 {
            "-"
        } else if plus {
            "+"
        } else {
            ""
        };
        exp_text = format!("{sign}{:0w$}", exp.abs(), w = exp_digits);
    }
    let (int, frac) = round_digits(x, frac_ph.len());
    let zero = !int.bytes().chain(frac.bytes()).any(|b| b != b'0');
    // Integer part.
    let int_text = layout_integer(&int, toks, int_end, &int_digit_idx, grouping);
    // Fraction part: trim trailing zeros for # and ?.
    let mut fchars: Vec<char> = frac.chars().collect();
    for k in (0..fchars.len()).rev() {
        if fchars[k] != '0' {
            break;
        }
        match frac_ph[k] {
            '#' => {
                fchars.pop();
            }
            '?' => fchars[k] = ' ',
            _ => break,
        }
    }
    let mut out = int_text;
    if let Some(d) = dot_pos {
        out.push('.');
        let mut fi = 0;
        for t in &toks[d + 1..mantissa_end] {
            match t {
                FTok::Digit(_) => {
                    if let Some(c) = fchars.get(fi) {
                        out.push(*c);
                    }
                    fi += 1;
                }
                FTok::Lit(l) => out.push_str(l),
                FTok::Percent => out.push('%'),
                _ => {}
            }
        }
    }
    if let Some(ep) = exp_pos {
        out.push('E');
        out.push_str(&exp_text);
        for t in &toks[ep + 1..] {
            match t {
                FTok::Lit(l) => out.push_str(l),
                FTok::Percent => out.push('%'),
                _ => {}
            }
        }
    } else if dot_pos.is_none() {
        // Literals after the integer part were emitted by layout_integer.
    }
    Ok(Formatted { text: out, zero })
}

/// Lays out the integer digits over the integer part of the format (tokens before `int_end`),
/// then the tokens after the mantissa are left to the caller except trailing literals.
fn layout_integer(
    int: &str,
    toks: &[FTok],
    int_end: usize,
    digit_idx: &[usize],
    grouping: bool,
) -> String {
    let ph: Vec<char> = digit_idx
        .iter()
        .filter_map(|&k| {
            if let FTok::Digit(c) = toks[k] {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    let mut out = String::new();
    let emit_other = |t: &FTok, out: &mut String| match t {
        FTok::Lit(l) => out.push_str(l),
        FTok::Percent => out.push('%'),
        _ => {}
    };
    if ph.is_empty() {
        // ".00": the integer digits still show (nothing for zero).
        for t in &toks[..int_end] {
            emit_other(t, &mut out);
        }
        out.push_str(int);
        return out;
    }
    let first = digit_idx[0];
    let last = *digit_idx.last().unwrap_or(&first);
    for t in &toks[..first] {
        emit_other(t, &mut out);
    }
    if grouping || !toks[first..=last].iter().any(|t| matches!(t, FTok::Lit(_))) {
        // Contiguous placeholders: pad and group the digits as one block.
        let min_zeros = ph
            .iter()
            .position(|&c| c == '0')
            .map(|p| ph.len() - p)
            .unwrap_or(0);
        let min_q = ph
            .iter()
            .position(|&c| c == '?')
            .map(|p| ph.len() - p)
            .unwrap_or(0);
        let mut digits = int.to_string();
        while digits.len() < min_zeros {
            digits.insert(0, '0');
        }
        let mut block = if grouping {
            group_thousands(&digits)
        } else {
            digits
        };
        while block.chars().count() < min_q {
            block.insert(0, ' ');
        }
        out.push_str(&block);
    } else {
        // Digits fill the placeholders from the right; the first placeholder takes the rest.
        let d: Vec<char> = int.chars().collect();
        let mut assigned: Vec<String> = vec![String::new(); ph.len()];
        let mut di = d.len();
        for p in (0..ph.len()).rev() {
            if di > 0 {
                di -= 1;
                assigned[p].push(d[di]);
            } else {
                match ph[p] {
                    '0' => assigned[p].push('0'),
                    '?' => assigned[p].push(' '),
                    _ => {}
                }
            }
        }
        if di > 0 {
            let rest: String = d[..di].iter().collect();
            assigned[0].insert_str(0, &rest);
        }
        let mut pi = 0;
        for t in &toks[first..=last] {
            match t {
                FTok::Digit(_) => {
                    out.push_str(&assigned[pi]);
                    pi += 1;
                }
                other => emit_other(other, &mut out),
            }
        }
    }
    for t in &toks[last + 1..int_end] {
        emit_other(t, &mut out);
    }
    out
}

fn format_fraction(x: f64, toks: &[FTok], sp: usize) -> Formatted {
    // Layout: [int placeholders] [literal space] [numerator placeholders] / [denominator].
    let before = &toks[..sp];
    let after = &toks[sp + 1..];
    // Numerator: the last run of digit placeholders before the slash.
    let mut num_start = sp;
    while num_start > 0 && matches!(before[num_start - 1], FTok::Digit(_)) {
        num_start -= 1;
    }
    let has_int = before[..num_start]
        .iter()
        .any(|t| matches!(t, FTok::Digit(_)));
    let den_digits: Vec<char> = after
        .iter()
        .take_while(|t| matches!(t, FTok::Digit(_)))
        .filter_map(|t| {
            if let FTok::Digit(c) = t {
                Some(*c)
            } else {
                None
            }
        })
        .collect();
    // A fixed denominator (`# ?/16`, `# ?/100`): digits written after the slash, where any `0`
    // after the first digit was read as a placeholder.
    let mut fixed_text = String::new();
    let mut fixed_toks = 0;
    if den_digits.is_empty()
        && let Some(FTok::Lit(l)) = after.first()
        && l.starts_with(|c: char| c.is_ascii_digit())
    {
        fixed_text = l.chars().take_while(|c| c.is_ascii_digit()).collect();
        fixed_toks = 1;
        if fixed_text.len() == l.len() {
            while let Some(FTok::Digit('0')) = after.get(fixed_toks) {
                fixed_text.push('0');
                fixed_toks += 1;
            }
        }
    }
    let fixed_den: Option<u64> = fixed_text.parse().ok().filter(|&d| d > 0);
    let (whole, frac) = if has_int {
        (x.trunc(), x - x.trunc())
    } else {
        (0.0, x)
    };
    let (mut num, den) = if let Some(d) = fixed_den {
        ((frac * d as f64).round() as u64, d)
    } else {
        let max_den = 10u64.pow(den_digits.len().clamp(1, 9) as u32) - 1;
        if den_digits.len() <= 4 {
            // The closest fraction with at most that many denominator digits.
            let mut best = (0u64, 1u64, f64::INFINITY);
            for d in 1..=max_den {
                let n = (frac * d as f64).round();
                let err = (frac - n / d as f64).abs();
                if err < best.2 - 1e-15 {
                    best = (n as u64, d, err);
                }
            }
            (best.0, best.1)
        } else {
            convergent(frac, max_den)
        }
    };
    let mut whole = whole as u64;
    if has_int && num == den && den > 0 {
        whole += 1;
        num = 0;
    }
    let mut out = String::new();
    for t in &before[..num_start] {
        match t {
            FTok::Digit(_) => {}
            FTok::Lit(l) => out.push_str(l),
            _ => {}
        }
    }
    // Put the whole number where the integer placeholders were (simplified: at their first spot).
    if has_int {
        let first_int = before
            .iter()
            .position(|t| matches!(t, FTok::Digit(_)))
            .unwrap_or(0);
        let mut prefix = String::new();
        for t in &before[..first_int] {
            if let FTok::Lit(l) = t {
                prefix.push_str(l);
            }
        }
        let mut mid = String::new();
        let mut seen = false;
        for t in &before[first_int..num_start] {
            match t {
                FTok::Digit(_) => seen = true,
                FTok::Lit(l) if seen => mid.push_str(l),
                _ => {}
            }
        }
        out = prefix;
        // `#` shows no whole part of 0 before a fraction, `0` (and a value with no fraction at
        // all) shows it.
        let zero_digit = before[first_int..num_start]
            .iter()
            .any(|t| matches!(t, FTok::Digit('0')));
        if whole > 0 || num == 0 || zero_digit {
            out.push_str(&whole.to_string());
        }
        let area = fraction_area(
            &mid,
            num,
            den,
            sp - num_start,
            &den_digits,
            fixed_toks,
            after,
        );
        if num == 0 {
            // A whole number keeps the fraction's width as spaces (`3    ` for `# ?/?`).
            out.extend(area.0.chars().map(|_| ' '));
            out.push_str(&area.1);
            return Formatted {
                text: out,
                zero: whole == 0,
            };
        }
        out.push_str(&area.0);
        out.push_str(&area.1);
        return Formatted {
            text: out,
            zero: false,
        };
    }
    let area = fraction_area("", num, den, sp - num_start, &den_digits, fixed_toks, after);
    out.push_str(&area.0);
    out.push_str(&area.1);
    Formatted {
        text: out,
        zero: num == 0,
    }
}

/// The text of a fraction from the separator before the numerator to the end of the
/// denominator, and the literals after it: `mid`, the numerator right-aligned in `nw` places,
/// `/`, the denominator (left-aligned in its placeholders, or the fixed one as written in the
/// first `fixed_toks` tokens after the slash).
fn fraction_area(
    mid: &str,
    num: u64,
    den: u64,
    nw: usize,
    den_digits: &[char],
    fixed_toks: usize,
    after: &[FTok],
) -> (String, String) {
    let mut area = format!("{mid}{num:>nw$}/");
    let mut tail = String::new();
    let skip = if fixed_toks > 0 {
        for t in &after[..fixed_toks] {
            match t {
                FTok::Lit(l) => {
                    let digits: String = l.chars().take_while(|c| c.is_ascii_digit()).collect();
                    area.push_str(&digits);
                    tail.push_str(&l[digits.len()..]);
                }
                _ => area.push('0'),
            }
        }
        fixed_toks
    } else {
        let dw = den_digits.len();
        area.push_str(&format!("{den:<dw$}"));
        dw
    };
    for t in after.iter().skip(skip) {
        if let FTok::Lit(l) = t {
            tail.push_str(l);
        }
    }
    (area, tail)
}

/// A fraction for `x` in [0, 1) with a denominator of at most `max_den`, from the continued
/// fraction of `x`: the first convergent within 1e-13 (relative) of `x`, else the last one
/// within the limit. (Excel shows `# ??/?????????` of 0.123251512342345 as 480894/3901729,
/// a convergent, where the closest fraction is 8425007/68356216.)
fn convergent(x: f64, max_den: u64) -> (u64, u64) {
    let (mut h0, mut h1, mut k0, mut k1) = (0u64, 1u64, 1u64, 0u64);
    let mut best = ((x).round() as u64, 1u64);
    let mut y = x;
    for _ in 0..64 {
        let a = y.floor();
        if a > 1e12 {
            break;
        }
        let a = a as u64;
        let (h2, k2) = (
            a.saturating_mul(h1).saturating_add(h0),
            a.saturating_mul(k1).saturating_add(k0),
        );
        if k2 > max_den {
            break;
        }
        (h0, h1, k0, k1) = (h1, h2, k1, k2);
        best = (h1, k1);
        if (h1 as f64 / k1 as f64 - x).abs() <= 1e-13 * x.abs() {
            break;
        }
        let r = y - a as f64;
        if r <= 0.0 {
            break;
        }
        y = 1.0 / r;
    }
    best
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn format_date(v: f64, sec: &Section, date1904: bool) -> Result<String, ErrorKind> {
    let toks = &sec.toks;
    let sub = toks
        .iter()
        .find_map(|t| {
            if let FTok::SubSecond(n) = t {
                Some(*n)
            } else {
                None
            }
        })
        .unwrap_or(0);
    let sub = sub.min(3);
    let unit = 10f64.powi(sub as i32);
    // Round to the precision shown.
    let total = (v * 86400.0 * unit).round();
    let per_day = 86400.0 * unit;
    let days = (total / per_day).floor();
    let rem = total - days * per_day; // in units
    let secs_total = (rem / unit).floor() as i64;
    let sub_val = (rem - secs_total as f64 * unit).round() as i64;
    let (y, m, d) = serial_to_ymd(days, date1904).ok_or(ErrorKind::Value)?;
    let weekday = {
        let s = days as i64 + if date1904 { 1462 } else { 0 };
        (s + 5).rem_euclid(7) as usize
    };
    let hour = secs_total / 3600;
    let minute = secs_total / 60 % 60;
    let second = secs_total % 60;
    let ampm = toks.iter().find_map(|t| {
        if let FTok::AmPm(a, p) = t {
            Some((*a, *p))
        } else {
            None
        }
    });
    let mut out = String::new();
    for t in toks {
        match t {
            FTok::Lit(l) => out.push_str(l),
            FTok::Year(n) => {
                if *n <= 2 {
                    out.push_str(&format!("{:02}", y.rem_euclid(100)));
                } else {
                    out.push_str(&format!("{y:04}"));
                }
            }
            FTok::Month(n) => {
                let name = MONTH_NAMES
                    .get((m as usize).wrapping_sub(1))
                    .copied()
                    .unwrap_or("January");
                match n {
                    1 => out.push_str(&m.to_string()),
                    2 => out.push_str(&format!("{m:02}")),
                    3 => out.push_str(&name[..3]),
                    5 => out.push_str(&name[..1]),
                    _ => out.push_str(name),
                }
            }
            FTok::Day(n) => match n {
                1 => out.push_str(&d.to_string()),
                2 => out.push_str(&format!("{d:02}")),
                3 => out.push_str(&DAY_NAMES[weekday][..3]),
                _ => out.push_str(DAY_NAMES[weekday]),
            },
            FTok::Hour(n) => {
                let h = if ampm.is_some() {
                    let h = hour % 12;
                    if h == 0 { 12 } else { h }
                } else {
                    hour
                };
                if *n >= 2 {
                    out.push_str(&format!("{h:02}"));
                } else {
                    out.push_str(&h.to_string());
                }
            }
            FTok::Minute(n) => {
                if *n >= 2 {
                    out.push_str(&format!("{minute:02}"));
                } else {
                    out.push_str(&minute.to_string());
                }
            }
            FTok::Second(n) => {
                if *n >= 2 {
                    out.push_str(&format!("{second:02}"));
                } else {
                    out.push_str(&second.to_string());
                }
            }
            FTok::SubSecond(n) => {
                let n = (*n).min(3);
                out.push('.');
                let s = format!("{sub_val:0w$}", w = sub);
                out.push_str(&s[..n.min(s.len())]);
            }
            FTok::AmPm(a, p) => out.push_str(if hour < 12 { a } else { p }),
            FTok::Elapsed(u, w) => {
                let total_s = days as i64 * 86400 + secs_total;
                let val = match u {
                    'h' => total_s / 3600,
                    'm' => total_s / 60,
                    _ => total_s,
                };
                out.push_str(&format!("{val:0w$}", w = *w));
            }
            FTok::Dot => out.push('.'),
            FTok::Comma => out.push(','),
            FTok::Slash => out.push('/'),
            FTok::Percent => out.push('%'),
            FTok::Exp(p) => out.push_str(if *p { "E+" } else { "E-" }),
            FTok::At | FTok::General | FTok::Digit(_) => {}
        }
    }
    Ok(out)
}

/// PHONETIC(reference): the furigana (phonetic guide) of the text typed in the cells. The
/// workbook reader keeps no furigana, and a cell without furigana gives the text itself, so this
/// is the text constants of the area joined row by row (one cell: its text). Cells
/// whose text comes from a formula, numbers, logicals and errors give nothing. Text given
/// directly is returned as it is; several areas are `#N/A`.
fn fn_phonetic(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let area = match args.first() {
        Some(Arg::Ref(area)) => *area,
        Some(Arg::Union(_)) => return Value::Error(ErrorKind::Na),
        Some(Arg::Value(Value::Text(t))) => return Value::Text(t.clone()),
        Some(Arg::Value(Value::Error(e))) => return Value::Error(*e),
        _ => return Value::Error(ErrorKind::Value),
    };
    let model = ctx.model();
    let mut out = String::new();
    ctx.visit_area(area, &mut |r, c, v| {
        let typed = model
            .find(area.sheet, r, c)
            .and_then(|id| model.cells.get(id as usize))
            .is_some_and(|cell| cell.formula.is_none());
        if let (true, Value::Text(t)) = (typed, v) {
            out.push_str(t);
        }
    });
    if out.chars().count() > 32_767 {
        return Value::Error(ErrorKind::Value);
    }
    Value::Text(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quick::{eval, eval_cells};

    fn s(f: &str) -> String {
        match eval(f) {
            Value::Text(t) => t.to_string(),
            v => panic!("{f} gave {v:?}"),
        }
    }

    fn n(f: &str) -> f64 {
        match eval(f) {
            Value::Number(x) => x,
            v => panic!("{f} gave {v:?}"),
        }
    }

    fn err(f: &str) -> ErrorKind {
        match eval(f) {
            Value::Error(e) => e,
            v => panic!("{f} gave {v:?}, not an error"),
        }
    }

    fn fmt(v: f64, f: &str) -> String {
        format_number(v, f, false).unwrap()
    }

    /// PHONETIC without furigana: the typed text of the cell, or of the area's cells joined
    /// row by row; numbers and formula results give nothing (Excel's documentation and its
    /// behaviour on cells without furigana).
    #[test]
    fn phonetic_is_the_typed_text() {
        let cells = [
            ("A1", "とうきょう"),
            ("B1", "42"),
            ("C1", "x"),
            ("A2", "=\"formula\""),
            ("B2", "y"),
            ("D1", "=PHONETIC(A1)"),
            ("D2", "=PHONETIC(A1:C2)"),
            ("D3", "=PHONETIC(B1)"),
            ("D4", "=PHONETIC((A1,C1))"),
            ("D5", "=PHONETIC(\"abc\")"),
            ("D6", "=PHONETIC(A2)"),
        ];
        let text = |c: &str| eval_cells(&cells, c);
        assert_eq!(text("D1"), Value::Text("とうきょう".into()));
        assert_eq!(text("D2"), Value::Text("とうきょうxy".into()));
        assert_eq!(text("D3"), Value::Text("".into()));
        assert_eq!(text("D4"), Value::Error(ErrorKind::Na));
        assert_eq!(text("D5"), Value::Text("abc".into()));
        assert_eq!(text("D6"), Value::Text("".into()));
        assert_eq!(err("=PHONETIC(1)"), ErrorKind::Value);
    }

    #[test]
    fn text_numbers_from_corpus() {
        // ironcalc TEXT.xlsx (values Excel computed).
        let cases: &[(f64, &[&str])] = &[
            (
                12.0,
                &[
                    "12",
                    "12.00",
                    "12",
                    "12 ",
                    "$12 ",
                    "00-00-00-12",
                    "12",
                    "12.",
                    "12.00 Millions!",
                    "1200.00%",
                    "1.20E+1",
                ],
            ),
            (
                1.0 / 3.0,
                &[
                    "0",
                    "0.33",
                    "0",
                    "0 ",
                    "$0 ",
                    "00-00-00-00",
                    "0.333333333",
                    ".3",
                    ".33 Millions!",
                    "33.33%",
                    "3.33E-1",
                ],
            ),
            (
                12345.6789,
                &[
                    "12346",
                    "12345.68",
                    "12,346",
                    "12,346 ",
                    "$12,346 ",
                    "00-01-23-46",
                    "12345.6789",
                    "12345.7",
                    "12,345.68 Millions!",
                    "1234567.89%",
                    "1.23E+4",
                ],
            ),
            (
                -12.0,
                &[
                    "-12",
                    "-12.00",
                    "-12",
                    "(12)",
                    "($12)",
                    "-00-00-00-12",
                    "-12",
                    "-12.",
                    "-12.00 Millions!",
                    "-1200.00%",
                    "-1.20E+1",
                ],
            ),
            (
                -1.0 / 3.0,
                &[
                    "0",
                    "-0.33",
                    "0",
                    "(0)",
                    "($0)",
                    "00-00-00-00",
                    "-0.333333333",
                    "-.3",
                    "-.33 Millions!",
                    "-33.33%",
                    "-3.33E-1",
                ],
            ),
            (
                0.0,
                &[
                    "0",
                    "0.00",
                    "0",
                    "0 ",
                    "$0 ",
                    "00-00-00-00",
                    "0",
                    ".",
                    ".00 Millions!",
                    "0.00%",
                    "0.00E+0",
                ],
            ),
            (
                123456789012.0,
                &[
                    "123456789012",
                    "123456789012.00",
                    "123,456,789,012",
                    "123,456,789,012 ",
                    "$123,456,789,012 ",
                    "123456-78-90-12",
                    "1.23457E+11",
                    "123456789012.",
                    "123,456,789,012.00 Millions!",
                    "12345678901200.00%",
                    "1.23E+11",
                ],
            ),
            (
                1.2e-16,
                &[
                    "0",
                    "0.00",
                    "0",
                    "0 ",
                    "$0 ",
                    "00-00-00-00",
                    "1.2E-16",
                    ".",
                    ".00 Millions!",
                    "0.00%",
                    "1.20E-16",
                ],
            ),
            (
                25000000000.0,
                &[
                    "25000000000",
                    "25000000000.00",
                    "25,000,000,000",
                    "25,000,000,000 ",
                    "$25,000,000,000 ",
                    "25000-00-00-00",
                    "25000000000",
                    "25000000000.",
                    "25,000,000,000.00 Millions!",
                    "2500000000000.00%",
                    "2.50E+10",
                ],
            ),
            (
                250000000000.0,
                &[
                    "250000000000",
                    "250000000000.00",
                    "250,000,000,000",
                    "250,000,000,000 ",
                    "$250,000,000,000 ",
                    "250000-00-00-00",
                    "2.5E+11",
                    "250000000000.",
                    "250,000,000,000.00 Millions!",
                    "25000000000000.00%",
                    "2.50E+11",
                ],
            ),
            (
                1e16,
                &[
                    "10000000000000000",
                    "10000000000000000.00",
                    "10,000,000,000,000,000",
                    "10,000,000,000,000,000 ",
                    "$10,000,000,000,000,000 ",
                    "10000000000-00-00-00",
                    "1E+16",
                    "10000000000000000.",
                    "10,000,000,000,000,000.00 Millions!",
                    "1000000000000000000.00%",
                    "1.00E+16",
                ],
            ),
            (
                -2.7e-18,
                &[
                    "0",
                    "0.00",
                    "0",
                    "(0)",
                    "($0)",
                    "00-00-00-00",
                    "-2.7E-18",
                    ".",
                    ".00 Millions!",
                    "0.00%",
                    "-2.70E-18",
                ],
            ),
            (
                -2.5e-10,
                &[
                    "0",
                    "0.00",
                    "0",
                    "(0)",
                    "($0)",
                    "00-00-00-00",
                    "-2.5E-10",
                    ".",
                    ".00 Millions!",
                    "0.00%",
                    "-2.50E-10",
                ],
            ),
            (
                -2.5e-9,
                &[
                    "0",
                    "0.00",
                    "0",
                    "(0)",
                    "($0)",
                    "00-00-00-00",
                    "-2.5E-09",
                    ".",
                    ".00 Millions!",
                    "0.00%",
                    "-2.50E-9",
                ],
            ),
            (
                -1e-8,
                &[
                    "0",
                    "0.00",
                    "0",
                    "(0)",
                    "($0)",
                    "00-00-00-00",
                    "-0.00000001",
                    ".",
                    ".00 Millions!",
                    "0.00%",
                    "-1.00E-8",
                ],
            ),
            (
                -1e9,
                &[
                    "-1000000000",
                    "-1000000000.00",
                    "-1,000,000,000",
                    "(1,000,000,000)",
                    "($1,000,000,000)",
                    "-1000-00-00-00",
                    "-1000000000",
                    "-1000000000.",
                    "-1,000,000,000.00 Millions!",
                    "-100000000000.00%",
                    "-1.00E+9",
                ],
            ),
        ];
        let formats = [
            "0",
            "0.00",
            "#,##0",
            "#,##0_);(#,##0)",
            "$#,##0_);($#,##0)",
            "00-00-00-00",
            "General",
            "[Red]#.#",
            "#,#.00 \"Millions!\"",
            "0.00%",
            "0.00E+0",
        ];
        for (v, expected) in cases {
            for (f, e) in formats.iter().zip(expected.iter()) {
                assert_eq!(fmt(*v, f), *e, "TEXT({v}, {f:?})");
            }
        }
        assert_eq!(
            fmt(123456789012.0, "#,##,, \"Millions\""),
            "123,457 Millions"
        );
        assert_eq!(fmt(12345600000000000000.0, "0"), "12345600000000000000");
    }

    #[test]
    fn text_dates_from_corpus() {
        let f = |v: f64, code: &str| format_number(v, code, false);
        assert_eq!(f(41181.0, "m/d/y").unwrap(), "9/29/12");
        assert_eq!(f(41181.0, "dd/mm--yy").unwrap(), "29/09--12");
        assert_eq!(
            f(41181.0, "ddd--/--mmm--/++yyy").unwrap(),
            "Sat--/--Sep--/++2012"
        );
        assert_eq!(
            f(41181.0, "dddd/mmmm/yyyyy").unwrap(),
            "Saturday/September/2012"
        );
        assert_eq!(f(41181.0, "ddddd/mmmmm/yyyyy").unwrap(), "Saturday/S/2012");
        assert_eq!(f(41181.0, "mm###"), Err(ErrorKind::Value));
        assert_eq!(
            f(100.0, "ddd--/--mmm--/++yyy").unwrap(),
            "Mon--/--Apr--/++1900"
        );
        assert_eq!(
            f(2958465.0, "ddd--/--mmm--/++yyy").unwrap(),
            "Fri--/--Dec--/++9999"
        );
        assert_eq!(f(2958466.0, "m/d/y"), Err(ErrorKind::Value));
        assert_eq!(f(-1.0, "m/d/y"), Err(ErrorKind::Value));
        assert_eq!(s("=TEXT(DATE(2026,4,1),\"mmmm\")"), "April");
        assert_eq!(s("=TEXT(DATE(1996,1,1),\"ddd\")"), "Mon");
    }

    #[test]
    fn text_formats_more() {
        assert_eq!(fmt(45322.75, "yyyy-mm-dd"), "2024-01-31");
        assert_eq!(fmt(45322.75, "mm/dd/yyyy"), "01/31/2024");
        assert_eq!(fmt(45322.75, "hh:mm:ss"), "18:00:00");
        assert_eq!(fmt(45322.75, "h:mm AM/PM"), "6:00 PM");
        assert_eq!(fmt(0.25, "h:mm am/pm"), "6:00 am");
        assert_eq!(
            fmt(45322.0, "dddd, mmmm d, yyyy"),
            "Wednesday, January 31, 2024"
        );
        assert_eq!(fmt(1.5, "[h]:mm"), "36:00");
        assert_eq!(fmt(0.5 + 1.5 / 86400.0, "hh:mm:ss.0"), "12:00:01.5");
        assert_eq!(fmt(1234.567, "$#,##0.00"), "$1,234.57");
        assert_eq!(fmt(0.256, "0%"), "26%");
        assert_eq!(fmt(0.5, "0.0%"), "50.0%");
        assert_eq!(fmt(12345.678, "0.0E+00"), "1.2E+04");
        assert_eq!(fmt(2.5, "0"), "3");
        assert_eq!(fmt(-2.5, "0"), "-3");
        assert_eq!(fmt(1.005, "0.00"), "1.01");
        assert_eq!(fmt(5.0, "0;(0);\"zero\""), "5");
        assert_eq!(fmt(-5.0, "0;(0);\"zero\""), "(5)");
        assert_eq!(fmt(0.0, "0;(0);\"zero\""), "zero");
        assert_eq!(fmt(7.0, "\"Total: \"0"), "Total: 7");
        assert_eq!(fmt(7.0, "0\\%"), "7%");
        assert_eq!(fmt(1234.0, "#,##0,\"K\""), "1K");
        assert_eq!(fmt(1.25, "# ?/?"), "1 1/4");
        assert_eq!(fmt(0.5, "?/?"), "1/2");
        assert_eq!(fmt(5.0, "00000"), "00005");
        assert_eq!(fmt(123.0, "[>100]\"big\";\"small\""), "big");
        assert_eq!(fmt(1.0, "0.##"), "1.");
        assert_eq!(s("=TEXT(\"abc\",\"0.00\")"), "abc");
        assert_eq!(s("=TEXT(\"abc\",\"@\")"), "abc");
        assert_eq!(s("=TEXT(\"abc\",\"0;0;0;\"\"<\"\"@\"\">\"\"\")"), "<abc>");
        assert_eq!(s("=TEXT(\"1234\",\"#,##0\")"), "1,234");
        assert_eq!(s("=TEXT(1/3,\"General\")"), "0.333333333");
        assert_eq!(err("=TEXT(1/0,\"0\")"), ErrorKind::Div0);
    }

    #[test]
    fn basic_text() {
        assert_eq!(s("=LEFT(\"A wonderful world\")"), "A");
        assert_eq!(s("=LEFT(\"A wonderful world\",3)"), "A w");
        assert_eq!(s("=LEFT(\"abc\",100)"), "abc");
        assert_eq!(
            eval_cells(&[("A1", "abc"), ("B1", "=LEFT(A1,C1)")], "B1"),
            Value::from("")
        );
        assert_eq!(
            eval_cells(&[("A1", "abc"), ("B1", "=RIGHT(A1,C1)")], "B1"),
            Value::from("")
        );
        assert_eq!(err("=LEFT(\"abc\",-1)"), ErrorKind::Value);
        assert_eq!(s("=RIGHT(\"world\",3)"), "rld");
        assert_eq!(err("=RIGHT(\"abc\",-2)"), ErrorKind::Value);
        assert_eq!(s("=RIGHT(\"園田 直子  \",3)"), "子  ");
        assert_eq!(s("=MID(\"Fluid Flow\",7,20)"), "Flow");
        assert_eq!(s("=MID(\"Fluid Flow\",20,5)"), "");
        assert_eq!(err("=MID(\"abc\",0,1)"), ErrorKind::Value);
        assert_eq!(n("=LEN(\"園田 直子  \")"), 7.0);
        assert_eq!(n("=LEN(123.5)"), 5.0);
        assert_eq!(s("=UPPER(\"hello\")"), "HELLO");
        assert_eq!(s("=LOWER(\"E. E. Cummings\")"), "e. e. cummings");
        assert_eq!(s("=PROPER(\"this is a TITLE\")"), "This Is A Title");
        assert_eq!(s("=PROPER(\"2-way street\")"), "2-Way Street");
        assert_eq!(s("=PROPER(\"76BudGet\")"), "76Budget");
        assert_eq!(
            s("=TRIM(\"  First Quarter    Earnings \")"),
            "First Quarter Earnings"
        );
        assert_eq!(s("=CONCATENATE(\"a\",1,TRUE)"), "a1TRUE");
        assert_eq!(s("=REPT(\"ab\",3)"), "ababab");
        assert_eq!(err("=REPT(\"ab\",-1)"), ErrorKind::Value);
        assert_eq!(err("=REPT(\"ab\",20000)"), ErrorKind::Value);
        assert_eq!(eval("=EXACT(\"Word\",\"word\")"), Value::Bool(false));
        assert_eq!(eval("=EXACT(\"w\",\"w\")"), Value::Bool(true));
        assert_eq!(s("=CLEAN(CHAR(9)&\"Monthly\"&CHAR(10))"), "Monthly");
        assert_eq!(s("=T(\"x\")"), "x");
        assert_eq!(s("=T(1)"), "");
        assert_eq!(s("=CHAR(65)"), "A");
        assert_eq!(s("=CHAR(128)"), "€");
        assert_eq!(err("=CHAR(0)"), ErrorKind::Value);
        assert_eq!(err("=CHAR(256)"), ErrorKind::Value);
        assert_eq!(n("=CODE(\"A\")"), 65.0);
        assert_eq!(n("=CODE(\"€\")"), 128.0);
        assert_eq!(err("=CODE(\"\")"), ErrorKind::Value);
        assert_eq!(s("=UNICHAR(66)"), "B");
        assert_eq!(err("=UNICHAR(0)"), ErrorKind::Value);
        assert_eq!(n("=UNICODE(\"B\")"), 66.0);
        assert_eq!(n("=UNICODE(\"の\")"), 12398.0);
        assert_eq!(err("=UNICODE(\"\")"), ErrorKind::Value);
    }

    #[test]
    fn substitute_replace() {
        assert_eq!(
            s("=SUBSTITUTE(\"Sales Data\",\"Sales\",\"Cost\")"),
            "Cost Data"
        );
        assert_eq!(
            s("=SUBSTITUTE(\"Quarter 1, 2008\",\"1\",\"2\",1)"),
            "Quarter 2, 2008"
        );
        assert_eq!(
            s("=SUBSTITUTE(\"Quarter 1, 2011\",\"1\",\"2\",3)"),
            "Quarter 1, 2012"
        );
        assert_eq!(s("=SUBSTITUTE(\"abc\",\"\",\"x\")"), "abc");
        assert_eq!(s("=SUBSTITUTE(\"abc\",\"z\",\"x\",5)"), "abc");
        assert_eq!(err("=SUBSTITUTE(\"abc\",\"a\",\"x\",0)"), ErrorKind::Value);
        assert_eq!(s("=REPLACE(\"abcdefghijk\",6,5,\"*\")"), "abcde*k");
        assert_eq!(s("=REPLACE(\"2009\",3,2,\"10\")"), "2010");
        assert_eq!(s("=REPLACE(\"abc\",10,1,\"x\")"), "abcx");
        assert_eq!(err("=REPLACE(\"abc\",0,1,\"x\")"), ErrorKind::Value);
    }

    #[test]
    fn find_search() {
        assert_eq!(err("=FIND(\"Ana\",\"Banana\")"), ErrorKind::Value);
        assert_eq!(n("=SEARCH(\"Ana\",\"Banana\")"), 2.0);
        assert_eq!(n("=FIND(\"ana\",\"Banana\")"), 2.0);
        assert_eq!(err("=FIND(\"ana\",\"ana\",2)"), ErrorKind::Value);
        assert_eq!(n("=FIND(\"Y\",\"Y not Y yes\",3)"), 7.0);
        assert_eq!(n("=FIND(\"Hola\",\"你好 Hola\")"), 4.0);
        assert_eq!(err("=FIND(\"Jude\",\"Hey Jude\",17)"), ErrorKind::Value);
        assert_eq!(n("=FIND(2,123)"), 2.0);
        assert_eq!(err("=FIND(\"Hey\",\"Hey Jude\",0)"), ErrorKind::Value);
        assert_eq!(n("=FIND(TRUE,TRUE)"), 1.0);
        assert_eq!(n("=FIND(\"\",\"abc\",2)"), 2.0);
        assert_eq!(n("=SEARCH(\"ns??i\",\"Einstein\")"), 3.0);
        assert_eq!(n("=SEARCH(\"国?港\",\"中国香港\")"), 2.0);
        assert_eq!(n("=SEARCH(\"ns*i\",\"Einstein\")"), 3.0);
        assert_eq!(err("=SEARCH(\"ns?i\",\"Einstein\")"), ErrorKind::Value);
        assert_eq!(n("=SEARCH(\"*~?\",\"Late?\")"), 1.0);
        assert_eq!(n("=SEARCH(\"~?\",\"Late?\")"), 5.0);
        assert_eq!(n("=SEARCH(\"La?\",\"Late?\")"), 1.0);
        assert_eq!(err("=SEARCH(\"Lat???\",\"Late\")"), ErrorKind::Value);
        assert_eq!(n("=SEARCH(\"~*\",\"Ho*la\")"), 3.0);
        assert_eq!(n("=SEARCH(\"~~\",\"Hi ~Bang!\")"), 4.0);
        assert_eq!(n("=SEARCH(\"~\",\"Hi ~Bang!\")"), 1.0);
        assert_eq!(n("=SEARCH(\"~d\",\"My dear\")"), 4.0);
        assert_eq!(n("=FIND(\"~\",\"Hi ~Bang!\")"), 4.0);
    }

    #[test]
    fn value_function() {
        assert_eq!(n("=VALUE(\"$1,000\")"), 1000.0);
        assert!((n("=VALUE(\"16:48:00\")-VALUE(\"12:00:00\")") - 0.2).abs() < 1e-15);
        assert_eq!(n("=VALUE(\"1e-5\")"), 1e-5);
        assert_eq!(n("=VALUE(\"12€\")"), 12.0);
        assert_eq!(n("=VALUE(\"2024-01-31\")"), 45322.0);
        assert_eq!(n("=VALUE(\"40%\")"), 0.4);
        assert_eq!(n("=VALUE(123)"), 123.0);
        assert_eq!(err("=VALUE(\"\")"), ErrorKind::Value);
        assert_eq!(err("=VALUE(\"qwerty\")"), ErrorKind::Value);
        assert_eq!(err("=VALUE(\"12,34\")"), ErrorKind::Value);
        assert_eq!(n("=VALUE(\"123,456.67\")"), 123456.67);
        assert_eq!(err("=VALUE(TRUE)"), ErrorKind::Value);
        assert_eq!(
            eval_cells(&[("B1", "=VALUE(A1)")], "B1"),
            Value::Number(0.0)
        );
        assert_eq!(n("=NUMBERVALUE(\"2.500,27\",\",\",\".\")"), 2500.27);
        assert_eq!(n("=NUMBERVALUE(\"3.5%\")"), 0.035);
        assert_eq!(n("=NUMBERVALUE(\"\")"), 0.0);
        assert_eq!(err("=NUMBERVALUE(\"1.2.3\")"), ErrorKind::Value);
    }

    #[test]
    fn fixed_dollar() {
        assert_eq!(s("=FIXED(1234.567,1)"), "1,234.6");
        assert_eq!(s("=FIXED(1234.567,-1)"), "1,230");
        assert_eq!(s("=FIXED(-1234.567,-1,TRUE)"), "-1230");
        assert_eq!(s("=FIXED(44.332)"), "44.33");
        assert_eq!(s("=DOLLAR(1234.567,2)"), "$1,234.57");
        assert_eq!(s("=DOLLAR(1234.567,-2)"), "$1,200");
        assert_eq!(s("=DOLLAR(-1234.567,-2)"), "($1,200)");
        assert_eq!(s("=DOLLAR(-0.123,4)"), "($0.1230)");
        assert_eq!(s("=DOLLAR(99.888)"), "$99.89");
    }

    #[test]
    fn textjoin_concat() {
        let cells = [
            ("A1", "Monday"),
            ("B1", "Tuesday"),
            ("D1", "Thursday"),
            ("E1", "=TEXTJOIN(\",\",TRUE,A1:D1)"),
            ("E2", "=TEXTJOIN(\",\",FALSE,A1:D1)"),
            ("E3", "=TEXTJOIN(0,TRUE,A1:D1)"),
            ("E4", "=CONCAT(A1:D1)"),
            ("E5", "=TEXTJOIN({\"-\",\"+\"},TRUE,A1:D1,\"x\")"),
            ("E6", "=CONCAT(A1:D1,1/0)"),
        ];
        let g = |c: &str| eval_cells(&cells, c);
        assert_eq!(g("E1"), Value::from("Monday,Tuesday,Thursday"));
        assert_eq!(g("E2"), Value::from("Monday,Tuesday,,Thursday"));
        assert_eq!(g("E3"), Value::from("Monday0Tuesday0Thursday"));
        assert_eq!(g("E4"), Value::from("MondayTuesdayThursday"));
        assert_eq!(g("E5"), Value::from("Monday-Tuesday+Thursday-x"));
        assert_eq!(g("E6"), Value::Error(ErrorKind::Div0));
        assert_eq!(s("=TEXTJOIN(\", \",TRUE,1,2,3)"), "1, 2, 3");
    }

    #[test]
    fn textbefore_after() {
        assert_eq!(s("=TEXTAFTER(\"A day in the woods\",\"the\")"), " woods");
        assert_eq!(
            s("=TEXTBEFORE(\"A day in the woods\",\"the\")"),
            "A day in "
        );
        let t = "\"123 the 456 the 891\"";
        assert_eq!(s(&format!("=TEXTAFTER({t},\"the\",2)")), " 891");
        assert_eq!(s(&format!("=TEXTBEFORE({t},\"the\",2)")), "123 the 456 ");
        assert_eq!(s(&format!("=TEXTAFTER({t},\"THE\",2,1)")), " 891");
        assert_eq!(err(&format!("=TEXTAFTER({t},\"THE\")")), ErrorKind::Na);
        assert_eq!(s(&format!("=TEXTAFTER({t},\"the\",-1)")), " 891");
        assert_eq!(s(&format!("=TEXTBEFORE({t},\"the\",-1)")), "123 the 456 ");
        assert_eq!(
            s(&format!("=TEXTAFTER({t},\"the\",5,1,0,\"Not found\")")),
            "Not found"
        );
        assert_eq!(err(&format!("=TEXTAFTER({t},\"the\",0)")), ErrorKind::Value);
        assert_eq!(
            s(&format!("=TEXTAFTER({t},\"Hello\",1,1,1,\"Failed\")")),
            ""
        );
        assert_eq!(
            s(&format!("=TEXTBEFORE({t},\"Hello\",1,1,1,\"Failed\")")),
            "123 the 456 the 891"
        );
        assert_eq!(
            s(&format!("=TEXTAFTER({t},\"Hello\",-1,1,1,\"Failed\")")),
            "123 the 456 the 891"
        );
        assert_eq!(
            s(&format!("=TEXTAFTER({t},\"Hello\",2,1,1,\"Failed\")")),
            "Failed"
        );
        assert_eq!(
            err(&format!("=TEXTAFTER({t},\"Hello\",-1,1,2,\"Failed\")")),
            ErrorKind::Value
        );
        assert_eq!(err("=TEXTAFTER(\"del\",\"deli\",1)"), ErrorKind::Value);
        assert_eq!(err("=TEXTAFTER(\"del\",\"deli\")"), ErrorKind::Na);
        assert_eq!(s("=TEXTAFTER(123,1)"), "23");
        assert_eq!(s("=TEXTAFTER(TRUE,\"r\",1,1)"), "UE");
        assert_eq!(
            s("=TEXTAFTER(\"一条漫长而曲折的道路而曲折\",\"而曲\",2)"),
            "折"
        );
        assert_eq!(s("=TEXTBEFORE(\"a,b;c\",{\";\",\",\"},2)"), "a,b");
        assert_eq!(s(&format!("=TEXTAFTER({t},\"the\",1.6)")), " 456 the 891");
        assert_eq!(s(&format!("=TEXTAFTER({t},\"the\",-1.2)")), " 456 the 891");
    }

    #[test]
    fn textsplit_and_totext() {
        let cells = [
            ("A1", "{=TEXTSPLIT(\"a,b;c,d\",\",\",\";\")}@A1:B2"),
            ("D1", "{=TEXTSPLIT(\"a,b;c\",\",\",\";\")}@D1:E2"),
            ("G1", "{=TEXTSPLIT(\"a,,b\",\",\",,TRUE)}@G1:H1"),
        ];
        assert_eq!(eval_cells(&cells, "A2"), Value::from("c"));
        assert_eq!(eval_cells(&cells, "B2"), Value::from("d"));
        assert_eq!(eval_cells(&cells, "E2"), Value::Error(ErrorKind::Na));
        assert_eq!(eval_cells(&cells, "H1"), Value::from("b"));
        assert_eq!(err("=TEXTSPLIT(\"abc\",\"\")"), ErrorKind::Value);
        assert_eq!(s("=VALUETOTEXT(\"abc\",1)"), "\"abc\"");
        assert_eq!(s("=VALUETOTEXT(1/0)"), "#DIV/0!");
        assert_eq!(s("=VALUETOTEXT(TRUE)"), "TRUE");
        assert_eq!(s("=ARRAYTOTEXT({1,\"a\";TRUE,2})"), "1, a, TRUE, 2");
        assert_eq!(s("=ARRAYTOTEXT({1,\"a\";TRUE,2},1)"), "{1,\"a\";TRUE,2}");
    }
    /// Format codes of every kind issue 13 lists, with the text Excel shows: the examples of
    /// Excel's "Number format codes" help page and Excel results quoted in spreadsheet-format
    /// projects' bug reports (SheetJS ssf #66, #76 for `# ?/10` and long denominators; hucre #397
    /// for `# ?/2`).
    #[test]
    fn number_formats_sections_scaling_fractions_and_locales() {
        let cases: &[(f64, &str, &str)] = &[
            (1234567.0, "#,##0,", "1,235"),
            (1234567.0, "#,##0.0,,", "1.2"),
            (1234567.891, "#,##0.00,,", "1.23"),
            (0.000123, "0.00E-00", "1.23E-04"),
            (12345.0, "0.00E-00", "1.23E04"),
            (12345.0, "##0.0E+0", "12.3E+3"),
            (0.5, "# ?/?", " 1/2"),
            (2.5, "?/?", "5/2"),
            (0.75, "# ?/4", " 3/4"),
            (3.0, "# ?/?", "3    "),
            (0.0, "# ?/10", "0     "),
            (3.1, "# ?/2", "3    "),
            (2.25, "# ?/100", "2 25/100"),
            (0.123251512342345, "# ??/?????????", " 480894/3901729  "),
            (0.5, "0 ?/?", "0 1/2"),
            (-5.0, "[Red]0;[Blue](0)", "(5)"),
            (5.0, "[Red]0", "5"),
            (50.0, "[>100]\"big\";\"small\"", "small"),
            (-50.0, "[<0]\"neg\";[>0]\"pos\";\"zero\"", "neg"),
            (1234.5, "[$€-407] #,##0.00", "€ 1,234.50"),
            (1234.5, "[$$-409]#,##0.00", "$1,234.50"),
            (
                45000.75,
                "[$-409]mmmm d, yyyy h:mm AM/PM",
                "March 15, 2023 6:00 PM",
            ),
            (1.5, "[h]:mm:ss", "36:00:00"),
            (0.5, "h:mm am/pm", "12:00 pm"),
            (0.25, "h AM/PM", "6 AM"),
            (0.75, "h:mm A/P", "6:00 P"),
            (1234.5, "_(* #,##0.00_)", " 1,234.50 "),
            (
                -1234.5,
                "_(* #,##0.00_);_(* (#,##0.00);_(* \"-\"??_);_(@_)",
                " (1,234.50)",
            ),
            (
                0.0,
                "_(* #,##0.00_);_(* (#,##0.00);_(* \"-\"??_);_(@_)",
                " -   ",
            ),
            (1234.5, "_($* #,##0.00_)", " $1,234.50 "),
            (1.23456, "0.0##", "1.235"),
            (5.0, "0.0##", "5.0"),
            (0.0, "#,###", ""),
            (12.0, "0%", "1200%"),
            (3.14259, "0.00_);(0.00)", "3.14 "),
            (-3.14259, "0.00_);(0.00)", "(3.14)"),
            (0.00001, "General", "0.00001"),
            (1.23456789012345e-7, "General", "1.23457E-07"),
            (12345678901.0, "General", "12345678901"),
            (123456789012.0, "General", "1.23457E+11"),
            (44927.0, "dddd", "Sunday"),
            (44927.0, "mmm-yy", "Jan-23"),
            (44927.5, "yyyy-mm-dd hh:mm:ss", "2023-01-01 12:00:00"),
            (1.0 / 86400.0, "[ss]", "01"),
            (0.5, "[mm]", "720"),
            (44927.0, "\"Date: \"d/m/yyyy", "Date: 1/1/2023"),
            (1234.5, "#,##0.00 \"USD\"", "1,234.50 USD"),
            (0.125, "0.0%%", "1250.0%%"),
            (1.0, "\\$0", "$1"),
            (100.0, "0.00E+00", "1.00E+02"),
            (-0.5, "0.0", "-0.5"),
            (1234.0, "0000.00", "1234.00"),
            (0.5, "#.##", ".5"),
            (12.0, "000-00", "000-12"),
            (44927.25, "h:mm:ss AM/PM", "6:00:00 AM"),
            (44927.0, "d-mmm", "1-Jan"),
            (44927.0, "mmmmm", "J"),
            (44927.0, "yy", "23"),
            (2.0, "0 \"items\"", "2 items"),
            (-2.0, "0;-0;0;@", "-2"),
            (1e15, "0", "1000000000000000"),
            (123.456, "?.???", "123.456"),
            (1.5, "?.??", "1.5 "),
            (0.0, "0.00;-0.00;\"-\"", "-"),
            (
                44927.0,
                "[$-F800]dddd, mmmm dd, yyyy",
                "Sunday, January 1, 2023",
            ),
            (44927.75, "[$-F400]h:mm:ss AM/PM", "6:00:00 PM"),
            (44927.0, "[$-409]d-mmm-yy", "1-Jan-23"),
        ];
        let mut bad = Vec::new();
        for (v, f, want) in cases {
            let got = format_number(*v, f, false);
            if got.as_deref() != Ok(*want) {
                bad.push(format!("{v} {f:?}: got {got:?} want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    }
    /// A number joined to text shows up to 15 significant digits (then `E+nn`); TEXT's General
    /// fits the number in 11 characters.
    #[test]
    fn numbers_as_text_in_concatenation_and_general() {
        let cases: &[(&str, &str)] = &[
            ("=1/3&\"\"", "0.333333333333333"),
            ("=1E+20&\"\"", "1E+20"),
            ("=(0.1+0.2)&\"\"", "0.3"),
            ("=123456789012345678&\"\"", "1.23456789012346E+17"),
            ("=1E-7&\"\"", "0.0000001"),
            ("=1.23E-10&\"\"", "1.23E-10"),
            ("=-2.5&\"\"", "-2.5"),
            ("=100000000000000000000&\"\"", "1E+20"),
            ("=123456789012345&\"\"", "123456789012345"),
            ("=1234567890123456&\"\"", "1.23456789012346E+15"),
            ("=TRUE&\"\"", "TRUE"),
            ("=VALUETOTEXT(1/3)", "0.333333333333333"),
            ("=TEXT(1/3,\"General\")", "0.333333333"),
            ("=TEXT(1234567.891,\"General\")", "1234567.891"),
            ("=TEXT(12345678901234,\"General\")", "1.23457E+13"),
        ];
        let mut bad = Vec::new();
        for (f, want) in cases {
            let got = eval(f);
            if got != Value::Text((*want).into()) {
                bad.push(format!("{f}: got {got:?} want {want:?}"));
            }
        }
        assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    }
}

//! Text functions tied to a script or a locale: ASC, DBCS/JIS (full-width and half-width forms),
//! BAHTTEXT (Thai amounts in words) and ENCODEURL.

use super::{Arg, Ctx, FnSpec, Lift};
use crate::tri;
use crate::value::Value;
use mcsim_formula::ErrorKind;
use std::sync::Arc;

/// The functions of this module.
pub const FUNCTIONS: &[FnSpec] = &[
    FnSpec::new("ASC", 1, 1, Lift::All, fn_asc),
    FnSpec::new("DBCS", 1, 1, Lift::All, fn_dbcs),
    FnSpec::new("JIS", 1, 1, Lift::All, fn_dbcs),
    FnSpec::new("BAHTTEXT", 1, 1, Lift::All, fn_bahttext),
    FnSpec::new("ENCODEURL", 1, 1, Lift::All, fn_encodeurl),
];

/// Half-width katakana (U+FF61..U+FF9F, in order) and their full-width forms.
const HALF_KANA: &str = "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ";
const FULL_KANA: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン゛゜";
/// Full-width katakana with a voiced (゛) or semi-voiced (゜) mark, and the kana they are written
/// on.
const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴ";
const VOICED_BASE: &str = "カキクケコサシスセソタチツテトハヒフヘホウ";
const SEMI: &str = "パピプペポ";
const SEMI_BASE: &str = "ハヒフヘホ";

fn nth(s: &str, i: usize) -> Option<char> {
    s.chars().nth(i)
}

/// ASC: full-width (double-byte) ASCII, space and katakana to their half-width forms.
pub fn asc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let u = c as u32;
        if (0xFF01..=0xFF5E).contains(&u) {
            out.push(char::from_u32(u - 0xFEE0).unwrap_or(c));
        } else if c == '\u{3000}' {
            out.push(' ');
        } else if let Some(i) = VOICED.chars().position(|v| v == c) {
            let base = nth(VOICED_BASE, i).unwrap_or(c);
            out.push(to_half_kana(base));
            out.push('ﾞ');
        } else if let Some(i) = SEMI.chars().position(|v| v == c) {
            let base = nth(SEMI_BASE, i).unwrap_or(c);
            out.push(to_half_kana(base));
            out.push('ﾟ');
        } else {
            out.push(to_half_kana(c));
        }
    }
    out
}

fn to_half_kana(c: char) -> char {
    FULL_KANA
        .chars()
        .position(|f| f == c)
        .and_then(|i| nth(HALF_KANA, i))
        .unwrap_or(c)
}

/// DBCS/JIS: half-width ASCII, space and katakana to their full-width forms (a half-width kana
/// followed by ﾞ or ﾟ becomes the one voiced character).
pub fn dbcs(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() * 3);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let u = c as u32;
        if (0x21..=0x7E).contains(&u) {
            out.push(char::from_u32(u + 0xFEE0).unwrap_or(c));
        } else if c == ' ' {
            out.push('\u{3000}');
        } else if let Some(k) = HALF_KANA.chars().position(|h| h == c) {
            let full = nth(FULL_KANA, k).unwrap_or(c);
            let mark = chars.get(i + 1).copied();
            let combined = match mark {
                Some('ﾞ') => VOICED_BASE
                    .chars()
                    .position(|b| b == full)
                    .and_then(|j| nth(VOICED, j)),
                Some('ﾟ') => SEMI_BASE
                    .chars()
                    .position(|b| b == full)
                    .and_then(|j| nth(SEMI, j)),
                _ => None,
            };
            match combined {
                Some(v) => {
                    out.push(v);
                    i += 1;
                }
                None => out.push(full),
            }
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn text_of(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Result<Arc<str>, ErrorKind> {
    ctx.text(&args[0])
}

fn fn_asc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Text(asc(&tri!(text_of(ctx, args))).into())
}

fn fn_dbcs(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Text(dbcs(&tri!(text_of(ctx, args))).into())
}

const THAI_DIGITS: [&str; 10] = [
    "ศูนย์",
    "หนึ่ง",
    "สอง",
    "สาม",
    "สี่",
    "ห้า",
    "หก",
    "เจ็ด",
    "แปด",
    "เก้า",
];
const THAI_PLACES: [&str; 6] = ["", "สิบ", "ร้อย", "พัน", "หมื่น", "แสน"];

/// Thai words for 0 < n < 1,000,000: `เอ็ด` for a final 1 after other digits, `ยี่สิบ` for 20,
/// `สิบ` (not `หนึ่งสิบ`) for 10.
fn thai_below_million(n: u64) -> String {
    let digits: Vec<u64> = n.to_string().bytes().map(|b| (b - b'0') as u64).collect();
    let len = digits.len();
    let mut out = String::new();
    for (k, &d) in digits.iter().enumerate() {
        let place = len - 1 - k;
        if d == 0 {
            continue;
        }
        let word = match (place, d) {
            (0, 1) if len > 1 => "เอ็ด",
            (1, 1) => "",
            (1, 2) => "ยี่",
            _ => THAI_DIGITS[d as usize],
        };
        out.push_str(word);
        out.push_str(THAI_PLACES[place]);
    }
    out
}

/// Thai words for a whole number, millions repeating `ล้าน`.
fn thai_number(n: u64) -> String {
    if n == 0 {
        return THAI_DIGITS[0].to_string();
    }
    let mut out = String::new();
    let high = n / 1_000_000;
    let low = n % 1_000_000;
    if high > 0 {
        out.push_str(&thai_number(high));
        out.push_str("ล้าน");
    }
    if low > 0 {
        out.push_str(&thai_below_million(low));
    }
    out
}

/// BAHTTEXT: an amount in Thai words, `บาท` for the baht and `สตางค์` for the satang (rounded to
/// two decimals), `ถ้วน` when there are no satang, `ลบ` before a negative amount.
pub fn bahttext(x: f64) -> Result<String, ErrorKind> {
    if !x.is_finite() || x.abs() >= 1e15 {
        return Err(ErrorKind::Num);
    }
    let cents = (x.abs() * 100.0).round() as u64;
    let (baht, satang) = (cents / 100, cents % 100);
    let mut out = String::new();
    if x < 0.0 && cents > 0 {
        out.push_str("ลบ");
    }
    if baht > 0 || satang == 0 {
        out.push_str(&thai_number(baht));
        out.push_str("บาท");
    }
    if satang == 0 {
        out.push_str("ถ้วน");
    } else {
        out.push_str(&thai_below_million(satang));
        out.push_str("สตางค์");
    }
    Ok(out)
}

fn fn_bahttext(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let x = tri!(ctx.number(&args[0]));
    match bahttext(x) {
        Ok(s) => Value::Text(s.into()),
        Err(e) => Value::Error(e),
    }
}

/// ENCODEURL: percent-encodes the UTF-8 bytes of everything but `A-Z a-z 0-9 - _ . ~`.
pub fn encodeurl(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn fn_encodeurl(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    Value::Text(encodeurl(&tri!(text_of(ctx, args))).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quick::eval;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn full_and_half_width_forms() {
        assert_eq!(eval("=ASC(\"ＥＸＣＥＬ　１２３\")"), t("EXCEL 123"));
        assert_eq!(eval("=ASC(\"エクセル\")"), t("ｴｸｾﾙ"));
        assert_eq!(eval("=ASC(\"ガパ\")"), t("ｶﾞﾊﾟ"));
        assert_eq!(eval("=DBCS(\"EXCEL 1\")"), t("ＥＸＣＥＬ　１"));
        assert_eq!(eval("=JIS(\"ｶﾞﾊﾟｱ\")"), t("ガパア"));
        // A round trip leaves text unchanged.
        assert_eq!(asc(&dbcs("Sum: 42 ｶﾞ")), "Sum: 42 ｶﾞ");
    }

    #[test]
    fn bahttext_reads_amounts_in_thai() {
        // BAHTTEXT's help page: 1234 is หนึ่งพันสองร้อยสามสิบสี่บาทถ้วน.
        assert_eq!(eval("=BAHTTEXT(1234)"), t("หนึ่งพันสองร้อยสามสิบสี่บาทถ้วน"));
        assert_eq!(eval("=BAHTTEXT(21)"), t("ยี่สิบเอ็ดบาทถ้วน"));
        assert_eq!(eval("=BAHTTEXT(11.5)"), t("สิบเอ็ดบาทห้าสิบสตางค์"));
        assert_eq!(eval("=BAHTTEXT(0.25)"), t("ยี่สิบห้าสตางค์"));
        assert_eq!(eval("=BAHTTEXT(0)"), t("ศูนย์บาทถ้วน"));
        assert_eq!(eval("=BAHTTEXT(2000000)"), t("สองล้านบาทถ้วน"));
        assert_eq!(eval("=BAHTTEXT(-1)"), t("ลบหนึ่งบาทถ้วน"));
    }

    #[test]
    fn encodeurl_percent_encodes() {
        // ENCODEURL's help page example.
        assert_eq!(
            eval(
                "=ENCODEURL(\"http://contoso.sharepoint.com/Finance/Profit and Loss Statement.xlsx\")"
            ),
            t(
                "http%3A%2F%2Fcontoso.sharepoint.com%2FFinance%2FProfit%20and%20Loss%20Statement.xlsx"
            )
        );
        assert_eq!(eval("=ENCODEURL(\"é\")"), t("%C3%A9"));
    }
}

//! FILTERXML(xml, xpath): the values an XPath selects in an XML text.
//!
//! A small reader of well-formed XML (elements, attributes, text, CDATA, the predefined and
//! numeric entities; declarations, comments and processing instructions skipped) and the XPath
//! location paths workbooks use: `/a/b`, `//b`, `*`, `text()`, `@attr`, and the predicates
//! `[n]`, `[last()]`, `[@attr]`, `[@attr='v']`. Anything else is `#VALUE!`, as is XML that does
//! not parse. Results that read as numbers are numbers, as in Excel; several results make a
//! column, none is `#VALUE!`.

use super::{Arg, Ctx, FnSpec, Lift};
use crate::tri;
use crate::value::{Array, Value, parse_number};
use mcsim_formula::ErrorKind;
use std::sync::Arc;

/// The functions of this module.
pub const FUNCTIONS: &[FnSpec] = &[FnSpec::new("FILTERXML", 2, 2, Lift::All, filterxml)];

/// An element: name, attributes, children (elements and text, in order).
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// The string value: all descendant text.
    fn text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            match c {
                Node::Text(t) => s.push_str(t),
                Node::Element(e) => s.push_str(&e.text()),
            }
        }
        s
    }

    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    /// Elements open at this point (nesting beyond [`MAX_DEPTH`] is refused, so that the
    /// recursive reader and selectors stay within the stack).
    depth: usize,
}

/// The deepest element nesting read.
const MAX_DEPTH: usize = 256;

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_to(&mut self, end: &str) -> Option<()> {
        let i = self.rest().find(end)?;
        self.pos += i + end.len();
        Some(())
    }

    fn skip_ws(&mut self) {
        let t = self.rest();
        self.pos += t.len() - t.trim_start().len();
    }

    fn name(&mut self) -> Option<String> {
        let t = self.rest();
        let n = t
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<'))
            .unwrap_or(t.len());
        if n == 0 {
            return None;
        }
        self.pos += n;
        Some(t[..n].to_string())
    }

    /// Skips the prolog and misc. items before or between elements.
    fn skip_misc(&mut self) -> Option<()> {
        loop {
            self.skip_ws();
            let t = self.rest();
            if t.starts_with("<?") {
                self.skip_to("?>")?;
            } else if t.starts_with("<!--") {
                self.skip_to("-->")?;
            } else if t.starts_with("<!") {
                self.skip_to(">")?;
            } else {
                return Some(());
            }
        }
    }

    fn element(&mut self) -> Option<Element> {
        if !self.rest().starts_with('<') || self.depth >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.depth += 1;
        let mut e = Element {
            name: self.name()?,
            ..Element::default()
        };
        loop {
            self.skip_ws();
            let t = self.rest();
            if t.starts_with("/>") {
                self.pos += 2;
                self.depth -= 1;
                return Some(e);
            }
            if t.starts_with('>') {
                self.pos += 1;
                break;
            }
            let key = self.name()?;
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return None;
            }
            self.pos += 1;
            self.skip_ws();
            let q = self.rest().chars().next()?;
            if q != '"' && q != '\'' {
                return None;
            }
            self.pos += 1;
            let end = self.rest().find(q)?;
            let raw = &self.rest()[..end];
            self.pos += end + 1;
            e.attrs.push((key, unescape(raw)?));
        }
        loop {
            let t = self.rest();
            if t.starts_with("</") {
                self.pos += 2;
                let n = self.name()?;
                self.skip_ws();
                if n != e.name || !self.rest().starts_with('>') {
                    return None;
                }
                self.pos += 1;
                self.depth -= 1;
                return Some(e);
            } else if t.starts_with("<![CDATA[") {
                let end = t.find("]]>")?;
                e.children.push(Node::Text(t[9..end].to_string()));
                self.pos += end + 3;
            } else if t.starts_with("<!--") {
                self.skip_to("-->")?;
            } else if t.starts_with("<?") {
                self.skip_to("?>")?;
            } else if t.starts_with('<') {
                let child = self.element()?;
                e.children.push(Node::Element(child));
            } else if t.is_empty() {
                return None;
            } else {
                let end = t.find('<').unwrap_or(t.len());
                e.children.push(Node::Text(unescape(&t[..end])?));
                self.pos += end;
            }
        }
    }
}

/// Replaces the predefined and numeric entities.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';')? + i;
        let ent = &rest[i + 1..end];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()?
                } else if let Some(d) = ent.strip_prefix('#') {
                    d.parse().ok()?
                } else {
                    return None;
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn parse_xml(s: &str) -> Option<Element> {
    let mut p = Parser {
        s,
        pos: 0,
        depth: 0,
    };
    p.skip_misc()?;
    let root = p.element()?;
    p.skip_misc()?;
    p.rest().is_empty().then_some(root)
}

/// One step of a location path.
#[derive(Debug, PartialEq)]
struct Step {
    /// `//` before the step.
    descendant: bool,
    test: Test,
    pred: Option<Pred>,
}

#[derive(Debug, PartialEq)]
enum Test {
    /// An element name, or `*`.
    Name(String),
    Text,
    Attr(String),
}

#[derive(Debug, PartialEq)]
enum Pred {
    Index(usize),
    Last,
    Has(String),
    Equals(String, String),
}

fn parse_pred(p: &str) -> Option<Pred> {
    let p = p.trim();
    if p == "last()" {
        return Some(Pred::Last);
    }
    if let Ok(n) = p.parse::<usize>() {
        return (n >= 1).then_some(Pred::Index(n));
    }
    let a = p.strip_prefix('@')?;
    match a.split_once('=') {
        None => Some(Pred::Has(a.trim().to_string())),
        Some((k, v)) => {
            let v = v.trim();
            let q = v.chars().next()?;
            let inner = v.strip_prefix(q)?.strip_suffix(q)?;
            (q == '"' || q == '\'').then(|| Pred::Equals(k.trim().to_string(), inner.to_string()))
        }
    }
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    if !path.starts_with('/') {
        return None;
    }
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let descendant = rest.starts_with("//");
        rest = rest.strip_prefix(if descendant { "//" } else { "/" })?;
        let end = rest.find('/').unwrap_or(rest.len());
        let (step, tail) = rest.split_at(end);
        rest = tail;
        let (test, pred) = match step.find('[') {
            Some(i) => (
                &step[..i],
                Some(parse_pred(step[i + 1..].strip_suffix(']')?)?),
            ),
            None => (step, None),
        };
        let test = if test == "text()" {
            Test::Text
        } else if let Some(a) = test.strip_prefix('@') {
            Test::Attr(a.to_string())
        } else if !test.is_empty()
            && test
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '*'))
        {
            Test::Name(test.to_string())
        } else {
            return None;
        };
        steps.push(Step {
            descendant,
            test,
            pred,
        });
    }
    Some(steps)
}

/// What a step selects: elements, or final strings (text nodes, attribute values).
enum Sel<'e> {
    Elements(Vec<&'e Element>),
    Strings(Vec<String>),
}

fn descendants<'e>(e: &'e Element, out: &mut Vec<&'e Element>) {
    for c in e.elements() {
        out.push(c);
        descendants(c, out);
    }
}

fn select(root: &Element, steps: &[Step]) -> Option<Vec<String>> {
    // A virtual document node whose only child is the root element.
    let doc = Element {
        children: Vec::new(),
        ..Element::default()
    };
    let mut current: Vec<&Element> = vec![&doc];
    let mut strings: Option<Vec<String>> = None;
    for (k, step) in steps.iter().enumerate() {
        if strings.is_some() {
            return None;
        }
        // The context nodes for this step: each node's children, or all its descendants too.
        let mut sel = Sel::Elements(Vec::new());
        for &node in &current {
            let kids: Vec<&Element> = if std::ptr::eq(node, &doc) {
                if step.descendant {
                    let mut v = vec![root];
                    descendants(root, &mut v);
                    v
                } else {
                    vec![root]
                }
            } else if step.descendant {
                let mut v = Vec::new();
                descendants(node, &mut v);
                v
            } else {
                node.elements().collect()
            };
            match &step.test {
                Test::Name(n) => {
                    let mut hits: Vec<&Element> = kids
                        .into_iter()
                        .filter(|e| n == "*" || &e.name == n)
                        .collect();
                    hits = apply_pred(hits, &step.pred)?;
                    if let Sel::Elements(v) = &mut sel {
                        v.extend(hits);
                    }
                }
                Test::Text | Test::Attr(_) => {
                    if k + 1 != steps.len() || step.pred.is_some() {
                        return None;
                    }
                    // text() and @a apply to the context node itself (and, after //, to its
                    // descendants).
                    let mut holders: Vec<&Element> = Vec::new();
                    if !std::ptr::eq(node, &doc) {
                        holders.push(node);
                    }
                    if step.descendant {
                        holders.extend(kids);
                    }
                    let mut out = match sel {
                        Sel::Strings(v) => v,
                        Sel::Elements(_) => Vec::new(),
                    };
                    for h in holders {
                        match &step.test {
                            Test::Text => out.extend(h.children.iter().filter_map(|c| match c {
                                Node::Text(t) => Some(t.clone()),
                                Node::Element(_) => None,
                            })),
                            Test::Attr(a) => out.extend(
                                h.attrs
                                    .iter()
                                    .filter(|(k, _)| k == a)
                                    .map(|(_, v)| v.clone()),
                            ),
                            Test::Name(_) => {}
                        }
                    }
                    sel = Sel::Strings(out);
                }
            }
        }
        match sel {
            Sel::Elements(v) => current = v,
            Sel::Strings(v) => strings = Some(v),
        }
    }
    Some(strings.unwrap_or_else(|| current.iter().map(|e| e.text()).collect()))
}

fn apply_pred<'e>(hits: Vec<&'e Element>, pred: &Option<Pred>) -> Option<Vec<&'e Element>> {
    Some(match pred {
        None => hits,
        Some(Pred::Index(n)) => hits.get(n - 1).map(|e| vec![*e]).unwrap_or_default(),
        Some(Pred::Last) => hits.last().map(|e| vec![*e]).unwrap_or_default(),
        Some(Pred::Has(a)) => hits
            .into_iter()
            .filter(|e| e.attrs.iter().any(|(k, _)| k == a))
            .collect(),
        Some(Pred::Equals(a, v)) => hits
            .into_iter()
            .filter(|e| e.attrs.iter().any(|(k, x)| k == a && x == v))
            .collect(),
    })
}

/// FILTERXML on texts: the selected values, numbers where they read as numbers.
pub fn filter_xml(xml: &str, xpath: &str) -> Result<Vec<Value>, ErrorKind> {
    let root = parse_xml(xml).ok_or(ErrorKind::Value)?;
    let steps = parse_path(xpath).ok_or(ErrorKind::Value)?;
    let found = select(&root, &steps).ok_or(ErrorKind::Value)?;
    if found.is_empty() {
        return Err(ErrorKind::Value);
    }
    Ok(found
        .into_iter()
        .map(|s| match parse_number(&s) {
            Some(n) if !s.trim().is_empty() => Value::Number(n),
            _ => Value::Text(s.into()),
        })
        .collect())
}

fn filterxml(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xml = tri!(ctx.text(&args[0]));
    let path = tri!(ctx.text(&args[1]));
    let mut vals = tri!(filter_xml(&xml, &path));
    if vals.len() == 1 {
        return vals.pop().unwrap_or(Value::Error(ErrorKind::Value));
    }
    Value::Array(Arc::new(Array::column(vals)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quick::eval;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn filterxml_selects_elements_text_and_attributes() {
        // The splitting idiom: one <s> per comma-separated item.
        let split = r#"FILTERXML("<t><s>"&SUBSTITUTE("a,b,42",",","</s><s>")&"</s></t>","//s")"#;
        assert_eq!(eval(&format!("=ROWS({split})")), Value::Number(3.0));
        assert_eq!(eval(&format!("=INDEX({split},1)")), t("a"));
        assert_eq!(eval(&format!("=INDEX({split},3)")), Value::Number(42.0));
        let xml = r#"<?xml version="1.0"?><r><!-- c --><i k="x">1</i><i k="y">two &amp; 2</i><j><i>3</i></j></r>"#;
        let f = |path: &str| filter_xml(xml, path);
        assert_eq!(f("/r/i").unwrap(), vec![Value::Number(1.0), t("two & 2")]);
        assert_eq!(f("//i").unwrap().len(), 3);
        assert_eq!(f("/r/i[2]").unwrap(), vec![t("two & 2")]);
        assert_eq!(f("/r/i[last()]").unwrap(), vec![t("two & 2")]);
        assert_eq!(f("/r/i[@k='y']").unwrap(), vec![t("two & 2")]);
        assert_eq!(f("/r/i/@k").unwrap(), vec![t("x"), t("y")]);
        assert_eq!(f("/r/j/i/text()").unwrap(), vec![Value::Number(3.0)]);
        assert_eq!(f("/r/*").unwrap().len(), 3);
        assert_eq!(f("/r/nothing"), Err(ErrorKind::Value));
        assert_eq!(f("count(//i)"), Err(ErrorKind::Value));
        assert_eq!(filter_xml("<a><b></a>", "//b"), Err(ErrorKind::Value));
        let deep = format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000));
        assert_eq!(filter_xml(&deep, "//a"), Err(ErrorKind::Value));
    }
}

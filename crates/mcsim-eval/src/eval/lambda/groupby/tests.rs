//! GROUPBY and PIVOTBY. Expected tables are worked by hand (or computed here from the data)
//! from Microsoft's documentation of the two functions and the choices stated in
//! `lambda/groupby.rs`.
#![allow(clippy::unwrap_used, clippy::panic)]
use crate::quick::workbook;
use crate::value::Array;
use crate::{Evaluator, Graph, Model, Value};
use mcsim_formula::ErrorKind;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The whole array a formula gives (evaluated as an array formula on an empty sheet).
fn eval(formula: &str) -> Value {
    let model = Model::from_workbook(&workbook(&[]));
    let e = mcsim_formula::parse(formula.trim_start_matches('=')).unwrap();
    let mut ev = Evaluator::new(&model);
    ev.eval_at(&e, 0, 0, 0, true)
}

fn n(v: f64) -> Value {
    Value::Number(v)
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn b() -> Value {
    Value::Empty
}

fn err(e: ErrorKind) -> Value {
    Value::Error(e)
}

fn table(cols: usize, data: Vec<Value>) -> Value {
    assert_eq!(data.len() % cols, 0);
    Value::Array(Arc::new(Array::new(data.len() / cols, cols, data)))
}

/// A row of two keys and a value.
type KeyRow<'a> = (&'a str, &'a str, f64);

/// A three-column table of (text, text, number) rows: two keys and a value. An empty second
/// key is a blank cell (a total or subtotal row).
fn key_pairs(rows: &[KeyRow]) -> Value {
    let key = |k: &str| if k.is_empty() { b() } else { t(k) };
    let data = rows
        .iter()
        .flat_map(|&(a, c, v)| [t(a), key(c), n(v)])
        .collect();
    table(3, data)
}

/// An array constant of one column: `{"a";"b"}` or `{1;2}`.
fn col_text(xs: &[&str]) -> String {
    let q: Vec<String> = xs.iter().map(|x| format!("\"{x}\"")).collect();
    format!("{{{}}}", q.join(";"))
}

fn col_num(xs: &[f64]) -> String {
    let q: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
    format!("{{{}}}", q.join(";"))
}

#[test]
fn sums_per_group_sorted_with_a_grand_total() {
    let keys = ["pear", "apple", "pear", "fig", "apple", "pear"];
    let vals = [3.0, 10.0, 4.5, 7.0, -2.0, 1.0];
    // The sums computed here, independently of the engine.
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for (k, v) in keys.iter().zip(vals) {
        *sums.entry(k).or_default() += v;
    }
    let mut expected = Vec::new();
    for (k, s) in &sums {
        expected.push(t(k));
        expected.push(n(*s));
    }
    expected.push(t("Total"));
    expected.push(n(vals.iter().sum()));
    let f = format!("=GROUPBY({},{},SUM)", col_text(&keys), col_num(&vals));
    assert_eq!(eval(&f), table(2, expected.clone()));
    // As the file stores it, and with the function as a LAMBDA.
    let f = format!(
        "=_xlfn.GROUPBY({},{},_xleta.SUM)",
        col_text(&keys),
        col_num(&vals)
    );
    assert_eq!(eval(&f), table(2, expected.clone()));
    let f = format!(
        "=GROUPBY({},{},LAMBDA(x,SUM(x)))",
        col_text(&keys),
        col_num(&vals)
    );
    assert_eq!(eval(&f), table(2, expected));
}

#[test]
fn named_functions_and_lambdas() {
    let k = "{\"b\";\"a\";\"b\";\"a\";\"b\"}";
    let v = "{1;2;3;4;8}";
    // a: 2, 4; b: 1, 3, 8.
    let g = |f: &str| eval(&format!("=GROUPBY({k},{v},{f},0,0)"));
    assert_eq!(g("AVERAGE"), table(2, vec![t("a"), n(3.0), t("b"), n(4.0)]));
    assert_eq!(g("COUNT"), table(2, vec![t("a"), n(2.0), t("b"), n(3.0)]));
    assert_eq!(g("MAX"), table(2, vec![t("a"), n(4.0), t("b"), n(8.0)]));
    assert_eq!(g("MIN"), table(2, vec![t("a"), n(2.0), t("b"), n(1.0)]));
    assert_eq!(
        g("PRODUCT"),
        table(2, vec![t("a"), n(8.0), t("b"), n(24.0)])
    );
    assert_eq!(g("MEDIAN"), table(2, vec![t("a"), n(3.0), t("b"), n(3.0)]));
    // {2,4}: mean 3, squared deviations 1+1 = 2; {1,3,8}: mean 4, 9+1+16 = 26.
    assert_eq!(g("VAR.S"), table(2, vec![t("a"), n(2.0), t("b"), n(13.0)]));
    assert_eq!(
        g("VAR.P"),
        table(2, vec![t("a"), n(1.0), t("b"), n(26.0 / 3.0)])
    );
    assert_eq!(
        g("STDEV.S"),
        table(2, vec![t("a"), n(2f64.sqrt()), t("b"), n(13f64.sqrt())])
    );
    assert_eq!(
        g("STDEV.P"),
        table(2, vec![t("a"), n(1.0), t("b"), n((26.0f64 / 3.0).sqrt())])
    );
    // COUNTA counts the text too; MODE.SNGL: #N/A where nothing repeats.
    assert_eq!(
        eval("=GROUPBY({1;1;2;2;2},{\"u\";5;5;5;6},COUNTA,0,0)"),
        table(2, vec![n(1.0), n(2.0), n(2.0), n(3.0)])
    );
    assert_eq!(
        eval("=GROUPBY({1;1;2;2;2},{4;5;5;5;6},MODE.SNGL,0,0)"),
        table(2, vec![n(1.0), err(ErrorKind::Na), n(2.0), n(5.0)])
    );
    assert_eq!(
        g("CONCAT"),
        table(2, vec![t("a"), t("24"), t("b"), t("138")])
    );
    assert_eq!(
        g("ARRAYTOTEXT"),
        table(2, vec![t("a"), t("2, 4"), t("b"), t("1, 3, 8")])
    );
    // PERCENTOF takes the group's values and all the values: 6/18 and 12/18.
    assert_eq!(
        g("PERCENTOF"),
        table(2, vec![t("a"), n(6.0 / 18.0), t("b"), n(12.0 / 18.0)])
    );
    // A LAMBDA of two parameters gets the same two arguments.
    assert_eq!(
        g("LAMBDA(x,all,COUNT(x)/COUNT(all))"),
        table(2, vec![t("a"), n(0.4), t("b"), n(0.6)])
    );
    // A LAMBDA that gives text; one that gives an array (#CALC! in its cell).
    assert_eq!(
        g("LAMBDA(x,IF(COUNT(x)>2,\"many\",\"few\"))"),
        table(2, vec![t("a"), t("few"), t("b"), t("many")])
    );
    assert_eq!(
        g("LAMBDA(x,x*2)"),
        table(
            2,
            vec![t("a"), err(ErrorKind::Calc), t("b"), err(ErrorKind::Calc)]
        )
    );
    // A LET variable holding the LAMBDA.
    assert_eq!(
        eval(&format!(
            "=LET(rng,LAMBDA(x,MAX(x)-MIN(x)),GROUPBY({k},{v},rng,0,0))"
        )),
        table(2, vec![t("a"), n(2.0), t("b"), n(7.0)])
    );
}

#[test]
fn several_value_columns() {
    // Two value columns aggregated side by side.
    let f = "=GROUPBY({\"x\";\"y\";\"x\"},{1,10;2,20;3,30},SUM)";
    assert_eq!(
        eval(f),
        table(
            3,
            vec![
                t("x"),
                n(4.0),
                n(40.0),
                t("y"),
                n(2.0),
                n(20.0),
                t("Total"),
                n(6.0),
                n(60.0),
            ]
        )
    );
}

#[test]
fn field_headers() {
    let k = "{\"Fruit\";\"b\";\"a\";\"b\"}";
    let v = "{\"Qty\";1;2;3}";
    // Omitted: text over a number, so the first row is a header, not shown.
    let body = vec![t("a"), n(2.0), t("b"), n(4.0), t("Total"), n(6.0)];
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM)")),
        table(2, body.clone())
    );
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,1)")),
        table(2, body.clone())
    );
    let mut shown = vec![t("Fruit"), t("Qty")];
    shown.extend(body);
    assert_eq!(eval(&format!("=GROUPBY({k},{v},SUM,3)")), table(2, shown));
    // 0: the header row is data ("Fruit" a group of its own whose SUM is 0).
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,0,0)")),
        table(2, vec![t("a"), n(2.0), t("b"), n(4.0), t("Fruit"), n(0.0)])
    );
    // 2: no headers in the data, generated ones shown.
    assert_eq!(
        eval("=GROUPBY({\"b\",1;\"a\",2},{5;6},SUM,2,0)"),
        table(
            3,
            vec![
                t("Row Field 1"),
                t("Row Field 2"),
                t("Value 1"),
                t("a"),
                n(2.0),
                n(6.0),
                t("b"),
                n(1.0),
                n(5.0),
            ]
        )
    );
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,4)")),
        err(ErrorKind::Value)
    );
}

/// Two key columns: region then product.
const K2: &str = "{\"E\",\"x\";\"E\",\"y\";\"W\",\"x\";\"E\",\"x\"}";
const V2: &str = "{1;2;4;8}";

#[test]
fn totals_and_subtotals() {
    // E/x = 1+8 = 9, E/y = 2, W/x = 4; E = 11, W = 4, all = 15.
    let g = |depth: &str| eval(&format!("=GROUPBY({K2},{V2},SUM,0,{depth})"));
    let leaves = [("E", "x", 9.0), ("E", "y", 2.0), ("W", "x", 4.0)];
    let total = ("Total", "", 15.0);
    let with_total: Vec<_> = leaves.iter().copied().chain([total]).collect();
    let total_first: Vec<_> = [total].into_iter().chain(leaves).collect();
    let cases: [(&str, &[KeyRow]); 6] = [
        ("0", &leaves),
        ("1", &with_total),
        // Omitted: the grand total only.
        ("", &with_total),
        (
            "2",
            &[
                ("E", "x", 9.0),
                ("E", "y", 2.0),
                ("E", "", 11.0),
                ("W", "x", 4.0),
                ("W", "", 4.0),
                total,
            ],
        ),
        (
            "-2",
            &[
                total,
                ("E", "", 11.0),
                ("E", "x", 9.0),
                ("E", "y", 2.0),
                ("W", "", 4.0),
                ("W", "x", 4.0),
            ],
        ),
        ("-1", &total_first),
    ];
    for (depth, rows) in cases {
        assert_eq!(g(depth), key_pairs(rows), "depth {depth:?}");
    }
}

#[test]
fn sort_order() {
    let k = "{\"b\";\"a\";\"c\";\"B\"}";
    let v = "{1;5;3;2}";
    // Keys group without case; a group shows its first key ("b").
    let g = |s: &str| eval(&format!("=GROUPBY({k},{v},SUM,0,0,{s})"));
    let asc = vec![t("a"), n(5.0), t("b"), n(3.0), t("c"), n(3.0)];
    assert_eq!(g("1"), table(2, asc.clone()));
    assert_eq!(g(""), table(2, asc));
    assert_eq!(
        g("-1"),
        table(2, vec![t("c"), n(3.0), t("b"), n(3.0), t("a"), n(5.0)])
    );
    // By the value, descending; ties keep the keys' order.
    assert_eq!(
        g("-2"),
        table(2, vec![t("a"), n(5.0), t("b"), n(3.0), t("c"), n(3.0)])
    );
    assert_eq!(
        g("2"),
        table(2, vec![t("b"), n(3.0), t("c"), n(3.0), t("a"), n(5.0)])
    );
    assert_eq!(g("0"), err(ErrorKind::Value));
    assert_eq!(g("3"), err(ErrorKind::Value));

    // Two keys (K2): each case is GROUPBY's arguments after the values, and the rows it gives.
    let by_level = [("W", "x", 4.0), ("E", "y", 2.0), ("E", "x", 9.0)];
    let cases: [(&str, &[KeyRow]); 4] = [
        // Two levels, by the value: the regions by their subtotals (W 4 < E 11), the products
        // within a region by theirs.
        ("SUM,0,0,3", &by_level),
        // Several keys: regions descending, products descending.
        ("SUM,0,0,{-1,-2}", &by_level),
        // field_relationship 1 (table): rows sorted by value across regions.
        (
            "SUM,0,0,-3,,1",
            &[("E", "x", 9.0), ("W", "x", 4.0), ("E", "y", 2.0)],
        ),
        // Hierarchy (the default): E (11) before W (4), then the products of each.
        (
            "SUM,0,0,-3",
            &[("E", "x", 9.0), ("E", "y", 2.0), ("W", "x", 4.0)],
        ),
    ];
    for (args, rows) in cases {
        assert_eq!(
            eval(&format!("=GROUPBY({K2},{V2},{args})")),
            key_pairs(rows),
            "{args}"
        );
    }
    // No subtotals in a table.
    assert_eq!(
        eval(&format!("=GROUPBY({K2},{V2},SUM,0,2,,,1)")),
        err(ErrorKind::Value)
    );
}

#[test]
fn filter_array() {
    let k = "{\"b\";\"a\";\"b\";\"a\"}";
    let v = "{1;2;4;8}";
    // Rows 1 and 4 out: a = 2, b = 4.
    assert_eq!(
        eval(&format!(
            "=GROUPBY({k},{v},SUM,0,1,,{{FALSE;TRUE;TRUE;FALSE}})"
        )),
        table(2, vec![t("a"), n(2.0), t("b"), n(4.0), t("Total"), n(6.0)])
    );
    // A condition on the values; numbers count as logicals.
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,0,0,,{v}>1)")),
        table(2, vec![t("a"), n(10.0), t("b"), n(4.0)])
    );
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,0,0,,{{0;0;1;0}})")),
        table(2, vec![t("b"), n(4.0)])
    );
    // Nothing left; a filter of the wrong length; text in it.
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,0,0,,{v}>100)")),
        err(ErrorKind::Calc)
    );
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,0,0,,{{TRUE;TRUE}})")),
        err(ErrorKind::Value)
    );
    assert_eq!(
        eval(&format!("=GROUPBY({k},{v},SUM,0,0,,{{\"x\";1;1;1}})")),
        err(ErrorKind::Value)
    );
}

#[test]
fn groupby_errors() {
    for (formula, want) in [
        // Different heights.
        ("=GROUPBY({\"a\";\"b\"},{1;2;3},SUM)", ErrorKind::Value),
        // Not a function.
        ("=GROUPBY({\"a\";\"b\"},{1;2},5)", ErrorKind::Value),
        (
            "=GROUPBY({\"a\";\"b\"},{1;2},NOSUCHFUNCTION)",
            ErrorKind::Name,
        ),
        // A LAMBDA of three parameters; a vector of functions (not supported, below).
        (
            "=GROUPBY({\"a\";\"b\"},{1;2},LAMBDA(x,y,z,1))",
            ErrorKind::Value,
        ),
        // Too few arguments.
        ("=GROUPBY({\"a\"},{1})", ErrorKind::Value),
    ] {
        assert_eq!(eval(formula), err(want), "{formula}");
    }
    assert!(matches!(
        eval("=GROUPBY({\"a\";\"b\"},{1;2},HSTACK(SUM,AVERAGE))"),
        Value::Error(_)
    ));
    // An error in the values reaches only its group's cell (and the total).
    assert_eq!(
        eval("=GROUPBY({\"a\";\"b\"},{1;#N/A},SUM)"),
        table(
            2,
            vec![
                t("a"),
                n(1.0),
                t("b"),
                err(ErrorKind::Na),
                t("Total"),
                err(ErrorKind::Na)
            ]
        )
    );
}

/// The values of the cells of `range` after evaluating the workbook, row by row.
fn values(cells: &[(&str, &str)], range: &str) -> Vec<Value> {
    let wb = workbook(cells);
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let (a, z) = range.split_once(':').unwrap();
    let (r1, c1) = mcsim_formula::parse_a1(a).unwrap();
    let (r2, c2) = mcsim_formula::parse_a1(z).unwrap();
    let mut out = Vec::new();
    for r in r1..=r2 {
        for c in c1..=c2 {
            out.push(match model.find(0, r, c) {
                Some(id) => ev.value(id).clone(),
                None => Value::Empty,
            });
        }
    }
    out
}

#[test]
fn groupby_over_ranges_with_headers() {
    let cells = [
        ("A1", "Region"),
        ("B1", "Sales"),
        ("A2", "West"),
        ("B2", "20"),
        ("A3", "East"),
        ("B3", "10"),
        ("A4", "West"),
        ("B4", "5"),
        ("D1", "{=GROUPBY(A1:A4,B1:B4,SUM,3)}@D1:E4"),
    ];
    assert_eq!(
        values(&cells, "D1:E4"),
        vec![
            t("Region"),
            t("Sales"),
            t("East"),
            n(10.0),
            t("West"),
            n(25.0),
            t("Total"),
            n(35.0),
        ]
    );
}

#[test]
fn groupby_as_a_stored_dynamic_array_read_through_its_spill_reference() {
    let cells = [
        ("A1", "West"),
        ("B1", "20"),
        ("A2", "East"),
        ("B2", "10"),
        ("A3", "West"),
        ("B3", "5"),
        // Excel stores a spilled formula with its extent, as here.
        ("D1", "{=GROUPBY(A1:A3,B1:B3,SUM)}@D1:E3"),
        ("G1", "=SUM(INDEX(_xlfn.ANCHORARRAY(D1),0,2))"),
    ];
    assert_eq!(
        values(&cells, "D1:E3"),
        vec![t("East"), n(10.0), t("West"), n(25.0), t("Total"), n(35.0)]
    );
    // East + West + Total = 70.
    assert_eq!(values(&cells, "G1:G1"), vec![n(70.0)]);
}

/// Regions, quarters and amounts for PIVOTBY.
const PR: &str = "{\"E\";\"W\";\"E\";\"W\";\"E\"}";
const PC: &str = "{\"q1\";\"q1\";\"q2\";\"q2\";\"q1\"}";
const PV: &str = "{1;2;4;8;16}";

#[test]
fn pivotby_sums_and_totals() {
    // E/q1 = 1+16 = 17, E/q2 = 4, W/q1 = 2, W/q2 = 8.
    let p = |rest: &str| eval(&format!("=PIVOTBY({PR},{PC},{PV},SUM{rest})"));
    assert_eq!(
        p(""),
        table(
            4,
            vec![
                b(),
                t("q1"),
                t("q2"),
                t("Total"),
                t("E"),
                n(17.0),
                n(4.0),
                n(21.0),
                t("W"),
                n(2.0),
                n(8.0),
                n(10.0),
                t("Total"),
                n(19.0),
                n(12.0),
                n(31.0),
            ]
        )
    );
    // No totals; the column total first; columns by their totals descending... ascending.
    assert_eq!(
        p(",0,0,,0"),
        table(
            3,
            vec![
                b(),
                t("q1"),
                t("q2"),
                t("E"),
                n(17.0),
                n(4.0),
                t("W"),
                n(2.0),
                n(8.0)
            ]
        )
    );
    assert_eq!(
        p(",0,0,,-1"),
        table(
            4,
            vec![
                b(),
                t("Total"),
                t("q1"),
                t("q2"),
                t("E"),
                n(21.0),
                n(17.0),
                n(4.0),
                t("W"),
                n(10.0),
                n(2.0),
                n(8.0),
            ]
        )
    );
    assert_eq!(
        p(",0,0,,0,2"),
        table(
            3,
            vec![
                b(),
                t("q2"),
                t("q1"),
                t("E"),
                n(4.0),
                n(17.0),
                t("W"),
                n(8.0),
                n(2.0)
            ]
        )
    );
    // Rows descending by key.
    assert_eq!(
        p(",0,0,-1,0"),
        table(
            3,
            vec![
                b(),
                t("q1"),
                t("q2"),
                t("W"),
                n(2.0),
                n(8.0),
                t("E"),
                n(17.0),
                n(4.0)
            ]
        )
    );
    // A filter: the rows of W only.
    assert_eq!(
        p(",0,0,,0,,{FALSE;TRUE;FALSE;TRUE;FALSE}"),
        table(3, vec![b(), t("q1"), t("q2"), t("W"), n(2.0), n(8.0)])
    );
}

#[test]
fn pivotby_blank_intersections_and_lambdas() {
    // N has only q3: its other cells are blank, and E, W have nothing in q3.
    let r = "{\"E\";\"W\";\"N\"}";
    let c = "{\"q1\";\"q1\";\"q3\"}";
    let v = "{1;2;4}";
    assert_eq!(
        eval(&format!("=PIVOTBY({r},{c},{v},COUNT,0,0,,0)")),
        table(
            3,
            vec![
                b(),
                t("q1"),
                t("q3"),
                t("E"),
                n(1.0),
                b(),
                t("N"),
                b(),
                n(1.0),
                t("W"),
                n(1.0),
                b(),
            ]
        )
    );
    assert_eq!(
        eval(&format!("=PIVOTBY({r},{c},{v},LAMBDA(x,MAX(x)*10),0,0,,0)")),
        table(
            3,
            vec![
                b(),
                t("q1"),
                t("q3"),
                t("E"),
                n(10.0),
                b(),
                t("N"),
                b(),
                n(40.0),
                t("W"),
                n(20.0),
                b(),
            ]
        )
    );
}

#[test]
fn pivotby_relative_to() {
    // PERCENTOF of each cell against: 0 its column (q1 19, q2 12, Total 31), 1 its row (E 21,
    // W 10), 2 everything (31).
    let p = |rel: &str| {
        eval(&format!(
            "=PIVOTBY({PR},{PC},{PV},PERCENTOF,0,0,,1,,,{rel})"
        ))
    };
    let grid = |d: [[f64; 3]; 2]| {
        let mut out = vec![b(), t("q1"), t("q2"), t("Total")];
        for (k, row) in ["E", "W"].iter().zip(d) {
            out.push(t(k));
            out.extend(row.map(n));
        }
        table(4, out)
    };
    assert_eq!(
        p("0"),
        grid([
            [17.0 / 19.0, 4.0 / 12.0, 21.0 / 31.0],
            [2.0 / 19.0, 8.0 / 12.0, 10.0 / 31.0]
        ])
    );
    assert_eq!(p(""), p("0"));
    assert_eq!(
        p("1"),
        grid([
            [17.0 / 21.0, 4.0 / 21.0, 1.0],
            [2.0 / 10.0, 8.0 / 10.0, 1.0]
        ])
    );
    assert_eq!(
        p("2"),
        grid([
            [17.0 / 31.0, 4.0 / 31.0, 21.0 / 31.0],
            [2.0 / 31.0, 8.0 / 31.0, 10.0 / 31.0]
        ])
    );
    assert_eq!(p("5"), err(ErrorKind::Value));

    // 4: against the parent row group in the same column. Rows E/a 1, E/b 3, W/a 4, one
    // column: E/a 1/4, E/b 3/4, the E subtotal 4/8, W/a 4/4, W 4/8, the total 8/8.
    let f = "=PIVOTBY({\"E\",\"a\";\"E\",\"b\";\"W\",\"a\"},{\"x\";\"x\";\"x\"},{1;3;4},PERCENTOF,0,2,,0,,,4)";
    assert_eq!(
        eval(f),
        table(
            3,
            vec![
                b(),
                b(),
                t("x"),
                t("E"),
                t("a"),
                n(0.25),
                t("E"),
                t("b"),
                n(0.75),
                t("E"),
                b(),
                n(0.5),
                t("W"),
                t("a"),
                n(1.0),
                t("W"),
                b(),
                n(0.5),
                t("Total"),
                b(),
                n(1.0),
            ]
        )
    );
}

#[test]
fn pivotby_errors() {
    for (args, want) in [
        // Several value columns and shown headers are not supported.
        (
            format!("{PR},{PC},{{1,2;1,2;1,2;1,2;1,2}},SUM"),
            ErrorKind::Value,
        ),
        (format!("{PR},{PC},{PV},SUM,3"), ErrorKind::Value),
        (format!(",{PC},{PV},SUM"), ErrorKind::Value),
        (format!("{PR},{{\"a\";\"b\"}},{PV},SUM"), ErrorKind::Value),
        (
            format!("{PR},{PC},{PV},SUM,0,1,,1,,{PV}>99"),
            ErrorKind::Calc,
        ),
    ] {
        assert_eq!(eval(&format!("=PIVOTBY({args})")), err(want), "{args}");
    }
}

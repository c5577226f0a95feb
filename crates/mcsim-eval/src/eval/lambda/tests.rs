//! LAMBDA and the functions that take one. Expected values follow Excel's documentation of
//! LAMBDA, LET, ISOMITTED, MAP, REDUCE, SCAN, MAKEARRAY, BYROW and BYCOL (its examples where it
//! gives them).
#![allow(clippy::unwrap_used, clippy::panic)]
use crate::quick::{eval, eval_cells, eval_workbook, workbook};
use crate::{Evaluator, Graph, Model, Value};
use mcsim_formula::ErrorKind;
use mcsim_workbook::{DefinedName, Workbook};

fn n(v: f64) -> Value {
    Value::Number(v)
}

fn err(e: ErrorKind) -> Value {
    Value::Error(e)
}

fn named(cells: &[(&str, &str)], names: &[(&str, &str)]) -> Workbook {
    let mut wb = workbook(cells);
    for (name, formula) in names {
        wb.names.push(DefinedName {
            name: name.to_string(),
            scope: None,
            formula: formula.to_string(),
            hidden: false,
        });
    }
    wb
}

/// The values of the cells of `range` (`"A1:C2"`) after evaluating the workbook, row by row.
fn values(wb: &Workbook, range: &str) -> Vec<Value> {
    let model = Model::from_workbook(wb);
    let graph = Graph::build(&model);
    let mut ev = Evaluator::new(&model);
    ev.run(&graph.order);
    let (a, b) = range.split_once(':').unwrap_or((range, range));
    let (r1, c1) = mcsim_formula::parse_a1(a).unwrap();
    let (r2, c2) = mcsim_formula::parse_a1(b).unwrap();
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
fn a_lambda_called_where_it_is_written() {
    assert_eq!(eval("=LAMBDA(x,x+1)(5)"), n(6.0));
    // Excel's LAMBDA example: the hypotenuse.
    assert_eq!(eval("=LAMBDA(x,y,SQRT(x*x+y*y))(3,4)"), n(5.0));
    // As the file stores it.
    assert_eq!(
        eval("=_xlfn.LAMBDA(_xlpm.x, _xlpm.y, _xlpm.x*_xlpm.y)(6, 7)"),
        n(42.0)
    );
    // A LAMBDA that returns a LAMBDA, called twice.
    assert_eq!(eval("=LAMBDA(x,LAMBDA(y,x-y))(10)(3)"), n(7.0));
    // No parameters.
    assert_eq!(eval("=LAMBDA(42)()"), n(42.0));
    // A reference argument stays a reference.
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("A3", "3"),
        ("B1", "=LAMBDA(r,ROWS(r)*SUM(r))(A1:A3)"),
    ];
    assert_eq!(eval_cells(&cells, "B1"), n(18.0));
}

#[test]
fn lambda_errors_are_excels() {
    // Left uncalled in a cell.
    assert_eq!(eval("=LAMBDA(x,x+1)"), err(ErrorKind::Calc));
    assert_eq!(eval("=LET(f,LAMBDA(x,x),f)"), err(ErrorKind::Calc));
    // Wrong number of arguments.
    assert_eq!(eval("=LAMBDA(x,y,x+y)(1)"), err(ErrorKind::Value));
    assert_eq!(eval("=LAMBDA(x,x)(1,2)"), err(ErrorKind::Value));
    // A parameter that is not a name, the same name twice, no body.
    assert_eq!(eval("=LAMBDA(1,2)(3)"), err(ErrorKind::Value));
    assert_eq!(eval("=LAMBDA(x,x,x)(1,2)"), err(ErrorKind::Value));
    assert_eq!(eval("=LAMBDA()()"), err(ErrorKind::Value));
    // Errors in arguments flow through.
    assert_eq!(eval("=LAMBDA(x,x+1)(1/0)"), err(ErrorKind::Div0));
    // Calling what is not a LAMBDA.
    assert_eq!(eval("=LET(x,5,x(1))"), err(ErrorKind::Value));
}

#[test]
fn let_binds_lambdas_with_lexical_scope() {
    // Excel's LAMBDA example through LET.
    assert_eq!(eval("=LET(area,LAMBDA(x,y,x*y),area(3,4))"), n(12.0));
    assert_eq!(
        eval(
            "=_xlfn.LET(_xlpm.area, _xlfn.LAMBDA(_xlpm.x,_xlpm.y,_xlpm.x*_xlpm.y), _xlpm.area(5,6))"
        ),
        n(30.0)
    );
    // The LAMBDA sees `k` where it was written, not where it is called.
    assert_eq!(eval("=LET(k,10,f,LAMBDA(x,x+k),LET(k,100,f(1)))"), n(11.0));
    // A parameter shadows a LET variable of the same name.
    assert_eq!(eval("=LET(x,1,f,LAMBDA(x,x*2),f(5)+x)"), n(11.0));
    // LET whose value is a LAMBDA, called at once.
    assert_eq!(eval("=LET(f,LAMBDA(x,x*3),f)(4)"), n(12.0));
    // A LAMBDA chosen by IF or CHOOSE.
    assert_eq!(
        eval("=LET(f,IF(1>2,LAMBDA(x,x-1),LAMBDA(x,x+1)),f(10))"),
        n(11.0)
    );
    assert_eq!(eval("=CHOOSE(2,LAMBDA(x,x),LAMBDA(x,x*2))(5)"), n(10.0));
    assert_eq!(eval("=LAMBDA(x,IF(x>0,,1))(1)"), n(0.0));
    assert_eq!(
        eval("=LAMBDA(x,CHOOSE(x,\"a\",\"b\"))(3)"),
        err(ErrorKind::Value)
    );
    // A LAMBDA passed as an argument.
    assert_eq!(
        eval("=LET(twice,LAMBDA(g,x,g(g(x))),twice(LAMBDA(y,y*y),3))"),
        n(81.0)
    );
}

#[test]
fn defined_names_bound_to_lambdas_are_functions() {
    let wb = named(
        &[
            ("A1", "212"),
            ("B1", "=Temperature(A1)"),
            ("B2", "=CountWords(\" the quick  brown fox \")"),
            ("B3", "=FACT_REC(5)"),
            ("B4", "=FIB(10)"),
            ("B5", "=MAP({1,2,3},Temperature)"),
        ],
        &[
            // Excel's examples of named LAMBDAs (Celsius from Fahrenheit, a word count).
            (
                "Temperature",
                "_xlfn.LAMBDA(_xlpm.temp, (5/9) * (_xlpm.temp-32))",
            ),
            (
                "CountWords",
                "_xlfn.LAMBDA(_xlpm.text, LEN(TRIM(_xlpm.text)) - LEN(SUBSTITUTE(TRIM(_xlpm.text), \" \", \"\")) + 1)",
            ),
            // Recursion through the name.
            ("FACT_REC", "LAMBDA(n,IF(n<=1,1,n*FACT_REC(n-1)))"),
            ("FIB", "LAMBDA(n,IF(n<2,n,FIB(n-1)+FIB(n-2)))"),
        ],
    );
    assert_eq!(eval_workbook(&wb, "B1"), n(100.0));
    assert_eq!(eval_workbook(&wb, "B2"), n(4.0));
    assert_eq!(eval_workbook(&wb, "B3"), n(120.0));
    assert_eq!(eval_workbook(&wb, "B4"), n(55.0));
    // A name given where a LAMBDA is expected (the first element of the spill).
    assert_eq!(eval_workbook(&wb, "B5"), n((1.0 - 32.0) * 5.0 / 9.0));
    // Not a LAMBDA name: still #NAME?.
    assert_eq!(eval_workbook(&wb, "C1"), Value::Empty);
    assert_eq!(eval("=NOSUCHNAME(1)"), err(ErrorKind::Name));
}

#[test]
fn a_lambda_name_reads_cells_in_dependency_order() {
    // cal_year is a cell computed by a formula; the name's body reads it through another name.
    let wb = named(
        &[
            ("B1", "{=DAYS_IN(2)}"),
            ("B2", "=DAYS_IN(3)"),
            ("Z9", "=2000+24"),
        ],
        &[
            ("cal_year", "Sheet1!$Z$9"),
            (
                "DAYS_IN",
                "_xlfn.LAMBDA(_xlpm.m,DAY(DATE(cal_year,_xlpm.m+1,0)))",
            ),
        ],
    );
    assert_eq!(eval_workbook(&wb, "B1"), n(29.0));
    assert_eq!(eval_workbook(&wb, "B2"), n(31.0));
    // The graph sees the cell the LAMBDA reads.
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let z9 = model.find(0, 8, 25).unwrap();
    let b2 = model.find(0, 1, 1).unwrap();
    let pos = |c| graph.order.iter().position(|&x| x == c).unwrap();
    assert!(pos(z9) < pos(b2));
}

#[test]
fn a_lambda_name_without_parameters_spills() {
    // The `week` name of Excel's yearly calendar template: day initials from Monday.
    let wb = named(
        &[("A1", "{=week()}@A1:G1")],
        &[(
            "week",
            "_xlfn.LAMBDA(LEFT(TEXT(2+_xlfn.SEQUENCE(1,7,0),\"ddd\")))",
        )],
    );
    let got = values(&wb, "A1:G1");
    let want: Vec<Value> = ["M", "T", "W", "T", "F", "S", "S"]
        .iter()
        .map(|s| Value::from(*s))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn runaway_recursion_is_num() {
    // The depth limit must stop runaway recursion before the stack does: 2 MiB is the stack of
    // a spawned thread (a test's, a worker's), and this is a debug build.
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let wb = named(
                &[("A1", "=LOOP(1)"), ("A2", "=COUNTDOWN(100)")],
                &[
                    ("LOOP", "LAMBDA(n,LOOP(n+1))"),
                    ("COUNTDOWN", "LAMBDA(n,IF(n=0,\"done\",COUNTDOWN(n-1)))"),
                ],
            );
            (eval_workbook(&wb, "A1"), eval_workbook(&wb, "A2"))
        })
        .unwrap();
    let (a1, a2) = h.join().unwrap();
    assert_eq!(a1, err(ErrorKind::Num));
    // 100 levels are well within the limit.
    assert_eq!(a2, Value::from("done"));
}

#[test]
fn omitted_parameters_and_isomitted() {
    // Excel's ISOMITTED example.
    let f = "LAMBDA(x,y,IF(ISOMITTED(y),\"Missing second argument\",x+y))";
    assert_eq!(
        eval(&format!("={f}(1,)")),
        Value::from("Missing second argument")
    );
    assert_eq!(eval(&format!("={f}(1,2)")), n(3.0));
    // An optional parameter (`[b]`, stored `_xlop.b`) may be left out altogether.
    let g = "_xlfn.LAMBDA(_xlpm.a,_xlop.b,IF(_xlfn.ISOMITTED(_xlpm.b),_xlpm.a/2,_xlpm.a*_xlpm.b))";
    assert_eq!(eval(&format!("={g}(12)")), n(6.0));
    assert_eq!(eval(&format!("={g}(12,3)")), n(36.0));
    assert_eq!(eval(&format!("={g}(12,3,4)")), err(ErrorKind::Value));
    // An omitted parameter reads as empty: 0 in arithmetic.
    assert_eq!(eval("=LAMBDA(x,y,x+y)(1,)"), n(1.0));
    // Outside a LAMBDA, a variable is never omitted.
    assert_eq!(eval("=LET(x,1,ISOMITTED(x))"), Value::Bool(false));
}

#[test]
fn map_reduce_scan() {
    let cells = [
        ("A1", "1"),
        ("B1", "2"),
        ("C1", "3"),
        ("A2", "4"),
        ("B2", "5"),
        ("C2", "6"),
        ("A5", "10"),
        ("B5", "20"),
        ("C5", "30"),
        ("A6", "40"),
        ("B6", "50"),
        ("C6", "60"),
        ("E1", "{=MAP(A1:C2,LAMBDA(a,IF(a>4,a*a,a)))}@E1:G2"),
        ("E3", "{=MAP(A1:C2,A5:C6,LAMBDA(x,y,x*y))}@E3:G4"),
        ("I1", "=REDUCE(,A1:C2,LAMBDA(a,b,IF(b>4,a+b^2,a)))"),
        ("I2", "=REDUCE(1,A1:C2,LAMBDA(acc,v,acc*v))"),
        ("E7", "{=SCAN(1,A1:C2,LAMBDA(x,y,x+8*y))}@E7:G8"),
        (
            "E9",
            "{=SCAN(\"\",{\"a\",\"b\",\"c\"},LAMBDA(t,c,t&c))}@E9:G9",
        ),
    ];
    let wb = workbook(&cells);
    // Excel's MAP example: squares of the values above 4 (4 itself is kept).
    assert_eq!(
        values(&wb, "E1:G2"),
        [1.0, 2.0, 3.0, 4.0, 25.0, 36.0].map(n).to_vec()
    );
    assert_eq!(
        values(&wb, "E3:G4"),
        [10.0, 40.0, 90.0, 160.0, 250.0, 360.0].map(n).to_vec()
    );
    // Excel's REDUCE example: the sum of the squares of the values above 4 (initial omitted).
    assert_eq!(values(&wb, "I1:I2"), vec![n(25.0 + 36.0), n(720.0)]);
    // Running values, row by row: 1+8, 9+16, 25+24, 49+32, ...
    assert_eq!(
        values(&wb, "E7:G8"),
        [9.0, 25.0, 49.0, 81.0, 121.0, 169.0].map(n).to_vec()
    );
    assert_eq!(
        values(&wb, "E9:G9"),
        vec![Value::from("a"), Value::from("ab"), Value::from("abc")]
    );
    // The LAMBDA must take as many parameters as there are arrays.
    assert_eq!(eval("=MAP({1,2},LAMBDA(x,y,x))"), err(ErrorKind::Value));
    assert_eq!(eval("=REDUCE(0,{1,2},LAMBDA(x,x))"), err(ErrorKind::Value));
    assert_eq!(eval("=MAP({1,2},5)"), err(ErrorKind::Value));
    // An element that is an array is #CALC! (no nested arrays).
    assert_eq!(eval("=MAP({1,2},LAMBDA(x,{1,2}*x))"), err(ErrorKind::Calc));
    // REDUCE may end on an array.
    assert_eq!(eval("=SUM(REDUCE({0,0},{1,2,3},LAMBDA(a,v,a+v)))"), n(12.0));
}

#[test]
fn makearray_byrow_bycol() {
    let cells = [
        ("A1", "1"),
        ("B1", "7"),
        ("C1", "3"),
        ("A2", "4"),
        ("B2", "2"),
        ("C2", "9"),
        ("E1", "{=MAKEARRAY(3,3,LAMBDA(r,c,r*c))}@E1:G3"),
        ("E5", "{=MAKEARRAY(2,3,LAMBDA(r,c,(r-1)*3+c))}@E5:G6"),
        ("I1", "{=BYROW(A1:C2,LAMBDA(x,MAX(x)))}@I1:I2"),
        ("E8", "{=BYCOL(A1:C2,LAMBDA(x,SUM(x)))}@E8:G8"),
        (
            "E9",
            "{=BYROW(A1:C2,LAMBDA(x,COLUMNS(x)*10+ROWS(x)))}@E9:E10",
        ),
    ];
    let wb = workbook(&cells);
    assert_eq!(
        values(&wb, "E1:G3"),
        [1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 3.0, 6.0, 9.0]
            .map(n)
            .to_vec()
    );
    assert_eq!(
        values(&wb, "E5:G6"),
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0].map(n).to_vec()
    );
    assert_eq!(values(&wb, "I1:I2"), vec![n(7.0), n(9.0)]);
    assert_eq!(values(&wb, "E8:G8"), vec![n(5.0), n(9.0), n(12.0)]);
    // Each row is passed as a 1 x 3 array.
    assert_eq!(values(&wb, "E9:E10"), vec![n(31.0), n(31.0)]);
    assert_eq!(eval("=MAKEARRAY(0,2,LAMBDA(r,c,r))"), err(ErrorKind::Value));
    assert_eq!(eval("=MAKEARRAY(2,2,LAMBDA(r,r))"), err(ErrorKind::Value));
    assert_eq!(eval("=ROWS(MAKEARRAY(4,2,LAMBDA(r,c,r)))"), n(4.0));
    // A function by name (an "eta" LAMBDA), as typed and as stored.
    assert_eq!(eval("=INDEX(BYROW({1,2;3,4},SUM),2,1)"), n(7.0));
    assert_eq!(eval("=REDUCE(0,{1,5,3},_xleta.MAX)"), n(5.0));
    assert_eq!(eval("=SUM(MAP({1,-2},ABS))"), n(3.0));
    assert_eq!(eval("=MAP({1,2},NOSUCHFUNCTION)"), err(ErrorKind::Name));
    // A row that gives an array is #CALC!.
    assert_eq!(
        eval("=BYROW({1,2;3,4},LAMBDA(r,r*2))"),
        err(ErrorKind::Calc)
    );
}

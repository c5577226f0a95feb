#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;

fn p(s: &str) -> Expr {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Fully parenthesised S-expression form, to check precedence.
fn sx(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Binary { op, lhs, rhs } => format!("({} {} {})", op.as_str(), sx(lhs), sx(rhs)),
        ExprKind::Unary { op, expr } => format!("({:?} {})", op, sx(expr)),
        ExprKind::Postfix { expr, .. } => format!("(% {})", sx(expr)),
        ExprKind::Paren(e) => sx(e),
        ExprKind::Call { name, args } => {
            let a: Vec<String> = args.iter().map(sx).collect();
            format!("{name}[{}]", a.join(" "))
        }
        _ => e.to_string(),
    }
}

#[test]
fn precedence_matches_excel() {
    assert_eq!(sx(&p("=-2^2")), "(^ (Neg 2) 2)");
    assert_eq!(sx(&p("1+2*3")), "(+ 1 (* 2 3))");
    assert_eq!(sx(&p("1-2-3")), "(- (- 1 2) 3)");
    assert_eq!(sx(&p("2^3^2")), "(^ (^ 2 3) 2)");
    assert_eq!(sx(&p("1&2+3")), "(& 1 (+ 2 3))");
    assert_eq!(sx(&p("1+2=3&\"\"")), "(= (+ 1 2) (& 3 \"\"))");
    assert_eq!(sx(&p("50%*2")), "(* (% 50) 2)");
    assert_eq!(sx(&p("-A1%")), "(% (Neg A1))");
    assert_eq!(sx(&p("A1<>B1")), "(<> A1 B1)");
    assert_eq!(sx(&p(" 1 + 2 ")), "(+ 1 2)");
}

#[test]
fn literals() {
    assert_eq!(p("\"a\"\"b\"").kind, ExprKind::Text("a\"b".into()));
    assert_eq!(p("1.5E+3").kind, ExprKind::Number(1500.0));
    assert_eq!(p(".5").kind, ExprKind::Number(0.5));
    assert_eq!(p("true").kind, ExprKind::Bool(true));
    assert_eq!(p("#DIV/0!").kind, ExprKind::Error(ErrorKind::Div0));
    assert_eq!(p("#n/a").kind, ExprKind::Error(ErrorKind::Na));
    assert_eq!(p("{1,2;3,-4}").to_string(), "{1,2;3,-4}");
    assert_eq!(p("{\"a\",TRUE,#N/A}").to_string(), "{\"a\",TRUE,#N/A}");
}

#[test]
fn references() {
    let e = p("'My ''Q'' Sheet'!$A$1:B$7");
    let ExprKind::Ref(r) = &e.kind else { panic!() };
    assert_eq!(r.sheet.as_deref(), Some("My 'Q' Sheet"));
    assert_eq!(
        r.bounds(),
        Bounds {
            r1: 0,
            c1: 0,
            r2: 6,
            c2: 1
        }
    );
    assert_eq!(e.to_string(), "'My ''Q'' Sheet'!$A$1:B$7");
    assert!(matches!(
        p("A:A").kind,
        ExprKind::Ref(Reference {
            kind: RefKind::Cols(..),
            ..
        })
    ));
    assert_eq!(p("Sheet2!$C:$D").to_string(), "Sheet2!$C:$D");
    assert_eq!(p("3:5").to_string(), "3:5");
    assert_eq!(p("Data!$1:$1").to_string(), "Data!$1:$1");
    assert_eq!(p("SUM(A:A)").to_string(), "SUM(A:A)");
    assert!(matches!(p("Rate").kind, ExprKind::Name { .. }));
    assert!(matches!(
        p("Sheet1!Rate").kind,
        ExprKind::Name { sheet: Some(_), .. }
    ));
    // XFD1 is the last column; XFE1 is a name.
    assert!(matches!(p("XFD1").kind, ExprKind::Ref(_)));
    assert!(matches!(p("XFE1").kind, ExprKind::Name { .. }));
    assert!(matches!(
        p("Sheet1!#REF!").kind,
        ExprKind::Error(ErrorKind::Ref)
    ));
}

#[test]
fn reference_operators() {
    assert_eq!(sx(&p("A1:B2 B1:C3")), "(  A1:B2 B1:C3)");
    assert_eq!(sx(&p("SUM((A1,B2))")), "SUM[(, A1 B2)]");
    assert_eq!(sx(&p("SUM(A1,B2)")), "SUM[A1 B2]");
    assert_eq!(sx(&p("A1:INDEX(B:B,3)")), "(: A1 INDEX[B:B 3])");
    assert_eq!(sx(&p("SUM(A1 : A3)")), "SUM[A1:A3]");
}

#[test]
fn functions() {
    let e = p("_xlfn.NORM.INV(RAND(),_xlfn.XLOOKUP(1,A1:A3,B1:B3),)");
    let ExprKind::Call { name, args } = &e.kind else {
        panic!()
    };
    assert_eq!(name, "NORM.INV");
    assert_eq!(args.len(), 3);
    assert_eq!(args[2].kind, ExprKind::Missing);
    assert_eq!(e.functions(), vec!["NORM.INV", "RAND", "XLOOKUP"]);
    assert_eq!(p("if(,1)").to_string(), "IF(,1)");
    assert_eq!(p("@A1:A3").to_string(), "SINGLE(A1:A3)");
}

#[test]
fn spans_point_into_the_text() {
    let e = p("=1+SUM(A1)");
    let ExprKind::Binary { rhs, .. } = &e.kind else {
        panic!()
    };
    assert_eq!((rhs.span.start, rhs.span.end), (3, 10));
}

#[test]
fn errors_carry_positions() {
    for (src, at) in [
        ("=1+", 3),
        ("SUM(1,2", 0),
        ("\"abc", 0),
        ("1+)", 2),
        ("{1,2;3}", 0),
        ("A1 1", 3),
        ("[1]Sheet1!A1", 0),
        ("1 ~ 2", 2),
    ] {
        let err = parse(src).expect_err(src);
        assert_eq!(err.span.start, at, "{src}: {err}");
    }
}

#[test]
fn shared_formula_shift() {
    let mut e = p("A1+$B1+C$1+$D$1+SUM(A:A)+Sheet2!E5");
    e.shift_relative(2, 3);
    assert_eq!(e.to_string(), "D3+$B3+F$1+$D$1+SUM(D:D)+Sheet2!H7");
    let mut e = p("LOG10(A2)");
    e.shift_relative(-1, 0);
    assert_eq!(e.to_string(), "LOG10(A1)");
    let mut e = p("A1");
    e.shift_relative(-1, 0);
    assert_eq!(e.kind, ExprKind::Error(ErrorKind::Ref));
}

#[test]
fn lambda_calls_and_parameters() {
    // A call of a call: `LAMBDA(..)(args)`, and twice.
    let e = p("_xlfn.LAMBDA(_xlpm.x, _xlpm.x+1)(5)");
    let ExprKind::Invoke { callee, args } = &e.kind else {
        panic!("{e:?}")
    };
    assert!(matches!(&callee.kind, ExprKind::Call { name, .. } if name == "LAMBDA"));
    assert_eq!(args.len(), 1);
    assert_eq!(e.to_string(), "LAMBDA(x,x+1)(5)");
    assert_eq!(p("f(1)(2)(3)").to_string(), "F(1)(2)(3)");
    // An omitted argument, and the functions inside the callee are still listed.
    let e = p("LAMBDA(x,y,SUM(x,y))(1,)");
    assert_eq!(e.functions(), vec!["LAMBDA", "SUM"]);
    let ExprKind::Invoke { args, .. } = &e.kind else {
        panic!()
    };
    assert!(matches!(args[1].kind, ExprKind::Missing));
    // `_xlpm.f(2)` calls the variable `f`; an optional parameter keeps its `_xlop.` mark.
    assert!(matches!(&p("_xlpm.area(2,3)").kind, ExprKind::Call { name, .. } if name == "AREA"));
    let e = p("LAMBDA(_xlpm.a,_xlop.b,_xlpm.b)");
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    assert!(matches!(&args[1].kind, ExprKind::Name { name, .. } if name == "_xlop.b"));
    assert!(matches!(&args[2].kind, ExprKind::Name { name, .. } if name == "b"));
}

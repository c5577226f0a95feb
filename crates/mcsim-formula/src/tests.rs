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

/// The structured reference a formula parses to (it must be the whole formula).
fn sref(s: &str) -> StructuredRef {
    match p(s).kind {
        ExprKind::Structured(r) => r,
        other => panic!("{s}: {other:?}"),
    }
}

fn cols(a: &str, b: &str) -> Option<(String, String)> {
    Some((a.to_string(), b.to_string()))
}

#[test]
fn structured_reference_forms() {
    let t = Some("Table1".to_string());
    type Case = (
        &'static str,
        Option<String>,
        TableRows,
        Option<(String, String)>,
    );
    let cases: Vec<Case> = vec![
        (
            "Table1[Qty]",
            t.clone(),
            TableRows::Data,
            cols("Qty", "Qty"),
        ),
        (
            "Table1[Unit Cost]",
            t.clone(),
            TableRows::Data,
            cols("Unit Cost", "Unit Cost"),
        ),
        (
            "Table1[@Qty]",
            t.clone(),
            TableRows::ThisRow,
            cols("Qty", "Qty"),
        ),
        (
            "Table1[@[Unit Cost]]",
            t.clone(),
            TableRows::ThisRow,
            cols("Unit Cost", "Unit Cost"),
        ),
        (
            "Table1[@[Jan]:[Mar]]",
            t.clone(),
            TableRows::ThisRow,
            cols("Jan", "Mar"),
        ),
        ("Table1[@]", t.clone(), TableRows::ThisRow, None),
        ("[@Qty]", None, TableRows::ThisRow, cols("Qty", "Qty")),
        ("[Qty]", None, TableRows::Data, cols("Qty", "Qty")),
        ("[#This Row]", None, TableRows::ThisRow, None),
        ("Table1[#All]", t.clone(), TableRows::All, None),
        ("[#Data]", None, TableRows::Data, None),
        ("[#Headers]", None, TableRows::Headers, None),
        ("[#Totals]", None, TableRows::Totals, None),
        ("Table1[]", t.clone(), TableRows::Data, None),
        (
            "table1[#this row]",
            Some("table1".into()),
            TableRows::ThisRow,
            None,
        ),
        (
            "Table1[[#This Row],[Jan]]",
            t.clone(),
            TableRows::ThisRow,
            cols("Jan", "Jan"),
        ),
        (
            "Table1[[#Data],[A]:[C]]",
            t.clone(),
            TableRows::Data,
            cols("A", "C"),
        ),
        (
            "Table1[[#Headers],[#Data],[A]]",
            t.clone(),
            TableRows::HeadersData,
            cols("A", "A"),
        ),
        (
            "Table1[[#Data],[#Totals],[A]]",
            t.clone(),
            TableRows::DataTotals,
            cols("A", "A"),
        ),
        (
            "Table1[[#Totals], [Year]]",
            t.clone(),
            TableRows::Totals,
            cols("Year", "Year"),
        ),
        (
            "Table1[[#All],[Units]]",
            t.clone(),
            TableRows::All,
            cols("Units", "Units"),
        ),
        (
            "Table1[[the two ]]",
            t.clone(),
            TableRows::Data,
            cols("the two ", "the two "),
        ),
        // Escapes: `'[`, `']`, `'#`, `''`.
        (
            "T9['[Not me']]",
            Some("T9".into()),
            TableRows::Data,
            cols("[Not me]", "[Not me]"),
        ),
        (
            "T9['#Shame]",
            Some("T9".into()),
            TableRows::Data,
            cols("#Shame", "#Shame"),
        ),
        (
            "T9[Hi, ''This]",
            Some("T9".into()),
            TableRows::Data,
            cols("Hi, 'This", "Hi, 'This"),
        ),
        (
            "T9[[#This Row],[Hi, ''This]:['[Not me']]]",
            Some("T9".into()),
            TableRows::ThisRow,
            cols("Hi, 'This", "[Not me]"),
        ),
        (
            "T9[Totals '[']^&*@'#$,,<>]",
            Some("T9".into()),
            TableRows::Data,
            cols("Totals []^&*@#$,,<>", "Totals []^&*@#$,,<>"),
        ),
    ];
    for (text, table, rows, columns) in cases {
        let r = sref(text);
        assert_eq!(
            r,
            StructuredRef {
                table,
                rows,
                columns
            },
            "{text}"
        );
        // Writing the reference back gives text that parses to the same reference.
        assert_eq!(sref(&r.to_string()), r, "{text} -> {r}");
    }
    assert_eq!(
        sref("Table1[[#This Row],[Jan]]").to_string(),
        "Table1[[#This Row],[Jan]]"
    );
    assert_eq!(sref("Table1[Qty]").to_string(), "Table1[Qty]");
    assert_eq!(sref("Table1[#Totals]").to_string(), "Table1[#Totals]");
}

#[test]
fn structured_references_inside_formulas() {
    let e = p("=SUM(Table1[[#This Row],[Jan]:[Dec]])*2+[@Qty]");
    assert_eq!(
        e.to_string(),
        "SUM(Table1[[#This Row],[Jan]:[Dec]])*2+[[#This Row],[Qty]]"
    );
    assert!(e.has_structured_references());
    let e = p("Table16[[#This Row],[Units]]*Table16[[#This Row],[Unit Cost]]");
    assert_eq!(
        sx(&e),
        "(* Table16[[#This Row],[Units]] Table16[[#This Row],[Unit Cost]])"
    );
    // Intersection of two table columns.
    let e = p("Table1[Jan] Table1[@]");
    assert!(matches!(
        e.kind,
        ExprKind::Binary {
            op: BinaryOp::Intersect,
            ..
        }
    ));
    // Malformed ones are parse errors, not silent names.
    for bad in [
        "Table1[[#Headers],[#Totals]]",
        "Table1[[#Bogus]]",
        "Table1[[A]:[B]:[C]]",
        "Table1[[A],[B]]",
        "Table1[[A]",
        "Table1[[A]]x",
    ] {
        assert!(parse(bad).is_err(), "{bad} parsed");
    }
}

fn table() -> Table {
    // Header row 2, data rows 3..=6, totals row 7 over columns B..E, on sheet `Data`.
    Table {
        name: "Sales".into(),
        sheet: "Data".into(),
        bounds: Bounds {
            r1: 1,
            c1: 1,
            r2: 6,
            c2: 4,
        },
        header_row: true,
        totals_row: true,
        columns: vec!["Region".into(), "Jan".into(), "Feb".into(), "Mar".into()],
    }
}

#[test]
fn structured_references_resolve_to_ranges() {
    let sheets = vec!["Data".to_string(), "Other".to_string()];
    let tables = vec![table()];
    let resolver = Resolver {
        sheets: &sheets,
        tables: &tables,
    };
    let at = |row, col| {
        Some(Position {
            sheet: "Data",
            row,
            col,
        })
    };
    let other = Some(Position {
        sheet: "Other",
        row: 3,
        col: 0,
    });
    let cases = [
        ("Sales[Jan]", other, "Data!$C$3:$C$6"),
        ("sales[JAN]", other, "Data!$C$3:$C$6"),
        ("Sales", other, "Data!$B$3:$E$6"),
        ("Sales[]", other, "Data!$B$3:$E$6"),
        ("Sales[#All]", other, "Data!$B$2:$E$7"),
        ("Sales[#Data]", other, "Data!$B$3:$E$6"),
        ("Sales[#Headers]", other, "Data!$B$2:$E$2"),
        ("Sales[#Totals]", other, "Data!$B$7:$E$7"),
        ("Sales[[#Totals],[Feb]]", other, "Data!$D$7"),
        ("Sales[[#Data],[Jan]:[Mar]]", other, "Data!$C$3:$E$6"),
        ("Sales[[#Data],[Mar]:[Jan]]", other, "Data!$C$3:$E$6"),
        ("Sales[[#Headers],[#Data],[Jan]]", other, "Data!$C$2:$C$6"),
        ("Sales[[#Data],[#Totals],[Jan]]", other, "Data!$C$3:$C$7"),
        ("Sales[[#All],[Region]]", other, "Data!$B$2:$B$7"),
        ("Sales[@Jan]", at(4, 6), "Data!$C5"),
        ("Sales[[#This Row],[Jan]:[Mar]]", at(4, 6), "Data!$C5:$E5"),
        ("[@Feb]", at(3, 4), "Data!$D4"),
        ("[Feb]", at(3, 4), "Data!$D$3:$D$6"),
        ("[#This Row]", at(5, 2), "Data!$B6:$E6"),
        // Errors: this row outside the data rows, an unknown column or table, an unqualified
        // reference outside any table.
        ("Sales[@Jan]", at(1, 6), "#VALUE!"),
        ("Sales[@Jan]", at(6, 6), "#VALUE!"),
        ("Sales[@Jan]", None, "#VALUE!"),
        ("Sales[Apr]", other, "#REF!"),
        ("Nope[Jan]", other, "#REF!"),
        ("[@Jan]", other, "#REF!"),
    ];
    for (text, pos, want) in cases {
        let mut e = p(text);
        e.resolve(&resolver, pos);
        assert_eq!(e.to_string(), want, "{text}");
    }
    // Without a header or totals row, those items are #REF!.
    let mut bare = table();
    bare.header_row = false;
    bare.totals_row = false;
    let tables = vec![bare];
    let resolver = Resolver {
        sheets: &sheets,
        tables: &tables,
    };
    for (text, want) in [
        ("Sales[#Headers]", "#REF!"),
        ("Sales[#Totals]", "#REF!"),
        ("Sales[Jan]", "Data!$C$2:$C$7"),
        ("Sales[#All]", "Data!$B$2:$E$7"),
    ] {
        let mut e = p(text);
        e.resolve(&resolver, other);
        assert_eq!(e.to_string(), want, "{text}");
    }
}

#[test]
fn three_d_references() {
    let e = p("SUM(Sheet1:Sheet3!A1)");
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    let ExprKind::Ref(r) = &args[0].kind else {
        panic!("{:?}", args[0])
    };
    assert_eq!(r.sheet_span(), Some(("Sheet1", "Sheet3")));
    let e = p("SUM(Sheet1:Sheet3!A1:B2)");
    assert_eq!(e.to_string(), "SUM('Sheet1:Sheet3'!A1:B2)");
    let e = p("SUM('Jan 2024:Mar 2024'!$B$2:$B$5)");
    assert!(e.has_workbook_references());
    // A range between two cells is still a range, not a 3D reference.
    assert!(matches!(
        p("A1:B2").kind,
        ExprKind::Ref(Reference { sheet: None, .. })
    ));
    // Sheets named like cells are quoted (Excel writes `'Q1:Q3'!A1`); unquoted, `Q1:Q3!A1` is
    // the range operator between Q1 and Q3!A1, as in Excel.
    let e = p("SUM('Q1:Q3'!A1)");
    let ExprKind::Call { args, .. } = &e.kind else {
        panic!()
    };
    assert!(matches!(&args[0].kind, ExprKind::Ref(r) if r.sheet_span() == Some(("Q1", "Q3"))));
    assert!(matches!(
        p("Q1:Q3!A1").kind,
        ExprKind::Binary {
            op: BinaryOp::Range,
            ..
        }
    ));

    let sheets: Vec<String> = ["Sheet1", "Jan 2024", "Feb 2024", "Mar 2024", "Sheet3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let resolver = Resolver {
        sheets: &sheets,
        tables: &[],
    };
    for (text, want) in [
        (
            "SUM(Sheet1:Sheet3!A1)",
            "SUM(Sheet1!A1,'Jan 2024'!A1,'Feb 2024'!A1,'Mar 2024'!A1,Sheet3!A1)",
        ),
        (
            "SUM('Feb 2024:Mar 2024'!$B$2:$B$5)",
            "SUM('Feb 2024'!$B$2:$B$5,'Mar 2024'!$B$2:$B$5)",
        ),
        // Written last to first: the same span.
        (
            "MAX('Mar 2024:Feb 2024'!B2:C3)",
            "MAX('Feb 2024'!B2:C3,'Mar 2024'!B2:C3)",
        ),
        ("SUM(Sheet1:Sheet1!A1)", "SUM(Sheet1!A1)"),
        // Spread into arguments where a union means the same; a union elsewhere.
        (
            "COUNT(1,'Feb 2024:Mar 2024'!A1,2)",
            "COUNT(1,'Feb 2024'!A1,'Mar 2024'!A1,2)",
        ),
        (
            "INDEX('Feb 2024:Mar 2024'!A1:B2,1,1,2)",
            "INDEX(('Feb 2024'!A1:B2,'Mar 2024'!A1:B2),1,1,2)",
        ),
        (
            "'Feb 2024:Mar 2024'!A1+1",
            "('Feb 2024'!A1,'Mar 2024'!A1)+1",
        ),
        ("SUM(Sheet1:Nope!A1)", "SUM(#REF!)"),
        ("SUM(Nope:Sheet3!A1)", "SUM(#REF!)"),
    ] {
        let mut e = p(text);
        e.resolve(&resolver, None);
        assert_eq!(e.to_string(), want, "{text}");
    }
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

#[test]
fn references_to_other_workbooks_name_their_sheet_with_the_book_index() {
    for (src, sheet) in [
        ("[1]Sheet1!A1", "[1]Sheet1"),
        ("'[2]My Sheet'!B2:C3", "[2]My Sheet"),
        ("[3]Data!$A$1", "[3]Data"),
    ] {
        let e = parse(src).unwrap();
        match &e.kind {
            ExprKind::Ref(r) => assert_eq!(r.sheet.as_deref(), Some(sheet), "{src}"),
            other => panic!("{src}: {other:?}"),
        }
    }
    let e = parse("SUM([1]Sheet1!A1:A3)*2").unwrap();
    assert_eq!(e.to_string(), "SUM('[1]Sheet1'!A1:A3)*2");
}

#[test]
fn defined_names_of_other_workbooks_are_qualified_by_the_book() {
    for (src, sheet, name) in [
        ("[1]!Rate", "[1]", "Rate"),
        (
            "'C:\\Data\\[Prices.xlsx]'!Rate",
            "C:\\Data\\[Prices.xlsx]",
            "Rate",
        ),
        ("[2]Sheet1!Local", "[2]Sheet1", "Local"),
    ] {
        let e = parse(src).unwrap();
        match &e.kind {
            ExprKind::Name { sheet: s, name: n } => {
                assert_eq!(s.as_deref(), Some(sheet), "{src}");
                assert_eq!(n, name, "{src}");
            }
            other => panic!("{src}: {other:?}"),
        }
    }
    // Round trip through the display form.
    let e = parse("[1]!Rate*2").unwrap();
    let again = parse(&e.to_string()).unwrap();
    assert_eq!(e.to_string(), again.to_string());
}

/// Function names lose Excel's storage prefixes in any case and any number, and are upper-cased;
/// a name shorter than a prefix, or with a multi-byte character where a prefix would end, is
/// left whole.
#[test]
fn function_names_lose_their_storage_prefixes() {
    use crate::normalize_function_name as n;
    assert_eq!(n("_xlfn.STDEV.S"), "STDEV.S");
    assert_eq!(n("_XLFN._xlws.sort"), "SORT");
    assert_eq!(n("_xlpm.f"), "F");
    assert_eq!(n("_xll.RiskNormal"), "RISKNORMAL");
    assert_eq!(n("riskNormal"), "RISKNORMAL");
    assert_eq!(n("_xl"), "_XL");
    assert_eq!(n("_xlfé.X"), "_XLFé.X");
    assert_eq!(n("ééé"), "ééé");
}

#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;
use crate::quick::workbook;
use crate::sim::program::{Arith, Instr, Reduce};

fn setup(cells: &[(&str, &str)]) -> (Model, Graph) {
    let m = Model::from_workbook(&workbook(cells));
    let g = Graph::build(&m);
    (m, g)
}

fn id(m: &Model, a1: &str) -> CellId {
    let (r, c) = mcsim_formula::parse_a1(a1).unwrap();
    m.find(0, r, c).unwrap()
}

/// Runs one block through the compiled plan and through the interpreter, with the same inputs.
fn both(
    cells: &[(&str, &str)],
    inputs: &[&str],
    outputs: &[&str],
    lanes: usize,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>, bool) {
    let (m, g) = setup(cells);
    let ins: Vec<CellId> = inputs.iter().map(|a| id(&m, a)).collect();
    let outs: Vec<CellId> = outputs.iter().map(|a| id(&m, a)).collect();
    let sites = rand_sites(&m);
    let spec = Spec {
        inputs: &ins,
        sites: &sites,
        outputs: &outs,
        ..Spec::default()
    };
    let sim = Simulation::prepare_with(&m, &g, &spec);
    let compiled = matches!(sim.plan(), Plan::Compiled(_));
    let n_cols = sim.input_columns();
    let fill = |b: &mut Block<'_>| {
        for k in 0..n_cols {
            for (i, x) in b.input_mut(k).iter_mut().enumerate() {
                *x = if k < ins.len() {
                    (i as f64 - lanes as f64 / 2.0) * 0.37 + k as f64
                } else {
                    ((i * 7 + k * 13) % lanes) as f64 / lanes as f64
                };
            }
        }
    };
    let mut b = sim.block(lanes);
    fill(&mut b);
    let mut out_c = vec![Vec::new(); outs.len()];
    sim.run_block(&mut b, lanes, &mut out_c);
    // The interpreter on the same model.
    let interp = Simulation::prepare_with(
        &m,
        &g,
        &Spec {
            interpret: true,
            ..spec
        },
    );
    let mut b2 = interp.block(lanes);
    fill(&mut b2);
    let mut out_i = vec![Vec::new(); outs.len()];
    interp.run_block(&mut b2, lanes, &mut out_i);
    (out_c, out_i, compiled)
}

fn assert_same(a: &[Vec<f64>], b: &[Vec<f64>]) {
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.len(), y.len());
        for (p, q) in x.iter().zip(y) {
            assert!(
                (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-12 * p.abs().max(1.0),
                "{p} vs {q}"
            );
        }
    }
}

#[test]
fn compiled_matches_interpreter() {
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("B1", "=A1*2+A2^2-A2^0.5"),
        ("B2", "=IF(B1>3,B1/A2,-B1)"),
        ("B3", "=SUM(A1:B2,10)+MAX(A1,A2)-MIN(B1:B2)"),
        ("B4", "=IFERROR(1/A1,99)+ROUND(B1,2)+ABS(A2)"),
        ("B5", "=NPV(0.08,B1:B4)"),
        ("B6", "=SUMPRODUCT(A1:A2,B1:B2)+COUNTIF(B1:B4,\">=0\")"),
        ("C1", "5"),
        ("C2", "=C1*3"),
        ("B7", "=B6+C2+AVERAGE(A1:A2)"),
    ];
    let (c, i, compiled) = both(
        &cells,
        &["A1", "A2"],
        &["B1", "B2", "B3", "B4", "B5", "B6", "B7", "C2"],
        64,
    );
    assert!(compiled);
    assert_same(&c, &i);
    // The deterministic output is the constant 15 in every lane.
    assert!(c[7].iter().all(|&x| x == 15.0));
    // A2^0.5 is #NUM! exactly where A2 < 0 (A2 = (i-32)*0.37+1).
    for (i, b1) in c[0].iter().enumerate() {
        let a2 = (i as f64 - 32.0) * 0.37 + 1.0;
        assert_eq!(b1.is_nan(), a2 < 0.0, "lane {i}");
    }
}

#[test]
fn unsupported_constructs_fall_back_to_the_interpreter() {
    let cells = [("A1", "1"), ("B1", "=LEN(A1&\"x\")+A1")];
    let (c, i, compiled) = both(&cells, &["A1"], &["B1"], 8);
    assert!(!compiled);
    assert_same(&c, &i);
}

#[test]
fn slot_reuse_keeps_the_block_small() {
    let mut cells: Vec<(String, String)> = vec![("A1".into(), "1".into())];
    for r in 2..=300 {
        cells.push((format!("A{r}"), format!("=A{}*1.01+1", r - 1)));
    }
    let refs: Vec<(&str, &str)> = cells
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (m, g) = setup(&refs);
    let sim = Simulation::prepare(&m, &g, &[id(&m, "A1")], &[id(&m, "A300")], &[], &[]);
    let Plan::Compiled(c) = sim.plan() else {
        panic!()
    };
    assert!(c.program.slots < 8, "{} slots", c.program.slots);
}

/// Value numbering: an operation already computed on the same operands (in another cell too,
/// and whatever else was emitted between) is not emitted again; a different operation, operand
/// or constant is. Counted on the compiled program, as instructions of each kind.
#[test]
fn repeated_subexpressions_are_computed_once() {
    let (m, g) = setup(&[
        ("A1", "1"),
        ("A2", "2"),
        ("B1", "=SQRT(A1)+A1*A2"),
        ("B2", "=A1*A2-SQRT(A1)"),
        ("B3", "=(A1*A2)*(A1*A2)+A2*A1"),
        ("B4", "=SUM(A1,A2)+SUM(A1,A2)+MIN(A1,A2)+A1*2+A1*-0"),
        ("C1", "=B1+B2+B3+B4"),
    ]);
    let sim = Simulation::prepare(
        &m,
        &g,
        &[id(&m, "A1"), id(&m, "A2")],
        &[id(&m, "C1")],
        &[],
        &[],
    );
    let Plan::Compiled(c) = sim.plan() else {
        panic!()
    };
    let count = |pred: &dyn Fn(&Instr) -> bool| c.program.instrs.iter().filter(|i| pred(i)).count();
    let mul = count(&|i| matches!(i, Instr::Arith { op: Arith::Mul, .. }));
    // A1*A2 once; A2*A1 (operands swapped), (A1*A2)^2, A1*2 and A1*-0 each once more.
    assert_eq!(mul, 5, "{:#?}", c.program.instrs);
    assert_eq!(
        count(&|i| matches!(i, Instr::Call1 { .. })),
        1,
        "SQRT(A1) once"
    );
    assert_eq!(
        count(&|i| matches!(
            i,
            Instr::Reduce {
                op: Reduce::Sum,
                ..
            }
        )),
        1
    );
    assert_eq!(
        count(&|i| matches!(
            i,
            Instr::Reduce {
                op: Reduce::Min,
                ..
            }
        )),
        1
    );
}

#[test]
fn array_formulas_compile_element_by_element() {
    // A row array over stochastic and constant rows, a name for a row range, broadcasting of a
    // single cell, an element beyond a shorter range (#N/A), and an aggregate inside.
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("B1", "=A1*2"),
        ("C1", "=A1+A2"),
        ("D1", "=A2-A1"),
        ("B5", "10"),
        ("C5", "20"),
        ("D5", "30"),
        ("B3", "{=B1:D1*B5:D5+A2}@B3:D3"),
        ("B4", "{=B1:C1+SUM(B1:D1)}@B4:D4"),
        ("B6", "{=IF(B1:D1>A2,B1:D1,0)}@B6:D6"),
        ("E1", "{=A1+A2}"),
    ];
    let outs = ["B3", "C3", "D3", "B4", "C4", "D4", "B6", "C6", "D6", "E1"];
    let (c, i, compiled) = both(&cells, &["A1", "A2"], &outs, 64);
    assert!(compiled);
    assert_same(&c, &i);
    // D4 lies beyond the two-column range B1:C1: #N/A (NaN) in every lane.
    assert!(c[5].iter().all(|x| x.is_nan()));
    // C3 = C1*C5 + A2.
    let lane = 10;
    let (a1, a2) = (
        (lane as f64 - 32.0) * 0.37,
        (lane as f64 - 32.0) * 0.37 + 1.0,
    );
    assert!((c[1][lane] - ((a1 + a2) * 20.0 + a2)).abs() < 1e-9);
}

#[test]
fn an_array_expression_inside_an_aggregate_of_an_array_formula_is_not_compiled() {
    let cells = [("A1", "1"), ("A2", "2"), ("B1", "{=SUM(A1:A2*A1:A2)}")];
    let (c, i, compiled) = both(&cells, &["A1", "A2"], &["B1"], 16);
    assert!(!compiled);
    assert_same(&c, &i);
}

#[test]
fn defined_names_of_ranges_aggregate_the_whole_range() {
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("A3", "=A1+A2"),
        ("B2", "=SUM(Vals)*2"),
    ];
    let mut wb = workbook(&cells);
    wb.names.push(mcsim_workbook::DefinedName {
        name: "Vals".into(),
        scope: None,
        formula: "Sheet1!$A$1:$A$3".into(),
        hidden: false,
    });
    let m = Model::from_workbook(&wb);
    let g = Graph::build(&m);
    let ins = [id(&m, "A1"), id(&m, "A2")];
    let sim = Simulation::prepare(&m, &g, &ins, &[id(&m, "B2")], &[], &[]);
    assert!(matches!(sim.plan(), Plan::Compiled(_)));
    let mut b = sim.block(4);
    for k in 0..2 {
        b.input_mut(k).iter_mut().for_each(|x| *x = (k + 1) as f64);
    }
    let mut out = vec![Vec::new()];
    sim.run_block(&mut b, 4, &mut out);
    // SUM(A1:A3) = 1 + 2 + 3, not the intersection A2.
    assert_eq!(out[0], vec![12.0; 4]);
}

#[test]
fn count_skips_errors_booleans_text_and_blanks_in_references() {
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("B1", "=1/A1"),
        ("B2", "=A2>1"),
        ("B3", "'text"),
        ("B4", "7"),
        ("B6", "=A1+A2"),
        ("C1", "=COUNT(B1:B6)+COUNT(A1:A2)*10"),
    ];
    let (c, i, compiled) = both(&cells, &["A1", "A2"], &["C1"], 64);
    assert!(compiled);
    assert_same(&c, &i);
    // Lane 32: A1 = 0, so B1 is #DIV/0! and is not counted: B4, B6 and the two inputs.
    assert_eq!(c[0][32], 2.0 + 20.0);
    assert_eq!(c[0][0], 3.0 + 20.0);
}

#[test]
fn ceiling_and_floor_compile_to_the_library_kernels() {
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("B1", "=CEILING(A1*3.7,0.5)+FLOOR(A2,2)"),
        ("B2", "=CEILING(A1)+FLOOR(A2*1.3)"),
        ("B3", "=CEILING.PRECISE(A1,0.25)+FLOOR.PRECISE(A2-A1,3)"),
        ("B4", "=CEILING(A1,-1)"),
    ];
    let (c, i, compiled) = both(&cells, &["A1", "A2"], &["B1", "B2", "B3", "B4"], 64);
    assert!(compiled);
    assert_same(&c, &i);
}

#[test]
fn approximate_lookups_over_constant_tables_compile_as_excel_searches() {
    // A cumulative table (the discrete-sampling idiom), one with a text key and an unsorted one
    // (Excel's binary search, not a scan), and HLOOKUP.
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("D1", "0"),
        ("E1", "10"),
        ("D2", "0.2"),
        ("E2", "20"),
        ("D3", "'x"),
        ("E3", "25"),
        ("D4", "0.7"),
        ("E4", "30"),
        ("F1", "5"),
        ("G1", "1"),
        ("F2", "1"),
        ("G2", "2"),
        ("F3", "3"),
        ("G3", "3"),
        ("H1", "0"),
        ("I1", "0.5"),
        ("H2", "7"),
        ("I2", "8"),
        ("B1", "=VLOOKUP(A1/40+0.5,D1:E4,2)"),
        ("B2", "=VLOOKUP(A2/10,D1:E4,2,TRUE)"),
        ("B3", "=VLOOKUP(A1,F1:G3,2)"),
        ("B4", "=HLOOKUP(A1/40+0.5,H1:I2,2)"),
        ("B5", "=VLOOKUP(A1,D1:E4,2,FALSE)+A1"),
    ];
    let outs = ["B1", "B2", "B3", "B4"];
    let (c, i, compiled) = both(&cells, &["A1", "A2"], &outs, 64);
    assert!(compiled);
    assert_same(&c, &i);
    // Lane 32: A1 = 0, so the key 0.5 falls on 0.2 -> 20.
    assert_eq!(c[0][32], 20.0);
    // An exact match: the key equals a number only in some lanes (#N/A elsewhere).
    let (c, i, compiled) = both(&cells, &["A1", "A2"], &["B5"], 64);
    assert!(compiled);
    assert_same(&c, &i);
    assert!(c[0].iter().any(|x| x.is_nan()) && c[0].iter().any(|x| !x.is_nan()));
}

#[test]
fn distributions_with_changing_parameters_compile_to_the_interpreters_quantiles() {
    use crate::sites::DynamicDist;
    use mcsim_sampling::Modifiers;
    // B1 = RiskNormal(A1, A2^2+1, RiskName("x")) with A1, A2 inputs; B2 a Poisson whose mean is
    // uncertain, shifted; B3 a Triang whose mode may fall outside its range (#VALUE! lanes).
    let cells = [
        ("A1", "1"),
        ("A2", "2"),
        ("B1", "=RiskNormal(A1,A2^2+1,RiskName(\"x\"))"),
        ("B2", "=RiskPoisson(ABS(A1)+1,RiskShift(3))"),
        ("B3", "=RiskTriang(0,A2,10)"),
        ("C1", "=B1+B2+B3"),
    ];
    let (m, g) = setup(&cells);
    let ins = [id(&m, "A1"), id(&m, "A2")];
    let site = |a1: &str, shift: f64| {
        let c = &m.cells[id(&m, a1) as usize];
        Site {
            key: SiteKey {
                sheet: c.sheet,
                row: c.row,
                col: c.col,
                offset: 0,
            },
            kind: SiteKind::Dynamic(DynamicDist {
                modifiers: Modifiers {
                    truncate: None,
                    shift,
                },
            }),
        }
    };
    let sites = [site("B1", 0.0), site("B2", 3.0), site("B3", 0.0)];
    let outs = [id(&m, "B1"), id(&m, "B2"), id(&m, "B3"), id(&m, "C1")];
    let spec = Spec {
        inputs: &ins,
        sites: &sites,
        outputs: &outs,
        ..Spec::default()
    };
    let fill = |b: &mut Block<'_>| {
        for k in 0..5 {
            for (i, x) in b.input_mut(k).iter_mut().enumerate() {
                *x = if k < 2 {
                    (i as f64 - 32.0) * 0.37
                } else {
                    (i as f64 + 0.5) / 64.0
                };
            }
        }
    };
    let compiled = Simulation::prepare_with(&m, &g, &spec);
    assert!(matches!(compiled.plan(), Plan::Compiled(_)));
    let interp = Simulation::prepare_with(
        &m,
        &g,
        &Spec {
            interpret: true,
            ..spec
        },
    );
    let (mut b1, mut b2) = (compiled.block(64), interp.block(64));
    fill(&mut b1);
    fill(&mut b2);
    let (mut o1, mut o2) = (vec![Vec::new(); 4], vec![Vec::new(); 4]);
    compiled.run_block(&mut b1, 64, &mut o1);
    interp.run_block(&mut b2, 64, &mut o2);
    for (x, y) in o1.iter().zip(&o2) {
        for (p, q) in x.iter().zip(y) {
            assert!(
                p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()),
                "{p} vs {q}"
            );
        }
    }
    // Lane 40: A1 = 2.96, A2 = 2.96: the normal's quantile at u = 40.5/64.
    let z = mcsim_sampling::normal_quantile(40.5 / 64.0);
    let a = (40.0 - 32.0) * 0.37;
    assert!((o1[0][40] - (a + z * (a * a + 1.0))).abs() < 1e-9);
    // B3's mode A2 < 0 is invalid: an error in those lanes.
    assert!(o1[2][0].is_nan() && !o1[2][40].is_nan());
}

#[test]
fn lambda_names_in_the_cone_are_interpreted_per_iteration() {
    // B1 calls a LAMBDA name with the input; C1 calls one whose body reads the input, with no
    // reference in C1's own text; D1 maps a LAMBDA over a range holding the input; E1 calls a
    // name that draws a random number (not simulable per call: #CALC!, never a frozen draw).
    let cells = [
        ("A1", "1"),
        ("A2", "=A1*2"),
        ("B1", "=SQ(A1)+1"),
        ("C1", "=PLUS_A(10)"),
        ("D1", "=SUM(MAP(A1:A2,LAMBDA(x,x*x)))"),
        ("E1", "=DRAW(1)"),
        ("F1", "=SQ(3)"),
    ];
    let mut wb = workbook(&cells);
    for (name, formula) in [
        ("SQ", "_xlfn.LAMBDA(_xlpm.x,_xlpm.x*_xlpm.x)"),
        ("PLUS_A", "_xlfn.LAMBDA(_xlpm.x,_xlpm.x+Sheet1!$A$1)"),
        ("DRAW", "_xlfn.LAMBDA(_xlpm.x,_xlpm.x+RAND())"),
    ] {
        wb.names.push(mcsim_workbook::DefinedName {
            name: name.into(),
            scope: None,
            formula: formula.into(),
            hidden: false,
        });
    }
    let m = Model::from_workbook(&wb);
    let g = Graph::build(&m);
    let ins = [id(&m, "A1")];
    let outs: Vec<CellId> = ["B1", "C1", "D1", "E1", "F1"]
        .iter()
        .map(|a| id(&m, a))
        .collect();
    let sites = rand_sites(&m);
    let sim = Simulation::prepare_with(
        &m,
        &g,
        &Spec {
            inputs: &ins,
            sites: &sites,
            outputs: &outs,
            ..Spec::default()
        },
    );
    assert!(matches!(sim.plan(), Plan::Interpreted { .. }));
    let lanes = 8;
    let mut b = sim.block(lanes);
    for (i, x) in b.input_mut(0).iter_mut().enumerate() {
        *x = i as f64 - 3.0;
    }
    let mut out = vec![Vec::new(); outs.len()];
    sim.run_block(&mut b, lanes, &mut out);
    let lane = |i: usize| -> Vec<f64> { out.iter().map(|o| o[i]).collect() };
    for i in 0..lanes {
        let a = i as f64 - 3.0;
        let v = lane(i);
        assert_eq!(v[0], a * a + 1.0, "B1 lane {i}");
        assert_eq!(v[1], 10.0 + a, "C1 lane {i}");
        assert_eq!(v[2], a * a + 4.0 * a * a, "D1 lane {i}");
        assert!(v[3].is_nan(), "E1 lane {i}: {}", v[3]);
        assert_eq!(v[4], 9.0, "F1 lane {i}");
    }
}

#[test]
fn a_simulation_from_a_recalculated_evaluator_is_the_one_prepare_with_makes() {
    // A RAND() cell (the deterministic pass draws it), a circular reference (settled by
    // iteration) and a table-like constant folded by the compiler from the pass's values.
    let cells = [
        ("A1", "5"),
        ("A2", "=RAND()"),
        ("A3", "=A1*2+A2"),
        ("B1", "=B2*0.5+1"),
        ("B2", "=B1*0.5+A1"),
        ("C1", "=A3+B1+SQRT(A1)"),
    ];
    let (m, g) = setup(&cells);
    let ins = [id(&m, "A1")];
    let outs = [id(&m, "C1"), id(&m, "B2")];
    let sites = rand_sites(&m);
    let spec = Spec {
        inputs: &ins,
        sites: &sites,
        outputs: &outs,
        ..Spec::default()
    };
    let made = Simulation::prepare_with(&m, &g, &spec);
    let mut ev = Evaluator::new(&m);
    recalculate(&mut ev, &g, &[]);
    let kept = Simulation::prepare_recalculated(&m, &g, &spec, ev);
    assert_eq!(made.deterministic_outputs(), kept.deterministic_outputs());
    let run = |sim: &Simulation<'_>| {
        let mut b = sim.block(8);
        for k in 0..sim.input_columns() {
            for (i, x) in b.input_mut(k).iter_mut().enumerate() {
                *x = 0.1 + i as f64 / 8.0 + k as f64;
            }
        }
        let mut out = vec![Vec::new(); outs.len()];
        sim.run_block(&mut b, 8, &mut out);
        out
    };
    let (a, b) = (run(&made), run(&kept));
    assert!(a.iter().flatten().all(|v| v.is_finite()), "{a:?}");
    for (x, y) in a.iter().zip(&b) {
        let bits = |v: &Vec<f64>| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(x), bits(y));
    }
}

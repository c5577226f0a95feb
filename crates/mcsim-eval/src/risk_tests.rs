//! The risk functions' statistics after a simulation ([`crate::functions::risk`]), which need the
//! evaluator's simulation results.

#![allow(clippy::unwrap_used)]

/// After a simulation, RiskPercentile/RiskPtoX/RiskPercentileD read the simulated values by
/// PERCENTILE.INC's rule (the same function, not a copy): interpolation between order
/// statistics, `#NUM!` outside [0, 1].
#[test]
fn risk_percentiles_are_percentile_inc() {
    use crate::eval::SimResults;
    use crate::{CellId, Evaluator, Graph, Model, Value};
    use mcsim_formula::ErrorKind;
    use std::sync::Arc;
    struct Fixed(CellId, Vec<f64>);
    impl SimResults for Fixed {
        fn sorted(&self, cell: CellId) -> Option<(&[f64], usize)> {
            (cell == self.0).then_some((&self.1[..], 0))
        }
    }
    let wb = crate::quick::workbook(&[
        ("A1", "=RiskNormal(0,1)"),
        ("B1", "=RiskPercentile(A1,0.3)"),
        ("B2", "=RiskPtoX(A1,0.3)"),
        ("B3", "=RiskPercentileD(A1,0.7)"),
        ("B4", "=PERCENTILE.INC({1,2,4,8,16},0.3)"),
        ("B5", "=RiskPercentile(A1,1.5)"),
    ]);
    let model = Model::from_workbook(&wb);
    let graph = Graph::build(&model);
    let a1 = model.find(0, 0, 0).unwrap();
    let mut ev = Evaluator::new(&model);
    ev.set_results(Arc::new(Fixed(a1, vec![1.0, 2.0, 4.0, 8.0, 16.0])));
    ev.run(&graph.order);
    let mut at = |r: u32| ev.value(model.find(0, r, 1).unwrap()).clone();
    // h = 4 × 0.3 = 1.2: 2 + 0.2 × (4 − 2).
    for r in 0..4 {
        match at(r) {
            Value::Number(x) => assert!((x - 2.4).abs() < 1e-12, "B{}: {x}", r + 1),
            v => panic!("B{}: {v:?}", r + 1),
        }
    }
    assert_eq!(at(4), Value::Error(ErrorKind::Num));
}

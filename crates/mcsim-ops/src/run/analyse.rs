//! Analysing a [`Simulated`] run: statistics, sensitivity, convergence, threshold conditions
//! and statistics functions in cells.

use super::prepare::Prepared;
use super::simulate::Simulated;
use super::{
    CellValue, OutputReport, RunReport, SimtableInfo, StatisticCell, ThresholdResult, method_name,
};
use crate::error::OpsError;
use mcsim_engine::{CellId, Evaluator, Model, Value};
use mcsim_results::{Sensitivity, Summary, SummaryOptions};
use rayon::prelude::*;

/// The report of a simulation: every output's statistics (with `options`), sensitivity and
/// convergence, the threshold conditions and the statistics cells. Timings other than the
/// simulation's, and the files written, are the caller's to fill in.
pub fn analyse(
    p: &Prepared<'_>,
    mut s: Simulated,
    options: &SummaryOptions,
    pool: &rayon::ThreadPool,
) -> Result<RunReport, OpsError> {
    let model: &Model = &p.loaded.model;
    let graph = &p.loaded.graph;
    let sim = &p.sim;
    let infos = &p.infos;
    let outputs = &p.outputs;
    let out_cells = &p.out_cells;
    let overrides = &p.overrides;
    let base = &p.base;
    let detected = &p.detected;
    let conditions = &p.conditions;
    let simulation = p.simulation;
    let mut warnings = p.warnings.clone();
    warnings.extend(s.warnings.iter().cloned());
    let input_err = |message: String| OpsError::Model { message };
    let sopts = options;
    let in_samples = &s.in_samples;
    let out_samples = &s.out_samples;
    let det = sim.deterministic_outputs();
    let input_names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
    let named: Vec<(&str, &[f64])> = infos
        .iter()
        .map(|i| i.name.as_str())
        .zip(in_samples.iter().map(Vec::as_slice))
        .collect();
    // Inputs are ranked once for every output's rank correlations; outputs in parallel.
    // With Latin Hypercube sampling over a whole run, an uncorrelated input's order is its
    // strata's: a hint that ranking checks in linear time instead of sorting.
    let kept = std::mem::take(&mut s.in_strata);
    let hints = pool.install(|| lhs_rank_hints(p, &s, kept));
    let ranked = pool.install(|| mcsim_results::RankedInputs::with_hints(&named, hints));
    // Every output's correlations with the inputs (the regression's right-hand sides) in one
    // pass over the inputs, rather than one pass per output.
    let against = if s.streamed.is_none() && !named.is_empty() {
        let outs: Vec<&[f64]> = out_samples.iter().map(Vec::as_slice).collect();
        pool.install(|| ranked.against(&outs))
    } else {
        Vec::new()
    };
    // The sorted values outlive the loop only for `--fail-if` and statistics cells.
    let keep_sorted = !conditions.is_empty() || !detected.statistics.is_empty();
    type PerOutput = Result<(OutputReport, Option<String>, Vec<f64>), OpsError>;
    let per_output: Vec<PerOutput> = pool.install(|| {
        outputs
            .par_iter()
            .enumerate()
            // The sort's and the ranks' buffers are reused from output to output on a thread.
            .map_init(
                mcsim_results::SortScratch::default,
                |scratch, (k, (cell, name))| {
                    let samples: &[f64] = out_samples.get(k).map_or(&[], Vec::as_slice);
                    // Error iterations are NaN in the samples; the summary counts and excludes them.
                    // Each output is sorted once: the summary, ranks and convergence trace read the
                    // sorted view, and its values are kept for `--fail-if` and statistics cells.
                    let deterministic = det.get(k).copied().flatten().is_some();
                    if let Some(st) = &s.streamed {
                        return streamed_output(
                            p,
                            k,
                            &s.out_stats[k],
                            st,
                            sopts,
                            deterministic,
                            &input_names,
                        )
                        .map(|r| (r, None, Vec::new()));
                    }
                    let sorted = mcsim_results::SortedColumn::new_in(samples, scratch);
                    // A run that stopped early (`--until-converged`) or a shard accumulated on the
                    // checkpoints of another length: its statistics are taken again over the samples
                    // it kept, so they equal those of a whole run of that many iterations.
                    let recomputed;
                    let (stats, prefixes) = match s.prefix_stats.get(k).filter(|p| !p.is_empty()) {
                        Some(prefixes) => (&s.out_stats[k], prefixes.as_slice()),
                        None => {
                            recomputed = super::simulate::stats_with_prefixes(
                                samples,
                                s.out_stats[k].targets(),
                            );
                            (&recomputed.0, recomputed.1.as_slice())
                        }
                    };
                    // The summary and convergence trace beside the sensitivity: two tasks, so
                    // that the pool's threads share the last outputs' work.
                    let (summary_and_trace, sensitivity) = rayon::join(
                        || {
                            let summary = Summary::from_stats_sorted(stats, &sorted.sorted, sopts)
                                .map_err(|e| OpsError::Run {
                                    message: e.to_string(),
                                })?;
                            let convergence = mcsim_results::convergence_trace_from_stats(
                                &sorted,
                                prefixes,
                                &[0.05, 0.5, 0.95],
                            )
                            .map_err(|e| OpsError::Run {
                                message: e.to_string(),
                            })?;
                            Ok::<_, OpsError>((summary, convergence))
                        },
                        || {
                            if deterministic || named.is_empty() {
                                return (None, None);
                            }
                            match Sensitivity::compute_ranked_sorted_with(
                                name,
                                samples,
                                &sorted,
                                &ranked,
                                against.get(k).and_then(Option::as_ref),
                                scratch,
                            ) {
                                Ok(s) => (Some(s), None),
                                Err(e) => (
                                    None,
                                    Some(format!("output `{name}`: no sensitivity analysis: {e}")),
                                ),
                            }
                        },
                    );
                    let (summary, convergence) = summary_and_trace?;
                    let (sensitivity, sensitivity_warning) = sensitivity;
                    Ok((
                        OutputReport {
                            name: name.clone(),
                            cell: model.cell_label(*cell),
                            deterministic,
                            summary,
                            sensitivity,
                            convergence,
                        },
                        sensitivity_warning,
                        if keep_sorted {
                            sorted.sorted
                        } else {
                            Vec::new()
                        },
                    ))
                },
            )
            .collect()
    });
    let n_out = outputs.len();
    let mut reports = Vec::with_capacity(n_out);
    let mut sorted_cols: Vec<Vec<f64>> = Vec::with_capacity(n_out);
    for r in per_output {
        let (r, sensitivity_warning, sorted) = r?;
        sorted_cols.push(sorted);
        warnings.extend(sensitivity_warning);
        if r.deterministic {
            warnings.push(format!(
                "output `{}` depends on no uncertain input: it is the same in every iteration",
                r.name
            ));
        }
        reports.push(r);
    }
    // Statistics functions in cells take the simulated values, and the cells that depend on
    // them are recalculated, as @RISK does at the end of a simulation.
    let (statistics, cell_values) = if detected.statistics.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let mut tracked_results = Tracked::default();
        for (k, &c) in out_cells.iter().enumerate() {
            let non_nan = out_samples[k].iter().filter(|x| !x.is_nan()).count();
            // Outputs without infinities: the sorted view is exactly the non-NaN values, sorted
            // (tracked cells that are not outputs come after the outputs and are sorted here).
            let xs: Vec<f64> = if let Some(s) = sorted_cols.get(k).filter(|s| s.len() == non_nan) {
                s.clone()
            } else {
                let mut xs: Vec<f64> = out_samples[k]
                    .iter()
                    .copied()
                    .filter(|x| !x.is_nan())
                    .collect();
                xs.sort_unstable_by(f64::total_cmp);
                xs
            };
            let errors = out_samples[k].len() - xs.len();
            tracked_results.0.insert(c, (xs, errors));
        }
        let mut ev = Evaluator::new(model);
        ev.set_simulation(simulation);
        for (c, v) in overrides.iter().chain(base.iter()) {
            ev.set_value(*c, v.clone());
        }
        ev.set_results(std::sync::Arc::new(tracked_results));
        let kept: Vec<CellId> = overrides.iter().chain(base.iter()).map(|o| o.0).collect();
        mcsim_engine::sim::recalculate(&mut ev, graph, &kept);
        let mut seeds = vec![false; model.cells.len()];
        for st in &detected.statistics {
            seeds[st.cell as usize] = true;
        }
        let changed = graph.downstream(model, &seeds);
        let mut stats = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for st in &detected.statistics {
            if !seen.insert(st.cell) {
                continue;
            }
            let f = model.cells[st.cell as usize]
                .formula
                .map(|fid| model.formulas[fid as usize].text())
                .unwrap_or_default();
            let value = ev.value(st.cell).clone();
            let stored = model.cells[st.cell as usize].stored.clone();
            let agreement_z = match (&value, &stored, st.target) {
                (Value::Number(v), Value::Number(sv), Some(t)) => {
                    out_cells.iter().position(|&c| c == t).and_then(|k| {
                        standard_error(model, st, &out_samples[k]).map(|se| {
                            // Equal to 15 digits (a statistic of a constant) is agreement.
                            if (v - sv).abs() <= 1e-9 * v.abs().max(sv.abs()) {
                                0.0
                            } else {
                                (v - sv) / (std::f64::consts::SQRT_2 * se.max(1e-300))
                            }
                        })
                    })
                }
                _ => None,
            };
            stats.push(StatisticCell {
                cell: model.cell_label(st.cell),
                formula: format!("={f}"),
                value: json_value(&value),
                stored: json_value(&stored),
                of: st.target.map(|t| model.cell_label(t)),
                agreement_z,
            });
        }
        let mut values = Vec::new();
        for (i, &ch) in changed.iter().enumerate() {
            if ch {
                let c = &model.cells[i];
                values.push(CellValue {
                    sheet: model.sheets[c.sheet as usize].name.clone(),
                    row: c.row,
                    col: c.col,
                    value: ev.value(i as CellId).clone(),
                });
            }
        }
        (stats, values)
    };

    let mut thresholds = Vec::new();
    let names: Vec<&str> = outputs.iter().map(|o| o.1.as_str()).collect();
    for (cond, t) in conditions {
        let outcome = match &s.streamed {
            None => {
                let lookup = |n: &str| {
                    outputs
                        .iter()
                        .position(|o| o.1 == n)
                        .map(|k| sorted_cols[k].as_slice())
                };
                t.evaluate_detail_sorted(&lookup, &names)
                    .map_err(|e| input_err(format!("--fail-if `{cond}`: {e}")))?
            }
            Some(st) => {
                let k = outputs
                    .iter()
                    .position(|o| o.1 == t.output())
                    .ok_or_else(|| input_err(format!("--fail-if `{cond}`: no such output")))?;
                let summary = Summary::from_stats_order(
                    &s.out_stats[k],
                    &st.order[k],
                    &threshold_options(p, sopts),
                )
                .map_err(|e| input_err(format!("--fail-if `{cond}`: {e}")))?;
                let v = statistic_from_summary(&t.statistic, &summary);
                mcsim_results::ThresholdOutcome {
                    threshold: t.to_string(),
                    statistic_value: v,
                    holds: t.op.apply(v, t.value),
                }
            }
        };
        thresholds.push(ThresholdResult {
            condition: cond.clone(),
            value: outcome.statistic_value,
            holds: outcome.holds,
        });
    }
    let report = RunReport {
        workbook: p.loaded.name.clone(),
        workbook_hash: p.loaded.hash.clone(),
        seed: s.seed,
        iterations: s.iterations,
        sampling: method_name(s.method),
        threads: s.threads,
        backend: "cpu",
        backend_note: None,
        elapsed_seconds: s.simulation_seconds,
        simulation_seconds: s.simulation_seconds,
        iterations_per_second: s.iterations as f64 / s.simulation_seconds.max(1e-9),
        evaluation: p.evaluation.clone(),
        interpreted_because: p.interpreted_because.clone(),
        inputs: infos.clone(),
        outputs: reports,
        thresholds,
        converged: s.converged,
        statistics_mode: s.mode,
        shard: s.shard,
        simulation_passes: s.passes,
        samples_file: None,
        saved_as: None,
        warnings,
        statistics,
        cell_values,
        accumulators: None,
        version: env!("CARGO_PKG_VERSION").to_string(),
        simtable: detected
            .simtables
            .iter()
            .map(|(c, vs)| SimtableInfo {
                cell: model.cell_label(*c),
                values: vs.iter().map(json_value).collect(),
            })
            .collect(),
        simulations: Vec::new(),
    };
    // The samples are not needed past this point (see `exit_after_run`).
    super::release(s, detected.simtables.is_empty());
    Ok(report)
}

/// Per stored input, its Latin Hypercube strata when they may order its samples (see
/// [`mcsim_results::RankedInputs::with_hints`]): a whole, unsharded, exact run sampled by Latin
/// Hypercube, and an input outside every correlation group (Iman-Conover reorders those).
///
/// The strata the simulation kept as it sampled (`kept`, per stored input) are taken as they
/// are; the others are computed again from the streams.
fn lhs_rank_hints(
    p: &Prepared<'_>,
    s: &Simulated,
    kept: Vec<Option<Vec<u32>>>,
) -> Vec<Option<Vec<u32>>> {
    let whole = s.method == mcsim_sampling::Method::LatinHypercube
        && s.shard.is_none()
        && s.converged.is_none()
        && s.streamed.is_none();
    if !whole {
        return Vec::new();
    }
    let streams = mcsim_sampling::Streams::new(s.seed);
    let grouped: std::collections::HashSet<usize> = p
        .groups
        .iter()
        .flat_map(|(idx, _)| idx.iter().copied())
        .collect();
    let stored: Vec<(usize, u64)> = p
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, i)| i.stored)
        .map(|(k, i)| (k, i.key))
        .collect();
    let mut kept = kept;
    kept.resize_with(stored.len(), || None);
    stored
        .par_iter()
        .zip(s.in_samples.par_iter())
        .zip(kept.into_par_iter())
        .map(|((&(k, key), col), kept)| {
            if grouped.contains(&k) || col.len() as u64 != s.iterations {
                return None;
            }
            kept.filter(|st| st.len() == col.len())
                .or_else(|| streams.lhs_strata(key, s.iterations))
        })
        .collect()
}

/// One output's report in a streaming run.
fn streamed_output(
    p: &Prepared<'_>,
    k: usize,
    stats: &mcsim_results::BlockStats,
    st: &super::simulate::Streamed,
    options: &SummaryOptions,
    deterministic: bool,
    input_names: &[&str],
) -> Result<OutputReport, OpsError> {
    let (cell, name) = &p.outputs[k];
    let summary =
        Summary::from_stats_order(stats, &st.order[k], options).map_err(|e| OpsError::Run {
            message: e.to_string(),
        })?;
    let sensitivity = (!deterministic && !input_names.is_empty())
        .then(|| Sensitivity::from_stream(name, input_names, &st.sensitivity[k]));
    Ok(OutputReport {
        name: name.clone(),
        cell: p.loaded.model.cell_label(*cell),
        deterministic,
        summary,
        sensitivity,
        convergence: st.convergence[k].clone(),
    })
}

/// A threshold's statistic read from a summary that was computed with the statistic's level
/// or target among its options (see [`threshold_options`]).
fn statistic_from_summary(stat: &mcsim_results::Statistic, s: &Summary) -> f64 {
    use mcsim_results::{CmpOp, Statistic};
    let target = |v: f64| s.targets.iter().find(|t| t.target == v);
    let risk = |l: f64| s.risk.iter().find(|r| (r.level - l).abs() < 1e-12);
    match stat {
        Statistic::Mean(_) => s.mean,
        Statistic::Std(_) => s.std_dev,
        Statistic::Min(_) => s.min,
        Statistic::Max(_) => s.max,
        Statistic::Percentile { p, .. } => s.percentile(*p).unwrap_or(f64::NAN),
        Statistic::Var { level, .. } => risk(*level).map_or(f64::NAN, |r| r.var),
        Statistic::CVar { level, .. } => risk(*level).map_or(f64::NAN, |r| r.cvar),
        Statistic::Probability { op, value, .. } => match target(*value) {
            None => f64::NAN,
            Some(t) => match op {
                CmpOp::Lt => t.p_below,
                CmpOp::Le => 1.0 - t.p_above,
                CmpOp::Gt => t.p_above,
                CmpOp::Ge => 1.0 - t.p_below,
                CmpOp::Eq => 1.0 - t.p_below - t.p_above,
            },
        },
        // A statistic added later: not answerable from a summary.
        _ => f64::NAN,
    }
}

/// `options` plus what the threshold conditions read (their levels and targets), so that a
/// streaming run's accumulators can answer them.
pub fn threshold_options(p: &Prepared<'_>, options: &SummaryOptions) -> SummaryOptions {
    use mcsim_results::Statistic;
    let mut o = options.clone();
    for (_, t) in &p.conditions {
        match &t.statistic {
            Statistic::Percentile { p, .. } => o = o.with_percentile(*p),
            Statistic::Var { level, .. } | Statistic::CVar { level, .. }
                if !o.risk_levels.iter().any(|&x| (x - level).abs() < 1e-12) =>
            {
                o = o.with_risk_level(*level);
            }
            Statistic::Probability { value, .. } if !o.targets.contains(value) => {
                o = o.with_target(*value);
            }
            _ => {}
        }
    }
    o
}

/// Tracked cells' simulated values, sorted, for statistics functions in cells.
#[derive(Default)]
struct Tracked(std::collections::HashMap<CellId, (Vec<f64>, usize)>);

impl mcsim_engine::eval::SimResults for Tracked {
    fn sorted(&self, cell: CellId) -> Option<(&[f64], usize)> {
        self.0.get(&cell).map(|(xs, e)| (xs.as_slice(), *e))
    }
}

/// The standard error of a bare statistics call (`=RiskMean(B5)`, `=RiskPercentile(B5, 0.9)`)
/// over these samples; `None` for other formulas and statistics.
fn standard_error(
    model: &Model,
    st: &mcsim_engine::sim::inputs::StatCall,
    samples: &[f64],
) -> Option<f64> {
    use mcsim_formula::ExprKind;
    let fid = model.cells[st.cell as usize].formula?;
    let expr = model.formulas[fid as usize].expr.as_ref().ok()?;
    let ExprKind::Call { name, args } = &expr.kind else {
        return None;
    };
    mcsim_engine::sim::inputs::statistic(name)?;
    let mut xs: Vec<f64> = samples.iter().copied().filter(|x| !x.is_nan()).collect();
    let n = xs.len();
    if n < 2 {
        return None;
    }
    xs.sort_unstable_by(f64::total_cmp);
    let nf = n as f64;
    let mean = xs.iter().sum::<f64>() / nf;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);
    let arg = |i: usize| -> Option<f64> {
        match &args.get(i)?.kind {
            ExprKind::Number(x) => Some(*x),
            _ => None,
        }
    };
    match st.function.as_str() {
        "MEAN" => Some((var / nf).sqrt()),
        "STDDEV" => {
            let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / nf;
            let se_var = ((m4 - var * var) / nf).max(0.0).sqrt();
            Some(se_var / (2.0 * var.sqrt()))
        }
        "PERCENTILE" | "PTOX" => {
            // The order statistics one binomial standard deviation either side of the rank.
            let p = arg(1)?;
            let half = (nf * p * (1.0 - p)).sqrt();
            let at = |r: f64| xs[(r.round().max(0.0) as usize).min(n - 1)];
            Some((at(nf * p + half) - at(nf * p - half)) / 2.0)
        }
        "TARGET" | "XTOP" => {
            let x = arg(1)?;
            let q = xs.partition_point(|&v| v <= x) as f64 / nf;
            Some((q * (1.0 - q) / nf).sqrt().max(1.0 / nf))
        }
        _ => None,
    }
}

/// A cell value as the workbook writer stores it.
pub(crate) fn update_value(v: &Value) -> mcsim_workbook::UpdateValue {
    use mcsim_workbook::UpdateValue;
    match v {
        Value::Number(n) => UpdateValue::Number(*n),
        Value::Bool(b) => UpdateValue::Bool(*b),
        Value::Empty => UpdateValue::Number(0.0),
        Value::Array(_) => update_value(&v.first()),
        Value::Error(e) => UpdateValue::Error(e.to_string()),
        other => match other.to_text() {
            Ok(t) => UpdateValue::Text(t.to_string()),
            Err(e) => UpdateValue::Error(e.to_string()),
        },
    }
}

/// A cell value as JSON: numbers, text and booleans as such, errors as their text (`#N/A`).
fn json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Number(n) => serde_json::json!(n),
        Value::Bool(b) => serde_json::json!(b),
        Value::Empty => serde_json::Value::Null,
        Value::Array(_) => json_value(&v.first()),
        other => match other.to_text() {
            Ok(t) => serde_json::json!(&*t),
            Err(e) => serde_json::json!(e.to_string()),
        },
    }
}

//! FREQUENCY, MODE.MULT and PERCENTRANK(.INC/.EXC).

use super::*;

/// FREQUENCY(data_array, bins_array): a column with, for each bin, how many data values are at
/// most the bin and above the next smaller bin (bins in their given order), then the count above
/// every bin.
pub(super) fn frequency(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let data = tri!(nums(ctx, &args[..1]));
    let bins = tri!(nums(ctx, &args[1..2]));
    let mut order: Vec<usize> = (0..bins.len()).collect();
    order.sort_by(|&a, &b| bins[a].partial_cmp(&bins[b]).unwrap_or(Ordering::Equal));
    let mut counts = vec![0.0; bins.len() + 1];
    for x in data {
        // The first bin (in ascending order) that is >= x takes it.
        let pos = order.partition_point(|&i| bins[i] < x);
        let slot = order.get(pos).copied().unwrap_or(bins.len());
        counts[slot] += 1.0;
    }
    Value::Array(std::sync::Arc::new(crate::value::Array::column(
        counts.into_iter().map(Value::Number).collect(),
    )))
}

/// MODE.MULT: every most frequent value (seen at least twice), in order of first appearance, as
/// a column.
pub(super) fn mode_mult(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    let xs = tri!(nums(ctx, args));
    let firsts = value_counts(&xs);
    let best = firsts.iter().map(|&(_, c)| c).max().unwrap_or(0);
    if best < 2 {
        return Value::Error(ErrorKind::Na);
    }
    let modes: Vec<Value> = firsts
        .into_iter()
        .filter(|&(_, c)| c == best)
        .map(|(x, _)| Value::Number(x))
        .collect();
    Value::Array(std::sync::Arc::new(crate::value::Array::column(modes)))
}

/// The rank of `x` in sorted data, as a fraction: PERCENTRANK.INC (`inclusive`) or
/// PERCENTRANK.EXC. A value between two data points is interpolated linearly between the last
/// position of the smaller one and the first of the larger one.
pub fn percentrank_sorted(s: &[f64], x: f64, inclusive: bool) -> Result<f64, ErrorKind> {
    let n = s.len();
    let (Some(&first), Some(&last)) = (s.first(), s.last()) else {
        return Err(ErrorKind::Num);
    };
    if x < first || x > last {
        return Err(ErrorKind::Na);
    }
    let below = s.partition_point(|&v| v < x);
    let nf = n as f64;
    if s.get(below) == Some(&x) {
        return Ok(if inclusive {
            if n == 1 {
                1.0
            } else {
                below as f64 / (nf - 1.0)
            }
        } else {
            (below as f64 + 1.0) / (nf + 1.0)
        });
    }
    // s[below - 1] < x < s[below]; below >= 1 since x > first.
    let (lo, hi) = (s[below - 1], s[below]);
    let pos = (below - 1) as f64 + (x - lo) / (hi - lo);
    Ok(if inclusive {
        pos / (nf - 1.0)
    } else {
        (pos + 1.0) / (nf + 1.0)
    })
}

/// Rounds down to `digits` decimals, as PERCENTRANK does, without turning 0.7 into 0.699.
fn floor_digits(x: f64, digits: f64) -> f64 {
    let scale = 10f64.powf(digits);
    let y = x * scale;
    let r = y.round();
    if (y - r).abs() <= 1e-9 * r.abs().max(1.0) {
        r / scale
    } else {
        y.floor() / scale
    }
}

pub(super) fn percentrank_of(ctx: &mut Ctx<'_, '_>, args: &[Arg], inclusive: bool) -> Value {
    let xs = sorted(tri!(nums(ctx, &args[..1])));
    let x = tri!(ctx.number(&args[1]));
    let digits = tri!(ctx.number_or(args, 2, 3.0)).trunc();
    if digits < 1.0 {
        return Value::Error(ErrorKind::Num);
    }
    let r = tri!(percentrank_sorted(&xs, x, inclusive));
    Value::number(floor_digits(r, digits))
}

pub(super) fn percentrank_inc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    percentrank_of(ctx, args, true)
}

pub(super) fn percentrank_exc(ctx: &mut Ctx<'_, '_>, args: &[Arg]) -> Value {
    percentrank_of(ctx, args, false)
}

//! GROUPBY and PIVOTBY: group the rows of a table by one or more key columns and aggregate the
//! values of each group with a LAMBDA (or a function given by name, `SUM`, `PERCENTOF`, ...).
//!
//! ```text
//! GROUPBY(row_fields, values, function, [field_headers], [total_depth], [sort_order],
//!         [filter_array], [field_relationship])
//! PIVOTBY(row_fields, col_fields, values, function, [field_headers], [row_total_depth],
//!         [row_sort_order], [col_total_depth], [col_sort_order], [filter_array], [relative_to])
//! ```
//!
//! What is implemented, following Microsoft's documentation of the two functions (and, where it
//! is silent, the choices stated here):
//!
//! - `function` is a LAMBDA of one parameter (the group's values, as a column) or two (the
//!   group's values and the values they are relative to, as PERCENTOF takes them), or a function
//!   given by name (an eta-reduced LAMBDA: `SUM`, `AVERAGE`, `PERCENTOF`, stored `_xleta.SUM`).
//!   A result that is an array of more than one value is `#CALC!` in its cell. A vector of
//!   functions (`HSTACK(SUM,AVERAGE)`) is not supported: `#VALUE!`.
//! - `field_headers`: omitted, the data has headers when the first value is text and the second
//!   a number (they are not shown); 0 no headers, 1 headers not shown, 2 no headers but generated
//!   ("Row Field 1", "Value 1"), 3 headers shown. PIVOTBY supports 0 and 1 (and the automatic
//!   choice) only: 2 and 3 are `#VALUE!`.
//! - `total_depth`: omitted or 1 a grand total ("Total" in the first key column), 0 none, 2 and
//!   more the grand total and subtotals down to that depth (a subtotal row shows its group's keys
//!   and leaves the deeper key columns blank), negative the same above the rows they total.
//! - `sort_order`: column numbers counted over the key columns then the value columns, negative
//!   for descending, a vector for several keys. Each level of the hierarchy is sorted within its
//!   parent; a value column sorts a group by its aggregate (a subtotal for an outer level).
//!   Without one, groups are sorted ascending by their keys: numbers, text (case-insensitive),
//!   logicals, errors, then blanks (last in either direction). Keys group case-insensitively
//!   and a group shows the key of its first row.
//! - `filter_array`: one logical per data row (a header row may be included), FALSE rows left
//!   out. No row left is `#CALC!`.
//! - `field_relationship` (GROUPBY): 0 hierarchy, 1 table (rows sorted by the whole key; no
//!   subtotals, so a total depth beyond 1 is `#VALUE!`).
//! - `relative_to` (PIVOTBY, for a two-parameter function): 0 the column's total (default), 1
//!   the row's total, 2 the grand total, 3 the parent column group's total in the same row, 4 the
//!   parent row group's total in the same column (as a PivotTable's "% of parent column/row
//!   total"). GROUPBY passes every (filtered) value of the column.
//! - PIVOTBY: an empty intersection is blank; several value columns are `#VALUE!` (their header
//!   row is not reproduced), and so is an omitted `row_fields` or `col_fields`.
//! - Arrays of different heights are `#VALUE!`.

use super::{Closure, Local};
use crate::eval::Evaluator;
use crate::functions::Arg;
use crate::value::{Array, Value, compare_text};
use mcsim_formula::{ErrorKind, Expr, ExprKind};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

type Res<T> = Result<T, ErrorKind>;

/// A rectangular array, row-major.
struct Grid {
    rows: usize,
    cols: usize,
    data: Vec<Value>,
}

impl Grid {
    fn from_value(v: Value) -> Res<Grid> {
        match v {
            Value::Error(e) => Err(e),
            Value::Array(a) => Ok(Grid {
                rows: a.rows,
                cols: a.cols,
                data: a.data.clone(),
            }),
            v => Ok(Grid {
                rows: 1,
                cols: 1,
                data: vec![v],
            }),
        }
    }

    fn at(&self, r: usize, c: usize) -> &Value {
        &self.data[r * self.cols + c]
    }

    /// The first row (the headers) and the rest.
    fn split_header(self) -> (Vec<Value>, Grid) {
        let cols = self.cols;
        let mut data = self.data;
        let rest = data.split_off(cols.min(data.len()));
        (
            data,
            Grid {
                rows: self.rows.saturating_sub(1),
                cols,
                data: rest,
            },
        )
    }
}

/// The aggregation: a closure, and whether it takes the values it is relative to.
struct Agg {
    f: Arc<Closure>,
    two: bool,
}

/// A group of rows: the keys that define it and the data rows (ascending) it holds.
struct Node {
    labels: Vec<Value>,
    level: usize,
    parent: usize,
    children: Vec<usize>,
    records: Vec<usize>,
}

/// The groups of a set of rows, node 0 the root (every row).
struct Tree {
    nodes: Vec<Node>,
    /// Key columns.
    fields: usize,
    /// Levels of the tree: `fields`, or 1 for a flat table of whole keys.
    depth: usize,
}

/// A line of the output: a group, a subtotal or the grand total.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    Leaf(usize),
    Sub(usize),
    Total,
}

impl Line {
    fn node(self) -> usize {
        match self {
            Line::Leaf(n) | Line::Sub(n) => n,
            Line::Total => 0,
        }
    }
}

/// A key as grouping sees it: text without case.
fn group_key(v: &Value) -> String {
    match v {
        Value::Number(x) => format!("n{}", x.to_bits()),
        Value::Text(s) => format!("s{}", s.to_lowercase()),
        Value::Bool(b) => format!("b{b}"),
        Value::Error(e) => format!("e{}", e.code()),
        _ => "_".to_string(),
    }
}

/// The ordering of keys and sort values: numbers, text, logicals, errors, blanks (blanks stay
/// last when descending).
fn key_cmp(a: &Value, b: &Value, desc: bool) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::Text(s) if s.is_empty() => 4,
            Value::Text(_) => 1,
            Value::Bool(_) => 2,
            Value::Error(_) => 3,
            _ => 4,
        }
    }
    let (ra, rb) = (rank(a), rank(b));
    if ra == 4 || rb == 4 {
        return ra.cmp(&rb);
    }
    let o = match (a, b) {
        _ if ra != rb => ra.cmp(&rb),
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Text(x), Value::Text(y)) => compare_text(x, y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Error(x), Value::Error(y)) => x.code().cmp(&y.code()),
        _ => Ordering::Equal,
    };
    if desc { o.reverse() } else { o }
}

impl Tree {
    /// Groups `records` (data rows) by the columns of `keys`; `table`: one level of whole keys.
    fn build(keys: &Grid, records: &[usize], table: bool) -> Tree {
        let fields = keys.cols;
        let depth = if table { fields.min(1) } else { fields };
        let mut nodes = vec![Node {
            labels: Vec::new(),
            level: 0,
            parent: 0,
            children: Vec::new(),
            records: records.to_vec(),
        }];
        let mut index: HashMap<(usize, String), usize> = HashMap::new();
        for &r in records {
            let mut node = 0;
            for level in 1..=depth {
                let (labels, key) = if table {
                    let labels: Vec<Value> = (0..fields).map(|c| keys.at(r, c).clone()).collect();
                    let key = labels
                        .iter()
                        .map(group_key)
                        .collect::<Vec<_>>()
                        .join("\u{0}");
                    (labels, key)
                } else {
                    let v = keys.at(r, level - 1);
                    let mut labels = nodes[node].labels.clone();
                    labels.push(v.clone());
                    (labels, group_key(v))
                };
                let child = match index.get(&(node, key.clone())) {
                    Some(&c) => c,
                    None => {
                        let c = nodes.len();
                        nodes.push(Node {
                            labels,
                            level,
                            parent: node,
                            children: Vec::new(),
                            records: Vec::new(),
                        });
                        nodes[node].children.push(c);
                        index.insert((node, key), c);
                        c
                    }
                };
                nodes[child].records.push(r);
                node = child;
            }
        }
        Tree {
            nodes,
            fields,
            depth,
        }
    }

    /// Sorts every node's children by `specs` (see the module docs); `value(node, j)` is the
    /// node's aggregate of value column `j`.
    fn sort(&mut self, specs: &[i64], value: &HashMap<(usize, usize), Value>) {
        let table = self.depth == 1 && self.fields > 1;
        for n in 0..self.nodes.len() {
            let mut children = std::mem::take(&mut self.nodes[n].children);
            children.sort_by(|&a, &b| {
                let (na, nb) = (&self.nodes[a], &self.nodes[b]);
                for &s in specs {
                    let col = s.unsigned_abs() as usize;
                    let desc = s < 0;
                    let o = if col <= self.fields {
                        if !table && col != na.level {
                            continue;
                        }
                        key_cmp(&na.labels[col - 1], &nb.labels[col - 1], desc)
                    } else {
                        let j = col - self.fields - 1;
                        let empty = Value::Empty;
                        key_cmp(
                            value.get(&(a, j)).unwrap_or(&empty),
                            value.get(&(b, j)).unwrap_or(&empty),
                            desc,
                        )
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                na.labels
                    .iter()
                    .zip(&nb.labels)
                    .map(|(x, y)| key_cmp(x, y, false))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            });
            self.nodes[n].children = children;
        }
    }

    /// The lines of the output in order, with totals to `total_depth`.
    fn lines(&self, total_depth: i64) -> Vec<Line> {
        let top = total_depth < 0;
        let d = total_depth.unsigned_abs() as usize;
        let subs = if self.depth < self.fields.max(1) {
            0
        } else {
            d.saturating_sub(1)
        };
        let mut out = Vec::new();
        if d >= 1 && top {
            out.push(Line::Total);
        }
        self.walk(0, subs, top, &mut out);
        if d >= 1 && !top {
            out.push(Line::Total);
        }
        out
    }

    fn walk(&self, n: usize, subs: usize, top: bool, out: &mut Vec<Line>) {
        for &c in &self.nodes[n].children {
            let node = &self.nodes[c];
            if node.level >= self.depth {
                out.push(Line::Leaf(c));
                continue;
            }
            let sub = node.level <= subs;
            if sub && top {
                out.push(Line::Sub(c));
            }
            self.walk(c, subs, top, out);
            if sub && !top {
                out.push(Line::Sub(c));
            }
        }
    }

    /// The key cells of a line: its keys, blanks below them, "Total" for the grand total.
    fn label_cells(&self, line: Line) -> Vec<Value> {
        let mut cells = vec![Value::Empty; self.fields];
        match line {
            Line::Total => {
                if let Some(c) = cells.first_mut() {
                    *c = Value::Text("Total".into());
                }
            }
            Line::Leaf(n) | Line::Sub(n) => {
                for (c, v) in cells.iter_mut().zip(&self.nodes[n].labels) {
                    *c = v.clone();
                }
            }
        }
        cells
    }

    fn parent(&self, n: usize) -> usize {
        self.nodes[n].parent
    }
}

/// The rows in both (ascending) lists.
fn intersect(a: &[usize], b: &[usize]) -> Vec<usize> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Column `c` of `values` at the rows `records`, as a column array.
fn column(values: &Grid, records: &[usize], c: usize) -> Value {
    let data = records.iter().map(|&r| values.at(r, c).clone()).collect();
    Value::Array(Arc::new(Array::column(data)))
}

fn is_missing(e: Option<&Expr>) -> bool {
    e.is_none_or(|e| matches!(e.kind, ExprKind::Missing))
}

fn fail(e: ErrorKind) -> Arg {
    Arg::Value(Value::Error(e))
}

impl Evaluator<'_> {
    /// An optional whole-number argument: `default` when omitted, `#VALUE!` outside `allowed`.
    fn int_arg(
        &mut self,
        e: Option<&Expr>,
        default: i64,
        allowed: std::ops::RangeInclusive<i64>,
    ) -> Res<i64> {
        let Some(e) = e.filter(|e| !is_missing(Some(e))) else {
            return Ok(default);
        };
        let v = match self.eval_value(e) {
            Value::Array(a) if a.rows == 1 && a.cols == 1 => a.data[0].clone(),
            Value::Array(_) => return Err(ErrorKind::Value),
            v => v,
        };
        let n = match v {
            Value::Empty => return Ok(default),
            v => v.to_number()?.trunc(),
        };
        if !n.is_finite() || !allowed.contains(&(n as i64)) {
            return Err(ErrorKind::Value);
        }
        Ok(n as i64)
    }

    /// The sort keys: nonzero column numbers, at most `max` in magnitude.
    fn sort_specs(&mut self, e: Option<&Expr>, max: usize) -> Res<Vec<i64>> {
        let Some(e) = e.filter(|e| !is_missing(Some(e))) else {
            return Ok(Vec::new());
        };
        let g = Grid::from_value(self.array_arg(e))?;
        if g.rows > 1 && g.cols > 1 {
            return Err(ErrorKind::Value);
        }
        let mut specs = Vec::new();
        for v in &g.data {
            if matches!(v, Value::Empty) {
                continue;
            }
            let n = v.to_number()?.trunc();
            if n == 0.0 || !n.is_finite() || n.abs() > max as f64 {
                return Err(ErrorKind::Value);
            }
            specs.push(n as i64);
        }
        Ok(specs)
    }

    /// The aggregation argument: a LAMBDA of one or two parameters, or a function by name.
    fn agg_arg(&mut self, e: &Expr) -> Res<Agg> {
        if let Some(name) = self.eta_name(e) {
            let two = name == "PERCENTOF";
            if let Some(f) = self.eta(e, if two { 2 } else { 1 }) {
                return Ok(Agg { f, two });
            }
        }
        match self.eval_local(e) {
            Local::Lambda(f) if f.params.len() == 1 || f.params.len() == 2 => {
                let two = f.params.len() == 2;
                Ok(Agg { f, two })
            }
            Local::Arg(Arg::Value(Value::Error(e))) => Err(e),
            _ => Err(ErrorKind::Value),
        }
    }

    /// Calls the aggregation on a group's values.
    fn aggregate(&mut self, agg: &Agg, subset: Value, all: impl FnOnce() -> Value) -> Value {
        let mut args = vec![Local::Arg(Arg::Value(subset))];
        if agg.two {
            args.push(Local::Arg(Arg::Value(all())));
        }
        let l = self.apply(&agg.f, args);
        self.element_result(l)
    }

    /// The data rows kept by `filter_array` (all when omitted).
    fn filter_rows(&mut self, e: Option<&Expr>, rows: usize, headers: bool) -> Res<Vec<usize>> {
        let Some(e) = e.filter(|e| !is_missing(Some(e))) else {
            return Ok((0..rows).collect());
        };
        let g = Grid::from_value(self.array_arg(e))?;
        if g.rows > 1 && g.cols > 1 {
            return Err(ErrorKind::Value);
        }
        let skip = match g.data.len() {
            n if n == rows => 0,
            n if headers && n == rows + 1 => 1,
            _ => return Err(ErrorKind::Value),
        };
        let mut kept = Vec::with_capacity(rows);
        for (r, v) in g.data[skip..].iter().enumerate() {
            let keep = match v {
                Value::Empty => false,
                Value::Text(_) => return Err(ErrorKind::Value),
                v => v.to_bool()?,
            };
            if keep {
                kept.push(r);
            }
        }
        if kept.is_empty() {
            return Err(ErrorKind::Calc);
        }
        Ok(kept)
    }

    /// `field_headers` resolved against the values: (the data has headers, show them,
    /// generate them).
    fn field_headers(&mut self, e: Option<&Expr>, values: &Grid) -> Res<(bool, bool, bool)> {
        let auto = values.rows >= 2
            && values.cols >= 1
            && matches!(values.at(0, 0), Value::Text(_))
            && matches!(values.at(1, 0), Value::Number(_));
        let fh = self.int_arg(e, if auto { 1 } else { 0 }, 0..=3)?;
        Ok((fh == 1 || fh == 3, fh >= 2, fh == 2))
    }

    /// GROUPBY (see the module docs).
    pub(super) fn groupby(&mut self, args: &[Expr]) -> Arg {
        match self.groupby_inner(args) {
            Ok(v) => Arg::Value(v),
            Err(e) => fail(e),
        }
    }

    fn groupby_inner(&mut self, args: &[Expr]) -> Res<Value> {
        if !(3..=8).contains(&args.len()) {
            return Err(ErrorKind::Value);
        }
        let keys = Grid::from_value(self.array_arg(&args[0]))?;
        let values = Grid::from_value(self.array_arg(&args[1]))?;
        let agg = self.agg_arg(&args[2])?;
        let (has_headers, show, generate) = self.field_headers(args.get(3), &values)?;
        let depth = self.int_arg(args.get(4), 1, -1_048_576..=1_048_576)?;
        let table = self.int_arg(args.get(7), 0, 0..=1)? == 1 && keys.cols > 1;
        if table && depth.abs() > 1 {
            return Err(ErrorKind::Value);
        }
        let specs = self.sort_specs(args.get(5), keys.cols + values.cols)?;
        let (key_heads, keys, value_heads, values) = if has_headers {
            let (kh, k) = keys.split_header();
            let (vh, v) = values.split_header();
            (kh, k, vh, v)
        } else {
            (Vec::new(), keys, Vec::new(), values)
        };
        if keys.rows != values.rows || keys.rows == 0 {
            return Err(ErrorKind::Value);
        }
        let records = self.filter_rows(args.get(6), keys.rows, has_headers)?;
        let mut tree = Tree::build(&keys, &records, table);

        // Every group's aggregate of every value column (the sort may need any of them).
        let mut cells: HashMap<(usize, usize), Value> = HashMap::new();
        for n in 0..tree.nodes.len() {
            for j in 0..values.cols {
                let subset = column(&values, &tree.nodes[n].records, j);
                let v = self.aggregate(&agg, subset, || column(&values, &records, j));
                cells.insert((n, j), v);
            }
        }
        tree.sort(&specs, &cells);

        let width = keys.cols + values.cols;
        let mut out: Vec<Value> = Vec::new();
        if show {
            for c in 0..keys.cols {
                out.push(if generate {
                    Value::Text(format!("Row Field {}", c + 1).into())
                } else {
                    key_heads.get(c).cloned().unwrap_or(Value::Empty)
                });
            }
            for j in 0..values.cols {
                out.push(if generate {
                    Value::Text(format!("Value {}", j + 1).into())
                } else {
                    value_heads.get(j).cloned().unwrap_or(Value::Empty)
                });
            }
        }
        for line in tree.lines(depth) {
            out.extend(tree.label_cells(line));
            let n = line.node();
            for j in 0..values.cols {
                out.push(cells.get(&(n, j)).cloned().unwrap_or(Value::Empty));
            }
        }
        if out.is_empty() {
            return Err(ErrorKind::Calc);
        }
        let rows = out.len() / width;
        Ok(Value::Array(Arc::new(Array::new(rows, width, out))))
    }

    /// PIVOTBY (see the module docs).
    pub(super) fn pivotby(&mut self, args: &[Expr]) -> Arg {
        match self.pivotby_inner(args) {
            Ok(v) => Arg::Value(v),
            Err(e) => fail(e),
        }
    }

    fn pivotby_inner(&mut self, args: &[Expr]) -> Res<Value> {
        if !(4..=11).contains(&args.len()) || is_missing(args.first()) || is_missing(args.get(1)) {
            return Err(ErrorKind::Value);
        }
        let row_keys = Grid::from_value(self.array_arg(&args[0]))?;
        let col_keys = Grid::from_value(self.array_arg(&args[1]))?;
        let values = Grid::from_value(self.array_arg(&args[2]))?;
        if values.cols != 1 {
            return Err(ErrorKind::Value);
        }
        let agg = self.agg_arg(&args[3])?;
        let (has_headers, show, _) = self.field_headers(args.get(4), &values)?;
        if show {
            return Err(ErrorKind::Value);
        }
        let row_depth = self.int_arg(args.get(5), 1, -1_048_576..=1_048_576)?;
        let row_specs = self.sort_specs(args.get(6), row_keys.cols + values.cols)?;
        let col_depth = self.int_arg(args.get(7), 1, -1_048_576..=1_048_576)?;
        let col_specs = self.sort_specs(args.get(8), col_keys.cols + values.cols)?;
        let relative = self.int_arg(args.get(10), 0, 0..=4)?;
        let (row_keys, col_keys, values) = if has_headers {
            (
                row_keys.split_header().1,
                col_keys.split_header().1,
                values.split_header().1,
            )
        } else {
            (row_keys, col_keys, values)
        };
        if row_keys.rows != values.rows || col_keys.rows != values.rows || values.rows == 0 {
            return Err(ErrorKind::Value);
        }
        let records = self.filter_rows(args.get(9), values.rows, has_headers)?;
        let mut rows = Tree::build(&row_keys, &records, false);
        let mut cols = Tree::build(&col_keys, &records, false);

        let cell = |ev: &mut Self, rows: &Tree, cols: &Tree, rn: usize, cn: usize| -> Value {
            let (r, c) = (&rows.nodes[rn], &cols.nodes[cn]);
            let subset = intersect(&r.records, &c.records);
            if subset.is_empty() {
                return Value::Empty;
            }
            let context = || -> Vec<usize> {
                match relative {
                    1 => r.records.clone(),
                    2 => records.clone(),
                    3 => intersect(&r.records, &cols.nodes[cols.parent(cn)].records),
                    4 => intersect(&rows.nodes[rows.parent(rn)].records, &c.records),
                    _ => c.records.clone(),
                }
            };
            let sub = column(&values, &subset, 0);
            ev.aggregate(&agg, sub, || column(&values, &context(), 0))
        };

        // Sort values: a row group's total over every column, a column group's over every row.
        let mut row_totals = HashMap::new();
        if row_specs
            .iter()
            .any(|s| s.unsigned_abs() as usize > row_keys.cols)
        {
            for n in 0..rows.nodes.len() {
                let v = cell(self, &rows, &cols, n, 0);
                row_totals.insert((n, 0), v);
            }
        }
        let mut col_totals = HashMap::new();
        if col_specs
            .iter()
            .any(|s| s.unsigned_abs() as usize > col_keys.cols)
        {
            for n in 0..cols.nodes.len() {
                let v = cell(self, &rows, &cols, 0, n);
                col_totals.insert((n, 0), v);
            }
        }
        rows.sort(&row_specs, &row_totals);
        cols.sort(&col_specs, &col_totals);

        let row_lines = rows.lines(row_depth);
        let col_lines = cols.lines(col_depth);
        let width = row_keys.cols + col_lines.len();
        let mut out: Vec<Value> = Vec::new();
        let col_labels: Vec<Vec<Value>> = col_lines.iter().map(|&l| cols.label_cells(l)).collect();
        for level in 0..col_keys.cols {
            out.extend(std::iter::repeat_n(Value::Empty, row_keys.cols));
            for labels in &col_labels {
                out.push(labels[level].clone());
            }
        }
        for &rl in &row_lines {
            out.extend(rows.label_cells(rl));
            for &cl in &col_lines {
                let v = cell(self, &rows, &cols, rl.node(), cl.node());
                out.push(v);
            }
        }
        if width == 0 || out.is_empty() {
            return Err(ErrorKind::Calc);
        }
        let n = out.len() / width;
        Ok(Value::Array(Arc::new(Array::new(n, width, out))))
    }
}

#[cfg(test)]
mod tests;

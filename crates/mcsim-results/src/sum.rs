//! Compensated summation that does not depend on how the data is chunked.

/// A running sum using Neumaier's compensated summation.
///
/// Values are added one at a time in the order given, so the result depends only on the sequence
/// of values, never on how a caller splits it into blocks: feeding `[a, b, c, d]` as one slice or
/// as `[a]`, `[b, c]`, `[d]` gives the same bits. All statistics in this crate sum samples in
/// iteration order through this type, so they are bit-stable across engine thread counts as long
/// as the samples arrive in iteration order.
///
/// ```
/// use mcsim_results::StableSum;
/// let mut s = StableSum::new();
/// s.extend(&[1e100, 1.0, -1e100]);
/// assert_eq!(s.value(), 1.0); // naive summation gives 0.0
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StableSum {
    sum: f64,
    compensation: f64,
    count: u64,
}

impl StableSum {
    /// An empty sum (value 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
        self.count += 1;
    }

    /// Adds every value of `xs`, in order.
    pub fn extend(&mut self, xs: &[f64]) {
        for &x in xs {
            self.add(x);
        }
    }

    /// The compensated sum so far.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Sum of an iterator with [`StableSum`].
pub(crate) fn stable_sum(it: impl IntoIterator<Item = f64>) -> f64 {
    let mut s = StableSum::new();
    for x in it {
        s.add(x);
    }
    s.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunking_does_not_change_bits() {
        // Values with wildly different magnitudes, so naive sums differ by order.
        let xs: Vec<f64> = (0..10_007)
            .map(|i| {
                let f = i as f64;
                (f * 0.7310585).sin() * 10f64.powi((i % 17) - 8)
            })
            .collect();
        let mut whole = StableSum::new();
        whole.extend(&xs);
        for chunk in [1usize, 3, 64, 1000, 4096] {
            let mut s = StableSum::new();
            for c in xs.chunks(chunk) {
                s.extend(c);
            }
            assert_eq!(
                s.value().to_bits(),
                whole.value().to_bits(),
                "chunk {chunk}"
            );
            assert_eq!(s.count(), xs.len() as u64);
        }
    }

    #[test]
    fn compensation_recovers_lost_bits() {
        let mut s = StableSum::new();
        s.extend(&[1.0, 1e100, 1.0, -1e100]);
        assert_eq!(s.value(), 2.0);
        let naive: f64 = [1.0, 1e100, 1.0, -1e100].iter().sum();
        assert_eq!(naive, 0.0);
    }
}

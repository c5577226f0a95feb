//! Random call sites: every distribution call (`RiskNormal(..)`, wherever it stands in a formula)
//! and every `RAND()`/`RANDBETWEEN()` call in the simulated part of a model.
//!
//! @RISK samples each distribution call where it stands: `=RiskBinomial(n,p)*w`,
//! `=IF(A1>0,RiskNormal(..),0)` and `=RiskNormal(RiskUniform(1,2),1)` hold one, one and two inputs.
//! A site is identified by its cell and the position of the call in the formula's text (the start
//! of the call's span), so the compiled program and the interpreter find the same column for it,
//! and so the identity survives edits elsewhere in the workbook.
//!
//! During a simulation each site has one column of values per block: the sampled value of a
//! distribution whose parameters are fixed, or a uniform in [0, 1) for `RAND()` and for a
//! distribution whose parameters change from iteration to iteration (its quantile is then taken at
//! that uniform with the iteration's parameters: [`DynamicDist`]).

use crate::model::SheetId;
use mcsim_sampling::Modifiers;
use std::collections::HashMap;

/// Where a site is: the cell (sheet, zero-based row and column) and the byte offset of the call in
/// the formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SiteKey {
    /// Sheet.
    pub sheet: SheetId,
    /// Row (zero-based).
    pub row: u32,
    /// Column (zero-based).
    pub col: u32,
    /// Start of the call in the formula text.
    pub offset: u32,
}

/// What a site's column holds.
#[derive(Debug, Clone, PartialEq)]
pub enum SiteKind {
    /// A uniform in [0, 1) for `RAND()` / `RANDBETWEEN()`.
    Rand,
    /// The sampled values of a distribution with fixed parameters.
    Sampled,
    /// A uniform in [0, 1) at which the distribution's quantile is taken with the parameters of
    /// the iteration (they depend on other uncertain cells).
    Dynamic(DynamicDist),
}

/// A distribution whose parameters are evaluated per iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicDist {
    /// Truncation and shift (their arguments are evaluated once).
    pub modifiers: Modifiers,
}

/// One site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Where it is.
    pub key: SiteKey,
    /// What its column holds.
    pub kind: SiteKind,
}

/// A hasher for [`SiteKey`]s, which the interpreter looks up at every random call of every
/// iteration: the four numbers mixed by multiplication (SipHash's resistance to chosen keys buys
/// nothing here and costs most of the lookup).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Sites by position, for the evaluator: each site's column index.
#[derive(Debug, Clone, Default)]
pub struct SiteTable {
    index: HashMap<SiteKey, u32, std::hash::BuildHasherDefault<KeyHasher>>,
    kinds: Vec<SiteKind>,
}

impl SiteTable {
    /// The table of these sites; site `j` reads column `j` of the values the caller sets.
    pub fn new(sites: &[Site]) -> SiteTable {
        SiteTable {
            index: sites
                .iter()
                .enumerate()
                .map(|(j, s)| (s.key, j as u32))
                .collect(),
            kinds: sites.iter().map(|s| s.kind.clone()).collect(),
        }
    }

    /// The column of the site at this position, with its kind.
    pub fn get(&self, key: &SiteKey) -> Option<(usize, &SiteKind)> {
        let j = *self.index.get(key)? as usize;
        Some((j, self.kinds.get(j)?))
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// No sites.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

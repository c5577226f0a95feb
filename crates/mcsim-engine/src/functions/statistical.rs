//! Statistical functions.

use super::FnSpec;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[];

//! Date functions.

use super::FnSpec;

/// The functions of this category.
pub const FUNCTIONS: &[FnSpec] = &[];

/// Reads a date and/or time written as text (`2024-01-31`, `1/31/2024`, `12:30`, `31-Jan-2024`) as a
/// serial number in the 1900 date system. `None` if the text is not a date or time.
pub fn parse_date_time(_s: &str) -> Option<f64> {
    None
}

//! Parse errors.

use crate::ast::Span;

/// A formula that does not parse: what is wrong and where (byte offsets in the formula text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at position {}", span.start + 1)]
#[non_exhaustive]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// Where (byte offsets into the formula text without `=`).
    pub span: Span,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, start: usize, end: usize) -> Self {
        ParseError {
            message: message.into(),
            span: Span::new(start, end),
        }
    }

    /// An error found after parsing (when a model is built), at `span` of the formula text.
    pub fn at(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
        }
    }
}

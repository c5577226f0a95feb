//! The model file (`mcsim.toml`): inputs, outputs, correlations and run settings for workbooks
//! that carry no distribution functions, or to override the ones they carry.
//!
//! ```toml
//! iterations = 10000
//! seed = 42
//! sampling = "lhs"            # or "mc"
//!
//! [[input]]
//! cell = "Inputs!B3"
//! name = "price"
//! dist = { type = "normal", mean = 55, sd = 5 }
//! truncate = { min = 40 }     # optional, either bound
//!
//! [[output]]
//! cell = "Outputs!B2"
//! name = "NPV"
//!
//! [[correlation]]
//! inputs = ["price", "volume"]
//! matrix = [[1.0, 0.5], [0.5, 1.0]]
//! ```

use crate::error::OpsError;
use mcsim_sampling::Distribution;
use serde::Deserialize;
use std::path::Path;

/// A parsed model file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Iterations (overridden by `-n`).
    pub iterations: Option<u64>,
    /// Seed (overridden by `--seed`).
    pub seed: Option<u64>,
    /// `lhs` or `mc` (overridden by `--sampling`).
    pub sampling: Option<String>,
    /// Uncertain inputs.
    #[serde(default, rename = "input")]
    pub inputs: Vec<InputConfig>,
    /// Outputs.
    #[serde(default, rename = "output")]
    pub outputs: Vec<OutputConfig>,
    /// Rank-correlation groups.
    #[serde(default, rename = "correlation")]
    pub correlations: Vec<CorrelationConfig>,
}

/// One input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputConfig {
    /// `Sheet!A1`.
    pub cell: String,
    /// A name for reports (defaults to the cell).
    pub name: Option<String>,
    /// The distribution: `{ type = "normal", mean = .., sd = .. }`.
    pub dist: toml::Table,
    /// Optional truncation.
    pub truncate: Option<TruncateConfig>,
    /// Optional shift added after truncation.
    pub shift: Option<f64>,
}

/// Truncation bounds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruncateConfig {
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
}

/// One output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// `Sheet!A1`.
    pub cell: String,
    /// A name for reports (defaults to the cell).
    pub name: Option<String>,
}

/// A rank-correlation matrix over named inputs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrelationConfig {
    /// Input names (or cells), in matrix order.
    pub inputs: Vec<String>,
    /// The matrix.
    pub matrix: Vec<Vec<f64>>,
}

impl ModelConfig {
    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<ModelConfig, OpsError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses model-file text (`path` only names it in messages).
    pub fn parse(text: &str, path: &Path) -> Result<ModelConfig, OpsError> {
        let cfg: ModelConfig = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|sp| text[..sp.start.min(text.len())].matches('\n').count() + 1);
            OpsError::Config {
                path: path.to_path_buf(),
                message: match line {
                    Some(l) => format!("line {l}: {}", e.message()),
                    None => e.message().to_string(),
                },
            }
        })?;
        for (i, inp) in cfg.inputs.iter().enumerate() {
            inp.distribution().map_err(|message| OpsError::Config {
                path: path.to_path_buf(),
                message: format!("input {} ({}): {message}", i + 1, inp.cell),
            })?;
        }
        Ok(cfg)
    }
}

impl InputConfig {
    /// The distribution, with unknown keys rejected by name.
    pub fn distribution(&self) -> Result<Distribution, String> {
        let d: Distribution = toml::Value::Table(self.dist.clone())
            .try_into()
            .map_err(|e: toml::de::Error| format!("bad `dist`: {}", e.message()))?;
        // Round-trip to find keys the distribution does not take (serde's internally tagged enums
        // ignore them silently otherwise).
        let known = toml::Value::try_from(&d).map_err(|e| e.to_string())?;
        if let toml::Value::Table(known) = known {
            let unknown: Vec<&str> = self
                .dist
                .keys()
                .filter(|k| !known.contains_key(k.as_str()) && k.as_str() != "type")
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(format!(
                    "unknown key(s) {} for a `{}` distribution; it takes {}",
                    unknown
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    known.get("type").and_then(|t| t.as_str()).unwrap_or("?"),
                    known
                        .keys()
                        .filter(|k| k.as_str() != "type")
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        d.validate().map_err(|e| e.to_string())?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_a_model_file() {
        let cfg = ModelConfig::parse(
            r#"
iterations = 500
sampling = "mc"
[[input]]
cell = "Inputs!B3"
name = "price"
dist = { type = "normal", mean = 55, sd = 5 }
truncate = { min = 40 }
[[output]]
cell = "Outputs!B2"
"#,
            Path::new("m.toml"),
        )
        .unwrap();
        assert_eq!(cfg.iterations, Some(500));
        assert_eq!(
            cfg.inputs[0].distribution().unwrap(),
            Distribution::Normal {
                mean: 55.0,
                sd: 5.0
            }
        );
        assert_eq!(cfg.outputs[0].cell, "Outputs!B2");
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = ModelConfig::parse("iterations = 5\nseeed = 3\n", Path::new("m.toml")).unwrap_err();
        assert!(e.to_string().contains("seeed"), "{e}");
        let e = ModelConfig::parse(
            "[[input]]\ncell = \"A1\"\ndist = { type = \"normal\", mean = 1, sd = 2, sigma = 3 }\n",
            Path::new("m.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`sigma`"), "{e}");
        let e = ModelConfig::parse(
            "[[input]]\ncell = \"A1\"\ndist = { type = \"normal\", mean = 1, sd = -2 }\n",
            Path::new("m.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("A1"), "{e}");
    }
}

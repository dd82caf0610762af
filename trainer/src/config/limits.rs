//! The limits on every size a user or a recipe file can make large, one definition each: the
//! `train` settings are checked by [`TrainConfig::validate`](super::TrainConfig::validate) (flags
//! and recipe files alike), the other commands' flags by the parsers here, at parse time. Each
//! error names the flag, the value and the limit.

use super::error::ConfigError;

/// Mixture length in seconds (`train --seconds`, `eval --seconds`).
pub const SECONDS: (f32, f32) = (0.05, 60.0);
/// Mixtures per training batch (`--batch`).
pub const BATCH: (usize, usize) = (1, 256);
/// Training steps (`--steps`).
pub const STEPS: (usize, usize) = (0, 10_000_000);
/// Speech files per split (`--max-files`; 0 = all).
pub const MAX_FILES: (usize, usize) = (0, 1_000_000);
/// Channels of the conv layers (`--width`).
pub const WIDTH: (usize, usize) = (8, 512);
/// Steps between checkpoints (`--ckpt-every`).
pub const CKPT_EVERY: (usize, usize) = (1, 10_000_000);
/// Test mixtures per SNR (`eval --per-snr`).
pub const PER_SNR: (usize, usize) = (1, 1000);
/// Calibration mixtures of the integer path (`export --calib`).
pub const CALIB: (usize, usize) = (1, 1000);
/// Host buffers a blob may ask for, in MiB (`--max-buffer-mib`), and the default cap.
pub const BUFFER_MIB: (u64, u64) = (0, 1 << 20);
pub const DEFAULT_BUFFER_MIB: u64 = 64;

/// `value` of `setting` within `(min, max)`, inclusive.
pub fn check<T: PartialOrd + std::fmt::Display>(
    setting: &'static str,
    value: T,
    (min, max): (T, T),
) -> Result<T, ConfigError> {
    if value >= min && value <= max {
        Ok(value)
    } else {
        Err(ConfigError::Limit { setting, value: value.to_string(), min: min.to_string(), max: max.to_string() })
    }
}

fn parse<T: std::str::FromStr + PartialOrd + std::fmt::Display>(s: &str, limits: (T, T)) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    let v: T = s.trim().parse().map_err(|e: T::Err| e.to_string())?;
    // clap names the flag and the value before this message
    check("the value", v, limits).map_err(|e| match e {
        ConfigError::Limit { min, max, .. } => format!("outside the limits {min}..={max}"),
        e => e.to_string(),
    })
}

/// `eval --seconds`.
pub fn parse_seconds(s: &str) -> Result<f32, String> {
    parse(s, SECONDS)
}
/// `eval --per-snr`.
pub fn parse_per_snr(s: &str) -> Result<usize, String> {
    parse(s, PER_SNR)
}
/// `eval --max-files`.
pub fn parse_max_files(s: &str) -> Result<usize, String> {
    parse(s, MAX_FILES)
}
/// `export --calib`.
pub fn parse_calib(s: &str) -> Result<usize, String> {
    parse(s, CALIB)
}
/// `--max-buffer-mib`.
pub fn parse_buffer_mib(s: &str) -> Result<u64, String> {
    parse(s, BUFFER_MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_limits_are_named_errors() {
        assert_eq!(parse_seconds("4").unwrap(), 4.0);
        assert_eq!(parse_seconds("1e6").unwrap_err(), "outside the limits 0.05..=60");
        assert!(parse_seconds("NaN").is_err() && parse_seconds("-1").is_err());
        assert!(parse_per_snr("0").is_err() && parse_per_snr("1001").is_err() && parse_per_snr("x").is_err());
        let e = check("--batch", 100_000, BATCH).unwrap_err().to_string();
        assert_eq!(e, "--batch = 100000 is outside the limits 1..=256");
    }
}

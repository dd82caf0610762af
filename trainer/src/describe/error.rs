//! Errors of a model description: every one names the file, the line and column, the field
//! (`[[layer]] "c1".kernel`, `[frontend].n_mels`) and what is wrong with it.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Where in the description an error lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    /// 1-based line and column (0 when the file gives no position, e.g. it cannot be read).
    pub line: usize,
    pub col: usize,
    /// The field, e.g. `[[layer]] "c1".kernel`.
    pub field: String,
}

/// A description that cannot be used: where, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct DescError {
    pub place: Place,
    pub message: String,
}

impl fmt::Display for DescError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.place;
        write!(f, "{}:{}:{}: {}: {}", p.file.display(), p.line, p.col, p.field, self.message)
    }
}

/// The text of a description and its name, turning byte spans into line:column.
pub struct Source<'a> {
    pub file: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let before = self.text.get(..at.min(self.text.len())).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }

    /// An error at `span` about `field`.
    pub fn error(&self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) -> DescError {
        let (line, col) = self.line_col(span.start);
        DescError {
            place: Place { file: self.file.to_path_buf(), line, col, field: field.into() },
            message: message.into(),
        }
    }

    /// The TOML parser's or serde's error, with the table it lies in as the field.
    pub fn parse_error(&self, e: &toml::de::Error) -> DescError {
        let span = e.span().unwrap_or(0..0);
        let field = self.section_at(span.start);
        self.error(span, field, e.message().trim_end())
    }

    /// The table header in force at byte `at`: `[frontend]`, `[[layer]] #3`, or `top level`.
    fn section_at(&self, at: usize) -> String {
        let before = self.text.get(..at.min(self.text.len())).unwrap_or(self.text);
        let mut section = String::from("top level");
        let mut layers = 0;
        for line in before.lines().map(str::trim) {
            if line.starts_with("[[layer]]") {
                layers += 1;
                section = format!("[[layer]] #{layers}");
            } else if line.starts_with('[') {
                section = line.split(']').next().map_or(String::new(), |s| format!("{s}]"));
            }
        }
        section
    }
}

/// An error about the file as a whole (it cannot be read).
pub fn file_error(file: &Path, message: impl Into<String>) -> DescError {
    DescError {
        place: Place { file: file.to_path_buf(), line: 0, col: 0, field: "file".into() },
        message: message.into(),
    }
}

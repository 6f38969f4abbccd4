//! The per-bundle summary (`summary.json`, schema `bitsdoctor/summary/v3`): the folded state
//! the diagnosis rules run on, without the events, so that `bitsdoctor merge` can reduce the
//! summaries of many bundles (analysed apart, on any number of machines) into one fleet report
//! with the same diagnoses as one `analyze` of every bundle. Schema: docs/summary.md.

use crate::diagnose::diagnose_guarded;
use crate::knowledge::Knowledge;
use crate::parse::Warning;
use crate::report::{InputRow, Report, WindowRow};
use crate::spill::FleetParts;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

pub const SCHEMA: &str = "bitsdoctor/summary/v3";

/// A summary as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema: String,
    pub inputs: Vec<InputRow>,
    pub warnings: Vec<Warning>,
    pub state: FleetParts,
    /// The `--since` / `--until` window the analysis kept, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowRow>,
    /// Per host, the clock its console times were placed with.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clocks: BTreeMap<String, String>,
    /// Paths that could not be read (for stderr; each is also an input row or a warning).
    #[serde(skip)]
    pub unread: Vec<crate::app::Unread>,
}

/// A summary being written, borrowing what the analysis holds.
#[derive(Debug, Serialize)]
pub struct View<'a> {
    pub schema: &'static str,
    pub inputs: &'a [InputRow],
    pub warnings: &'a [Warning],
    pub state: &'a FleetParts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: &'a Option<WindowRow>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub clocks: &'a BTreeMap<String, String>,
}

impl View<'_> {
    /// Compact JSON (one line) with a trailing newline.
    pub fn write(&self, w: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *w, self)?;
        w.write_all(b"\n")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a bitsdoctor summary: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: schema `{found}` is not {SCHEMA}")]
    Schema { path: PathBuf, found: String },
}

/// Read one `summary.json`.
pub fn read(path: &Path) -> Result<Summary, SummaryError> {
    let file = std::fs::File::open(path).map_err(|source| SummaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // The schema is checked before the rest is trusted.
    let s: Summary =
        serde_json::from_reader(BufReader::new(file)).map_err(|source| SummaryError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    if s.schema != SCHEMA {
        return Err(SummaryError::Schema {
            path: path.to_path_buf(),
            found: s.schema,
        });
    }
    Ok(s)
}

/// Reduce summaries, in the order given (the order inputs would have been read in), into one
/// summary.
pub fn combine(summaries: impl IntoIterator<Item = Summary>) -> Summary {
    let mut all = Summary {
        schema: SCHEMA.to_string(),
        inputs: Vec::new(),
        warnings: Vec::new(),
        state: FleetParts::default(),
        window: None,
        clocks: BTreeMap::new(),
        unread: Vec::new(),
    };
    for s in summaries {
        all.inputs.extend(s.inputs);
        all.warnings.extend(s.warnings);
        all.state.absorb_parts(s.state);
        all.window = all.window.or(s.window);
        all.clocks.extend(s.clocks);
    }
    all
}

impl Summary {
    pub fn view(&self) -> View<'_> {
        View {
            schema: SCHEMA,
            inputs: &self.inputs,
            warnings: &self.warnings,
            state: &self.state,
            window: &self.window,
            clocks: &self.clocks,
        }
    }

    /// The report of everything the summary holds.
    pub fn report(self, kb: &Knowledge, lens: Option<&crate::diagnose::security::Lens>) -> Report {
        let (fleet, lost) = self.state.finish();
        let (diagnoses, failed) = diagnose_guarded(&fleet, kb, lens);
        let mut warnings = self.warnings;
        warnings.extend(lost);
        warnings.extend(failed);
        let mut report = Report::build(self.inputs, fleet, diagnoses, warnings);
        report.window = self.window;
        report.unread = self.unread;
        for h in &mut report.hosts {
            h.clock = self.clocks.get(&h.name).cloned();
        }
        report
    }
}

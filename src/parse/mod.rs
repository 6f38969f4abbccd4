//! One parser per input kind. Each turns one decoded input into observations plus warnings and
//! never fails on a whole file: what it cannot read becomes a warning with its line or record.

pub mod binxml;
pub mod bitsadmin;
pub mod events;
pub mod evtx;
pub mod manifest;
pub mod netsh;
pub mod powershell;
pub mod reg;
pub mod sc;
pub mod wulog;

use crate::model::{Locator, Observation};
// Kept here too so parser code can say `super::Warning`; the type lives in the model.
pub use crate::model::Warning;

/// What a parser knows about the input it reads.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The path as the report shows it.
    pub path: &'a str,
    /// The host the input belongs to (text inputs carry none of their own).
    pub host: &'a str,
}

/// What one parser made of one input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub observations: Vec<Observation>,
    pub warnings: Vec<Warning>,
}

impl Parsed {
    pub fn warn(&mut self, src: &Source, at: Option<Locator>, message: impl Into<String>) {
        self.warnings.push(Warning {
            path: src.path.to_string(),
            at,
            message: message.into(),
        });
    }
}

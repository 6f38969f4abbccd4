//! `bitsdoctor analyze PATH...`

use crate::Format;
use bitsdoctor::app::{self, Config};
use bitsdoctor::diagnose::Severity;
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::report;

pub fn run(
    kb: &Knowledge,
    config: &Config,
    format: Format,
    fail_on: Option<Severity>,
) -> (String, u8) {
    match app::analyze(config, kb) {
        Err(e) => {
            eprintln!("bitsdoctor: {e}");
            (String::new(), 2)
        }
        Ok(r) => {
            let text = match format {
                Format::Json => report::json::render(&r),
                _ => report::text::render(&r),
            };
            let failed = fail_on.is_some_and(|l| app::fails(&r, l));
            (text, u8::from(failed))
        }
    }
}

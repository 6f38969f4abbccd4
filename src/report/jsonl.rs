//! JSON Lines: one compact JSON object per line, for pipelines (`jq`, DuckDB `read_json`,
//! pandas `read_json(lines=True)`). Every object has a `type`:
//!
//! - `diagnosis`: a diagnosis, with the fields of the JSON report's `diagnoses`;
//! - `job`: a job, with the fields of the JSON report's `jobs`;
//! - `update`: an update, with the fields of the JSON report's `updates`;
//! - `warning`: a warning about an input;
//! - `event`: one observation, in the order of `events.csv`: `time`, `time_basis` (`utc`,
//!   `local-known-offset`, `local-unknown` or `none`), `host`, `event_id`,
//!   `path`, `record` or `line`, `kind` (the `kind` column of `events.csv`) and that kind's
//!   fields.
//!
//! Lines come in that order: diagnoses (rank order), jobs, updates, warnings, events.

use super::Report;
use crate::model::{Fact, Locator, Observation, TimeBasis, When};
use serde::Serialize;

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    item: &'a T,
}

#[derive(Serialize)]
struct Event<'a> {
    time: &'a When,
    time_basis: TimeBasis,
    host: &'a str,
    event_id: u32,
    path: &'a str,
    #[serde(flatten)]
    at: &'a Locator,
    #[serde(flatten)]
    fact: &'a Fact,
}

fn push<T: Serialize>(out: &mut String, kind: &'static str, item: &T) {
    match serde_json::to_string(&Line { kind, item }) {
        Ok(s) => out.push_str(&s),
        Err(e) => out.push_str(
            &serde_json::json!({ "type": "error", "message": e.to_string() }).to_string(),
        ),
    }
    out.push('\n');
}

/// The report as JSON Lines (see the module documentation), events from `observations`.
pub fn render(r: &Report, observations: &[Observation]) -> String {
    let mut out = render_head(r);
    for o in super::csv::event_order(observations) {
        push(&mut out, "event", &event(o));
    }
    out
}

/// The `event` line of one observation (with its newline).
pub fn event_line(o: &Observation) -> Vec<u8> {
    let mut out = String::new();
    push(&mut out, "event", &event(o));
    out.into_bytes()
}

/// Every line but the events (which `analyze` streams through [`super::events::Spool`]).
pub fn render_head(r: &Report) -> String {
    let mut out = String::new();
    for d in &r.diagnoses {
        push(&mut out, "diagnosis", d);
    }
    for j in &r.jobs {
        push(&mut out, "job", j);
    }
    for u in &r.updates {
        push(&mut out, "update", u);
    }
    for w in &r.warnings {
        push(&mut out, "warning", w);
    }
    out
}

fn event(o: &Observation) -> Event<'_> {
    Event {
        time: &o.time,
        time_basis: o.time.basis(),
        host: &o.host,
        event_id: o.event_id,
        path: &o.evidence.path,
        at: &o.evidence.at,
        fact: &o.fact,
    }
}

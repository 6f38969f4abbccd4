//! Host clocks: placing console captures' local times on the UTC line.
//!
//! bitsadmin and Get-BitsTransfer print a job's creation and completion times in the machine's
//! local time, with no zone; the event log records the same moments in UTC (Bits-Client 3 "job
//! created" and 4 "job completed"). Where one job appears in both, the difference is the host's
//! UTC offset. A host with no such job takes `--timezone`, else its local times stay unplaced.
//!
//! The pairs are explicit: a listing's CREATION TIME against the log's event 3 and its
//! COMPLETION TIME against event 4, never the time a listing was taken (its MODIFICATION
//! TIME) nor a job's first sighting (which `correlate` sets to its creation).

use crate::model::{Fact, Guid, Observation, When};
use jiff::tz::{Offset, TimeZone};
use std::collections::BTreeMap;

/// How far an event-log time and a console time of the same moment may be apart, beyond the
/// offset itself (the console prints whole seconds; the log may record a moment later).
const SLACK_SECONDS: i64 = 120;

/// Offsets are whole quarter hours (every zone in use today).
const QUARTER_HOUR: i64 = 900;

/// Where a host's offset came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetSource {
    /// The same job in an event log and in a console capture.
    Inferred { job: Guid },
    /// `--timezone`.
    Given,
}

/// The offset found for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostClock {
    pub offset: Option<Offset>,
    pub source: OffsetSource,
}

impl HostClock {
    /// For the report: `+01:00 (inferred from job {GUID} in an event log and a console
    /// capture)` or `from --timezone`.
    pub fn describe(&self) -> String {
        match &self.source {
            OffsetSource::Inferred { job } => format!(
                "UTC{} inferred from job {job} seen in an event log and a console capture",
                crate::model::Rfc3339Offset(self.offset.unwrap_or(Offset::UTC))
            ),
            OffsetSource::Given => "from --timezone".into(),
        }
    }
}

/// The offset `local - utc`, when the two are one moment on a clock set to a whole
/// quarter-hour offset within ±14 h.
fn offset_between(local: When, utc: When) -> Option<Offset> {
    let (When::Local(dt), When::Utc(t)) = (local, utc) else {
        return None;
    };
    let as_utc = dt.to_zoned(TimeZone::UTC).ok()?.timestamp();
    let diff = as_utc.as_second() - t.as_second();
    let rounded = (diff as f64 / QUARTER_HOUR as f64).round() as i64 * QUARTER_HOUR;
    if (diff - rounded).abs() > SLACK_SECONDS || rounded.abs() > 14 * 3600 {
        return None;
    }
    Offset::from_seconds(rounded as i32).ok()
}

/// host -> job -> (created, completed) as event logs have them: all that placing console
/// times needs from event logs, kept while their observations are not. Grouped by host, so
/// that a fleet's jobs (one entry each, held until every input is read) do not each hold a
/// copy of their host's name.
pub type Logged = BTreeMap<String, BTreeMap<Guid, (When, When)>>;

/// Note the UTC creation and completion times of jobs in `observations` (later ones win).
pub fn log_times<'a>(logged: &mut Logged, observations: impl IntoIterator<Item = &'a Observation>) {
    for o in observations {
        let (created, Some(g)) = (matches!(o.fact, Fact::JobCreated { .. }), o.fact.job()) else {
            continue;
        };
        let done = matches!(o.fact, Fact::JobCompleted { .. });
        if (created || done) && o.time.utc().is_some() {
            let jobs = match logged.get_mut(&o.host) {
                Some(jobs) => jobs,
                None => logged.entry(o.host.clone()).or_default(),
            };
            let e = jobs.entry(*g).or_default();
            if created {
                e.0 = o.time;
            } else {
                e.1 = o.time;
            }
        }
    }
}

/// Times noted later (from inputs after those of `logged`) over earlier ones.
pub fn merge_logged(logged: &mut Logged, later: Logged) {
    for (host, jobs) in later {
        let mine = logged.entry(host).or_default();
        for (g, (created, completed)) in jobs {
            let e = mine.entry(g).or_default();
            if created != When::Unknown {
                e.0 = created;
            }
            if completed != When::Unknown {
                e.1 = completed;
            }
        }
    }
}

/// Infer each host's offset from the jobs seen both in an event log and in a console
/// capture. A host whose pairs disagree gets none.
pub fn infer(observations: &[Observation]) -> BTreeMap<String, HostClock> {
    let mut logged = Logged::new();
    log_times(&mut logged, observations);
    infer_with(&logged, observations)
}

/// [`infer`], with the event logs' job times given.
fn infer_with(logged: &Logged, observations: &[Observation]) -> BTreeMap<String, HostClock> {
    // host -> offset -> the jobs that show it.
    let mut seen: BTreeMap<&str, BTreeMap<i32, Vec<&Guid>>> = BTreeMap::new();
    for o in observations {
        let Fact::JobSnapshot(s) = &o.fact else {
            continue;
        };
        let Some(g) = &s.job else { continue };
        let Some((created, completed)) = logged.get(&o.host).and_then(|jobs| jobs.get(g)) else {
            continue;
        };
        let pairs = [(s.creation_time, *created), (s.completion_time, *completed)];
        for (local, utc) in pairs {
            if let Some(off) = offset_between(local, utc) {
                let jobs = seen.entry(&o.host).or_default();
                jobs.entry(off.seconds()).or_default().push(g);
            }
        }
    }
    seen.into_iter()
        .filter_map(|(host, offsets)| {
            // One offset only: disagreeing pairs (a clock change between jobs) prove nothing.
            let [(secs, jobs)] = offsets.into_iter().collect::<Vec<_>>().try_into().ok()?;
            let job = *jobs.into_iter().min()?;
            let clock = HostClock {
                offset: Offset::from_seconds(secs).ok(),
                source: OffsetSource::Inferred { job },
            };
            Some((host.to_string(), clock))
        })
        .collect()
}

/// Place every local time of every observation: with its host's inferred offset, else in
/// `tz`, else leave it unplaced. Returns the clock used per host (inferred or given).
pub fn place(
    observations: &mut [Observation],
    tz: Option<&TimeZone>,
) -> BTreeMap<String, HostClock> {
    let mut logged = Logged::new();
    log_times(&mut logged, observations.iter());
    place_with(&logged, observations, tz)
}

/// [`place`], with the event logs' job times given (their observations may be gone: event
/// log times are UTC and need no placing).
pub fn place_with(
    logged: &Logged,
    observations: &mut [Observation],
    tz: Option<&TimeZone>,
) -> BTreeMap<String, HostClock> {
    let mut clocks = infer_with(logged, observations);
    for o in observations.iter_mut() {
        let offset = clocks.get(&o.host).and_then(|c| c.offset);
        if offset.is_none() && tz.is_none() {
            continue;
        }
        let how = |w: When| match (offset, tz) {
            (Some(off), _) => w.placed(off),
            (None, Some(tz)) => w.placed_in(tz),
            (None, None) => w,
        };
        o.time = how(o.time);
        if let Fact::JobSnapshot(s) = &mut o.fact {
            s.creation_time = how(s.creation_time);
            s.modification_time = how(s.modification_time);
            s.completion_time = how(s.completion_time);
        }
    }
    if tz.is_some() {
        for o in observations.iter() {
            let local = matches!(o.time, When::LocalAt(..));
            if local && !clocks.contains_key(&o.host) {
                let given = HostClock {
                    offset: None,
                    source: OffsetSource::Given,
                };
                clocks.insert(o.host.clone(), given);
            }
        }
    }
    clocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, JobSnapshot, Locator};

    fn obs(host: &str, time: When, fact: Fact) -> Observation {
        Observation {
            host: host.into(),
            time,
            evidence: Evidence {
                path: "x".into(),
                at: Locator::Line(1),
            },
            event_id: 0,
            fact,
        }
    }
    fn guid() -> Guid {
        Guid::parse("{DBF6C07C-659E-47AA-9705-6889D01534FD}").unwrap()
    }
    fn created(host: &str, t: &str) -> Observation {
        let fact = Fact::JobCreated {
            job: Some(guid()),
            title: "Windows Update".into(),
            owner: String::new(),
            process: None,
        };
        obs(host, When::Utc(t.parse().unwrap()), fact)
    }
    fn listed(host: &str, creation: &str, modified: &str) -> Observation {
        let snap = JobSnapshot {
            job: Some(guid()),
            creation_time: When::Local(creation.parse().unwrap()),
            modification_time: When::Local(modified.parse().unwrap()),
            ..Default::default()
        };
        let time = snap.modification_time;
        obs(host, time, Fact::JobSnapshot(Box::new(snap)))
    }

    #[test]
    fn offset_is_inferred_from_a_job_in_both() {
        let mut o = vec![
            created("WS01", "2024-03-11T07:11:32.41Z"),
            listed("WS01", "2024-03-11T08:11:32", "2024-03-11T08:41:44"),
        ];
        let clocks = place(&mut o, None);
        let plus1 = Offset::from_hours(1).unwrap();
        assert_eq!(clocks["WS01"].offset, Some(plus1));
        assert!(clocks["WS01"]
            .describe()
            .contains("UTC+01:00 inferred from job {DBF6C07C"));
        assert_eq!(
            o[1].time.instant(),
            Some("2024-03-11T07:41:44Z".parse().unwrap())
        );
    }

    #[test]
    fn other_hosts_and_far_times_prove_nothing() {
        let mut o = vec![
            created("WS01", "2024-03-11T07:11:32Z"),
            listed("WS02", "2024-03-11T08:11:32", "2024-03-11T08:41:44"),
            // 7 minutes off a quarter hour: not one moment.
            created("WS03", "2024-03-11T07:04:32Z"),
            listed("WS03", "2024-03-11T08:11:32", "2024-03-11T08:41:44"),
        ];
        let clocks = place(&mut o, None);
        assert!(clocks.is_empty());
        assert_eq!(o[1].time.basis(), crate::model::TimeBasis::LocalUnknown);
    }

    #[test]
    fn timezone_places_hosts_without_an_inferred_offset() {
        let mut o = vec![listed("WS02", "2024-07-01T12:00:00", "2024-07-01T12:00:00")];
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let clocks = place(&mut o, Some(&berlin));
        assert_eq!(clocks["WS02"].source, OffsetSource::Given);
        assert_eq!(
            o[0].time.instant(),
            Some("2024-07-01T10:00:00Z".parse().unwrap())
        );
    }
}

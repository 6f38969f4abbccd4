//! Time input: `--since` / `--until` bounds and `--timezone`, parsed into plain values, and the
//! window they make once relative spans are anchored.
//!
//! Accepted bounds: a date (`2024-03-11`), a date and time with `T` or a space
//! (`2024-03-11T09:00`, `2024-03-11 09:00:00.5`), either with a zone (`Z`, `+01:00`,
//! `[Europe/Berlin]`) or without one (then in `--timezone`, else UTC), or a span counted back
//! from the newest event in the inputs (`7d`, `12h`, `30m`, `2w`, `90s`). A date alone as
//! `--until` includes that whole day.

use crate::model::When;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp, Zoned};

/// What `--since` / `--until` and `--timezone` accept, for usage errors.
pub const ACCEPTED_TIMES: &str = "use a date (2024-03-11), a date and time with T or a space \
(2024-03-11T09:00, 2024-03-11 09:00:00), optionally with a zone (Z, +01:00, [Europe/Berlin]; \
none means --timezone, else UTC), or a span back from the newest event (7d, 12h, 30m, 2w, 90s)";

pub const ACCEPTED_ZONES: &str =
    "use an IANA zone name (Europe/Berlin, America/New_York), UTC, or an offset (+01:00, -0500)";

/// One end of the window as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    At(Timestamp),
    /// This long before the newest event in the inputs.
    Back(SignedDuration),
}

/// Which end a bound is: a date alone as `--until` means the end of that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Since,
    Until,
}

/// A bound or a zone that cannot be understood (a usage error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not a time: {ACCEPTED_TIMES}")]
    Time(String),
    #[error("`{0}` is not a time zone: {ACCEPTED_ZONES}")]
    Zone(String),
    #[error("--since ({0}) is after --until ({1})")]
    Reversed(String, String),
}

/// `--timezone`: an IANA name, `UTC`/`Z`, or a fixed offset (`+01:00`, `-0500`, `+5`).
pub fn parse_zone(text: &str) -> Result<TimeZone, TimeError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" || t == "z" {
        return Ok(TimeZone::UTC);
    }
    if let Some(offset) = parse_offset(t) {
        return Ok(TimeZone::fixed(offset));
    }
    if t.is_empty() || t.starts_with(['+', '-']) {
        return Err(TimeError::Zone(text.to_string()));
    }
    TimeZone::get(t).map_err(|_| TimeError::Zone(text.to_string()))
}

/// `+01:00`, `-0500`, `+5`, `+05:30`: within ±14 h.
fn parse_offset(t: &str) -> Option<Offset> {
    let sign = match t.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &t[1..];
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 || h * 60 + m > 14 * 60 {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

/// One `--since` / `--until` value; times without a zone are in `tz`.
pub fn parse_bound(text: &str, tz: &TimeZone, end: End) -> Result<Bound, TimeError> {
    let t = text.trim();
    let bad = || TimeError::Time(text.to_string());
    if let Some(span) = parse_span(t) {
        return Ok(Bound::Back(span));
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(Bound::At(ts));
    }
    if let Ok(z) = t.parse::<Zoned>() {
        return Ok(Bound::At(z.timestamp()));
    }
    // A civil date or date-time. (A civil *date* parser would accept a date-time and drop its
    // time of day, so the date-only form is told apart by its shape.)
    let dt: DateTime = t.parse().map_err(|_| bad())?;
    let date_only = t.len() == 10;
    let start = dt.to_zoned(tz.clone()).map_err(|_| bad())?;
    if date_only && end == End::Until {
        let next = start.tomorrow().map_err(|_| bad())?;
        let last = next.timestamp() - SignedDuration::from_nanos(1);
        return Ok(Bound::At(last));
    }
    Ok(Bound::At(start.timestamp()))
}

/// `7d`, `12h`, `30m`, `90s`, `2w`: a whole number and one unit (a day is 24 hours).
fn parse_span(t: &str) -> Option<SignedDuration> {
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().ok()?;
    if n < 0 || t.starts_with('+') {
        return None;
    }
    let secs = match unit.to_ascii_lowercase() {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs).map(SignedDuration::from_secs)
}

/// The window as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub since: Option<Bound>,
    pub until: Option<Bound>,
}

impl Window {
    /// Both bounds, refusing `--since` after `--until` where both are absolute.
    pub fn new(since: Option<Bound>, until: Option<Bound>) -> Result<Window, TimeError> {
        match (since, until) {
            (Some(Bound::At(s)), Some(Bound::At(u))) if s > u => {
                return Err(TimeError::Reversed(s.to_string(), u.to_string()));
            }
            // Both counted back from one anchor: the longer span is the earlier end.
            (Some(Bound::Back(s)), Some(Bound::Back(u))) if s < u => {
                let back = |d: SignedDuration| format!("{}s back", d.as_secs());
                return Err(TimeError::Reversed(back(s), back(u)));
            }
            _ => {}
        }
        Ok(Window { since, until })
    }

    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Anchor relative bounds at `newest` (the newest event time in the inputs), or at `now`
    /// when the inputs hold no placed time at all.
    pub fn resolve(&self, newest: Option<Timestamp>, now: Timestamp) -> Resolved {
        let relative = matches!(self.since, Some(Bound::Back(_)))
            || matches!(self.until, Some(Bound::Back(_)));
        let anchor = relative.then_some(match newest {
            Some(t) => Anchor::NewestEvent(t),
            None => Anchor::Now(now),
        });
        let at = |b: Option<Bound>| {
            b.map(|b| match b {
                Bound::At(t) => t,
                Bound::Back(d) => {
                    let from = anchor.map_or(now, |a| a.time());
                    from.checked_sub(d).unwrap_or(Timestamp::MIN)
                }
            })
        };
        Resolved {
            since: at(self.since),
            until: at(self.until),
            anchor,
        }
    }
}

/// What a relative span was counted back from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    NewestEvent(Timestamp),
    /// The inputs held no placed time.
    Now(Timestamp),
}

impl Anchor {
    pub fn time(&self) -> Timestamp {
        match self {
            Anchor::NewestEvent(t) | Anchor::Now(t) => *t,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Anchor::NewestEvent(t) => format!("the newest event in the inputs ({t})"),
            Anchor::Now(t) => format!("now ({t}; the inputs hold no placed time)"),
        }
    }
}

/// The window with absolute ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resolved {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Set when a bound was relative.
    pub anchor: Option<Anchor>,
}

impl Resolved {
    /// Is `t` inside? Times that cannot be placed on the UTC line (local with an unknown
    /// offset, or none) are kept: they cannot be shown to lie outside.
    pub fn contains(&self, t: When) -> bool {
        let Some(t) = t.instant() else { return true };
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Bound {
        Bound::At(s.parse().unwrap())
    }

    fn utc(text: &str) -> Result<Bound, TimeError> {
        parse_bound(text, &TimeZone::UTC, End::Since)
    }

    #[test]
    fn a_time_without_zone_keeps_its_time_of_day() {
        assert_eq!(utc("2024-03-11T23:59:00"), Ok(at("2024-03-11T23:59:00Z")));
        assert_eq!(utc("2024-03-11 09:00"), Ok(at("2024-03-11T09:00:00Z")));
        assert_eq!(
            utc("2024-03-11T09:00:05.25"),
            Ok(at("2024-03-11T09:00:05.25Z"))
        );
    }

    #[test]
    fn zones_and_offsets_are_honoured() {
        assert_eq!(utc("2024-03-11T09:00:00Z"), Ok(at("2024-03-11T09:00:00Z")));
        assert_eq!(utc("2024-03-11 09:00:00Z"), Ok(at("2024-03-11T09:00:00Z")));
        assert_eq!(
            utc("2024-03-11T09:00+01:00"),
            Ok(at("2024-03-11T08:00:00Z"))
        );
        assert_eq!(
            utc("2024-03-11T09:00[Europe/Berlin]"),
            Ok(at("2024-03-11T08:00:00Z"))
        );
    }

    #[test]
    fn timezone_applies_to_times_without_zone_only() {
        let tz = parse_zone("+05:30").unwrap();
        let b = parse_bound("2024-03-11 09:00", &tz, End::Since);
        assert_eq!(b, Ok(at("2024-03-11T03:30:00Z")));
        let b = parse_bound("2024-03-11T09:00Z", &tz, End::Since);
        assert_eq!(b, Ok(at("2024-03-11T09:00:00Z")));
        let berlin = parse_zone("Europe/Berlin").unwrap();
        // Summer time in July: +02:00.
        let b = parse_bound("2024-07-01T12:00", &berlin, End::Since);
        assert_eq!(b, Ok(at("2024-07-01T10:00:00Z")));
    }

    #[test]
    fn a_date_starts_since_and_ends_until() {
        assert_eq!(utc("2024-03-11"), Ok(at("2024-03-11T00:00:00Z")));
        assert_eq!(
            parse_bound("2024-03-11", &TimeZone::UTC, End::Until),
            Ok(at("2024-03-11T23:59:59.999999999Z"))
        );
    }

    #[test]
    fn spans_count_back() {
        assert_eq!(utc("7d"), Ok(Bound::Back(SignedDuration::from_hours(168))));
        assert_eq!(utc("12h"), Ok(Bound::Back(SignedDuration::from_hours(12))));
        assert_eq!(utc("30m"), Ok(Bound::Back(SignedDuration::from_mins(30))));
        assert_eq!(utc("2w"), Ok(Bound::Back(SignedDuration::from_hours(336))));
    }

    #[test]
    fn anything_else_is_refused_with_what_is_accepted() {
        for bad in [
            "",
            "yesterday",
            "2024-13-01",
            "2024-03-11T25:00",
            "-7d",
            "7x",
            "d",
            "11/03/2024",
            "2024-03-11 09:00 CET",
        ] {
            let e = utc(bad).unwrap_err();
            assert!(e.to_string().contains("2024-03-11T09:00"), "{bad}: {e}");
        }
    }

    #[test]
    fn zones_parse() {
        assert_eq!(parse_zone("UTC"), Ok(TimeZone::UTC));
        let plus1 = TimeZone::fixed(Offset::from_seconds(3600).unwrap());
        assert_eq!(parse_zone("+01:00"), Ok(plus1.clone()));
        assert_eq!(parse_zone("+0100"), Ok(plus1.clone()));
        assert_eq!(parse_zone("+1"), Ok(plus1));
        assert_eq!(
            parse_zone("-05:00"),
            Ok(TimeZone::fixed(Offset::from_seconds(-5 * 3600).unwrap()))
        );
        assert!(parse_zone("Europe/Berlin").is_ok());
        for bad in ["", "Mars/Olympus", "+15:00", "+01:75", "+", "CET+"] {
            assert!(parse_zone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn since_after_until_is_refused() {
        let e = Window::new(
            Some(at("2024-03-12T00:00:00Z")),
            Some(at("2024-03-11T00:00:00Z")),
        );
        assert!(matches!(e, Err(TimeError::Reversed(..))));
        assert!(Window::new(
            Some(at("2024-03-11T00:00:00Z")),
            Some(at("2024-03-11T00:00:00Z"))
        )
        .is_ok());
        let back = |h| Some(Bound::Back(SignedDuration::from_hours(h)));
        assert!(matches!(
            Window::new(back(1), back(2)),
            Err(TimeError::Reversed(..))
        ));
        assert!(Window::new(back(2), back(1)).is_ok());
    }

    #[test]
    fn relative_bounds_anchor_at_the_newest_event_else_now() {
        let w = Window::new(Some(Bound::Back(SignedDuration::from_hours(12))), None).unwrap();
        let newest: Timestamp = "2024-03-11T20:00:00Z".parse().unwrap();
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let r = w.resolve(Some(newest), now);
        assert_eq!(r.since, Some("2024-03-11T08:00:00Z".parse().unwrap()));
        assert_eq!(r.anchor, Some(Anchor::NewestEvent(newest)));
        let r = w.resolve(None, now);
        assert_eq!(r.since, Some("2025-12-31T12:00:00Z".parse().unwrap()));
        assert_eq!(r.anchor, Some(Anchor::Now(now)));
        let r = Window::default().resolve(Some(newest), now);
        assert_eq!(r.anchor, None);
    }
}

//! Duplicate inputs: the same file given twice (a copy under another name) is read once, and
//! event-log records that two exports of one host's log both hold are counted once.

use crate::ingest::walk::Found;
use crate::model::{Locator, Observation};
use crate::vecset::VecSet;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

/// A file left out because another file with the same content is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub file: Found,
    /// The display path of the file that is read instead.
    pub read_instead: String,
}

/// Split `found` (in path order) into the files to read and the copies of them: files of equal
/// size and equal content are read once, the first in path order. An event log names its own
/// host, so two copies of one are one log wherever they lie; any other file is one machine's
/// capture only within its host folder (two machines' identical `sc qc` outputs are two
/// facts). Only files that share their size with another are read here, so the usual bundle
/// costs one `stat` per file.
pub fn same_content(found: Vec<Found>) -> (Vec<Found>, Vec<Copy>) {
    let mut by_size: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, f) in found.iter().enumerate() {
        if let Ok(m) = std::fs::metadata(&f.path) {
            if m.len() > 0 {
                by_size.entry(m.len()).or_default().push(i);
            }
        }
    }
    // The first block of every file that shares its size with another, read in parallel (a
    // fleet of small logs of one size is thousands of them).
    let shared: Vec<usize> = by_size
        .values()
        .filter(|g| g.len() > 1)
        .flatten()
        .copied()
        .collect();
    let heads: HashMap<usize, (u64, bool)> = shared
        .par_iter()
        .filter_map(|&i| Some((i, head_hash(&found[i].path)?)))
        .collect();
    let mut copy_of: HashMap<usize, usize> = HashMap::new();
    for group in by_size.values().filter(|g| g.len() > 1) {
        // The files kept so far, by the hash of their first bytes (and host): a file is a copy
        // of one of them only if all its bytes are the same. Files of one size rarely begin
        // alike, so most cost one block read.
        let mut firsts: HashMap<(u64, Option<&str>), Vec<usize>> = HashMap::new();
        for &i in group {
            let Some(&(h, is_log)) = heads.get(&i) else {
                continue;
            };
            let host = if is_log {
                None
            } else {
                found[i].host_hint.as_deref()
            };
            let kept = firsts.entry((h, host)).or_default();
            match kept
                .iter()
                .find(|&&first| same_bytes(&found[first].path, &found[i].path))
            {
                Some(&first) => {
                    copy_of.insert(i, first);
                }
                None => kept.push(i),
            }
        }
    }
    let names: Vec<String> = found.iter().map(|f| f.display.clone()).collect();
    let mut keep = Vec::with_capacity(found.len());
    let mut copies = Vec::new();
    for (i, f) in found.into_iter().enumerate() {
        match copy_of.get(&i) {
            Some(&first) => copies.push(Copy {
                file: f,
                read_instead: names[first].clone(),
            }),
            None => keep.push(f),
        }
    }
    (keep, copies)
}

/// How much of a file `head_hash` reads.
const BLOCK: usize = 1 << 16;

/// A hash of a file's first 64 KiB (the same on every run: its CRC-32 and length), and whether
/// it is an event log. Files with equal hashes are compared byte for byte, so a collision
/// costs one comparison, never a wrong answer.
fn head_hash(path: &std::path::Path) -> Option<(u64, bool)> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; BLOCK];
    let n = fill(&mut file, &mut buf).ok()?;
    let crc = crc32fast::hash(&buf[..n]);
    Some((
        (u64::from(crc) << 32) | n as u64,
        buf[..n].starts_with(b"ElfFile\0"),
    ))
}

/// Whether two files hold the same bytes, compared a block at a time (false if either cannot
/// be read: it is then read, and its problem reported, as any other input).
fn same_bytes(a: &std::path::Path, b: &std::path::Path) -> bool {
    let (Ok(mut a), Ok(mut b)) = (std::fs::File::open(a), std::fs::File::open(b)) else {
        return false;
    };
    let mut x = vec![0u8; BLOCK];
    let mut y = vec![0u8; BLOCK];
    loop {
        match (fill(&mut a, &mut x), fill(&mut b, &mut y)) {
            (Ok(n), Ok(m)) if n == m && x[..n] == y[..m] => {
                if n < BLOCK {
                    return true;
                }
            }
            _ => return false,
        }
    }
}

/// Read until `buf` is full or the file ends; the bytes read.
fn fill(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Which records an event-log input holds, coarsely: the providers it has records of and, per
/// host, the span of record ids and of times of its observations. Two inputs hold a record in
/// common only if [`Footprint::may_share`] says they may, so only such pairs need the exact,
/// record by record check of [`drop_repeated_records`]: inputs can be folded as they are read
/// and checked when every input is known.
///
/// Every event log read has one, kept until every input is read: a fleet's thousands of small
/// logs keep them as short sorted lists (usually one host), not as map nodes with room for
/// eleven.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    providers: VecSet<String>,
    /// By host, in host order.
    spans: Box<[(String, Span)]>,
}

/// Smallest and largest record id, earliest and latest time (`None`: no UTC time).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    ids: (u64, u64),
    times: (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
}

impl Footprint {
    /// The footprint of one event-log input: `providers` are those it has records of.
    pub fn of<'a>(
        providers: impl IntoIterator<Item = &'a String>,
        observations: &[Observation],
    ) -> Footprint {
        let mut spans: Vec<(String, Span)> = Vec::new();
        for o in observations {
            let Locator::Record(id) = o.evidence.at else {
                continue;
            };
            let t = o.time.utc();
            match spans.binary_search_by(|(h, _)| h.as_str().cmp(&o.host)) {
                Ok(at) => {
                    let s = &mut spans[at].1;
                    s.ids = (s.ids.0.min(id), s.ids.1.max(id));
                    s.times = (s.times.0.min(t), s.times.1.max(t));
                }
                Err(at) => {
                    let span = Span {
                        ids: (id, id),
                        times: (t, t),
                    };
                    spans.insert(at, (o.host.clone(), span));
                }
            }
        }
        Footprint {
            providers: providers.into_iter().cloned().collect(),
            spans: spans.into_boxed_slice(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The hosts whose records the input holds.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().map(|(h, _)| h.as_str())
    }

    fn span(&self, host: &str) -> Option<&Span> {
        let at = self
            .spans
            .binary_search_by(|(h, _)| h.as_str().cmp(host))
            .ok()?;
        Some(&self.spans[at].1)
    }

    /// Can the two inputs hold a record in common (the same host, record id and time)? A
    /// provider both have records of (when either list is missing, any), and a host for which
    /// both the id spans and the time spans overlap.
    pub fn may_share(&self, other: &Footprint) -> bool {
        let providers = self.providers.is_empty()
            || other.providers.is_empty()
            || self.providers.iter().any(|p| other.providers.contains(p));
        let overlap = |a: (u64, u64), b: (u64, u64)| a.0 <= b.1 && b.0 <= a.1;
        providers
            && self.spans.iter().any(|(host, a)| {
                other.span(host).is_some_and(|b| {
                    overlap(a.ids, b.ids) && a.times.0 <= b.times.1 && b.times.0 <= a.times.1
                })
            })
    }
}

/// What [`drop_repeated_records`] removed from one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated {
    /// Observations dropped (their records are counted from the other input).
    pub observations: u64,
    /// The input that holds them and is counted (the first in order).
    pub counted_in: String,
}

/// Event-log observations are one record of one host's log: the same host, record id, time
/// and event id in two inputs (two overlapping exports of System.evtx) is one record, counted
/// from the first input that holds it. `inputs` are (display path, observations) in path order.
pub fn drop_repeated_records(
    inputs: &mut [(&str, &mut Vec<Observation>)],
) -> Vec<Option<Repeated>> {
    // The keys come from the inputs, so the map keeps the standard (SipHash) hasher. Which
    // observations go is settled first, with keys borrowed from them; then they go.
    type Key<'a> = (&'a str, u64, Option<jiff::Timestamp>, u32);
    fn key(o: &Observation) -> Option<Key<'_>> {
        match o.evidence.at {
            Locator::Record(r) => Some((o.host.as_str(), r, o.time.utc(), o.event_id)),
            _ => None,
        }
    }
    let mut out = vec![None; inputs.len()];
    let mut gone: Vec<Vec<bool>> = Vec::with_capacity(inputs.len());
    {
        let mut owner: HashMap<Key, usize> = HashMap::new();
        for (i, (_, obs)) in inputs.iter().enumerate() {
            for k in obs.iter().filter_map(key) {
                owner.entry(k).or_insert(i);
            }
        }
        for (i, (_, obs)) in inputs.iter().enumerate() {
            let mut dropped = 0;
            let mut counted_in = None;
            let flags = obs
                .iter()
                .map(|o| match key(o).and_then(|k| owner.get(&k)) {
                    Some(&first) if first != i => {
                        dropped += 1;
                        counted_in.get_or_insert(first);
                        true
                    }
                    _ => false,
                })
                .collect();
            gone.push(flags);
            if let Some(first) = counted_in {
                out[i] = Some(Repeated {
                    observations: dropped,
                    counted_in: inputs[first].0.to_string(),
                });
            }
        }
    }
    for ((_, obs), flags) in inputs.iter_mut().zip(gone) {
        let mut flags = flags.into_iter();
        obs.retain(|_| !flags.next().unwrap_or(false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Fact, When};

    fn rec(path: &str, id: u64, secs: i64) -> Observation {
        Observation {
            host: "WS01.corp.example".into(),
            time: When::Utc(jiff::Timestamp::from_second(1_700_000_000 + secs).unwrap()),
            evidence: Evidence {
                path: path.into(),
                at: Locator::Record(id),
            },
            event_id: 61,
            fact: Fact::ServiceCrash {
                service: "BITS".into(),
                count: None,
            },
        }
    }

    #[test]
    fn overlapping_exports_count_each_record_once() {
        let mut a = vec![
            rec("a.evtx", 1, 1),
            rec("a.evtx", 2, 2),
            rec("a.evtx", 3, 3),
        ];
        let mut b = vec![
            rec("b.evtx", 2, 2),
            rec("b.evtx", 3, 3),
            rec("b.evtx", 4, 4),
        ];
        // Same record id at another time: another log (or a cleared one), kept.
        let mut c = vec![rec("c.evtx", 1, 99)];
        let mut inputs = [("a.evtx", &mut a), ("b.evtx", &mut b), ("c.evtx", &mut c)];
        let r = drop_repeated_records(&mut inputs);
        assert_eq!(r[0], None);
        assert_eq!(
            r[1],
            Some(Repeated {
                observations: 2,
                counted_in: "a.evtx".into()
            })
        );
        assert_eq!(r[2], None);
        assert_eq!(a.len(), 3);
        assert_eq!(b.len(), 1);
        assert_eq!(c.len(), 1);
    }

    fn providers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn footprints_tell_which_inputs_may_share_records() {
        let bits = providers(&["Microsoft-Windows-Bits-Client"]);
        let a = Footprint::of(&bits, &[rec("a", 1, 1), rec("a", 2, 2), rec("a", 3, 3)]);
        let b = Footprint::of(&bits, &[rec("b", 3, 3), rec("b", 4, 4)]);
        assert!(a.may_share(&b) && b.may_share(&a));
        // The same ids at later times: a cleared log, not the same records.
        let c = Footprint::of(&bits, &[rec("c", 1, 99), rec("c", 2, 100)]);
        assert!(!a.may_share(&c));
        // Later ids at the same times cannot be the same records either.
        let d = Footprint::of(&bits, &[rec("d", 7, 1), rec("d", 9, 3)]);
        assert!(!a.may_share(&d));
        // Another log of the host (System: other providers).
        let scm = providers(&["Service Control Manager"]);
        let e = Footprint::of(&scm, &[rec("e", 2, 2)]);
        assert!(!a.may_share(&e));
        // Another host.
        let mut other = rec("f", 2, 2);
        other.host = "WS02.corp.example".into();
        let f = Footprint::of(&bits, &[other]);
        assert!(!a.may_share(&f));
        assert!(Footprint::of(&bits, &[]).is_empty());
        assert_eq!(a.hosts().collect::<Vec<_>>(), ["WS01.corp.example"]);
    }

    proptest::proptest! {
        /// Whenever the exact check finds a record in two inputs, their footprints say so.
        #[test]
        fn inputs_sharing_a_record_may_share(
            a in proptest::collection::vec((0u64..40, 0i64..40), 0..12),
            b in proptest::collection::vec((0u64..40, 0i64..40), 0..12),
        ) {
            let bits = providers(&["Microsoft-Windows-Bits-Client"]);
            let mut x: Vec<Observation> = a.iter().map(|&(id, t)| rec("x", id, t)).collect();
            let mut y: Vec<Observation> = b.iter().map(|&(id, t)| rec("y", id, t)).collect();
            let (fx, fy) = (Footprint::of(&bits, &x), Footprint::of(&bits, &y));
            let mut inputs = [("x", &mut x), ("y", &mut y)];
            let shared = drop_repeated_records(&mut inputs)[1].is_some();
            proptest::prop_assert!(!shared || (fx.may_share(&fy) && fy.may_share(&fx)));
        }
    }

    #[test]
    fn copies_are_found_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, host: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            Found {
                path: p,
                display: name.into(),
                folders: vec![host.into()],
                host_hint: Some(host.into()),
            }
        };
        let found = vec![
            write("a.txt", "WS01", "same bytes"),
            write("b.txt", "WS01", "same bytex"),
            write("c - Copy.txt", "WS01", "same bytes"),
            write("d.txt", "WS01", "other"),
            // Another machine's identical capture is its own fact.
            write("e.txt", "WS02", "same bytes"),
            // An event log names its host itself: a copy anywhere is the same log.
            write("f.evtx", "WS01", "ElfFile\0 log"),
            write("g.evtx", "WS02", "ElfFile\0 log"),
        ];
        // Longer than the block compared first: alike there, different after it.
        let long = "x".repeat(BLOCK + 10);
        let mut other = long.clone();
        other.replace_range(BLOCK + 5..BLOCK + 6, "y");
        let mut found = found;
        found.push(write("h.log", "WS01", &long));
        found.push(write("i.log", "WS01", &other));
        found.push(write("j.log", "WS01", &long));
        let (keep, copies) = same_content(found);
        let kept: Vec<&str> = keep.iter().map(|f| f.display.as_str()).collect();
        assert_eq!(
            kept,
            ["a.txt", "b.txt", "d.txt", "e.txt", "f.evtx", "h.log", "i.log"]
        );
        let copied: Vec<(&str, &str)> = copies
            .iter()
            .map(|c| (c.file.display.as_str(), c.read_instead.as_str()))
            .collect();
        assert_eq!(
            copied,
            [
                ("c - Copy.txt", "a.txt"),
                ("g.evtx", "f.evtx"),
                ("j.log", "h.log")
            ]
        );
    }
}

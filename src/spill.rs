//! Folded state kept on disk while a run reads its inputs, and brought back one host at a
//! time: memory then follows the inputs in flight and the finished fleet, not the folded
//! state of everything read so far.
//!
//! Each input's state is written, host by host, to one temporary file the run shares (as
//! JSON, the form `summary.json` holds it in). [`FleetParts`] is a fleet's state as it then
//! stands: per host, its parts in input order, each in memory or on disk. A host's parts are
//! merged only when it is written to `summary.json` or finished for the report, which gives
//! the state merging every input in order gives (see [`FleetState::absorb`]).

use crate::correlate::{Fleet, FleetState, HostState};
use crate::model::Warning;
use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

/// The run's temporary file (removed by the system once closed).
#[derive(Debug)]
pub struct Store {
    file: Mutex<File>,
}

impl Store {
    pub fn new() -> io::Result<Arc<Store>> {
        Ok(Arc::new(Store {
            file: Mutex::new(tempfile::tempfile()?),
        }))
    }

    fn file(&self) -> std::sync::MutexGuard<'_, File> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Write one host's state; where it went.
    pub fn put(self: &Arc<Self>, host: &HostState) -> io::Result<Stored> {
        let bytes = serde_json::to_vec(host)?;
        let mut f = self.file();
        let at = f.seek(SeekFrom::End(0))?;
        f.write_all(&bytes)?;
        Ok(Stored {
            store: self.clone(),
            at,
            len: bytes.len() as u64,
        })
    }
}

/// One host's state on disk.
#[derive(Debug, Clone)]
pub struct Stored {
    store: Arc<Store>,
    at: u64,
    len: u64,
}

impl PartialEq for Stored {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store, &other.store) && (self.at, self.len) == (other.at, other.len)
    }
}

impl Stored {
    /// The state written, read back (evidence paths shared, as when it was read).
    pub fn read(&self) -> io::Result<HostState> {
        let mut bytes = vec![0; usize::try_from(self.len).map_err(io::Error::other)?];
        {
            let mut f = self.store.file();
            f.seek(SeekFrom::Start(self.at))?;
            f.read_exact(&mut bytes)?;
        }
        Ok(crate::model::sharing_texts(|| {
            serde_json::from_slice(&bytes)
        })?)
    }
}

/// Write every host of `state` to `store`, in host order; the state is emptied only when all
/// are written (else it stays in memory, whole).
pub fn put_all(store: &Arc<Store>, state: &mut FleetState) -> io::Result<Vec<(String, Stored)>> {
    let stored = state
        .hosts
        .iter()
        .map(|(name, h)| Ok((name.clone(), store.put(h)?)))
        .collect::<io::Result<Vec<_>>>()?;
    state.hosts.clear();
    Ok(stored)
}

/// Part of a host's state: in memory, or on disk.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Held(Box<HostState>),
    Stored(Stored),
}

impl Part {
    fn read(self) -> io::Result<HostState> {
        match self {
            Part::Held(h) => Ok(*h),
            Part::Stored(s) => s.read(),
        }
    }
}

/// A fleet's folded state: per host, its parts in input order. `summary.json` holds it as a
/// [`FleetState`] (one merged state per host).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetParts {
    hosts: BTreeMap<String, Vec<Part>>,
}

impl FleetParts {
    /// Add a state folded after everything already here.
    pub fn absorb(&mut self, later: FleetState) {
        for (name, h) in later.hosts {
            self.hosts.entry(name).or_default().push(Part::Held(h));
        }
    }

    /// Add host states written to disk, folded after everything already here.
    pub fn absorb_stored(&mut self, later: Vec<(String, Stored)>) {
        for (name, s) in later {
            self.hosts.entry(name).or_default().push(Part::Stored(s));
        }
    }

    /// Add parts folded after everything already here.
    pub fn absorb_parts(&mut self, later: FleetParts) {
        for (name, parts) in later.hosts {
            self.hosts.entry(name).or_default().extend(parts);
        }
    }

    /// The fleet, its hosts finished in parallel, each merged from its parts only when its
    /// turn comes; with a warning for each part that could not be read back (left out).
    pub fn finish(self) -> (Fleet, Vec<Warning>) {
        let done: Vec<_> = self
            .hosts
            .into_iter()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map_init(crate::model::SharingTexts::enter, |_, (name, parts)| {
                let (state, lost) = merge(&name, parts);
                (state.map(HostState::finish), lost)
            })
            .collect();
        let mut lost = Vec::new();
        let mut hosts = Vec::with_capacity(done.len());
        for (host, l) in done {
            hosts.extend(host);
            lost.extend(l);
        }
        (Fleet::from_hosts(hosts), lost)
    }
}

/// One host's parts merged in order, and a warning for each that could not be read back.
fn merge(name: &str, parts: Vec<Part>) -> (Option<HostState>, Vec<Warning>) {
    let mut state: Option<HostState> = None;
    let mut lost = Vec::new();
    for p in parts {
        match p.read() {
            Ok(h) => match &mut state {
                Some(s) => s.absorb(h),
                None => state = Some(h),
            },
            Err(e) => lost.push(Warning {
                path: name.to_string(),
                at: None,
                message: format!(
                    "part of what was read of this host could not be read back from a \
                     temporary file ({e}): it is left out"
                ),
            }),
        }
    }
    (state, lost)
}

/// Written as a [`FleetState`]: each host's parts merged, one host at a time.
impl Serialize for FleetParts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct One<'a>(&'a str, &'a [Part]);
        impl Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // A host of one part in memory (every host of a summary `merge` read) is
                // written as it is; parts to merge are consumed by merging, so copied.
                if let [Part::Held(h)] = self.1 {
                    return h.serialize(s);
                }
                match merge(self.0, self.1.to_vec()) {
                    (Some(h), lost) if lost.is_empty() => h.serialize(s),
                    (_, lost) => Err(serde::ser::Error::custom(
                        lost.first().map_or("no state", |w| w.message.as_str()),
                    )),
                }
            }
        }
        #[derive(Serialize)]
        struct Out<'a> {
            hosts: BTreeMap<&'a str, One<'a>>,
        }
        Out {
            hosts: self
                .hosts
                .iter()
                .map(|(k, v)| (k.as_str(), One(k, v)))
                .collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for FleetParts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut parts = FleetParts::default();
        parts.absorb(FleetState::deserialize(d)?);
        Ok(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Fact, Guid, HResult, Locator, Observation, When};

    fn obs(host: &str, path: &str, secs: i64, fact: Fact) -> Observation {
        Observation {
            host: host.into(),
            time: When::Utc(jiff::Timestamp::from_second(1_600_000_000 + secs).unwrap()),
            evidence: Evidence {
                path: path.into(),
                at: Locator::Record(secs as u64),
            },
            event_id: 0,
            fact,
        }
    }

    fn g(n: u8) -> Option<Guid> {
        Guid::parse(&format!("{n:08X}-0000-0000-0000-000000000000"))
    }

    fn err(job: Option<Guid>, hr: u32) -> Fact {
        Fact::TransferError {
            job,
            title: "j".into(),
            url: "http://s/f".into(),
            hr: HResult(hr),
            proxy: None,
            context: None,
        }
    }

    fn done(job: Option<Guid>) -> Fact {
        Fact::JobCompleted {
            job,
            title: "j".into(),
            owner: "o".into(),
            file_count: Some(1),
        }
    }

    /// Three inputs: two of host A (a job failing in one, then recovering in the other; an
    /// old-schema event without a GUID) and one of host B (a file a 16403 event names).
    fn inputs() -> Vec<FleetState> {
        let fold = |all: Vec<Observation>| {
            let mut s = FleetState::default();
            all.iter().for_each(|o| s.add(o));
            s
        };
        vec![
            fold(vec![
                obs("A", "a.evtx", 1, err(g(1), 0x8007_2EE7)),
                obs("A", "a.evtx", 2, err(g(2), 0x8019_0194)),
            ]),
            fold(vec![
                obs("A", "a.txt", 3, done(g(1))),
                obs("A", "a.txt", 4, err(None, 0x8019_0194)),
            ]),
            fold(vec![
                obs("B", "b.evtx", 5, err(g(3), 0x8020_0010)),
                obs(
                    "B",
                    "b.evtx",
                    6,
                    Fact::FileQueued {
                        job: g(3),
                        title: "j".into(),
                        remote: "http://s/f".into(),
                        local: "C:\\Users\\Public\\f".into(),
                    },
                ),
            ]),
        ]
    }

    #[test]
    fn parts_stored_or_held_finish_as_the_merged_state_does() {
        let mut whole = FleetState::default();
        inputs().into_iter().for_each(|s| whole.absorb(s));
        let whole = whole.finish();

        let store = Store::new().unwrap();
        let mut parts = FleetParts::default();
        for (i, mut s) in inputs().into_iter().enumerate() {
            if i == 1 {
                parts.absorb(s);
            } else {
                parts.absorb_stored(put_all(&store, &mut s).unwrap());
                assert!(s.hosts.is_empty(), "a stored state leaves memory");
            }
        }
        let (fleet, lost) = parts.clone().finish();
        assert!(lost.is_empty());
        assert_eq!(fleet, whole);
        // Jobs 1 and 2 of host A (the old-schema event joins one of them by title), job 3 of B.
        assert_eq!(fleet.jobs.len(), 3);
        let b = fleet.jobs.iter().find(|j| j.host == "B").unwrap();
        assert!(
            b.files().len() == 1 && b.files().iter().all(|f| f.from_16403),
            "{:?}",
            b.files()
        );

        // summary.json holds the merged state, read back as held parts.
        let json = serde_json::to_string(&parts).unwrap();
        let back: FleetParts = serde_json::from_str(&json).unwrap();
        assert_eq!(back.finish().0, whole);
    }

    #[test]
    fn a_part_that_cannot_be_read_back_costs_only_itself() {
        let store = Store::new().unwrap();
        let mut parts = FleetParts::default();
        let [mut a, b, mut c]: [FleetState; 3] = inputs().try_into().unwrap();
        let mut stored = put_all(&store, &mut a).unwrap();
        stored[0].1.len += 5; // past what was written
        parts.absorb_stored(stored);
        parts.absorb(b);
        parts.absorb_stored(put_all(&store, &mut c).unwrap());
        let (fleet, lost) = parts.finish();
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].path, "A");
        assert!(
            lost[0].message.contains("temporary file"),
            "{}",
            lost[0].message
        );
        // Host A keeps what the second input said, host B all of it.
        assert_eq!(fleet.hosts.len(), 2);
        assert_eq!(fleet.jobs.iter().filter(|j| j.host == "B").count(), 1);
        assert!(fleet.jobs.iter().any(|j| j.host == "A"));
    }
}

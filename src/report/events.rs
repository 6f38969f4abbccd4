//! `events.csv` (or the `event` lines of `--format jsonl`) without holding it: rows are
//! encoded as inputs are read, kept in a buffer of bounded size, written to disk as sorted runs
//! when the buffer fills, and merged into the file at the end. The order is [`order`] (a function of the model only), with ties kept in
//! input order, so the file is the same bytes as sorting every row in memory.

use super::csv::{events_header, EventRows};
use crate::model::{Evidence, Locator, Observation, Shared, When};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Buffered row bytes before a run is written. The spool holds two buffers of this bound (one
/// filling while the other is written), each made once for the run.
pub const RUN_BYTES: usize = 4 << 20;

/// Runs merged at once. A fleet's spool can hold thousands of runs (about one per 4 MiB of
/// rows), more than a process may keep open and each with a read buffer: past this many, runs
/// are merged in groups into longer runs first.
const FAN_IN: usize = 64;

/// The order of `events.csv`: time (unknown, then local of unknown offset, then placed times
/// by instant; see `When`'s order), host, evidence, event id.
pub fn order(a: &Observation, b: &Observation) -> Ordering {
    (a.time, &a.host, &a.evidence, a.event_id).cmp(&(b.time, &b.host, &b.evidence, b.event_id))
}

/// [`order`]'s key, owned, plus where the row came from (input ordinal, row within it) so that
/// equal keys keep input order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    time: When,
    host: Shared,
    evidence: Evidence,
    event_id: u32,
    input: u64,
    seq: u32,
}

/// A row read back from a run.
struct Row {
    key: Key,
    bytes: Vec<u8>,
}

/// A buffered row: its key and where its bytes are in the buffer's block.
type Slot = (Key, std::ops::Range<usize>);

/// Rows held in memory: their bytes one after another in one block, each key with where its
/// row is. A row costs no allocation of its own, so the many rows a run holds leave no gaps
/// behind for the longer-lived state of the run to pin.
#[derive(Default)]
struct Buffer {
    rows: Vec<Slot>,
    bytes: Vec<u8>,
}

impl Buffer {
    /// What the rows count for against the spool's memory bound.
    fn cost(&self) -> usize {
        self.bytes.len() + self.rows.len() * std::mem::size_of::<Slot>()
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Move the rows of `other` after these.
    fn append(&mut self, other: &mut Buffer) {
        let base = self.bytes.len();
        self.bytes.append(&mut other.bytes);
        self.rows.extend(
            other
                .rows
                .drain(..)
                .map(|(k, r)| (k, r.start + base..r.end + base)),
        );
    }

    /// Keep only the rows `keep` says yes to (their bytes moved together).
    fn retain(&mut self, mut keep: impl FnMut(&Key) -> bool) {
        // In place: the rows are in the order of their bytes, so each kept row moves only
        // towards the start, and the block made for the run is kept.
        let mut end = 0;
        self.rows.retain_mut(|(k, r)| {
            if !keep(k) {
                return false;
            }
            let len = r.len();
            self.bytes.copy_within(r.clone(), end);
            *r = end..end + len;
            end += len;
            true
        });
        self.bytes.truncate(end);
    }
}

/// How a spool encodes each observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// `events.csv` rows, after its header.
    Csv,
    /// `--format jsonl` `event` lines.
    Jsonl,
}

/// Sorted runs of event rows in a private temporary folder (removed on drop).
pub struct Spool {
    rows: Rows,
    dir: tempfile::TempDir,
    buffer: Mutex<Buffer>,
    /// A buffer written as a run and emptied, to take the place of the next one that fills:
    /// freed and made anew for each run, buffers this large would leave blocks behind that the
    /// allocator keeps (and then serves the rest of the run from, scattered).
    spare: Mutex<Option<Buffer>>,
    runs: Mutex<Vec<PathBuf>>,
    /// Inputs whose rows so far are taken back: input ordinal -> runs written by then.
    retracted: Mutex<BTreeMap<u64, usize>>,
    error: Mutex<Option<io::Error>>,
    limit: usize,
}

impl Spool {
    /// A spool of `events.csv` rows with its runs in a new temporary folder inside `parent`.
    pub fn new(parent: &Path) -> io::Result<Spool> {
        Spool::with(parent, Rows::Csv, RUN_BYTES)
    }

    pub fn with(parent: &Path, rows: Rows, limit: usize) -> io::Result<Spool> {
        let dir = tempfile::Builder::new()
            .prefix(".bitsdoctor-events-")
            .tempdir_in(parent)?;
        Ok(Spool {
            rows,
            dir,
            buffer: Mutex::new(Buffer::default()),
            spare: Mutex::new(None),
            runs: Mutex::new(Vec::new()),
            retracted: Mutex::new(BTreeMap::new()),
            error: Mutex::new(None),
            limit,
        })
    }

    /// Add the observations of one input; `input` orders inputs whose rows tie. Rows join the
    /// buffer a slice at a time (an eighth of its bound), so a large input holds no more than
    /// that of its own.
    pub fn add<'a>(&self, input: u64, observations: impl IntoIterator<Item = &'a Observation>) {
        let slice = (self.limit / 8).max(1);
        let mut enc = EventRows::default();
        let mut rows = Buffer::default();
        // An input's observations are of few hosts, mostly in runs of one.
        let mut host = Shared::default();
        for (seq, o) in observations.into_iter().enumerate() {
            if *host != *o.host {
                host = o.host.as_str().into();
            }
            let start = rows.bytes.len();
            match self.rows {
                Rows::Csv => enc.row(o, &mut rows.bytes),
                Rows::Jsonl => rows.bytes.extend_from_slice(&super::jsonl::event_line(o)),
            }
            let key = Key {
                time: o.time,
                host: host.clone(),
                evidence: o.evidence.clone(),
                event_id: o.event_id,
                input,
                seq: seq as u32,
            };
            rows.rows.push((key, start..rows.bytes.len()));
            if rows.cost() >= slice {
                self.append(&mut rows);
            }
        }
        self.append(&mut rows);
    }

    /// Move `rows` into the buffer; write it as a run once it is full.
    fn append(&self, rows: &mut Buffer) {
        if rows.is_empty() {
            return;
        }
        let full = {
            let mut b = lock(&self.buffer);
            if b.bytes.capacity() == 0 {
                // Room for all it will hold, made at once (a fresh block, whose pages count
                // only once written): grown by doubling, a buffer would leave each smaller
                // block it outgrew behind.
                let most = self.limit.saturating_add(self.limit / 8).min(64 << 20);
                b.bytes.reserve_exact(most);
                b.rows.reserve_exact(most / std::mem::size_of::<Slot>());
            }
            b.append(rows);
            (b.cost() >= self.limit)
                .then(|| std::mem::replace(&mut *b, lock(&self.spare).take().unwrap_or_default()))
        };
        if let Some(mut full) = full {
            self.write_run(&mut full);
            full.rows.clear();
            full.bytes.clear();
            lock(&self.spare).get_or_insert(full);
        }
    }

    /// Take back every row of `input` added so far (rows it adds later are kept). Call it
    /// when no other thread is adding: a run being written meanwhile could keep such rows.
    pub fn retract(&self, input: u64) {
        lock(&self.buffer).retain(|k| k.input != input);
        let written = lock(&self.runs).len();
        lock(&self.retracted).insert(input, written);
    }

    fn write_run(&self, b: &mut Buffer) {
        b.rows.sort_unstable_by(|x, y| x.0.cmp(&y.0));
        let path = {
            let mut runs = lock(&self.runs);
            let p = self.dir.path().join(format!("run-{:05}", runs.len()));
            runs.push(p.clone());
            p
        };
        let written = std::fs::File::create(&path).and_then(|f| {
            let mut w = BufWriter::new(f);
            for (k, r) in &b.rows {
                write_row(&mut w, k, &b.bytes[r.clone()])?;
            }
            w.flush()
        });
        if let Err(e) = written {
            lock(&self.error).get_or_insert(e);
        }
    }

    /// Write the rows buffered so far as a run, freeing the buffer (once every input is read:
    /// the report is then built without it).
    pub fn flush(&self) {
        let mut rest = std::mem::take(&mut *lock(&self.buffer));
        lock(&self.spare).take();
        if !rest.is_empty() {
            self.write_run(&mut rest);
        }
    }

    /// Write every row, in order (after the `events.csv` header for CSV rows), to `out`.
    pub fn finish(self, out: &mut impl Write) -> io::Result<()> {
        self.finish_with(out, FAN_IN)
    }

    /// [`Spool::finish`], merging at most `fan_in` runs at once.
    fn finish_with(self, out: &mut impl Write, fan_in: usize) -> io::Result<()> {
        self.flush();
        if let Some(e) = lock(&self.error).take() {
            return Err(e);
        }
        if self.rows == Rows::Csv {
            out.write_all(&events_header())?;
        }
        let retracted = std::mem::take(&mut *lock(&self.retracted));
        // Each run with its index, against which rows taken back are checked; a run merged
        // from others holds only rows that were kept, and has none.
        let mut runs: Vec<(PathBuf, Option<usize>)> = std::mem::take(&mut *lock(&self.runs))
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, Some(i)))
            .collect();
        let fan_in = fan_in.max(2);
        let mut merged = 0;
        while runs.len() > fan_in {
            let mut longer = Vec::with_capacity(runs.len().div_ceil(fan_in));
            for group in runs.chunks(fan_in) {
                let path = self.dir.path().join(format!("merged-{merged:05}"));
                merged += 1;
                let mut w = BufWriter::new(std::fs::File::create(&path)?);
                merge(group, &retracted, |row| {
                    write_row(&mut w, &row.key, &row.bytes)
                })?;
                w.flush()?;
                for (done, _) in group {
                    let _ = std::fs::remove_file(done);
                }
                longer.push((path, None));
            }
            runs = longer;
        }
        merge(&runs, &retracted, |row| out.write_all(&row.bytes))?;
        out.flush()
    }
}

/// Merge `runs` (each sorted) into `emit` in key order, ties in run order, leaving out the rows
/// taken back: those of an input in `retracted` found in a run written before it was.
fn merge(
    runs: &[(PathBuf, Option<usize>)],
    retracted: &BTreeMap<u64, usize>,
    mut emit: impl FnMut(&Row) -> io::Result<()>,
) -> io::Result<()> {
    let next = |r: &mut BufReader<std::fs::File>, at: Option<usize>| -> io::Result<Option<Row>> {
        while let Some(row) = read_row(r)? {
            let kept = match at {
                None => true,
                Some(i) => retracted.get(&row.key.input).is_none_or(|&n| i >= n),
            };
            if kept {
                return Ok(Some(row));
            }
        }
        Ok(None)
    };
    let mut readers = Vec::with_capacity(runs.len());
    let mut heap = BinaryHeap::new();
    for (k, (path, at)) in runs.iter().enumerate() {
        let mut r = BufReader::with_capacity(64 << 10, std::fs::File::open(path)?);
        if let Some(row) = next(&mut r, *at)? {
            heap.push(Reverse(Head(row, k)));
        }
        readers.push(r);
    }
    while let Some(Reverse(Head(row, k))) = heap.pop() {
        emit(&row)?;
        if let Some(row) = next(&mut readers[k], runs[k].1)? {
            heap.push(Reverse(Head(row, k)));
        }
    }
    Ok(())
}

/// A run's current row, ordered by key, then by run.
struct Head(Row, usize);
impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        (&self.0.key, self.1).cmp(&(&o.0.key, o.1))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// Run records: the key's fields, then the row, each length-prefixed where variable.

fn put_bytes(w: &mut impl Write, b: &[u8]) -> io::Result<()> {
    w.write_all(&(b.len() as u32).to_le_bytes())?;
    w.write_all(b)
}

fn put_civil(w: &mut impl Write, dt: jiff::civil::DateTime) -> io::Result<()> {
    w.write_all(&dt.year().to_le_bytes())?;
    w.write_all(&[
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
    ])?;
    w.write_all(&dt.subsec_nanosecond().to_le_bytes())
}

fn get_civil(r: &mut impl Read) -> io::Result<jiff::civil::DateTime> {
    let year = i16::from_le_bytes(get(r)?);
    let [mo, d, h, mi, s] = get::<5>(r)?;
    let ns = i32::from_le_bytes(get(r)?);
    jiff::civil::DateTime::new(year, mo as i8, d as i8, h as i8, mi as i8, s as i8, ns)
        .map_err(|_| bad("local time"))
}

fn write_row(w: &mut impl Write, k: &Key, bytes: &[u8]) -> io::Result<()> {
    match k.time {
        When::Unknown => w.write_all(&[0])?,
        When::Local(dt) => {
            w.write_all(&[1])?;
            put_civil(w, dt)?;
        }
        When::Utc(t) => {
            w.write_all(&[2])?;
            w.write_all(&t.as_second().to_le_bytes())?;
            w.write_all(&t.subsec_nanosecond().to_le_bytes())?;
        }
        When::LocalAt(dt, off) => {
            w.write_all(&[3])?;
            put_civil(w, dt)?;
            w.write_all(&off.seconds().to_le_bytes())?;
        }
    }
    put_bytes(w, k.host.as_bytes())?;
    put_bytes(w, k.evidence.path.as_bytes())?;
    let (tag, n) = match k.evidence.at {
        Locator::Record(n) => (0u8, n),
        Locator::Line(n) => (1u8, u64::from(n)),
    };
    w.write_all(&[tag])?;
    w.write_all(&n.to_le_bytes())?;
    w.write_all(&k.event_id.to_le_bytes())?;
    w.write_all(&k.input.to_le_bytes())?;
    w.write_all(&k.seq.to_le_bytes())?;
    put_bytes(w, bytes)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("events run: bad {what}"),
    )
}

fn get<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn get_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let n = u32::from_le_bytes(get(r)?) as usize;
    let mut b = vec![0u8; n];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn get_string(r: &mut impl Read) -> io::Result<String> {
    String::from_utf8(get_bytes(r)?).map_err(|_| bad("text"))
}

/// The next record of a run, or None at its end.
fn read_row(r: &mut impl Read) -> io::Result<Option<Row>> {
    let mut tag = [0u8; 1];
    if r.read(&mut tag)? == 0 {
        return Ok(None);
    }
    let time = match tag[0] {
        0 => When::Unknown,
        1 => When::Local(get_civil(r)?),
        2 => {
            let secs = i64::from_le_bytes(get(r)?);
            let ns = i32::from_le_bytes(get(r)?);
            When::Utc(jiff::Timestamp::new(secs, ns).map_err(|_| bad("time"))?)
        }
        3 => {
            let dt = get_civil(r)?;
            let off = i32::from_le_bytes(get(r)?);
            let off = jiff::tz::Offset::from_seconds(off).map_err(|_| bad("offset"))?;
            When::LocalAt(dt, off)
        }
        _ => return Err(bad("time tag")),
    };
    let host = get_string(r)?.into();
    let path = get_string(r)?;
    let [loc] = get::<1>(r)?;
    let n = u64::from_le_bytes(get(r)?);
    let at = match loc {
        0 => Locator::Record(n),
        1 => Locator::Line(u32::try_from(n).map_err(|_| bad("line"))?),
        _ => return Err(bad("locator")),
    };
    let event_id = u32::from_le_bytes(get(r)?);
    let input = u64::from_le_bytes(get(r)?);
    let seq = u32::from_le_bytes(get(r)?);
    let bytes = get_bytes(r)?;
    Ok(Some(Row {
        key: Key {
            time,
            host,
            evidence: Evidence {
                path: path.into(),
                at,
            },
            event_id,
            input,
            seq,
        },
        bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Fact, HResult};

    fn obs(host: &str, time: When, path: &str, rec: u64) -> Observation {
        Observation {
            host: host.into(),
            time,
            evidence: Evidence {
                path: path.into(),
                at: Locator::Record(rec),
            },
            event_id: 61,
            fact: Fact::TransferError {
                job: None,
                title: "a \"quoted\", title\r\nwith a line break".into(),
                url: "=cmd|' /C calc'!A0".into(),
                hr: HResult(0x8007_2EE7),
                proxy: None,
                context: None,
            },
        }
    }

    fn utc(s: i64, ns: i32) -> When {
        When::Utc(jiff::Timestamp::new(1_700_000_000 + s, ns).unwrap())
    }

    fn local(s: i8) -> When {
        When::Local(jiff::civil::date(2024, 3, 11).at(7, 56, s, 5))
    }

    /// The file `spool` merges into, merging at most `fan_in` runs at once.
    fn merged(spool: Spool, fan_in: usize) -> String {
        let mut got = Vec::new();
        spool.finish_with(&mut got, fan_in).unwrap();
        String::from_utf8(got).unwrap()
    }

    /// Many runs (a tiny buffer), inputs added out of order, equal keys across inputs: the
    /// merged file is byte for byte the in-memory sort of the concatenation in input order.
    #[test]
    fn merged_runs_equal_the_in_memory_sort() {
        let inputs: Vec<Vec<Observation>> = (0..7u64)
            .map(|i| {
                (0..40u64)
                    .map(|n| {
                        let t = match n % 5 {
                            0 => When::Unknown,
                            1 => local((n % 50) as i8),
                            2 => When::LocalAt(
                                jiff::civil::date(2023, 11, 14).at(22, 13, (n % 20) as i8, 0),
                                jiff::tz::Offset::from_hours(1).unwrap(),
                            ),
                            _ => utc(((n * 7 + i) % 13) as i64, (n % 3) as i32 * 100),
                        };
                        obs(["H2", "H1"][(n % 2) as usize], t, "a.evtx", n % 5)
                    })
                    .collect()
            })
            .collect();
        let all: Vec<Observation> = inputs.concat();
        // All runs at once, then in groups of 2 and 3 merged into longer runs first.
        for fan_in in [FAN_IN, 2, 3] {
            let dir = tempfile::tempdir().unwrap();
            let spool = Spool::with(dir.path(), Rows::Csv, 2000).unwrap();
            for i in [3usize, 0, 6, 1, 5, 2, 4] {
                spool.add(i as u64, &inputs[i]);
            }
            assert!(
                lock(&spool.runs).len() > 9,
                "the test must merge more runs than two levels of 3"
            );
            assert_eq!(
                merged(spool, fan_in),
                crate::report::csv::events(&all),
                "fan-in {fan_in}"
            );
            // The runs merged on the way are removed as they are read.
            let left = std::fs::read_dir(dir.path())
                .unwrap()
                .flat_map(|e| std::fs::read_dir(e.unwrap().path()).unwrap())
                .count();
            assert!(left <= FAN_IN, "{left} runs left");
        }
    }

    /// `n` records of one log, alternating between two hosts, out of time order.
    fn two_hosts(n: u64, path: &str) -> Vec<Observation> {
        (0..n)
            .map(|n| {
                obs(
                    ["H2", "H1"][(n % 2) as usize],
                    utc((n * 7 % 11) as i64, 0),
                    path,
                    n,
                )
            })
            .collect()
    }

    /// One input larger than the buffer goes to disk as it is added (runs written before its
    /// last row is encoded), and its rows keep their order.
    #[test]
    fn a_large_input_is_written_as_it_is_added() {
        let all = two_hosts(300, "c.evtx");
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::with(dir.path(), Rows::Csv, 4000).unwrap();
        spool.add(1, &all);
        let runs = lock(&spool.runs).len();
        assert!(runs >= 5, "{runs} run(s)");
        assert!(lock(&spool.buffer).cost() < 4000);
        assert_eq!(merged(spool, FAN_IN), crate::report::csv::events(&all));
    }

    /// Flushing (as `analyze` does once every input is read) frees the buffer without
    /// changing the file, even when rows come after it.
    #[test]
    fn a_flush_frees_the_buffer_and_keeps_the_order() {
        let all = two_hosts(30, "b.evtx");
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::with(dir.path(), Rows::Csv, 1 << 20).unwrap();
        spool.add(1, &all[..20]);
        spool.flush();
        assert!(lock(&spool.buffer).rows.is_empty());
        assert_eq!(lock(&spool.runs).len(), 1);
        spool.flush();
        assert_eq!(lock(&spool.runs).len(), 1, "an empty buffer writes no run");
        spool.add(2, &all[20..]);
        assert_eq!(merged(spool, FAN_IN), crate::report::csv::events(&all));
    }

    /// An input's rows taken back (some in runs already written, some still buffered) and
    /// added again, fewer: the file holds only the rows added after, in their place.
    #[test]
    fn retracted_rows_are_left_out_and_rows_added_again_kept() {
        let input = |i: u64| -> Vec<Observation> {
            (0..40u64)
                .map(|n| obs("H", utc(((n * 5 + i) % 17) as i64, 0), "c.evtx", n))
                .collect()
        };
        let dir = tempfile::tempdir().unwrap();
        let one = Spool::with(dir.path(), Rows::Csv, usize::MAX).unwrap();
        one.add(0, &input(0));
        let one = lock(&one.buffer).cost();
        let again: Vec<Observation> = input(1).into_iter().step_by(3).collect();
        let later: Vec<Observation> = (4..8).flat_map(input).collect();
        let all: Vec<Observation> = [input(0), again.clone(), input(2), later].concat();
        // Merged at once, and (fan-in 2) through a longer run made first, which must leave out
        // the rows taken back from the runs it is made of.
        for fan_in in [FAN_IN, 2] {
            // Inputs 0, 1 and part of 2 make a run; input 3 stays in the buffer.
            let spool = Spool::with(dir.path(), Rows::Csv, one * 5 / 2).unwrap();
            for i in 0..4 {
                spool.add(i, &input(i));
            }
            assert_eq!(lock(&spool.runs).len(), 1);
            {
                let b = lock(&spool.buffer);
                assert!(b.rows.iter().any(|r| r.0.input == 3));
                assert!(!b.rows.iter().any(|r| r.0.input == 1));
            }
            spool.retract(1);
            spool.retract(3);
            spool.add(1, &again);
            for i in 4..8 {
                spool.add(i, &input(i));
            }
            assert!(
                lock(&spool.runs).len() >= 2,
                "fan-in 2 must merge before the end"
            );
            assert_eq!(
                merged(spool, fan_in),
                crate::report::csv::events(&all),
                "fan-in {fan_in}"
            );
        }
    }

    #[test]
    fn jsonl_events_merge_like_the_in_memory_rendering() {
        let all: Vec<Observation> = (0..30u64)
            .map(|n| obs("H", utc((n * 7 % 11) as i64, 0), "b.evtx", n))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::with(dir.path(), Rows::Jsonl, 500).unwrap();
        spool.add(1, &all[10..]);
        spool.add(0, &all[..10]);
        let mut got = Vec::new();
        spool.finish(&mut got).unwrap();
        let want: Vec<u8> = crate::report::csv::event_order(&all)
            .into_iter()
            .flat_map(crate::report::jsonl::event_line)
            .collect();
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
    }

    #[test]
    fn an_empty_spool_writes_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path()).unwrap();
        let mut got = Vec::new();
        spool.finish(&mut got).unwrap();
        assert_eq!(got, events_header());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

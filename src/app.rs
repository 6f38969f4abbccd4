//! Runs the pipeline for a plain `Config`: discover -> read and parse in parallel -> correlate
//! -> diagnose -> report. Nothing here prints; the caller renders the report.

use crate::clock::Logged;
use crate::correlate::FleetState;
use crate::diagnose::Severity;
use crate::hostfilter::HostFilter;
use crate::ingest::decode::{decode, strip_line_prefix};
use crate::ingest::dedup;
use crate::ingest::sniff::{sniff, Kind};
use crate::ingest::walk::{discover, Found};
use crate::ingest::zip;
use crate::ingest::{MAX_TEXT_BYTES, SNIFF_BYTES};
use crate::knowledge::Knowledge;
use crate::model::Observation;
use crate::model::Warning;
use crate::parse::evtx::Reader;
use crate::parse::{self, Parsed, Source};
use crate::report::events::Spool;
use crate::report::{InputRow, Report, Status, WindowRow};
use crate::spill::{self, FleetParts};
use crate::summary::Summary;
use crate::window::{Bound, Resolved, Window};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

/// Inputs larger than this are not read (a 5 GB bundle is many files, not one).
pub const MAX_INPUT_BYTES: u64 = 4 << 30;

/// Observations kept from one text input: far more than BITS allows jobs on a machine (300 by
/// default, a few thousand by policy), so only a crafted capture reaches it.
pub const MAX_TEXT_OBSERVATIONS: usize = 50_000;

/// Everything `analyze` needs, free of any argument parser.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub paths: Vec<PathBuf>,
    /// `--text-host`: the host of text captures that nothing else names (no host folder, no
    /// event log beside them). It never renames a capture whose host is known.
    pub host: Option<String>,
    /// `--host`: only these hosts are analysed.
    pub host_filter: crate::hostfilter::HostFilter,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Only observations in this time window are analysed (`--since` / `--until`).
    pub window: Window,
    /// `--timezone`: the zone of times given without one.
    pub timezone: Option<jiff::tz::TimeZone>,
    /// `--no-security`: leave the security lens out.
    pub no_security: bool,
    /// `--sigma DIR`: Sigma rules for the Bits-Client log, run by the security lens.
    pub sigma: Option<PathBuf>,
    /// `--security-lists FILE`: entries added to the security lens's lists.
    pub security_lists: Option<PathBuf>,
}

/// A path that could not be read, and why (for one line each on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub path: String,
    pub reason: String,
    /// Named on the command line (not found inside a folder or bundle).
    pub given: bool,
}

/// Why `analyze` produced no report at all.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no input could be read ({} path(s) given)", .given)]
    NothingReadable {
        given: usize,
        unread: Vec<Unread>,
        /// The input rows all the same (every one `skipped`), for a report that shows them.
        summary: Box<Summary>,
    },
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    #[error("{0}")]
    SecurityLists(#[from] crate::diagnose::security::lists::ListsError),
    #[error("{0}")]
    Sigma(#[from] crate::diagnose::security::sigma::SigmaError),
}

/// The security lens `cfg` asks for (None with `--no-security`), and a warning for every Sigma
/// file that was not used.
pub fn security_lens(
    cfg: &Config,
) -> Result<(Option<crate::diagnose::security::Lens>, Vec<Warning>), AppError> {
    use crate::diagnose::security::{lists::Lists, sigma::SigmaSet, Lens};
    if cfg.no_security {
        return Ok((None, Vec::new()));
    }
    let mut lists = Lists::builtin();
    if let Some(p) = &cfg.security_lists {
        lists.extend_from_file(p)?;
    }
    let mut warnings = Vec::new();
    let sigma = match &cfg.sigma {
        Some(dir) => {
            let set = SigmaSet::load(dir)?;
            for why in &set.skipped {
                warnings.push(Warning {
                    path: dir.display().to_string(),
                    at: None,
                    message: format!("Sigma rule not used: {why}"),
                });
            }
            Some(set)
        }
        None => None,
    };
    Ok((Some(Lens { lists, sigma }), warnings))
}

/// What reading one input gave.
struct InputResult {
    row: InputRow,
    /// Parsed, not yet folded into `state`.
    observations: Vec<Observation>,
    /// What the observations say, folded (see [`InputResult::fold`]).
    state: FleetState,
    /// Folded state written to disk (see [`crate::spill`]), host by host, before `state`.
    spilled: Vec<(String, spill::Stored)>,
    /// Job creation / completion times an event log gave (for placing console times).
    logged: Logged,
    /// Some (or all) of its observations are folded into `state`.
    folded: bool,
    /// Host names of an event log folded early whose observations wait in `observations`
    /// for the late fold: names a join could make one host within this log (`WS01` and
    /// `ws01.corp.example`), whose records must be folded together, in record order.
    late_hosts: BTreeSet<String>,
    /// For an event log: which records it holds, coarsely (to count records once).
    footprint: dedup::Footprint,
    /// Orders inputs: found order, then entry order within a zip.
    ordinal: u64,
    warnings: Vec<Warning>,
    /// Hosts named inside the input (evtx `Computer`).
    hosts: BTreeSet<String>,
    /// The folders above the input, outermost first (zip stems included): host attribution
    /// reads them.
    folders: Vec<String>,
}

/// Analyse the inputs named in `cfg`.
pub fn analyze(cfg: &Config, kb: &Knowledge) -> Result<Report, AppError> {
    analyze_with_progress(cfg, kb, &|_| {})
}

/// What `analyze` reports while it reads inputs (for a progress bar; the core never prints).
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// This many inputs were found.
    Found(usize),
    /// One more input was read.
    Read,
    /// Reading is done; correlating and diagnosing.
    Analysing,
}

/// `analyze`, calling `progress` as inputs are found and read (from worker threads).
pub fn analyze_with_progress(
    cfg: &Config,
    kb: &Knowledge,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, AppError> {
    let (lens, lens_warnings) = security_lens(cfg)?;
    in_pool(cfg.threads, || {
        collect(cfg, progress, &[]).map(|mut s| {
            s.warnings.extend(lens_warnings);
            s.report(kb, lens.as_ref())
        })
    })?
}

/// `--threads` above 4x the cores only adds threads that wait (100,000 of them took minutes
/// to start): capped there, with a note for the report.
fn capped_threads(asked: usize, cores: usize) -> (usize, Option<Warning>) {
    let cap = cores.saturating_mul(4).max(1);
    if asked <= cap {
        return (asked, None);
    }
    let note = Warning {
        path: "--threads".into(),
        at: None,
        message: format!("{asked} threads asked: {cap} used (4x the {cores} core(s))"),
    };
    (cap, Some(note))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Run `f` on a pool of `threads` worker threads (0 = one per core).
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T, AppError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(capped_threads(threads, cores()).0)
        .build()
        .map_err(|e| AppError::Threads(e.to_string()))?;
    Ok(pool.install(f))
}

/// The footprints of the event logs read so far, by host: only logs of one host can hold the
/// same records, so a fleet of many logs compares each with its own host's few, not with all.
#[derive(Default)]
struct ReadSoFar {
    logs: Vec<dedup::Footprint>,
    by_host: HashMap<String, Vec<usize>>,
}

impl ReadSoFar {
    /// Note a log's footprint; true if a log read before may share records with it.
    fn add(&mut self, footprint: &dedup::Footprint) -> bool {
        let mut earlier: Vec<usize> = footprint
            .hosts()
            .filter_map(|h| self.by_host.get(h))
            .flatten()
            .copied()
            .collect();
        earlier.sort_unstable();
        earlier.dedup();
        let overlaps = earlier
            .into_iter()
            .any(|i| self.logs[i].may_share(footprint));
        let at = self.logs.len();
        for h in footprint.hosts() {
            self.by_host.entry(h.to_string()).or_default().push(at);
        }
        self.logs.push(footprint.clone());
        overlaps
    }
}

/// What folding an input's observations keeps: the hosts asked for, inside the window.
struct Keep<'a> {
    /// Note the job times event logs give (when folding before clocks are placed).
    log_times: bool,
    hosts: &'a HostFilter,
    window: Option<Resolved>,
    events: &'a [&'a Spool],
    /// Where folded states wait until every input is read.
    store: Option<&'a Arc<spill::Store>>,
}

/// Read every input in `cfg` on the current pool and fold what they say into one summary
/// (turned into a report by [`Summary::report`]). Every observation analysed is also spooled
/// into each of `events` as inputs are read (`events.csv` rows, `--format jsonl` lines).
///
/// Memory: an event log names its own host and gives UTC times, so it is folded as soon as it
/// is read and its observations dropped; text captures wait (they are small) until their host
/// and clock are settled from every input. A window counted back from the newest event
/// (`--since 7d`) needs every time first, so then every input waits.
pub fn collect(
    cfg: &Config,
    progress: &(dyn Fn(Progress) + Sync),
    events: &[&Spool],
) -> Result<Summary, AppError> {
    let (found, mut warnings) = discover(&cfg.paths);
    let (found, copies) = dedup::same_content(found);
    warnings.extend(capped_threads(cfg.threads, cores()).1);
    progress(Progress::Found(found.len()));
    let relative = matches!(cfg.window.since, Some(Bound::Back(_)))
        || matches!(cfg.window.until, Some(Bound::Back(_)));
    let now = jiff::Timestamp::now();
    // Without a temporary file, folded states stay in memory.
    let store = spill::Store::new().ok();
    let early = Keep {
        log_times: true,
        hosts: &cfg.host_filter,
        window: (!cfg.window.is_open()).then(|| cfg.window.resolve(None, now)),
        events,
        store: store.as_ref(),
    };
    // Files and the chunks within each file share one pool. An event log is folded as soon
    // as it is read, unless it may share records with a log read before it: it gives UTC
    // times, and it names its own host. A log whose host is later joined to another name (a
    // short name and its FQDN, `ingest::host::merge_names`) is renamed or read again. Records
    // two overlapping exports of one log both hold are counted once afterwards
    // (`count_records_once`), from each log's footprint.
    let read_so_far: std::sync::Mutex<ReadSoFar> = Default::default();
    let mut results: Vec<InputResult> = found
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, f)| {
            let mut r = isolated(&f.display, &f.folders, || read_input(f, cfg));
            for (k, res) in r.iter_mut().enumerate() {
                res.ordinal = ((i as u64) << 24) | k as u64;
                if res.row.kind != "evtx" {
                    continue;
                }
                res.footprint =
                    dedup::Footprint::of(res.row.provider_records.keys(), &res.observations);
                // A log that may share records with one read before it keeps its observations
                // for the record-by-record check: folding it now would mean reading it again.
                let overlaps = read_so_far
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .add(&res.footprint);
                if !relative && !overlaps {
                    res.fold(&early);
                }
            }
            progress(Progress::Read);
            r
        })
        .collect();
    progress(Progress::Analysing);

    let unread = unread(cfg, &results);
    if results.iter().all(|r| r.row.status == Status::Skipped) {
        let given = cfg.paths.len();
        let unread = nothing_read(cfg, &results, unread);
        let mut inputs = Vec::with_capacity(results.len());
        for r in results {
            warnings.extend(r.warnings);
            inputs.push(r.row);
        }
        let summary = Box::new(Summary {
            schema: crate::summary::SCHEMA.to_string(),
            inputs,
            warnings,
            state: FleetParts::default(),
            window: None,
            clocks: BTreeMap::new(),
            unread: unread.clone(),
        });
        return Err(AppError::NothingReadable {
            given,
            unread,
            summary,
        });
    }
    let renames = assign_hosts(&mut results, cfg.host.as_deref());
    // Logs folded under a name that is now joined to another (a short name in one log, its
    // FQDN in another input).
    let renamed: Vec<usize> = (0..results.len())
        .filter(|&i| {
            let r = &results[i];
            r.folded
                && r.hosts
                    .iter()
                    .any(|h| renames.contains_key(h) && !r.late_hosts.contains(h))
        })
        .collect();
    // Without rows written and without a host filter (which looked at the old names), the
    // folded state is renamed in place; else the log is read again and folded late.
    let in_place = events.is_empty() && cfg.host_filter.is_empty();
    let renamed: Vec<usize> = renamed
        .into_iter()
        .filter(|&i| !(in_place && results[i].rename_hosts(&renames)))
        .collect();
    read_again(&mut results, &renamed, &found, cfg, &renames);
    for &i in &renamed {
        results[i].unfold(events);
    }
    count_records_once(&mut results, &found, cfg, events, &renames);
    for c in copies {
        let row = copy_row(&c, &results);
        results.push(row);
    }
    host_filter_warnings(&cfg.host_filter, &results, &mut warnings);

    // The inputs not folded yet, in input order, as one list: their clocks are placed from
    // every event log's job times, then the window is settled.
    let mut logged = Logged::new();
    let mut pending = Vec::new();
    let mut spans = Vec::new();
    for (i, r) in results.iter_mut().enumerate() {
        crate::clock::merge_logged(&mut logged, std::mem::take(&mut r.logged));
        if !r.folded || !r.observations.is_empty() {
            crate::clock::log_times(&mut logged, &r.observations);
            let start = pending.len();
            pending.append(&mut r.observations);
            spans.push((i, start));
        }
    }
    let mut clocks = crate::clock::place_with(&logged, &mut pending, cfg.timezone.as_ref());
    clocks.retain(|h, _| cfg.host_filter.matches(h));
    let resolved = (!cfg.window.is_open()).then(|| {
        let newest = pending
            .iter()
            .filter(|o| cfg.host_filter.matches(&o.host))
            .filter_map(|o| o.time.instant())
            .max();
        cfg.window
            .resolve(if relative { newest } else { None }, now)
    });
    let late = Keep {
        log_times: false,
        hosts: &cfg.host_filter,
        window: resolved,
        events,
        store: store.as_ref(),
    };
    // Back to their inputs.
    let mut tail = pending;
    for &(i, start) in spans.iter().rev() {
        results[i].observations = tail.split_off(start);
    }
    results
        .par_iter_mut()
        .filter(|r| !r.folded || !r.observations.is_empty())
        .for_each(|r| r.fold(&late));

    // Each input's state, in input order: merged host by host when the summary is written
    // or the report is made.
    let mut state = FleetParts::default();
    let mut inputs = Vec::with_capacity(results.len());
    for r in results {
        state.absorb_stored(r.spilled);
        state.absorb(r.state);
        warnings.extend(r.warnings);
        inputs.push(r.row);
    }
    Ok(Summary {
        schema: crate::summary::SCHEMA.to_string(),
        inputs,
        warnings,
        state,
        window: resolved.map(|w| WindowRow {
            since: w.since.map(|t| t.to_string()),
            until: w.until.map(|t| t.to_string()),
            relative_to: w.anchor.map(|a| a.describe()),
        }),
        clocks: clocks
            .iter()
            .map(|(h, c)| (h.clone(), c.describe()))
            .collect(),
        unread,
    })
}

/// Every path that could not be read, in order: paths named on the command line that are
/// missing or cannot be opened, and inputs that were skipped for a fault (unreadable,
/// corrupt, too large). Files in a folder or bundle that are simply not a kind bitsdoctor
/// reads (notes, screenshots) or empty are listed only when named on the command line.
fn unread(cfg: &Config, results: &[InputResult]) -> Vec<Unread> {
    let named: BTreeSet<String> = cfg
        .paths
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    let mut out = Vec::new();
    for p in &cfg.paths {
        if let Err(e) = std::fs::metadata(p) {
            out.push(Unread {
                path: p.to_string_lossy().to_string(),
                reason: io_reason(&e),
                given: true,
            });
        }
    }
    for r in results.iter().filter(|r| r.row.status == Status::Skipped) {
        let given = named.contains(&r.row.path);
        // A fault is also a warning; an empty file or one of another kind is not.
        if r.warnings.is_empty() && !given {
            continue;
        }
        out.push(Unread {
            path: r.row.path.clone(),
            reason: r.row.reason.clone().unwrap_or_else(|| "not read".into()),
            given,
        });
    }
    out
}

/// When nothing could be read, why, for every path: the faults [`unread`] found, every input
/// that was skipped (notes and empty files too: they were all there was), and each folder
/// given that holds no file at all.
fn nothing_read(cfg: &Config, results: &[InputResult], mut out: Vec<Unread>) -> Vec<Unread> {
    let named: BTreeSet<String> = cfg
        .paths
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    for r in results {
        if !out.iter().any(|u| u.path == r.row.path) {
            out.push(Unread {
                path: r.row.path.clone(),
                reason: r.row.reason.clone().unwrap_or_else(|| "not read".into()),
                given: named.contains(&r.row.path),
            });
        }
    }
    for p in cfg.paths.iter().filter(|p| p.is_dir()) {
        let shown = p.to_string_lossy().to_string();
        if !results.iter().any(|r| r.row.path.starts_with(&shown)) {
            out.push(Unread {
                path: shown,
                reason: "a folder with no files in it".into(),
                given: true,
            });
        }
    }
    out
}

/// An I/O error as a refusal reason: missing, permission, or what the system says.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "missing: no such file or folder".into(),
        std::io::ErrorKind::PermissionDenied => format!("permission denied ({e})"),
        _ => format!("cannot read: {e}"),
    }
}

/// A file not read because a file with the same bytes is: its row says which.
fn copy_row(c: &dedup::Copy, results: &[InputResult]) -> InputResult {
    let original = results.iter().find(|r| r.row.path == c.read_instead);
    let origin = Origin {
        display: &c.file.display,
        folders: &c.file.folders,
    };
    let why = format!("same content as {}, which is read instead", c.read_instead);
    let kind = original.map_or("unknown", |r| r.row.kind.as_str());
    let mut r = skipped(&origin, kind, why, false);
    r.row.host = original.map(|o| o.row.host.clone()).unwrap_or_default();
    r
}

/// Records that two event-log inputs both hold (overlapping exports of one host's log) are
/// counted once, from the first input in order; the other input's row says so. Footprints
/// find the inputs that may share records; only those are compared record by record, and one
/// already folded is read again for it (its rows taken back from `events`, its state refolded
/// later). So the result follows input order, never the order inputs were read in.
fn count_records_once(
    results: &mut [InputResult],
    found: &[Found],
    cfg: &Config,
    events: &[&Spool],
    renames: &BTreeMap<String, String>,
) {
    let mut by_host: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        for h in r.footprint.hosts() {
            by_host.entry(h).or_default().push(i);
        }
    }
    let mut involved = BTreeSet::new();
    for logs in by_host.values() {
        for (n, &j) in logs.iter().enumerate() {
            for &i in &logs[..n] {
                if results[i].footprint.may_share(&results[j].footprint) {
                    involved.extend([i, j]);
                }
            }
        }
    }
    if involved.is_empty() {
        return;
    }
    // Logs folded already are read again (each on its own; the same bytes give the same
    // observations).
    let folded: Vec<usize> = involved
        .iter()
        .copied()
        .filter(|&i| results[i].folded)
        .collect();
    let mut held: BTreeMap<usize, Vec<Observation>> =
        read_again(results, &folded, found, cfg, renames)
            .into_iter()
            .collect();
    let involved: Vec<usize> = involved.into_iter().collect();
    let paths: Vec<String> = involved
        .iter()
        .map(|&i| results[i].row.path.clone())
        .collect();
    let repeated = {
        let mut inputs: Vec<(&str, &mut Vec<Observation>)> = results
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| involved.binary_search(i).is_ok())
            .zip(&paths)
            .map(|((_, r), p)| (p.as_str(), &mut r.observations))
            .collect();
        dedup::drop_repeated_records(&mut inputs)
    };
    for (i, rep) in involved.into_iter().zip(repeated) {
        let r = &mut results[i];
        let Some(rep) = rep else {
            if let Some(obs) = held.remove(&i) {
                // Nothing counted elsewhere: the fold stands, with what it held back.
                r.observations = obs;
            }
            continue;
        };
        if r.folded {
            // Folded with the records the earlier input counts: folded again, later.
            r.unfold(events);
        }
        let row = &mut r.row;
        let note = format!(
            "{} observation(s) from records also in {}: counted once, from there",
            rep.observations, rep.counted_in
        );
        row.reason = Some(match row.reason.take() {
            Some(r) => format!("{r}; {note}"),
            None => note,
        });
    }
}

/// Read the event logs `which` again (each on its own: the same bytes give the same
/// observations, here with the host joins `renames` made), for logs folded early whose records
/// must be looked at once more. Returns the observations each held before (those not folded).
fn read_again(
    results: &mut [InputResult],
    which: &[usize],
    found: &[Found],
    cfg: &Config,
    renames: &BTreeMap<String, String>,
) -> Vec<(usize, Vec<Observation>)> {
    let again: Vec<(usize, Vec<Observation>)> = which
        .par_iter()
        .map(|&i| {
            let ordinal = results[i].ordinal;
            let f = &found[(ordinal >> 24) as usize];
            let mut read = isolated(&f.display, &f.folders, || read_input(f, cfg));
            let k = (ordinal & 0xff_ffff) as usize;
            let mut obs = read
                .get_mut(k)
                .map(|r| std::mem::take(&mut r.observations))
                .unwrap_or_default();
            for o in &mut obs {
                if let Some(to) = renames.get(&o.host) {
                    o.host.clone_from(to);
                }
            }
            (i, obs)
        })
        .collect();
    again
        .into_iter()
        .map(|(i, obs)| (i, std::mem::replace(&mut results[i].observations, obs)))
        .collect()
}

impl InputResult {
    /// Undo an early fold: the state, job times and `events` rows it made are dropped, to be
    /// made again by the late fold.
    fn unfold(&mut self, events: &[&Spool]) {
        self.state = FleetState::default();
        self.spilled.clear();
        self.logged = Logged::new();
        self.folded = false;
        self.late_hosts.clear();
        for spool in events {
            spool.retract(self.ordinal);
        }
    }

    /// Rename the hosts of a folded input (see [`FleetState::rename_hosts`]).
    fn rename_hosts(&mut self, renames: &BTreeMap<String, String>) -> bool {
        // A state that cannot be read back is not renamed: the input is then read again.
        if self.unspill().is_err() || !self.state.rename_hosts(renames) {
            return false;
        }
        let mut logged = Logged::new();
        for (h, jobs) in std::mem::take(&mut self.logged) {
            let h = renames.get(&h).cloned().unwrap_or(h);
            crate::clock::merge_logged(&mut logged, Logged::from([(h, jobs)]));
        }
        self.logged = logged;
        true
    }

    /// Put the folded state on disk until every input is read (see [`crate::spill`]); kept
    /// in memory when there is no temporary file or it cannot be written.
    fn spill(&mut self, store: Option<&Arc<spill::Store>>) {
        if let Some(store) = store {
            if let Ok(stored) = spill::put_all(store, &mut self.state) {
                self.spilled.extend(stored);
            }
        }
    }

    /// Bring the state written to disk back into memory, before anything folded after it.
    fn unspill(&mut self) -> std::io::Result<()> {
        if self.spilled.is_empty() {
            return Ok(());
        }
        let mut state = FleetState::default();
        for (name, stored) in &self.spilled {
            state.absorb_host(name.clone(), Box::new(stored.read()?));
        }
        self.spilled.clear();
        state.absorb(std::mem::take(&mut self.state));
        self.state = state;
        Ok(())
    }

    /// Fold the observations `keep` keeps into the input's state (and the events spool),
    /// then put the state on disk (see [`InputResult::spill`]).
    fn fold(&mut self, keep: &Keep) {
        let obs = std::mem::take(&mut self.observations);
        // Early (`log_times`), names joinable within the log wait; late, everything is folded.
        if keep.log_times {
            self.late_hosts = crate::ingest::host::joinable_within(&self.hosts);
        }
        let none = BTreeSet::new();
        let late = if keep.log_times {
            &self.late_hosts
        } else {
            &none
        };
        let now = |o: &&Observation| late.is_empty() || !late.contains(&o.host);
        if keep.log_times {
            crate::clock::log_times(&mut self.logged, obs.iter().filter(now));
        }
        let kept: Vec<&Observation> = obs
            .iter()
            .filter(now)
            .filter(|o| {
                keep.hosts.matches(&o.host) && keep.window.is_none_or(|w| w.contains(o.time))
            })
            .collect();
        let state = &mut self.state;
        let ordinal = self.ordinal;
        rayon::join(
            || fold_into(state, &kept),
            || {
                for spool in keep.events {
                    spool.add(ordinal, kept.iter().copied());
                }
            },
        );
        drop(kept);
        // The few observations of names joinable within the log wait for the late fold.
        if !late.is_empty() {
            self.observations = obs
                .iter()
                .filter(|o| late.contains(&o.host))
                .cloned()
                .collect();
        }
        // Freeing every observation of a large log takes a while: done meanwhile.
        if obs.len() > FOLD_SEGMENT {
            rayon::spawn(move || drop(obs));
        }
        self.folded = true;
        self.spill(keep.store);
    }
}

/// Observations one task folds when an input holds more (a large event log): the segments
/// are folded in parallel and their states merged in order, which gives the state folding
/// them one by one gives (see [`FleetState::absorb`]).
const FOLD_SEGMENT: usize = 16_384;

/// Fold `obs` into `state`, as `state.add` of each in turn would.
fn fold_into(state: &mut FleetState, obs: &[&Observation]) {
    fold_in_segments(state, obs, FOLD_SEGMENT);
}

fn fold_in_segments(state: &mut FleetState, obs: &[&Observation], segment: usize) {
    if obs.len() <= segment {
        for o in obs {
            state.add(o);
        }
        return;
    }
    let parts: Vec<FleetState> = obs
        .par_chunks(segment)
        .map(|segment| {
            let mut part = FleetState::default();
            for o in segment {
                part.add(o);
            }
            part
        })
        .collect();
    for part in parts {
        state.absorb(part);
    }
}

/// A `--host` pattern that matches no host in the inputs is a warning.
fn host_filter_warnings(filter: &HostFilter, results: &[InputResult], warnings: &mut Vec<Warning>) {
    if filter.is_empty() {
        return;
    }
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    for r in results {
        hosts.extend(r.hosts.iter().map(String::as_str));
        hosts.extend(r.observations.iter().map(|o| o.host.as_str()));
    }
    let hosts: Vec<&str> = hosts.into_iter().collect();
    for p in filter.unmatched(&hosts) {
        warnings.push(Warning {
            path: String::new(),
            at: None,
            message: format!(
                "--host {p} matches no host in the inputs (hosts: {})",
                hosts.join(", ")
            ),
        });
    }
}

/// Does the report hold a diagnosis at or above `level`?
pub fn fails(report: &Report, level: Severity) -> bool {
    report.worst().is_some_and(|w| w >= level)
}

/// Where an input came from: a file, or an entry of a zip bundle.
struct Origin<'a> {
    display: &'a str,
    folders: &'a [String],
}

fn skipped(o: &Origin, kind: &str, reason: String, warn: bool) -> InputResult {
    InputResult {
        row: InputRow {
            path: o.display.to_string(),
            kind: kind.to_string(),
            host: String::new(),
            status: Status::Skipped,
            reason: Some(reason.clone()),
            observations: 0,
            records: 0,
            skipped_records: 0,
            provider_records: BTreeMap::new(),
        },
        observations: Vec::new(),
        state: FleetState::default(),
        spilled: Vec::new(),
        logged: Logged::new(),
        folded: false,
        late_hosts: BTreeSet::new(),
        footprint: dedup::Footprint::default(),
        ordinal: 0,
        warnings: if warn {
            vec![Warning {
                path: o.display.to_string(),
                at: None,
                message: reason,
            }]
        } else {
            Vec::new()
        },
        hosts: BTreeSet::new(),
        folders: o.folders.to_vec(),
    }
}

/// Run the work for one input so that a panic in it (a bug, never expected) costs that input
/// only: it becomes the input's `skipped` row with the reason, and the run goes on.
fn isolated(
    display: &str,
    folders: &[String],
    work: impl FnOnce() -> Vec<InputResult>,
) -> Vec<InputResult> {
    match crate::isolate::catch(work) {
        Ok(results) => results,
        Err(what) => {
            let origin = Origin { display, folders };
            let why = format!(
                "internal error while reading this input, skipped (please report it): {what}"
            );
            vec![skipped(&origin, "unknown", why, true)]
        }
    }
}

/// Read one file found on disk: an event log (streamed), a zip bundle (its entries), or text.
fn read_input(f: &Found, cfg: &Config) -> Vec<InputResult> {
    let origin = Origin {
        display: &f.display,
        folders: &f.folders,
    };
    let size = match std::fs::metadata(&f.path) {
        // Reading a FIFO could wait forever, a device never end: neither is a capture.
        Ok(m) if !m.is_file() => {
            let why = "not a regular file (a FIFO, device or socket): not read".into();
            return vec![skipped(&origin, "special", why, true)];
        }
        Ok(m) if m.len() > MAX_INPUT_BYTES => {
            let why = format!("larger than {} GiB: not read", MAX_INPUT_BYTES >> 30);
            return vec![skipped(&origin, "unknown", why, true)];
        }
        Ok(m) if m.len() == 0 => {
            return vec![skipped(&origin, "empty", "empty file".into(), false)]
        }
        Err(e) => return vec![skipped(&origin, "unknown", io_reason(&e), true)],
        Ok(m) => m.len(),
    };
    // One handle: its first bytes say what the file is; an event log is then read from it a
    // chunk at a time.
    let mut head = Vec::with_capacity(8);
    let opened = std::fs::File::open(&f.path).and_then(|mut file| {
        (&mut file).take(8).read_to_end(&mut head)?;
        Ok(file)
    });
    let mut file = match opened {
        Ok(file) => file,
        Err(e) => {
            let why = io_reason(&e);
            return vec![skipped(&origin, "unknown", why, true)];
        }
    };
    if head == b"ElfFile\0" {
        let parsed = parse::evtx::parse_file(&file, &f.display, Reader::Fast);
        return vec![evtx_result(&origin, parsed)];
    }
    if zip::is_zip(&head) {
        drop(file);
        return read_zip(f, cfg);
    }
    // Text: its kind is told from the first bytes; only a kind bitsdoctor reads is read on,
    // up to the text cap.
    let mut bytes = head;
    let read = (&mut file)
        .take(SNIFF_BYTES.saturating_sub(bytes.len() as u64))
        .read_to_end(&mut bytes)
        .and_then(|_| {
            if text_kind(&bytes).is_some() {
                let rest = MAX_TEXT_BYTES.saturating_sub(bytes.len() as u64);
                bytes.reserve(size.min(MAX_TEXT_BYTES) as usize);
                (&mut file).take(rest).read_to_end(&mut bytes)
            } else {
                Ok(0)
            }
        });
    if let Err(e) = read {
        return vec![skipped(&origin, "unknown", io_reason(&e), true)];
    }
    let cut = (size > MAX_TEXT_BYTES).then_some(size);
    vec![read_bytes(&origin, &bytes, cfg, cut)]
}

/// The kind of a text input bitsdoctor reads, told from its first bytes; `None` for any
/// other kind.
fn text_kind(bytes: &[u8]) -> Option<Kind> {
    let kind = head_kind(bytes);
    READ_KINDS.contains(&kind).then_some(kind)
}

/// The kind of an input as its first `SNIFF_BYTES` tell it (read the way `read_bytes` reads
/// text: decoded, without a line prefix every line has).
fn head_kind(bytes: &[u8]) -> Kind {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES as usize)];
    let decoded = decode(head);
    let text = strip_line_prefix(&decoded.text).unwrap_or(decoded.text);
    let text: String = text.chars().take(8192).collect();
    sniff(head, Some(&text))
}

/// The text kinds `parse_text` reads (every kind it has an arm for; tested).
const READ_KINDS: [Kind; 7] = [
    Kind::Bitsadmin,
    Kind::PowerShell,
    Kind::Sc,
    Kind::Reg,
    Kind::Netsh,
    Kind::WuLog,
    Kind::Manifest,
];

/// Every entry of a zip bundle, read in place, plus a row for the bundle itself.
fn read_zip(f: &Found, cfg: &Config) -> Vec<InputResult> {
    let mut results = Vec::new();
    let limits = zip::ZipLimits::default();
    let warnings = zip::visit_file(&f.path, &f.display, &limits, &mut |entry| {
        // The folders around the bundle, then the bundle and the folders inside it.
        let folders: Vec<String> = f.folders.iter().chain(&entry.folders).cloned().collect();
        let origin = Origin {
            display: &entry.display,
            folders: &folders,
        };
        let display = origin.display;
        results.extend(isolated(display, origin.folders, || match entry.log {
            // An event log, streamed from its temporary file like one on disk.
            Some(file) => {
                let parsed = parse::evtx::parse_file(&file, display, Reader::Fast);
                vec![evtx_result(&origin, parsed)]
            }
            None => vec![read_bytes(&origin, &entry.bytes, cfg, entry.cut)],
        }));
    });
    let status = if warnings.is_empty() {
        Status::Ok
    } else {
        Status::Partial
    };
    results.push(InputResult {
        row: InputRow {
            path: f.display.clone(),
            kind: "zip".into(),
            host: String::new(),
            status,
            reason: (!warnings.is_empty())
                .then(|| format!("{} entr(ies) refused or unreadable", warnings.len())),
            observations: 0,
            records: results.len() as u64,
            skipped_records: warnings.len() as u64,
            provider_records: BTreeMap::new(),
        },
        observations: Vec::new(),
        state: FleetState::default(),
        spilled: Vec::new(),
        logged: Logged::new(),
        folded: false,
        late_hosts: BTreeSet::new(),
        footprint: dedup::Footprint::default(),
        ordinal: 0,
        warnings,
        hosts: BTreeSet::new(),
        folders: f.folders.clone(),
    });
    results
}

/// An input held in memory (a zip entry or a text file): sniffed and parsed.
///
/// `cut` is the input's size when only its first `MAX_TEXT_BYTES` are in `bytes`.
fn read_bytes(o: &Origin, bytes: &[u8], cfg: &Config, cut: Option<u64>) -> InputResult {
    if bytes.is_empty() {
        return skipped(o, "empty", "empty file".into(), false);
    }
    if bytes.starts_with(b"ElfFile\0") {
        let parsed = parse::evtx::parse(bytes, o.display, Reader::Fast)
            .map_err(parse::evtx::StreamError::Evtx);
        return evtx_result(o, parsed);
    }
    // Decoding is only worth it for a kind bitsdoctor reads.
    let kind = head_kind(bytes);
    if !READ_KINDS.contains(&kind) {
        let why = "not a kind of input bitsdoctor reads".into();
        return skipped(o, kind.as_str(), why, false);
    }
    let mut decoded = decode(bytes);
    // A capture pasted into a script or a mail: read it without the prefix every line has.
    if let Some(text) = strip_line_prefix(&decoded.text) {
        decoded.text = text;
    }
    let head: String = decoded.text.chars().take(8192).collect();
    let kind = sniff(bytes, Some(&head));
    // Provisional: `assign_hosts` settles it once every input is read.
    let host = crate::ingest::host::nearest(o.folders)
        .map(str::to_string)
        .or_else(|| cfg.host.clone())
        .unwrap_or_else(|| "unknown".into());
    let src = Source {
        path: o.display,
        host: &host,
    };
    let Some(mut parsed) = parse_text(kind, &decoded.text, &src) else {
        // Not a problem with the input: bundles hold notes, screenshots and other files too.
        let why = "not a kind of input bitsdoctor reads".into();
        return skipped(o, kind.as_str(), why, false);
    };
    if let Some(w) = decoded.warning() {
        parsed.warn(&src, None, w);
    }
    if let Some(size) = cut {
        parsed.warn(
            &src,
            None,
            format!(
                "{size} bytes: only the first {} MiB read (the cap for one text input); the rest is not analysed",
                MAX_TEXT_BYTES >> 20
            ),
        );
    }
    let kept = parsed.observations.len();
    if kept > MAX_TEXT_OBSERVATIONS {
        parsed.observations.truncate(MAX_TEXT_OBSERVATIONS);
        parsed.warn(
            &src,
            None,
            format!(
                "{kept} observations: only the first {MAX_TEXT_OBSERVATIONS} kept (the cap for one text input)"
            ),
        );
    }
    let lines = decoded.text.lines().count() as u64;
    let partial = !parsed.warnings.is_empty();
    // One warning stands for all the lines not understood.
    let not_understood = parsed.warnings.len() as u64 + parsed.unread_lines.saturating_sub(1);
    InputResult {
        row: InputRow {
            path: o.display.to_string(),
            kind: kind.as_str().to_string(),
            host: host.clone(),
            status: if partial { Status::Partial } else { Status::Ok },
            reason: partial.then(|| match kind {
                Kind::Manifest => format!("{} capture(s) not collected", parsed.warnings.len()),
                _ => format!("{not_understood} line(s) or value(s) not understood"),
            }),
            observations: parsed.observations.len() as u64,
            records: lines,
            skipped_records: parsed.unread_lines,
            provider_records: BTreeMap::new(),
        },
        observations: parsed.observations,
        state: FleetState::default(),
        spilled: Vec::new(),
        logged: Logged::new(),
        folded: false,
        late_hosts: BTreeSet::new(),
        footprint: dedup::Footprint::default(),
        ordinal: 0,
        warnings: parsed.warnings,
        hosts: BTreeSet::new(),
        folders: o.folders.to_vec(),
    }
}

/// The text parser for a sniffed kind, if bitsdoctor reads that kind.
fn parse_text(kind: Kind, text: &str, src: &Source) -> Option<Parsed> {
    Some(match kind {
        Kind::Bitsadmin => parse::bitsadmin::parse(text, src),
        Kind::PowerShell => parse::powershell::parse(text, src),
        Kind::Sc => parse::sc::parse(text, src),
        Kind::Reg => parse::reg::parse(text, src),
        Kind::Netsh => parse::netsh::parse(text, src),
        Kind::WuLog => parse::wulog::parse(text, src),
        Kind::Manifest => parse::manifest::parse(text, src),
        _ => return None,
    })
}

fn evtx_result(
    o: &Origin,
    parsed: Result<parse::evtx::EvtxOutcome, parse::evtx::StreamError>,
) -> InputResult {
    match parsed {
        Err(e) => skipped(o, "evtx", e.to_string(), true),
        // A file whose header is wrong and that gives no record, nor any count of records it
        // lost: unreadable, not partial (a log with a sound header and no records is simply
        // empty; one whose records are all lost is partial, with the count).
        Ok(out) if out.records == 0 && out.lost_records == 0 && !out.file_problems.is_empty() => {
            let why = format!(
                "unreadable: no record could be read ({})",
                out.problems().join("; ")
            );
            skipped(o, "evtx", why, true)
        }
        Ok(out) => {
            // One name per observation, in runs: each name is copied once, not per observation.
            let mut hosts: BTreeSet<String> = BTreeSet::new();
            let mut last: Option<&str> = None;
            for o in &out.parsed.observations {
                let h = o.host.as_str();
                if last != Some(h) {
                    if !hosts.contains(h) {
                        hosts.insert(h.to_string());
                    }
                    last = Some(h);
                }
            }
            let partial = out.is_partial();
            let reason = partial.then(|| out.problems().join("; "));
            InputResult {
                row: InputRow {
                    path: o.display.to_string(),
                    kind: "evtx".into(),
                    host: hosts.iter().cloned().collect::<Vec<_>>().join(";"),
                    status: if partial { Status::Partial } else { Status::Ok },
                    reason,
                    observations: out.parsed.observations.len() as u64,
                    records: out.records,
                    skipped_records: out.lost_records,
                    provider_records: out
                        .provider_records
                        .iter()
                        .map(|(k, v)| (k.to_string(), *v))
                        .collect(),
                },
                observations: out.parsed.observations,
                state: FleetState::default(),
                spilled: Vec::new(),
                logged: Logged::new(),
                folded: false,
                late_hosts: BTreeSet::new(),
                footprint: dedup::Footprint::default(),
                ordinal: 0,
                warnings: out.parsed.warnings,
                hosts,
                folders: o.folders.to_vec(),
            }
        }
    }
}

/// Settle every input's host by the rule of `ingest::host` (event logs beside a capture, else
/// the nearest specific folder, else `label`), then join short names to their FQDN where that
/// is unambiguous, in observations and input rows alike. Returns those joins (old -> new).
fn assign_hosts(results: &mut [InputResult], label: Option<&str>) -> BTreeMap<String, String> {
    use crate::ingest::host;
    let located: Vec<host::Located> = results
        .iter()
        .map(|r| host::Located {
            folders: &r.folders,
            computers: &r.hosts,
            is_event_log: r.row.kind == "evtx",
        })
        .collect();
    let text_hosts = host::attribute(&located, label);
    for (r, h) in results.iter_mut().zip(text_hosts) {
        // Rows without observations (skipped, zip bundles) name no host.
        if let (Some(h), false) = (h, r.row.host.is_empty() && r.observations.is_empty()) {
            r.row.host = h.clone();
            for o in &mut r.observations {
                o.host.clone_from(&h);
            }
        }
    }
    // Event logs folded already hold no observations: the hosts they name are in `hosts`.
    let renames = host::merge_names(results.iter().flat_map(|r| {
        let named = r.hosts.iter().map(String::as_str);
        named.chain(r.observations.iter().map(|o| o.host.as_str()))
    }));
    if renames.is_empty() {
        return renames;
    }
    for r in results.iter_mut() {
        for o in &mut r.observations {
            if let Some(to) = renames.get(&o.host) {
                o.host.clone_from(to);
            }
        }
        if !r.row.host.is_empty() {
            let mut names: Vec<String> = r
                .row
                .host
                .split(';')
                .map(|h| renames.get(h).cloned().unwrap_or_else(|| h.to_string()))
                .collect();
            names.sort();
            names.dedup();
            r.row.host = names.join(";");
        }
    }
    renames
}

/// One case of `analyze --each`: a zip bundle or a folder, analysed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Its folder name under the output folder: the entry's name (a zip's without `.zip`),
    /// made safe as a file name and unique within the run.
    pub name: String,
    pub path: PathBuf,
}

/// The cases under `paths`: every folder and zip bundle directly under each path given (a path
/// that is itself a zip is one case), in name order, leaving out `skip` (the output folder)
/// and hidden entries. Also returns the entries that are neither.
pub fn cases(paths: &[PathBuf], skip: Option<&std::path::Path>) -> (Vec<Case>, Vec<PathBuf>) {
    let skip = skip.and_then(|s| std::fs::canonicalize(s).ok());
    let mut found = Vec::new();
    let mut other = Vec::new();
    for p in paths {
        if p.is_file() {
            if is_zip_file(p) {
                found.push(p.clone());
            } else {
                other.push(p.clone());
            }
            continue;
        }
        let Ok(dir) = std::fs::read_dir(p) else {
            other.push(p.clone());
            continue;
        };
        let mut entries: Vec<PathBuf> = dir.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        entries.sort();
        for e in entries {
            let hidden = e
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            let canonical = std::fs::canonicalize(&e).ok();
            if hidden || (skip.is_some() && canonical == skip) {
                continue;
            }
            // Symlinks are not followed into cases (no loops, nothing outside the paths given).
            let meta = std::fs::symlink_metadata(&e);
            match meta {
                Ok(m) if m.is_dir() => found.push(e),
                Ok(m) if m.is_file() && is_zip_file(&e) => found.push(e),
                _ => other.push(e),
            }
        }
    }
    let mut taken = BTreeSet::new();
    let cases = found
        .into_iter()
        .map(|path| {
            let base = case_name(&path);
            let mut name = base.clone();
            let mut n = 1;
            while !taken.insert(name.to_ascii_lowercase()) {
                n += 1;
                name = format!("{base}-{n}");
            }
            Case { name, path }
        })
        .collect();
    (cases, other)
}

fn is_zip_file(p: &std::path::Path) -> bool {
    let mut head = Vec::with_capacity(4);
    std::fs::File::open(p)
        .and_then(|f| f.take(4).read_to_end(&mut head))
        .is_ok()
        && zip::is_zip(&head)
}

/// A case's folder name: letters, digits, `-`, `_` and `.` kept, anything else `_`, never
/// empty, `.` or `..`.
fn case_name(p: &std::path::Path) -> String {
    let raw = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = match raw.len().checked_sub(4) {
        Some(i) if raw.is_char_boundary(i) && raw[i..].eq_ignore_ascii_case(".zip") => &raw[..i],
        _ => raw.as_str(),
    };
    let name: String = stem
        .chars()
        .take(100)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.trim_matches('.').is_empty() {
        "case".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_reading_one_input_becomes_its_skipped_row() {
        let folders = vec!["bundle".to_string(), "WS01".to_string()];
        let rows = isolated("bundle/WS01/x.evtx", &folders, || {
            let v: Vec<u8> = Vec::new();
            let at = v.len() + 3;
            vec![skipped(
                &Origin {
                    display: "never",
                    folders: &[],
                },
                "evtx",
                format!("{}", v[at]),
                false,
            )]
        });
        assert_eq!(rows.len(), 1);
        let row = &rows[0].row;
        assert_eq!(row.path, "bundle/WS01/x.evtx");
        assert_eq!(row.status, Status::Skipped);
        let reason = row.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("internal error"), "{reason}");
        assert!(reason.contains("index out of bounds"), "{reason}");
        assert_eq!(rows[0].warnings.len(), 1);
        assert_eq!(rows[0].folders, folders);
    }

    /// A log overlaps a log read before it only if both have records of one host whose ids and
    /// times overlap; logs of other hosts are not looked at.
    #[test]
    fn a_log_is_compared_with_the_logs_read_before_of_its_own_host() {
        use crate::model::{Evidence, Fact, Locator, When};
        let log = |host: &str, path: &str, ids: std::ops::Range<u64>| {
            let obs: Vec<Observation> = ids
                .map(|id| Observation {
                    host: host.into(),
                    time: When::Utc(
                        jiff::Timestamp::from_second(1_700_000_000 + id as i64).unwrap(),
                    ),
                    evidence: Evidence {
                        path: path.into(),
                        at: Locator::Record(id),
                    },
                    event_id: 7034,
                    fact: Fact::ServiceCrash {
                        service: "BITS".into(),
                        count: None,
                    },
                })
                .collect();
            dedup::Footprint::of(&[], &obs)
        };
        let mut seen = ReadSoFar::default();
        assert!(!seen.add(&log("WS01", "a/System.evtx", 1..100)));
        // Another host with the same record ids and times: no record in common.
        assert!(!seen.add(&log("WS02", "b/System.evtx", 1..100)));
        // A later export of WS01's log, overlapping the first.
        assert!(seen.add(&log("WS01", "c/System.evtx", 50..150)));
        // A WS02 export that begins after the first one ends.
        assert!(!seen.add(&log("WS02", "d/System.evtx", 200..300)));
        assert_eq!(seen.by_host["WS01"], [0, 2]);
        assert_eq!(seen.by_host["WS02"], [1, 3]);
    }

    /// Every observation the event logs under `dir` give, in path order.
    fn log_observations(dir: &std::path::Path) -> Vec<Observation> {
        let (found, _) = discover(&[dir.to_path_buf()]);
        let mut all = Vec::new();
        for f in found.iter().filter(|f| f.display.ends_with(".evtx")) {
            let Ok(file) = std::fs::File::open(&f.path) else {
                continue;
            };
            if let Ok(out) = parse::evtx::parse_file(&file, &f.display, Reader::Fast) {
                all.extend(out.parsed.observations);
            }
        }
        all
    }

    #[test]
    fn folding_in_segments_gives_the_state_of_folding_one_by_one() {
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")];
        match std::env::var_os("BITSDOCTOR_CORPUS") {
            Some(c) => dirs.push(c.into()),
            None => eprintln!("BITSDOCTOR_CORPUS is not set: folding checked on samples/ only"),
        }
        for dir in dirs {
            let obs = log_observations(&dir);
            assert!(
                obs.len() > 100,
                "{}: {} observations",
                dir.display(),
                obs.len()
            );
            let refs: Vec<&Observation> = obs.iter().collect();
            let mut one_by_one = FleetState::default();
            for o in &refs {
                one_by_one.add(o);
            }
            for segment in [1, 7, 64, 1000] {
                let mut segmented = FleetState::default();
                fold_in_segments(&mut segmented, &refs, segment);
                assert!(
                    segmented == one_by_one,
                    "{}: segments of {segment}",
                    dir.display()
                );
            }
        }
    }

    #[test]
    fn threads_are_capped_at_four_times_the_cores_with_a_note() {
        assert_eq!(capped_threads(0, 2).0, 0);
        assert!(capped_threads(8, 2).1.is_none());
        let (n, note) = capped_threads(100_000, 2);
        assert_eq!(n, 8);
        assert!(note
            .unwrap()
            .message
            .contains("100000 threads asked: 8 used"));
    }

    #[test]
    fn only_kinds_bitsdoctor_reads_are_read_past_their_head() {
        assert_eq!(
            text_kind(b"\r\nSERVICE_NAME: BITS\r\n        TYPE               : 20  WIN32_SHARE_PROCESS\r\n"),
            Some(Kind::Sc)
        );
        assert_eq!(text_kind(b"lorem ipsum dolor sit amet\n"), None);
    }

    #[test]
    fn read_kinds_are_the_kinds_parse_text_reads() {
        let src = Source {
            path: "x",
            host: "h",
        };
        for k in [
            Kind::Evtx,
            Kind::Bitsadmin,
            Kind::PowerShell,
            Kind::Sc,
            Kind::Reg,
            Kind::Netsh,
            Kind::WuLog,
            Kind::Manifest,
            Kind::Zip,
            Kind::Unknown,
        ] {
            assert_eq!(
                parse_text(k, "", &src).is_some(),
                READ_KINDS.contains(&k),
                "{k:?}"
            );
        }
    }

    #[test]
    fn work_that_does_not_panic_is_passed_through() {
        let rows = isolated("a", &[], Vec::new);
        assert!(rows.is_empty());
    }
}

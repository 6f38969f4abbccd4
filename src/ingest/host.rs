//! Host attribution: which machine each input belongs to. The one place that owns the rule,
//! for files in folders and for zip entries alike, at any depth.
//!
//! An event log names its machine in every record (`Computer`). A text capture names none, so
//! it takes, in this order:
//!
//! 1. the `Computer` of the event logs in the same place (the same host folder or zip: the
//!    folders down to the nearest specific one), when they name one machine, or one whose
//!    short name is that folder's;
//! 2. else the nearest folder above it whose name is not generic (`logs`, `evtx`, `bundle` ...),
//!    where a zip counts as a folder named by its stem (`tickets/CASE-1042/WS-0201/x.txt` and
//!    `case.zip!case/WS-0201/x.txt` are both WS-0201);
//! 3. else the label given for loose captures (`--text-host`);
//! 4. else `unknown`.
//!
//! Finally a short name and its FQDN (`WS01`, `WS01.corp.example`) are one host when exactly
//! one FQDN has that short name.

use std::collections::{BTreeMap, BTreeSet};

/// Folder names that say what is inside rather than whose it is.
const GENERIC: &[&str] = &[
    "logs",
    "log",
    "evtx",
    "eventlogs",
    "event logs",
    "text",
    "txt",
    "bundle",
    "bundles",
    "samples",
    "sample",
    "output",
    "export",
    "exports",
    "collect",
    "collected",
    "collection",
    "captures",
    "capture",
    "diagnostics",
    "diag",
    "data",
    "files",
    "bits",
    "system32",
    "winevt",
    "windows",
    "case",
    "cases",
    "ticket",
    "tickets",
    "tmp",
    "temp",
];

/// Is a folder (or zip stem) name one that does not name a machine? Hidden names (`.tmpXYZ`)
/// and `.` / `..` are generic too.
pub fn is_generic(name: &str) -> bool {
    let n = name.trim();
    n.is_empty() || n.starts_with('.') || GENERIC.iter().any(|g| g.eq_ignore_ascii_case(n))
}

/// The nearest folder above an input (the last of `folders`, outermost first) whose name is
/// not generic.
pub fn nearest(folders: &[String]) -> Option<&str> {
    folders
        .iter()
        .rev()
        .find(|f| !is_generic(f))
        .map(String::as_str)
}

/// The place inputs share event-log host names in: the folders down to the nearest specific
/// one (so `WS01/logs/System.evtx` and `WS01/text/sc.txt` share `WS01`), or all of them.
fn place(folders: &[String]) -> String {
    let end = folders
        .iter()
        .rposition(|f| !is_generic(f))
        .map_or(folders.len(), |i| i + 1);
    folders[..end]
        .iter()
        .map(|f| f.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("/")
}

fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// One input as attribution sees it.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// Folder names above the input, outermost first (zip stems included).
    pub folders: &'a [String],
    /// For an event log: the machines its records name. Empty for text.
    pub computers: &'a BTreeSet<String>,
    pub is_event_log: bool,
}

/// The host of every text input (None for event logs, which name their own), by the rule in
/// the module docs; `label` names loose captures.
pub fn attribute(inputs: &[Located], label: Option<&str>) -> Vec<Option<String>> {
    let mut named: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for i in inputs.iter().filter(|i| i.is_event_log) {
        named
            .entry(place(i.folders))
            .or_default()
            .extend(i.computers.iter().map(String::as_str));
    }
    inputs
        .iter()
        .map(|i| {
            if i.is_event_log {
                return None;
            }
            let folder = nearest(i.folders);
            let from_log = named.get(&place(i.folders)).and_then(|hosts| {
                if let [one] = hosts.iter().collect::<Vec<_>>().as_slice() {
                    return Some(one.to_string());
                }
                let f = folder?;
                let matching: Vec<&&str> = hosts
                    .iter()
                    .filter(|h| short(h).eq_ignore_ascii_case(f) || h.eq_ignore_ascii_case(f))
                    .collect();
                match matching.as_slice() {
                    [one] => Some(one.to_string()),
                    _ => None,
                }
            });
            Some(
                from_log
                    .or_else(|| folder.map(str::to_string))
                    .or_else(|| label.map(str::to_string))
                    .unwrap_or_else(|| "unknown".into()),
            )
        })
        .collect()
}

/// Names to rewrite so a short name and its FQDN are one host: `WS01` -> `WS01.corp.example`
/// when that is the only FQDN whose first label is `WS01` (any case). Everything else keeps its
/// name.
pub fn merge_names<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    // One per observation, mostly runs of one name: inserted one at a time (collecting would
    // sort them all first), a repeat of the last one skipped.
    let mut set: BTreeSet<&str> = BTreeSet::new();
    let mut last = None;
    for n in names {
        if last != Some(n) {
            set.insert(n);
            last = Some(n);
        }
    }
    let names = set;
    let mut fqdns: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for n in names.iter().filter(|n| n.contains('.')) {
        fqdns
            .entry(short(n).to_ascii_lowercase())
            .or_default()
            .push(n);
    }
    let mut out = BTreeMap::new();
    for n in names
        .iter()
        .filter(|n| !n.contains('.') && **n != "unknown")
    {
        if let Some([one]) = fqdns.get(&n.to_ascii_lowercase()).map(Vec::as_slice) {
            out.insert(n.to_string(), one.to_string());
        }
    }
    out
}

/// The names among `names` (the machines one event log names) that [`merge_names`] could
/// make one host: a short name with another spelling of it or its FQDN (`WS01`, `ws01`,
/// `WS01.corp.example`). Such names' records must be folded together, in record order.
pub fn joinable_within(names: &BTreeSet<String>) -> BTreeSet<String> {
    let mut groups: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for n in names {
        groups
            .entry(short(n).to_ascii_lowercase())
            .or_default()
            .push(n);
    }
    groups
        .into_values()
        .filter(|g| g.len() > 1 && g.iter().any(|n| !n.contains('.')))
        .flatten()
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_name_beside_its_fqdn_or_another_spelling_is_joinable_within_one_log() {
        let set = |v: &[&str]| -> BTreeSet<String> { v.iter().map(|s| s.to_string()).collect() };
        assert_eq!(
            joinable_within(&set(&[
                "WS01",
                "WS01.corp.example",
                "WS02",
                "db.corp.example"
            ])),
            set(&["WS01", "WS01.corp.example"])
        );
        assert_eq!(
            joinable_within(&set(&["WS01", "ws01"])),
            set(&["WS01", "ws01"])
        );
        // Two FQDNs are never joined; a lone short name has nothing to join within the log.
        assert!(joinable_within(&set(&["ws01.a.example", "ws01.b.example", "WS02"])).is_empty());
    }

    fn f(path: &str) -> Vec<String> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    fn hosts(inputs: &[(&str, &[&str])], label: Option<&str>) -> Vec<Option<String>> {
        let folders: Vec<Vec<String>> = inputs.iter().map(|(p, _)| f(p)).collect();
        let computers: Vec<BTreeSet<String>> = inputs
            .iter()
            .map(|(_, c)| c.iter().map(|s| s.to_string()).collect())
            .collect();
        let located: Vec<Located> = inputs
            .iter()
            .enumerate()
            .map(|(i, (_, c))| Located {
                folders: &folders[i],
                computers: &computers[i],
                is_event_log: !c.is_empty(),
            })
            .collect();
        attribute(&located, label)
    }

    #[test]
    fn the_nearest_specific_folder_names_the_host() {
        assert_eq!(nearest(&f("tickets/CASE-1042/WS-0201")), Some("WS-0201"));
        assert_eq!(nearest(&f("WS01/logs")), Some("WS01"));
        assert_eq!(nearest(&f("case/WS-0201/evtx")), Some("WS-0201"));
        assert_eq!(nearest(&f("bundle/logs")), None);
        assert_eq!(nearest(&f(".tmpAbC/collect")), None);
    }

    #[test]
    fn an_event_log_in_the_same_place_names_the_text_beside_it() {
        let got = hosts(
            &[
                ("tickets/CASE-7", &["WS-0201.corp.example"]),
                ("tickets/CASE-7", &[]),
                // The same host folder, another generic subfolder.
                ("WS09/evtx", &["WS09.corp.example"]),
                ("WS09/text", &[]),
                // Two machines in one place: the one named like the folder.
                ("SRV1", &["SRV1.corp.example", "OTHER.corp.example"]),
                ("SRV1", &[]),
                // Two machines, neither the folder's: the folder name.
                ("MIX", &["A.corp.example", "B.corp.example"]),
                ("MIX", &[]),
            ],
            None,
        );
        assert_eq!(
            got,
            [
                None,
                Some("WS-0201.corp.example".into()),
                None,
                Some("WS09.corp.example".into()),
                None,
                Some("SRV1.corp.example".into()),
                None,
                Some("MIX".into()),
            ]
        );
    }

    #[test]
    fn the_label_names_only_loose_captures() {
        let got = hosts(&[("", &[]), ("bundle", &[]), ("WS01", &[])], Some("PC7"));
        assert_eq!(
            got,
            [Some("PC7".into()), Some("PC7".into()), Some("WS01".into())]
        );
        assert_eq!(hosts(&[("logs", &[])], None), [Some("unknown".into())]);
    }

    #[test]
    fn short_names_join_their_fqdn_when_unambiguous() {
        let m = merge_names([
            "WS01",
            "ws01.corp.example",
            "SRV2",
            "SRV2.a.example",
            "SRV2.b.example",
            "LONE",
            "unknown",
        ]);
        assert_eq!(
            m,
            [("WS01".to_string(), "ws01.corp.example".to_string())]
                .into_iter()
                .collect()
        );
    }
}

//! Discovery: the paths given on the command line -> the files to read, each with the host
//! its location suggests. Folders are walked recursively in name order (symlinks followed,
//! loops detected and reported, never followed twice).

use crate::model::Warning;
use std::path::{Path, PathBuf};

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub path: PathBuf,
    /// The path as reports show it: as given, with `/` between the parts below a folder.
    pub display: String,
    /// A host name suggested by the layout (`bundle/HOSTNAME/...`), for inputs that carry none.
    pub host_hint: Option<String>,
}

/// Folder names that say what is inside rather than whose it is.
const GENERIC_DIRS: &[&str] = &[
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
    "collected",
    "data",
    "bits",
    "system32",
    "winevt",
    "windows",
    "tmp",
    "temp",
    ".",
    "..",
];

pub(crate) fn is_generic(name: &str) -> bool {
    GENERIC_DIRS.iter().any(|g| g.eq_ignore_ascii_case(name))
}

/// Walk every path. Unreadable paths and loops become warnings.
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<Warning>) {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    for root in paths {
        let shown_root = root.to_string_lossy().to_string();
        if root.is_file() {
            found.push(Found {
                path: root.clone(),
                display: shown_root,
                host_hint: None,
            });
            continue;
        }
        if !root.exists() {
            warnings.push(Warning {
                path: shown_root,
                at: None,
                message: "no such file or folder".into(),
            });
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name();
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                    found.push(Found {
                        path: e.path().to_path_buf(),
                        display: display(&shown_root, rel),
                        host_hint: host_hint(root, rel),
                    });
                }
                Ok(_) => {}
                Err(err) => {
                    let path = err
                        .path()
                        .map(|p| p.to_string_lossy().to_string())
                        .unwrap_or_else(|| shown_root.clone());
                    let message = if err.loop_ancestor().is_some() {
                        "symbolic link loop: not followed".to_string()
                    } else {
                        format!("cannot read: {err}")
                    };
                    warnings.push(Warning {
                        path,
                        at: None,
                        message,
                    });
                }
            }
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.path == b.path);
    (found, warnings)
}

fn display(root: &str, rel: &Path) -> String {
    let mut s = root.trim_end_matches(['/', '\\']).to_string();
    for c in rel.components() {
        s.push('/');
        s.push_str(&c.as_os_str().to_string_lossy());
    }
    s
}

/// The first folder below the root that is not a generic name; failing that, the root's own
/// name when it is not generic.
fn host_hint(root: &Path, rel: &Path) -> Option<String> {
    let mut dirs: Vec<String> = rel
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    if let Some(h) = dirs.drain(..).find(|d| !is_generic(d)) {
        return Some(h);
    }
    let own = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))?;
    (!is_generic(&own)).then_some(own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_hint_takes_first_specific_folder() {
        let root = Path::new("/nonexistent-root-for-test");
        assert_eq!(
            host_hint(root, Path::new("WS01/logs/bits.txt")).as_deref(),
            Some("WS01")
        );
        assert_eq!(
            host_hint(root, Path::new("logs/WS02/bits.txt")).as_deref(),
            Some("WS02")
        );
        assert_eq!(host_hint(root, Path::new("bits.txt")), None);
    }

    #[test]
    fn discover_walks_in_name_order_and_reports_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("HOSTB")).unwrap();
        std::fs::create_dir_all(dir.path().join("HOSTA")).unwrap();
        std::fs::write(dir.path().join("HOSTB/x.txt"), "x").unwrap();
        std::fs::write(dir.path().join("HOSTA/y.txt"), "y").unwrap();
        let missing = dir.path().join("nope");
        let (found, warnings) = discover(&[dir.path().to_path_buf(), missing]);
        let hints: Vec<_> = found.iter().map(|f| f.host_hint.clone().unwrap()).collect();
        assert_eq!(hints, ["HOSTA", "HOSTB"]);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("no such"));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("H/sub")).unwrap();
        std::fs::write(dir.path().join("H/sub/f.txt"), "f").unwrap();
        std::os::unix::fs::symlink(dir.path().join("H"), dir.path().join("H/sub/loop")).unwrap();
        let (found, warnings) = discover(&[dir.path().to_path_buf()]);
        assert_eq!(found.len(), 1);
        assert!(warnings.iter().any(|w| w.message.contains("loop")));
    }
}

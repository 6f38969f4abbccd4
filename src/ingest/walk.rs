//! Discovery: the paths given on the command line -> the files to read, each with the host
//! its location suggests. Folders are walked recursively in name order (symlinks followed,
//! loops detected and reported, never followed twice).

use crate::ingest::host;
use crate::model::Warning;
use std::path::{Path, PathBuf};

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub path: PathBuf,
    /// The path as reports show it: as given, with `/` between the parts below a folder.
    pub display: String,
    /// The folders above the file, outermost first: the given folder's own name, then the
    /// ones below it (none for a file given by name). Host attribution reads them.
    pub folders: Vec<String>,
    /// The host the layout names (`bundle/HOSTNAME/...`): see [`crate::ingest::host`].
    pub host_hint: Option<String>,
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
                folders: Vec::new(),
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
                // Files, and FIFOs, devices and sockets: those get a row saying they were
                // not read, rather than vanishing.
                Ok(e) if !e.file_type().is_dir() => {
                    let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                    let folders = folders(root, rel);
                    found.push(Found {
                        path: e.path().to_path_buf(),
                        display: display(&shown_root, rel),
                        host_hint: host::nearest(&folders).map(str::to_string),
                        folders,
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

/// The given folder's own name (as the file system has it, so `.` is named) and the folders
/// between it and the file.
fn folders(root: &Path, rel: &Path) -> Vec<String> {
    let own = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()));
    own.into_iter()
        .chain(rel.parent().into_iter().flat_map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().to_string())
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_from_the_given_folder_down() {
        let root = Path::new("/nonexistent-root-for-test");
        assert_eq!(
            folders(root, Path::new("WS01/logs/bits.txt")),
            ["WS01", "logs"]
        );
        assert!(folders(root, Path::new("bits.txt")).is_empty());
        let dir = tempfile::tempdir().unwrap();
        let own = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        assert_eq!(
            folders(dir.path(), Path::new("A/B/x.txt")),
            [own.as_str(), "A", "B"]
        );
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

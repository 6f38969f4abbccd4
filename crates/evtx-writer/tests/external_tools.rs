//! The same files read by libyal `evtxexport` (Debian libevtx-utils) and python-evtx (Debian
//! python3-evtx): no error and every record. Skipped, with a notice, where a tool is missing.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Many events of every layout: several chunks.
fn many() -> Vec<evtx_writer::Event> {
    let layouts = all_layouts();
    (0..2000)
        .map(|i| layouts[i % layouts.len()].clone())
        .collect()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join("evtx-writer-tests");
    std::fs::create_dir_all(&dir).unwrap();
    // One file per test and process: the two tests run in parallel.
    let caller = std::thread::current()
        .name()
        .unwrap_or("test")
        .replace("::", "-");
    let path = dir.join(format!("{}-{caller}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn evtxexport(path: &Path) -> String {
    let out = Command::new("evtxexport")
        .args(["-f", "xml"])
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "evtxexport failed: {stderr}");
    assert!(
        !stderr.to_lowercase().contains("error") && !stderr.to_lowercase().contains("unable"),
        "evtxexport complained: {stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn libyal_evtxexport_reads_every_record() {
    if !have("evtxexport", &["-V"]) {
        eprintln!("NOTICE: evtxexport not installed (apt-get install libevtx-utils); skipped");
        return;
    }
    for (name, events) in [("layouts.evtx", all_layouts()), ("many.evtx", many())] {
        let path = temp_file(name, &write(&events));
        let xml = evtxexport(&path);
        assert_eq!(xml.matches("<Event xmlns=").count(), events.len(), "{name}");
        assert!(
            xml.contains("<Data Name=\"hr\">2149580819</Data>")
                || xml.contains("<Data Name=\"hr\">0x80200013</Data>"),
            "{name}"
        );
        assert!(
            xml.contains("<Computer>WS01.contoso.local</Computer>"),
            "{name}"
        );
        assert!(
            xml.contains("<SubjectUserName>admmig</SubjectUserName>"),
            "{name}"
        );
        std::fs::remove_file(&path).ok();
    }
}

/// A Python that has python-evtx: `python3` first, then Debian's own.
fn python_with_evtx() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|p| have(p, &["-c", "import Evtx.Evtx"]))
}

const PYTHON_SCRIPT: &str = r#"
import sys
import Evtx.Evtx as evtx
count = 0
with evtx.Evtx(sys.argv[1]) as log:
    for record in log.records():
        xml = record.xml()
        assert "<EventRecordID>%d</EventRecordID>" % record.record_num() in xml, xml
        count += 1
print(count)
"#;

#[test]
fn python_evtx_reads_every_record() {
    let Some(python) = python_with_evtx() else {
        eprintln!("NOTICE: python-evtx not installed (apt-get install python3-evtx); skipped");
        return;
    };
    for (name, events) in [("layouts.evtx", all_layouts()), ("many.evtx", many())] {
        let path = temp_file(name, &write(&events));
        let out = Command::new(python)
            .args(["-c", PYTHON_SCRIPT])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "python-evtx failed on {name}: {stderr}"
        );
        let count: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert_eq!(count, events.len(), "{name}");
        std::fs::remove_file(&path).ok();
    }
}

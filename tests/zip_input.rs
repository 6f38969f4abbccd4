//! Zip bundles read in place: folders and one level of nested zips, host hints, and hostile
//! archives (bombs, lying sizes, path traversal, encryption, corruption) refused entry by entry
//! with a warning while the rest is read.

use bitsdoctor::ingest::zip::{entries, entries_from_bytes, is_zip, ZipEntry, ZipLimits};
use bitsdoctor::parse::Warning;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

/// A zip of (name, content) pairs, deflated.
fn build(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in files {
        w.start_file(*name, deflated()).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn names(e: &[ZipEntry]) -> Vec<&str> {
    e.iter().map(|e| e.display.as_str()).collect()
}

fn warned<'a>(w: &'a [Warning], path: &str) -> &'a Warning {
    w.iter()
        .find(|w| w.path == path)
        .unwrap_or_else(|| panic!("no warning for {path}: {w:#?}"))
}

/// Offsets of the local and the central header of the entry `name`.
fn headers(zip: &[u8], name: &str) -> (usize, usize) {
    let find = |sig: &[u8], name_at: usize| {
        (0..zip.len() - name_at - name.len())
            .find(|&i| {
                &zip[i..i + 4] == sig
                    && &zip[i + name_at..i + name_at + name.len()] == name.as_bytes()
            })
            .unwrap()
    };
    (find(b"PK\x03\x04", 30), find(b"PK\x01\x02", 46))
}

fn put_u32(zip: &mut [u8], at: usize, v: u32) {
    zip[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn reads_folders_and_names_entries() {
    let z = build(&[
        ("WS01/bitsadmin.txt", b"BITSADMIN version 3.0"),
        ("logs/WS02/sc.txt", b"SERVICE_NAME: BITS"),
        ("notes.txt", b"hello"),
        ("empty/", b""),
    ]);
    assert!(is_zip(&z));
    let (e, w) = entries_from_bytes(&z, "case/bundle.zip", &ZipLimits::default());
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        names(&e),
        [
            "case/bundle.zip!WS01/bitsadmin.txt",
            "case/bundle.zip!logs/WS02/sc.txt",
            "case/bundle.zip!notes.txt"
        ]
    );
    assert_eq!(e[0].bytes, b"BITSADMIN version 3.0");
    assert_eq!(e[0].host_hint.as_deref(), Some("WS01"));
    assert_eq!(
        e[1].host_hint.as_deref(),
        Some("WS02"),
        "generic folders are skipped"
    );
    // A generic zip name says nothing about the host ...
    assert_eq!(e[2].host_hint, None);
    // ... a specific one does, for entries with no host folder.
    let (e, _) = entries_from_bytes(&z, "WS09.zip", &ZipLimits::default());
    assert_eq!(e[2].display, "WS09.zip!notes.txt");
    assert_eq!(e[2].host_hint.as_deref(), Some("WS09"));
    assert_eq!(
        e[0].host_hint.as_deref(),
        Some("WS01"),
        "a folder inside beats the name"
    );
}

#[test]
fn reads_a_file_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SRV-APP-03.zip");
    std::fs::write(&path, build(&[("logs/System.evtx", b"ElfFile\0...")])).unwrap();
    let (e, w) = entries(&path, "bundle/SRV-APP-03.zip", &ZipLimits::default());
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(names(&e), ["bundle/SRV-APP-03.zip!logs/System.evtx"]);
    assert_eq!(e[0].host_hint.as_deref(), Some("SRV-APP-03"));
    // Nothing was extracted next to it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

    let (e, w) = entries(
        &dir.path().join("missing.zip"),
        "missing.zip",
        &ZipLimits::default(),
    );
    assert!(e.is_empty());
    assert!(w[0].message.contains("cannot read"), "{w:?}");
}

#[test]
fn zip_bomb_is_refused_and_the_rest_read() {
    let zeros = vec![0u8; 8 << 20];
    let z = build(&[
        ("WS01/bits.txt", b"BITSADMIN version 3.0"),
        ("WS01/bomb.txt", &zeros),
        ("WS01/sc.txt", b"SERVICE_NAME: BITS"),
    ]);
    assert!(
        z.len() < 100 << 10,
        "the bomb compresses: {} bytes",
        z.len()
    );
    let (e, w) = entries_from_bytes(&z, "b.zip", &ZipLimits::default());
    assert_eq!(names(&e), ["b.zip!WS01/bits.txt", "b.zip!WS01/sc.txt"]);
    let bomb = warned(&w, "b.zip!WS01/bomb.txt");
    assert!(bomb.message.contains("compression ratio"), "{bomb:?}");
    assert!(bomb.message.contains("zip bomb"), "{bomb:?}");
    assert_eq!(w.len(), 1);
}

#[test]
fn a_lying_size_costs_at_most_the_declared_size() {
    let zeros = vec![0u8; 4 << 20];
    let mut z = build(&[
        ("WS01/liar.txt", &zeros),
        ("WS01/bits.txt", b"BITSADMIN version 3.0"),
    ]);
    // Declare 100 bytes uncompressed: under the ratio check's floor, so only the capped read
    // can catch it.
    let (local, central) = headers(&z, "WS01/liar.txt");
    put_u32(&mut z, local + 22, 100);
    put_u32(&mut z, central + 24, 100);
    let (e, w) = entries_from_bytes(&z, "b.zip", &ZipLimits::default());
    assert_eq!(names(&e), ["b.zip!WS01/bits.txt"]);
    let liar = warned(&w, "b.zip!WS01/liar.txt");
    assert!(
        liar.message
            .contains("beyond its declared size of 100 bytes"),
        "{liar:?}"
    );
}

#[test]
fn a_declared_size_over_the_limits_is_refused_before_reading() {
    let z = build(&[
        ("a.txt", &[b'a'; 5000]),
        ("b.txt", &[b'b'; 600]),
        ("c.txt", &[b'c'; 600]),
        ("d.txt", &[b'd'; 10]),
    ]);
    let limits = ZipLimits {
        max_entry_bytes: 4000,
        max_total_bytes: 1000,
        ..ZipLimits::default()
    };
    let (e, w) = entries_from_bytes(&z, "x.zip", &limits);
    assert_eq!(names(&e), ["x.zip!b.txt", "x.zip!d.txt"]);
    assert!(warned(&w, "x.zip!a.txt").message.contains("per file"));
    assert!(warned(&w, "x.zip!c.txt").message.contains("per bundle"));
}

#[test]
fn entry_count_is_limited() {
    let files: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("f{i}.txt"), vec![b'x'; 3]))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let limits = ZipLimits {
        max_entries: 4,
        ..ZipLimits::default()
    };
    let (e, w) = entries_from_bytes(&build(&refs), "x.zip", &limits);
    assert_eq!(e.len(), 4);
    assert_eq!(w.len(), 1);
    assert!(w[0].message.contains("more than 4 files"), "{w:?}");
}

#[test]
fn path_traversal_and_absolute_names_are_refused() {
    let z = build(&[
        ("../evil.txt", b"x"),
        ("WS01/../../evil2.txt", b"x"),
        ("/etc/cron.d/evil", b"x"),
        ("WS01/bits.txt", b"BITSADMIN version 3.0"),
    ]);
    let (e, w) = entries_from_bytes(&z, "h.zip", &ZipLimits::default());
    assert_eq!(names(&e), ["h.zip!WS01/bits.txt"]);
    assert_eq!(w.len(), 3, "{w:#?}");
    for (name, why) in [
        ("../evil.txt", "`..`"),
        ("WS01/../../evil2.txt", "`..`"),
        ("/etc/cron.d/evil", "absolute"),
    ] {
        let m = &warned(&w, &format!("h.zip!{name}")).message;
        assert!(m.contains(why) && m.contains("hostile"), "{m}");
    }
}

#[test]
fn encrypted_and_corrupt_entries_are_warnings() {
    let body = b"BITSADMIN version 3.0 ".repeat(50);
    let mut z = build(&[
        ("WS01/secret.txt", &body),
        ("WS01/broken.txt", &body),
        ("WS01/good.txt", &body),
    ]);
    // Mark one entry encrypted (general purpose flag bit 0).
    let (local, central) = headers(&z, "WS01/secret.txt");
    z[local + 6] |= 1;
    z[central + 8] |= 1;
    // Garble the compressed data of another.
    let (local, _) = headers(&z, "WS01/broken.txt");
    let data = local + 30 + "WS01/broken.txt".len();
    for b in &mut z[data..data + 12] {
        *b ^= 0x5A;
    }
    let (e, w) = entries_from_bytes(&z, "c.zip", &ZipLimits::default());
    assert_eq!(names(&e), ["c.zip!WS01/good.txt"]);
    assert_eq!(e[0].bytes, body);
    assert!(warned(&w, "c.zip!WS01/secret.txt")
        .message
        .contains("encrypted"));
    let broken = &warned(&w, "c.zip!WS01/broken.txt").message;
    assert!(
        broken.contains("corrupt") || broken.contains("cannot be read"),
        "{broken}"
    );
}

#[test]
fn not_a_zip_is_one_warning() {
    let (e, w) = entries_from_bytes(b"PK\x03\x04garbage", "bad.zip", &ZipLimits::default());
    assert!(e.is_empty());
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].path, "bad.zip");
    assert!(!is_zip(b"ElfFile\0"));
}

#[test]
fn nested_zip_one_level_is_read_two_levels_are_not() {
    let deepest = build(&[("x.txt", b"too deep")]);
    let inner = build(&[
        ("logs/bitsadmin.txt", b"BITSADMIN version 3.0"),
        ("WS02/sc.txt", b"SERVICE_NAME: BITS"),
        ("deeper.zip", &deepest),
    ]);
    // Stored, as bundles often keep per-host zips.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("WS01.zip", stored()).unwrap();
    w.write_all(&inner).unwrap();
    w.start_file("collected/WS03/collect.zip", deflated())
        .unwrap();
    w.write_all(&build(&[("bits.txt", b"BITSADMIN version 3.0")]))
        .unwrap();
    w.start_file("report.docx", deflated()).unwrap();
    w.write_all(&build(&[("word/document.xml", b"<w/>")]))
        .unwrap();
    w.start_file("readme.txt", deflated()).unwrap();
    w.write_all(b"notes").unwrap();
    let outer = w.finish().unwrap().into_inner();

    let (e, w) = entries_from_bytes(&outer, "fleet.zip", &ZipLimits::default());
    let got: Vec<(&str, Option<&str>)> = e
        .iter()
        .map(|e| (e.display.as_str(), e.host_hint.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            // The nearest specific folder: WS02 inside the nested zip WS01.zip.
            ("fleet.zip!WS01.zip!WS02/sc.txt", Some("WS02")),
            ("fleet.zip!WS01.zip!logs/bitsadmin.txt", Some("WS01")),
            // `collected` is a generic folder name; WS03 is the first specific one.
            (
                "fleet.zip!collected/WS03/collect.zip!bits.txt",
                Some("WS03")
            ),
            ("fleet.zip!readme.txt", Some("fleet")),
            ("fleet.zip!report.docx", Some("fleet")),
        ]
    );
    assert_eq!(e[0].bytes, b"SERVICE_NAME: BITS");
    assert_eq!(w.len(), 1, "{w:#?}");
    assert_eq!(w[0].path, "fleet.zip!WS01.zip!deeper.zip");
    assert!(w[0].message.contains("not opened"), "{w:?}");
}

#[test]
fn a_nested_bomb_is_refused_inside() {
    let inner = build(&[("bomb.bin", &vec![0u8; 8 << 20]), ("ok.txt", b"ok")]);
    let outer = build(&[("WS01.zip", &inner)]);
    let (e, w) = entries_from_bytes(&outer, "o.zip", &ZipLimits::default());
    assert_eq!(names(&e), ["o.zip!WS01.zip!ok.txt"]);
    assert!(warned(&w, "o.zip!WS01.zip!bomb.bin")
        .message
        .contains("zip bomb"));
}

#[test]
fn a_text_entry_over_the_text_cap_is_read_up_to_it_and_marked_cut() {
    let big = "x".repeat(5000);
    let z = build(&[
        ("WS01/big.txt", big.as_bytes()),
        ("WS01/small.txt", b"hello"),
    ]);
    let limits = ZipLimits {
        max_text_bytes: 1000,
        ..ZipLimits::default()
    };
    let (e, w) = entries_from_bytes(&z, "b.zip", &limits);
    assert!(w.is_empty(), "{w:#?}");
    assert_eq!(e[0].bytes.len(), 1000);
    assert_eq!(e[0].cut, Some(5000));
    assert_eq!(e[1].bytes, b"hello");
    assert_eq!(e[1].cut, None);
}

#[test]
fn entries_of_the_same_name_are_a_warning() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("WS01/a.txt", deflated()).unwrap();
    w.write_all(b"first").unwrap();
    w.start_file("WS01/b.txt", deflated()).unwrap();
    w.write_all(b"other").unwrap();
    let mut z = w.finish().unwrap().into_inner();
    // Rename the second entry to the first one's name, in its local and central headers.
    let (local, central) = headers(&z, "WS01/b.txt");
    z[local + 30..local + 40].copy_from_slice(b"WS01/a.txt");
    z[central + 46..central + 56].copy_from_slice(b"WS01/a.txt");
    let (e, w) = entries_from_bytes(&z, "dup.zip", &ZipLimits::default());
    let warned = warned(&w, "dup.zip");
    assert!(warned.message.contains("same name"), "{w:#?}");
    assert_eq!(e.len(), 1);
}

/// An event log in a bundle is streamed to a temporary file, not held in memory: the entry
/// carries only its first bytes, and the log reads exactly as the same file on disk does.
#[test]
fn an_event_log_entry_is_streamed_and_read_like_the_file() {
    use std::io::Read;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/WS-FIN-01");
    let name = "Microsoft-Windows-Bits-Client%4Operational.evtx";
    let log = std::fs::read(root.join(name)).unwrap();
    let text = std::fs::read(root.join("bitsadmin.txt")).unwrap();
    let z = build(&[
        (&format!("WS-FIN-01/{name}"), &log[..]),
        ("WS-FIN-01/bitsadmin.txt", &text[..]),
    ]);
    let (e, w) = entries_from_bytes(&z, "b.zip", &ZipLimits::default());
    assert!(w.is_empty(), "{w:#?}");
    assert_eq!(e.len(), 2);
    let evtx = e.iter().find(|e| e.display.ends_with(".evtx")).unwrap();
    assert_eq!(evtx.bytes, b"ElfFile\0");
    let mut spooled = Vec::new();
    evtx.log
        .as_ref()
        .unwrap()
        .read_to_end(&mut spooled)
        .unwrap();
    assert!(spooled == log, "the temporary file holds the entry");
    let txt = e.iter().find(|e| e.display.ends_with(".txt")).unwrap();
    assert!(txt.log.is_none());
    assert_eq!(txt.bytes, text);

    // A log whose size lies is still caught when streamed.
    let mut lying = z.clone();
    let entry = format!("WS-FIN-01/{name}");
    let (local, central) = headers(&lying, &entry);
    let small = (log.len() - 4096) as u32;
    put_u32(&mut lying, local + 22, small);
    put_u32(&mut lying, central + 24, small);
    let (e, w) = entries_from_bytes(&lying, "b.zip", &ZipLimits::default());
    assert_eq!(e.len(), 1, "{:?}", names(&e));
    let why = &warned(&w, &format!("b.zip!{entry}")).message;
    assert!(why.contains("declared size"), "{why}");

    // Through analyze: the zip gives the rows and jobs the folder gives.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("WS-FIN-01.zip");
    std::fs::write(&bundle, &z).unwrap();
    let folder = dir.path().join("WS-FIN-01");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join(name), &log).unwrap();
    std::fs::write(folder.join("bitsadmin.txt"), &text).unwrap();
    let json = |p: &std::path::Path| -> serde_json::Value {
        let out = assert_cmd::Command::cargo_bin("bitsdoctor")
            .unwrap()
            .args(["analyze", "--format", "json"])
            .arg(p)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b) = (json(&bundle), json(&folder));
    let row = |r: &serde_json::Value| {
        r["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "evtx")
            .unwrap()
            .clone()
    };
    let (ra, rb) = (row(&a), row(&b));
    for k in [
        "status",
        "records",
        "observations",
        "skipped_records",
        "host",
    ] {
        assert_eq!(ra[k], rb[k], "{k}: {ra:#} {rb:#}");
    }
    assert_eq!(ra["status"], "ok");
    assert_eq!(
        a["jobs"].as_array().unwrap().len(),
        b["jobs"].as_array().unwrap().len()
    );
    assert_eq!(
        a["diagnoses"].as_array().unwrap().len(),
        b["diagnoses"].as_array().unwrap().len()
    );
}

//! The Windows build, run under Wine, against the Linux build: the same reports (JSON, CSV,
//! HTML) on samples/, the shared corpus and a zip bundle; Windows path forms (drive letters,
//! backslashes, `\\?\` long paths, UNC) in inputs and in the report; and `collect` run under
//! Wine, its zip read back by `analyze`.
//!
//! Needs the cross-built exe (with the test-only ProcessPrng shim beside it) in
//! BITSDOCTOR_WINDOWS_EXE and `wine` on PATH: tests/windows/run.sh sets both up. Without them
//! every test here prints a notice and passes (plain `cargo test` on a fresh clone).

use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Windows exe, when this machine can run it.
fn windows_exe() -> Option<PathBuf> {
    let exe = match std::env::var_os("BITSDOCTOR_WINDOWS_EXE") {
        Some(p) if Path::new(&p).is_file() => PathBuf::from(p),
        _ => {
            eprintln!(
                "BITSDOCTOR_WINDOWS_EXE is not set: skipping the Windows build tests \
                 (tests/windows/run.sh builds the exe and runs them under Wine)"
            );
            return None;
        }
    };
    if Command::new("wine").arg("--version").output().is_err() {
        eprintln!("wine is not installed: skipping the Windows build tests");
        return None;
    }
    Some(exe)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A Linux path as Wine's Z: drive shows it.
fn win(p: &Path) -> String {
    format!("Z:{}", p.to_string_lossy().replace('/', "\\"))
}

fn linux(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bitsdoctor"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn wine(exe: &Path, args: &[&str], cwd: &Path) -> Output {
    Command::new("wine")
        .arg(exe)
        .args(args)
        .current_dir(cwd)
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap()
}

fn ok(out: &Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.code() == Some(0),
        "{what}: exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

/// Every file of a `--out` folder, by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

/// Replace `from` with `to` in the bytes (paths in CSV, HTML and text are not escaped).
fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace(from, to)
        .into_bytes()
}

/// JSON with every string's `from` prefix replaced by `to`.
fn json_with_root(bytes: &[u8], from: &str, to: &str) -> Value {
    fn walk(v: &mut Value, from: &str, to: &str) {
        match v {
            Value::String(s) if s.contains(from) => *s = s.replace(from, to),
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, from, to)),
            Value::Object(o) => o.values_mut().for_each(|v| walk(v, from, to)),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    walk(&mut v, from, to);
    v
}

/// Run `analyze --format json --out DIR` on both builds (Linux given `linux_path`, Windows
/// given `windows_path`) and check every output is the same once the Windows root is written
/// as the Linux one.
fn same_reports(exe: &Path, cwd: &Path, linux_path: &str, windows_path: &str) -> Value {
    let out = tempfile::tempdir().unwrap();
    let (lin_out, win_out) = (out.path().join("linux"), out.path().join("windows"));
    let lin = ok(
        &linux(
            &[
                "analyze",
                linux_path,
                "--format",
                "json",
                "--out",
                &lin_out.to_string_lossy(),
            ],
            cwd,
        ),
        "linux analyze",
    );
    let won = ok(
        &wine(
            exe,
            &[
                "analyze",
                windows_path,
                "--format",
                "json",
                "--out",
                &win(&win_out),
            ],
            cwd,
        ),
        "windows analyze",
    );
    let lin_json: Value = serde_json::from_slice(&lin).unwrap();
    assert!(
        !lin_json["inputs"].as_array().unwrap().is_empty(),
        "nothing analysed"
    );
    assert_eq!(
        json_with_root(&won, windows_path, linux_path),
        lin_json,
        "JSON on stdout differs"
    );
    let (lf, wf) = (files(&lin_out), files(&win_out));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&wf), names(&lf));
    assert!(names(&lf).contains(&"jobs.csv".to_string()));
    for ((name, l), (_, w)) in lf.iter().zip(&wf) {
        if name.ends_with(".json") {
            assert_eq!(
                json_with_root(w, windows_path, linux_path),
                json_with_root(l, linux_path, linux_path),
                "{name} differs"
            );
        } else {
            // HTML escapes nothing in a path but & < > " ', which Windows paths here lack.
            let w = replace(w, windows_path, linux_path);
            assert!(
                w == *l,
                "{name} differs between the Windows and the Linux build"
            );
        }
    }
    lin_json
}

#[test]
fn windows_build_reports_equal_linux_on_samples() {
    let Some(exe) = windows_exe() else { return };
    // The same relative path on both: the reports must be identical byte for byte.
    let r = same_reports(&exe, &repo(), "samples", "samples");
    assert!(r["diagnoses"].as_array().unwrap().len() >= 5);
    // And given as a Windows path with a drive letter and backslashes.
    let samples = repo().join("samples");
    same_reports(&exe, &repo(), &samples.to_string_lossy(), &win(&samples));
    eprintln!("windows build == linux build on samples/ (relative and Z:\\ paths)");
}

#[test]
fn windows_build_reports_equal_linux_on_the_corpus() {
    let Some(exe) = windows_exe() else { return };
    let Some(corpus) = std::env::var_os("BITSDOCTOR_CORPUS").map(PathBuf::from) else {
        eprintln!("BITSDOCTOR_CORPUS is not set: skipping the corpus comparison");
        return;
    };
    let r = same_reports(&exe, &repo(), &corpus.to_string_lossy(), &win(&corpus));
    eprintln!(
        "windows build == linux build on the corpus: {} inputs, {} jobs, {} diagnoses",
        r["inputs"].as_array().unwrap().len(),
        r["jobs"].as_array().unwrap().len(),
        r["diagnoses"].as_array().unwrap().len()
    );
}

/// samples/ zipped as a customer bundle: `case/HOST/file`.
fn zip_samples(to: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    let samples = repo().join("samples");
    let mut hosts: Vec<_> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    hosts.sort();
    for host in hosts {
        let mut names: Vec<_> = std::fs::read_dir(&host)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for f in names {
            let entry = format!(
                "case/{}/{}",
                host.file_name().unwrap().to_string_lossy(),
                f.file_name().unwrap().to_string_lossy()
            );
            zip.start_file(entry, opts).unwrap();
            zip.write_all(&std::fs::read(&f).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
}

#[test]
fn windows_build_reports_equal_linux_on_a_zip_bundle() {
    let Some(exe) = windows_exe() else { return };
    let dir = tempfile::tempdir().unwrap();
    zip_samples(&dir.path().join("CASE-7.zip"));
    let r = same_reports(&exe, dir.path(), "CASE-7.zip", "CASE-7.zip");
    let hosts: Vec<&str> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert!(
        hosts.iter().any(|h| h.starts_with("WS-LAB-11")),
        "{hosts:?}"
    );
    let bundle = dir.path().join("CASE-7.zip");
    same_reports(&exe, dir.path(), &bundle.to_string_lossy(), &win(&bundle));
}

#[test]
fn windows_path_forms_in_inputs_and_the_report() {
    let Some(exe) = windows_exe() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A long path (over MAX_PATH) to a host folder holding one capture.
    let mut deep = dir.path().to_path_buf();
    while deep.to_string_lossy().len() < 300 {
        deep.push("a-rather-long-folder-name-for-testing");
    }
    let host = deep.join("WS-FIN-01");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::copy(
        repo().join("samples/WS-FIN-01/sc-qc-bits.txt"),
        host.join("sc-qc-bits.txt"),
    )
    .unwrap();
    let lin: Value = serde_json::from_slice(&ok(
        &linux(
            &["analyze", &deep.to_string_lossy(), "--format", "json"],
            dir.path(),
        ),
        "linux",
    ))
    .unwrap();
    assert_eq!(lin["inputs"][0]["host"], "WS-FIN-01");
    let forms = [
        win(&deep),
        format!("\\\\?\\{}", win(&deep)),
        format!("{}\\", win(&deep)),
    ];
    for form in &forms {
        let out = ok(
            &wine(&exe, &["analyze", form, "--format", "json"], dir.path()),
            form,
        );
        let report: Value = serde_json::from_slice(&out).unwrap();
        let input = &report["inputs"][0];
        assert_eq!(input["host"], "WS-FIN-01", "{form}");
        assert_eq!(input["kind"], "sc", "{form}");
        assert_eq!(input["status"], "ok", "{form}");
        // The report shows the path as given, with `/` below it.
        let shown = input["path"].as_str().unwrap();
        assert_eq!(
            shown,
            format!("{}/WS-FIN-01/sc-qc-bits.txt", form.trim_end_matches('\\')),
            "{form}"
        );
        assert_eq!(
            json_with_root(&out, form.trim_end_matches('\\'), &deep.to_string_lossy()),
            lin,
            "{form}"
        );
    }
    // A UNC path to a server that does not exist: a warning naming it, exit 2, no panic.
    let unc = "\\\\no-such-server.invalid\\share\\WS01";
    let out = wine(&exe, &["analyze", unc, "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no input could be read"), "{err}");
}

#[test]
fn collect_under_wine_records_missing_tools_and_analyze_reads_the_zip() {
    let Some(exe) = windows_exe() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.zip");
    let out = Command::new("wine")
        .arg(&exe)
        .args(["collect", "--out", &win(&bundle)])
        .current_dir(dir.path())
        .env("WINEDEBUG", "-all")
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&ok(&out, "collect")).into_owned();
    eprintln!("{summary}");
    assert!(summary.contains("missing    bitsadmin.txt (the program is not on the machine)"));
    assert!(summary.contains("collected  reg-bits-service.txt"));

    // The zip: the reg capture and the manifest under the machine's name.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let manifest_name = names
        .iter()
        .find(|n| n.ends_with("/collect-manifest.json"))
        .unwrap()
        .clone();
    let host = manifest_name.split('/').next().unwrap().to_string();
    assert!(
        names.contains(&format!("{host}/reg-bits-service.txt")),
        "{names:?}"
    );
    let mut text = String::new();
    zip.by_name(&manifest_name)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let status = |file: &str| {
        manifest["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["file"] == file)
            .map(|s| s["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    // Wine 8 has no bitsadmin; its wevtutil and powershell are stubs that succeed and give
    // nothing; its reg.exe answers, and the BITS policy key is not set.
    assert_eq!(status("bitsadmin.txt"), "missing");
    assert_eq!(status("System.evtx"), "empty");
    assert_eq!(status("Get-BitsTransfer.txt"), "empty");
    assert_eq!(status("reg-bits-policy.txt"), "absent");
    assert_eq!(status("reg-bits-service.txt"), "collected");

    // analyze (Linux build) reads the bundle: the reg capture parsed, the rest listed.
    let report: Value = serde_json::from_slice(&ok(
        &linux(&["analyze", "bundle.zip", "--format", "json"], dir.path()),
        "analyze bundle",
    ))
    .unwrap();
    let inputs = report["inputs"].as_array().unwrap();
    let reg = inputs
        .iter()
        .find(|i| {
            i["path"]
                .as_str()
                .unwrap()
                .ends_with("/reg-bits-service.txt")
        })
        .unwrap();
    assert_eq!(reg["kind"], "reg");
    assert_eq!(reg["host"], host.as_str());
    assert!(reg["observations"].as_u64().unwrap() > 0, "{reg}");
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["message"].as_str())
        .filter(|m| m.starts_with("not collected: "))
        .collect();
    for file in ["System.evtx", "bitsadmin.txt", "Get-BitsTransfer.txt"] {
        assert!(
            warnings.iter().any(|w| w.contains(&format!("({file}; "))),
            "{file} not listed as not collected: {warnings:#?}"
        );
    }
}

#[test]
fn console_output_under_a_windows_console_keeps_non_ascii_names() {
    let Some(exe) = windows_exe() else { return };
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("script (util-linux) is not installed: skipping the console test");
        return;
    }
    // A host folder whose name is in three scripts; the text report names the host.
    let dir = tempfile::tempdir().unwrap();
    let name = "Büro-ПК-日本";
    std::fs::create_dir(dir.path().join(name)).unwrap();
    std::fs::copy(
        repo().join("samples/WS-LAB-11/sc-qc-bits.txt"),
        dir.path().join(name).join("sc-qc-bits.txt"),
    )
    .unwrap();
    let lin = String::from_utf8(ok(&linux(&["analyze", "."], dir.path()), "linux")).unwrap();
    let expected = lin.matches(name).count();
    assert!(expected > 0, "{lin}");
    // Under a terminal, Wine gives the exe a console: bitsdoctor writes through the console's
    // UTF-16 API and Wine's console turns that into UTF-8 on the terminal.
    let cmd = format!("wine '{}' analyze .", exe.display());
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("WINEDEBUG", "-all")
        .env("LANG", "C.UTF-8")
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&out.stdout);
    assert_eq!(console.matches(name).count(), expected, "{console}");
    assert!(
        !console.contains('\u{FFFD}') && !console.contains("B?ro"),
        "{console}"
    );
}

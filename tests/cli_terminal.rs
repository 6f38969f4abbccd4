//! The text report on a terminal and off it: colour only on a terminal (or when forced), never
//! with NO_COLOR or on a pipe; wrapping to the terminal width; -q and -v; the inputs list shows
//! what was not fully read. Terminal cases run the binary under `script` (util-linux), which
//! gives it a pseudo-terminal; they are skipped with a notice where `script` is missing.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const ESC: &str = "\x1b[";

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// The binary with no colour settings inherited from the environment.
fn bitsdoctor() -> Command {
    let mut c = Command::cargo_bin("bitsdoctor").unwrap();
    for v in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "COLUMNS"] {
        c.env_remove(v);
    }
    c
}

fn stdout(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(out.status.code().unwrap() < 2, "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn analyze(extra: &[&str]) -> Command {
    let mut c = bitsdoctor();
    c.arg("analyze").arg(samples()).args(extra);
    c
}

#[test]
fn no_colour_on_a_pipe_unless_asked() {
    let piped = stdout(&mut analyze(&[]));
    assert!(piped.contains("CRITICAL"));
    assert!(!piped.contains(ESC), "colour on a pipe");
    // The detection is real: forcing colour (CLICOLOR_FORCE) or --color always colours it ...
    let forced = stdout(analyze(&[]).env("CLICOLOR_FORCE", "1"));
    assert!(forced.contains(ESC), "CLICOLOR_FORCE ignored");
    let always = stdout(&mut analyze(&["--color", "always"]));
    assert!(always.contains(ESC));
    // ... and with the styles taken out it is the same report.
    let plain: String = anstream::adapter::strip_str(&always).to_string();
    assert_eq!(plain, piped);
    // NO_COLOR wins over the environment's force; --color never too.
    let no_color = stdout(analyze(&[]).env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1"));
    assert!(!no_color.contains(ESC), "NO_COLOR ignored");
    let never = stdout(analyze(&["--color", "never"]).env("CLICOLOR_FORCE", "1"));
    assert!(!never.contains(ESC));
    // Machine formats are never coloured.
    for f in ["json", "jsonl", "csv", "html"] {
        let out = stdout(&mut analyze(&["--color", "always", "--format", f]));
        assert!(!out.contains(ESC), "{f} coloured");
    }
}

/// Run `bitsdoctor ARGS` on a pseudo-terminal through `script`; None when `script` is missing.
fn on_terminal(args: &str, env: &[(&str, &str)]) -> Option<String> {
    let bin = assert_cmd::cargo::cargo_bin("bitsdoctor");
    let probe = std::process::Command::new("script")
        .args(["-qc", "true", "/dev/null"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("`script` (util-linux) is not available: skipping the terminal test");
        return None;
    }
    let mut c = std::process::Command::new("script");
    c.args(["-qec"])
        .arg(format!("{} {args} 2>/dev/null", bin.display()))
        .arg("/dev/null")
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null());
    for v in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "COLUMNS"] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
}

#[test]
fn colour_on_a_terminal_but_not_with_no_color() {
    let samples = samples();
    let args = format!("analyze {}", samples.display());
    let Some(tty) = on_terminal(&args, &[]) else {
        return;
    };
    assert!(tty.contains("CRITICAL"), "{tty}");
    assert!(tty.contains(ESC), "no colour on a terminal");
    let no_color = on_terminal(&args, &[("NO_COLOR", "1")]).unwrap();
    assert!(no_color.contains("CRITICAL"));
    assert!(!no_color.contains(ESC), "NO_COLOR ignored on a terminal");
    let never = on_terminal(&format!("{args} --color never"), &[]).unwrap();
    assert!(!never.contains(ESC));
}

#[test]
fn lines_wrap_to_the_terminal_width_and_not_on_a_pipe() {
    let piped = stdout(&mut analyze(&[]));
    let longest = |s: &str| {
        s.lines()
            .map(|l| anstream::adapter::strip_str(l).to_string().chars().count())
            .max()
            .unwrap()
    };
    assert!(longest(&piped) > 150, "the samples have long lines");
    let samples = samples();
    let Some(tty) = on_terminal(
        &format!("analyze {} --color never", samples.display()),
        &[("COLUMNS", "80")],
    ) else {
        return;
    };
    for l in tty.lines() {
        // Only a single word longer than the width (a URL, a path) may stick out.
        if l.chars().count() > 80 {
            assert!(
                !l.trim().contains(' ') || l.trim_start().split(' ').skip(1).all(|w| w.len() > 40),
                "not wrapped: {l:?}"
            );
        }
    }
    // Wrapping only moves words: the same words in the same order.
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let (a, b) = (words(&tty), words(&piped));
    if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
        panic!("word {i} differs: {:?} vs {:?}", a[i], b[i]);
    }
    assert_eq!(a.len(), b.len());
}

#[test]
fn quiet_shows_the_summary_and_root_causes_only() {
    let json: Value = serde_json::from_str(&stdout(&mut analyze(&["--format", "json"]))).unwrap();
    let roots: Vec<&Value> = json["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d.get("explained_by").is_none())
        .collect();
    assert!(roots.len() < json["diagnoses"].as_array().unwrap().len());
    let quiet = stdout(&mut analyze(&["-q"]));
    let lines: Vec<&str> = quiet.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("bitsdoctor: "));
    assert_eq!(lines.len(), 2 + roots.len(), "{quiet}");
    for (l, d) in lines[2..].iter().zip(&roots) {
        assert!(
            l.starts_with(&format!("[{}]", d["id"].as_str().unwrap())),
            "{l}"
        );
        assert!(l.contains(d["title"].as_str().unwrap()));
    }
    for absent in ["Inputs:", "fix:", "Jobs with errors:"] {
        assert!(!quiet.contains(absent), "{absent}");
    }
}

#[test]
fn inputs_list_problems_and_counts_and_everything_with_verbose() {
    let json: Value = serde_json::from_str(&stdout(&mut analyze(&["--format", "json"]))).unwrap();
    let inputs = json["inputs"].as_array().unwrap();
    let ok = inputs.iter().filter(|i| i["status"] == "ok").count();
    let not_ok: Vec<&str> = inputs
        .iter()
        .filter(|i| i["status"] != "ok")
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(ok > 10 && !not_ok.is_empty());
    let section = |text: &str| -> Vec<String> {
        text.split("\nInputs:\n")
            .nth(1)
            .unwrap()
            .split("\n\n")
            .next()
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let normal = section(&stdout(&mut analyze(&[])));
    assert!(
        normal[0].contains(&format!("{ok} read completely")),
        "{normal:?}"
    );
    let rows: Vec<&String> = normal
        .iter()
        .filter(|l| {
            l.starts_with("  ok ") || l.starts_with("  partial ") || l.starts_with("  skipped ")
        })
        .collect();
    assert_eq!(rows.len(), not_ok.len());
    for p in &not_ok {
        assert!(rows.iter().any(|r| r.contains(p)), "{p} not listed");
    }
    let verbose = section(&stdout(&mut analyze(&["-v"])));
    let rows = verbose.iter().filter(|l| l.starts_with("  ok ")).count();
    assert_eq!(rows, ok);
}

#[test]
fn input_values_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("WS\x1b[2J01");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(
        host.join("bitsadmin.txt"),
        "BITSADMIN version 3.0\n\n\
         {6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A} 'evil\u{202e}txt.exe' TRANSIENT_ERROR 0 / 1 0 / 100\n\
         Listed 1 job(s).\n",
    )
    .unwrap();
    let out = stdout(
        bitsdoctor()
            .arg("analyze")
            .arg(dir.path())
            .args(["-v", "--color", "always"]),
    );
    assert!(!out.contains("\x1b[2J"), "{out}");
    assert!(!out.contains('\u{202e}'));
    assert!(
        out.contains("\\x1b[2J") || out.contains("\\u{202e}"),
        "{out}"
    );
}

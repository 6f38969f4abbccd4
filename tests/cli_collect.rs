//! `bitsdoctor collect` outside Windows: it says where it runs and exits 2, writing nothing.
//! (On Windows it is tested under Wine: tests/windows_wine.rs.)

use assert_cmd::Command;
use predicates::str::contains;

#[cfg(not(windows))]
#[test]
fn collect_outside_windows_says_it_is_for_windows_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("bitsdoctor")
        .unwrap()
        .current_dir(dir.path())
        .args(["collect", "--out", "bundle.zip"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("collect runs on the Windows machine to diagnose"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn collect_is_in_the_help() {
    Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["collect", "--help"])
        .assert()
        .success()
        .stdout(contains("--out <FILE.zip>"))
        .stdout(contains("--windows-update-log"));
}

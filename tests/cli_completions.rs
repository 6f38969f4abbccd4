//! `bitsdoctor completions SHELL` and `bitsdoctor man`: generated from the command line's own
//! definition, so they cannot drift from it. The bash script is loaded into a real bash and
//! asked to complete; the PowerShell script is run by pwsh where it is installed (skipped with
//! a notice otherwise) and checked for what PowerShell needs to register it.

use assert_cmd::Command;

fn generated(args: &[&str]) -> String {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// What bash completes for the words of `line` (the last word is the one being completed).
fn bash_complete(script: &str, line: &str) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bitsdoctor.bash");
    std::fs::write(&file, script).unwrap();
    let words: Vec<&str> = line.split(' ').collect();
    let driver = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n\
         _bitsdoctor bitsdoctor '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        file.display(),
        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = match std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver])
        .output()
    {
        Ok(o) => o,
        Err(_) => {
            eprintln!("bash is not available: skipping the bash completion run");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect(),
    )
}

#[test]
fn bash_completion_completes_subcommands_flags_and_values() {
    let script = generated(&["completions", "bash"]);
    assert!(
        script.contains("complete -F _bitsdoctor"),
        "not a bash completion script"
    );
    let Some(subs) = bash_complete(&script, "bitsdoctor ana") else {
        return;
    };
    assert_eq!(subs, ["analyze"]);
    let flags = bash_complete(&script, "bitsdoctor analyze --fo").unwrap();
    assert_eq!(flags, ["--format"]);
    let mut formats = bash_complete(&script, "bitsdoctor analyze --format ").unwrap();
    formats.sort();
    assert_eq!(formats, ["csv", "html", "json", "jsonl", "text"]);
    let colors = bash_complete(&script, "bitsdoctor --color a").unwrap();
    assert!(colors.contains(&"auto".to_string()) && colors.contains(&"always".to_string()));
    let shells = bash_complete(&script, "bitsdoctor completions p").unwrap();
    assert_eq!(shells, ["powershell"]);
}

#[test]
fn powershell_completion_registers_every_subcommand_and_flag() {
    let script = generated(&["completions", "powershell"]);
    assert!(script.contains("Register-ArgumentCompleter -Native -CommandName 'bitsdoctor'"));
    for sub in ["analyze", "explain", "codes", "completions", "man"] {
        assert!(script.contains(&format!("'bitsdoctor;{sub}'")), "{sub}");
    }
    for flag in [
        "'--format'",
        "'--out'",
        "'--fail-on'",
        "'--color'",
        "'--quiet'",
        "'--verbose'",
    ] {
        assert!(script.contains(flag), "{flag}");
    }
    // Where PowerShell is installed, the script loads and completes.
    let Ok(probe) = std::process::Command::new("pwsh").arg("-Version").output() else {
        eprintln!("pwsh is not available: skipping the PowerShell completion run");
        return;
    };
    assert!(probe.status.success());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bitsdoctor.ps1");
    std::fs::write(&file, &script).unwrap();
    let out = std::process::Command::new("pwsh")
        .args(["-NoProfile", "-NonInteractive", "-Command"])
        .arg(format!(
            ". '{}'; (TabExpansion2 -inputScript 'bitsdoctor ana' -cursorColumn 14).CompletionMatches.CompletionText",
            file.display()
        ))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "analyze");
}

#[test]
fn other_shells_and_unknown_shells() {
    for shell in ["zsh", "fish", "elvish"] {
        assert!(
            generated(&["completions", shell]).contains("analyze"),
            "{shell}"
        );
    }
    Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

#[test]
fn man_page_documents_every_subcommand_and_option() {
    let page = generated(&["man"]);
    assert!(page.contains(".TH bitsdoctor 1"), "{}", &page[..200]);
    for sub in ["ANALYZE", "EXPLAIN", "CODES", "COMPLETIONS", "MAN"] {
        assert!(page.contains(&format!(".SH \"BITSDOCTOR {sub}\"")), "{sub}");
    }
    for opt in [
        "format",
        "out",
        "since",
        "until",
        "fail\\-on",
        "threads",
        "quiet",
        "verbose",
        "knowledge",
        "color",
    ] {
        assert!(page.contains(&format!("\\fB\\-\\-{opt}\\fR")), "--{opt}");
    }
    // Where man is installed, the page renders.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bitsdoctor.1");
    std::fs::write(&file, &page).unwrap();
    let Ok(out) = std::process::Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
    else {
        eprintln!("man is not available: skipping the man page rendering");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("BITSDOCTOR ANALYZE"), "{text}");
    assert!(text.contains("--fail-on"));
}

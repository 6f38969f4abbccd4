//! The map/reduce driver (`scripts/fleet-parallel.sh`, GNU parallel) on two workers: every
//! bundle analysed on a worker of its own, the summaries merged here, gives the diagnoses of
//! one `analyze` of every bundle. The workers are reached through a stand-in for ssh that runs
//! each "host" in a home folder of its own on this machine (GNU parallel sends the binary and
//! the bundles there with rsync and brings the results back, as it does over ssh). Skipped,
//! with a notice, where GNU parallel, rsync or tar is not installed (`.ci/run` installs them).

mod rules_support;
use rules_support::*;
use std::path::Path;
use std::process::Command;
use synth::Attempt;

const PROXY: &str = "proxy01.contoso.local:8080";
const MSFT: &str =
    "http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/04/windows10.0-kb5036892-x64.cab";

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Site `k`: two hosts whose downloads through PROXY fail (Range stripped), one healthy host
/// and one that cannot resolve names.
fn site(k: usize) -> synth::Scenario {
    let range = || Attempt::Fail202 {
        hr: 0x8020_0013,
        http_version: "HTTP/1.1".into(),
        url_range: "bytes=0-1048575".into(),
    };
    let mut hosts = Vec::new();
    for i in 0..2 {
        let mut h = host(&format!("WS-{k}{i}"));
        let mut j = job(MSFT, 10 + i as u32, vec![range(), range()]);
        j.proxy = Some(PROXY.into());
        j.in_bitsadmin = i == 0;
        h.jobs.push(j);
        hosts.push(h);
    }
    let mut ok = host(&format!("WS-{k}8"));
    ok.jobs.push(healthy_job(0));
    hosts.push(ok);
    let mut dns = host(&format!("WS-{k}9"));
    dns.jobs.push(job(MSFT, 3, vec![fail(0x8007_2EE7); 3]));
    hosts.push(dns);
    scenario(hosts)
}

fn key(dir: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(dir.join("diagnoses.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let cols: Vec<usize> = ["scope", "rule", "code", "hosts", "jobs", "occurrences"]
        .iter()
        .map(|c| h.iter().position(|x| x == *c).unwrap())
        .collect();
    let mut k: Vec<String> = r
        .records()
        .map(|x| {
            let x = x.unwrap();
            cols.iter().map(|c| &x[*c]).collect::<Vec<_>>().join("|")
        })
        .collect();
    k.sort();
    k
}

#[test]
fn gnu_parallel_on_two_workers_gives_the_single_run_report() {
    let missing: Vec<&str> = ["parallel", "rsync", "tar"]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "skipped: {} not installed (apt-get install parallel rsync)",
            missing.join(", ")
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // One bundle name holds a space, as customer folders do.
    let names = ["site-1", "site 2", "site-3"];
    let bundles: Vec<_> = names.iter().map(|n| tmp.path().join(n)).collect();
    for (k, b) in bundles.iter().enumerate() {
        synth::write_bundle(&site(k + 1), b).unwrap();
    }
    let shim = tmp.path().join("ssh-shim");
    std::fs::write(
        &shim,
        "#!/bin/bash\n\
         # ssh HOST COMMAND, run here in HOST's own home folder, with the SHELL sshd sets.\n\
         while [ $# -gt 0 ]; do case \"$1\" in -l|-p|-o|-i|-F|-S|-O) shift 2;; -*) shift;; *) break;; esac; done\n\
         host=$1; shift; [ \"${1:-}\" = \"--\" ] && shift\n\
         echo \"$host $*\" >> \"$SHIM_ROOT/log\"\n\
         mkdir -p \"$SHIM_ROOT/$host\" && cd \"$SHIM_ROOT/$host\" && HOME=\"$SHIM_ROOT/$host\" SHELL=/bin/bash exec bash -c \"$*\"\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let workers = tmp.path().join("workers");
    std::fs::create_dir_all(&workers).unwrap();
    let out = tmp.path().join("out");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fleet-parallel.sh");
    // CI runs without SHELL in the environment: so does this run (the workers get theirs from
    // the stand-in for sshd).
    let drive = |logins: &[&str], out: &Path| {
        let mut cmd = Command::new("bash");
        cmd.arg(&driver)
            .arg("--ssh")
            .arg(&shim)
            .args(logins)
            .arg(out)
            .args(&bundles)
            .env("BITSDOCTOR", env!("CARGO_BIN_EXE_bitsdoctor"))
            .env("SHIM_ROOT", &workers)
            .env_remove("SHELL");
        let run = cmd.output().unwrap();
        assert!(
            run.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    };
    drive(&["-S", "1/w1", "-S", "1/w2"], &out);
    // Both workers sent back the results of a bundle, and kept nothing afterwards.
    let log = std::fs::read_to_string(workers.join("log")).unwrap();
    for w in ["w1", "w2"] {
        assert!(
            log.lines().any(|l| l.starts_with(&format!("{w} "))
                && l.contains("--sender")
                && l.contains(".tar")),
            "{w} sent back no result:\n{log}"
        );
        let left: Vec<_> = std::fs::read_dir(workers.join(w))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{w} kept {left:?}");
    }
    for n in names {
        assert!(out.join("bundles").join(n).join("report.html").is_file());
    }
    // On this machine only (`-S :`), nothing is copied and the bundles stay where they are.
    let here = tmp.path().join("here");
    drive(&["-S", ":"], &here);
    for b in &bundles {
        assert!(b.is_dir(), "{} was removed", b.display());
    }

    let one = tmp.path().join("one");
    let status = Command::new(env!("CARGO_BIN_EXE_bitsdoctor"))
        .arg("analyze")
        .args(&bundles)
        .arg("--out")
        .arg(&one)
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let (merged, single) = (key(&out.join("fleet")), key(&one));
    assert!(
        single
            .iter()
            .any(|k| k.starts_with("fleet|") && k.contains("WS-10") && k.contains("WS-31")),
        "the proxy is a fleet finding across the sites: {single:#?}"
    );
    assert_eq!(merged, single);
    assert_eq!(key(&here.join("fleet")), single);
}

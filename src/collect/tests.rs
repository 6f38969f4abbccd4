//! The command list, the layout and the manifest, with the command runner faked.

use super::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;

/// Answers by program name; `wevtutil` answers write the export file the step names, as the
/// real tool does. Every call is recorded.
struct Fake {
    answers: BTreeMap<&'static str, Ran>,
    /// Channel -> bytes wevtutil writes for it.
    exports: BTreeMap<&'static str, Vec<u8>>,
    calls: RefCell<Vec<(String, Vec<String>)>>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            answers: BTreeMap::new(),
            exports: BTreeMap::new(),
            calls: RefCell::new(Vec::new()),
        }
    }
    fn answer(mut self, program: &'static str, ran: Ran) -> Fake {
        self.answers.insert(program, ran);
        self
    }
}

fn exited(code: i32, stdout: &str, stderr: &str) -> Ran {
    Ran::Exited {
        code: Some(code),
        stdout: stdout.as_bytes().to_vec(),
        stderr: stderr.as_bytes().to_vec(),
    }
}

impl Runner for Fake {
    fn run(&self, program: &str, args: &[String], _timeout: Duration) -> Ran {
        self.calls
            .borrow_mut()
            .push((program.to_string(), args.to_vec()));
        let name = program.rsplit('\\').next().unwrap_or(program);
        if name == "wevtutil.exe" {
            if let Some(bytes) = self.exports.get(args[1].as_str()) {
                std::fs::write(&args[2], bytes).unwrap();
                return exited(0, "", "");
            }
        }
        self.answers.get(name).cloned().unwrap_or(Ran::NotFound)
    }
}

const REG_SERVICE: &str = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\r\n    \
    Type    REG_DWORD    0x20\r\n    Start    REG_DWORD    0x3\r\n    ErrorControl    REG_DWORD    0x1\r\n    \
    ImagePath    REG_EXPAND_SZ    %SystemRoot%\\System32\\svchost.exe -k netsvcs -p\r\n    \
    ObjectName    REG_SZ    LocalSystem\r\n\r\n\
    HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters\r\n\
    HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Security\r\n";

fn no_progress(_: &Step) {}

fn names(steps: &[Step]) -> Vec<(&str, String)> {
    steps.iter().map(|s| (s.file, s.command_line())).collect()
}

#[test]
fn plan_runs_exactly_the_captures_analyze_reads() {
    let work = Path::new("C:\\Temp\\bd");
    let steps = plan(work, &Options::default());
    let evtx = |f: &str| work.join(f).to_string_lossy().into_owned();
    assert_eq!(
        names(&steps),
        vec![
            (
                "Microsoft-Windows-Bits-Client%4Operational.evtx",
                format!(
                    "wevtutil.exe epl Microsoft-Windows-Bits-Client/Operational {} /ow:true",
                    evtx("Microsoft-Windows-Bits-Client%4Operational.evtx")
                )
            ),
            (
                "System.evtx",
                format!("wevtutil.exe epl System {} /ow:true", evtx("System.evtx"))
            ),
            (
                "Microsoft-Windows-WindowsUpdateClient%4Operational.evtx",
                format!(
                    "wevtutil.exe epl Microsoft-Windows-WindowsUpdateClient/Operational {} /ow:true",
                    evtx("Microsoft-Windows-WindowsUpdateClient%4Operational.evtx")
                )
            ),
            ("bitsadmin.txt", "bitsadmin.exe /list /allusers /verbose".into()),
            (
                "Get-BitsTransfer.txt",
                "powershell.exe -NoProfile -NonInteractive -Command \"[Console]::OutputEncoding = \
                 [Text.Encoding]::UTF8; Get-BitsTransfer -AllUsers | Format-List * | Out-String \
                 -Width 4096\""
                    .into()
            ),
            ("sc-qc-bits.txt", "sc.exe qc bits 8192".into()),
            ("sc-query-bits.txt", "sc.exe query bits".into()),
            ("sc-qprivs-bits.txt", "sc.exe qprivs bits 8192".into()),
            ("sc-qsidtype-bits.txt", "sc.exe qsidtype bits".into()),
            ("sc-qfailure-bits.txt", "sc.exe qfailure bits 8192".into()),
            (
                "reg-bits-service.txt",
                "reg.exe query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS".into()
            ),
            (
                "reg-bits-parameters.txt",
                "reg.exe query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters".into()
            ),
            (
                "reg-bits-policy.txt",
                "reg.exe query HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS".into()
            ),
            ("winhttp-proxy.txt", "netsh.exe winhttp show proxy".into()),
        ]
    );
    // Tools come from the Windows folder, never from PATH or the current folder.
    assert!(steps.iter().all(|s| s.program.starts_with("System32\\")));
    // Only the policy key may be absent without that being a failure.
    let absent: Vec<&str> = steps
        .iter()
        .filter(|s| s.absent_ok)
        .map(|s| s.file)
        .collect();
    assert_eq!(absent, ["reg-bits-policy.txt"]);
    // Exports are written into the private work folder, and each under its own name.
    for s in &steps {
        match &s.capture {
            Capture::File(p) => assert_eq!(p, &work.join(s.file)),
            Capture::Stdout => assert!(!s.file.ends_with(".evtx")),
        }
    }
}

#[test]
fn plan_adds_windows_update_log_only_when_asked() {
    let work = Path::new("C:\\Users\\O'Brien\\AppData\\Local\\Temp\\bd");
    let plain = plan(work, &Options::default());
    assert!(plain.iter().all(|s| s.file != "WindowsUpdate.log"));
    let with = plan(
        work,
        &Options {
            windows_update_log: true,
        },
    );
    let step = with.last().unwrap();
    assert_eq!(with.len(), plain.len() + 1);
    assert_eq!(step.file, "WindowsUpdate.log");
    assert_eq!(step.program_name(), "powershell.exe");
    assert_eq!(step.capture, Capture::File(work.join("WindowsUpdate.log")));
    // The path is a PowerShell literal, its quote doubled.
    let literal = format!(
        "'{}'",
        work.join("WindowsUpdate.log")
            .to_string_lossy()
            .replace('\'', "''")
    );
    assert_eq!(
        step.args[3],
        format!("Get-WindowsUpdateLog -LogPath {literal} | Out-Null")
    );
    assert!(step.args[3].contains("O''Brien"));
}

#[test]
fn collect_where_only_reg_exists_records_every_missing_tool_and_finishes() {
    // What Wine offers: reg.exe answers, sc.exe and netsh.exe print nothing, the rest is absent.
    let fake = Fake::new()
        .answer("reg.exe", exited(0, REG_SERVICE, ""))
        .answer("sc.exe", exited(0, "", ""))
        .answer("netsh.exe", exited(0, "\r\n", ""));
    let work = tempfile::tempdir().unwrap();
    let seen = RefCell::new(Vec::new());
    let c = collect(
        &fake,
        "WS01",
        work.path(),
        &Options::default(),
        None,
        &|s: &Step| seen.borrow_mut().push(s.file),
    );
    let status: Vec<(&str, Status)> = c
        .manifest
        .steps
        .iter()
        .map(|r| (r.file.as_str(), r.status))
        .collect();
    assert_eq!(
        status,
        vec![
            (
                "Microsoft-Windows-Bits-Client%4Operational.evtx",
                Status::Missing
            ),
            ("System.evtx", Status::Missing),
            (
                "Microsoft-Windows-WindowsUpdateClient%4Operational.evtx",
                Status::Missing
            ),
            ("bitsadmin.txt", Status::Missing),
            ("Get-BitsTransfer.txt", Status::Missing),
            ("sc-qc-bits.txt", Status::Empty),
            ("sc-query-bits.txt", Status::Empty),
            ("sc-qprivs-bits.txt", Status::Empty),
            ("sc-qsidtype-bits.txt", Status::Empty),
            ("sc-qfailure-bits.txt", Status::Empty),
            ("reg-bits-service.txt", Status::Collected),
            ("reg-bits-parameters.txt", Status::Collected),
            ("reg-bits-policy.txt", Status::Collected),
            ("winhttp-proxy.txt", Status::Empty),
        ]
    );
    assert_eq!(seen.borrow().len(), 14, "progress called once per step");
    assert_eq!(fake.calls.borrow().len(), 14, "every step ran once");
    assert_eq!(c.collected(), 3);
    let files: Vec<&str> = c.files.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        files,
        [
            "reg-bits-service.txt",
            "reg-bits-parameters.txt",
            "reg-bits-policy.txt"
        ]
    );
    assert_eq!(
        c.files[0].1,
        Content::Bytes(REG_SERVICE.as_bytes().to_vec())
    );
    assert!(c
        .manifest
        .steps
        .iter()
        .all(|r| r.kept == (r.status == Status::Collected)));
    assert_eq!(c.manifest.schema, MANIFEST_SCHEMA);
    assert_eq!(c.manifest.host, "WS01");
}

#[test]
fn collect_tells_denied_absent_failed_and_timed_out_apart() {
    let sc_denied = "[SC] OpenService FAILED 5:\r\n\r\nAccess is denied.\r\n\r\n";
    let fake = Fake::new()
        .answer("sc.exe", exited(5, sc_denied, ""))
        // Wine's reg.exe prints this on stdout, Windows' on stderr.
        .answer(
            "reg.exe",
            exited(1, "reg: Unable to find the specified registry key\r\n", ""),
        )
        .answer("bitsadmin.exe", Ran::Denied("Access is denied. (os error 5)".into()))
        .answer("powershell.exe", Ran::TimedOut)
        .answer("netsh.exe", Ran::Failed("The handle is invalid.".into()))
        .answer(
            "wevtutil.exe",
            exited(15007, "", "Failed to read configuration for log Microsoft-Windows-WindowsUpdateClient/Operational. The specified channel could not be found.\r\n"),
        );
    let mut fake = fake;
    fake.exports.insert(
        "Microsoft-Windows-Bits-Client/Operational",
        b"ElfFile\0rest".to_vec(),
    );
    let work = tempfile::tempdir().unwrap();
    let c = collect(
        &fake,
        "WS01",
        work.path(),
        &Options::default(),
        None,
        &no_progress,
    );
    let get = |f: &str| c.manifest.steps.iter().find(|r| r.file == f).unwrap();

    let bits = get("Microsoft-Windows-Bits-Client%4Operational.evtx");
    assert_eq!((bits.status, bits.kept), (Status::Collected, true));
    let wu = get("Microsoft-Windows-WindowsUpdateClient%4Operational.evtx");
    assert_eq!((wu.status, wu.exit_code), (Status::Failed, Some(15007)));
    assert!(wu
        .message
        .as_deref()
        .unwrap()
        .ends_with("The specified channel could not be found."));

    // sc.exe refused: recorded as denied, and its error text kept (the sc parser reads it).
    let qc = get("sc-qc-bits.txt");
    assert_eq!(
        (qc.status, qc.kept, qc.exit_code),
        (Status::Denied, true, Some(5))
    );
    assert_eq!(
        qc.message.as_deref(),
        Some("[SC] OpenService FAILED 5: Access is denied.")
    );

    // reg.exe exit 1: the policy key is simply not set; the service key missing is a failure.
    let policy = get("reg-bits-policy.txt");
    assert_eq!((policy.status, policy.kept), (Status::Absent, false));
    assert_eq!(
        policy.message.as_deref(),
        Some("reg: Unable to find the specified registry key")
    );
    let svc = get("reg-bits-service.txt");
    assert_eq!((svc.status, svc.kept), (Status::Failed, true));

    assert_eq!(get("bitsadmin.txt").status, Status::Denied);
    assert_eq!(get("Get-BitsTransfer.txt").status, Status::TimedOut);
    let netsh = get("winhttp-proxy.txt");
    assert_eq!(netsh.status, Status::Failed);
    assert_eq!(netsh.message.as_deref(), Some("The handle is invalid."));

    let files: Vec<&str> = c.files.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        files,
        [
            "Microsoft-Windows-Bits-Client%4Operational.evtx",
            "sc-qc-bits.txt",
            "sc-query-bits.txt",
            "sc-qprivs-bits.txt",
            "sc-qsidtype-bits.txt",
            "sc-qfailure-bits.txt",
            "reg-bits-service.txt",
            "reg-bits-parameters.txt",
        ]
    );
    assert_eq!(
        c.files[0].1,
        Content::File(
            work.path()
                .join("Microsoft-Windows-Bits-Client%4Operational.evtx")
        )
    );
}

#[test]
fn error_messages_are_bounded() {
    let long = "x".repeat(5000);
    let fake = Fake::new().answer("netsh.exe", exited(2, "", &long));
    let work = tempfile::tempdir().unwrap();
    let c = collect(
        &fake,
        "H",
        work.path(),
        &Options::default(),
        None,
        &no_progress,
    );
    let r = c
        .manifest
        .steps
        .iter()
        .find(|r| r.file == "winhttp-proxy.txt")
        .unwrap();
    assert_eq!(
        r.message.as_ref().unwrap().chars().count(),
        MAX_MESSAGE_CHARS + 3
    );
}

#[test]
fn zip_holds_each_capture_under_the_host_folder_and_the_manifest() {
    let fake = Fake::new().answer("reg.exe", exited(0, REG_SERVICE, ""));
    let mut fake = fake;
    fake.exports.insert("System", b"ElfFile\0system".to_vec());
    let work = tempfile::tempdir().unwrap();
    let c = collect(
        &fake,
        "WS01",
        work.path(),
        &Options::default(),
        Some("2026-01-02T03:04:05Z".into()),
        &no_progress,
    );
    let bytes = write_zip(&c, std::io::Cursor::new(Vec::new()))
        .unwrap()
        .into_inner();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "WS01/System.evtx",
            "WS01/collect-manifest.json",
            "WS01/reg-bits-parameters.txt",
            "WS01/reg-bits-policy.txt",
            "WS01/reg-bits-service.txt",
        ]
    );
    let mut read = |name: &str| {
        let mut s = Vec::new();
        zip.by_name(name).unwrap().read_to_end(&mut s).unwrap();
        s
    };
    assert_eq!(read("WS01/System.evtx"), b"ElfFile\0system");
    assert_eq!(read("WS01/reg-bits-service.txt"), REG_SERVICE.as_bytes());
    let manifest: Manifest = serde_json::from_slice(&read("WS01/collect-manifest.json")).unwrap();
    assert_eq!(manifest, c.manifest);
    assert_eq!(
        manifest.collected_at.as_deref(),
        Some("2026-01-02T03:04:05Z")
    );
}

#[test]
fn host_folder_is_a_safe_single_name() {
    assert_eq!(host_folder(Some("WS-FIN-01")), "WS-FIN-01");
    assert_eq!(
        host_folder(Some(" ws01.corp.example ")),
        "ws01.corp.example"
    );
    assert_eq!(host_folder(Some("..\\..\\evil/x")), "_.._evil_x");
    assert_eq!(host_folder(Some("..")), "unknown-host");
    assert_eq!(host_folder(Some("SÉRVEUR")), "S_RVEUR");
    assert_eq!(host_folder(None), "unknown-host");
    assert_eq!(host_folder(Some(&"A".repeat(300))).len(), 64);
}

#[test]
fn analyze_reads_a_collected_bundle_and_lists_what_was_not_collected() {
    let fake = Fake::new()
        .answer("reg.exe", exited(0, REG_SERVICE, ""))
        .answer("sc.exe", exited(0, "", ""));
    let work = tempfile::tempdir().unwrap();
    let c = collect(
        &fake,
        "WS01",
        work.path(),
        &Options::default(),
        None,
        &no_progress,
    );
    let out = tempfile::tempdir().unwrap();
    let zip_path = out.path().join("bitsdoctor-WS01.zip");
    let file = std::fs::File::create(&zip_path).unwrap();
    write_zip(&c, file).unwrap();

    let cfg = crate::app::Config {
        paths: vec![zip_path],
        ..Default::default()
    };
    let report = crate::app::analyze(&cfg, &crate::knowledge::Knowledge::builtin()).unwrap();
    let row = |suffix: &str| {
        report
            .inputs
            .iter()
            .find(|r| r.path.ends_with(suffix))
            .unwrap_or_else(|| panic!("no input {suffix}: {:#?}", report.inputs))
    };
    // The reg capture is parsed into service configuration facts of host WS01.
    let reg = row("WS01/reg-bits-service.txt");
    assert_eq!((reg.kind.as_str(), reg.host.as_str()), ("reg", "WS01"));
    assert_eq!(reg.status, crate::report::Status::Ok);
    assert!(reg.observations >= 5, "{reg:#?}");
    // The manifest is read, and every capture that is not in the bundle is a warning.
    let manifest = row("WS01/collect-manifest.json");
    assert_eq!(manifest.kind, "collect_manifest");
    assert_eq!(
        manifest.reason.as_deref(),
        Some("11 capture(s) not collected")
    );
    let missing: Vec<&str> = report
        .warnings
        .iter()
        .filter(|w| w.message.starts_with("not collected: "))
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(missing.len(), 11, "{missing:#?}");
    for file in [
        "System.evtx",
        "bitsadmin.txt",
        "Get-BitsTransfer.txt",
        "sc-qc-bits.txt",
        "winhttp-proxy.txt",
    ] {
        assert!(
            missing.iter().any(|m| m.contains(&format!("({file}; "))),
            "{file} not listed: {missing:#?}"
        );
    }
    assert!(missing.iter().any(|m| m
        .contains("bitsadmin.exe /list /allusers /verbose`): the program is not on the machine")));
    assert!(missing
        .iter()
        .any(|m| m.contains("sc.exe qc bits 8192`): the command succeeded but gave nothing")));
}

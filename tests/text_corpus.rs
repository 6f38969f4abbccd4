//! Text inputs end to end: decode -> sniff -> parse.
//!
//! * The real captures in `$BITSDOCTOR_CORPUS/text` (CI sets `BITSDOCTOR_CORPUS=../shared/corpus`;
//!   without it those tests print a notice and pass) parse to the jobs they show.
//! * Every format gives identical observations in UTF-8, UTF-8 with BOM, UTF-16LE with BOM and
//!   CRLF variants.
//! * No parser panics on arbitrary input; generated bitsadmin verbose blocks round-trip.

use std::path::{Path, PathBuf};

use bitsdoctor::ingest::decode::decode;
use bitsdoctor::ingest::sniff::{sniff, Kind};
use bitsdoctor::model::{Fact, Guid, HResult, JobSnapshot, Locator, When};
use bitsdoctor::parse::{bitsadmin, netsh, powershell, reg, sc, wulog, Parsed, Source};
use proptest::prelude::*;

fn parse_kind(kind: Kind, text: &str, src: &Source) -> Parsed {
    match kind {
        Kind::Bitsadmin => bitsadmin::parse(text, src),
        Kind::PowerShell => powershell::parse(text, src),
        Kind::Sc => sc::parse(text, src),
        Kind::Reg => reg::parse(text, src),
        Kind::Netsh => netsh::parse(text, src),
        Kind::WuLog => wulog::parse(text, src),
        _ => Parsed::default(),
    }
}

/// Decode, sniff and parse one input's bytes.
fn run(bytes: &[u8], path: &str) -> (Kind, Parsed) {
    let d = decode(bytes);
    let kind = sniff(&bytes[..bytes.len().min(64 * 1024)], Some(&d.text));
    let src = Source { path, host: "HOST" };
    (kind, parse_kind(kind, &d.text, &src))
}

fn corpus_text() -> Option<PathBuf> {
    match std::env::var_os("BITSDOCTOR_CORPUS") {
        Some(dir) => Some(PathBuf::from(dir).join("text")),
        None => {
            eprintln!("BITSDOCTOR_CORPUS is not set: skipping the tests on the shared text corpus");
            None
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read corpus dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn snapshots(p: &Parsed) -> Vec<&JobSnapshot> {
    p.snapshots()
}

fn read(dir: &Path, rel: &str) -> (Kind, Parsed) {
    let bytes = std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    run(&bytes, rel)
}

#[test]
fn corpus_every_file_is_read_without_panic() {
    let Some(dir) = corpus_text() else { return };
    let files = files_under(&dir);
    assert!(
        files.len() >= 13,
        "expected the 13 text samples, found {}",
        files.len()
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let (kind, p) = run(&bytes, &f.to_string_lossy());
        if f.extension().is_some_and(|e| e == "txt") {
            assert_eq!(kind, Kind::Bitsadmin, "{}", f.display());
            // The transcription's GUID is blurred: the one line the parser cannot read.
            let expected = usize::from(f.to_string_lossy().contains("TRANSCRIPTION"));
            assert_eq!(
                p.warnings.len(),
                expected,
                "{}: {:?}",
                f.display(),
                p.warnings
            );
        } else {
            assert_eq!(
                kind,
                Kind::Unknown,
                "{} (the screenshot is binary)",
                f.display()
            );
        }
    }
}

#[test]
fn corpus_docs_info_verbose() {
    let Some(dir) = corpus_text() else { return };
    for rev in ["rev-048f945a", "rev-fb74c56a"] {
        let (kind, p) = read(
            &dir,
            &format!("microsoftdocs-windowsserverdocs/{rev}/info-verbose.txt"),
        );
        assert_eq!(kind, Kind::Bitsadmin);
        assert!(p.warnings.is_empty(), "{rev}: {:?}", p.warnings);
        let s = snapshots(&p);
        assert_eq!(s.len(), 1, "{rev}");
        let s = s[0];
        assert_eq!(s.job, Guid::parse("{482FCAF0-74BF-469B-8929-5CCD028C9499}"));
        assert_eq!(s.display_name, "myDownloadJob");
        assert_eq!(s.job_type.as_deref(), Some("DOWNLOAD"));
        assert_eq!(s.state.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(s.owner.as_deref(), Some("domain\\user"));
        assert_eq!(s.priority.as_deref(), Some("NORMAL"));
        assert_eq!((s.files_transferred, s.files_total), (Some(0), Some(1)));
        assert_eq!((s.bytes_transferred, s.bytes_total), (Some(0), None));
        assert_eq!(
            s.creation_time,
            When::Local("2002-12-17T13:21:17".parse().unwrap())
        );
        assert_eq!(
            s.modification_time,
            When::Local("2002-12-17T13:21:30".parse().unwrap())
        );
        assert_eq!(s.completion_time, When::Unknown);
        assert_eq!(s.retry_delay, Some(600));
        assert_eq!(s.no_progress_timeout, Some(1_209_600));
        assert_eq!(s.error_count, Some(0));
        assert_eq!(s.proxy_usage.as_deref(), Some("PRECONFIG"));
        assert_eq!(
            (s.proxy_list.as_deref(), s.proxy_bypass_list.as_deref()),
            (None, None)
        );
        assert_eq!(s.error_code, Some(HResult(0x8007_2EE7)));
        assert_eq!(s.error_context, Some(5));
        assert_eq!(
            s.error_file.as_deref(),
            Some("https://downloadsrv/10mb.zip")
        );
        assert_eq!(
            s.files,
            [(
                "https://downloadsrv/10mb.zip".to_string(),
                "c:\\10mb.zip".to_string()
            )]
        );
        assert_eq!(s.notify_command, None);
        let errors: Vec<_> = p
            .observations
            .iter()
            .filter(|o| matches!(o.fact, Fact::TransferError { .. }))
            .collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].evidence.at, Locator::Line(1));
        assert_eq!(errors[0].host, "HOST");
        assert_eq!(
            errors[0].fact,
            Fact::TransferError {
                job: Guid::parse("482FCAF0-74BF-469B-8929-5CCD028C9499"),
                title: "myDownloadJob".into(),
                url: "https://downloadsrv/10mb.zip".into(),
                hr: HResult(0x8007_2EE7),
                proxy: None,
                context: Some(5),
            }
        );
    }
}

#[test]
fn corpus_docs_list_monitor_reset_create() {
    let Some(dir) = corpus_text() else { return };
    for rev in ["rev-048f945a", "rev-fb74c56a"] {
        let (kind, p) = read(
            &dir,
            &format!("microsoftdocs-windowsserverdocs/{rev}/list.txt"),
        );
        assert_eq!(kind, Kind::Bitsadmin);
        let s = snapshots(&p);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].job,
            Guid::parse("6AF46E48-41D3-453F-B7AF-A694BBC823F7")
        );
        assert_eq!(s[0].display_name, "job1");
        assert_eq!(s[0].state.as_deref(), Some("SUSPENDED"));
        assert_eq!(
            (
                s[0].files_transferred,
                s[0].files_total,
                s[0].bytes_transferred,
                s[0].bytes_total
            ),
            (Some(0), Some(0), Some(0), Some(0))
        );
        assert_eq!(
            s[1].job,
            Guid::parse("482FCAF0-74BF-469B-8929-5CCD028C9499")
        );
        assert_eq!(s[1].display_name, "job2");
        assert_eq!(s[1].state.as_deref(), Some("TRANSIENT_ERROR"));
        assert_eq!(
            (
                s[1].files_transferred,
                s[1].files_total,
                s[1].bytes_transferred,
                s[1].bytes_total
            ),
            (Some(0), Some(1), Some(0), None)
        );
        assert_eq!(p.observations[1].evidence.at, Locator::Line(2));
        for f in ["monitor.txt", "reset.txt", "create.txt"] {
            let (kind, p) = read(&dir, &format!("microsoftdocs-windowsserverdocs/{rev}/{f}"));
            assert_eq!(kind, Kind::Bitsadmin, "{rev}/{f}");
            assert!(p.observations.is_empty(), "{rev}/{f}: {:?}", p.observations);
            assert!(p.warnings.is_empty(), "{rev}/{f}");
        }
    }
}

#[test]
fn corpus_help_screen_and_screenshot_transcription() {
    let Some(dir) = corpus_text() else { return };
    let (kind, p) = read(&dir, "lisiynos-admin/bitsadmin.txt");
    assert_eq!(kind, Kind::Bitsadmin);
    // No job; the banner's `[ 7.5.7601 ]` is a sign of the Windows version (7 / 2008 R2).
    assert!(p.warnings.is_empty());
    assert!(
        matches!(
            p.observations.as_slice(),
            [o] if matches!(o.fact, bitsdoctor::model::Fact::VersionSign { build: Some(7601), .. })
        ),
        "{:?}",
        p.observations
    );

    // A hand transcription with blurred values: layout only (no readable GUID).
    let (kind, p) = read(&dir, "microsoftdocs-win32/bitsadmin.png.TRANSCRIPTION.txt");
    assert_eq!(kind, Kind::Bitsadmin);
    let s = snapshots(&p);
    assert_eq!(s.len(), 1);
    let s = s[0];
    assert_eq!(s.job, None);
    assert_eq!(s.state.as_deref(), Some("TRANSFERRED"));
    assert_eq!(s.priority.as_deref(), Some("HIGH"));
    assert_eq!((s.files_transferred, s.files_total), (Some(1), Some(1)));
    assert_eq!(
        (s.bytes_transferred, s.bytes_total),
        (Some(18162), Some(18162))
    );
    assert_eq!(
        s.creation_time,
        When::Local("2018-12-20T19:26:28".parse().unwrap())
    );
    assert_eq!(
        s.completion_time,
        When::Local("2018-12-20T19:26:30".parse().unwrap())
    );
    assert_eq!(
        (s.retry_delay, s.no_progress_timeout, s.error_count),
        (Some(300), Some(3600), Some(1))
    );
    assert_eq!(s.error_code, None);
    assert_eq!(s.files.len(), 1);
    assert!(s.files[0].0.contains("https://outlook.office365.com/OAB/"));
    assert!(s.files[0].1.starts_with("C:\\Users\\"));
    assert!(s
        .display_name
        .contains("Microsoft Outlook Offline Address Book"));
    // Only the blurred GUID is reported.
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(p.warnings[0].at, Some(Locator::Line(7)));
}

// ---------------------------------------------------------------------------------------------
// Encodings: the same capture as UTF-8, UTF-8 + BOM, UTF-16LE + BOM and CRLF.

const SAMPLES: &[(Kind, &str)] = &[
    (
        Kind::Bitsadmin,
        "\nBITSADMIN version 3.0 [ 7.5.7601 ]\nBITS administration utility.\n(C) Copyright 2000-2006 Microsoft Corp.\n\n\
GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: 'Jürgen''s job'\n\
TYPE: DOWNLOAD STATE: ERROR OWNER: NT AUTHORITY\\SYSTEM\n\
PRIORITY: FOREGROUND FILES: 0 / 1 BYTES: 0 / UNKNOWN\n\
CREATION TIME: 20.12.2018 19:26:28 MODIFICATION TIME: 20.12.2018 19:27:00\n\
COMPLETION TIME: UNKNOWN ACL FLAGS:\n\
NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3\n\
RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 4\n\
PROXY USAGE: OVERRIDE PROXY LIST: http://proxy:8080 PROXY BYPASS LIST: <local>\n\
ERROR FILE:    http://wsus:8530/Content/a.cab -> C:\\Windows\\a.cab\n\
ERROR CODE:    0x80200013 - The server does not support the necessary HTTP protocol. Backgro\n\
und Intelligent Transfer Service (BITS) requires that the server support the Range p\n\
rotocol header.\n\
ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being\n\
processed.\n\
DESCRIPTION:\n\
JOB FILES:\n\
\t0 / UNKNOWN WORKING http://wsus:8530/Content/a.cab -> C:\\Windows\\a.cab\n\
NOTIFICATION COMMAND LINE: none\n\n\
{6AF46E48-41D3-453F-B7AF-A694BBC823F7} 'job1' SUSPENDED 0 / 0 0 / 0\n\nListed 1 job(s).\n",
    ),
    (
        Kind::PowerShell,
        "\nJobId               : 873c4db1-4b60-4a49-bd62-0631aacd4099\nDisplayName         : Müller\nTransferType        : Download\nJobState            : Error\nOwnerAccount        : CONTOSO\\user\nInternalErrorCode   : 2149056531\nErrorContext        : RemoteFile\nFileList            : {http://srv/a.cab -> C:\\a.cab}\nCreationTime        : 5/9/2011 3:22:54 PM\n\n",
    ),
    (
        Kind::Sc,
        "[SC] QueryServiceConfig SUCCESS\n\nSERVICE_NAME: bits\n        TYPE               : 20  WIN32_SHARE_PROCESS\n        START_TYPE         : 3   DEMAND_START\n        ERROR_CONTROL      : 1   NORMAL\n        BINARY_PATH_NAME   : C:\\Windows\\System32\\svchost.exe -k netsvcs -p\n        DISPLAY_NAME       : Intelligenter Hintergrundübertragungsdienst\n        DEPENDENCIES       : RpcSs\n                           : EventSystem\n        SERVICE_START_NAME : LocalSystem\n\n[SC] StartService FAILED 1058:\n\nThe service cannot be started.\n",
    ),
    (
        Kind::Reg,
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]\n\"DependOnService\"=hex(7):52,00,70,00,63,00,53,00,73,00,00,00,45,00,76,00,65,00,\\\n  6e,00,74,00,53,00,79,00,73,00,74,00,65,00,6d,00,00,00,00,00\n\"Start\"=dword:00000002\n\"DisplayName\"=\"Übertragung\"\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS]\n\"MaxJobsPerUser\"=dword:0000003c\n\n",
    ),
    (
        Kind::Netsh,
        "\nCurrent WinHTTP proxy settings:\n\n    Proxy Server(s) :  proxy.example:8080\n    Bypass List     :  <local>\n\n",
    ),
    (
        Kind::WuLog,
        "2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}\n\
2013-05-16\t10:41:01:577\t1404\t10a0\tDnldMgr\tBITS job {082DB2AF-902B-4457-810C-62B6E2D3A034} hit a transient error, updateId = {E6EC40C4-1111-2222-3333-444455556666}.201, error = 0x80072EE7\n\
2020/01/23 15:17:51.1568965 9852  628   DownloadManager BITS job {0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E} failed, updateId = 4FED3B54-C444-49B9-950F-301402B8B6B2.200, hr = 0x80190194. File URL = http://wsus:8530/a.cab, local path = C:\\x\n",
    ),
];

fn variants(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let crlf = text.replace('\n', "\r\n");
    let mut bom8 = b"\xEF\xBB\xBF".to_vec();
    bom8.extend_from_slice(text.as_bytes());
    let utf16 = |t: &str| {
        let mut v = vec![0xFF, 0xFE];
        v.extend(t.encode_utf16().flat_map(u16::to_le_bytes));
        v
    };
    vec![
        ("utf-8", text.as_bytes().to_vec()),
        ("utf-8 bom", bom8),
        ("utf-16le bom", utf16(text)),
        ("utf-16le bom crlf", utf16(&crlf)),
        ("utf-8 crlf", crlf.into_bytes()),
    ]
}

#[test]
fn every_format_reads_the_same_in_every_encoding() {
    for (want, text) in SAMPLES {
        let (kind, base) = run(text.as_bytes(), "x");
        assert_eq!(kind, *want);
        assert!(!base.observations.is_empty(), "{want:?} gave nothing");
        assert!(base.warnings.is_empty(), "{want:?}: {:?}", base.warnings);
        for (name, bytes) in variants(text) {
            let (k, p) = run(&bytes, "x");
            assert_eq!(k, *want, "{want:?} as {name}");
            assert_eq!(p, base, "{want:?} as {name}");
        }
    }
}

#[test]
fn corpus_reads_the_same_in_every_encoding() {
    let Some(dir) = corpus_text() else { return };
    for f in files_under(&dir) {
        if f.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let (_, base) = run(text.as_bytes(), "x");
        for (name, bytes) in variants(&text) {
            assert_eq!(run(&bytes, "x").1, base, "{} as {name}", f.display());
        }
    }
}

#[test]
fn sample_facts_are_what_they_show() {
    let (_, p) = run(SAMPLES[0].1.as_bytes(), "x");
    let s = snapshots(&p);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].display_name, "Jürgen''s job");
    assert_eq!(s[0].proxy_list.as_deref(), Some("http://proxy:8080"));
    assert_eq!(s[0].proxy_bypass_list.as_deref(), Some("<local>"));
    assert_eq!(s[0].error_code, Some(HResult(0x8020_0013)));
    assert_eq!(
        s[0].creation_time,
        When::Local("2018-12-20T19:26:28".parse().unwrap())
    );
    assert!(p.observations.iter().any(|o| matches!(
        &o.fact,
        Fact::TransferError { proxy: Some(px), url, .. } if px == "http://proxy:8080" && url == "http://wsus:8530/Content/a.cab"
    )));
    let (_, p) = run(SAMPLES[2].1.as_bytes(), "x");
    assert!(p.observations.iter().any(|o| matches!(
        &o.fact,
        Fact::ServiceStartFailure { error: Some(h), .. } if *h == HResult(0x8007_0422)
    )));
}

// ---------------------------------------------------------------------------------------------
// Property tests.

/// Real-looking lines of every format, mixed at random.
const LINES: &[&str] = &[
    "BITSADMIN version 3.0 [ 7.5.7601 ]",
    "GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: myDownloadJob",
    "GUID: {40918B85-1BF6-417D-A8C5-D6A8E55D0F3A} DISPLAY: 'Microsoft Outlook Offline",
    "TYPE: DOWNLOAD STATE: TRANSIENT_ERROR OWNER: domain\\user",
    "PRIORITY: NORMAL FILES: 0 / 1 BYTES: 0 / UNKNOWN",
    "CREATION TIME: 12/17/2002 1:21:17 PM MODIFICATION TIME: 12/17/2002 1:21:30 PM",
    "COMPLETION TIME: 12/20/2018 7:26:30 PM ACL FLAGS:",
    "RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 0",
    "PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL",
    "ERROR FILE:    https://downloadsrv/10mb.zip -> c:\\10mb.zip",
    "ERROR CODE:    0x80072ee7 - The server name or address could not be resolved",
    "ERROR CONTEXT: 0x00000005 - The error occurred while the remote file was being",
    "processed.",
    "JOB FILES:",
    "        0 / UNKNOWN WORKING https://downloadsrv/10mb.zip -> c:\\10mb.zip",
    "Peercaching flags",
    "\t Enable download from peers      :false",
    "owner elevated ?           false",
    "{6AF46E48-41D3-453F-B7AF-A694BBC823F7} job1 SUSPENDED 0 / 0 0 / 0",
    "Listed 2 job(s).",
    "MONITORING BACKGROUND COPY MANAGER(5 second refresh)",
    "C:\\>bitsadmin /geterror {482FCAF0-74BF-469B-8929-5CCD028C9499}",
    "JobId               : 873c4db1-4b60-4a49-bd62-0631aacd4099",
    "JobState            : TransientError",
    "FileList            : {http://srv/a.cab -> C:\\a.cab, ...}",
    "                      continued value",
    "JobId               DisplayName         TransferType JobState            OwnerAccount",
    "-----               -----------         ------------ --------            ------------",
    "Start-BitsTransfer : failed (Exception from HRESULT: 0x800704DD)",
    "[SC] OpenService FAILED 1060:",
    "SERVICE_NAME: bits",
    "        TYPE               : 20  WIN32_SHARE_PROCESS",
    "        STATE              : 4  RUNNING",
    "                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)",
    "        DEPENDENCIES       : RpcSs",
    "                           : EventSystem",
    "        FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds.",
    "SERVICE_SID_TYPE:  UNRESTRICTED",
    "Windows Registry Editor Version 5.00",
    "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]",
    "\"DependOnService\"=hex(7):52,00,70,00,63,00,\\",
    "  6e,00,74,00,00,00",
    "\"Start\"=dword:00000002",
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS",
    "    MaxJobsPerUser    REG_DWORD    0x3c",
    "    FailureActions    REG_BINARY    8051010000000000000000000200000014000000",
    "Current WinHTTP proxy settings:",
    "    Proxy Server(s) :  proxy.example:8080",
    "    Direct access (no proxy server).",
    "2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}",
    "2020/01/23 15:17:51.1594692 9852  628   DownloadManager *FAILED* [80244019] Error occurred while downloading update 4FED3B54-C444-49B9-950F-301402B8B6B2.200; notifying dependent calls.",
    "2020/01/23 15:17:51.1568965 9852  628   DownloadManager BITS job {0A0F1B98-4B97-4FB3-A7CD-7EB5AD8B9D3E} failed, updateId = 4FED3B54-C444-49B9-950F-301402B8B6B2.200, hr = 0x80190194.",
    "",
];

fn all_parsers(text: &str) {
    let src = Source {
        path: "p",
        host: "h",
    };
    let _ = sniff(text.as_bytes(), Some(text));
    for kind in [
        Kind::Bitsadmin,
        Kind::PowerShell,
        Kind::Sc,
        Kind::Reg,
        Kind::Netsh,
        Kind::WuLog,
    ] {
        let p = parse_kind(kind, text, &src);
        for o in &p.observations {
            if let Locator::Line(n) = o.evidence.at {
                assert!(n >= 1);
            }
        }
    }
}

/// A line from the pool, possibly cut at a random character.
fn line_strategy() -> impl Strategy<Value = String> {
    (0..LINES.len(), any::<bool>(), 0usize..200).prop_map(|(i, cut, at)| {
        let l = LINES[i];
        if cut {
            l.chars().take(at).collect()
        } else {
            l.to_string()
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_parser_panics_on_arbitrary_strings(s in "\\PC*") {
        all_parsers(&s);
    }

    #[test]
    fn no_parser_panics_on_arbitrary_bytes(b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let d = decode(&b);
        let _ = sniff(&b, None);
        all_parsers(&d.text);
    }

    #[test]
    fn no_parser_panics_on_mixed_real_lines(
        ls in proptest::collection::vec(line_strategy(), 0..60),
        crlf in any::<bool>(),
    ) {
        let text = ls.join(if crlf { "\r\n" } else { "\n" });
        all_parsers(&text);
    }
}

// --- bitsadmin verbose round trip -------------------------------------------------------------

const STATES: &[&str] = &[
    "QUEUED",
    "CONNECTING",
    "TRANSFERRING",
    "SUSPENDED",
    "ERROR",
    "TRANSIENT_ERROR",
    "TRANSFERRED",
    "ACKNOWLEDGED",
    "CANCELLED",
];

fn datetime() -> impl Strategy<Value = jiff::civil::DateTime> {
    (2000i16..2030, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60, 0i8..60).prop_map(
        |(y, mo, d, h, mi, s)| {
            jiff::civil::DateTime::new(y, mo, d, h, mi, s, 0).expect("valid date")
        },
    )
}

fn guid() -> impl Strategy<Value = Guid> {
    "[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
        .prop_map(|s| Guid::parse(&s).expect("generated GUID"))
}

fn snapshot() -> impl Strategy<Value = JobSnapshot> {
    let head = (
        guid(),
        "[A-Za-z0-9][A-Za-z0-9 _.-]{0,70}[A-Za-z0-9]",
        prop::sample::select(vec!["DOWNLOAD", "UPLOAD"]),
        prop::sample::select(STATES.to_vec()),
        prop::sample::select(vec![
            "NT AUTHORITY\\SYSTEM",
            "CONTOSO\\svc-wsus",
            "DOMAIN\\user",
        ]),
        prop::sample::select(vec!["FOREGROUND", "HIGH", "NORMAL", "LOW"]),
    );
    let counts = (
        0u64..5,
        1u64..5,
        any::<u32>(),
        prop::option::of(any::<u32>()),
    );
    let times = (datetime(), datetime(), prop::option::of(datetime()));
    let tail = (
        (any::<u32>(), any::<u32>(), 0u32..1000),
        prop::sample::select(vec!["PRECONFIG", "NO_PROXY", "OVERRIDE", "AUTODETECT"]),
        prop::option::of("http://proxy[0-9]{1,2}\\.example:[0-9]{2,4}( http://p2:8080)?"),
        prop::option::of("<local>(;\\*\\.contoso\\.com)?"),
        prop::option::of((0x8000_0001u32.., 1u32..9)),
        prop::option::of("C:\\\\notify\\.cmd [a-z]{1,8}"),
        proptest::collection::vec(
            (
                "https://[a-z]{3,12}\\.example\\.com/[A-Za-z0-9/_.-]{1,90}",
                "[A-Za-z0-9_]{1,40}",
            ),
            1..3,
        ),
    );
    (head, counts, times, tail).prop_map(
        |((job, name, ty, state, owner, prio), (fd, ft, bd, bt), (ct, mt, done), tail)| {
            let ((retry, nopro, errs), usage, plist, bypass, err, notify, files) = tail;
            let files: Vec<(String, String)> = files
                .into_iter()
                .map(|(u, l)| (u, format!("C:\\Users\\me\\Downloads\\{l}.bin")))
                .collect();
            JobSnapshot {
                job: Some(job),
                display_name: name,
                job_type: Some(ty.to_string()),
                state: Some(state.to_string()),
                owner: Some(owner.to_string()),
                priority: Some(prio.to_string()),
                files_transferred: Some(fd),
                files_total: Some(ft),
                bytes_transferred: Some(u64::from(bd)),
                bytes_total: bt.map(u64::from),
                creation_time: When::Local(ct),
                modification_time: When::Local(mt),
                completion_time: done.map_or(When::Unknown, When::Local),
                error_count: Some(errs),
                error_file: err.map(|_| files[0].0.clone()),
                error_code: err.map(|(hr, _)| HResult(hr)),
                error_context: err.map(|(_, c)| c),
                proxy_usage: Some(usage.to_string()),
                proxy_list: plist,
                proxy_bypass_list: bypass,
                retry_delay: Some(u64::from(retry)),
                no_progress_timeout: Some(u64::from(nopro)),
                notify_command: notify,
                files,
            }
        },
    )
}

fn fmt_time(w: When, locale: u8) -> String {
    let When::Local(t) = w else {
        return "UNKNOWN".to_string();
    };
    match locale {
        0 => {
            let (h12, ampm) = match t.hour() {
                0 => (12, "AM"),
                h @ 1..=11 => (h, "AM"),
                12 => (12, "PM"),
                h => (h - 12, "PM"),
            };
            format!(
                "{}/{}/{} {}:{:02}:{:02} {ampm}",
                t.month(),
                t.day(),
                t.year(),
                h12,
                t.minute(),
                t.second()
            )
        }
        1 => format!(
            "{:02}.{:02}.{} {:02}:{:02}:{:02}",
            t.day(),
            t.month(),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        _ => format!(
            "{}/{:02}/{:02} {}:{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
    }
}

/// Render a job the way `bitsadmin /list /verbose` prints it; `console` wraps lines at 80
/// columns as a console copy does, `win10` adds the newer fields and quotes the name.
fn render(s: &JobSnapshot, locale: u8, win10: bool, console: bool) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".to_string());
    let name = if win10 {
        format!("'{}'", s.display_name)
    } else {
        s.display_name.clone()
    };
    let mut lines = vec![
        format!("GUID: {} DISPLAY: {name}", s.job.as_ref().unwrap()),
        format!(
            "TYPE: {} STATE: {} OWNER: {}",
            s.job_type.as_ref().unwrap(),
            s.state.as_ref().unwrap(),
            s.owner.as_ref().unwrap()
        ),
        format!(
            "PRIORITY: {} FILES: {} / {} BYTES: {} / {}",
            s.priority.as_ref().unwrap(),
            s.files_transferred.unwrap(),
            s.files_total.unwrap(),
            s.bytes_transferred.unwrap(),
            s.bytes_total
                .map_or("UNKNOWN".to_string(), |b| b.to_string())
        ),
        format!(
            "CREATION TIME: {} MODIFICATION TIME: {}",
            fmt_time(s.creation_time, locale),
            fmt_time(s.modification_time, locale)
        ),
        format!(
            "COMPLETION TIME: {}{}",
            fmt_time(s.completion_time, locale),
            if win10 { " ACL FLAGS:" } else { "" }
        ),
        "NOTIFY INTERFACE: UNREGISTERED NOTIFICATION FLAGS: 3".to_string(),
        format!(
            "RETRY DELAY: {} NO PROGRESS TIMEOUT: {} ERROR COUNT: {}",
            s.retry_delay.unwrap(),
            s.no_progress_timeout.unwrap(),
            s.error_count.unwrap()
        ),
        format!(
            "PROXY USAGE: {} PROXY LIST: {} PROXY BYPASS LIST: {}",
            s.proxy_usage.as_ref().unwrap(),
            opt(&s.proxy_list),
            opt(&s.proxy_bypass_list)
        ),
    ];
    if let Some(hr) = s.error_code {
        lines.push(format!(
            "ERROR FILE:    {} -> {}",
            s.error_file.as_ref().unwrap(),
            s.files[0].1
        ));
        lines.push(format!(
            "ERROR CODE:    0x{:08x} - The server name or address could not be resolved",
            hr.0
        ));
        lines.push(format!(
            "ERROR CONTEXT: 0x{:08x} - The error occurred while the remote file was being",
            s.error_context.unwrap()
        ));
        lines.push("processed.".to_string());
    }
    lines.push("DESCRIPTION: a job".to_string());
    lines.push("JOB FILES:".to_string());
    for (u, l) in &s.files {
        let indent = if win10 { "        " } else { "" };
        lines.push(format!("{indent}0 / UNKNOWN WORKING {u} -> {l}"));
    }
    lines.push(format!(
        "NOTIFICATION COMMAND LINE: {}",
        s.notify_command.as_deref().unwrap_or("none")
    ));
    if win10 {
        lines.push("owner MIC integrity level: HIGH".to_string());
        lines.push("owner elevated ?           true".to_string());
        lines.push(String::new());
        lines.push("Peercaching flags".to_string());
        lines.push("\t Enable download from peers      :false".to_string());
        lines.push("\t Enable serving to peers         :false".to_string());
        lines.push(String::new());
        lines.push("CUSTOM HEADERS: NULL".to_string());
    }
    let mut out = String::new();
    for l in lines {
        if console && l.chars().count() > 80 {
            let chars: Vec<char> = l.chars().collect();
            for chunk in chars.chunks(80) {
                out.extend(chunk);
                out.push('\n');
            }
        } else {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out.push('\n');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn bitsadmin_verbose_round_trips(
        jobs in proptest::collection::vec(snapshot(), 1..4),
        locale in 0u8..3,
        win10 in any::<bool>(),
        console in any::<bool>(),
    ) {
        let mut text = String::from("\nBITSADMIN version 3.0\nBITS administration utility.\n(C) Copyright Microsoft Corp.\n\n");
        for j in &jobs {
            text.push_str(&render(j, locale, win10, console));
        }
        text.push_str(&format!("Listed {} job(s).\n", jobs.len()));
        let (kind, p) = run(text.as_bytes(), "rt");
        prop_assert_eq!(kind, Kind::Bitsadmin);
        prop_assert!(p.warnings.is_empty(), "{:?}\n{}", p.warnings, text);
        let got: Vec<JobSnapshot> = snapshots(&p).into_iter().cloned().collect();
        prop_assert_eq!(&got, &jobs, "{}", text);
        let errors = p.observations.iter().filter(|o| matches!(o.fact, Fact::TransferError { .. })).count();
        prop_assert_eq!(errors, jobs.iter().filter(|j| j.error_code.is_some()).count());
    }
}

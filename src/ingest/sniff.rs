//! Decide what an input is from its content, never from its name.

use serde::Serialize;

/// The kinds of input bitsdoctor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Evtx,
    Bitsadmin,
    PowerShell,
    Sc,
    Reg,
    Netsh,
    WuLog,
    /// The manifest `bitsdoctor collect` writes.
    Manifest,
    Zip,
    Unknown,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Evtx => "evtx",
            Kind::Bitsadmin => "bitsadmin",
            Kind::PowerShell => "powershell",
            Kind::Sc => "sc",
            Kind::Reg => "reg",
            Kind::Netsh => "netsh",
            Kind::WuLog => "wulog",
            Kind::Manifest => "collect_manifest",
            Kind::Zip => "zip",
            Kind::Unknown => "unknown",
        }
    }
}

/// How many lines of the head are looked at.
const HEAD_LINES: usize = 400;

/// Sniff an input from its first bytes and, for text, its decoded head (pass `None` to have the
/// bytes decoded here). Binary magic wins; then the strongest text marker found in the head.
pub fn sniff(bytes_head: &[u8], text_head: Option<&str>) -> Kind {
    if bytes_head.starts_with(b"ElfFile\0") {
        return Kind::Evtx;
    }
    if bytes_head.starts_with(b"PK\x03\x04") || bytes_head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    match text_head {
        Some(t) => sniff_text(t),
        None => sniff_text(&super::decode::decode(bytes_head).text),
    }
}

/// Evidence collected over the head; strong markers decide alone, weak ones by count.
#[derive(Default)]
struct Marks {
    reg_header: bool,
    netsh: bool,
    bits_strong: bool,
    bits_list_lines: usize,
    sc_service: bool,
    sc_fields: usize,
    sc_tag: bool,
    ps_fields: usize,
    ps_table: bool,
    reg_key: bool,
    reg_values: usize,
    /// `reg query` of a key that does not exist (no policy configured).
    reg_missing: bool,
    wulog_lines: usize,
    binary: usize,
}

fn sniff_text(text: &str) -> Kind {
    let mut m = Marks::default();
    for line in text.lines().take(HEAD_LINES) {
        let line = line.trim_end_matches('\r');
        let t = line.trim_start_matches('\u{FEFF}').trim();
        if t.is_empty() {
            continue;
        }
        m.binary += line
            .chars()
            .filter(|c| *c == '\0' || *c == '\u{FFFD}')
            .count();
        if t.starts_with("\"schema\": \"bitsdoctor/collect/") {
            return Kind::Manifest;
        }
        if t == "Windows Registry Editor Version 5.00" || t == "REGEDIT4" {
            m.reg_header = true;
        } else if crate::parse::netsh::header(t).is_some() {
            m.netsh = true;
        } else if t.starts_with("BITSADMIN version")
            || (t.starts_with("GUID: {") && t.contains(" DISPLAY:"))
            || crate::parse::bitsadmin::is_display_line(t)
            || is_listed_line(t)
            || t.starts_with("MONITORING BACKGROUND COPY MANAGER")
            || t.get(..12)
                .is_some_and(|p| p.eq_ignore_ascii_case("created job "))
        {
            m.bits_strong = true;
        } else if t.starts_with('{') && t.get(38..39) == Some(" ") && t.as_bytes()[37] == b'}' {
            m.bits_list_lines += 1;
        } else if t.starts_with("SERVICE_NAME:") {
            m.sc_service = true;
        } else if t.starts_with("[SC] ") {
            m.sc_tag = true;
        } else if t.starts_with("SERVICE_SID_TYPE:") || is_sc_field(line) {
            m.sc_fields += 1;
        } else if is_ps_field(t) {
            m.ps_fields += 1;
        } else if (t.starts_with("JobId") && t.contains("JobState"))
            || t.starts_with("Start-BitsTransfer :")
            || t.starts_with("Get-BitsTransfer :")
        {
            m.ps_table = true;
        } else if t.starts_with("ERROR: The system was unable to find the specified registry key") {
            m.reg_missing = true;
        } else if t.starts_with("HKEY_") || t.starts_with("[HKEY_") {
            m.reg_key = true;
        } else if line.starts_with("    ") && t.contains("    REG_") {
            m.reg_values += 1;
        } else if is_wulog_line(line) {
            m.wulog_lines += 1;
        }
    }
    if m.binary > 16 {
        return Kind::Unknown;
    }
    if m.reg_header {
        Kind::Reg
    } else if m.netsh {
        Kind::Netsh
    } else if m.bits_strong {
        Kind::Bitsadmin
    } else if m.sc_tag || (m.sc_service && m.sc_fields > 0) {
        Kind::Sc
    } else if m.ps_fields >= 2 || m.ps_table {
        Kind::PowerShell
    } else if m.reg_key && m.reg_values > 0 {
        Kind::Reg
    } else if m.bits_list_lines > 0 {
        Kind::Bitsadmin
    } else if m.wulog_lines > 0 {
        Kind::WuLog
    } else if m.reg_missing {
        Kind::Reg
    } else {
        Kind::Unknown
    }
}

fn is_listed_line(t: &str) -> bool {
    t.strip_prefix("Listed ")
        .and_then(|r| r.split_once(' '))
        .is_some_and(|(n, rest)| n.bytes().all(|b| b.is_ascii_digit()) && rest.starts_with("job"))
}

const SC_FIELDS: &[&str] = &[
    "TYPE",
    "STATE",
    "START_TYPE",
    "ERROR_CONTROL",
    "BINARY_PATH_NAME",
    "WIN32_EXIT_CODE",
    "SERVICE_START_NAME",
    "RESET_PERIOD",
    "PRIVILEGES",
    "DEPENDENCIES",
];

fn is_sc_field(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("        ") else {
        return false;
    };
    SC_FIELDS.iter().any(|f| {
        rest.strip_prefix(f)
            .is_some_and(|r| r.starts_with(' ') && r.trim_start().starts_with(':'))
    })
}

fn is_ps_field(t: &str) -> bool {
    [
        "JobId",
        "JobState",
        "TransferType",
        "OwnerAccount",
        "InternalErrorCode",
    ]
    .iter()
    .any(|f| {
        t.strip_prefix(f)
            .is_some_and(|r| r.starts_with(' ') && r.trim_start().starts_with(':'))
    })
}

/// `YYYY-MM-DD<TAB or space>HH:MM:SS` (legacy) or `yyyy/MM/dd HH:mm:ss.fffffff ` (Get-WindowsUpdateLog).
fn is_wulog_line(line: &str) -> bool {
    let b = line.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let sep = b[4];
    (sep == b'-' || sep == b'/')
        && b[7] == sep
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && (b[10] == b'\t' || b[10] == b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (b[19] == b':' || b[19] == b'.' || b[19] == b'\t' || b[19] == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(text: &str) -> Kind {
        sniff(text.as_bytes(), Some(text))
    }

    #[test]
    fn collect_manifest_by_its_schema_line_only() {
        let manifest = "{\r\n  \"schema\": \"bitsdoctor/collect/v1\",\r\n  \"host\": \"WS01\",\r\n  \"steps\": [\r\n    {\r\n      \"file\": \"bitsadmin.txt\",\r\n      \"command\": \"bitsadmin.exe /list /allusers /verbose\"\r\n    }\r\n  ]\r\n}";
        assert_eq!(k(manifest), Kind::Manifest);
        assert_eq!(
            k(&manifest
                .replace("collect/v1", "report/v1")
                .replace("bitsdoctor/collect", "x")),
            Kind::Unknown
        );
    }

    #[test]
    fn magic() {
        assert_eq!(sniff(b"ElfFile\0\0\0", None), Kind::Evtx);
        assert_eq!(sniff(b"PK\x03\x04rest", None), Kind::Zip);
        assert_eq!(sniff(b"", None), Kind::Unknown);
        assert_eq!(
            sniff(&[0u8, 1, 2, 3, 0xFF, 0xFE, 0, 0, 7, 9][..], None),
            Kind::Unknown
        );
    }

    #[test]
    fn bitsadmin_forms() {
        assert_eq!(
            k("\nBITSADMIN version 3.0 [ 7.5.7601 ]\nBITS administration utility.\n"),
            Kind::Bitsadmin
        );
        assert_eq!(
            k("GUID: {482FCAF0-74BF-469B-8929-5CCD028C9499} DISPLAY: myDownloadJob\n"),
            Kind::Bitsadmin
        );
        assert_eq!(
            k("{6AF46E48-41D3-453F-B7AF-A694BBC823F7} job1 SUSPENDED 0 / 0 0 / 0\n\nListed 1 job(s).\n"),
            Kind::Bitsadmin
        );
        assert_eq!(
            k("{DC61A20C-44AB-4768-B175-8000D02545B9} canceled.\n"),
            Kind::Bitsadmin
        );
        assert_eq!(
            k("created job {C775D194-090F-431F-B5FB-8334D00D1CB6}\n"),
            Kind::Bitsadmin
        );
        assert_eq!(
            k("MONITORING BACKGROUND COPY MANAGER(5 second refresh)\n"),
            Kind::Bitsadmin
        );
        assert_eq!(k("Listed 0 job(s).\n"), Kind::Bitsadmin);
        assert_eq!(
            k("DISPLAY: 'Nightly sync' TYPE: DOWNLOAD STATE: TRANSIENT_ERROR\nPRIORITY: NORMAL FILES: 0 / 1 BYTES: 0 / UNKNOWN\n"),
            Kind::Bitsadmin
        );
    }

    #[test]
    fn powershell_forms() {
        assert_eq!(
            k("\nJobId       : 873c4db1-4b60-4a49-bd62-0631aacd4099\nDisplayName : MyTransfer\nJobState    : Transferred\n"),
            Kind::PowerShell
        );
        assert_eq!(
            k("JobId               DisplayName         TransferType JobState            OwnerAccount\n-----               -----------         ------------ --------            ------------\n"),
            Kind::PowerShell
        );
        assert_eq!(
            k("Start-BitsTransfer : The operation being requested was not performed (Exception from HRESULT: 0x800704DD)\n"),
            Kind::PowerShell
        );
    }

    #[test]
    fn sc_reg_netsh() {
        assert_eq!(
            k("[SC] QueryServiceConfig SUCCESS\n\nSERVICE_NAME: bits\n        TYPE               : 20  WIN32_SHARE_PROCESS\n"),
            Kind::Sc
        );
        assert_eq!(
            k("SERVICE_NAME: bits\n        TYPE               : 20  WIN32_SHARE_PROCESS\n        STATE              : 4  RUNNING\n"),
            Kind::Sc
        );
        assert_eq!(k("[SC] OpenService FAILED 1060:\n"), Kind::Sc);
        assert_eq!(
            k("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE]\r\n"),
            Kind::Reg
        );
        assert_eq!(
            k("\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS\r\n    MaxJobsPerUser    REG_DWORD    0x3c\r\n"),
            Kind::Reg
        );
        assert_eq!(
            k("\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n"),
            Kind::Netsh
        );
        for localized in [
            "\nAktuelle WinHTTP-Proxyeinstellungen:\n\n    Proxyserver:  p:3128\n",
            "\nParamètres de proxy WinHTTP actuels\u{A0}:\n\n    Accès direct (sans serveur proxy).\n",
            "\n現在の WinHTTP プロキシ設定:\n\n    直接アクセス (プロキシ サーバーなし)。\n",
        ] {
            assert_eq!(k(localized), Kind::Netsh, "{localized}");
        }
        // `reg query` of a policy key nobody created: a registry capture saying "no policy".
        assert_eq!(
            k("ERROR: The system was unable to find the specified registry key or value.\r\n"),
            Kind::Reg
        );
    }

    #[test]
    fn wulog_forms() {
        assert_eq!(
            k("2013-01-27\t10:55:33:204\t1160\t3ca0\tDnldMgr\t  * BITS job initialized, JobId = {082DB2AF-902B-4457-810C-62B6E2D3A034}\n"),
            Kind::WuLog
        );
        assert_eq!(
            k("2020/01/23 15:17:51.1594692 9852  628   DownloadManager *FAILED* [80244019] Error occurred while downloading update 4FED3B54-C444-49B9-950F-301402B8B6B2.200; notifying dependent calls.\n"),
            Kind::WuLog
        );
        assert_eq!(k("2008-09-11 15:08:57:651 4908 738 PT WARNING: Exceeded max server round trips: 0x80244010\n"), Kind::WuLog);
    }

    #[test]
    fn utf16_bytes_without_text_head() {
        let mut b = vec![0xFF, 0xFE];
        b.extend(
            "Current WinHTTP proxy settings:\r\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        );
        assert_eq!(sniff(&b, None), Kind::Netsh);
    }

    #[test]
    fn unrelated_text_is_unknown() {
        assert_eq!(k("hello world\nthis is a readme\n"), Kind::Unknown);
    }
}

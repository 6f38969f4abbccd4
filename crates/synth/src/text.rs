//! The text captures of one host, in the layouts of bits-facts section 3.

use crate::events::Built;
use crate::{ConfigSpec, HostSpec};
use jiff::Timestamp;

/// `(file name, bytes)` for every capture `host.captures` asks for.
pub(crate) fn captures(host: &HostSpec, built: &Built, _index: usize) -> Vec<(String, Vec<u8>)> {
    let c = host.captures;
    let cfg = &built.config;
    let mut out = Vec::new();
    if c.bitsadmin {
        out.push(("bitsadmin.txt".into(), ascii(&bitsadmin(host, built))));
    }
    if c.sc_qc {
        out.push(("sc-qc-bits.txt".into(), ascii(&sc_qc(cfg))));
    }
    if c.sc_query {
        out.push((
            "sc-query-bits.txt".into(),
            ascii(&sc_query(
                built.service_running,
                cfg.query_type.unwrap_or(cfg.service_type),
            )),
        ));
    }
    if c.sc_extra {
        out.push(("sc-qprivs-bits.txt".into(), ascii(&sc_qprivs(cfg))));
        out.push(("sc-qfailure-bits.txt".into(), ascii(&sc_qfailure(cfg))));
        out.push(("sc-qsidtype-bits.txt".into(), ascii(&sc_qsidtype(cfg))));
    }
    if c.policy_reg {
        out.push((
            "bits-policy.reg".into(),
            utf16_bom(&policy_reg(&host.policy)),
        ));
    }
    if c.service_reg {
        out.push(("bits-service.reg".into(), utf16_bom(&service_reg(cfg))));
    }
    if c.reg_query {
        out.push(("reg-query-bits.txt".into(), ascii(&service_reg_query(cfg))));
        out.push((
            "reg-query-bits-policy.txt".into(),
            ascii(&policy_reg_query(&host.policy)),
        ));
    }
    if !host.sc_errors.is_empty() {
        out.push((
            "sc-start-bits.txt".into(),
            ascii(&sc_errors(&host.sc_errors)),
        ));
    }
    if c.winhttp {
        out.push((
            "winhttp-proxy.txt".into(),
            ascii(&netsh(host.winhttp_proxy.as_deref())),
        ));
    }
    if host.windows_update_log {
        out.push((
            "WindowsUpdate.log".into(),
            ascii(&windows_update_log(host, built)),
        ));
    }
    out
}

/// A legacy (Windows 7 / 8.1) `WindowsUpdate.log`: `date<TAB>time:ms<TAB>pid<TAB>tid<TAB>
/// component<TAB>text`, the machine's local time (the hosts' clocks are on UTC).
fn windows_update_log(host: &HostSpec, built: &Built) -> String {
    let mut lines: Vec<(Timestamp, String)> = Vec::new();
    for u in &host.updates {
        let (Some(j), Some(spec)) = (built.jobs.get(u.job), host.jobs.get(u.job)) else {
            continue;
        };
        let id = j.id.to_ascii_uppercase();
        let ms = jiff::SignedDuration::from_millis;
        lines.push((
            j.created - ms(16),
            format!(
                "***********  DnldMgr: New download job [UpdateId = {{{}}}.{}]  ***********",
                u.guid.to_ascii_uppercase(),
                u.revision
            ),
        ));
        lines.push((j.created, format!("  * BITS job initialized, JobId = {id}")));
        lines.push((
            j.created + ms(3),
            format!(
                "  * Downloading from {} to {} (full file).",
                spec.url, spec.local_path
            ),
        ));
        if let Some(p) = &spec.proxy {
            lines.push((
                j.created + ms(16),
                format!("BITS job {id} using proxy = {p}, bypass = <NULL>"),
            ));
        }
        if let Some(done) = j.completed {
            lines.push((done, format!("BITS job {id} completed successfully")));
        } else if let Some((hr, _)) = j.error {
            lines.push((
                j.modified,
                format!(
                    "BITS job {id} failed, updateId = {{{}}}.{}, hr = 0x{hr:08X}. File URL = {}, local path = {}",
                    u.guid.to_ascii_uppercase(),
                    u.revision,
                    spec.url,
                    spec.local_path
                ),
            ));
        }
    }
    lines.sort_by_key(|l| l.0);
    let mut out = String::new();
    for (t, text) in lines {
        let dt = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
        out.push_str(&format!(
            "{}\t{:02}:{:02}:{:02}:{:03}\t1160\t3ca0\tDnldMgr\t{text}\r\n",
            dt.date(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.subsec_nanosecond() / 1_000_000
        ));
    }
    out
}

fn ascii(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// UTF-16LE with a BOM, as `reg export` writes.
fn utf16_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// `12/20/2018 7:26:28 PM` (en-US short date and long time; the hosts' clocks are on UTC).
pub(crate) fn us_time(t: Timestamp) -> String {
    let dt = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let (h12, ampm) = match dt.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        dt.month(),
        dt.day(),
        dt.year(),
        h12,
        dt.minute(),
        dt.second(),
        ampm
    )
}

/// The message `bitsadmin` prints after an error code.
fn message(hr: u32) -> &'static str {
    match hr {
        0x8020_0013 => "The server does not support the necessary HTTP protocol. Background Intelligent Transfer Service (BITS) requires that the server support the Range protocol header.",
        0x8020_0011 => "The server did not return the file size. The URL might point to dynamic content. The Content-Length header is not available in the server's HTTP reply.",
        0x8019_0193 => "HTTP status 403: The client does not have sufficient access rights to the requested server object.",
        0x8019_0194 => "HTTP status 404: The requested URL does not exist on the server.",
        0x8007_2EE7 => "The server name or address could not be resolved",
        0x8007_2EFE => "The connection with the server was terminated abnormally",
        0x8007_2EFD => "A connection with the server could not be established",
        0x8007_2EE2 => "The operation timed out",
        _ => "Unknown error",
    }
}

fn context_text(ctx: u32) -> &'static str {
    match ctx {
        1 => "An unknown error occurred.",
        2 => "The error occurred in the Background Intelligent Transfer Service (BITS) queue manager.",
        4 => "The error occurred while the local file was being processed. Verify that the file is not in use, and then try again.",
        5 => "The error occurred while the remote file was being processed.",
        6 => "The error occurred in the transport layer. The client could not connect to the server.",
        _ => "The error context is unknown.",
    }
}

/// `bitsadmin /list /allusers /verbose` as redirected to a file (no console wrapping).
fn bitsadmin(host: &HostSpec, built: &Built) -> String {
    let mut o = String::new();
    let version = host
        .bits_version
        .as_ref()
        .map_or(String::new(), |v| format!(" [ {v} ]"));
    o.push_str(&format!("\r\nBITSADMIN version 3.0{version}\r\nBITS administration utility.\r\n(C) Copyright Microsoft Corp.\r\n\r\n"));
    let mut n = 0;
    for job in built.jobs.iter() {
        let spec = &host.jobs[job.spec];
        if !spec.in_bitsadmin || job.state == "CANCELLED" {
            continue;
        }
        n += 1;
        let files_done = u32::from(job.state == "TRANSFERRED");
        let total = job
            .bytes_total
            .map_or("UNKNOWN".to_string(), |b| b.to_string());
        let completion = job.completed.map_or("UNKNOWN".to_string(), us_time);
        let system = spec.owner.eq_ignore_ascii_case("NT AUTHORITY\\SYSTEM");
        let lines = [
            format!(
                "GUID: {} DISPLAY: '{}'",
                job.id.to_ascii_uppercase(),
                spec.title
            ),
            format!("TYPE: DOWNLOAD STATE: {} OWNER: {}", job.state, spec.owner),
            format!(
                "PRIORITY: {} FILES: {files_done} / 1 BYTES: {} / {total}",
                if system { "NORMAL" } else { "FOREGROUND" },
                job.bytes_done
            ),
            format!(
                "CREATION TIME: {} MODIFICATION TIME: {}",
                us_time(job.created),
                us_time(job.modified)
            ),
            format!("COMPLETION TIME: {completion} ACL FLAGS: "),
            format!(
                "NOTIFY INTERFACE: {} NOTIFICATION FLAGS: 3",
                if system { "REGISTERED" } else { "UNREGISTERED" }
            ),
            format!(
                "RETRY DELAY: 600 NO PROGRESS TIMEOUT: {} ERROR COUNT: {}",
                spec.no_progress_timeout.unwrap_or(1_209_600),
                job.error_count
            ),
            "PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL".to_string(),
        ];
        for l in lines {
            o.push_str(&l);
            o.push_str("\r\n");
        }
        if let Some((hr, ctx)) = job.error {
            o.push_str(&format!(
                "ERROR FILE:    {} -> {}\r\nERROR CODE:    0x{hr:08x} - {}\r\nERROR CONTEXT: 0x{ctx:08x} - {}\r\n",
                spec.url,
                spec.local_path,
                message(hr),
                context_text(ctx)
            ));
        }
        o.push_str("DESCRIPTION: \r\nJOB FILES:\r\n");
        o.push_str(&format!(
            "\t{} / {total} {} {} -> {}\r\n",
            job.bytes_done,
            if job.state == "TRANSFERRED" {
                "TRANSFERRED"
            } else {
                "WORKING"
            },
            spec.url,
            spec.local_path
        ));
        o.push_str(&format!(
            "NOTIFICATION COMMAND LINE: {}\r\n",
            spec.notify_command.as_deref().unwrap_or("none")
        ));
        o.push_str(&format!(
            "owner MIC integrity level: {}\r\nowner elevated ?           {}\r\n",
            if system { "SYSTEM" } else { "MEDIUM" },
            if system { "true" } else { "false" }
        ));
        o.push_str("\r\nPeercaching flags\r\n\tEnable download from peers      :false\r\n\tEnable serving to peers         :false\r\n\r\n");
        o.push_str("CUSTOM HEADERS: NULL\r\n\r\n");
    }
    for (id, owner, state, created) in &built.queued {
        n += 1;
        let system = owner.eq_ignore_ascii_case("NT AUTHORITY\\SYSTEM");
        let lines = [
            format!("GUID: {} DISPLAY: 'sync'", id.to_ascii_uppercase()),
            format!("TYPE: DOWNLOAD STATE: {state} OWNER: {owner}"),
            "PRIORITY: NORMAL FILES: 0 / 1 BYTES: 0 / UNKNOWN".to_string(),
            format!(
                "CREATION TIME: {} MODIFICATION TIME: {}",
                us_time(*created),
                us_time(*created)
            ),
            "COMPLETION TIME: UNKNOWN ACL FLAGS: ".to_string(),
            format!(
                "NOTIFY INTERFACE: {} NOTIFICATION FLAGS: 3",
                if system { "REGISTERED" } else { "UNREGISTERED" }
            ),
            "RETRY DELAY: 600 NO PROGRESS TIMEOUT: 1209600 ERROR COUNT: 0".to_string(),
            "PROXY USAGE: PRECONFIG PROXY LIST: NULL PROXY BYPASS LIST: NULL".to_string(),
            "DESCRIPTION: ".to_string(),
            "JOB FILES:".to_string(),
            "\t0 / UNKNOWN WORKING http://sync.contoso.local/feed.xml -> C:\\ProgramData\\Sync\\feed.xml".to_string(),
            "NOTIFICATION COMMAND LINE: none".to_string(),
        ];
        for l in lines {
            o.push_str(&l);
            o.push_str("\r\n");
        }
        o.push_str("\r\n");
    }
    o.push_str(&format!("Listed {n} job(s).\r\n"));
    o
}

/// Failed `sc` commands as the console shows them.
fn sc_errors(errors: &[(String, u32)]) -> String {
    let mut o = String::new();
    for (op, code) in errors {
        let verb = match op.as_str() {
            "StartService" => "start",
            "OpenService" => "qc",
            _ => "config",
        };
        let text = match code {
            1058 => "The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.",
            1060 => "The specified service does not exist as an installed service.",
            1068 => "The dependency service or group failed to start.",
            1075 => "The dependency service does not exist or has been marked for deletion.",
            1083 => "The executable program that this service is configured to run in does not implement the service.",
            2 => "The system cannot find the file specified.",
            _ => "The operation failed.",
        };
        o.push_str(&format!(
            "C:\\Windows\\system32>sc {verb} bits\r\n[SC] {op} FAILED {code}:\r\n\r\n{text}\r\n\r\n"
        ));
    }
    o
}

fn type_text(t: u32) -> String {
    match t {
        0x10 => "10  WIN32_OWN_PROCESS".into(),
        0x20 => "20  WIN32_SHARE_PROCESS".into(),
        0x30 => "30  WIN32".into(),
        0x110 => "110  WIN32_OWN_PROCESS  (interactive)".into(),
        other => format!("{other:x}"),
    }
}

fn expand(path: &str) -> String {
    path.replace("%SystemRoot%", "C:\\WINDOWS")
        .replace("%systemroot%", "C:\\WINDOWS")
}

/// `sc qc bits`.
fn sc_qc(c: &ConfigSpec) -> String {
    let start = match (c.start, c.delayed_auto) {
        (2, true) => "2   AUTO_START  (DELAYED)".to_string(),
        (2, false) => "2   AUTO_START".to_string(),
        (3, _) => "3   DEMAND_START".to_string(),
        (4, _) => "4   DISABLED".to_string(),
        (n, _) => n.to_string(),
    };
    let error = match c.error_control {
        0 => "0   IGNORE".to_string(),
        1 => "1   NORMAL".to_string(),
        2 => "2   SEVERE".to_string(),
        3 => "3   CRITICAL".to_string(),
        n => n.to_string(),
    };
    let mut o = String::from("[SC] QueryServiceConfig SUCCESS\r\n\r\nSERVICE_NAME: bits\r\n");
    let f = |o: &mut String, label: &str, v: &str| {
        o.push_str(&format!("        {label:<19}: {v}\r\n"));
    };
    f(&mut o, "TYPE", &type_text(c.service_type));
    f(&mut o, "START_TYPE", &start);
    f(&mut o, "ERROR_CONTROL", &error);
    f(&mut o, "BINARY_PATH_NAME", &expand(&c.image_path));
    o.push_str("        LOAD_ORDER_GROUP   : \r\n");
    f(&mut o, "TAG", "0");
    f(&mut o, "DISPLAY_NAME", crate::BITS_DISPLAY_NAME);
    let mut deps = c.dependencies.iter();
    f(
        &mut o,
        "DEPENDENCIES",
        deps.next().map_or("", |s| s.as_str()),
    );
    for d in deps {
        o.push_str(&format!("                           : {d}\r\n"));
    }
    f(&mut o, "SERVICE_START_NAME", &c.object_name);
    o
}

/// `sc query bits`.
fn sc_query(running: bool, service_type: u32) -> String {
    let (state, flags, exit) = if running {
        (
            "4  RUNNING",
            "\r\n                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)",
            "0  (0x0)",
        )
    } else {
        ("1  STOPPED", "", "1077  (0x435)")
    };
    format!(
        "\r\nSERVICE_NAME: bits\r\n        TYPE               : {}\r\n        STATE              : {state}{flags}\r\n        WIN32_EXIT_CODE    : {exit}\r\n        SERVICE_EXIT_CODE  : 0  (0x0)\r\n        CHECKPOINT         : 0x0\r\n        WAIT_HINT          : 0x0\r\n",
        type_text(service_type)
    )
}

/// `sc qprivs bits`.
fn sc_qprivs(c: &ConfigSpec) -> String {
    let mut o = String::from("[SC] QueryServiceConfig2 SUCCESS\r\n\r\nSERVICE_NAME: bits\r\n");
    for (i, p) in c.privileges.iter().enumerate() {
        let label = if i == 0 { "PRIVILEGES" } else { "" };
        o.push_str(&format!("        {label:<17}: {p}\r\n"));
    }
    o
}

/// `sc qfailure bits`.
fn sc_qfailure(c: &ConfigSpec) -> String {
    let mut o = format!(
        "[SC] QueryServiceConfig2 SUCCESS\r\n\r\nSERVICE_NAME: bits\r\n        RESET_PERIOD (in seconds)    : {}\r\n        REBOOT_MESSAGE               : \r\n        COMMAND_LINE                 : \r\n",
        c.reset_period
    );
    for (i, (action, delay)) in c.failure_actions.iter().enumerate() {
        let word = match action {
            1 => "RESTART",
            2 => "REBOOT",
            3 => "RUN PROCESS",
            _ => "NONE",
        };
        let label = if i == 0 {
            "        FAILURE_ACTIONS              : "
        } else {
            "                                       "
        };
        o.push_str(&format!(
            "{label}{word} -- Delay = {delay} milliseconds.\r\n"
        ));
    }
    o
}

/// `sc qsidtype bits`.
fn sc_qsidtype(c: &ConfigSpec) -> String {
    let t = match c.sid_type {
        0 => "NONE",
        1 => "UNRESTRICTED",
        _ => "RESTRICTED",
    };
    format!(
        "[SC] QueryServiceConfig2 SUCCESS\r\n\r\nSERVICE_NAME: bits\r\nSERVICE_SID_TYPE:  {t}\r\n"
    )
}

fn reg_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `"Name"=hex(N):..` wrapped as `reg export` wraps it (no line past 80 columns).
fn reg_hex(name: &str, kind: &str, bytes: &[u8]) -> String {
    let head = format!("\"{}\"={kind}:", reg_escape(name));
    let mut o = head.clone();
    let mut len = head.len();
    for (i, b) in bytes.iter().enumerate() {
        o.push_str(&format!("{b:02x}"));
        if i + 1 == bytes.len() {
            break;
        }
        o.push(',');
        len += 3;
        if len >= 77 {
            o.push_str("\\\r\n  ");
            len = 2;
        }
    }
    o.push_str("\r\n");
    o
}

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn multi(items: &[String]) -> Vec<u8> {
    let mut out: Vec<u8> = items.iter().flat_map(|s| utf16z(s)).collect();
    out.extend([0, 0]);
    out
}

/// `reg export HKLM\SOFTWARE\Policies\Microsoft\Windows\BITS`.
fn policy_reg(policy: &[(String, u32)]) -> String {
    let mut o = String::from("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS]\r\n");
    for (name, v) in policy {
        o.push_str(&format!("\"{}\"=dword:{v:08x}\r\n", reg_escape(name)));
    }
    o.push_str("\r\n");
    o
}

/// `reg export HKLM\SYSTEM\CurrentControlSet\Services\BITS` (with its Parameters subkey).
fn service_reg(c: &ConfigSpec) -> String {
    let mut o = String::from("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]\r\n");
    o.push_str(&reg_hex(
        "DependOnService",
        "hex(7)",
        &multi(&c.dependencies),
    ));
    o.push_str("\"Description\"=\"@%SystemRoot%\\\\system32\\\\qmgr.dll,-1001\"\r\n");
    o.push_str("\"DisplayName\"=\"@%SystemRoot%\\\\system32\\\\qmgr.dll,-1000\"\r\n");
    o.push_str(&format!(
        "\"ErrorControl\"=dword:{:08x}\r\n",
        c.error_control
    ));
    let mut fa: Vec<u8> = Vec::new();
    fa.extend(c.reset_period.to_le_bytes());
    fa.extend([0u8; 8]);
    fa.extend((c.failure_actions.len() as u32).to_le_bytes());
    fa.extend(20u32.to_le_bytes());
    for (a, d) in &c.failure_actions {
        fa.extend(a.to_le_bytes());
        fa.extend(d.to_le_bytes());
    }
    o.push_str(&reg_hex("FailureActions", "hex", &fa));
    o.push_str(&reg_hex("ImagePath", "hex(2)", &utf16z(&c.image_path)));
    o.push_str(&format!(
        "\"ObjectName\"=\"{}\"\r\n",
        reg_escape(&c.object_name)
    ));
    o.push_str(&reg_hex(
        "RequiredPrivileges",
        "hex(7)",
        &multi(&c.privileges),
    ));
    o.push_str(&format!("\"ServiceSidType\"=dword:{:08x}\r\n", c.sid_type));
    o.push_str(&format!("\"Start\"=dword:{:08x}\r\n", c.start));
    o.push_str(&format!("\"Type\"=dword:{:08x}\r\n", c.service_type));
    if c.start == 2 {
        o.push_str(&format!(
            "\"DelayedAutostart\"=dword:{:08x}\r\n",
            u32::from(c.delayed_auto)
        ));
    }
    o.push_str(
        "\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters]\r\n",
    );
    if !c.service_dll.is_empty() {
        o.push_str(&reg_hex("ServiceDll", "hex(2)", &utf16z(&c.service_dll)));
    }
    o.push_str("\"ServiceDllUnloadOnStop\"=dword:00000001\r\n\r\n");
    o
}

/// `reg query HKLM\SYSTEM\CurrentControlSet\Services\BITS /s` as cmd.exe redirects it.
fn service_reg_query(c: &ConfigSpec) -> String {
    let key = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS";
    let mut o = format!("\r\n{key}\r\n");
    let v = |o: &mut String, name: &str, ty: &str, data: &str| {
        o.push_str(&format!("    {name}    {ty}    {data}\r\n"));
    };
    v(
        &mut o,
        "DependOnService",
        "REG_MULTI_SZ",
        &c.dependencies.join("\\0"),
    );
    v(
        &mut o,
        "Description",
        "REG_SZ",
        "@%SystemRoot%\\system32\\qmgr.dll,-1001",
    );
    v(
        &mut o,
        "DisplayName",
        "REG_SZ",
        "@%SystemRoot%\\system32\\qmgr.dll,-1000",
    );
    v(
        &mut o,
        "ErrorControl",
        "REG_DWORD",
        &format!("{:#x}", c.error_control),
    );
    let mut fa: Vec<u8> = Vec::new();
    fa.extend(c.reset_period.to_le_bytes());
    fa.extend([0u8; 8]);
    fa.extend((c.failure_actions.len() as u32).to_le_bytes());
    fa.extend(20u32.to_le_bytes());
    for (a, d) in &c.failure_actions {
        fa.extend(a.to_le_bytes());
        fa.extend(d.to_le_bytes());
    }
    let hex: String = fa.iter().map(|b| format!("{b:02X}")).collect();
    v(&mut o, "FailureActions", "REG_BINARY", &hex);
    v(&mut o, "ImagePath", "REG_EXPAND_SZ", &c.image_path);
    v(&mut o, "ObjectName", "REG_SZ", &c.object_name);
    v(
        &mut o,
        "RequiredPrivileges",
        "REG_MULTI_SZ",
        &c.privileges.join("\\0"),
    );
    v(
        &mut o,
        "ServiceSidType",
        "REG_DWORD",
        &format!("{:#x}", c.sid_type),
    );
    v(&mut o, "Start", "REG_DWORD", &format!("{:#x}", c.start));
    v(
        &mut o,
        "Type",
        "REG_DWORD",
        &format!("{:#x}", c.service_type),
    );
    if c.start == 2 {
        v(
            &mut o,
            "DelayedAutostart",
            "REG_DWORD",
            &format!("{:#x}", u32::from(c.delayed_auto)),
        );
    }
    o.push_str(&format!("\r\n{key}\\Parameters\r\n"));
    if !c.service_dll.is_empty() {
        v(&mut o, "ServiceDll", "REG_EXPAND_SZ", &c.service_dll);
    }
    v(&mut o, "ServiceDllUnloadOnStop", "REG_DWORD", "0x1");
    o.push_str("\r\n");
    o
}

/// `reg query HKLM\SOFTWARE\Policies\Microsoft\Windows\BITS`: the values, or the error
/// `reg` prints when no policy created the key.
fn policy_reg_query(policy: &[(String, u32)]) -> String {
    if policy.is_empty() {
        return "ERROR: The system was unable to find the specified registry key or value.\r\n"
            .into();
    }
    let mut o =
        String::from("\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS\r\n");
    for (name, v) in policy {
        o.push_str(&format!("    {name}    REG_DWORD    {v:#x}\r\n"));
    }
    o.push_str("\r\n");
    o
}

/// `netsh winhttp show proxy`.
fn netsh(proxy: Option<&str>) -> String {
    match proxy {
        None => "\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n\r\n".into(),
        Some(p) => format!(
            "\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Proxy Server(s) :  {p}\r\n    Bypass List     :  <local>\r\n\r\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_hex_wraps_like_reg_export() {
        let deps = multi(&["RpcSs".to_string(), "EventSystem".to_string()]);
        let text = reg_hex("DependOnService", "hex(7)", &deps);
        assert!(text.starts_with("\"DependOnService\"=hex(7):52,00,70,00,63,00,53,00,73,00,00,00,45,00,76,00,65,00,\\\r\n  6e,00"));
        assert!(text.lines().all(|l| l.len() <= 80));
    }

    #[test]
    fn us_times() {
        let t: Timestamp = "2018-12-20T19:26:28Z".parse().unwrap();
        assert_eq!(us_time(t), "12/20/2018 7:26:28 PM");
        let t: Timestamp = "2018-12-20T00:05:00Z".parse().unwrap();
        assert_eq!(us_time(t), "12/20/2018 12:05:00 AM");
    }
}

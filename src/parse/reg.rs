//! `reg query` output and `.reg` exports (`Windows Registry Editor Version 5.00` / `REGEDIT4`)
//! for the three keys bitsdoctor reads; every other key is skipped:
//!
//! * `HKLM\SOFTWARE\Policies\Microsoft\Windows\BITS` -> `Policy { name, value }`
//! * `HKLM\SYSTEM\CurrentControlSet\Services\BITS` (or `ControlSet00N`) -> `ServiceConfig` with the
//!   names the sc parser uses (`Type`, `Start`, `DelayedAutostart`, `ErrorControl`, `ImagePath`,
//!   `DependOnService`, `ObjectName`, `RequiredPrivileges`, `ServiceSidType`, `FailureActions`,
//!   `DisplayName`, `Description`, `Group`; other values under their own names)
//! * `...\Services\BITS\Parameters` -> `ServiceConfig { name: "ServiceDll" }`
//!
//! DWORD/QWORD values are decimal strings, multi-strings are joined with `/`, `hex(2)` / `hex(7)`
//! are decoded from UTF-16LE (single bytes under `REGEDIT4`), `FailureActions` is decoded to
//! `reset=86400;restart/60000/restart/120000`, other binary values are lower-case hex.

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_until, take_while, take_while1};
use nom::character::complete::{char, hex_digit1};
use nom::combinator::{map, map_res, rest, value};
use nom::multi::separated_list0;
use nom::sequence::{delimited, preceded, terminated};
use nom::{IResult, Parser};

use super::bitsadmin::{lines, observation};
use super::{is_console_noise, NotUnderstood, Parsed, Source};
use crate::model::{ConfigSource, Fact, Locator, When};

type Res<'a, T> = IResult<&'a str, T>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Policy,
    Service,
    Parameters,
    Other,
}

/// Which of our keys a full key path is (`HKEY_LOCAL_MACHINE\...` or `HKLM\...`, any case).
fn classify_key(path: &str) -> Key {
    let p = path.trim().trim_end_matches('\\');
    let rest = strip_prefix_ci(p, "HKEY_LOCAL_MACHINE\\").or_else(|| strip_prefix_ci(p, "HKLM\\"));
    let Some(rest) = rest else { return Key::Other };
    if rest.eq_ignore_ascii_case("SOFTWARE\\Policies\\Microsoft\\Windows\\BITS") {
        return Key::Policy;
    }
    let Some(rest) = strip_prefix_ci(rest, "SYSTEM\\") else {
        return Key::Other;
    };
    let rest = match strip_prefix_ci(rest, "CurrentControlSet\\") {
        Some(r) => r,
        None => match strip_prefix_ci(rest, "ControlSet") {
            Some(r)
                if r.len() > 4
                    && r.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                    && r.as_bytes()[3] == b'\\' =>
            {
                &r[4..]
            }
            _ => return Key::Other,
        },
    };
    if rest.eq_ignore_ascii_case("Services\\BITS") {
        Key::Service
    } else if rest.eq_ignore_ascii_case("Services\\BITS\\Parameters") {
        Key::Parameters
    } else {
        Key::Other
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// A registry value as read, before it is turned into text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Data<'a> {
    Str(Cow<'a, str>),
    Dword(u32),
    Qword(u64),
    Multi(Vec<String>),
    Binary(Vec<u8>),
}

// --- .reg export ------------------------------------------------------------------------------

/// `"Name"` with `\\` and `\"` escapes, or `@` (the default value).
fn export_name(i: &str) -> Res<'_, Cow<'_, str>> {
    alt((map(tag("@"), |_| Cow::Borrowed("(Default)")), quoted)).parse(i)
}

fn quoted(i: &str) -> Res<'_, Cow<'_, str>> {
    let (i, _) = char('"').parse(i)?;
    let mut out: Option<String> = None;
    let mut chars = i.char_indices();
    while let Some((p, c)) = chars.next() {
        match c {
            '"' => {
                let v = match out {
                    Some(s) => Cow::Owned(s),
                    None => Cow::Borrowed(&i[..p]),
                };
                return Ok((&i[p + 1..], v));
            }
            '\\' => {
                let s = out.get_or_insert_with(|| i[..p].to_string());
                if let Some((_, e)) = chars.next() {
                    s.push(e);
                }
            }
            _ => {
                if let Some(s) = out.as_mut() {
                    s.push(c);
                }
            }
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        i,
        nom::error::ErrorKind::Char,
    )))
}

/// Comma-separated hex bytes (`80,51,01,00`), whitespace and line joins already removed.
fn hex_bytes(i: &str) -> Res<'_, Vec<u8>> {
    separated_list0(
        char(','),
        map_res(take_while1(|c: char| c.is_ascii_hexdigit()), |h: &str| {
            u8::from_str_radix(h, 16)
        }),
    )
    .parse(i)
}

/// The data after `=` in an export: `"text"`, `dword:0000003c`, `hex:..`, `hex(N):..`.
fn export_data(i: &str, ansi: bool) -> Res<'_, Data<'_>> {
    if i.starts_with('"') {
        return map(quoted, Data::Str).parse(i);
    }
    if let Ok((r, v)) = preceded(
        tag_no_case::<_, _, nom::error::Error<&str>>("dword:"),
        map_res(hex_digit1, |h| u32::from_str_radix(h, 16)),
    )
    .parse(i)
    {
        return Ok((r, Data::Dword(v)));
    }
    let (i, kind) = alt((
        value(3u32, tag_no_case("hex:")),
        delimited(
            tag_no_case("hex("),
            map_res(hex_digit1, |h| u32::from_str_radix(h, 16)),
            tag("):"),
        ),
    ))
    .parse(i)?;
    let (i, bytes) = hex_bytes(i)?;
    Ok((i, typed_bytes(kind, bytes, ansi)))
}

/// Raw value bytes of registry type `kind` -> data.
fn typed_bytes(kind: u32, bytes: Vec<u8>, ansi: bool) -> Data<'static> {
    let text = |b: &[u8]| -> Vec<String> {
        let s: String = if ansi {
            b.iter().map(|&c| c as char).collect()
        } else {
            let units = b.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        };
        s.split('\0').map(str::to_string).collect()
    };
    match kind {
        1 | 2 => Data::Str(Cow::Owned(
            text(&bytes).into_iter().next().unwrap_or_default(),
        )),
        7 => Data::Multi(text(&bytes).into_iter().filter(|s| !s.is_empty()).collect()),
        4 if bytes.len() == 4 => {
            Data::Dword(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        }
        0xb if bytes.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes);
            Data::Qword(u64::from_le_bytes(b))
        }
        _ => Data::Binary(bytes),
    }
}

// --- reg query --------------------------------------------------------------------------------

/// `    Name    REG_TYPE    data` -> (name, type, data).
fn query_value(i: &str) -> Res<'_, (&str, &str, &str)> {
    let (i, _) = tag("    ").parse(i)?;
    let (i, name) = terminated(take_until("    REG_"), tag("    ")).parse(i)?;
    let (i, ty) =
        take_while(|c: char| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()).parse(i)?;
    let (i, data) = rest(i)?;
    let data = data.strip_prefix("    ").unwrap_or(data.trim_start());
    Ok((i, (name, ty, data)))
}

fn query_data<'a>(ty: &str, data: &'a str) -> Option<Data<'a>> {
    let num = |d: &str| -> Option<u64> {
        let d = d.trim();
        match d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => d.parse().ok(),
        }
    };
    Some(match ty {
        "REG_SZ" | "REG_EXPAND_SZ" => Data::Str(Cow::Borrowed(data)),
        "REG_DWORD" | "REG_DWORD_LITTLE_ENDIAN" => Data::Dword(u32::try_from(num(data)?).ok()?),
        "REG_QWORD" => Data::Qword(num(data)?),
        "REG_MULTI_SZ" => Data::Multi(
            data.split("\\0")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        _ => {
            let d = data.trim();
            if !d.len().is_multiple_of(2) || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let bytes = (0..d.len())
                .step_by(2)
                .map(|p| u8::from_str_radix(&d[p..p + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Data::Binary(bytes)
        }
    })
}

// --- values -> facts --------------------------------------------------------------------------

/// The SERVICE_FAILURE_ACTIONS blob: reset period, two pointer slots, count, offset, then
/// (type, delay ms) pairs. -> `reset=86400;restart/60000/restart/120000`.
fn failure_actions(b: &[u8]) -> Option<String> {
    let dword = |at: usize| -> Option<u32> {
        let s = b.get(at..at + 4)?;
        Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let reset = dword(0)?;
    let count = dword(12)? as usize;
    let offset = dword(16)? as usize;
    let start = if (20..b.len()).contains(&offset) {
        offset
    } else {
        20
    };
    if count > 64 {
        return None;
    }
    let mut acts = Vec::with_capacity(count);
    for k in 0..count {
        let ty = dword(start + k * 8)?;
        let delay = dword(start + k * 8 + 4)?;
        let word = match ty {
            1 => "restart",
            2 => "reboot",
            3 => "run",
            _ => "none",
        };
        acts.push(format!("{word}/{delay}"));
    }
    Some(format!("reset={reset};{}", acts.join("/")))
}

const SERVICE_NAMES: &[&str] = &[
    "Type",
    "Start",
    "DelayedAutostart",
    "ErrorControl",
    "ImagePath",
    "DependOnService",
    "ObjectName",
    "RequiredPrivileges",
    "ServiceSidType",
    "FailureActions",
    "DisplayName",
    "Description",
    "Group",
];

fn render(name: &str, data: &Data) -> Option<String> {
    Some(match data {
        Data::Str(s) => s.to_string(),
        Data::Dword(v) => v.to_string(),
        Data::Qword(v) => v.to_string(),
        Data::Multi(v) => v.join("/"),
        Data::Binary(b) if name == "FailureActions" => failure_actions(b)?,
        Data::Binary(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
    })
}

fn emit(key: Key, name: &str, data: &Data, line: u32, src: &Source, out: &mut Parsed) {
    if name == "(Default)" {
        return;
    }
    let stable = SERVICE_NAMES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(name))
        .copied();
    let name = match key {
        Key::Service => stable.unwrap_or(name),
        Key::Parameters if name.eq_ignore_ascii_case("ServiceDll") => "ServiceDll",
        Key::Policy => name,
        _ => return,
    };
    let Some(value) = render(name, data) else {
        out.warn(
            src,
            Some(Locator::Line(line)),
            format!("reg: unreadable {name} data"),
        );
        return;
    };
    let fact = if key == Key::Policy {
        Fact::Policy {
            name: name.to_string(),
            value,
        }
    } else {
        Fact::ServiceConfig {
            name: name.to_string(),
            value,
            from: ConfigSource::Registry,
        }
    };
    out.observations
        .push(observation(src, line, When::Unknown, fact));
}

/// Parse `reg query` output or a `.reg` export. Never fails; unreadable values under the keys
/// we read become warnings.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let mut key = Key::Other;
    let mut ansi = false;
    let mut it = lines(text);
    // To tell a removed ServiceDll from one not captured: an export of the Parameters key, or
    // a query that lists its values, shows them all.
    let mut export = false;
    let mut params_key: Option<u32> = None;
    let mut params_values = 0usize;
    let mut unread = NotUnderstood::default();
    let mut key_seen = false;

    while let Some((n, line)) = it.next() {
        let line = line.trim_start_matches('\u{FEFF}');
        if key == Key::Parameters
            && (line.starts_with('"') || (line.starts_with("    ") && !line.trim().is_empty()))
        {
            params_values += 1;
        }
        if line.trim() == "Windows Registry Editor Version 5.00" {
            export = true;
        }
        if line.starts_with('[') {
            let path = line
                .trim_end()
                .trim_start_matches('[')
                .trim_end_matches(']');
            key = if path.starts_with('-') {
                Key::Other
            } else {
                classify_key(path)
            };
            note_key(key, n, &mut params_key);
            key_seen = true;
            unread.start();
            continue;
        }
        if line.starts_with("HKEY_") || line.starts_with("HKLM\\") {
            key = classify_key(line);
            note_key(key, n, &mut params_key);
            key_seen = true;
            unread.start();
            continue;
        }
        if line.trim() == "REGEDIT4" {
            ansi = true;
            export = true;
            unread.start();
            continue;
        }
        if line.starts_with('"') || line.starts_with('@') {
            // A .reg value, maybe continued with a trailing backslash.
            let mut logical = Cow::Borrowed(line.trim_end());
            while logical.ends_with('\\') && !logical.ends_with("\\\\\"") {
                let Some((_, next)) = it.next() else { break };
                let mut s = logical.into_owned();
                s.pop();
                s.push_str(next.trim());
                logical = Cow::Owned(s);
            }
            if key == Key::Other {
                continue;
            }
            let parsed = (|| {
                let (r, name) = export_name(&logical).ok()?;
                let r = r.strip_prefix('=')?;
                if r == "-" {
                    return Some(None);
                }
                let (r, data) = export_data(r, ansi).ok()?;
                r.trim().is_empty().then_some(Some((name, data)))
            })();
            match parsed {
                Some(Some((name, data))) => emit(key, &name, &data, n, src, &mut out),
                Some(None) => {}
                None => out.warn(
                    src,
                    Some(Locator::Line(n)),
                    format!(
                        "reg: unreadable value line `{}`",
                        logical.chars().take(100).collect::<String>()
                    ),
                ),
            }
            continue;
        }
        if key != Key::Other && line.starts_with("    ") && !line.trim().is_empty() {
            match query_value(line) {
                Ok((_, (name, ty, data))) => match query_data(ty, data) {
                    Some(d) => emit(key, name, &d, n, src, &mut out),
                    None => out.warn(
                        src,
                        Some(Locator::Line(n)),
                        format!("reg: unreadable {ty} data for {name}"),
                    ),
                },
                Err(_) => out.warn(
                    src,
                    Some(Locator::Line(n)),
                    format!(
                        "reg: unreadable value line `{}`",
                        line.trim().chars().take(100).collect::<String>()
                    ),
                ),
            }
            continue;
        }
        // What is left: the export's header, the values of keys bitsdoctor does not read,
        // comments in a .reg file, reg's own messages (`ERROR: The system was unable to find
        // the specified registry key or value.`, `End of search: 2 match(es) found.`), console
        // text; anything else is not understood.
        let t = line.trim();
        if t == "Windows Registry Editor Version 5.00" {
            unread.start();
        } else if !(t.is_empty()
            || (key_seen && line.starts_with("    "))
            || t.starts_with(';')
            || t.starts_with("ERROR:")
            || t.starts_with("End of search:")
            || is_console_noise(t))
        {
            unread.line(n, line);
        }
    }
    unread.report("reg", src, &mut out);
    let has_dll = out
        .observations
        .iter()
        .any(|o| matches!(&o.fact, Fact::ServiceConfig { name, .. } if name == "ServiceDll"));
    // (A Parameters key missing altogether is not told from one left out of the capture.)
    let whole = params_key.is_some() && (export || params_values > 0);
    if !has_dll && whole {
        if let Some(line) = params_key {
            let fact = Fact::ServiceConfig {
                name: "ServiceDll".into(),
                value: String::new(),
                from: ConfigSource::Registry,
            };
            out.observations
                .push(observation(src, line, When::Unknown, fact));
        }
    }
    out
}

/// Remember the line of the first Parameters key.
fn note_key(key: Key, line: u32, params: &mut Option<u32>) {
    if key == Key::Parameters {
        *params = params.or(Some(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Source = Source {
        path: "b/H/bits.reg",
        host: "H",
    };

    fn facts(p: &Parsed) -> Vec<(&'static str, String, String)> {
        p.observations
            .iter()
            .map(|o| match &o.fact {
                Fact::Policy { name, value } => ("policy", name.clone(), value.clone()),
                Fact::ServiceConfig { name, value, .. } => ("config", name.clone(), value.clone()),
                f => panic!("{f:?}"),
            })
            .collect()
    }

    fn f(kind: &'static str, n: &str, v: &str) -> (&'static str, String, String) {
        (kind, n.to_string(), v.to_string())
    }

    #[test]
    fn a_removed_service_dll_is_reported_as_missing() {
        let export = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]\r\n\"Start\"=dword:00000002\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters]\r\n\"ServiceDllUnloadOnStop\"=dword:00000001\r\n";
        let p = parse(export, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            facts(&p),
            [f("config", "Start", "2"), f("config", "ServiceDll", "")]
        );
        let query = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters\r\n    ServiceDllUnloadOnStop    REG_DWORD    0x1\r\n\r\n";
        assert_eq!(facts(&parse(query, &SRC)), [f("config", "ServiceDll", "")]);
        // A query of the service key alone (no /s) lists Parameters without values: unknown.
        let shallow = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\r\n    Start    REG_DWORD    0x2\r\n\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters\r\n";
        assert_eq!(facts(&parse(shallow, &SRC)), [f("config", "Start", "2")]);
    }

    #[test]
    fn a_missing_policy_key_is_no_policy_and_no_warning() {
        let p = parse(
            "ERROR: The system was unable to find the specified registry key or value.\r\n",
            &SRC,
        );
        assert!(p.observations.is_empty() && p.warnings.is_empty());
    }

    #[test]
    fn keys() {
        assert_eq!(
            classify_key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS"),
            Key::Policy
        );
        assert_eq!(
            classify_key("HKLM\\software\\policies\\microsoft\\windows\\bits\\"),
            Key::Policy
        );
        assert_eq!(
            classify_key("HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\BITS"),
            Key::Service
        );
        assert_eq!(
            classify_key(
                "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters"
            ),
            Key::Parameters
        );
        assert_eq!(
            classify_key(
                "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Performance"
            ),
            Key::Other
        );
        assert_eq!(classify_key("HKEY_CURRENT_USER\\Software"), Key::Other);
    }

    #[test]
    fn small_parsers() {
        assert_eq!(
            quoted(r#""a\\b\"c"=x"#),
            Ok(("=x", Cow::Owned(r#"a\b"c"#.to_string())))
        );
        assert_eq!(hex_bytes("80,51,01,00"), Ok(("", vec![0x80, 0x51, 1, 0])));
        assert_eq!(
            export_data("dword:0000003c", false),
            Ok(("", Data::Dword(60)))
        );
        assert_eq!(
            query_value("    MaxJobsPerUser    REG_DWORD    0x3c"),
            Ok(("", ("MaxJobsPerUser", "REG_DWORD", "0x3c")))
        );
        assert_eq!(
            query_value("    Test1    REG_SZ    Hello, World"),
            Ok(("", ("Test1", "REG_SZ", "Hello, World")))
        );
        assert_eq!(
            query_data("REG_MULTI_SZ", "RpcSs\\0EventSystem"),
            Some(Data::Multi(vec!["RpcSs".into(), "EventSystem".into()]))
        );
        let blob = [
            0x80, 0x51, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0x14, 0, 0, 0, 1, 0, 0, 0, 0x60,
            0xea, 0, 0, 1, 0, 0, 0, 0xc0, 0xd4, 1, 0,
        ];
        assert_eq!(
            failure_actions(&blob).as_deref(),
            Some("reset=86400;restart/60000/restart/120000")
        );
    }

    #[test]
    fn reg_query_policy_and_service() {
        let text = "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS\r\n    MaxJobsPerUser    REG_DWORD    0x3c\r\n    JobInactivityTimeout    REG_DWORD    0x5a\r\n\r\n\
HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS\\Throttling\r\n    EnableBandwidthLimits    REG_DWORD    0x1\r\n\r\n\
HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\r\n    Type    REG_DWORD    0x20\r\n    DelayedAutoStart    REG_DWORD    0x1\r\n    DependOnService    REG_MULTI_SZ    RpcSs\\0EventSystem\r\n    ImagePath    REG_EXPAND_SZ    %SystemRoot%\\System32\\svchost.exe -k netsvcs -p\r\n    FailureActions    REG_BINARY    80510100000000000000000002000000140000000100000060EA000001000000C0D40100\r\n\r\n\
HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters\r\n    ServiceDll    REG_EXPAND_SZ    %SystemRoot%\\System32\\qmgr.dll\r\n\r\n";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            facts(&p),
            [
                f("policy", "MaxJobsPerUser", "60"),
                f("policy", "JobInactivityTimeout", "90"),
                f("config", "Type", "32"),
                f("config", "DelayedAutostart", "1"),
                f("config", "DependOnService", "RpcSs/EventSystem"),
                f(
                    "config",
                    "ImagePath",
                    "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p"
                ),
                f(
                    "config",
                    "FailureActions",
                    "reset=86400;restart/60000/restart/120000"
                ),
                f("config", "ServiceDll", "%SystemRoot%\\System32\\qmgr.dll"),
            ]
        );
        assert_eq!(p.observations[0].evidence.at, Locator::Line(3));
    }

    #[test]
    fn reg_export() {
        let text = "Windows Registry Editor Version 5.00\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]\r\n\
\"DependOnService\"=hex(7):52,00,70,00,63,00,53,00,73,00,00,00,45,00,76,00,65,00,\\\r\n  6e,00,74,00,53,00,79,00,73,00,74,00,65,00,6d,00,00,00,00,00\r\n\
\"ImagePath\"=hex(2):25,00,53,00,79,00,73,00,74,00,65,00,6d,00,52,00,6f,00,6f,00,\\\r\n  74,00,25,00,00,00\r\n\
\"Start\"=dword:00000003\r\n\
\"ObjectName\"=\"LocalSystem\"\r\n\
\"Description\"=\"say \\\"hi\\\" C:\\\\x\"\r\n\
\"Bad\"=dword:zz\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Other]\r\n\
\"Ignored\"=dword:zz\r\n\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS]\r\n\
\"MaxDownloadTime\"=dword:0076a700\r\n";
        let p = parse(text, &SRC);
        assert_eq!(
            facts(&p),
            [
                f("config", "DependOnService", "RpcSs/EventSystem"),
                f("config", "ImagePath", "%SystemRoot%"),
                f("config", "Start", "3"),
                f("config", "ObjectName", "LocalSystem"),
                f("config", "Description", "say \"hi\" C:\\x"),
                f("policy", "MaxDownloadTime", "7776000"),
            ]
        );
        assert_eq!(p.observations[1].evidence.at, Locator::Line(6));
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].at, Some(Locator::Line(11)));
    }

    #[test]
    fn keys_followed_by_garbage_keep_their_values_and_count_the_lines() {
        let query = "\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\r\n    Start    REG_DWORD    0x2\r\n\r\n";
        let clean = parse(query, &SRC);
        let p = parse(&format!("{query}garbage\r\n\u{7f}more\r\n"), &SRC);
        assert_eq!(p.observations, clean.observations);
        assert_eq!((p.unread_lines, p.warnings.len()), (2, 1));
        assert_eq!(p.warnings[0].at, Some(Locator::Line(5)));
    }

    #[test]
    fn comments_messages_and_other_keys_are_understood() {
        let text = "C:\\>reg query HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS
ERROR: The system was unable to find the specified registry key or value.

C:\\>reg query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS /s /f Start

HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS
    Start    REG_DWORD    0x2

HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Performance
    Library    REG_SZ    bitsperf.dll
End of search: 2 match(es) found.
";
        let p = parse(text, &SRC);
        assert_eq!(p.unread_lines, 0, "{:?}", p.warnings);
        let export = "Windows Registry Editor Version 5.00\r\n\r\n; exported on WS01\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\BITS]\r\n\"Start\"=dword:00000002\r\n";
        let p = parse(export, &SRC);
        assert_eq!(p.unread_lines, 0, "{:?}", p.warnings);
        assert_eq!(facts(&p), [f("config", "Start", "2")]);
    }
}

//! `sc qc|query|queryex|qprivs|qfailure|qsidtype|qdescription bits` output and `[SC] ... FAILED
//! nnnn:` lines.
//!
//! Configuration becomes `ServiceConfig` facts with the names the registry parser uses for the
//! same things (numbers as decimal strings, lists joined with `/`): `Type`, `Start`,
//! `DelayedAutostart`, `ErrorControl`, `ImagePath`, `Group`, `DependOnService`, `ObjectName`,
//! `DisplayName`, `Description`, `RequiredPrivileges`, `ServiceSidType`, `FailureActions`
//! (`reset=86400;restart/60000/restart/120000`), plus `Win32ExitCode` / `ServiceExitCode` when
//! non-zero and `ScFailed` (`<operation> <HRESULT>`) for failed sc operations other than
//! OpenService / StartService (those are `ServiceStartFailure`). Only the BITS service is kept.

use nom::bytes::complete::{tag, tag_no_case, take_till, take_till1};
use nom::character::complete::{char, digit1, hex_digit1, space0, space1};
use nom::combinator::{map_res, opt, rest};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::bitsadmin::{is_prompt, lines, observation};
use super::{is_console_noise, NotUnderstood, Parsed, Source};
use crate::model::{ConfigSource, Fact, HResult, Locator, When};

type Res<'a, T> = IResult<&'a str, T>;

/// `HRESULT_FROM_WIN32(n)`.
pub(crate) fn hresult_from_win32(n: u32) -> HResult {
    if n == 0 || n & 0x8000_0000 != 0 {
        HResult(n)
    } else {
        HResult((n & 0xFFFF) | 0x8007_0000)
    }
}

/// `[SC] OpenService FAILED 1060:` -> (operation, Some(1060)); `[SC] QueryServiceConfig SUCCESS`
/// -> (operation, None). The status word may be localized.
fn sc_status(i: &str) -> Res<'_, (&str, Option<u32>)> {
    let (i, _) = tag("[SC] ").parse(i)?;
    let (i, op) = take_till1(|c: char| c == ' ').parse(i)?;
    let (i, _) = (space1, take_till(|c: char| c == ' ')).parse(i)?;
    let (i, code) = opt(preceded(
        space1,
        terminated(map_res(digit1, str::parse::<u32>), char(':')),
    ))
    .parse(i)?;
    Ok((i, (op, code)))
}

/// An indented `LABEL   : value` line (label may be empty on continuation lines and may hold
/// spaces, as in `RESET_PERIOD (in seconds)`).
fn field(i: &str) -> Res<'_, (&str, &str)> {
    let (i, _) = space1(i)?;
    let (i, label) = take_till(|c: char| c == ':').parse(i)?;
    let (i, _) = char(':').parse(i)?;
    let (i, v) = rest(i)?;
    Ok((i, (label.trim_end(), v.trim())))
}

/// `20  WIN32_SHARE_PROCESS`, `2   AUTO_START  (DELAYED)`, `1077  (0x435)` -> (number text, rest).
fn code_then_text(i: &str) -> Res<'_, (&str, &str)> {
    let (i, n) = hex_digit1(i)?;
    let (i, text) = preceded(space0, rest).parse(i)?;
    Ok((i, (n, text.trim())))
}

/// `RESTART -- Delay = 60000 milliseconds.` -> `restart/60000`.
fn failure_action(i: &str) -> Res<'_, (&str, u64)> {
    let (i, action) = take_till1(|c: char| c == '-').parse(i.trim_start())?;
    let (i, _) = (
        tag("--"),
        space0,
        tag_no_case("Delay"),
        space0,
        char('='),
        space0,
    )
        .parse(i)?;
    let (i, delay) = map_res(digit1, str::parse::<u64>).parse(i)?;
    Ok((i, (action.trim(), delay)))
}

fn action_word(a: &str) -> &'static str {
    match a.to_ascii_uppercase().as_str() {
        "RESTART" => "restart",
        "REBOOT" => "reboot",
        "RUN PROCESS" | "RUN" => "run",
        _ => "none",
    }
}

/// One `SERVICE_NAME:` block being read.
struct Service<'a> {
    bits: bool,
    line: u32,
    /// The field being read and its value lines.
    label: &'a str,
    label_line: u32,
    values: Vec<&'a str>,
    reset: Option<&'a str>,
    actions: Option<String>,
    /// (line, fact) in output order.
    facts: Vec<(u32, Fact)>,
}

impl<'a> Service<'a> {
    fn new(name: &str, line: u32) -> Self {
        Service {
            bits: name.trim().eq_ignore_ascii_case("bits"),
            line,
            label: "",
            label_line: line,
            values: Vec::new(),
            reset: None,
            actions: None,
            facts: Vec::new(),
        }
    }

    fn config(&mut self, line: u32, name: &str, value: impl Into<String>) {
        self.facts.push((
            line,
            Fact::ServiceConfig {
                name: name.to_string(),
                value: value.into(),
                from: ConfigSource::Sc,
            },
        ));
    }

    /// Which command printed this block: `sc query` has a STATE, `sc qc` a start type or
    /// binary path; the rest (qprivs, qfailure, qsidtype) is plain `sc`.
    fn command(&self) -> ConfigSource {
        let mut kind = ConfigSource::Sc;
        for (_, f) in &self.facts {
            match f {
                Fact::ServiceState { .. } => return ConfigSource::ScQuery,
                Fact::ServiceConfig { name, .. }
                    if matches!(
                        name.as_str(),
                        "Start" | "ImagePath" | "ErrorControl" | "ObjectName" | "DependOnService"
                    ) =>
                {
                    kind = ConfigSource::ScQc
                }
                _ => {}
            }
        }
        kind
    }

    /// The current field is complete: turn it into facts; an unreadable BITS field is a warning.
    fn flush(&mut self, src: &Source, out: &mut Parsed) {
        let line = self.label_line;
        if !self.flush_field() && self.bits {
            out.warn(
                src,
                Some(Locator::Line(line)),
                "sc: unreadable field value in the BITS service block",
            );
        }
    }

    fn flush_field(&mut self) -> bool {
        let label = std::mem::take(&mut self.label);
        if label.is_empty() {
            return true;
        }
        let values = std::mem::take(&mut self.values);
        let n = self.label_line;
        let first = values.first().copied().unwrap_or("");
        let joined = || {
            values
                .iter()
                .flat_map(|v| v.split('/'))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join("/")
        };
        match label {
            "TYPE" => match code_then_text(first) {
                Ok((_, (hex, _))) => match u32::from_str_radix(hex, 16) {
                    Ok(t) => self.config(n, "Type", t.to_string()),
                    Err(_) => return false,
                },
                Err(_) => return false,
            },
            "START_TYPE" => match code_then_text(first) {
                Ok((_, (num, text))) if num.bytes().all(|b| b.is_ascii_digit()) => {
                    self.config(n, "Start", num);
                    if num == "2" {
                        let delayed = text.contains("(DELAYED)");
                        self.config(n, "DelayedAutostart", if delayed { "1" } else { "0" });
                    }
                }
                _ => return false,
            },
            "ERROR_CONTROL" => match code_then_text(first) {
                Ok((_, (num, _))) if num.bytes().all(|b| b.is_ascii_digit()) => {
                    self.config(n, "ErrorControl", num)
                }
                _ => return false,
            },
            "STATE" => match code_then_text(first) {
                Ok((_, (num, text))) if num.bytes().all(|b| b.is_ascii_digit()) => {
                    let state = text.split_whitespace().next().unwrap_or("").to_string();
                    self.facts.push((
                        n,
                        Fact::ServiceState {
                            service: "BITS".to_string(),
                            state,
                            state_code: num.parse().ok(),
                        },
                    ));
                }
                _ => return false,
            },
            "WIN32_EXIT_CODE" | "SERVICE_EXIT_CODE" => match code_then_text(first) {
                Ok((_, (num, _))) if num.bytes().all(|b| b.is_ascii_digit()) => {
                    if num != "0" {
                        let name = if label == "WIN32_EXIT_CODE" {
                            "Win32ExitCode"
                        } else {
                            "ServiceExitCode"
                        };
                        self.config(n, name, num);
                    }
                }
                _ => return false,
            },
            "BINARY_PATH_NAME" => self.config(n, "ImagePath", first),
            "LOAD_ORDER_GROUP" if !first.is_empty() => self.config(n, "Group", first),
            "DISPLAY_NAME" => self.config(n, "DisplayName", first),
            "DESCRIPTION" => self.config(n, "Description", values.join(" ")),
            "SERVICE_START_NAME" => self.config(n, "ObjectName", first),
            "DEPENDENCIES" => {
                let j = joined();
                self.config(n, "DependOnService", j)
            }
            "PRIVILEGES" => {
                let j = joined();
                self.config(n, "RequiredPrivileges", j)
            }
            "SERVICE_SID_TYPE" => {
                let code = match first.to_ascii_uppercase().as_str() {
                    "NONE" => "0",
                    "UNRESTRICTED" => "1",
                    "RESTRICTED" => "3",
                    _ => return false,
                };
                self.config(n, "ServiceSidType", code)
            }
            "RESET_PERIOD (in seconds)" | "RESET_PERIOD" => {
                if !first.bytes().all(|b| b.is_ascii_digit()) {
                    return false;
                }
                self.reset = Some(first);
                self.actions.get_or_insert_with(String::new);
            }
            "FAILURE_ACTIONS" => {
                let mut acts = String::new();
                for v in values.iter().filter(|v| !v.is_empty()) {
                    let Ok((_, (action, delay))) = failure_action(v) else {
                        return false;
                    };
                    if !acts.is_empty() {
                        acts.push('/');
                    }
                    acts.push_str(action_word(action));
                    acts.push('/');
                    acts.push_str(&delay.to_string());
                }
                self.actions = Some(acts);
            }
            _ => {}
        }
        true
    }

    fn finish(mut self, src: &Source, out: &mut Parsed) {
        self.flush(src, out);
        if !self.bits {
            return;
        }
        if let Some(acts) = &self.actions {
            let v = format!("reset={};{}", self.reset.unwrap_or("0"), acts);
            let line = self.line;
            self.config(line, "FailureActions", v);
        }
        let command = self.command();
        for (line, mut fact) in self.facts {
            if let Fact::ServiceConfig { from, .. } = &mut fact {
                *from = command;
            }
            out.observations
                .push(observation(src, line, When::Unknown, fact));
        }
    }
}

/// The service a command echo (`C:\>sc start bits`, `sc.exe query BITS`) names.
fn echoed_service(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    words.find(|w| {
        let w = w.rsplit('>').next().unwrap_or(w);
        w.eq_ignore_ascii_case("sc") || w.eq_ignore_ascii_case("sc.exe")
    })?;
    let _command = words.next()?;
    words.next()
}

/// Parse `sc` output. Never fails; unreadable fields of a BITS block become warnings, and lines
/// that are neither sc output nor console text are counted as not understood.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let mut svc: Option<Service> = None;
    let mut echoed: Option<&str> = None;
    let mut unread = NotUnderstood::default();
    // After `[SC] ... FAILED nnnn:` sc prints the system's message for the error; after a
    // service block, sections bitsdoctor does not read (`qtriggerinfo`) are indented; sc's
    // help screen starts with `DESCRIPTION:` or `USAGE:`.
    let mut message = false;
    let mut seen_service = false;
    let mut help = false;

    for (n, line) in lines(text) {
        let t = line.trim();
        if t.is_empty() {
            if let Some(s) = svc.take() {
                s.finish(src, &mut out);
            }
            continue;
        }
        if let Ok((_, (op, code))) = sc_status(t) {
            unread.start();
            (message, help) = (code.is_some(), false);
            if let Some(s) = svc.take() {
                s.finish(src, &mut out);
            }
            let Some(code) = code else { continue };
            if echoed.is_some_and(|s| !s.eq_ignore_ascii_case("bits")) {
                continue;
            }
            let hr = hresult_from_win32(code);
            let fact = if op.ends_with("OpenService") || op.ends_with("StartService") {
                Fact::ServiceStartFailure {
                    service: "BITS".to_string(),
                    event: 0,
                    error: Some(hr),
                    dependency: None,
                }
            } else {
                Fact::ServiceConfig {
                    name: "ScFailed".to_string(),
                    value: format!("{op} {hr}"),
                    from: ConfigSource::Sc,
                }
            };
            out.observations
                .push(observation(src, n, When::Unknown, fact));
            continue;
        }
        if is_prompt(t) || t.starts_with("sc ") || t.starts_with("sc.exe ") {
            unread.start();
            (message, help) = (false, false);
            echoed = echoed_service(t);
            continue;
        }
        if let Some(name) = t.strip_prefix("SERVICE_NAME:") {
            unread.start();
            (message, help, seen_service) = (false, false, true);
            if let Some(s) = svc.take() {
                s.finish(src, &mut out);
            }
            svc = Some(Service::new(name, n));
            continue;
        }
        let Some(s) = svc.as_mut() else {
            help |= t.starts_with("DESCRIPTION:") || t.starts_with("USAGE:");
            let understood = message
                || help
                || (seen_service && line.starts_with([' ', '\t']))
                || is_console_noise(t);
            if !understood {
                unread.line(n, line);
            }
            continue;
        };
        // Unindented fields of some sc commands.
        let parsed = if !line.starts_with([' ', '\t']) {
            t.split_once(':')
                .map(|(l, v)| (l.trim(), v.trim()))
                .filter(|(l, _)| matches!(*l, "DISPLAY_NAME" | "SERVICE_SID_TYPE" | "DESCRIPTION"))
        } else {
            field(line).ok().map(|x| x.1)
        };
        let ok = match parsed {
            Some(("", v)) if !s.label.is_empty() => {
                s.values.push(v);
                true
            }
            Some((label, v)) if !label.is_empty() => {
                s.flush(src, &mut out);
                s.label = label;
                s.label_line = n;
                s.values.push(v);
                true
            }
            // Indented text without a colon continues the field (STATE flags, FAILURE_ACTIONS).
            None if line.starts_with([' ', '\t']) && !s.label.is_empty() => {
                s.values.push(t);
                true
            }
            _ => false,
        };
        if !ok && s.bits {
            out.warn(
                src,
                Some(Locator::Line(n)),
                format!(
                    "sc: unreadable line in the BITS service block `{}`",
                    t.chars().take(100).collect::<String>()
                ),
            );
        } else if !ok {
            unread.line(n, line);
        }
    }
    if let Some(s) = svc.take() {
        s.finish(src, &mut out);
    }
    unread.report("sc", src, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Source = Source {
        path: "b/H/sc.txt",
        host: "H",
    };

    fn configs(p: &Parsed) -> Vec<(String, String)> {
        p.observations
            .iter()
            .filter_map(|o| match &o.fact {
                Fact::ServiceConfig { name, value, .. } => Some((name.clone(), value.clone())),
                _ => None,
            })
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn small_parsers() {
        assert_eq!(
            sc_status("[SC] OpenService FAILED 1060:"),
            Ok(("", ("OpenService", Some(1060))))
        );
        assert_eq!(
            sc_status("[SC] EnumQueryServicesStatus:OpenService FAILED 1060:"),
            Ok(("", ("EnumQueryServicesStatus:OpenService", Some(1060))))
        );
        assert_eq!(
            sc_status("[SC] QueryServiceConfig SUCCESS").map(|x| x.1),
            Ok(("QueryServiceConfig", None))
        );
        // The status word is localized; the operation and field labels are not.
        for status in ["ERFOLG", "réussite(s)", "RÉUSSITE"] {
            let line = format!("[SC] QueryServiceConfig {status}");
            assert_eq!(
                sc_status(&line).map(|x| x.1),
                Ok(("QueryServiceConfig", None)),
                "{line}"
            );
        }
        assert_eq!(
            field("        TYPE               : 20  WIN32_SHARE_PROCESS"),
            Ok(("", ("TYPE", "20  WIN32_SHARE_PROCESS")))
        );
        assert_eq!(
            field("                           : EventSystem"),
            Ok(("", ("", "EventSystem")))
        );
        assert_eq!(
            field("        RESET_PERIOD (in seconds)    : 86400"),
            Ok(("", ("RESET_PERIOD (in seconds)", "86400")))
        );
        assert_eq!(
            code_then_text("2   AUTO_START  (DELAYED)"),
            Ok(("", ("2", "AUTO_START  (DELAYED)")))
        );
        assert_eq!(
            failure_action("RESTART -- Delay = 120000 milliseconds."),
            Ok((" milliseconds.", ("RESTART", 120000)))
        );
        assert_eq!(hresult_from_win32(1060), HResult(0x8007_0424));
    }

    #[test]
    fn qc_block() {
        let text = "[SC] QueryServiceConfig SUCCESS

SERVICE_NAME: bits
        TYPE               : 20  WIN32_SHARE_PROCESS
        START_TYPE         : 2   AUTO_START  (DELAYED)
        ERROR_CONTROL      : 1   NORMAL
        BINARY_PATH_NAME   : C:\\Windows\\System32\\svchost.exe -k netsvcs -p
        LOAD_ORDER_GROUP   :
        TAG                : 0
        DISPLAY_NAME       : Background Intelligent Transfer Service
        DEPENDENCIES       : RpcSs
                           : EventSystem
        SERVICE_START_NAME : LocalSystem
";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            configs(&p),
            pairs(&[
                ("Type", "32"),
                ("Start", "2"),
                ("DelayedAutostart", "1"),
                ("ErrorControl", "1"),
                (
                    "ImagePath",
                    "C:\\Windows\\System32\\svchost.exe -k netsvcs -p"
                ),
                ("DisplayName", "Background Intelligent Transfer Service"),
                ("DependOnService", "RpcSs/EventSystem"),
                ("ObjectName", "LocalSystem"),
            ])
        );
        assert_eq!(p.observations[0].evidence.at, Locator::Line(4));
    }

    #[test]
    fn query_state() {
        let text = "
SERVICE_NAME: bits
        TYPE               : 20  WIN32_SHARE_PROCESS
        STATE              : 1  STOPPED
                                (NOT_STOPPABLE,NOT_PAUSABLE,IGNORES_SHUTDOWN)
        WIN32_EXIT_CODE    : 1077  (0x435)
        SERVICE_EXIT_CODE  : 0  (0x0)
        CHECKPOINT         : 0x0
        WAIT_HINT          : 0x0
        PID                : 0
        FLAGS              :
";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert!(p.observations.iter().any(|o| o.fact
            == Fact::ServiceState {
                service: "BITS".into(),
                state: "STOPPED".into(),
                state_code: Some(1)
            }));
        assert_eq!(
            configs(&p),
            pairs(&[("Type", "32"), ("Win32ExitCode", "1077")])
        );
    }

    #[test]
    fn qfailure_qprivs_qsidtype() {
        let text = "[SC] QueryServiceConfig2 SUCCESS

SERVICE_NAME: bits
        RESET_PERIOD (in seconds)    : 86400
        REBOOT_MESSAGE               :
        COMMAND_LINE                 :
        FAILURE_ACTIONS              : RESTART -- Delay = 60000 milliseconds.
                                       RESTART -- Delay = 120000 milliseconds.

[SC] QueryServiceConfig2 SUCCESS

SERVICE_NAME: bits
        PRIVILEGES       : SeCreateGlobalPrivilege
                         : SeImpersonatePrivilege
                         : SeTcbPrivilege

[SC] QueryServiceConfig2 SUCCESS

SERVICE_NAME: bits
SERVICE_SID_TYPE:  UNRESTRICTED
";
        let p = parse(text, &SRC);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            configs(&p),
            pairs(&[
                ("FailureActions", "reset=86400;restart/60000/restart/120000"),
                (
                    "RequiredPrivileges",
                    "SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege"
                ),
                ("ServiceSidType", "1"),
            ])
        );
    }

    #[test]
    fn failures_and_other_services() {
        let text = "C:\\>sc start bits
[SC] StartService FAILED 1058:

The service cannot be started, either because it is disabled or because it has no enabled devices associated with it.

C:\\>sc query wuauserv
[SC] EnumQueryServicesStatus:OpenService FAILED 1060:

C:\\>sc config bits start= auto
[SC] ChangeServiceConfig FAILED 5:

SERVICE_NAME: wuauserv
        TYPE               : 20  WIN32_SHARE_PROCESS
";
        let p = parse(text, &SRC);
        assert_eq!(p.observations.len(), 2);
        assert_eq!(
            p.observations[0].fact,
            Fact::ServiceStartFailure {
                service: "BITS".into(),
                event: 0,
                error: Some(HResult(0x8007_0422)),
                dependency: None
            }
        );
        assert_eq!(p.observations[0].evidence.at, Locator::Line(2));
        assert_eq!(
            configs(&p),
            pairs(&[("ScFailed", "ChangeServiceConfig 0x80070005")])
        );
    }

    #[test]
    fn garbage_in_bits_block_warns() {
        let text =
            "SERVICE_NAME: bits\n        TYPE               : zz  WIN32_SHARE_PROCESS\nrandom\n";
        let p = parse(text, &SRC);
        assert_eq!(p.warnings.len(), 2);
        assert_eq!(p.warnings[0].at, Some(Locator::Line(3)));
    }

    #[test]
    fn a_block_followed_by_garbage_keeps_it_and_counts_the_lines() {
        let block = "[SC] QueryServiceConfig SUCCESS\n\nSERVICE_NAME: bits\n        TYPE               : 20  WIN32_SHARE_PROCESS\n        START_TYPE         : 3   DEMAND_START\n";
        let clean = parse(block, &SRC);
        let p = parse(&format!("{block}\n\u{1}zz garbage\nmore garbage\n"), &SRC);
        assert_eq!(p.observations, clean.observations);
        assert_eq!((p.unread_lines, p.warnings.len()), (2, 1));
        assert_eq!(p.warnings[0].at, Some(Locator::Line(7)));
    }

    #[test]
    fn error_messages_help_and_other_sections_are_understood() {
        let text = "C:\\>sc start bits
[SC] StartService FAILED 1058:

The service cannot be started, either because it is disabled or because it has no enabled
devices associated with it.

C:\\>sc qtriggerinfo bits
[SC] QueryServiceConfig2 SUCCESS

SERVICE_NAME: bits

        START SERVICE
          NETWORK EVENT              : bc90d167-9470-4139-a9ba-be0bbbf5b74d [RPC INTERFACE EVENT]

C:\\>sc qc
DESCRIPTION:
        Queries the configuration information for a service.
USAGE:
        sc <server> qc [service name] <bufferSize>
";
        let p = parse(text, &SRC);
        assert_eq!(p.unread_lines, 0, "{:?}", p.warnings);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }
}

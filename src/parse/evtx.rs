//! `.evtx` files: Bits-Client, Service Control Manager (about BITS), WindowsUpdateClient and
//! Eventlog 104 records become observations; every other record is skipped before rendering.
//!
//! Records are filtered in two steps inside the evtx crate's per-chunk pipeline:
//! 1. per template definition (once per chunk), the first record using it is rendered to learn
//!    its provider, and whether the provider name is fixed text of the template or one of its
//!    substitution values (and which);
//! 2. per record, the provider is then read from the substitution values without rendering, and
//!    only records of the providers we read (and, for the Service Control Manager, that mention
//!    BITS at all) are rendered and decoded by field name.

use crate::model::{Evidence, Fact, Guid, HResult, Locator, Observation, UpdateStage, When};
use crate::parse::{Parsed, Warning};
use evtx::binxml::value_variant::BinXmlValue;
use evtx::{EvtxParser, EvtxRecord, ParserSettings};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

const BITS_CLIENT: &str = "Microsoft-Windows-Bits-Client";
const SCM: &str = "Service Control Manager";
const WU_CLIENT: &str = "Microsoft-Windows-WindowsUpdateClient";
const EVENTLOG: &str = "Microsoft-Windows-Eventlog";

/// The providers this parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    BitsClient,
    Scm,
    WuClient,
    Eventlog,
}

impl Provider {
    const ALL: [Provider; 4] = [
        Provider::BitsClient,
        Provider::Scm,
        Provider::WuClient,
        Provider::Eventlog,
    ];
    fn name(self) -> &'static str {
        match self {
            Provider::BitsClient => BITS_CLIENT,
            Provider::Scm => SCM,
            Provider::WuClient => WU_CLIENT,
            Provider::Eventlog => EVENTLOG,
        }
    }
    fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// What one template definition tells about the provider of the records that use it.
#[derive(Debug, Clone, Copy)]
enum ProviderSlot {
    /// The provider name is fixed text in the template (classic events): one answer for all.
    Fixed(Option<Provider>),
    /// The provider name is substitution value `index`.
    Value(usize),
}

/// Why a whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvtxFileError {
    #[error("not a readable evtx file: {0}")]
    Open(String),
}

/// What reading one evtx file gave.
#[derive(Debug, Default)]
pub struct EvtxOutcome {
    pub parsed: Parsed,
    /// Records the crate handed over (read or skipped by the filter).
    pub records: u64,
    /// Records that could not be read at all (bad size, bad CRC, broken BinXML).
    pub bad_records: u64,
    /// Records of the providers we read that did not have the expected shape.
    pub undecoded: u64,
}

enum RecordOut {
    Skipped,
    Observed(Box<Observation>),
    /// A record of a provider we read that was read but held nothing usable.
    Empty,
    Undecoded(u64, String),
}

/// Parse one evtx file held in memory. `threads` is the number of chunk workers (0 = one).
pub fn parse(data: Vec<u8>, path: &str, threads: usize) -> Result<EvtxOutcome, EvtxFileError> {
    let settings = ParserSettings::default()
        .num_threads(threads.max(1))
        .separate_json_attributes(false)
        .indent(false);
    let mut parser = EvtxParser::from_buffer(data)
        .map_err(|e| EvtxFileError::Open(e.to_string()))?
        .with_configuration(settings);
    let shared_path: Arc<str> = Arc::from(path);
    let mut slots: HashMap<u32, ProviderSlot> = HashMap::new();
    let mut out = EvtxOutcome::default();
    let mut first_errors = Vec::new();
    let records = parser.serialized_records(move |record| {
        let record = record?;
        Ok(read_record(&record, &shared_path, &mut slots))
    });
    for item in records {
        out.records += 1;
        match item {
            Ok(RecordOut::Skipped) | Ok(RecordOut::Empty) => {}
            Ok(RecordOut::Observed(obs)) => out.parsed.observations.push(*obs),
            Ok(RecordOut::Undecoded(id, why)) => {
                out.undecoded += 1;
                out.parsed.warnings.push(Warning {
                    path: path.to_string(),
                    at: Some(Locator::Record(id)),
                    message: why,
                });
            }
            Err(e) => {
                out.records -= 1;
                out.bad_records += 1;
                if first_errors.len() < 5 {
                    first_errors.push(error_chain(&e));
                }
            }
        }
    }
    for e in first_errors {
        out.parsed.warnings.push(Warning {
            path: path.to_string(),
            at: None,
            message: format!("unreadable record skipped: {e}"),
        });
    }
    if out.bad_records > 5 {
        out.parsed.warnings.push(Warning {
            path: path.to_string(),
            at: None,
            message: format!("{} more unreadable records skipped", out.bad_records - 5),
        });
    }
    Ok(out)
}

/// An error and its causes on one line: "failed to read record ...: invalid data size ...".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decide, render and decode one record.
fn read_record(
    record: &EvtxRecord<'_>,
    path: &Arc<str>,
    slots: &mut HashMap<u32, ProviderSlot>,
) -> RecordOut {
    let instances = match record.template_instances() {
        Ok(i) => i,
        Err(_) => return render_and_decode(record, path),
    };
    let Some(first) = instances.first() else {
        return render_and_decode(record, path);
    };
    let slot = match slots.get(&first.template_def_offset) {
        Some(s) => *s,
        None => {
            let Some(rendered) = render(record) else {
                return RecordOut::Undecoded(
                    record.event_record_id,
                    "record could not be rendered".into(),
                );
            };
            let name = rendered["Event"]["System"]["Provider"]["#attributes"]["Name"]
                .as_str()
                .unwrap_or("");
            let slot = match first.values.iter().position(|v| value_is_str(v, name)) {
                Some(i) if !name.is_empty() => ProviderSlot::Value(i),
                _ => ProviderSlot::Fixed(Provider::from_name(name)),
            };
            slots.insert(first.template_def_offset, slot);
            // We hold the rendering already: use it.
            return match Provider::from_name(name) {
                Some(p) if wanted(p, &first.values) => decode(record, path, &rendered),
                _ => RecordOut::Skipped,
            };
        }
    };
    let provider = match slot {
        ProviderSlot::Fixed(p) => p,
        ProviderSlot::Value(i) => first.values.get(i).and_then(|v| {
            Provider::ALL
                .into_iter()
                .find(|p| value_is_str(v, p.name()))
        }),
    };
    match provider {
        Some(p) if wanted(p, &first.values) => render_and_decode(record, path),
        _ => RecordOut::Skipped,
    }
}

/// Cheap pre-check on the substitution values: Service Control Manager records are read only
/// when some value mentions BITS (param4, the `BITS/n` binary, the display name, the service
/// name of 7045). A superset: the decoder makes the final call.
fn wanted(provider: Provider, values: &[BinXmlValue<'_>]) -> bool {
    if provider != Provider::Scm {
        return true;
    }
    const NEEDLES: [&[u8]; 3] = [
        b"B\0I\0T\0S\0",
        b"b\0i\0t\0s\0",
        b"B\0a\0c\0k\0g\0r\0o\0u\0n\0d\0 \0I\0n\0t\0e\0l\0l\0i\0g\0e\0n\0t\0",
    ];
    values.iter().any(|v| {
        let bytes: &[u8] = match v {
            BinXmlValue::StringType(s) => s.as_bytes(),
            BinXmlValue::BinaryType(b) | BinXmlValue::BinXmlType(b) => b,
            _ => return false,
        };
        NEEDLES
            .iter()
            .any(|n| bytes.windows(n.len()).any(|w| w == *n))
    })
}

fn value_is_str(v: &BinXmlValue<'_>, want: &str) -> bool {
    match v {
        BinXmlValue::StringType(s) => {
            let b = s.as_bytes();
            b.len() == want.len() * 2
                && want
                    .bytes()
                    .zip(b.chunks_exact(2))
                    .all(|(c, u)| u[1] == 0 && u[0].eq_ignore_ascii_case(&c))
        }
        BinXmlValue::AnsiStringType(s) => s.eq_ignore_ascii_case(want),
        _ => false,
    }
}

fn render(record: &EvtxRecord<'_>) -> Option<Value> {
    record.clone().into_json_value().ok().map(|r| r.data)
}

fn render_and_decode(record: &EvtxRecord<'_>, path: &Arc<str>) -> RecordOut {
    match render(record) {
        Some(v) => decode(record, path, &v),
        None => RecordOut::Undecoded(
            record.event_record_id,
            "record could not be rendered".into(),
        ),
    }
}

/// Turn one rendered record into an observation.
fn decode(record: &EvtxRecord<'_>, path: &Arc<str>, event: &Value) -> RecordOut {
    let system = &event["Event"]["System"];
    let provider = system["Provider"]["#attributes"]["Name"]
        .as_str()
        .and_then(Provider::from_name);
    let Some(provider) = provider else {
        return RecordOut::Skipped;
    };
    let Some(event_id) = event_id(&system["EventID"]) else {
        return RecordOut::Undecoded(record.event_record_id, "record has no EventID".into());
    };
    let version = system["Version"].as_u64().unwrap_or(0);
    let host = system["Computer"].as_str().unwrap_or("").to_string();
    let data = Fields(&event["Event"]["EventData"]);
    let fact = match provider {
        Provider::BitsClient => bits_client(event_id, version, &data),
        Provider::Scm => scm(event_id, &data),
        Provider::WuClient => wu_client(event_id, version, &data),
        Provider::Eventlog => eventlog(event_id, &event["Event"]["UserData"]),
    };
    match fact {
        Some(fact) => RecordOut::Observed(Box::new(Observation {
            host: if host.is_empty() {
                "unknown".into()
            } else {
                host
            },
            // A zero FILETIME (1601-01-01) means the writer had no time.
            time: if record.timestamp.as_second() <= -11_644_473_600 {
                When::Unknown
            } else {
                When::Utc(record.timestamp)
            },
            evidence: Evidence {
                path: path.to_string(),
                at: Locator::Record(record.event_record_id),
            },
            event_id,
            fact,
        })),
        None => RecordOut::Empty,
    }
}

fn event_id(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as u32),
        Value::Object(o) => o.get("#text").and_then(|t| match t {
            Value::Number(n) => n.as_u64().map(|n| n as u32),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// EventData looked up by field name, tolerant of missing fields and of the shapes the
/// evtx crate renders (strings, numbers, null).
struct Fields<'a>(&'a Value);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }
    fn text(&self, name: &str) -> String {
        match self.get(name) {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => String::new(),
        }
    }
    fn opt_text(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|s| !s.is_empty())
    }
    fn u64(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    fn f64(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    fn hr(&self, name: &str) -> Option<HResult> {
        match self.get(name)? {
            Value::Number(n) => n
                .as_u64()
                .map(|v| HResult(v as u32))
                .or_else(|| n.as_i64().map(|v| HResult(v as i32 as u32))),
            Value::String(s) => HResult::parse_number(s),
            _ => None,
        }
    }
    fn guid(&self, name: &str) -> Option<Guid> {
        self.get(name).and_then(Value::as_str).and_then(Guid::parse)
    }
    /// A size that may be u64::MAX for "unknown".
    fn size(&self, name: &str) -> Option<u64> {
        self.u64(name).filter(|v| *v != u64::MAX)
    }
}

fn bits_client(id: u32, version: u64, d: &Fields) -> Option<Fact> {
    Some(match id {
        3 if version == 0 => Fact::JobCreated {
            job: None,
            title: d.text("string"),
            owner: d.text("string2"),
            process: None,
        },
        3 => Fact::JobCreated {
            job: d.guid("jobId"),
            title: d.text("jobTitle"),
            owner: d.text("jobOwner"),
            process: d.opt_text("processPath"),
        },
        4 => Fact::JobCompleted {
            job: d.guid("jobId"),
            title: d.text("jobTitle"),
            owner: d.text("jobOwner"),
            file_count: d.u64("fileCount").map(|v| v as u32),
        },
        5 => Fact::JobCancelled {
            job: d.guid("jobId"),
            title: d.text("jobTitle"),
            owner: d.text("jobOwner"),
        },
        16384 | 16389 => Fact::JobCancelled {
            job: d.guid("Id"),
            title: d.text("Title"),
            owner: d.text("Owner"),
        },
        59 => Fact::TransferStarted {
            job: d.guid("Id"),
            title: d.text("name"),
            url: d.text("url"),
            bytes_total: d.size("bytesTotal"),
        },
        60 => Fact::TransferStopped {
            job: d.guid("Id"),
            title: d.text("name"),
            url: d.text("url"),
            hr: d.hr("hr").unwrap_or_default(),
            proxy: d.opt_text("proxy"),
            bytes_transferred: d.size("bytesTransferred"),
        },
        61 => Fact::TransferError {
            job: d.guid("Id"),
            title: d.text("name"),
            url: d.text("url"),
            hr: d.hr("hr")?,
            proxy: d.opt_text("proxy"),
            context: None,
        },
        200 => Fact::TransferError {
            job: d.guid("jobId"),
            title: d.text("job"),
            url: d.text("url"),
            hr: d.hr("hr")?,
            proxy: d.opt_text("proxy"),
            context: None,
        },
        201 => Fact::ProxyFailure {
            job: d.guid("jobId"),
            title: d.text("job"),
            url: d.text("url"),
            proxy_list: d.text("proxyServerList"),
            bypass_list: d.text("proxyBypassList"),
            hr: d.hr("error").unwrap_or_default(),
        },
        202 => {
            let hr = d.hr("hr").unwrap_or_default();
            let feature = match hr.0 {
                0x8020_0013 => "range",
                0x8020_0011 => "content-length",
                0x8020_0012 => "http/1.1",
                _ => "unknown",
            };
            Fact::HttpFeatureMissing {
                job: d.guid("jobId"),
                title: d.text("jobName"),
                url: d.text("url"),
                proxy: d.opt_text("proxy"),
                hr,
                feature: feature.into(),
                http_version: d.opt_text("HTTPVersion"),
                url_range: d.opt_text("URLRange"),
            }
        }
        204 if version >= 1 => Fact::CredentialsRejected {
            job_title: d.text("job"),
            server: d.text("server"),
            url: d.text("url"),
            scheme: d.text("scheme"),
            user: d.text("user"),
        },
        204 => Fact::CredentialsRejected {
            job_title: d.text("string2"),
            server: d.text("string"),
            url: String::new(),
            scheme: d.text("string3"),
            user: String::new(),
        },
        206 | 207 | 210 => Fact::HttpFeatureMissing {
            job: None,
            title: d.text("jobName"),
            url: d.text("url"),
            proxy: None,
            hr: HResult::S_OK,
            feature: match id {
                206 => "head",
                207 => "content-length",
                _ => "content-range",
            }
            .into(),
            http_version: None,
            url_range: None,
        },
        211 => Fact::TransferError {
            job: d.guid("JobGuid"),
            title: d.text("Title"),
            url: String::new(),
            hr: d.hr("ErrorCode")?,
            proxy: None,
            context: None,
        },
        302 | 16391 => Fact::ServiceWarning {
            event: id,
            hr: None,
            seconds: None,
        },
        307 | 308 => Fact::ServiceWarning {
            event: id,
            hr: None,
            seconds: d.f64("number"),
        },
        310 | 312 | 313 | 16392 | 16393 => Fact::ServiceWarning {
            event: id,
            hr: d.hr("ErrorCode"),
            seconds: None,
        },
        16404 => Fact::ServiceWarning {
            event: id,
            hr: d.hr("hr"),
            seconds: None,
        },
        17005 => Fact::ServiceConfig {
            name: "ObjectName".into(),
            value: d.text("string"),
        },
        16397 | 16398 | 16400 | 16401 | 16402 => Fact::LimitReached {
            event: id,
            entity: d.text("entityName"),
            current: d.u64("currentSize"),
            limit: d.u64("currentLimit"),
        },
        _ => return None,
    })
}

/// The service key name in a classic SCM event's binary data: UTF-16LE `BITS/4` (as hex text
/// in the rendering) names the service and its new state.
fn scm_binary(d: &Fields) -> Option<(String, Option<u32>)> {
    let hex = d.text("Binary");
    if hex.is_empty() || !hex.len().is_multiple_of(4) {
        return None;
    }
    let units: Vec<u16> = (0..hex.len() / 4)
        .filter_map(|i| {
            let b0 = u8::from_str_radix(hex.get(i * 4..i * 4 + 2)?, 16).ok()?;
            let b1 = u8::from_str_radix(hex.get(i * 4 + 2..i * 4 + 4)?, 16).ok()?;
            Some(u16::from_le_bytes([b0, b1]))
        })
        .take_while(|u| *u != 0)
        .collect();
    let text = String::from_utf16(&units).ok()?;
    let (name, state) = match text.split_once('/') {
        Some((n, s)) => (n.to_string(), s.parse().ok()),
        None => (text, None),
    };
    Some((name, state))
}

const BITS_DISPLAY_NAME: &str = "Background Intelligent Transfer Service";

fn is_bits(name: &str) -> bool {
    name.eq_ignore_ascii_case("BITS") || name.eq_ignore_ascii_case(BITS_DISPLAY_NAME)
}

/// `%%1053` (an insertion of Win32 error 1053) or a bare number, as an HRESULT.
fn scm_error(text: &str) -> Option<HResult> {
    let t = text.trim();
    let n: u32 = t.strip_prefix("%%").unwrap_or(t).parse().ok()?;
    Some(if n == 0 || n > 0xFFFF {
        HResult(n)
    } else {
        HResult(0x8007_0000 | n)
    })
}

fn scm(id: u32, d: &Fields) -> Option<Fact> {
    let binary = scm_binary(d);
    let by_binary = binary.as_ref().is_some_and(|(n, _)| is_bits(n));
    let service = "BITS".to_string();
    // The field that names the service, per event (param1 for most; param2 for 7009/7011).
    let about_bits = by_binary
        || match id {
            7040 => is_bits(&d.text("param4")) || is_bits(&d.text("param1")),
            7045 => is_bits(&d.text("ServiceName")),
            7009 | 7011 => is_bits(&d.text("param2")),
            _ => is_bits(&d.text("param1")),
        };
    if !about_bits {
        return None;
    }
    Some(match id {
        7036 => Fact::ServiceState {
            service,
            state: d.text("param2"),
            state_code: binary.and_then(|(_, s)| s),
        },
        7040 => Fact::ServiceStartType {
            service,
            from: d.text("param2"),
            to: d.text("param3"),
        },
        7000 | 7023 | 7024 => Fact::ServiceStartFailure {
            service,
            event: id,
            error: scm_error(&d.text("param2")),
            dependency: None,
        },
        7001 => Fact::ServiceStartFailure {
            service,
            event: id,
            error: scm_error(&d.text("param3")),
            dependency: d.opt_text("param2"),
        },
        // Timeouts: the service did not answer the SCM in time (ERROR_SERVICE_REQUEST_TIMEOUT).
        7009 | 7011 | 7022 => Fact::ServiceStartFailure {
            service,
            event: id,
            error: Some(HResult(0x8007_041D)),
            dependency: None,
        },
        7031 | 7034 => Fact::ServiceCrash {
            service,
            count: d.u64("param2").map(|v| v as u32),
        },
        7045 => Fact::ServiceInstalled {
            service,
            image_path: d.text("ImagePath"),
            account: d.text("AccountName"),
        },
        _ => return None,
    })
}

fn wu_client(id: u32, version: u64, d: &Fields) -> Option<Fact> {
    let stage = match id {
        19 => UpdateStage::Installed,
        20 => UpdateStage::InstallFailed,
        25 => UpdateStage::ScanFailed,
        31 => UpdateStage::DownloadFailed,
        41 => UpdateStage::Downloaded,
        43 => UpdateStage::InstallStarted,
        44 => UpdateStage::DownloadStarted,
        _ => return None,
    };
    let _ = version; // field lookup by name covers the v0/v1 order change of event 31
    Some(Fact::Update {
        stage,
        title: d.text("updateTitle"),
        guid: d
            .opt_text("updateGuid")
            .map(|g| g.trim_matches(['{', '}']).to_ascii_uppercase()),
        revision: d.u64("updateRevisionNumber").map(|v| v as u32),
        hr: d.hr("errorCode"),
        job: None,
    })
}

fn eventlog(id: u32, user_data: &Value) -> Option<Fact> {
    if id != 104 {
        return None;
    }
    let cleared = &user_data["LogFileCleared"];
    let channel = cleared["Channel"].as_str().unwrap_or("").to_string();
    let read = channel.starts_with(BITS_CLIENT)
        || channel.starts_with(WU_CLIENT)
        || channel.eq_ignore_ascii_case("System");
    read.then(|| Fact::LogCleared {
        channel,
        user: cleared["SubjectUserName"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hr_fields_decode_in_every_rendering() {
        let v = json!({"a": 2147954407u64, "b": "0x80200013", "c": -2145386477i64, "d": null});
        let f = Fields(&v);
        assert_eq!(f.hr("a"), Some(HResult(0x8007_2EE7)));
        assert_eq!(f.hr("b"), Some(HResult(0x8020_0013)));
        assert_eq!(f.hr("c"), Some(HResult(0x8020_0013)));
        assert_eq!(f.hr("d"), None);
        assert_eq!(f.hr("missing"), None);
    }

    #[test]
    fn scm_binary_names_service_and_state() {
        let v = json!({"Binary": "42004900540053002F0034000000"});
        assert_eq!(scm_binary(&Fields(&v)), Some(("BITS".into(), Some(4))));
    }

    #[test]
    fn scm_errors_are_win32() {
        assert_eq!(scm_error("%%1053"), Some(HResult(0x8007_041D)));
        assert_eq!(scm_error("1058"), Some(HResult(0x8007_0422)));
        assert_eq!(scm_error("The service did not respond"), None);
    }

    #[test]
    fn scm_7040_is_matched_by_key_name_not_localized_text() {
        let v = json!({"param1": "Arka Plan Akıllı Aktarım Hizmeti", "param2": "按需启动", "param3": "自动启动", "param4": "BITS"});
        match scm(7040, &Fields(&v)) {
            Some(Fact::ServiceStartType { from, to, .. }) => {
                assert_eq!(from, "按需启动");
                assert_eq!(to, "自动启动");
            }
            other => panic!("{other:?}"),
        }
        let other =
            json!({"param1": "Windows Update", "param2": "a", "param3": "b", "param4": "wuauserv"});
        assert_eq!(scm(7040, &Fields(&other)), None);
    }

    #[test]
    fn event_60_keeps_its_hr() {
        let v = json!({"Id": "{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}", "name": "j", "url": "http://x/", "hr": 262152u64, "bytesTransferred": 18446744073709551615u64});
        match bits_client(60, 1, &Fields(&v)) {
            Some(Fact::TransferStopped {
                hr,
                bytes_transferred,
                job,
                ..
            }) => {
                assert_eq!(hr, HResult(0x0004_0008));
                assert_eq!(bytes_transferred, None);
                assert!(job.is_some());
            }
            other => panic!("{other:?}"),
        }
    }
}

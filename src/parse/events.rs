//! What the events bitsdoctor reads mean: Bits-Client, Service Control Manager (about BITS
//! only), WindowsUpdateClient and Eventlog 104 records, decoded by field name into facts.
//! Both evtx readers (the fast BinXML reader and the evtx crate) feed this one decoder.

use crate::model::{ConfigSource, Fact, Guid, HResult, UpdateStage};
use crate::parse::binxml::{decode_value, FieldVal, Slot};
use serde_json::Value as JsonValue;
use std::borrow::Cow;

const BITS_CLIENT: &str = "Microsoft-Windows-Bits-Client";
const SCM: &str = "Service Control Manager";
const WU_CLIENT: &str = "Microsoft-Windows-WindowsUpdateClient";
const EVENTLOG: &str = "Microsoft-Windows-Eventlog";

/// The providers this parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    BitsClient,
    Scm,
    WuClient,
    Eventlog,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::BitsClient,
        Provider::Scm,
        Provider::WuClient,
        Provider::Eventlog,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Provider::BitsClient => BITS_CLIENT,
            Provider::Scm => SCM,
            Provider::WuClient => WU_CLIENT,
            Provider::Eventlog => EVENTLOG,
        }
    }
    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// Event fields looked up by name, tolerant of missing fields and of the shapes a value can
/// take (the fast reader's typed values, or the evtx crate's JSON rendering).
pub struct Fields<'a> {
    items: Vec<(&'a str, FieldVal<'a>)>,
    /// The fast reader's fields: a template's named slots over one record's values, decoded
    /// only when asked for.
    planned: Option<(&'a [NamedSlot], &'a [Value<'a>])>,
}

/// A field's name and where its value is, in a template's plan.
pub type NamedSlot = (String, Slot);

/// One substitution value of a record: (type, bytes, chunk offset).
pub type Value<'a> = (u8, &'a [u8], usize);

/// The longest GUID text read without decoding it into a String first (a braced GUID is 38).
const ASCII_GUID_MAX: usize = 64;

/// Text, owned, without the white space around it (in place when there is none to cut).
fn trimmed(text: Cow<'_, str>) -> String {
    match text {
        Cow::Owned(s) if s.trim().len() == s.len() => s,
        t => t.trim().to_string(),
    }
}

impl<'a> Fields<'a> {
    pub fn new(items: Vec<(&'a str, FieldVal<'a>)>) -> Self {
        Fields {
            items,
            planned: None,
        }
    }

    /// The fields a template's plan names, over one record's substitution values.
    pub fn planned(names: &'a [NamedSlot], values: &'a [Value<'a>]) -> Self {
        Fields {
            items: Vec::new(),
            planned: Some((names, values)),
        }
    }

    /// The fields of a JSON object (EventData or a UserData element) as the evtx crate renders it.
    pub fn from_json(v: &'a JsonValue) -> Self {
        let items = match v {
            JsonValue::Object(o) => o
                .iter()
                .filter(|(k, _)| !k.starts_with('#'))
                .map(|(k, v)| (k.as_str(), json_value(v)))
                .collect(),
            _ => Vec::new(),
        };
        Fields::new(items)
    }

    fn get(&self, name: &str) -> Option<FieldVal<'_>> {
        let v = match self.planned {
            Some((names, values)) => match &names.iter().find(|(k, _)| k == name)?.1 {
                Slot::Fixed(t) => FieldVal::Str(Cow::Borrowed(t)),
                Slot::Sub(i) => values
                    .get(*i as usize)
                    .map(|(ty, b, _)| decode_value(*ty, b))
                    .unwrap_or(FieldVal::Null),
            },
            None => self.items.iter().find(|(k, _)| *k == name)?.1.view(),
        };
        Some(v).filter(|v| !matches!(v, FieldVal::Null))
    }
    fn text(&self, name: &str) -> String {
        match self.get(name) {
            Some(v @ (FieldVal::Str(_) | FieldVal::Utf16(_) | FieldVal::Guid(_))) => {
                v.as_text().map(trimmed).unwrap_or_default()
            }
            Some(FieldVal::U(n)) => n.to_string(),
            Some(FieldVal::I(n)) => n.to_string(),
            Some(FieldVal::F(n)) => n.to_string(),
            Some(FieldVal::Bool(b)) => b.to_string(),
            _ => String::new(),
        }
    }
    fn opt_text(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|s| !s.is_empty())
    }
    fn u64(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            FieldVal::U(n) => Some(n),
            FieldVal::I(n) => u64::try_from(n).ok(),
            v => v.as_text()?.trim().parse().ok(),
        }
    }
    fn f64(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            FieldVal::F(n) => Some(n),
            FieldVal::U(n) => Some(n as f64),
            FieldVal::I(n) => Some(n as f64),
            v => v.as_text()?.trim().parse().ok(),
        }
    }
    fn hr(&self, name: &str) -> Option<HResult> {
        match self.get(name)? {
            FieldVal::U(n) => Some(HResult(n as u32)),
            FieldVal::I(n) => Some(HResult(n as i32 as u32)),
            v => HResult::parse_number(&v.as_text()?),
        }
    }
    fn guid(&self, name: &str) -> Option<Guid> {
        match self.get(name)? {
            FieldVal::Guid(b) => Guid::from_le_bytes(b),
            // GUID text is ASCII: read from the UTF-16 without a String for it first.
            FieldVal::Utf16(b) if b.len() <= 2 * ASCII_GUID_MAX => {
                let mut text = [0u8; ASCII_GUID_MAX];
                let mut n = 0;
                for c in b.chunks_exact(2) {
                    if c[1] != 0 || c[0] >= 0x80 {
                        return Guid::parse(&FieldVal::Utf16(b).as_text()?);
                    }
                    text[n] = c[0];
                    n += 1;
                }
                let text = std::str::from_utf8(&text[..n]).ok()?;
                Guid::parse(text.trim_end_matches('\0'))
            }
            v => Guid::parse(&v.as_text()?),
        }
    }
    /// A size that may be u64::MAX for "unknown".
    fn size(&self, name: &str) -> Option<u64> {
        self.u64(name).filter(|v| *v != u64::MAX)
    }
    /// Binary data: raw bytes, or the hex text the JSON rendering gives.
    fn binary(&self, name: &str) -> Option<Vec<u8>> {
        match self.get(name)? {
            FieldVal::Bin(b) => Some(b.to_vec()),
            FieldVal::Str(hex) => {
                if !hex.len().is_multiple_of(2) {
                    return None;
                }
                (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok())
                    .collect()
            }
            _ => None,
        }
    }
}

fn json_value(v: &JsonValue) -> FieldVal<'_> {
    match v {
        JsonValue::Null => FieldVal::Null,
        JsonValue::Bool(b) => FieldVal::Bool(*b),
        JsonValue::Number(n) => n
            .as_u64()
            .map(FieldVal::U)
            .or_else(|| n.as_i64().map(FieldVal::I))
            .or_else(|| n.as_f64().map(FieldVal::F))
            .unwrap_or(FieldVal::Null),
        JsonValue::String(s) => FieldVal::Str(Cow::Borrowed(s)),
        _ => FieldVal::Null,
    }
}

/// What one record of a provider we read says, from its event id, version and fields.
pub fn decode(provider: Provider, id: u32, version: u64, d: &Fields) -> Option<Fact> {
    match provider {
        Provider::BitsClient => bits_client(id, version, d),
        Provider::Scm => scm(id, d),
        Provider::WuClient => wu_client(id, d),
        Provider::Eventlog => eventlog(id, d),
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
        // 16403 names a job's file: its URL joins the job's timeline, its local name the
        // job's files.
        16403 => Fact::FileQueued {
            job: d.guid("jobId"),
            title: d.text("jobTitle"),
            remote: d.text("RemoteName"),
            local: d.text("LocalName"),
        },
        6 => Fact::NotifyCommand {
            job: d.guid("jobId"),
            program: d.text("program"),
            parameters: d.text("parameters"),
        },
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
            from: ConfigSource::EventLog,
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

/// The service key name in a classic SCM event's binary data: UTF-16LE `BITS/4` names the
/// service and its new state.
fn scm_binary(d: &Fields) -> Option<(String, Option<u32>)> {
    let bytes = d.binary("Binary")?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|u| *u != 0)
        .collect();
    if units.is_empty() {
        return None;
    }
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

fn wu_client(id: u32, d: &Fields) -> Option<Fact> {
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
    // Field lookup by name covers the v0/v1 order change of event 31.
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

fn eventlog(id: u32, d: &Fields) -> Option<Fact> {
    if id != 104 {
        return None;
    }
    let channel = d.text("Channel");
    let read = channel.starts_with(BITS_CLIENT)
        || channel.starts_with(WU_CLIENT)
        || channel.eq_ignore_ascii_case("System");
    read.then(|| Fact::LogCleared {
        channel,
        user: d.text("SubjectUserName"),
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn guid_text_in_utf16_reads_as_the_decoded_text_does() {
        let utf16 =
            |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(|u| u.to_le_bytes()).collect() };
        let cases = [
            "{3fe0a035-7a15-4f3f-94b1-1945ffa83067}\0",
            " 3FE0A035-7A15-4F3F-94B1-1945FFA83067 ",
            "{3FE0A035-7A15-4F3F-94B1-1945FFA8306é}",
            "not a guid",
            "",
        ];
        for t in cases {
            let b = utf16(t);
            let fields = Fields::new(vec![("Id", FieldVal::Utf16(&b))]);
            let decoded = FieldVal::Utf16(&b).as_text().and_then(|t| Guid::parse(&t));
            assert_eq!(fields.guid("Id"), decoded, "{t:?}");
        }
        let b = utf16("{3fe0a035-7a15-4f3f-94b1-1945ffa83067}");
        let fields = Fields::new(vec![("Id", FieldVal::Utf16(&b))]);
        assert_eq!(
            fields.guid("Id").map(|g| g.to_string()),
            Some("{3FE0A035-7A15-4F3F-94B1-1945FFA83067}".to_string())
        );
    }

    #[test]
    fn providers_are_listed_in_their_declared_order() {
        for (i, p) in Provider::ALL.into_iter().enumerate() {
            assert_eq!(p as usize, i, "{p:?}");
        }
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn hr_fields_decode_in_every_rendering() {
        let v = json!({"a": 2147954407u64, "b": "0x80200013", "c": -2145386477i64, "d": null});
        let f = Fields::from_json(&v);
        assert_eq!(f.hr("a"), Some(HResult(0x8007_2EE7)));
        assert_eq!(f.hr("b"), Some(HResult(0x8020_0013)));
        assert_eq!(f.hr("c"), Some(HResult(0x8020_0013)));
        assert_eq!(f.hr("d"), None);
        assert_eq!(f.hr("missing"), None);
    }

    #[test]
    fn scm_binary_names_service_and_state() {
        let v = json!({"Binary": "42004900540053002F0034000000"});
        assert_eq!(
            scm_binary(&Fields::from_json(&v)),
            Some(("BITS".into(), Some(4)))
        );
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
        match scm(7040, &Fields::from_json(&v)) {
            Some(Fact::ServiceStartType { from, to, .. }) => {
                assert_eq!(from, "按需启动");
                assert_eq!(to, "自动启动");
            }
            other => panic!("{other:?}"),
        }
        let other =
            json!({"param1": "Windows Update", "param2": "a", "param3": "b", "param4": "wuauserv"});
        assert_eq!(scm(7040, &Fields::from_json(&other)), None);
    }

    #[test]
    fn event_60_keeps_its_hr() {
        let v = json!({"Id": "{6AF6F4C8-0B48-4C1B-A11A-6D1F7E6E1C7A}", "name": "j", "url": "http://x/", "hr": 262152u64, "bytesTransferred": 18446744073709551615u64});
        match bits_client(60, 1, &Fields::from_json(&v)) {
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

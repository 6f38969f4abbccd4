//! The public description of one event.

use crate::value::Value;

/// The `xmlns` of `<Event>`.
pub const EVENT_NAMESPACE: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// One event, as `<Event><System>..</System><EventData>..</EventData></Event>` (or
/// `<UserData>`) shows it.
///
/// Start from [`Event::default`] or [`Event::new`] and set what matters; `Default` gives
/// Level 4 (Information), Keywords 0, and empty strings.
///
/// How the System part is laid out follows Windows:
/// * Events in the classic channels (`System`, `Application`, `Security`) or with an
///   `event_source_name` get the *classic* layout: provider name, GUID, `EventSourceName` and
///   channel are literal text in the template (as Service Control Manager, WindowsUpdateClient
///   in System, and Eventlog 104 records have them).
/// * Other events (e.g. `Microsoft-Windows-Bits-Client/Operational`) get the *manifest* layout:
///   provider name, GUID and channel are substitution values.
///
/// `<Computer>` is always literal template text, as in Windows.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `Provider/@Name`.
    pub provider: String,
    /// `Provider/@Guid`, `{...}`; none leaves the attribute out.
    pub provider_guid: Option<String>,
    /// `Provider/@EventSourceName` (classic providers such as Service Control Manager).
    pub event_source_name: Option<String>,
    pub event_id: u16,
    /// `EventID/@Qualifiers` (classic events: 16384, 32768, 49152).
    pub qualifiers: Option<u16>,
    pub version: u8,
    pub level: u8,
    pub task: u16,
    pub opcode: u8,
    /// Rendered as `0x...` (HexInt64).
    pub keywords: u64,
    /// `TimeCreated/@SystemTime` and the record header's time.
    pub time: jiff::Timestamp,
    /// `Correlation/@ActivityID`, `{...}`.
    pub activity_id: Option<String>,
    /// `Correlation/@RelatedActivityID`, `{...}`.
    pub related_activity_id: Option<String>,
    pub process_id: u32,
    pub thread_id: u32,
    pub channel: String,
    pub computer: String,
    /// `Security/@UserID`, `S-1-5-18` form.
    pub user_sid: Option<String>,
    /// `<EventData><Data Name="..">..</Data>...</EventData>`, in order.
    pub data: Vec<(String, Value)>,
    /// Classic events' binary data: `<Binary>` after the `Data` elements (preceded, as Windows
    /// does, by an unreferenced UInt32 value holding its length).
    pub binary: Option<Vec<u8>>,
    /// When set, the event has `<UserData>` instead of `<EventData>` (`data` and `binary` are
    /// then ignored).
    pub user_data: Option<UserData>,
}

impl Default for Event {
    fn default() -> Self {
        Event {
            provider: String::new(),
            provider_guid: None,
            event_source_name: None,
            event_id: 0,
            qualifiers: None,
            version: 0,
            level: 4,
            task: 0,
            opcode: 0,
            keywords: 0,
            time: jiff::Timestamp::UNIX_EPOCH,
            activity_id: None,
            related_activity_id: None,
            process_id: 0,
            thread_id: 0,
            channel: String::new(),
            computer: String::new(),
            user_sid: None,
            data: Vec::new(),
            binary: None,
            user_data: None,
        }
    }
}

impl Event {
    /// An event of `provider` with `event_id` in `channel` on `computer`; the rest default.
    pub fn new(provider: &str, event_id: u16, channel: &str, computer: &str) -> Self {
        Event {
            provider: provider.to_string(),
            event_id,
            channel: channel.to_string(),
            computer: computer.to_string(),
            ..Event::default()
        }
    }

    /// Appends an EventData field.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.data.push((name.to_string(), value));
        self
    }

    /// Whether the System part uses the classic layout (see the type's documentation).
    pub fn is_classic(&self) -> bool {
        self.event_source_name.is_some()
            || matches!(self.channel.as_str(), "System" | "Application" | "Security")
    }
}

/// `<UserData><{element} xmlns="{namespace}"><{field}>value</{field}>...</{element}></UserData>`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserData {
    /// The element under `<UserData>`, e.g. `LogFileCleared`.
    pub element: String,
    /// Its `xmlns`, e.g. `http://manifests.microsoft.com/win/2004/08/windows/eventlog`.
    pub namespace: Option<String>,
    /// Child elements, in order.
    pub fields: Vec<(String, Value)>,
}

//! Typed substitution values and their BinXML encodings (MS-EVEN6 2.2.18, libyal "Value types").

use crate::error::WriteError;

/// BinXML value type codes used by this crate.
pub(crate) mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const UINT8: u8 = 0x04;
    pub const UINT16: u8 = 0x06;
    pub const INT32: u8 = 0x07;
    pub const UINT32: u8 = 0x08;
    pub const INT64: u8 = 0x09;
    pub const UINT64: u8 = 0x0a;
    pub const REAL64: u8 = 0x0c;
    pub const BOOL: u8 = 0x0d;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const FILETIME: u8 = 0x11;
    pub const SYSTIME: u8 = 0x12;
    pub const SID: u8 = 0x13;
    pub const HEXINT32: u8 = 0x14;
    pub const HEXINT64: u8 = 0x15;
    pub const BINXML: u8 = 0x21;
}

/// One typed value of an `EventData` / `UserData` field.
///
/// The variant decides the BinXML type that readers see, and so how they render it: `U32` as
/// decimal (`2149580819`), `HexInt32` as `0x80200013`, `Guid` in braces, `FileTime`/`SysTime`
/// as ISO 8601 UTC, `Binary` as upper-case hex, `Sid` as `S-1-5-18`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (a substitution of type Null); renders empty.
    Null,
    /// A UTF-16 string (written without a terminating NUL, as Windows 10 writes them).
    Str(String),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    I32(i32),
    I64(i64),
    /// A UInt32 rendered in hex (`win:HexInt32`, e.g. WindowsUpdateClient `errorCode`).
    HexInt32(u32),
    /// A UInt64 rendered in hex (`win:HexInt64`).
    HexInt64(u64),
    /// An IEEE 754 double (`win:Double`, e.g. Bits-Client 308 `number`).
    Double(f64),
    /// A 4-byte BOOL.
    Bool(bool),
    /// A GUID, `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`; braces optional, any case.
    Guid(String),
    /// A raw FILETIME: 100 ns intervals since 1601-01-01 UTC.
    FileTime(u64),
    /// A SYSTEMTIME, written from this UTC instant (millisecond precision).
    SysTime(jiff::Timestamp),
    /// A SID in `S-1-5-18` form.
    Sid(String),
    /// Raw bytes.
    Binary(Vec<u8>),
}

impl Value {
    /// The value type a template substitution declares for this value. A `Null` declares a
    /// string, the commonest field type.
    pub(crate) fn declared_type(&self) -> u8 {
        match self {
            Value::Null | Value::Str(_) => ty::STRING,
            Value::U8(_) => ty::UINT8,
            Value::U16(_) => ty::UINT16,
            Value::U32(_) => ty::UINT32,
            Value::U64(_) => ty::UINT64,
            Value::I32(_) => ty::INT32,
            Value::I64(_) => ty::INT64,
            Value::HexInt32(_) => ty::HEXINT32,
            Value::HexInt64(_) => ty::HEXINT64,
            Value::Double(_) => ty::REAL64,
            Value::Bool(_) => ty::BOOL,
            Value::Guid(_) => ty::GUID,
            Value::FileTime(_) => ty::FILETIME,
            Value::SysTime(_) => ty::SYSTIME,
            Value::Sid(_) => ty::SID,
            Value::Binary(_) => ty::BINARY,
        }
    }

    /// The value's (type, bytes) as a template instance carries it. `field` names the value in
    /// errors.
    pub(crate) fn encode(&self, field: &str) -> Result<Encoded, WriteError> {
        let (value_type, bytes) = match self {
            Value::Null => (ty::NULL, Vec::new()),
            Value::Str(s) => (ty::STRING, utf16le(s)),
            Value::U8(v) => (ty::UINT8, vec![*v]),
            Value::U16(v) => (ty::UINT16, v.to_le_bytes().to_vec()),
            Value::U32(v) => (ty::UINT32, v.to_le_bytes().to_vec()),
            Value::U64(v) => (ty::UINT64, v.to_le_bytes().to_vec()),
            Value::I32(v) => (ty::INT32, v.to_le_bytes().to_vec()),
            Value::I64(v) => (ty::INT64, v.to_le_bytes().to_vec()),
            Value::HexInt32(v) => (ty::HEXINT32, v.to_le_bytes().to_vec()),
            Value::HexInt64(v) => (ty::HEXINT64, v.to_le_bytes().to_vec()),
            Value::Double(v) => (ty::REAL64, v.to_le_bytes().to_vec()),
            Value::Bool(v) => (ty::BOOL, u32::from(*v).to_le_bytes().to_vec()),
            Value::Guid(s) => (ty::GUID, guid_bytes(field, s)?.to_vec()),
            Value::FileTime(v) => (ty::FILETIME, v.to_le_bytes().to_vec()),
            Value::SysTime(t) => (ty::SYSTIME, systemtime_bytes(field, *t)?),
            Value::Sid(s) => (ty::SID, sid_bytes(field, s)?),
            Value::Binary(b) => (ty::BINARY, b.clone()),
        };
        Encoded::new(field, value_type, bytes)
    }
}

/// A value ready for a template instance: its type and at most 65535 bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Encoded {
    pub value_type: u8,
    pub bytes: Vec<u8>,
}

impl Encoded {
    /// Checks that `bytes` fits a substitution descriptor's u16 size.
    pub(crate) fn new(field: &str, value_type: u8, bytes: Vec<u8>) -> Result<Self, WriteError> {
        if bytes.len() > usize::from(u16::MAX) {
            return Err(WriteError::ValueTooLarge {
                field: field.to_string(),
                size: bytes.len(),
            });
        }
        Ok(Encoded { value_type, bytes })
    }

    /// A Null value.
    pub(crate) fn null() -> Self {
        Encoded {
            value_type: ty::NULL,
            bytes: Vec::new(),
        }
    }

    /// The size for the descriptor; `new` guaranteed that it fits.
    pub(crate) fn size(&self) -> u16 {
        u16::try_from(self.bytes.len()).unwrap_or(u16::MAX)
    }
}

/// UTF-16LE bytes of `s`, without a NUL.
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The 16 on-disk bytes of a GUID string (Data1..3 little-endian, Data4 as is).
pub(crate) fn guid_bytes(field: &str, s: &str) -> Result<[u8; 16], WriteError> {
    parse_guid(s).ok_or_else(|| WriteError::InvalidGuid {
        field: field.to_string(),
        value: s.to_string(),
    })
}

fn parse_guid(s: &str) -> Option<[u8; 16]> {
    let s = s.trim();
    let s = match (s.strip_prefix('{'), s.strip_suffix('}')) {
        (Some(_), Some(_)) => s.get(1..s.len() - 1)?,
        (None, None) => s,
        _ => return None,
    };
    let parts: Vec<&str> = s.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    if parts.len() != 5
        || parts
            .iter()
            .zip(lengths)
            .any(|(p, n)| p.len() != n || !p.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return None;
    }
    let d1 = u32::from_str_radix(parts[0], 16).ok()?;
    let d2 = u16::from_str_radix(parts[1], 16).ok()?;
    let d3 = u16::from_str_radix(parts[2], 16).ok()?;
    let tail = format!("{}{}", parts[3], parts[4]);
    let mut out = [0u8; 16];
    out[..4].copy_from_slice(&d1.to_le_bytes());
    out[4..6].copy_from_slice(&d2.to_le_bytes());
    out[6..8].copy_from_slice(&d3.to_le_bytes());
    for (i, byte) in out[8..].iter_mut().enumerate() {
        *byte = u8::from_str_radix(tail.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `{xxxxxxxx-...}` in lower case, as Windows writes provider GUIDs into templates.
pub(crate) fn format_guid(b: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let d2 = u16::from_le_bytes([b[4], b[5]]);
    let d3 = u16::from_le_bytes([b[6], b[7]]);
    let tail: String = b[10..].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{{{d1:08x}-{d2:04x}-{d3:04x}-{:02x}{:02x}-{tail}}}",
        b[8], b[9]
    )
}

/// The binary SID of `S-1-<authority>-<sub>...`: revision, count, 48-bit big-endian authority,
/// little-endian u32 sub-authorities.
pub(crate) fn sid_bytes(field: &str, s: &str) -> Result<Vec<u8>, WriteError> {
    parse_sid(s).ok_or_else(|| WriteError::InvalidSid {
        field: field.to_string(),
        value: s.to_string(),
    })
}

fn parse_sid(s: &str) -> Option<Vec<u8>> {
    let mut parts = s.trim().split('-');
    if !parts.next()?.eq_ignore_ascii_case("S") {
        return None;
    }
    let revision: u8 = parts.next()?.parse().ok()?;
    let authority_text = parts.next()?;
    let authority: u64 = match authority_text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => authority_text.parse().ok()?,
    };
    if authority >= 1 << 48 {
        return None;
    }
    let subs: Vec<u32> = parts
        .map(|p| p.parse().ok())
        .collect::<Option<Vec<u32>>>()?;
    let count = u8::try_from(subs.len()).ok().filter(|&n| n <= 15)?;
    let mut out = vec![revision, count];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for sub in subs {
        out.extend_from_slice(&sub.to_le_bytes());
    }
    Some(out)
}

/// 100 ns intervals between 1601-01-01 and 1970-01-01.
const FILETIME_UNIX_EPOCH: i128 = 116_444_736_000_000_000;

/// The FILETIME of a UTC instant.
pub fn filetime(field: &str, t: jiff::Timestamp) -> Result<u64, WriteError> {
    let ticks = t.as_nanosecond() / 100 + FILETIME_UNIX_EPOCH;
    u64::try_from(ticks).map_err(|_| WriteError::TimeOutOfRange {
        field: field.to_string(),
        time: t.to_string(),
    })
}

fn systemtime_bytes(field: &str, t: jiff::Timestamp) -> Result<Vec<u8>, WriteError> {
    let dt = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let year = u16::try_from(dt.year())
        .ok()
        .filter(|&y| y >= 1601)
        .ok_or_else(|| WriteError::TimeOutOfRange {
            field: field.to_string(),
            time: t.to_string(),
        })?;
    let fields: [u16; 8] = [
        year,
        dt.month().unsigned_abs().into(),
        dt.weekday().to_sunday_zero_offset().unsigned_abs().into(),
        dt.day().unsigned_abs().into(),
        dt.hour().unsigned_abs().into(),
        dt.minute().unsigned_abs().into(),
        dt.second().unsigned_abs().into(),
        dt.millisecond().unsigned_abs(),
    ];
    Ok(fields.iter().flat_map(|v| v.to_le_bytes()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips() {
        let text = "{ef1cc15b-46c1-414e-bb95-e76b077bd51e}";
        let bytes = guid_bytes("g", text).unwrap();
        // As in a real Bits-Client record.
        assert_eq!(
            bytes.to_vec(),
            [
                0x5b, 0xc1, 0x1c, 0xef, 0xc1, 0x46, 0x4e, 0x41, 0xbb, 0x95, 0xe7, 0x6b, 0x07, 0x7b,
                0xd5, 0x1e
            ]
        );
        assert_eq!(format_guid(&bytes), text);
        assert_eq!(
            guid_bytes("g", "EF1CC15B-46C1-414E-BB95-E76B077BD51E").unwrap(),
            bytes
        );
        assert!(guid_bytes("g", "{ef1cc15b-46c1-414e-bb95-e76b077bd51}").is_err());
        assert!(guid_bytes("g", "{ef1cc15b-46c1-414e-bb95-e76b077bd51e").is_err());
    }

    #[test]
    fn sid_encodes() {
        assert_eq!(
            sid_bytes("s", "S-1-5-18").unwrap(),
            [1, 1, 0, 0, 0, 0, 0, 5, 0x12, 0, 0, 0]
        );
        assert!(sid_bytes("s", "S-1-5").is_ok());
        assert!(sid_bytes("s", "S-1").is_err());
        assert!(sid_bytes("s", "X-1-5").is_err());
        assert!(sid_bytes("s", "S-1-5-x").is_err());
    }

    #[test]
    fn filetime_of_unix_epoch() {
        assert_eq!(
            filetime("t", jiff::Timestamp::UNIX_EPOCH).unwrap(),
            116_444_736_000_000_000
        );
        assert!(filetime("t", jiff::Timestamp::MIN).is_err());
    }
}

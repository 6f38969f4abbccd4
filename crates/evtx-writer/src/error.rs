//! The one error type of this crate.

use thiserror::Error;

/// Why an event could not be written.
///
/// Every variant names the offending field or event so that a caller building fixtures can see
/// at once which input was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WriteError {
    /// A GUID field did not hold `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}` (braces optional).
    #[error("{field}: {value:?} is not a GUID")]
    InvalidGuid { field: String, value: String },

    /// A SID field did not hold `S-1-<authority>-<sub>...` with at most 15 sub-authorities.
    #[error("{field}: {value:?} is not a SID")]
    InvalidSid { field: String, value: String },

    /// A substitution value is larger than the 65535 bytes its size field can describe.
    #[error("{field}: a value of {size} bytes is larger than a substitution can hold (65535)")]
    ValueTooLarge { field: String, size: usize },

    /// An element or attribute name is longer than 65535 UTF-16 code units.
    #[error("name of {len} UTF-16 code units is too long for the string table")]
    NameTooLong { len: usize },

    /// A time before 1601-01-01T00:00:00Z, which a FILETIME cannot hold.
    #[error("{field}: {time} is before 1601-01-01, which a FILETIME cannot hold")]
    TimeOutOfRange { field: String, time: String },

    /// The event does not fit in an empty 64 KiB chunk.
    #[error("event {event_id} needs a record of {size} bytes; a chunk holds at most {max}")]
    EventTooLarge {
        event_id: u16,
        size: usize,
        max: usize,
    },

    /// The file header counts chunks in a u16.
    #[error("the file would need more than 65535 chunks")]
    TooManyChunks,

    /// The next record id would not fit in a u64.
    #[error("record ids are exhausted")]
    RecordIdOverflow,
}

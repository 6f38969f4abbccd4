//! Writes Windows EVTX files (event logs as `.evtx` exports hold them), for bitsdoctor's test
//! fixtures, samples and bench corpora.
//!
//! The layout follows what Windows writes (MS-EVEN6; libyal's EVTX notes; byte comparisons with
//! real Windows 10 logs): a 4096-byte file header, 64 KiB chunks with their string and template
//! tables, and records whose BinXML is a template instance: the System template (defined once
//! per chunk, referenced by offset afterwards) with typed substitution values, the last being a
//! nested BinXML template instance for `<EventData>` or `<UserData>`.
//!
//! ```
//! use evtx_writer::{Event, EvtxWriter, Value};
//!
//! let mut event = Event::new(
//!     "Microsoft-Windows-Bits-Client",
//!     61,
//!     "Microsoft-Windows-Bits-Client/Operational",
//!     "PC01.example.com",
//! )
//! .with("name", Value::Str("WU job".into()))
//! .with("hr", Value::U32(0x8020_0013));
//! event.provider_guid = Some("{ef1cc15b-46c1-414e-bb95-e76b077bd51e}".into());
//! event.level = 3;
//!
//! let mut writer = EvtxWriter::new();
//! assert_eq!(writer.push(&event).unwrap(), 1);
//! let bytes = writer.finish();
//! assert_eq!(&bytes[..8], b"ElfFile\0");
//! ```

mod binxml;
mod chunk;
mod error;
mod event;
mod header;
mod layout;
mod tables;
mod template;
mod value;
mod writer;

pub use error::WriteError;
pub use event::{Event, UserData, EVENT_NAMESPACE};
pub use value::{filetime, Value};
pub use writer::EvtxWriter;

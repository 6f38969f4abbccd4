pub mod decode;
pub mod dedup;
pub mod host;
pub mod sniff;
pub mod walk;
pub mod zip;

/// Bytes read of one text input, a file or a zip entry (event logs are streamed or read whole,
/// within their own limits): enough for any real capture (a `bitsadmin /list /allusers
/// /verbose` of a few thousand jobs is a few MiB), and memory stays bounded. A larger text
/// input is read up to the cap and reported `partial`.
pub const MAX_TEXT_BYTES: u64 = 32 << 20;

/// Bytes of a text input its kind is told from before the rest is read.
pub const SNIFF_BYTES: u64 = 64 << 10;

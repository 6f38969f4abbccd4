pub mod decode;
pub mod dedup;
pub mod host;
pub mod sniff;
pub mod walk;
pub mod zip;

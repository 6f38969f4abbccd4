pub mod decode;
pub mod sniff;
pub mod walk;
pub mod zip;

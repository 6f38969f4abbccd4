pub mod decode;
pub mod sniff;

//! One file per subcommand: each takes plain arguments and returns (stdout text, exit code).

pub mod analyze;
pub mod codes;
pub mod collect;
pub mod explain;
pub mod probe;

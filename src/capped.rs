//! Reading a whole small file (a code table, a lists file, a Sigma rule, a report) with its size
//! limit checked while reading rather than taken from the file's metadata: `/dev/zero`, a FIFO
//! or a file that grows while it is read all stop at the limit.

use std::io::{self, Read};
use std::path::Path;

/// The bytes of `path` when it holds at most `cap` bytes; an error of kind `FileTooLarge`
/// ("larger than 16 MiB") when it holds more. Never reads more than `cap + 1` bytes.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {}", size(cap)),
        ));
    }
    Ok(bytes)
}

/// `16 MiB` for whole mebibytes, else `N bytes`.
fn size(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_at_the_limit_is_read_and_one_byte_more_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abcd").unwrap();
        assert_eq!(read_capped(&p, 4).unwrap(), b"abcd");
        let e = read_capped(&p, 3).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "larger than 3 bytes");
    }

    #[test]
    fn the_limit_is_said_in_mebibytes_when_it_is_whole() {
        assert_eq!(size(16 << 20), "16 MiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_stops_at_the_limit() {
        let e = read_capped(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn a_missing_file_is_the_open_error() {
        let e = read_capped(Path::new("/no/such/file/here"), 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}

//! Running a piece of work so that a panic in it (a bug, never expected from any input) costs
//! that piece only: reading one input, or one group of rules.

/// Run `work`; a panic becomes `Err` with its message.
pub fn catch<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(super::catch(|| 7), Ok(7));
        assert_eq!(
            super::catch(|| -> u8 { panic!("bad {}", 1) }),
            Err("bad 1".into())
        );
        assert_eq!(
            super::catch(|| -> u8 { panic!("plain") }),
            Err("plain".into())
        );
    }
}

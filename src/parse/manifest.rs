//! The manifest `bitsdoctor collect` writes into a bundle (`collect-manifest.json`) -> one
//! warning per capture that is not in the bundle, saying what it is and why it is missing, so
//! a report shows what the analysis could not see.

use super::{Parsed, Source};
use crate::collect::{Manifest, Status};

/// Parse a collect manifest. Never fails: a manifest that cannot be read is one warning.
pub fn parse(text: &str, src: &Source) -> Parsed {
    let mut out = Parsed::default();
    let manifest: Manifest = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => {
            out.warn(src, None, format!("collect manifest not readable: {e}"));
            return out;
        }
    };
    for r in manifest.not_collected() {
        let mut message = format!(
            "not collected: {} ({}; `{}`): {}",
            r.what,
            r.file,
            r.command,
            r.status.explain()
        );
        if let Some(code) = r.exit_code.filter(|_| r.status != Status::Absent) {
            message.push_str(&format!(", exit code {code}"));
        }
        if let Some(m) = &r.message {
            message.push_str(": ");
            message.push_str(m);
        }
        if r.kept {
            message.push_str(" (its output is in the bundle)");
        }
        out.warn(src, None, message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Source = Source {
        path: "bundle.zip!WS01/collect-manifest.json",
        host: "WS01",
    };

    #[test]
    fn lists_each_capture_not_collected_with_its_reason() {
        let text = r#"{
  "schema": "bitsdoctor/collect/v1",
  "host": "WS01",
  "tool": "bitsdoctor 0.1.0",
  "steps": [
    {"file": "reg-bits-service.txt", "what": "BITS service registry key", "command": "reg.exe query HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS", "status": "collected", "kept": true, "exit_code": 0},
    {"file": "bitsadmin.txt", "what": "BITS jobs of all users (bitsadmin)", "command": "bitsadmin.exe /list /allusers /verbose", "status": "missing"},
    {"file": "System.evtx", "what": "System event log", "command": "wevtutil.exe epl System x /ow:true", "status": "denied", "exit_code": 5, "message": "Access is denied."},
    {"file": "reg-bits-policy.txt", "what": "BITS group policy values", "command": "reg.exe query HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\BITS", "status": "absent", "exit_code": 1},
    {"file": "x.txt", "what": "from a newer version", "command": "x", "status": "brand_new"}
  ]
}"#;
        let p = parse(text, &SRC);
        assert!(p.observations.is_empty());
        let msgs: Vec<&str> = p.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(msgs.len(), 4, "{msgs:#?}");
        assert_eq!(
            msgs[0],
            "not collected: BITS jobs of all users (bitsadmin) (bitsadmin.txt; \
             `bitsadmin.exe /list /allusers /verbose`): the program is not on the machine"
        );
        assert!(msgs[1]
            .contains("access denied (run collect elevated), exit code 5: Access is denied."));
        assert!(
            msgs[2].ends_with("not present on the machine"),
            "{}",
            msgs[2]
        );
        assert!(msgs[3].ends_with(": not collected"), "{}", msgs[3]);
        assert!(p.warnings.iter().all(|w| w.path == SRC.path));
    }

    #[test]
    fn unreadable_manifest_is_one_warning() {
        let p = parse(
            "{\n  \"schema\": \"bitsdoctor/collect/v1\",\n  \"steps\": 3\n}",
            &SRC,
        );
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0]
            .message
            .starts_with("collect manifest not readable"));
    }
}

//! Which Windows version a host's captures come from, and that version's default BITS service
//! configuration (bits-facts.md 3.6a). Service and configuration rules judge a capture against
//! these defaults; where the version cannot be pinned down they judge against every version
//! still possible, so only what is wrong on all of them is flagged, and every repair command
//! restores the defaults of the version found, never another version's.

use crate::correlate::Host;

/// Windows generations whose BITS service defaults differ, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Era {
    /// XP / Server 2003: no service privileges or SID type yet.
    Xp,
    /// Vista to 8.1, Server 2008 to 2012 R2: depends on RpcSs and EventSystem.
    Vista,
    /// Windows 10 before 1703, Server 2016: RpcSs only, no `-p`.
    Win10Early,
    /// Windows 10 1703 and later, 11, Server 2019 and later: `-p`, SeDebugPrivilege.
    Win10,
}

impl Era {
    pub fn name(self) -> &'static str {
        match self {
            Era::Xp => "Windows XP / Server 2003",
            Era::Vista => "Windows Vista to 8.1 / Server 2008 to 2012 R2",
            Era::Win10Early => "Windows 10 before 1703 / Server 2016",
            Era::Win10 => "Windows 10 1703 or later / Windows 11 / Server 2019 or later",
        }
    }

    /// The era of an OS build number (10.0.15063 is Windows 10 1703).
    pub fn of_build(build: u32) -> Era {
        match build {
            0..6000 => Era::Xp,
            6000..10240 => Era::Vista,
            10240..15063 => Era::Win10Early,
            _ => Era::Win10,
        }
    }

    /// The default dependency list.
    pub fn dependencies(self) -> &'static [&'static str] {
        match self {
            Era::Xp => &["RpcSs"],
            Era::Vista => &["RpcSs", "EventSystem"],
            Era::Win10Early | Era::Win10 => &["RpcSs"],
        }
    }

    /// The default binary path.
    pub fn image_path(self) -> &'static str {
        match self {
            Era::Win10 => IMAGE_PATH_P,
            _ => IMAGE_PATH,
        }
    }

    const ALL: [Era; 4] = [Era::Xp, Era::Vista, Era::Win10Early, Era::Win10];
}

pub const IMAGE_PATH: &str = "%SystemRoot%\\System32\\svchost.exe -k netsvcs";
pub const IMAGE_PATH_P: &str = "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p";
pub const SERVICE_DLL: &str = "%SystemRoot%\\System32\\qmgr.dll";

/// The privileges BITS holds on every version that has service privileges (Vista on).
pub const PRIVILEGES: [&str; 5] = [
    "SeCreateGlobalPrivilege",
    "SeImpersonatePrivilege",
    "SeTcbPrivilege",
    "SeAssignPrimaryTokenPrivilege",
    "SeIncreaseQuotaPrivilege",
];
/// Added on Windows 10 (1703 on verified; Server 2016 unverified).
pub const DEBUG_PRIVILEGE: &str = "SeDebugPrivilege";

/// What the captures of one host say about its Windows version: the range of eras still
/// possible and the signs that narrowed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub lo: Era,
    pub hi: Era,
    /// What each sign was and where it was seen.
    pub signs: Vec<String>,
    /// The signs contradict each other (the range was reset to every era).
    pub disagree: bool,
}

impl Version {
    pub fn unknown() -> Version {
        Version {
            lo: Era::Xp,
            hi: Era::Win10,
            signs: Vec::new(),
            disagree: false,
        }
    }

    /// Exactly one era.
    pub fn exact(&self) -> Option<Era> {
        (self.lo == self.hi).then_some(self.lo)
    }

    pub fn eras(&self) -> impl Iterator<Item = Era> + '_ {
        Era::ALL
            .into_iter()
            .filter(|e| *e >= self.lo && *e <= self.hi)
    }

    /// The dependencies every possible era requires (RpcSs everywhere; EventSystem only when
    /// the host is known to be Vista-era).
    pub fn required_dependencies(&self) -> Vec<&'static str> {
        let mut req: Vec<&'static str> = self.lo.dependencies().to_vec();
        req.retain(|d| self.eras().all(|e| e.dependencies().contains(d)));
        req
    }

    /// One line for findings: the version judged against and what it was inferred from.
    pub fn describe(&self) -> String {
        if self.disagree {
            return format!(
                "the Windows version is unclear (the signs disagree: {}), so only what is wrong \
                 on every version is flagged",
                self.signs.join("; ")
            );
        }
        match (self.exact(), self.signs.is_empty()) {
            (_, true) => "the Windows version is unknown (no sign of it in the captures), so \
                          only what is wrong on every version is flagged"
                .to_string(),
            (Some(e), false) => format!(
                "judged against the defaults of {}, inferred from {}",
                e.name(),
                self.signs.join("; ")
            ),
            (None, false) => format!(
                "the Windows version is {} to {} (from {}), so only what is wrong on all of \
                 them is flagged",
                self.lo.name(),
                self.hi.name(),
                self.signs.join("; ")
            ),
        }
    }
}

fn has_p(image_path: &str) -> bool {
    image_path
        .split_whitespace()
        .any(|w| w.eq_ignore_ascii_case("-p"))
}

fn is_netsvcs(image_path: &str) -> bool {
    let v = image_path.to_ascii_lowercase();
    v.contains("svchost.exe") && v.contains("-k netsvcs")
}

/// Infer the version from the host's captures: `-p` in the binary path (1703 on), the
/// privilege list (SeDebugPrivilege from Windows 10; a list at all from Vista), build numbers
/// and Windows-10-or-later signs from other captures.
pub fn infer(host: &Host) -> Version {
    // Strong signs first; then the absence of `-p` or of SeDebugPrivilege, which are weak
    // (they are what a damaged configuration would lose) and only narrow what the strong
    // signs leave open.
    let mut strong: Vec<(Era, Era, String)> = Vec::new();
    let mut weak: Vec<(Era, Era, String)> = Vec::new();
    if let Some((path, ev)) = host.config.get("ImagePath") {
        if is_netsvcs(path) {
            if has_p(path) {
                strong.push((
                    Era::Win10,
                    Era::Win10,
                    format!("`-p` in the binary path ({ev})"),
                ));
            } else {
                weak.push((
                    Era::Xp,
                    Era::Win10Early,
                    format!("no `-p` in the binary path ({ev})"),
                ));
            }
        }
    }
    if let Some((privs, ev)) = host.config.get("RequiredPrivileges") {
        let has_debug = privs
            .split(['/', ';', ','])
            .any(|p| p.trim().eq_ignore_ascii_case(DEBUG_PRIVILEGE));
        if has_debug {
            strong.push((
                Era::Win10Early,
                Era::Win10,
                format!("SeDebugPrivilege in the service privileges ({ev})"),
            ));
        } else if !privs.trim().is_empty() {
            strong.push((Era::Vista, Era::Win10, format!("service privileges ({ev})")));
            weak.push((
                Era::Vista,
                Era::Win10Early,
                format!("no SeDebugPrivilege in them ({ev})"),
            ));
        }
    }
    for s in &host.version_signs {
        if let Some(b) = s.build {
            let e = Era::of_build(b);
            strong.push((e, e, format!("{} ({})", s.what, s.evidence)));
        } else if let Some(ten) = s.windows10_or_later {
            let (lo, hi) = if ten {
                (Era::Win10Early, Era::Win10)
            } else {
                (Era::Xp, Era::Vista)
            };
            strong.push((lo, hi, format!("{} ({})", s.what, s.evidence)));
        }
    }
    let mut v = Version::unknown();
    for (lo, hi, sign) in strong {
        v.signs.push(sign);
        let (nlo, nhi) = (v.lo.max(lo), v.hi.min(hi));
        if nlo > nhi {
            v.disagree = true;
        } else if !v.disagree {
            (v.lo, v.hi) = (nlo, nhi);
        }
    }
    if v.disagree {
        (v.lo, v.hi) = (Era::Xp, Era::Win10);
        return v;
    }
    for (lo, hi, sign) in weak {
        let (nlo, nhi) = (v.lo.max(lo), v.hi.min(hi));
        if nlo <= nhi && (nlo, nhi) != (v.lo, v.hi) {
            v.signs.push(sign);
            (v.lo, v.hi) = (nlo, nhi);
        }
    }
    v
}

/// `sc.exe privs bits ...` for `era` (SeDebugPrivilege kept where the host has it and the era
/// may have it).
pub fn privileges_for(version: &Version, current: &str) -> Vec<&'static str> {
    let mut list = PRIVILEGES.to_vec();
    let has_debug = current
        .split(['/', ';', ','])
        .any(|p| p.trim().eq_ignore_ascii_case(DEBUG_PRIVILEGE));
    if version.exact() == Some(Era::Win10) || (has_debug && version.hi >= Era::Win10Early) {
        list.push(DEBUG_PRIVILEGE);
    }
    list
}

/// The full repair sequence for an era, each step a command.
pub fn repair_sequence(era: Era) -> Vec<String> {
    let mut out = vec![
        "sc.exe stop bits".to_string(),
        format!("sc.exe config bits binpath= \"{}\"", era.image_path()),
        format!(
            "sc.exe config bits depend= {}",
            era.dependencies().join("/")
        ),
        format!(
            "sc.exe config bits start= {}",
            if era == Era::Xp {
                "demand"
            } else {
                "delayed-auto"
            }
        ),
        "sc.exe config bits obj= LocalSystem".to_string(),
    ];
    if era >= Era::Vista {
        let mut privs = PRIVILEGES.to_vec();
        if era == Era::Win10 {
            privs.push(DEBUG_PRIVILEGE);
        }
        out.push(format!("sc.exe privs bits {}", privs.join("/")));
        out.push("sc.exe sidtype bits unrestricted".to_string());
    }
    out.push("sc.exe failure bits reset= 86400 actions= restart/60000/restart/120000".to_string());
    out.push(format!(
        "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\Parameters /v ServiceDll /t REG_EXPAND_SZ /d \"{SERVICE_DLL}\" /f"
    ));
    out.push("sc.exe start bits".to_string());
    out.push("sc.exe query bits (STATE should be 4 RUNNING)".to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Evidence, Locator};

    fn ev() -> Evidence {
        Evidence {
            path: "H/sc.txt".into(),
            at: Locator::Line(3),
        }
    }

    fn host(values: &[(&str, &str)]) -> Host {
        let mut h = Host::default();
        for (k, v) in values {
            h.config.insert(k.to_string(), (v.to_string(), ev()));
        }
        h
    }

    #[test]
    fn p_and_sedebug_mean_windows_10_1703_on() {
        let v = infer(&host(&[
            ("ImagePath", "C:\\Windows\\System32\\svchost.exe -k netsvcs -p"),
            (
                "RequiredPrivileges",
                "SeCreateGlobalPrivilege/SeImpersonatePrivilege/SeTcbPrivilege/SeAssignPrimaryTokenPrivilege/SeIncreaseQuotaPrivilege/SeDebugPrivilege",
            ),
        ]));
        assert_eq!(v.exact(), Some(Era::Win10));
        assert!(
            v.describe().contains("`-p` in the binary path"),
            "{}",
            v.describe()
        );
        assert_eq!(v.required_dependencies(), ["RpcSs"]);
    }

    #[test]
    fn no_p_and_sedebug_mean_server_2016() {
        let v = infer(&host(&[
            ("ImagePath", "C:\\Windows\\system32\\svchost.exe -k netsvcs"),
            ("RequiredPrivileges", "SeTcbPrivilege/SeDebugPrivilege"),
        ]));
        assert_eq!(v.exact(), Some(Era::Win10Early));
    }

    #[test]
    fn build_numbers_map_to_eras() {
        assert_eq!(Era::of_build(2600), Era::Xp);
        assert_eq!(Era::of_build(6002), Era::Vista);
        assert_eq!(Era::of_build(9600), Era::Vista);
        assert_eq!(Era::of_build(14393), Era::Win10Early);
        assert_eq!(Era::of_build(15063), Era::Win10);
        assert_eq!(Era::of_build(22631), Era::Win10);
    }

    #[test]
    fn unknown_version_requires_rpcss_only() {
        let v = infer(&Host::default());
        assert_eq!(v.exact(), None);
        assert_eq!(v.required_dependencies(), ["RpcSs"]);
        assert!(v.describe().contains("unknown"));
        // Five privileges without SeDebugPrivilege: Vista to Server 2016, not exact.
        let v = infer(&host(&[("RequiredPrivileges", &PRIVILEGES.join("/"))]));
        assert_eq!((v.lo, v.hi), (Era::Vista, Era::Win10Early));
        assert_eq!(v.required_dependencies(), ["RpcSs"]);
    }

    #[test]
    fn contradicting_signs_leave_the_version_open() {
        let mut h = host(&[(
            "ImagePath",
            "C:\\Windows\\System32\\svchost.exe -k netsvcs -p",
        )]);
        h.version_signs.push(crate::correlate::VersionSign {
            build: Some(7601),
            windows10_or_later: None,
            what: "`bitsadmin` banner".into(),
            evidence: ev(),
        });
        let v = infer(&h);
        assert!(v.disagree);
        assert_eq!(v.exact(), None);
        assert!(v.describe().contains("disagree"));
    }

    #[test]
    fn repair_sequences_restore_each_versions_defaults() {
        let w10 = repair_sequence(Era::Win10).join("\n");
        assert!(w10.contains("depend= RpcSs\n"), "{w10}");
        assert!(w10.contains("-k netsvcs -p\""), "{w10}");
        assert!(w10.contains("SeDebugPrivilege"), "{w10}");
        assert!(!w10.contains("EventSystem"), "{w10}");
        let vista = repair_sequence(Era::Vista).join("\n");
        assert!(vista.contains("depend= RpcSs/EventSystem"), "{vista}");
        assert!(!vista.contains("SeDebugPrivilege") && !vista.contains("-p\""));
        for era in Era::ALL {
            for step in repair_sequence(era) {
                assert!(!step.starts_with("sc "), "{step}");
            }
        }
    }
}

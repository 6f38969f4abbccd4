//! `bitsdoctor probe --from report.json`: for each diagnosis of a report whose code a live check
//! can reproduce, probe one URL of every failing server named by it, directly and through every
//! proxy its jobs used, and say whether the live check confirms the diagnosis. Only the URLs
//! and proxies the report lists are contacted.

use super::{probe, proxy_url, Probe};
use crate::diagnose::authority;
use crate::knowledge::Knowledge;
use crate::model::HResult;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// The largest report read (a report of a very large fleet stays far below this).
pub const MAX_REPORT_BYTES: u64 = 512 << 20;
/// Servers probed per diagnosis.
pub const MAX_SERVERS: usize = 10;
/// Proxies probed per diagnosis.
pub const MAX_PROXIES: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum FromReportError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a bitsdoctor JSON report: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: schema is `{found}`, expected `{expected}`")]
    Schema {
        path: String,
        found: String,
        expected: &'static str,
    },
}

/// The parts of a `bitsdoctor/report/v1` report the probe needs.
#[derive(Debug, Deserialize)]
struct ReportIn {
    schema: String,
    #[serde(default)]
    jobs: Vec<JobIn>,
    #[serde(default)]
    diagnoses: Vec<DiagnosisIn>,
}

#[derive(Debug, Deserialize)]
struct JobIn {
    host: String,
    id: Option<String>,
    #[serde(default)]
    urls: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DiagnosisIn {
    id: String,
    #[serde(default)]
    category: String,
    code: Option<String>,
    symbol: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    jobs: Vec<String>,
    #[serde(default)]
    servers: Vec<String>,
    #[serde(default)]
    proxies: Vec<String>,
}

/// What the live check says about a diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The live check fails with the diagnosis's code where the diagnosis says it should.
    Confirmed,
    /// The live check passes where the diagnosis says it fails.
    NotConfirmed,
    /// The live check fails differently, so it neither confirms nor contradicts.
    Inconclusive,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::NotConfirmed => "not confirmed",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// One probe's result as a confirmation lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckRow {
    pub url: String,
    pub proxy: Option<String>,
    pub ok: bool,
    pub code: Option<HResult>,
    pub symbol: Option<String>,
}

/// The live check of one diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confirmation {
    pub diagnosis: String,
    pub code: HResult,
    pub symbol: Option<String>,
    pub title: String,
    pub outcome: Outcome,
    /// What the checks show, in one sentence.
    pub reading: String,
    pub checks: Vec<CheckRow>,
}

/// Everything `probe --from` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FromReport {
    pub schema: &'static str,
    pub report: String,
    pub diagnoses: Vec<Confirmation>,
    /// Diagnoses not checked, with the reason (`D4: no http(s) URL`).
    pub not_checked: Vec<String>,
    /// Every probe made, each (URL, proxy) once.
    pub probes: Vec<Probe>,
}

/// Codes a request from here can reproduce: BITS's HTTP requirements, HTTP statuses, and the
/// WinHTTP name, connection, TLS and redirect errors.
pub fn checkable(code: HResult) -> bool {
    matches!(
        code.0,
        0x8020_0011 | 0x8020_0012 | 0x8020_0013 | 0x8020_001B | 0x8020_0073
    ) || (code.0 & 0xFFFF_0000 == 0x8019_0000 && code.http_status().is_some())
        || matches!(
            code.0,
            0x8007_2EE2
                | 0x8007_2EE5
                | 0x8007_2EE6
                | 0x8007_2EE7
                | 0x8007_2EFD
                | 0x8007_2EFE
                | 0x8007_2F05
                | 0x8007_2F06
                | 0x8007_2F0D
                | 0x8007_2F78
                | 0x8007_2F7C
                | 0x8007_2F7D
                | 0x8007_2F8A
                | 0x8007_2F8F
        )
}

/// Every proxy named in a proxy list as `http://host:port`: `a:80;b:80`, `http=a:80;https=b:443`,
/// `http://a:80`; `<local>` and empty entries dropped.
pub fn proxies_in(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in list.split([';', ',', ' ', '\t']) {
        let t = token.trim();
        let t = match (t.find('='), t.find("://")) {
            (Some(eq), Some(scheme)) if eq < scheme => t[eq + 1..].trim(),
            (Some(eq), None) => t[eq + 1..].trim(),
            _ => t,
        };
        if t.is_empty() || t.starts_with('<') {
            continue;
        }
        let p = proxy_url(t);
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Read the report at `path`, probe what it names, and judge each checkable diagnosis.
pub fn confirm(
    path: &Path,
    timeout: Duration,
    kb: &Knowledge,
) -> Result<FromReport, FromReportError> {
    let report = read(path)?;
    let urls_by_job: BTreeMap<String, &[String]> = report
        .jobs
        .iter()
        .filter_map(|j| {
            j.id.as_ref()
                .map(|id| (format!("{}/{id}", j.host), j.urls.as_slice()))
        })
        .collect();

    let mut probes = Probes {
        done: Vec::new(),
        index: BTreeMap::new(),
        timeout,
        kb,
    };

    let mut diagnoses = Vec::new();
    let mut not_checked = Vec::new();
    for d in &report.diagnoses {
        let Some(code) = d.code.as_deref().and_then(HResult::parse_number) else {
            continue;
        };
        if d.category == "security" || !checkable(code) {
            continue;
        }
        let urls = urls_for(d, &urls_by_job);
        if urls.is_empty() {
            not_checked.push(format!("{}: none of its jobs lists an http(s) URL", d.id));
            continue;
        }
        let proxies: Vec<String> = d
            .proxies
            .iter()
            .flat_map(|l| proxies_in(l))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .take(MAX_PROXIES)
            .collect();
        let mut checks = Vec::new();
        let mut direct = Vec::new();
        let mut via = Vec::new();
        for url in &urls {
            let i = probes.run(url, None);
            direct.push(i);
            for p in &proxies {
                via.push(probes.run(url, Some(p)));
            }
        }
        for &i in direct.iter().chain(&via) {
            let p = &probes.done[i];
            checks.push(CheckRow {
                url: p.url.clone(),
                proxy: p.proxy.clone(),
                ok: p.verdict.ok,
                code: p.verdict.code,
                symbol: p.verdict.symbol.clone(),
            });
        }
        let direct: Vec<&Probe> = direct.iter().map(|&i| &probes.done[i]).collect();
        let via: Vec<&Probe> = via.iter().map(|&i| &probes.done[i]).collect();
        let (outcome, reading) = judge(code, &direct, &via);
        diagnoses.push(Confirmation {
            diagnosis: d.id.clone(),
            code,
            symbol: d.symbol.clone(),
            title: d.title.clone(),
            outcome,
            reading,
            checks,
        });
    }
    Ok(FromReport {
        schema: super::SCHEMA,
        report: path.display().to_string(),
        diagnoses,
        not_checked,
        probes: probes.done,
    })
}

/// Probes made so far, each (URL, proxy) once.
struct Probes<'a> {
    done: Vec<Probe>,
    index: BTreeMap<(String, Option<String>), usize>,
    timeout: Duration,
    kb: &'a Knowledge,
}

impl Probes<'_> {
    /// The index of the probe of `url` through `proxy`, made now if it was not yet.
    fn run(&mut self, url: &str, proxy: Option<&str>) -> usize {
        let key = (url.to_string(), proxy.map(str::to_string));
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.done.push(probe(url, proxy, self.timeout, self.kb));
        self.index.insert(key, self.done.len() - 1);
        self.done.len() - 1
    }
}

fn read(path: &Path) -> Result<ReportIn, FromReportError> {
    let shown = path.display().to_string();
    let io = |source| FromReportError::Io {
        path: shown.clone(),
        source,
    };
    // The size is checked while reading: a FIFO or /dev/zero has no size to look up first.
    let text = crate::capped::read_capped(path, MAX_REPORT_BYTES).map_err(io)?;
    let report: ReportIn = serde_json::from_slice(&text).map_err(|e| FromReportError::Parse {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    if report.schema != crate::report::SCHEMA {
        return Err(FromReportError::Schema {
            path: shown,
            found: report.schema,
            expected: crate::report::SCHEMA,
        });
    }
    Ok(report)
}

/// One http(s) URL per failing server of the diagnosis (the first in order), from its jobs.
fn urls_for(d: &DiagnosisIn, urls_by_job: &BTreeMap<String, &[String]>) -> Vec<String> {
    let servers: BTreeSet<&str> = d.servers.iter().map(String::as_str).collect();
    let mut by_server: BTreeMap<String, String> = BTreeMap::new();
    for job in &d.jobs {
        for url in urls_by_job.get(job).copied().unwrap_or_default() {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                continue;
            }
            let auth = authority(url);
            if !servers.is_empty() && !servers.contains(auth.as_str()) {
                continue;
            }
            let e = by_server.entry(auth).or_insert_with(|| url.clone());
            if url < e {
                *e = url.clone();
            }
        }
    }
    by_server.into_values().take(MAX_SERVERS).collect()
}

fn fails_with(p: &Probe, code: HResult) -> bool {
    p.verdict.code == Some(code)
}

fn names(ps: &[&Probe], pick: impl Fn(&Probe) -> Option<String>) -> String {
    ps.iter()
        .filter_map(|p| pick(p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compare the live checks with the diagnosis's code.
fn judge(code: HResult, direct: &[&Probe], via: &[&Probe]) -> (Outcome, String) {
    let d_fail: Vec<&Probe> = direct
        .iter()
        .copied()
        .filter(|p| fails_with(p, code))
        .collect();
    let d_ok = direct.iter().all(|p| p.verdict.ok);
    if !via.is_empty() {
        let v_fail: Vec<&Probe> = via
            .iter()
            .copied()
            .filter(|p| fails_with(p, code))
            .collect();
        let proxies = names(&v_fail, |p| p.proxy.clone());
        if !v_fail.is_empty() && d_ok {
            return (
                Outcome::Confirmed,
                format!(
                    "{code} through {proxies}, while the same URLs pass directly: the proxy is \
                     the cause"
                ),
            );
        }
        if !v_fail.is_empty() && !d_fail.is_empty() {
            return (
                Outcome::Confirmed,
                format!(
                    "{code} through {proxies} and directly: the server itself fails this way, \
                     the proxy is not the only cause"
                ),
            );
        }
        if !v_fail.is_empty() {
            return (
                Outcome::Confirmed,
                format!(
                    "{code} through {proxies}; the direct check failed otherwise ({}), so the \
                     server could not be compared",
                    names(direct, |p| p.verdict.code.map(|c| c.to_string()))
                ),
            );
        }
        if via.iter().all(|p| p.verdict.ok) {
            return (
                Outcome::NotConfirmed,
                format!(
                    "through {} the checks pass now: the proxy no longer causes {code} (fixed \
                     since the capture, or it depends on the client)",
                    names(via, |p| p.proxy.clone())
                ),
            );
        }
        return (
            Outcome::Inconclusive,
            format!(
                "through the proxy the checks fail with {} instead of {code}",
                names(via, |p| p.verdict.code.map(|c| c.to_string()))
            ),
        );
    }
    if !d_fail.is_empty() {
        return (
            Outcome::Confirmed,
            format!("{code} from here as well: the server is the cause"),
        );
    }
    if d_ok {
        return (
            Outcome::NotConfirmed,
            format!(
                "the checks pass from here: the server no longer causes {code}, or what fails \
                 lies on the clients' side (their DNS, proxy or network)"
            ),
        );
    }
    (
        Outcome::Inconclusive,
        format!(
            "the checks fail with {} instead of {code}",
            names(direct, |p| p.verdict.code.map(|c| c.to_string()))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Verdict;

    fn probe_with(proxy: Option<&str>, code: Option<u32>) -> Probe {
        Probe {
            url: "http://wsus01.contoso.local:8530/Content/a.cab".into(),
            proxy: proxy.map(str::to_string),
            final_url: String::new(),
            redirects: vec![],
            size: None,
            steps: vec![],
            verdict: Verdict {
                ok: code.is_none(),
                code: code.map(HResult),
                symbol: None,
                summary: String::new(),
                meaning: String::new(),
                fix: vec![],
            },
        }
    }

    #[test]
    fn proxy_lists() {
        assert_eq!(
            proxies_in("proxy02.contoso.local:3128"),
            ["http://proxy02.contoso.local:3128"]
        );
        assert_eq!(
            proxies_in("http=p1:8080;https=p2:8443 <local>"),
            ["http://p1:8080", "http://p2:8443"]
        );
        assert_eq!(
            proxies_in("http://p1:8080; http://p1:8080"),
            ["http://p1:8080"]
        );
        assert!(proxies_in(" ; ").is_empty());
    }

    #[test]
    fn judging_against_the_diagnosis() {
        let range = HResult(0x8020_0013);
        let ok = probe_with(None, None);
        let direct_bad = probe_with(None, Some(0x8020_0013));
        let via_bad = probe_with(Some("http://p:3128"), Some(0x8020_0013));
        let via_ok = probe_with(Some("http://p:3128"), None);
        let via_407 = probe_with(Some("http://p:3128"), Some(0x8019_0197));

        let (o, r) = judge(range, &[&ok], &[&via_bad]);
        assert_eq!(o, Outcome::Confirmed);
        assert!(r.contains("the proxy is the cause"), "{r}");
        let (o, r) = judge(range, &[&direct_bad], &[&via_bad]);
        assert_eq!(o, Outcome::Confirmed);
        assert!(r.contains("server itself"), "{r}");
        assert_eq!(judge(range, &[&ok], &[&via_ok]).0, Outcome::NotConfirmed);
        assert_eq!(judge(range, &[&ok], &[&via_407]).0, Outcome::Inconclusive);
        assert_eq!(judge(range, &[&direct_bad], &[]).0, Outcome::Confirmed);
        assert_eq!(judge(range, &[&ok], &[]).0, Outcome::NotConfirmed);
        let dns = probe_with(None, Some(0x8007_2EE7));
        assert_eq!(judge(range, &[&dns], &[]).0, Outcome::Inconclusive);
    }

    #[test]
    fn which_codes_a_live_check_can_show() {
        assert!(checkable(HResult(0x8020_0013)));
        assert!(checkable(HResult(0x8019_0194)));
        assert!(checkable(HResult(0x8007_2EE7)));
        assert!(!checkable(HResult(0x8007_0422)), "service start failure");
        assert!(!checkable(HResult(0x8019_4000)), "BITS_MC message id");
    }

    #[test]
    fn a_report_that_is_not_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        std::fs::write(&p, r#"{"schema":"other/v9","jobs":[],"diagnoses":[]}"#).unwrap();
        let e = confirm(&p, Duration::from_secs(1), Knowledge::shared()).unwrap_err();
        assert!(matches!(e, FromReportError::Schema { .. }), "{e}");
        std::fs::write(&p, "[1, 2").unwrap();
        let e = confirm(&p, Duration::from_secs(1), Knowledge::shared()).unwrap_err();
        assert!(matches!(e, FromReportError::Parse { .. }), "{e}");
        assert!(e.to_string().contains("r.json"), "{e}");
    }

    #[test]
    fn urls_one_per_failing_server() {
        let d = DiagnosisIn {
            id: "D1".into(),
            category: "failure".into(),
            code: Some("0x80200013".into()),
            symbol: None,
            title: String::new(),
            jobs: vec!["WS1/{A}".into(), "WS2/{B}".into()],
            servers: vec!["http://dl.example:80".into()],
            proxies: vec![],
        };
        let a = vec![
            "http://dl.example/b.cab".to_string(),
            "http://other.example/c.cab".to_string(),
        ];
        let b = vec![
            "http://DL.example/a.cab".to_string(),
            "\\\\srv\\s\\x".to_string(),
        ];
        let m: BTreeMap<String, &[String]> = BTreeMap::from([
            ("WS1/{A}".to_string(), a.as_slice()),
            ("WS2/{B}".to_string(), b.as_slice()),
        ]);
        assert_eq!(urls_for(&d, &m), ["http://DL.example/a.cab"]);
    }
}

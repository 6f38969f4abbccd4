//! `--host`: which hosts to analyse. A pattern matches a host by its full name or its short
//! name (`WS01` and `ws01.corp.example` are one host), case-insensitively; `*` and `?` are
//! wildcards (`WS-FIN-*`).

/// Why a `--host` pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a host name or pattern (use WS01, ws01.corp.example or WS-*)")]
pub struct BadPattern(pub String);

/// The hosts to keep; empty keeps every host.
#[derive(Debug, Clone, Default)]
pub struct HostFilter {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    full: regex::Regex,
    /// For a pattern with a dot: its first label, for hosts known only by a short name.
    short: Option<regex::Regex>,
}

/// A glob as an anchored, case-insensitive regex.
fn glob(p: &str) -> Option<regex::Regex> {
    let mut re = String::from("(?i)^");
    for c in p.chars() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

impl Pattern {
    fn matches(&self, host: &str) -> bool {
        let short = host.split('.').next().unwrap_or(host);
        self.full.is_match(host)
            || self.full.is_match(short)
            || (!host.contains('.') && self.short.as_ref().is_some_and(|r| r.is_match(host)))
    }
}

impl HostFilter {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<HostFilter, BadPattern> {
        let patterns = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref().trim();
                let bad = || BadPattern(p.to_string());
                if p.is_empty() || p.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    return Err(bad());
                }
                let full = glob(p).ok_or_else(bad)?;
                let short = p.split_once('.').and_then(|(s, _)| glob(s));
                Ok(Pattern {
                    text: p.to_string(),
                    full,
                    short,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(HostFilter { patterns })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Does `host` pass? A pattern without a dot also matches the short name of an FQDN; one
    /// with a dot also matches a host known only by its short name.
    pub fn matches(&self, host: &str) -> bool {
        self.is_empty() || self.patterns.iter().any(|p| p.matches(host))
    }

    /// The patterns that match none of `hosts` (for a warning).
    pub fn unmatched<'a>(&'a self, hosts: &[&str]) -> Vec<&'a str> {
        self.patterns
            .iter()
            .filter(|p| !hosts.iter().any(|h| p.matches(h)))
            .map(|p| p.text.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_fqdns_and_globs() {
        let f = HostFilter::new(&["WS-LAB-11"]).unwrap();
        assert!(f.matches("WS-LAB-11.contoso.local"));
        assert!(f.matches("ws-lab-11"));
        assert!(!f.matches("WS-LAB-111.contoso.local"));
        assert!(!f.matches("SRV-APP-03.contoso.local"));
        let f = HostFilter::new(&["ws-lab-11.contoso.local"]).unwrap();
        assert!(f.matches("WS-LAB-11.contoso.local"));
        assert!(f.matches("WS-LAB-11"));
        assert!(!f.matches("WS-LAB-11.fabrikam.local"));
        let f = HostFilter::new(&["WS-FIN-*", "SRV-?PP-03"]).unwrap();
        assert!(f.matches("WS-FIN-01.contoso.local"));
        assert!(f.matches("srv-app-03.contoso.local"));
        assert!(!f.matches("WS-HR-07.contoso.local"));
        assert!(HostFilter::new::<&str>(&[]).unwrap().matches("anything"));
    }

    #[test]
    fn regex_characters_are_literal() {
        let f = HostFilter::new(&["WS.01"]).unwrap();
        assert!(f.matches("WS.01"));
        assert!(!f.matches("WSX01"));
        assert!(HostFilter::new(&["(a|b)+"]).unwrap().matches("(a|b)+"));
        assert!(HostFilter::new(&[""]).is_err());
        assert!(HostFilter::new(&["a b"]).is_err());
    }

    #[test]
    fn unmatched_patterns_are_named() {
        let f = HostFilter::new(&["WS-LAB-11", "NOPE*"]).unwrap();
        assert_eq!(f.unmatched(&["WS-LAB-11.contoso.local"]), ["NOPE*"]);
    }
}

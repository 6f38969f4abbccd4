//! `bitsdoctor probe` against real servers the tests start on 127.0.0.1 (never any other
//! address): nginx (honours Range), Python's http.server (ignores Range), a tiny server written
//! here whose HEAD carries no Content-Length, Debian's squid as a forward proxy in front of
//! nginx (passing Range, or configured to drop it), a closed port and a `.invalid` name; and
//! `probe --from` on a report made by `analyze` over a synth scenario whose fleet diagnosis
//! names that squid. Each server gets a free port and its own temporary configuration and is
//! stopped when its test ends. A test whose server binary is missing says so and skips
//! (.ci/run installs nginx and squid).

use assert_cmd::Command;
use bitsdoctor::knowledge::Knowledge;
use bitsdoctor::model::HResult;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Size of the file the servers serve.
const SIZE: usize = 10_240;

fn find_bin(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The binary, or a printed notice and `None` (the caller returns: the test is skipped).
fn need(name: &str, package: &str) -> Option<PathBuf> {
    let found = find_bin(name);
    if found.is_none() {
        eprintln!("SKIP: `{name}` is not installed (apt-get install {package}); test skipped");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A server process the test started; killed (by its own handle) when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start `cmd` and wait until it accepts connections on `port`.
    fn start(
        mut cmd: std::process::Command,
        port: u16,
        dir: tempfile::TempDir,
        what: &str,
    ) -> Server {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let mut s = Server { child, port, dir };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return s;
            }
            if let Ok(Some(status)) = s.child.try_wait() {
                panic!(
                    "{what} exited with {status} before listening; logs in {:?}",
                    s.dir.path()
                );
            }
            assert!(
                Instant::now() < until,
                "{what} did not listen on {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

/// The file every server serves: a fixed byte pattern.
fn write_file(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let body: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(dir.join("a.cab"), body).unwrap();
}

fn nginx() -> Option<Server> {
    nginx_with(false)
}

/// nginx; with `tls`, serving https with a self-signed certificate for 127.0.0.1 (made here
/// with openssl), which no client trusts.
fn nginx_with(tls: bool) -> Option<Server> {
    let bin = need("nginx", "nginx")?;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    write_file(&dir.path().join("www"));
    let port = free_port();
    let listen = if tls {
        let openssl = need("openssl", "openssl")?;
        let made = std::process::Command::new(openssl)
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            // A server certificate, not a CA: the only fault left is that nobody trusts it.
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .arg("-keyout")
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success(), "openssl could not make a test certificate");
        format!(
            "listen 127.0.0.1:{port} ssl;\n    ssl_certificate {d}/cert.pem;\n    \
             ssl_certificate_key {d}/key.pem;"
        )
    } else {
        format!("listen 127.0.0.1:{port};")
    };
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/cb;\n  \
         proxy_temp_path {d}/pt;\n  fastcgi_temp_path {d}/ft;\n  uwsgi_temp_path {d}/ut;\n  \
         scgi_temp_path {d}/st;\n  server {{\n    {listen}\n    root {d}/www;\n    \
         location = /moved.cab {{ return 302 /a.cab; }}\n  }}\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-e")
        .arg(dir.path().join("error.log"));
    Some(Server::start(cmd, port, dir, "nginx"))
}

/// Squid as a forward proxy for loopback clients; with `strip_range` it drops the Range header
/// from every request it forwards.
fn squid(strip_range: bool) -> Option<Server> {
    let bin = need("squid", "squid")?;
    let dir = tempfile::tempdir().unwrap();
    // Squid drops root privileges to its own user, which must write its log and pid here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let d = dir.path().display().to_string();
    let port = free_port();
    let conf = format!(
        "http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\ncache_log {d}/cache.log\n\
         access_log none\ncache deny all\ncoredump_dir {d}\npinger_enable off\n\
         http_access allow localhost\nhttp_access deny all\nshutdown_lifetime 0 seconds\n\
         visible_hostname bitsdoctor-test\n{}",
        if strip_range {
            "request_header_access Range deny all\n"
        } else {
            ""
        }
    );
    std::fs::write(dir.path().join("squid.conf"), conf).unwrap();
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("-N").arg("-f").arg(dir.path().join("squid.conf"));
    Some(Server::start(cmd, port, dir, "squid"))
}

fn python_http_server() -> Option<Server> {
    let bin = need("python3", "python3")?;
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path());
    let port = free_port();
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .arg("--directory")
        .arg(dir.path());
    Some(Server::start(cmd, port, dir, "python3 -m http.server"))
}

/// A minimal HTTP/1.1 server that answers HEAD without Content-Length (as dynamic pages and
/// some proxies do) and GET with the whole body, closing each connection. It serves until the
/// test process ends.
fn no_length_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
            let _ = s.write_all(head);
            if !req.starts_with(b"HEAD ") {
                let _ = s.write_all(&vec![b'x'; SIZE]);
            }
        }
    });
    port
}

/// `bitsdoctor probe ARGS --format json`: the parsed output and the exit code.
fn probe(args: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["probe", "--format", "json", "--timeout", "15"])
        .args(args)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out.status.code().unwrap_or(-1))
}

/// The one probe's verdict; checks that a failure carries the code table's symbol and fix.
fn verdict(v: &Value) -> &Value {
    assert_eq!(v["schema"], "bitsdoctor/probe/v1");
    let probes = v["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 1, "{v:#}");
    let verdict = &probes[0]["verdict"];
    if let Some(code) = verdict["code"].as_str() {
        let e = Knowledge::shared().explain(HResult::parse_number(code).unwrap());
        assert_eq!(verdict["symbol"].as_str(), e.symbol.as_deref(), "{v:#}");
        let fix: Vec<&str> = verdict["fix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(
            fix, e.fix,
            "the fix is the code table's, as analyze gives it"
        );
        assert!(!fix.is_empty());
    }
    verdict
}

fn assert_fails(args: &[&str], code: &str, symbol: &str) -> Value {
    let (v, exit) = probe(args);
    let verdict = verdict(&v);
    assert_eq!(verdict["ok"], false, "{v:#}");
    assert_eq!(verdict["code"], code, "{v:#}");
    assert_eq!(verdict["symbol"], symbol, "{v:#}");
    assert_eq!(exit, 1, "a failing check exits 1");
    v
}

fn assert_ok(args: &[&str]) -> Value {
    let (v, exit) = probe(args);
    let verdict = verdict(&v);
    assert_eq!(verdict["ok"], true, "{v:#}");
    assert!(verdict["code"].is_null(), "{v:#}");
    assert_eq!(exit, 0, "{v:#}");
    v
}

#[test]
fn nginx_honours_range() {
    let Some(ng) = nginx() else { return };
    let v = assert_ok(&[&ng.url("a.cab")]);
    let p = &v["probes"][0];
    assert_eq!(p["size"], SIZE);
    let steps = p["steps"].as_array().unwrap();
    let asked: Vec<(&str, Option<&str>, u64)> = steps
        .iter()
        .map(|s| {
            (
                s["method"].as_str().unwrap(),
                s["range"].as_str(),
                s["answer"]["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        asked,
        [
            ("HEAD", None, 200),
            ("GET", Some("bytes=0-15"), 206),
            ("GET", Some("bytes=10224-10239"), 206),
        ]
    );
    assert_eq!(
        steps[2]["answer"]["content_range"],
        "bytes 10224-10239/10240"
    );
    // Only a few bytes of body are read from any answer.
    for s in steps {
        assert!(s["answer"]["body_read"].as_u64().unwrap() <= 64, "{s:#}");
    }
}

#[test]
fn proxy_settings_from_the_environment_are_not_used() {
    let Some(ng) = nginx() else { return };
    let dead = format!("http://127.0.0.1:{}", free_port());
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["probe", "--format", "json", &ng.url("a.cab")])
        .env("http_proxy", &dead)
        .env("HTTP_PROXY", &dead)
        .env("ALL_PROXY", &dead)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict(&v)["ok"], true, "{v:#}");
    assert!(v["probes"][0]["proxy"].is_null());
}

#[test]
fn nginx_redirect_is_followed() {
    let Some(ng) = nginx() else { return };
    let v = assert_ok(&[&ng.url("moved.cab")]);
    let p = &v["probes"][0];
    assert_eq!(p["final_url"], ng.url("a.cab"));
    assert_eq!(p["redirects"], serde_json::json!([ng.url("a.cab")]));
}

#[test]
fn nginx_404_is_bg_e_http_error_404() {
    let Some(ng) = nginx() else { return };
    assert_fails(
        &[&ng.url("missing.cab")],
        "0x80190194",
        "BG_E_HTTP_ERROR_404",
    );
}

#[test]
fn python_http_server_ignores_range() {
    let Some(py) = python_http_server() else {
        return;
    };
    let v = assert_fails(
        &[&py.url("a.cab")],
        "0x80200013",
        "BG_E_INSUFFICIENT_RANGE_SUPPORT",
    );
    let steps = v["probes"][0]["steps"].as_array().unwrap();
    assert_eq!(
        steps[1]["answer"]["status"], 200,
        "the whole file came back"
    );
    assert!(steps[1]["answer"]["body_read"].as_u64().unwrap() <= 64);
}

#[test]
fn head_without_content_length_is_missing_file_size() {
    let port = no_length_server();
    assert_fails(
        &[&format!("http://127.0.0.1:{port}/report.aspx")],
        "0x80200011",
        "BG_E_MISSING_FILE_SIZE",
    );
}

#[test]
fn closed_port_cannot_connect() {
    let port = free_port(); // bound and released: nothing listens there now
    assert_fails(
        &[&format!("http://127.0.0.1:{port}/a.cab")],
        "0x80072EFD",
        "ERROR_WINHTTP_CANNOT_CONNECT",
    );
}

#[test]
fn unresolvable_name() {
    assert_fails(
        &["http://bitsdoctor-probe-test.invalid/a.cab"],
        "0x80072EE7",
        "ERROR_WINHTTP_NAME_NOT_RESOLVED",
    );
}

#[test]
fn untrusted_certificate_is_secure_invalid_ca() {
    let Some(ng) = nginx_with(true) else { return };
    assert_fails(
        &[&format!("https://127.0.0.1:{}/a.cab", ng.port)],
        "0x80072F0D",
        "ERROR_WINHTTP_SECURE_INVALID_CA",
    );
}

#[test]
fn silent_server_times_out() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["probe", "--format", "json", "--timeout", "1"])
        .arg(format!("http://127.0.0.1:{port}/a.cab"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict(&v)["code"], "0x80072EE2", "{v:#}");
    assert_eq!(verdict(&v)["symbol"], "ERROR_WINHTTP_TIMEOUT");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn squid_passing_range_in_front_of_nginx() {
    let (Some(ng), Some(sq)) = (nginx(), squid(false)) else {
        return;
    };
    let proxy = format!("127.0.0.1:{}", sq.port);
    let v = assert_ok(&["--proxy", &proxy, &ng.url("a.cab")]);
    assert_eq!(v["probes"][0]["proxy"], format!("http://{proxy}"));
}

#[test]
fn squid_dropping_range_in_front_of_nginx() {
    let (Some(ng), Some(sq)) = (nginx(), squid(true)) else {
        return;
    };
    let proxy = format!("http://127.0.0.1:{}", sq.port);
    assert_fails(
        &["--proxy", &proxy, &ng.url("a.cab")],
        "0x80200013",
        "BG_E_INSUFFICIENT_RANGE_SUPPORT",
    );
    // The same file directly is fine: the proxy is what breaks it.
    assert_ok(&[&ng.url("a.cab")]);
}

#[test]
fn text_output_names_the_error_and_the_fix() {
    let Some(py) = python_http_server() else {
        return;
    };
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["probe", "--timeout", "15", &py.url("a.cab")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("FAIL  0x80200013 BG_E_INSUFFICIENT_RANGE_SUPPORT"),
        "{text}"
    );
    let fix = &Knowledge::shared().explain(HResult(0x8020_0013)).fix[0];
    assert!(text.contains(fix.as_str()), "{text}");
}

#[test]
fn a_non_http_argument_is_a_usage_error() {
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["probe", "\\\\fileserver\\share\\a.cab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an http"));
}

/// A report from `analyze` over two hosts whose Windows Update jobs fail with 0x80200013
/// through `proxy` against nginx's file.
fn report_naming(proxy: &str, url: &str, dir: &Path) -> PathBuf {
    let hosts = ["WS-001", "WS-002"]
        .iter()
        .map(|n| {
            let mut h = synth::HostSpec::new(&format!("{n}.contoso.local"), n);
            h.winhttp_proxy = Some(proxy.to_string());
            let mut j = synth::JobSpec::windows_update(
                url,
                vec![
                    synth::Attempt::Fail202 {
                        hr: 0x8020_0013,
                        http_version: "HTTP/1.1".into(),
                        url_range: "bytes=0-1048575".into(),
                    };
                    2
                ],
            );
            j.proxy = Some(proxy.to_string());
            j.delay_minutes = 5;
            h.jobs.push(j);
            h
        })
        .collect();
    let scenario = synth::Scenario {
        hosts,
        start: "2024-05-06T08:00:00Z".parse().unwrap(),
        seed: 0x5eed_0017,
    };
    let bundle = dir.join("bundle");
    synth::write_bundle(&scenario, &bundle).unwrap();
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["analyze", "--format", "json"])
        .arg(&bundle)
        .output()
        .unwrap();
    let path = dir.join("report.json");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// The report's 0x80200013 diagnosis: fleet scope, naming the proxy.
fn range_diagnosis(report: &Path, proxy: &str) -> String {
    let r: Value = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    let d: Vec<&Value> = r["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "0x80200013")
        .collect();
    assert_eq!(d.len(), 1, "{:#}", r["diagnoses"]);
    assert_eq!(d[0]["scope"], "fleet");
    assert_eq!(d[0]["proxies"], serde_json::json!([proxy]));
    d[0]["id"].as_str().unwrap().to_string()
}

fn probe_from(report: &Path) -> (Value, i32) {
    probe(&["--from", report.to_str().unwrap()])
}

#[test]
fn probe_from_confirms_the_proxy_diagnosis() {
    let (Some(ng), Some(sq)) = (nginx(), squid(true)) else {
        return;
    };
    let proxy = format!("127.0.0.1:{}", sq.port);
    let dir = tempfile::tempdir().unwrap();
    let report = report_naming(&proxy, &ng.url("a.cab"), dir.path());
    let id = range_diagnosis(&report, &proxy);

    let (v, exit) = probe_from(&report);
    assert_eq!(exit, 1, "{v:#}");
    let ds = v["diagnoses"].as_array().unwrap();
    assert_eq!(ds.len(), 1, "{v:#}");
    let c = &ds[0];
    assert_eq!(c["diagnosis"], id.as_str());
    assert_eq!(c["outcome"], "confirmed", "{v:#}");
    assert!(
        c["reading"]
            .as_str()
            .unwrap()
            .contains("the proxy is the cause"),
        "{v:#}"
    );
    // Both checks were made: direct passes, through squid fails with the diagnosis's code.
    let checks: Vec<(Option<&str>, Option<&str>)> = c["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["proxy"].as_str(), k["code"].as_str()))
        .collect();
    let via = format!("http://{proxy}");
    assert_eq!(
        checks,
        [(None, None), (Some(via.as_str()), Some("0x80200013"))]
    );

    // The terminal form says the same.
    let out = Command::cargo_bin("bitsdoctor")
        .unwrap()
        .args(["probe", "--timeout", "15", "--from"])
        .arg(&report)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "{id} 0x80200013 BG_E_INSUFFICIENT_RANGE_SUPPORT: CONFIRMED"
        )),
        "{text}"
    );
    assert!(text.contains("the proxy is the cause"), "{text}");
}

#[test]
fn probe_from_does_not_confirm_when_the_proxy_passes_range() {
    let (Some(ng), Some(sq)) = (nginx(), squid(false)) else {
        return;
    };
    let proxy = format!("127.0.0.1:{}", sq.port);
    let dir = tempfile::tempdir().unwrap();
    let report = report_naming(&proxy, &ng.url("a.cab"), dir.path());
    range_diagnosis(&report, &proxy);
    let (v, exit) = probe_from(&report);
    assert_eq!(exit, 0, "{v:#}");
    assert_eq!(v["diagnoses"][0]["outcome"], "not_confirmed", "{v:#}");
}

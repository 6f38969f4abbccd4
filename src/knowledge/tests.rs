use super::*;
use std::collections::HashMap;

fn k() -> &'static Knowledge {
    Knowledge::shared()
}

/// Names documented at two values (bits-facts.md section 6 item 12): the lower value wins in
/// `resolve`.
const DOUBLE_NAMES: [&str; 1] = ["WU_E_REDIRECTOR_UNEXPECTED"];

#[test]
fn builtin_parses_and_is_sorted() {
    let entries = Knowledge::from_csv(CODES_CSV, "codes.csv").expect("codes.csv parses");
    assert!(entries.len() >= 370, "{} rows", entries.len());
    let k = Knowledge::builtin();
    assert_eq!(k.entries().len(), entries.len());
    assert!(k.entries().windows(2).all(|w| w[0].code < w[1].code));
}

#[test]
fn fast_path_agrees_with_the_csv_reader() {
    let fast = table::parse_canonical(CODES_CSV).expect("codes.csv is in canonical form");
    let slow = Knowledge::from_csv(CODES_CSV, "codes.csv").unwrap();
    assert_eq!(fast, slow);
    // Non-canonical text is refused by the fast path, never misread.
    assert!(table::parse_canonical(&CODES_CSV.replace('\n', "\r\n")).is_none());
    assert!(table::parse_canonical("code,symbol\n").is_none());
    let unsorted =
        format!("{HEADER}0x80070002,B,,win32,no,M.,C,F\n0x80070001,A,,win32,no,M.,C,F\n");
    assert!(table::parse_canonical(&unsorted).is_none());
    let quoted = format!("{HEADER}0x80070001,A,,win32,no,\"Say \"\"hi\"\", ok.\",C,\"a\nb\"\n");
    let e = table::parse_canonical(&quoted).unwrap();
    assert_eq!(e, Knowledge::from_csv(&quoted, "q").unwrap());
    assert_eq!(e[0].meaning, "Say \"hi\", ok.");
}

#[test]
fn header_is_exact() {
    let first = CODES_CSV.lines().next().unwrap();
    assert_eq!(
        first,
        "code,symbol,aliases,family,transient,meaning,cause,fix"
    );
}

#[test]
fn codes_are_canonical_and_unique() {
    // Every code cell is 0x + 8 upper-case hex digits, and no code appears twice.
    let mut rdr = csv::Reader::from_reader(CODES_CSV.as_bytes());
    let mut seen = std::collections::HashSet::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let code = &rec[0];
        assert!(
            code.len() == 10
                && code.starts_with("0x")
                && code[2..]
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
            "{code}"
        );
        assert!(seen.insert(code.to_string()), "duplicate {code}");
    }
}

#[test]
fn symbols_are_unique_case_insensitive_with_aliases() {
    let mut seen: HashMap<String, HResult> = HashMap::new();
    for e in k().entries() {
        for name in e.names() {
            let key = name.to_ascii_uppercase();
            if let Some(prev) = seen.insert(key.clone(), e.code) {
                assert!(
                    DOUBLE_NAMES.contains(&key.as_str()),
                    "{name} used by {prev} and {}",
                    e.code
                );
            }
        }
    }
}

#[test]
fn rows_are_complete_and_family_matches_code() {
    for e in k().entries() {
        assert!(
            !e.meaning.is_empty() && !e.cause.is_empty() && !e.fix.is_empty(),
            "{}",
            e.code
        );
        assert!(
            e.meaning.ends_with('.'),
            "{} meaning is one sentence",
            e.code
        );
        let hi = e.code.0 >> 16;
        let ok = match e.family {
            Family::Bits | Family::BitsLegacy => hi == 0x8020,
            Family::BitsSuccess => hi == 0x0020,
            Family::BitsMessage => e.code.0 & 0xFFFF_F000 == 0x8019_4000,
            Family::Http => hi == 0x8019 && e.code.http_status().is_some(),
            Family::WinHttp => e.code.win32().is_some_and(|w| (12000..=12193).contains(&w)),
            Family::Win32 => {
                hi == 0x8007 && !e.code.win32().is_some_and(|w| (12000..=12193).contains(&w))
            }
            Family::Com => hi == 0x8000 || hi == 0x8004,
            Family::Wu => hi == 0x8024 || hi == 0x0024,
        };
        assert!(ok, "{} is not family {}", e.code, e.family);
        if e.family == Family::BitsLegacy {
            assert!(
                (0x8020_002F..=0x8020_003D).contains(&e.code.0),
                "{}",
                e.code
            );
        }
    }
}

#[test]
fn at_least_90_bg_rows_and_every_documented_family_present() {
    let bg = k()
        .entries()
        .iter()
        .filter(|e| e.symbol.starts_with("BG_E_") || e.symbol.starts_with("BG_S_"))
        .count();
    assert!(bg >= 90, "{bg} BG_* rows");
    for f in Family::ALL {
        assert!(k().entries().iter().any(|e| e.family == f), "{f}");
    }
    // Spot checks from each section of the reference.
    for (code, sym) in [
        (0x8020_0001, "BG_E_NOT_FOUND"),
        (0x0020_0017, "BG_S_PARTIAL_COMPLETE"),
        (
            0x8020_0076,
            "BG_E_ERROR_CONTEXT_SERVER_CERTIFICATE_CALLBACK",
        ),
        (0x8020_003B, "BG_E_TIMEOUT"),
        (0x8019_400B, "BITS_MC_WSD_PORT"),
        (0x8019_01F9, "BG_E_HTTP_ERROR_505"),
        (0x8007_2F9C, "ERROR_WINHTTP_SECURE_FAILURE_PROXY"),
        (0x8007_0008, "ERROR_NOT_ENOUGH_MEMORY"),
        (0x8007_000E, "E_OUTOFMEMORY"),
        (0x8004_0206, "EVENT_E_INTERNALERROR"),
        (0x8024_402C, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED"),
        (0x8024_50FF, "WU_E_REDIRECTOR_UNEXPECTED"),
        (0x8024_5FFF, "WU_E_REDIRECTOR_UNEXPECTED"),
        (0x8024_6FFF, "WU_E_DM_UNEXPECTED"),
        (0x8024_F004, "WU_E_SERVER_BUSY"),
    ] {
        assert_eq!(k().get(HResult(code)).map(|e| e.symbol.as_str()), Some(sym));
    }
}

#[test]
fn documented_aliases_resolve() {
    for (name, code) in [
        ("BG_E_SERVER_EXECUTE_ENABLED", 0x8020_0023),
        ("BG_E_SERVER_EXECUTE_ENABLE", 0x8020_0023),
        ("E_ACCESSDENIED", 0x8007_0005),
        ("ERROR_ACCESS_DENIED", 0x8007_0005),
        ("ERROR_HTTP_INVALID_SERVER_RESPONSE", 0x8007_2F78),
        ("WU_E_PT_HTTP_STATUS_SERVICE_UNAVAILABLE", 0x8024_4022),
        ("WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL", 0x8024_4022),
        ("ERROR_INVALID_PARAMETER", 0x8007_0057),
        ("WU_E_REDIRECTOR_UNEXPECTED", 0x8024_50FF),
    ] {
        assert_eq!(k().resolve(name), Ok(HResult(code)), "{name}");
    }
}

#[test]
fn wsus_table_codes_carry_their_guidance() {
    let fix = |c: u32| -> String {
        let e = k()
            .get(HResult(c))
            .unwrap_or_else(|| panic!("{c:#X} missing"));
        assert!(!e.fix.is_empty());
        e.fix.join("\n")
    };
    let has = |c: u32, needles: &[&str]| {
        let f = fix(c);
        for n in needles {
            assert!(f.contains(n), "{c:#010X} fix lacks {n:?}:\n{f}");
        }
    };
    has(
        0x8007_0057,
        &["netsh winhttp", "Internet Options", "NTLM", "Negotiate"],
    );
    has(0x8007_2EE7, &["nslookup", "proxy"]);
    has(0x8007_2F78, &["minimum retry delay", "persists"]);
    has(0x8020_0013, &["Range", "206", "bypass"]);
    has(0x8020_0011, &["Content-Length", "proxy"]);
    has(0x8019_0193, &["account"]);
    has(
        0x8007_04DD,
        &["sc.exe query sens", "sc.exe start sens", "interactive"],
    );
    // The service repair restores each Windows version's own defaults (bits-facts 3.6a).
    for c in [
        0x8007_0424,
        0x8007_043B,
        0x8007_0422,
        0x8007_0433,
        0x8007_042C,
    ] {
        has(
            c,
            &[
                "sc.exe stop bits",
                r#"binpath= ""#,
                r#"svchost.exe -k netsvcs -p" depend= RpcSs start= delayed-auto obj= LocalSystem"#,
                r#"svchost.exe -k netsvcs" depend= RpcSs/EventSystem start= delayed-auto obj= LocalSystem"#,
                "SeIncreaseQuotaPrivilege/SeDebugPrivilege",
                "without ` -p`",
                "sc.exe sidtype bits unrestricted",
                "sc.exe failure bits reset= 86400 actions= restart/60000/restart/120000",
                "sc.exe start bits",
            ],
        );
    }
    // A job's missing file or folder is about the job; the service case is one line of its own.
    for c in [0x8007_0002, 0x8007_0003] {
        let f = fix(c);
        assert!(f.contains("bitsadmin /info {JOB} /verbose"), "{f}");
        assert!(!f.contains("sc.exe config"), "{f}");
        let service: Vec<&str> = f
            .lines()
            .filter(|l| l.contains("HKLM\\SYSTEM") || l.contains("Microsoft\\Network\""))
            .collect();
        assert!(
            service
                .iter()
                .all(|l| l.starts_with(crate::diagnose::SERVICE_ONLY_FIX)),
            "{service:?}"
        );
    }
    has(
        0x8007_043B,
        &[
            r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Svchost",
            "netsvcs",
        ],
    );
    has(
        0x8007_0002,
        &[
            r#"reg add HKLM\SYSTEM\CurrentControlSet\Services\BITS\Parameters /v ServiceDll /t REG_EXPAND_SZ /d "%SystemRoot%\System32\qmgr.dll" /f"#,
        ],
    );
    has(
        0x8007_0433,
        &["sc.exe query rpcss", "sc.exe query eventsystem"],
    );
    has(
        0x8007_042C,
        &["sc.exe query rpcss", "sc.exe query eventsystem"],
    );
    has(0x8007_0003, &[r"%ALLUSERSPROFILE%\Microsoft\Network"]);
    // No command in the table is a bare `sc` (in PowerShell that is Set-Content).
    assert!(!CODES_CSV.contains("`sc "), "a bare `sc` in codes.csv");
    for c in [0x8020_0049, 0x8020_0050, 0x8020_003E] {
        has(c, &["gpupdate /force"]);
    }
    // The KB's privilege typo must not be copied anywhere.
    assert!(!CODES_CSV.contains("SeIncreateQuotaPrivilege"));
}

#[test]
fn transient_follows_the_sources() {
    for (c, t) in [
        (0x8020_0010, Transient::Yes),
        (0x8020_003E, Transient::Yes),
        (0x8007_2EE7, Transient::Yes),
        (0x8007_2F78, Transient::Yes),
        (0x8007_0057, Transient::Yes),
        (0x8020_0011, Transient::No),
        (0x8020_0013, Transient::No),
        (0x8020_0054, Transient::No),
        (0x8019_0193, Transient::No),
        (0x8019_0194, Transient::Unknown),
    ] {
        assert_eq!(k().get(HResult(c)).unwrap().transient, t, "{c:#X}");
    }
}

#[test]
fn every_code_round_trips_through_every_input_form() {
    for e in k().entries() {
        let c = e.code;
        let mut forms = vec![
            format!("0x{:08X}", c.0),
            format!("0X{:08x}", c.0),
            format!("{}", c.0),
            format!(" {:#x} ", c.0),
        ];
        // Bare 8-digit hex is ambiguous with decimal when every digit is a decimal digit and
        // the value is below 0x80000000 (e.g. 00200017): HResult::parse_number reads those as
        // decimal, as documented.
        let bare = format!("{:08X}", c.0);
        if !(bare.bytes().all(|b| b.is_ascii_digit()) && c.0 < 0x8000_0000) {
            forms.push(bare.clone());
            forms.push(bare.to_ascii_lowercase());
        }
        if c.is_failure() {
            forms.push(format!("{}", c.0 as i32));
        }
        if !DOUBLE_NAMES.contains(&e.symbol.as_str())
            || k().by_symbol(&e.symbol).map(|x| x.code) == Some(c)
        {
            forms.push(e.symbol.clone());
            forms.push(e.symbol.to_ascii_lowercase());
            for a in &e.aliases {
                forms.push(a.to_ascii_lowercase());
            }
        }
        for f in &forms {
            assert_eq!(k().resolve(f), Ok(c), "{f:?}");
        }
    }
}

#[test]
fn resolve_rejects_junk() {
    for s in [
        "",
        "hello",
        "BG_E_NOPE",
        "0xZZ",
        "BG_E_HTTP_ERROR_99",
        "BG_E_HTTP_ERROR_600",
    ] {
        assert!(k().resolve(s).is_err(), "{s:?}");
    }
    assert_eq!(k().resolve("bg_e_http_error_429"), Ok(HResult(0x8019_01AD)));
}

#[test]
fn http_rows_follow_the_family_rule() {
    let mut n = 0;
    for e in k().entries().iter().filter(|e| e.family == Family::Http) {
        let status: u16 = e.symbol["BG_E_HTTP_ERROR_".len()..].parse().unwrap();
        assert_eq!(e.code.code(), status, "{}", e.symbol);
        assert_eq!(e.code.0 & 0xFFFF_0000, 0x8019_0000);
        n += 1;
    }
    assert_eq!(n, 41);
}

#[test]
fn unlisted_http_status_explains_by_rule() {
    let x = k().explain(HResult(0x8019_01AD));
    assert!(x.known);
    assert_eq!(x.source, "http-rule");
    assert_eq!(x.symbol.as_deref(), Some("BG_E_HTTP_ERROR_429"));
    assert_eq!(x.family, Some(Family::Http));
    assert_eq!(x.http_status, Some(429));
    assert!(x.meaning.contains("429") && x.meaning.contains("Too Many Requests"));
    assert!(!x.fix.is_empty());
    let x = k().explain(HResult(0x8019_0000 + 599));
    assert_eq!(x.symbol.as_deref(), Some("BG_E_HTTP_ERROR_599"));
    // Listed statuses come from the table.
    assert_eq!(k().explain(HResult(0x8019_0194)).source, "table");
    // BITS_MC_* ids are not statuses.
    let x = k().explain(HResult(0x8019_4FFF));
    assert!(!x.known && x.http_status.is_none());
}

#[test]
fn unknown_codes_decode_by_facility() {
    let x = k().explain(HResult(0x8007_1234));
    assert!(!x.known);
    assert_eq!(x.source, "decoded");
    assert_eq!(x.win32, Some(4660));
    assert_eq!(x.facility, 7);
    assert_eq!(x.facility_name, Some("WIN32"));
    assert_eq!(x.severity, "error");
    assert!(x.meaning.contains("4660"));
    assert!(x
        .fix
        .iter()
        .any(|f| f.contains("certutil -error 0x80071234")));

    let x = k().explain(HResult(0xC000_0005));
    assert_eq!((x.facility, x.facility_name), (0, Some("NULL")));
    assert_eq!(x.win32, None);
    assert!(!x.known);

    let x = k().explain(HResult(0x8007_2F8F));
    assert!(x.known);
    assert_eq!(x.symbol.as_deref(), Some("ERROR_WINHTTP_SECURE_FAILURE"));
    assert_eq!(x.family, Some(Family::WinHttp));

    let x = k().explain(HResult(0x8007_2FA0));
    assert!(!x.known);
    assert_eq!(x.family, Some(Family::WinHttp));
    assert!(x.meaning.contains("WinHTTP"));

    let x = k().explain(HResult(0x0024_0005));
    assert_eq!(x.severity, "success");
    assert_eq!(x.facility_name, Some("WINDOWSUPDATE"));

    for (f, name) in [
        (0x20, "BACKGROUNDCOPY"),
        (0x19, "HTTP"),
        (0x24, "WINDOWSUPDATE"),
        (4, "ITF"),
        (1, "RPC"),
        (2, "DISPATCH"),
        (3, "STORAGE"),
        (8, "WINDOWS"),
        (9, "SECURITY"),
    ] {
        assert_eq!(facility_name(f), Some(name));
    }
    assert_eq!(k().explain(HResult(0x8020_0099)).family, Some(Family::Bits));
}

#[test]
fn explanation_serializes() {
    let v = serde_json::to_value(k().explain(HResult(0x8020_0013))).unwrap();
    assert_eq!(v["code"], "0x80200013");
    assert_eq!(v["family"], "bits");
    assert_eq!(v["transient"], "no");
    assert_eq!(v["facility_name"], "BACKGROUNDCOPY");
    let v = serde_json::to_value(k().get(HResult(0x8007_2EE7)).unwrap()).unwrap();
    assert_eq!(v["family"], "winhttp");
    assert!(v["fix"].is_array());
}

#[test]
fn to_csv_round_trips_and_matches_the_file() {
    let text = k().to_csv();
    let back = Knowledge::from_csv(&text, "roundtrip.csv").unwrap();
    assert_eq!(back, k().entries());
    // The shipped file is in canonical form, so `codes --format csv` reproduces it.
    assert_eq!(text, CODES_CSV);
}

fn write_tmp(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const HEADER: &str = "code,symbol,aliases,family,transient,meaning,cause,fix\n";

#[test]
fn overrides_add_and_replace() {
    let f = write_tmp(&format!(
        "{HEADER}0x80200013,BG_E_INSUFFICIENT_RANGE_SUPPORT,,bits,no,Our proxy eats ranges.,The Contoso proxy.,\"Call the network team\nbitsadmin /resume {{JOB}}\"\n\
         0x8007FFFF,MY_CUSTOM_CODE,MY_ALIAS,win32,unknown,Something local.,,Do the thing\n"
    ));
    let k2 = Knowledge::builtin().with_overrides(f.path()).unwrap();
    assert_eq!(k2.entries().len(), k().entries().len() + 1);
    let e = k2.get(HResult(0x8020_0013)).unwrap();
    assert_eq!(e.meaning, "Our proxy eats ranges.");
    assert_eq!(
        e.fix,
        vec!["Call the network team", "bitsadmin /resume {JOB}"]
    );
    assert_eq!(k2.resolve("my_alias"), Ok(HResult(0x8007_FFFF)));
    assert_eq!(
        k2.explain(HResult(0x8007_FFFF)).symbol.as_deref(),
        Some("MY_CUSTOM_CODE")
    );
    assert!(k2.entries().windows(2).all(|w| w[0].code < w[1].code));
}

#[test]
fn overrides_accept_utf16_and_bom_and_any_column_order() {
    let text = "\u{feff}symbol,code,fix,meaning,cause,transient,family,aliases,notes\r\nX_ONE,80071111,step,One.,,YES,Win32,,ignored\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.trim_start_matches('\u{feff}').encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, &bytes).unwrap();
    let k2 = Knowledge::builtin().with_overrides(f.path()).unwrap();
    let e = k2.get(HResult(0x8007_1111)).unwrap();
    assert_eq!((e.family, e.transient), (Family::Win32, Transient::Yes));

    let f = write_tmp(text);
    assert!(Knowledge::builtin().with_overrides(f.path()).is_ok());
}

fn err_of(body: &str) -> String {
    let f = write_tmp(body);
    let name = f.path().display().to_string();
    let e = Knowledge::builtin()
        .with_overrides(f.path())
        .expect_err("must fail")
        .to_string();
    assert!(e.starts_with(&name), "{e}");
    e[name.len()..].to_string()
}

#[test]
fn malformed_overrides_name_line_and_field() {
    let ok = "0x80070001,A_B,,win32,no,M.,C,F\n";
    assert_eq!(
        err_of(&format!("{HEADER}{ok}0xZZ,X,,win32,no,M.,C,F\n")),
        ":3: field 'code': \"0xZZ\" is not an error code"
    );
    let e = err_of(&format!(
        "{HEADER}{ok}0x80070009,B_C,,win32,no,M.,C,F\n0x80070002,X,,martian,no,M.,C,F\n"
    ));
    assert!(e.starts_with(":4: field 'family': \"martian\""), "{e}");
    let e = err_of(&format!("{HEADER}0x80070002,X,,win32,maybe,M.,C,F\n"));
    assert!(e.starts_with(":2: field 'transient'"), "{e}");
    let e = err_of(&format!("{HEADER}0x80070002,X,,win32,no,M.,C,\"\n \n\"\n"));
    assert!(e.starts_with(":2: field 'fix': is empty"), "{e}");
    let e = err_of(&format!("{HEADER}0x80070002,X,,win32,no,,C,F\n"));
    assert!(e.starts_with(":2: field 'meaning'"), "{e}");
    let e = err_of(&format!("{HEADER}0x80070002,has space,,win32,no,M.,C,F\n"));
    assert!(e.starts_with(":2: field 'symbol'"), "{e}");
    let e = err_of(&format!("{HEADER}{ok}0x80070001,B_C,,win32,no,M.,C,F\n"));
    assert!(
        e.starts_with(":3: field 'code': 0x80070001 is listed twice (first on line 2)"),
        "{e}"
    );
    let e =
        err_of("code,symbol,aliases,family,transient,meaning,cause\n0x80070002,X,,win32,no,M.,C\n");
    assert!(e.starts_with(":1: missing column 'fix'"), "{e}");
    let e = err_of(&format!("{HEADER}0x80070002,X,,win32,no\n"));
    assert!(e.starts_with(":2: expected 8 fields"), "{e}");
    // A multi-line fix cell keeps the line numbers of later records right.
    let e = err_of(&format!(
        "{HEADER}0x80070002,X,,win32,no,M.,C,\"a\nb\nc\"\n0x80070003,Y,,win32,no,M.,C,\n"
    ));
    assert!(e.starts_with(":5: field 'fix'"), "{e}");
    let e = err_of("");
    assert!(e.starts_with(":1: empty file"), "{e}");
}

#[test]
fn unreadable_override_names_the_file() {
    let e = Knowledge::builtin()
        .with_overrides(std::path::Path::new("/nonexistent/knowledge.csv"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/nonexistent/knowledge.csv: cannot read"),
        "{e}"
    );
    let f = write_tmp("");
    std::fs::write(f.path(), b"code,symbol\n\xFF\xFE\xFD").unwrap();
    // Not a UTF-16 BOM at the start, invalid UTF-8 later.
    let e = Knowledge::builtin()
        .with_overrides(f.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2: not UTF-8"), "{e}");
}

#[test]
fn enums_name_every_value() {
    assert_eq!(error_context_name(0), Some("NONE"));
    assert_eq!(error_context_name(5), Some("REMOTE_FILE"));
    assert_eq!(error_context_name(8), Some("SERVER_CERTIFICATE_CALLBACK"));
    assert_eq!(error_context_name(9), None);
    assert_eq!(error_context_code(5), Some(HResult(0x8020_000A)));
    for v in 0..=8 {
        assert!(error_context_meaning(v).is_some());
        let code = error_context_code(v).unwrap();
        assert!(k().get(code).is_some(), "{code}");
        assert_eq!(error_context_value(error_context_name(v).unwrap()), Some(v));
        assert_eq!(job_state_value(job_state_name(v).unwrap()), Some(v));
        assert!(job_state_meaning(v).is_some());
    }
    assert_eq!(error_context_value("RemoteFile"), Some(5));
    assert_eq!(
        error_context_value("BG_ERROR_CONTEXT_GENERAL_TRANSPORT"),
        Some(6)
    );
    assert_eq!(job_state_name(5), Some("TRANSIENT_ERROR"));
    assert_eq!(job_state_value("TransientError"), Some(5));
    assert_eq!(job_state_value("Canceled"), Some(8));
    assert_eq!(job_state_value(""), None);
    assert_eq!(proxy_usage_name(3), Some("AUTODETECT"));
    assert_eq!(proxy_usage_value("NoProxy"), Some(1));
    assert_eq!(priority_name(0), Some("FOREGROUND"));
    assert_eq!(priority_value("bg_job_priority_low"), Some(3));
    assert_eq!(job_type_name(2), Some("UPLOAD_REPLY"));
    assert_eq!(job_type_value("UPLOAD-REPLY"), Some(2));
    assert_eq!(auth_scheme_name(4), Some("NEGOTIATE"));
    assert_eq!(auth_target_name(2), Some("PROXY"));
}

//! The scenario behind the committed `samples/` bundle (see `samples/README.md` for what is
//! planted and what the report should find). Regenerate with
//! `cargo run -p synth -- samples samples/`.

use crate::{Attempt, ConfigSpec, HostSpec, JobSpec, Scenario, ServiceSpec};

/// The proxy that strips Range support, in front of three hosts.
pub const PROXY: &str = "proxy01.contoso.local:8080";
pub const WSUS: &str = "http://wsus01.contoso.local:8530";

fn range_fail() -> Attempt {
    Attempt::Fail202 {
        hr: 0x8020_0013,
        http_version: "HTTP/1.1".into(),
        url_range: "bytes=0-1048575".into(),
    }
}

fn wsus_job(file: &str, delay: u32, attempts: Vec<Attempt>) -> JobSpec {
    let mut j = JobSpec::windows_update(&format!("{WSUS}/Content/{file}"), attempts);
    j.delay_minutes = delay;
    j.bytes = 3_145_728 + u64::from(delay) * 40_961;
    j
}

fn ms_download_job(kb: &str, delay: u32, attempts: Vec<Attempt>) -> JobSpec {
    let mut j = JobSpec::windows_update(
        &format!("http://download.windowsupdate.com/c/msdownload/update/software/secu/2024/03/windows10.0-{kb}-x64.cab"),
        attempts,
    );
    j.proxy = Some(PROXY.into());
    j.delay_minutes = delay;
    j.bytes = 412_337_152;
    j.in_bitsadmin = true;
    j
}

fn edge_job(delay: u32) -> JobSpec {
    JobSpec {
        title: "Microsoft Edge Update".into(),
        owner: "NT AUTHORITY\\SYSTEM".into(),
        url: "http://msedge.f.dl.delivery.mp.microsoft.com/filestreamingservice/files/6a3c1d2e-5b4f-4e8a-9c71-0d2e8f4b6a13?P1=1710164121".into(),
        local_path: "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\Download\\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}\\122.0.2365.80\\MicrosoftEdge_X64_122.0.2365.80.exe".into(),
        proxy: Some(PROXY.into()),
        process: "C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe".into(),
        bytes: 171_442_528,
        delay_minutes: delay,
        attempts: vec![Attempt::Succeed],
        in_bitsadmin: false,
        notify_command: None,
        no_progress_timeout: None,
        file_event: false,
    }
}

fn policy() -> Vec<(String, u32)> {
    vec![
        ("JobInactivityTimeout".into(), 30),
        ("MaxJobsPerMachine".into(), 300),
        ("MaxJobsPerUser".into(), 60),
    ]
}

/// Five hosts of contoso.local.
pub fn scenario() -> Scenario {
    // Three finance/HR workstations download updates from Microsoft through proxy01, which
    // strips Range support: every such job fails with 0x80200013 (202 + 61).
    let mut fin01 = HostSpec::new("WS-FIN-01.contoso.local", "WS-FIN-01");
    fin01.winhttp_proxy = Some(PROXY.into());
    fin01.policy = policy();
    fin01.jobs = vec![
        wsus_job(
            "4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
            0,
            vec![Attempt::Succeed],
        ),
        ms_download_job("kb5035845", 14, vec![range_fail(), range_fail()]),
        edge_job(31),
        // Transient: the connection dropped once, the retry ten minutes later worked.
        wsus_job(
            "7C/9F8E7D6C5B4A39281706F5E4D3C2B1A09F8E7D7C.cab",
            47,
            vec![
                Attempt::Fail {
                    hr: 0x8007_2EFE,
                    context: 6,
                },
                Attempt::Succeed,
            ],
        ),
    ];

    let mut fin02 = HostSpec::new("WS-FIN-02.contoso.local", "WS-FIN-02");
    fin02.winhttp_proxy = Some(PROXY.into());
    fin02.policy = policy();
    fin02.service.state_cycles = 3;
    fin02.jobs = vec![
        wsus_job(
            "4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
            3,
            vec![Attempt::Succeed],
        ),
        ms_download_job(
            "kb5035845",
            19,
            vec![range_fail(), range_fail(), range_fail()],
        ),
        wsus_job(
            "B2/0C1D2E3F405162738495A6B7C8D9EAFB0C1D2EB2.cab",
            52,
            vec![Attempt::Succeed],
        ),
    ];

    let mut hr07 = HostSpec::new("WS-HR-07.contoso.local", "WS-HR-07");
    hr07.winhttp_proxy = Some(PROXY.into());
    hr07.jobs = vec![
        ms_download_job("kb5035845", 9, vec![range_fail()]),
        // The intranet page is generated on the fly and sent without Content-Length.
        JobSpec {
            title: "HR Policy Pack".into(),
            owner: "CONTOSO\\m.keller".into(),
            url: "http://intranet.contoso.local/hr/download.aspx?doc=policy-pack-2024".into(),
            local_path: "C:\\Users\\m.keller\\Downloads\\policy-pack-2024.zip".into(),
            proxy: None,
            process: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe".into(),
            bytes: 8_650_752,
            delay_minutes: 26,
            attempts: vec![Attempt::Fail202 {
                hr: 0x8020_0011,
                http_version: "HTTP/1.1".into(),
                url_range: String::new(),
            }],
            in_bitsadmin: true,
            notify_command: None,
            no_progress_timeout: None,
            file_event: false,
        },
        wsus_job(
            "D1/5E4F3A2B1C0D9E8F7A6B5C4D3E2F1A0B9C8D7ED1.cab",
            40,
            vec![Attempt::Succeed],
        ),
        edge_job(58),
    ];

    // An application server: a catalogue CDN refuses it (403) and an old WSUS name no longer
    // resolves (0x80072EE7, retried every ten minutes, never succeeds).
    let mut app03 = HostSpec::new("SRV-APP-03.contoso.local", "SRV-APP-03");
    app03.captures.service_reg = false;
    app03.jobs = vec![
        JobSpec {
            title: "AppCatalog sync".into(),
            owner: "CONTOSO\\svc-appsync".into(),
            url: "https://cdn.fabrikam-apps.example/catalog/2024.03/catalog-full.cab".into(),
            local_path: "D:\\AppCatalog\\staging\\catalog-full.cab".into(),
            proxy: None,
            process: "D:\\AppCatalog\\bin\\CatalogSync.exe".into(),
            bytes: 52_428_800,
            delay_minutes: 5,
            attempts: vec![Attempt::Fail {
                hr: 0x8019_0193,
                context: 5,
            }],
            in_bitsadmin: true,
            notify_command: None,
            no_progress_timeout: None,
            file_event: false,
        },
        {
            let mut j = JobSpec::windows_update(
                "http://wsus-old.contoso.local:8530/Content/12/44B3E0F1C2D3A4B5C6D7E8F90A1B2C3D4E5F6012.cab",
                vec![
                    Attempt::Fail {
                        hr: 0x8007_2EE7,
                        context: 5,
                    };
                    4
                ],
            );
            j.delay_minutes = 12;
            j.in_bitsadmin = true;
            j
        },
        wsus_job(
            "4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
            20,
            vec![Attempt::Succeed],
        ),
    ];

    // A lab machine where someone disabled BITS after a first healthy download: every later
    // start attempt fails with 1058 (ERROR_SERVICE_DISABLED).
    let mut lab11 = HostSpec::new("WS-LAB-11.contoso.local", "WS-LAB-11");
    lab11.config = Some(ConfigSpec {
        start: 4,
        ..ConfigSpec::default()
    });
    lab11.service = ServiceSpec {
        start_failures: vec![(7000, 1058), (7000, 1058), (7000, 1058)],
        state_cycles: 1,
        ..ServiceSpec::default()
    };
    lab11.jobs = vec![wsus_job(
        "4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
        2,
        vec![Attempt::Succeed],
    )];

    // An older file server (Windows Server 2012 R2: BITS 7.8.9600 in the bitsadmin banner, no
    // `-p`, five privileges) whose dependency list lost EventSystem, which that version needs.
    // No BITS policy: `reg query` of the policy key says the key does not exist.
    let mut file02 = HostSpec::new("SRV-FILE-02.contoso.local", "SRV-FILE-02");
    file02.config = Some(ConfigSpec {
        dependencies: vec!["RpcSs".into()],
        ..ConfigSpec::vista()
    });
    file02.bits_version = Some("7.8.9600".into());
    file02.captures.policy_reg = false;
    file02.captures.reg_query = true;
    file02.jobs = vec![wsus_job(
        "4E/1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4E.cab",
        3,
        vec![Attempt::Succeed],
    )];

    Scenario {
        hosts: vec![fin01, fin02, hr07, app03, lab11, file02],
        start: "2024-03-11T07:40:00Z".parse().expect("valid time"),
        seed: 0x5eed_b175,
    }
}

//! Fixtures for every event layout bitsdoctor reads, and helpers that read files back with the
//! `evtx` crate.
#![allow(dead_code)]

use evtx::{EvtxParser, ParserSettings};
use evtx_writer::{Event, UserData, Value};
use serde_json::Value as Json;

pub const BITS: &str = "Microsoft-Windows-Bits-Client";
pub const BITS_GUID: &str = "{ef1cc15b-46c1-414e-bb95-e76b077bd51e}";
pub const BITS_CHANNEL: &str = "Microsoft-Windows-Bits-Client/Operational";
pub const SCM: &str = "Service Control Manager";
pub const SCM_GUID: &str = "{555908d1-a6d7-4695-8e1e-26931d2012f4}";
pub const WUC: &str = "Microsoft-Windows-WindowsUpdateClient";
pub const WUC_GUID: &str = "{945a8954-c147-4acd-923f-40c45405a658}";
pub const EVENTLOG: &str = "Microsoft-Windows-Eventlog";
pub const EVENTLOG_GUID: &str = "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}";
pub const COMPUTER: &str = "WS01.contoso.local";
pub const JOB: &str = "{5f2863d6-e0ab-4470-8530-8f129b46177a}";
pub const XFER: &str = "{746fd3d9-d296-42da-9fcb-b7ff6fa9151b}";
pub const URL: &str = "http://wsus.contoso.local:8530/Content/AB/1234.cab";

/// 2021-10-25T18:04:30.334471Z plus `seconds`.
pub fn time(seconds: i64) -> jiff::Timestamp {
    let base: jiff::Timestamp = "2021-10-25T18:04:30.334471Z".parse().unwrap();
    base + jiff::SignedDuration::from_secs(seconds)
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

fn g(v: &str) -> Value {
    Value::Guid(v.to_string())
}

/// A Bits-Client Operational event.
pub fn bits(event_id: u16, version: u8, level: u8, opcode: u8, data: Vec<(&str, Value)>) -> Event {
    Event {
        provider: BITS.into(),
        provider_guid: Some(BITS_GUID.into()),
        event_id,
        version,
        level,
        opcode,
        keywords: 0x4000_0000_0000_0000,
        time: time(i64::from(event_id)),
        process_id: 1104,
        thread_id: 9132,
        channel: BITS_CHANNEL.into(),
        computer: COMPUTER.into(),
        user_sid: Some("S-1-5-18".into()),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        ..Event::default()
    }
}

/// The 17 fields of Bits-Client 60/61 v1.
pub fn transfer_stopped(event_id: u16, hr: u32) -> Event {
    let level = if event_id == 61 { 3 } else { 4 };
    let mut e = bits(
        event_id,
        1,
        level,
        2,
        vec![
            ("transferId", g(XFER)),
            ("name", s("WU Client Download")),
            ("Id", g(JOB)),
            ("url", s(URL)),
            ("peer", s("")),
            ("hr", Value::U32(hr)),
            ("fileTime", Value::FileTime(0)),
            ("fileLength", Value::U64(u64::MAX)),
            ("bytesTotal", Value::U64(u64::MAX)),
            ("bytesTransferred", Value::U64(0)),
            ("proxy", s("proxy.contoso.local:8080")),
            ("peerProtocolFlags", Value::U32(0)),
            ("bytesTransferredFromPeer", Value::U64(0)),
            ("AdditionalInfoHr", Value::U32(0)),
            ("PeerContextInfo", Value::U16(0)),
            ("bandwidthLimit", Value::U64(u64::MAX)),
            ("ignoreBandwidthLimitsOnLan", Value::Bool(false)),
        ],
    );
    e.activity_id = Some(XFER.into());
    e
}

/// A Service Control Manager event in the System log.
pub fn scm(event_id: u16, qualifiers: u16, params: &[&str], binary: Option<&str>) -> Event {
    Event {
        provider: SCM.into(),
        provider_guid: Some(SCM_GUID.into()),
        event_source_name: Some(SCM.into()),
        event_id,
        qualifiers: Some(qualifiers),
        level: if qualifiers == 49152 { 2 } else { 4 },
        keywords: 0x8080_0000_0000_0000,
        time: time(1000 + i64::from(event_id)),
        process_id: 492,
        thread_id: 1188,
        channel: "System".into(),
        computer: COMPUTER.into(),
        data: params
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("param{}", i + 1), s(p)))
            .collect(),
        binary: binary.map(|b| {
            b.encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect()
        }),
        ..Event::default()
    }
}

/// A WindowsUpdateClient event.
pub fn wuc(
    event_id: u16,
    version: u8,
    level: u8,
    channel: &str,
    data: Vec<(&str, Value)>,
) -> Event {
    Event {
        provider: WUC.into(),
        provider_guid: Some(WUC_GUID.into()),
        event_id,
        version,
        level,
        task: 1,
        opcode: 13,
        keywords: 0x8000_0000_0000_4000,
        time: time(2000 + i64::from(event_id)),
        process_id: 3456,
        thread_id: 7890,
        channel: channel.into(),
        computer: COMPUTER.into(),
        user_sid: Some("S-1-5-18".into()),
        data: data.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        ..Event::default()
    }
}

/// Eventlog 104 (a log was cleared), with UserData.
pub fn log_cleared() -> Event {
    Event {
        provider: EVENTLOG.into(),
        provider_guid: Some(EVENTLOG_GUID.into()),
        event_id: 104,
        task: 104,
        keywords: 0x8000_0000_0000_0000,
        time: time(3000),
        process_id: 712,
        thread_id: 1912,
        channel: "System".into(),
        computer: COMPUTER.into(),
        user_sid: Some("S-1-5-21-4230534742-2542757381-3142984815-1111".into()),
        user_data: Some(UserData {
            element: "LogFileCleared".into(),
            namespace: Some("http://manifests.microsoft.com/win/2004/08/windows/eventlog".into()),
            fields: vec![
                ("SubjectUserName".into(), s("admmig")),
                ("SubjectDomainName".into(), s("CONTOSO")),
                ("Channel".into(), s(BITS_CHANNEL)),
                ("BackupPath".into(), s("")),
            ],
        }),
        ..Event::default()
    }
}

/// One event of every layout the analyzer reads.
pub fn all_layouts() -> Vec<Event> {
    let owner = || s("CONTOSO\\alice");
    let mut events = vec![
        bits(
            3,
            0,
            4,
            0,
            vec![
                ("string", s("Font Download")),
                ("string2", s("NT AUTHORITY\\LOCAL SERVICE")),
                ("string3", s("")),
            ],
        ),
        bits(
            3,
            1,
            4,
            0,
            vec![
                ("jobTitle", s("WU Client Download")),
                ("jobId", g(JOB)),
                ("jobOwner", owner()),
            ],
        ),
        bits(
            3,
            2,
            4,
            0,
            vec![
                ("jobTitle", s("hackingarticles")),
                ("jobId", g(JOB)),
                ("jobOwner", owner()),
                ("processPath", s("C:\\Windows\\System32\\bitsadmin.exe")),
                ("processId", Value::U32(7680)),
            ],
        ),
        bits(
            4,
            1,
            4,
            0,
            vec![
                ("User", owner()),
                ("jobTitle", s("WU Client Download")),
                ("jobId", g(JOB)),
                ("jobOwner", owner()),
                ("fileCount", Value::U32(1)),
                ("bytesTransferred", Value::U64(1_048_576)),
                ("bytesTransferredFromPeer", Value::U64(0)),
            ],
        ),
        bits(
            5,
            0,
            4,
            0,
            vec![
                ("User", owner()),
                ("jobTitle", s("WU Client Download")),
                ("jobId", g(JOB)),
                ("jobOwner", owner()),
                ("fileCount", Value::U32(1)),
            ],
        ),
        bits(
            59,
            1,
            4,
            1,
            vec![
                ("transferId", g(XFER)),
                ("name", s("WU Client Download")),
                ("Id", g(JOB)),
                ("url", s(URL)),
                ("peer", s("")),
                ("fileTime", Value::FileTime(0)),
                ("fileLength", Value::U64(u64::MAX)),
                ("bytesTotal", Value::U64(u64::MAX)),
                ("bytesTransferred", Value::U64(0)),
                ("bytesTransferredFromPeer", Value::U64(0)),
            ],
        ),
        transfer_stopped(60, 0),
        transfer_stopped(61, 0x8020_0013),
        bits(
            201,
            0,
            3,
            0,
            vec![
                ("job", s("WU Client Download")),
                ("jobId", g(JOB)),
                ("jobOwner", owner()),
                ("url", s(URL)),
                ("transferId", g(XFER)),
                ("proxyServerList", s("proxy.contoso.local:8080")),
                ("proxyBypassList", s("<local>")),
                ("error", Value::U32(0x8007_2EE7)),
            ],
        ),
        bits(
            202,
            0,
            2,
            0,
            vec![
                ("jobName", s("WU Client Download")),
                ("jobOwner", owner()),
                ("jobId", g(JOB)),
                ("url", s(URL)),
                ("xferId", g(XFER)),
                ("proxy", s("")),
                ("hr", Value::U32(0x8020_0011)),
                ("fileLength", Value::U64(u64::MAX)),
                ("HTTPVersion", s("HTTP/1.1")),
                ("URLRange", s("bytes=0-1023")),
            ],
        ),
        bits(
            204,
            1,
            2,
            0,
            vec![
                ("server", s("wsus.contoso.local")),
                ("job", s("WU Client Download")),
                ("url", s(URL)),
                ("scheme", s("NTLM")),
                ("user", owner()),
            ],
        ),
        bits(
            206,
            0,
            3,
            0,
            vec![("jobName", s("WU Client Download")), ("url", s(URL))],
        ),
        bits(
            207,
            0,
            3,
            0,
            vec![("jobName", s("WU Client Download")), ("url", s(URL))],
        ),
        bits(
            210,
            0,
            3,
            0,
            vec![("jobName", s("WU Client Download")), ("url", s(URL))],
        ),
        bits(
            211,
            0,
            2,
            0,
            vec![
                ("JobGuid", g(JOB)),
                ("Title", s("WU Client Download")),
                ("ErrorCode", Value::U32(0x8019_0193)),
                ("Message", s("HTTP status 403: forbidden")),
            ],
        ),
        bits(302, 0, 3, 0, vec![]),
        bits(308, 0, 3, 0, vec![("number", Value::Double(3199.234))]),
        bits(310, 0, 3, 0, vec![("ErrorCode", Value::U32(0x8007_0002))]),
        bits(
            16403,
            0,
            4,
            0,
            vec![
                ("User", owner()),
                ("jobTitle", s("WU Client Download")),
                ("jobId", g(JOB)),
                ("jobOwner", owner()),
                ("fileCount", Value::U32(1)),
                ("RemoteName", s(URL)),
                (
                    "LocalName",
                    s("C:\\Windows\\SoftwareDistribution\\Download\\1234.cab"),
                ),
                ("processId", Value::U32(4242)),
                ("ClientProcessStartKey", Value::U64(0x0002_0000_0000_0123)),
            ],
        ),
    ];
    let mut system_bits = vec![
        bits(16392, 0, 2, 0, vec![("ErrorCode", Value::U32(0x8007_0424))]),
        bits(
            16398,
            0,
            2,
            0,
            vec![
                ("entityName", owner()),
                ("currentSize", Value::U32(300)),
                ("currentLimit", Value::U32(300)),
            ],
        ),
    ];
    for e in &mut system_bits {
        e.channel = "System".into();
    }
    events.extend(system_bits);
    events.extend([
        scm(
            7000,
            49152,
            &["Background Intelligent Transfer Service", "%%1058"],
            Some("BITS"),
        ),
        scm(
            7001,
            49152,
            &[
                "Background Intelligent Transfer Service",
                "Remote Procedure Call (RPC)",
                "%%1068",
            ],
            Some("BITS"),
        ),
        scm(
            7023,
            49152,
            &["Background Intelligent Transfer Service", "%%1079"],
            Some("BITS"),
        ),
        scm(
            7024,
            49152,
            &["Background Intelligent Transfer Service", "%%2147942402"],
            Some("BITS"),
        ),
        scm(
            7031,
            49152,
            &[
                "Background Intelligent Transfer Service",
                "1",
                "60000",
                "1",
                "Restart the service",
            ],
            Some("BITS"),
        ),
        scm(
            7034,
            49152,
            &["Background Intelligent Transfer Service", "1"],
            Some("BITS"),
        ),
        scm(
            7036,
            16384,
            &["Background Intelligent Transfer Service", "running"],
            Some("BITS/4"),
        ),
        scm(
            7040,
            16384,
            &[
                "Background Intelligent Transfer Service",
                "demand start",
                "auto start",
                "BITS",
            ],
            None,
        ),
    ]);
    let mut installed = scm(7045, 16384, &[], None);
    installed.data = vec![
        ("ServiceName".into(), s("BITS helper")),
        ("ImagePath".into(), s("C:\\ProgramData\\helper.exe")),
        ("ServiceType".into(), s("user mode service")),
        ("StartType".into(), s("auto start")),
        ("AccountName".into(), s("LocalSystem")),
    ];
    installed.user_sid = Some("S-1-5-21-1-2-3-500".into());
    events.push(installed);
    let update = || s("2024-01 Cumulative Update for Windows 10 (KB5034122)");
    let update_guid = || g("{1f4b43a1-5c64-4b47-a4df-70c2d2b0c6b5}");
    let service = || g("{9482f4b4-e343-43b6-b170-9a65bc822c77}");
    events.extend([
        wuc(
            19,
            1,
            4,
            "System",
            vec![
                ("updateTitle", update()),
                ("updateGuid", update_guid()),
                ("updateRevisionNumber", Value::U32(1)),
                ("serviceGuid", service()),
            ],
        ),
        wuc(
            20,
            1,
            2,
            "System",
            vec![
                ("errorCode", Value::HexInt32(0x8024_200D)),
                ("updateTitle", update()),
                ("updateGuid", update_guid()),
                ("updateRevisionNumber", Value::U32(1)),
                ("serviceGuid", service()),
            ],
        ),
        wuc(
            31,
            1,
            2,
            "Microsoft-Windows-WindowsUpdateClient/Operational",
            vec![
                ("updateTitle", update()),
                ("errorCode", Value::HexInt32(0x8024_0438)),
                ("updateGuid", update_guid()),
                ("updateRevisionNumber", Value::U32(1)),
            ],
        ),
        wuc(
            43,
            1,
            4,
            "System",
            vec![
                ("updateTitle", update()),
                ("updateGuid", update_guid()),
                ("updateRevisionNumber", Value::U32(1)),
            ],
        ),
        wuc(
            44,
            1,
            4,
            "System",
            vec![
                ("updateTitle", update()),
                ("updateGuid", update_guid()),
                ("updateRevisionNumber", Value::U32(1)),
            ],
        ),
    ]);
    events.push(log_cleared());
    events
}

/// The records of `bytes` as the evtx crate renders them to JSON, checksums validated. Panics
/// on any error.
pub fn json_records(bytes: &[u8]) -> Vec<(u64, jiff::Timestamp, Json)> {
    let settings = ParserSettings::new()
        .validate_checksums(true)
        .num_threads(1);
    let mut parser = EvtxParser::from_buffer(bytes.to_vec())
        .unwrap()
        .with_configuration(settings);
    assert!(parser.header().validate_checksum(), "file header CRC32");
    parser
        .records_json_value()
        .map(|r| {
            let r = r.expect("record parses");
            (r.event_record_id, r.timestamp, r.data)
        })
        .collect()
}

/// The records of `bytes` as the evtx crate renders them to XML.
pub fn xml_records(bytes: &[u8]) -> Vec<String> {
    let settings = ParserSettings::new()
        .validate_checksums(true)
        .num_threads(1);
    let mut parser = EvtxParser::from_buffer(bytes.to_vec())
        .unwrap()
        .with_configuration(settings);
    parser
        .records()
        .map(|r| r.expect("record parses").data)
        .collect()
}

/// Writes `events` and returns the file bytes.
pub fn write(events: &[Event]) -> Vec<u8> {
    let mut writer = evtx_writer::EvtxWriter::new();
    for e in events {
        writer.push(e).unwrap();
    }
    writer.finish()
}

//! Write -> read back with the `evtx` crate -> the same fields, for every layout the analyzer
//! reads.

mod common;

use common::*;
use evtx_writer::{Event, Value};
use serde_json::{json, Value as Json};

/// The value the evtx crate renders for `value` in JSON.
fn expected_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Str(s) => json!(s),
        Value::U8(v) => json!(v),
        Value::U16(v) => json!(v),
        Value::U32(v) => json!(v),
        Value::U64(v) => json!(v),
        Value::I32(v) => json!(v),
        Value::I64(v) => json!(v),
        Value::HexInt32(v) => json!(format!("0x{v:x}")),
        Value::HexInt64(v) => json!(format!("0x{v:x}")),
        Value::Double(v) => json!(v.to_string()), // as real 308 records render
        Value::Bool(v) => json!(v),
        Value::Guid(g) => json!(g.to_lowercase()),
        Value::FileTime(0) => json!("1601-01-01T00:00:00.0000000Z"),
        Value::Binary(b) => json!(b.iter().map(|x| format!("{x:02X}")).collect::<String>()),
        other => panic!("no expectation for {other:?}"),
    }
}

fn check(event: &Event, id: u64, time: jiff::Timestamp, rendered: &Json) {
    let what = format!("{} {} v{}", event.provider, event.event_id, event.version);
    let sys = &rendered["Event"]["System"];
    assert_eq!(
        sys["Provider"]["#attributes"]["Name"],
        json!(event.provider),
        "{what}"
    );
    let guid = sys["Provider"]["#attributes"]["Guid"].as_str().unwrap();
    assert!(
        guid.eq_ignore_ascii_case(event.provider_guid.as_deref().unwrap()),
        "{what}: {guid}"
    );
    if let Some(source) = &event.event_source_name {
        assert_eq!(
            sys["Provider"]["#attributes"]["EventSourceName"],
            json!(source),
            "{what}"
        );
    }
    match event.qualifiers {
        Some(q) => {
            assert_eq!(sys["EventID"]["#text"], json!(event.event_id), "{what}");
            assert_eq!(
                sys["EventID"]["#attributes"]["Qualifiers"],
                json!(q),
                "{what}"
            );
        }
        None => assert_eq!(sys["EventID"], json!(event.event_id), "{what}"),
    }
    assert_eq!(sys["Version"], json!(event.version), "{what}");
    assert_eq!(sys["Level"], json!(event.level), "{what}");
    assert_eq!(sys["Task"], json!(event.task), "{what}");
    assert_eq!(sys["Opcode"], json!(event.opcode), "{what}");
    assert_eq!(
        sys["Keywords"],
        json!(format!("0x{:x}", event.keywords)),
        "{what}"
    );
    assert_eq!(sys["EventRecordID"], json!(id), "{what}");
    assert_eq!(sys["Channel"], json!(event.channel), "{what}");
    assert_eq!(sys["Computer"], json!(event.computer), "{what}");
    assert_eq!(
        sys["Execution"]["#attributes"]["ProcessID"],
        json!(event.process_id),
        "{what}"
    );
    assert_eq!(
        sys["Execution"]["#attributes"]["ThreadID"],
        json!(event.thread_id),
        "{what}"
    );
    if let Some(sid) = &event.user_sid {
        assert_eq!(
            sys["Security"]["#attributes"]["UserID"],
            json!(sid),
            "{what}"
        );
    }
    if let Some(activity) = &event.activity_id {
        let got = sys["Correlation"]["#attributes"]["ActivityID"]
            .as_str()
            .unwrap();
        assert!(got.eq_ignore_ascii_case(activity), "{what}");
    }
    let created: jiff::Timestamp = sys["TimeCreated"]["#attributes"]["SystemTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(created, event.time, "{what}");
    assert_eq!(time, event.time, "{what}: record header time");

    if let Some(user_data) = &event.user_data {
        let element = &rendered["Event"]["UserData"][&user_data.element];
        for (name, value) in &user_data.fields {
            // An empty element renders as null (as the real Windows 104 record does).
            let expected = match value {
                Value::Str(s) if s.is_empty() => Json::Null,
                other => expected_json(other),
            };
            assert_eq!(element[name], expected, "{what} {name}");
        }
        return;
    }
    let data = &rendered["Event"]["EventData"];
    for (name, value) in &event.data {
        let got =
            if event.is_classic() && event.event_source_name.is_some() && data["Data"].is_array() {
                // Classic events render Data as an array of {#attributes: {Name}, #text}.
                data["Data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|d| d["#attributes"]["Name"] == json!(name))
                    .map(|d| d["#text"].clone())
                    .unwrap_or(Json::Null)
            } else {
                data[name].clone()
            };
        assert_eq!(got, expected_json(value), "{what} {name}: {data}");
    }
    if let Some(binary) = &event.binary {
        assert_eq!(
            data["Binary"],
            expected_json(&Value::Binary(binary.clone())),
            "{what}"
        );
    }
}

#[test]
fn every_layout_round_trips_through_the_evtx_crate() {
    let events = all_layouts();
    let bytes = write(&events);
    let records = json_records(&bytes);
    assert_eq!(records.len(), events.len());
    for (i, (event, (id, time, rendered))) in events.iter().zip(&records).enumerate() {
        assert_eq!(*id, i as u64 + 1);
        check(event, *id, *time, rendered);
    }
}

#[test]
fn hr_fields_come_back_as_the_same_numbers() {
    let bytes = write(&[
        transfer_stopped(61, 0x8020_0013),
        transfer_stopped(60, 0x0004_0008),
    ]);
    let records = json_records(&bytes);
    let data = |i: usize| records[i].2["Event"]["EventData"].clone();
    assert_eq!(data(0)["hr"], json!(2_149_580_819u32));
    assert_eq!(data(0)["bytesTotal"], json!(u64::MAX));
    assert_eq!(data(0)["fileLength"], json!(18_446_744_073_709_551_615u64));
    assert_eq!(data(1)["hr"], json!(0x0004_0008u32));
    assert_eq!(records[0].2["Event"]["System"]["Level"], json!(3));
}

#[test]
fn scm_binary_is_utf16_service_name_and_state() {
    let bytes = write(&[scm(
        7036,
        16384,
        &["Background Intelligent Transfer Service", "running"],
        Some("BITS/4"),
    )]);
    let records = json_records(&bytes);
    let data = &records[0].2["Event"]["EventData"];
    assert_eq!(data["Binary"], json!("42004900540053002F0034000000"));
    let xml = xml_records(&bytes);
    assert!(
        xml[0].contains("<EventID Qualifiers=\"16384\">7036</EventID>"),
        "{}",
        xml[0]
    );
    assert!(
        xml[0].contains("<Data Name=\"param1\">Background Intelligent Transfer Service</Data>"),
        "{}",
        xml[0]
    );
    assert!(
        xml[0].contains("<Binary>42004900540053002F0034000000</Binary>"),
        "{}",
        xml[0]
    );
    assert!(
        xml[0].contains("EventSourceName=\"Service Control Manager\""),
        "{}",
        xml[0]
    );
}

#[test]
fn xml_rendering_has_the_windows_shape() {
    let bytes = write(&all_layouts());
    let xml = xml_records(&bytes);
    let bits61 = xml
        .iter()
        .find(|x| x.contains("<EventID>61</EventID>"))
        .unwrap();
    for needle in [
        "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">",
        "<Provider Name=\"Microsoft-Windows-Bits-Client\" Guid=\"{",
        "<Level>3</Level>",
        "<Keywords>0x4000000000000000</Keywords>",
        "<TimeCreated SystemTime=\"2021-10-25T18:05:31.3344710Z\"",
        "<Channel>Microsoft-Windows-Bits-Client/Operational</Channel>",
        "<Computer>WS01.contoso.local</Computer>",
        "<Security UserID=\"S-1-5-18\"",
        "<Data Name=\"hr\">2149580819</Data>",
        "<Data Name=\"bytesTotal\">18446744073709551615</Data>",
    ] {
        assert!(bits61.contains(needle), "{needle} not in {bits61}");
    }
    let cleared = xml
        .iter()
        .find(|x| x.contains("<EventID>104</EventID>"))
        .unwrap();
    for needle in [
        "<UserData>",
        "<LogFileCleared xmlns=\"http://manifests.microsoft.com/win/2004/08/windows/eventlog\">",
        "<SubjectUserName>admmig</SubjectUserName>",
        "<Channel>Microsoft-Windows-Bits-Client/Operational</Channel>",
        "<BackupPath></BackupPath>",
    ] {
        assert!(cleared.contains(needle), "{needle} not in {cleared}");
    }
    let wu20 = xml
        .iter()
        .find(|x| x.contains("<EventID>20</EventID>"))
        .unwrap();
    assert!(
        wu20.contains("<Data Name=\"errorCode\">0x8024200d</Data>"),
        "{wu20}"
    );
    let n308 = xml
        .iter()
        .find(|x| x.contains("<EventID>308</EventID>"))
        .unwrap();
    assert!(
        n308.contains("<Data Name=\"number\">3199.234</Data>"),
        "{n308}"
    );
}

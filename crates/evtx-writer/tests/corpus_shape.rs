//! Our records against real Windows records from the shared corpus: the evtx crate must render
//! both with the same JSON shape (the same keys in the same places), since the analyzer looks
//! fields up by name there. Skipped, with a notice, where the corpus is absent; set
//! `BITSDOCTOR_CORPUS` to its directory (default `/work/shared/corpus`).

mod common;

use common::*;
use evtx::{EvtxParser, ParserSettings};
use evtx_writer::Event;
use serde_json::Value as Json;
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("BITSDOCTOR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpus"));
    dir.is_dir().then_some(dir)
}

/// The first record of `file` with `event_id`, rendered to JSON.
fn real_record(file: &PathBuf, event_id: u64) -> Json {
    let settings = ParserSettings::new().num_threads(1);
    let mut parser = EvtxParser::from_path(file)
        .unwrap()
        .with_configuration(settings);
    let found = parser
        .records_json_value()
        .filter_map(Result::ok)
        .map(|r| r.data)
        .find(|d| {
            let id = &d["Event"]["System"]["EventID"];
            id.as_u64().or_else(|| id["#text"].as_u64()) == Some(event_id)
        })
        .unwrap_or_else(|| panic!("no {event_id} in {}", file.display()));
    found
}

/// Every key path of `json` ("Event.System.Provider.#attributes.Name"...), arrays by index,
/// leaves with their JSON kind (so a number rendered as a string shows).
fn paths(json: &Json, prefix: &str, out: &mut Vec<String>) {
    match json {
        Json::Object(map) => {
            for (k, v) in map {
                let p = format!("{prefix}.{k}");
                out.push(p.clone());
                paths(v, &p, out);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                paths(v, &format!("{prefix}[{i}]"), out);
            }
        }
        Json::Null => out.push(format!("{prefix}: null")),
        Json::Bool(_) => out.push(format!("{prefix}: bool")),
        Json::Number(_) => out.push(format!("{prefix}: number")),
        Json::String(_) => out.push(format!("{prefix}: string")),
    }
}

fn shape(json: &Json) -> Vec<String> {
    let mut out = Vec::new();
    paths(json, "", &mut out);
    out
}

fn ours(event: &Event) -> Json {
    json_records(&write(std::slice::from_ref(event)))
        .remove(0)
        .2
}

fn compare(file: &str, event_id: u64, event: Event) {
    let Some(dir) = corpus() else {
        eprintln!("NOTICE: corpus not found (set BITSDOCTOR_CORPUS); skipped");
        return;
    };
    let real = real_record(&dir.join(file), event_id);
    let mine = ours(&event);
    println!(
        "real:\n{}\nours:\n{}",
        serde_json::to_string_pretty(&real).unwrap(),
        serde_json::to_string_pretty(&mine).unwrap()
    );
    assert_eq!(shape(&mine), shape(&real), "{file} {event_id}");
}

#[test]
fn bits_client_61_has_the_shape_of_a_real_one() {
    compare(
        "evtx-attack-samples/Command and Control/bits_openvpn.evtx",
        61,
        transfer_stopped(61, 0x8020_0013),
    );
}

#[test]
fn scm_7036_has_the_shape_of_a_real_one() {
    let mut event = scm(
        7036,
        16384,
        &["Windows Event Log", "stopped"],
        Some("eventlog/1"),
    );
    event.user_sid = None;
    compare("plaso/test_data/evtx/System.evtx", 7036, event);
}

#[test]
fn eventlog_104_has_the_shape_of_a_real_one() {
    let mut event = log_cleared();
    if let Some(user_data) = &mut event.user_data {
        user_data.fields[2].1 = evtx_writer::Value::Str("System".into());
    }
    compare(
        "evtx-to-mitre-attack/TA0005-Defense Evasion/T1070.001-Clear Windows event logs/ID104-1102-Event log cleared.evtx",
        104,
        event,
    );
}

#[test]
fn windows_update_44_has_the_shape_of_a_real_one() {
    let event = all_layouts()
        .into_iter()
        .find(|e| e.event_id == 44)
        .unwrap();
    compare("nanw01-python-algrothm/System.evtx", 44, event);
}

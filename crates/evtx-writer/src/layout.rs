//! How an [`Event`] becomes template trees and values, laid out as Windows lays them out.
//!
//! The System template's substitution indices (the same in both layouts):
//!
//! | index | field | type |
//! |---|---|---|
//! | 0 | Level | UInt8 |
//! | 1 | Opcode | UInt8 |
//! | 2 | Task | UInt16 |
//! | 3 | EventID | UInt16 |
//! | 4 | EventID/@Qualifiers | UInt16 |
//! | 5 | Keywords | HexInt64 |
//! | 6 | TimeCreated/@SystemTime | FILETIME |
//! | 7 | Correlation/@ActivityID | GUID |
//! | 8, 9 | Execution/@ProcessID, @ThreadID | UInt32 |
//! | 10 | EventRecordID | UInt64 |
//! | 11 | Version | UInt8 |
//! | 12 | Security/@UserID | SID |
//!
//! Manifest layout: 13 RelatedActivityID, 14 Provider/@Name, 15 Provider/@Guid, 16 Channel,
//! 17 the EventData/UserData BinXML. Classic layout: 13-17 Null, 18 RelatedActivityID,
//! 19 the BinXML. `<EventData>` sits inside the nested BinXML (its value is a direct child of
//! `<Event>`); `<UserData>` is in the outer template around the value.

use crate::binxml::Buf;
use crate::error::WriteError;
use crate::event::{Event, UserData, EVENT_NAMESPACE};
use crate::tables::Scope;
use crate::template::{Element, Node, Subst};
use crate::value::{filetime, format_guid, guid_bytes, sid_bytes, ty, utf16le, Encoded, Value};

/// The outer template and its values (without the last, nested BinXML one).
pub(crate) struct System {
    pub tree: Element,
    pub values: Vec<Encoded>,
}

/// Builds the outer template for `event` as record `record_id`.
pub(crate) fn system(event: &Event, record_id: u64) -> Result<System, WriteError> {
    let classic = event.is_classic();
    let (related, payload) = if classic { (18, 19) } else { (13, 17) };
    let opt = Subst::optional;

    let mut provider = Element::new("Provider");
    let provider_guid = match &event.provider_guid {
        Some(g) => Some(guid_bytes("Provider/@Guid", g)?),
        None => None,
    };
    if classic {
        provider = provider.attr("Name", Node::Text(event.provider.clone()));
        if let Some(g) = &provider_guid {
            provider = provider.attr("Guid", Node::Text(format_guid(g)));
        }
        if let Some(source) = &event.event_source_name {
            provider = provider.attr("EventSourceName", Node::Text(source.clone()));
        }
    } else {
        provider = provider
            .attr("Name", Node::Subst(opt(14, ty::STRING)))
            .attr("Guid", Node::Subst(opt(15, ty::GUID)));
    }
    let channel = if classic {
        Element::new("Channel").child(Node::Text(event.channel.clone()))
    } else {
        Element::new("Channel").child(Node::Subst(opt(16, ty::STRING)))
    };

    let system = Element::new("System")
        .child(Node::Element(provider))
        .child(Node::Element(
            Element::new("EventID")
                .attr("Qualifiers", Node::Subst(opt(4, ty::UINT16)))
                .child(Node::Subst(opt(3, ty::UINT16))),
        ))
        .child_subst("Version", opt(11, ty::UINT8))
        .child_subst("Level", opt(0, ty::UINT8))
        .child_subst("Task", opt(2, ty::UINT16))
        .child_subst("Opcode", opt(1, ty::UINT8))
        .child_subst("Keywords", opt(5, ty::HEXINT64))
        .child(Node::Element(
            Element::new("TimeCreated").attr("SystemTime", Node::Subst(opt(6, ty::FILETIME))),
        ))
        .child_subst("EventRecordID", opt(10, ty::UINT64))
        .child(Node::Element(
            Element::new("Correlation")
                .attr("ActivityID", Node::Subst(opt(7, ty::GUID)))
                .attr("RelatedActivityID", Node::Subst(opt(related, ty::GUID))),
        ))
        .child(Node::Element(
            Element::new("Execution")
                .attr("ProcessID", Node::Subst(opt(8, ty::UINT32)))
                .attr("ThreadID", Node::Subst(opt(9, ty::UINT32))),
        ))
        .child(Node::Element(channel))
        .child(Node::Element(
            Element::new("Computer").child(Node::Text(event.computer.clone())),
        ))
        .child(Node::Element(
            Element::new("Security").attr("UserID", Node::Subst(opt(12, ty::SID))),
        ));

    let payload_slot = Node::Subst(opt(payload, ty::BINXML));
    let mut tree = Element::new("Event")
        .attr("xmlns", Node::Text(EVENT_NAMESPACE.to_string()))
        .child(Node::Element(system));
    tree = if event.user_data.is_some() {
        tree.child(Node::Element(Element::new("UserData").child(payload_slot)))
    } else {
        tree.child(payload_slot)
    };

    let fixed = |v: Value, field: &str| v.encode(field);
    let optional_guid = |g: &Option<String>, field: &str| match g {
        Some(g) => Encoded::new(field, ty::GUID, guid_bytes(field, g)?.to_vec()),
        None => Ok(Encoded::null()),
    };
    let mut values = vec![
        fixed(Value::U8(event.level), "Level")?,
        fixed(Value::U8(event.opcode), "Opcode")?,
        fixed(Value::U16(event.task), "Task")?,
        fixed(Value::U16(event.event_id), "EventID")?,
        match event.qualifiers {
            Some(q) => fixed(Value::U16(q), "Qualifiers")?,
            None => Encoded::null(),
        },
        fixed(Value::HexInt64(event.keywords), "Keywords")?,
        fixed(
            Value::FileTime(filetime("TimeCreated", event.time)?),
            "TimeCreated",
        )?,
        optional_guid(&event.activity_id, "Correlation/@ActivityID")?,
        fixed(Value::U32(event.process_id), "ProcessID")?,
        fixed(Value::U32(event.thread_id), "ThreadID")?,
        fixed(Value::U64(record_id), "EventRecordID")?,
        fixed(Value::U8(event.version), "Version")?,
        match &event.user_sid {
            Some(sid) => Encoded::new("Security/@UserID", ty::SID, sid_bytes("UserID", sid)?)?,
            None => Encoded::null(),
        },
    ];
    if classic {
        values.extend((13..18).map(|_| Encoded::null()));
        values.push(optional_guid(
            &event.related_activity_id,
            "Correlation/@RelatedActivityID",
        )?);
    } else {
        values.push(optional_guid(
            &event.related_activity_id,
            "Correlation/@RelatedActivityID",
        )?);
        values.push(Encoded::new(
            "Provider/@Name",
            ty::STRING,
            utf16le(&event.provider),
        )?);
        values.push(match provider_guid {
            Some(g) => Encoded::new("Provider/@Guid", ty::GUID, g.to_vec())?,
            None => Encoded::null(),
        });
        values.push(Encoded::new(
            "Channel",
            ty::STRING,
            utf16le(&event.channel),
        )?);
    }
    Ok(System { tree, values })
}

/// The nested BinXML value (EventData or UserData) of `event`, built at chunk offset `at`.
pub(crate) fn payload(
    event: &Event,
    scope: &mut Scope<'_>,
    at: u32,
) -> Result<Encoded, WriteError> {
    let (tree, values) = match &event.user_data {
        Some(user_data) => user_data_template(user_data)?,
        None => event_data_template(event)?,
    };
    let mut buf = Buf::new(at);
    buf.fragment_header();
    buf.template_instance(scope, &tree, values, None)?;
    buf.eof();
    Encoded::new("EventData", ty::BINXML, buf.bytes)
}

fn event_data_template(event: &Event) -> Result<(Element, Vec<Encoded>), WriteError> {
    let mut tree = Element::new("EventData");
    let mut values = Vec::with_capacity(event.data.len() + 2);
    for (name, value) in &event.data {
        let index = next_index(&values)?;
        tree = tree.child(Node::Element(
            Element::new("Data")
                .attr("Name", Node::Text(name.clone()))
                .child(Node::Subst(Subst::normal(index, value.declared_type()))),
        ));
        values.push(value.encode(name)?);
    }
    if let Some(binary) = &event.binary {
        let length = u32::try_from(binary.len()).unwrap_or(u32::MAX);
        values.push(Value::U32(length).encode("__binLength")?);
        let index = next_index(&values)?;
        tree = tree.child_subst("Binary", Subst::normal(index, ty::BINARY));
        values.push(Encoded::new("Binary", ty::BINARY, binary.clone())?);
    }
    Ok((tree, values))
}

fn user_data_template(user_data: &UserData) -> Result<(Element, Vec<Encoded>), WriteError> {
    let mut tree = Element::new(&user_data.element);
    if let Some(ns) = &user_data.namespace {
        tree = tree.attr("xmlns", Node::Text(ns.clone()));
    }
    let mut values = Vec::with_capacity(user_data.fields.len());
    for (name, value) in &user_data.fields {
        let index = next_index(&values)?;
        tree = tree.child_subst(name, Subst::normal(index, value.declared_type()));
        values.push(value.encode(name)?);
    }
    Ok((tree, values))
}

/// The index the next value gets; templates index values with a u16.
fn next_index(values: &[Encoded]) -> Result<u16, WriteError> {
    u16::try_from(values.len()).map_err(|_| WriteError::ValueTooLarge {
        field: "EventData".to_string(),
        size: values.len(),
    })
}

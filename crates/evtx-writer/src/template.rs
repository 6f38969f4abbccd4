//! Template trees: the element structure a template definition holds, with literal text and
//! substitution slots, plus its canonical key and GUID.
//!
//! Two events whose trees are equal share one definition per chunk, as Windows does for events
//! of one (provider, id, version) shape.

use crate::error::WriteError;

/// A substitution slot: `index` into the instance's values, the declared value type, and
/// whether it is an OptionalSubstitution (0x0e; a Null value drops the element/attribute) or a
/// NormalSubstitution (0x0d).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Subst {
    pub index: u16,
    pub value_type: u8,
    pub optional: bool,
}

impl Subst {
    pub(crate) fn optional(index: u16, value_type: u8) -> Self {
        Subst {
            index,
            value_type,
            optional: true,
        }
    }

    pub(crate) fn normal(index: u16, value_type: u8) -> Self {
        Subst {
            index,
            value_type,
            optional: false,
        }
    }
}

/// Element content or an attribute value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Element(Element),
    /// Literal text (a Value token holding a string).
    Text(String),
    Subst(Subst),
}

/// An element with attributes (name, literal text or substitution) and children.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub name: String,
    pub attributes: Vec<(String, Node)>,
    pub children: Vec<Node>,
}

impl Element {
    pub(crate) fn new(name: &str) -> Self {
        Element {
            name: name.to_string(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute (a `Text` or `Subst` node).
    pub(crate) fn attr(mut self, name: &str, value: Node) -> Self {
        self.attributes.push((name.to_string(), value));
        self
    }

    /// Adds a child node.
    pub(crate) fn child(mut self, node: Node) -> Self {
        self.children.push(node);
        self
    }

    /// Adds a child element holding one substitution.
    pub(crate) fn child_subst(self, name: &str, subst: Subst) -> Self {
        self.child(Node::Element(Element::new(name).child(Node::Subst(subst))))
    }

    /// Windows' DependencyId: the index of the first optional substitution among the direct
    /// children, or 0xFFFF (e.g. `<EventID>` depends on its EventID value, `<Event>` on its
    /// EventData value, `<TimeCreated>` on nothing).
    pub(crate) fn dependency(&self) -> u16 {
        self.children
            .iter()
            .find_map(|c| match c {
                Node::Subst(s) if s.optional => Some(s.index),
                _ => None,
            })
            .unwrap_or(0xffff)
    }

    /// A byte string equal for equal trees and different for different ones.
    pub(crate) fn key(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.key_into(&mut out);
        out
    }

    fn key_into(&self, out: &mut Vec<u8>) {
        out.push(b'<');
        push_str(out, &self.name);
        for (name, value) in &self.attributes {
            out.push(b'@');
            push_str(out, name);
            node_key(value, out);
        }
        for child in &self.children {
            node_key(child, out);
        }
        out.push(b'>');
    }

    /// Checks that every name fits the string table.
    pub(crate) fn check_names(&self) -> Result<(), WriteError> {
        check_name(&self.name)?;
        for (name, _) in &self.attributes {
            check_name(name)?;
        }
        for child in &self.children {
            if let Node::Element(e) = child {
                e.check_names()?;
            }
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), WriteError> {
    let len = name.encode_utf16().count();
    if len > usize::from(u16::MAX) {
        return Err(WriteError::NameTooLong { len });
    }
    Ok(())
}

fn node_key(node: &Node, out: &mut Vec<u8>) {
    match node {
        Node::Element(e) => e.key_into(out),
        Node::Text(t) => {
            out.push(b'"');
            push_str(out, t);
        }
        Node::Subst(s) => {
            out.push(if s.optional { b'?' } else { b'%' });
            out.extend_from_slice(&s.index.to_le_bytes());
            out.push(s.value_type);
        }
    }
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A deterministic GUID for a template key (FNV-1a, 128 bit). Windows derives its own; readers
/// only need it to be stable and distinct.
pub(crate) fn template_guid(key: &[u8]) -> [u8; 16] {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let hash = key
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    hash.to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tell_shapes_apart() {
        let a = Element::new("Data").attr("Name", Node::Text("hr".into()));
        let b = Element::new("Data").attr("Name", Node::Text("h".into()));
        assert_ne!(a.key(), b.key());
        assert_eq!(a.key(), a.clone().key());
        assert_ne!(template_guid(&a.key()), template_guid(&b.key()));
    }

    #[test]
    fn dependency_is_first_optional_child() {
        let e = Element::new("EventID")
            .attr("Qualifiers", Node::Subst(Subst::optional(4, 6)))
            .child(Node::Subst(Subst::optional(3, 6)));
        assert_eq!(e.dependency(), 3);
        let t =
            Element::new("TimeCreated").attr("SystemTime", Node::Subst(Subst::optional(6, 0x11)));
        assert_eq!(t.dependency(), 0xffff);
        let d = Element::new("Data").child(Node::Subst(Subst::normal(0, 1)));
        assert_eq!(d.dependency(), 0xffff);
    }
}

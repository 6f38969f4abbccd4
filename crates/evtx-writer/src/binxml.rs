//! BinXML token stream writing (MS-EVEN6 2.2.12 ff., libyal "Binary XML"): fragment headers,
//! elements with names from the chunk string table, template definitions and instances.
//!
//! Offsets in BinXML are chunk offsets, so a [`Buf`] knows where in the chunk its first byte
//! will land.

use crate::error::WriteError;
use crate::tables::{name_hash, Scope, TemplateRef};
use crate::template::{template_guid, Element, Node, Subst};
use crate::value::{ty, utf16le, Encoded};

/// Token bytes.
mod token {
    pub const EOF: u8 = 0x00;
    pub const OPEN_START_ELEMENT: u8 = 0x01;
    pub const CLOSE_START_ELEMENT: u8 = 0x02;
    pub const CLOSE_EMPTY_ELEMENT: u8 = 0x03;
    pub const END_ELEMENT: u8 = 0x04;
    pub const VALUE: u8 = 0x05;
    pub const ATTRIBUTE: u8 = 0x06;
    pub const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub const NORMAL_SUBSTITUTION: u8 = 0x0d;
    pub const OPTIONAL_SUBSTITUTION: u8 = 0x0e;
    pub const FRAGMENT_HEADER: u8 = 0x0f;
    /// Set on OpenStartElement when attributes follow, and on Attribute when another follows.
    pub const MORE: u8 = 0x40;
}

/// Builds a template instance's last value once its chunk offset is known.
pub(crate) type LastValue<'a> = dyn Fn(&mut Scope<'_>, u32) -> Result<Encoded, WriteError> + 'a;

/// Bytes destined for chunk offset `base` onwards.
#[derive(Debug)]
pub(crate) struct Buf {
    pub bytes: Vec<u8>,
    base: u32,
}

impl Buf {
    pub(crate) fn new(base: u32) -> Self {
        Buf {
            bytes: Vec::new(),
            base,
        }
    }

    /// The chunk offset of the next byte. Records are bounded by the 64 KiB chunk long before
    /// this could wrap; a wrapped offset only yields a record the chunk then refuses.
    pub(crate) fn pos(&self) -> u32 {
        self.base
            .wrapping_add(u32::try_from(self.bytes.len()).unwrap_or(u32::MAX))
    }

    fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    /// Reserves a u32 to fill in with [`Buf::fill_size_from`].
    fn placeholder(&mut self) -> usize {
        let at = self.bytes.len();
        self.u32(0);
        at
    }

    /// Writes at `at` the number of bytes after that u32 up to the end.
    fn fill_size_from(&mut self, at: usize) {
        let size = u32::try_from(self.bytes.len() - at - 4).unwrap_or(u32::MAX);
        self.bytes[at..at + 4].copy_from_slice(&size.to_le_bytes());
    }

    /// A FragmentHeader token: BinXML 1.1, no flags.
    pub(crate) fn fragment_header(&mut self) {
        self.bytes
            .extend_from_slice(&[token::FRAGMENT_HEADER, 1, 1, 0]);
    }

    pub(crate) fn eof(&mut self) {
        self.u8(token::EOF);
    }

    /// A name reference: the offset of the chunk's string-table entry, followed by the entry
    /// itself when this is the chunk's first use of the name.
    fn name(&mut self, scope: &mut Scope<'_>, name: &str) {
        if let Some(offset) = scope.string(name) {
            self.u32(offset);
            return;
        }
        let offset = self.pos().wrapping_add(4);
        self.u32(offset);
        let hash = name_hash(name);
        let next = scope.add_string(name, hash, offset);
        let units: Vec<u16> = name.encode_utf16().collect();
        self.u32(next);
        self.u16(hash);
        // Template::check_names bounded the length.
        self.u16(u16::try_from(units.len()).unwrap_or(u16::MAX));
        for unit in units {
            self.u16(unit);
        }
        self.u16(0);
    }

    /// A Value token holding a string.
    fn text(&mut self, text: &str) {
        let bytes = utf16le(text);
        self.u8(token::VALUE);
        self.u8(ty::STRING);
        self.u16(u16::try_from(bytes.len() / 2).unwrap_or(u16::MAX));
        self.bytes.extend_from_slice(&bytes);
    }

    fn subst(&mut self, s: Subst) {
        self.u8(if s.optional {
            token::OPTIONAL_SUBSTITUTION
        } else {
            token::NORMAL_SUBSTITUTION
        });
        self.u16(s.index);
        self.u8(s.value_type);
    }

    fn node(&mut self, scope: &mut Scope<'_>, node: &Node) {
        match node {
            Node::Element(e) => self.element(scope, e),
            Node::Text(t) => self.text(t),
            Node::Subst(s) => self.subst(*s),
        }
    }

    /// An element as template definitions hold it: OpenStartElement (with DependencyId, data
    /// size, name), the attribute list, then CloseEmptyElement, or CloseStartElement, the
    /// children and EndElement.
    fn element(&mut self, scope: &mut Scope<'_>, e: &Element) {
        let has_attributes = !e.attributes.is_empty();
        self.u8(token::OPEN_START_ELEMENT | if has_attributes { token::MORE } else { 0 });
        self.u16(e.dependency());
        let size_at = self.placeholder();
        self.name(scope, &e.name);
        if has_attributes {
            let list_at = self.placeholder();
            for (i, (name, value)) in e.attributes.iter().enumerate() {
                let more = i + 1 < e.attributes.len();
                self.u8(token::ATTRIBUTE | if more { token::MORE } else { 0 });
                self.name(scope, name);
                self.node(scope, value);
            }
            self.fill_size_from(list_at);
        }
        if e.children.is_empty() {
            self.u8(token::CLOSE_EMPTY_ELEMENT);
        } else {
            self.u8(token::CLOSE_START_ELEMENT);
            for child in &e.children {
                self.node(scope, child);
            }
            self.u8(token::END_ELEMENT);
        }
        self.fill_size_from(size_at);
    }

    /// A TemplateInstance of `tree` with `values`: the instance header, the template
    /// definition if the chunk does not have it yet, then the value descriptors and values.
    ///
    /// `last` is built at its final chunk offset once the offsets of the values before it are
    /// known (the nested BinXML of EventData/UserData refers to the chunk by offset too).
    pub(crate) fn template_instance(
        &mut self,
        scope: &mut Scope<'_>,
        tree: &Element,
        mut values: Vec<Encoded>,
        last: Option<&LastValue<'_>>,
    ) -> Result<(), WriteError> {
        tree.check_names()?;
        let key = tree.key();
        self.u8(token::TEMPLATE_INSTANCE);
        self.u8(1);
        match scope.template(&key) {
            Some(existing) => {
                self.bytes.extend_from_slice(&existing.guid[..4]);
                self.u32(existing.offset);
            }
            None => {
                let guid = template_guid(&key);
                let offset = self.pos().wrapping_add(8);
                self.bytes.extend_from_slice(&guid[..4]);
                self.u32(offset);
                let next = scope.add_template(key, TemplateRef { offset, guid });
                self.u32(next);
                self.bytes.extend_from_slice(&guid);
                let size_at = self.placeholder();
                self.fragment_header();
                self.element(scope, tree);
                self.eof();
                self.fill_size_from(size_at);
            }
        }

        let count = values.len() + usize::from(last.is_some());
        if let Some(last) = last {
            let before: u32 = values.iter().map(|v| u32::from(v.size())).sum();
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            let at = self
                .pos()
                .wrapping_add(4)
                .wrapping_add(count.wrapping_mul(4))
                .wrapping_add(before);
            values.push(last(scope, at)?);
        }
        self.u32(u32::try_from(count).unwrap_or(u32::MAX));
        for v in &values {
            self.u16(v.size());
            self.u8(v.value_type);
            self.u8(0);
        }
        for v in values {
            self.bytes.extend_from_slice(&v.bytes);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::Tables;

    #[test]
    fn element_sizes_and_inline_names() {
        let tables = Tables::default();
        let mut scope = Scope::new(&tables);
        let mut buf = Buf::new(0x100);
        let e = Element::new("Level").child(Node::Subst(Subst::optional(0, ty::UINT8)));
        buf.element(&mut scope, &e);
        // 0x01, dep 0, size, name offset = 0x100 + 11 (right after it), entry, 0x02, subst, 0x04.
        assert_eq!(buf.bytes[0], 0x01);
        assert_eq!(&buf.bytes[1..3], &[0, 0]);
        let size = u32::from_le_bytes(buf.bytes[3..7].try_into().unwrap()) as usize;
        assert_eq!(size, buf.bytes.len() - 7);
        assert_eq!(
            u32::from_le_bytes(buf.bytes[7..11].try_into().unwrap()),
            0x10b
        );
        assert_eq!(scope.string("Level"), Some(0x10b));
        // The same name again is a bare offset.
        let before = buf.bytes.len();
        buf.element(&mut scope, &e);
        assert_eq!(buf.bytes.len() - before, 11 + 1 + 4 + 1);
    }
}

//! A chunk's common string table (64 buckets) and template table (32 buckets).
//!
//! Windows writes an element or attribute name in full ("inline") the first time a chunk uses
//! it, and by offset afterwards; likewise a template definition. Each table is a hash table of
//! chains: a bucket holds the offset of the newest entry, and each entry the offset of the one
//! added to that bucket before it (0 ends the chain).
//!
//! Building a record may add entries. They go to a [`Scope`] first, which the chunk commits only
//! when the record fits, so a record that spills into the next chunk leaves no trace.

use std::collections::HashMap;

/// Where a template definition is, and its GUID (whose first 4 bytes are the instance's id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TemplateRef {
    pub offset: u32,
    pub guid: [u8; 16],
}

/// The committed tables of one chunk.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    strings: HashMap<String, u32>,
    string_buckets: [u32; 64],
    templates: HashMap<Vec<u8>, TemplateRef>,
    template_buckets: [u32; 32],
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            strings: HashMap::new(),
            string_buckets: [0; 64],
            templates: HashMap::new(),
            template_buckets: [0; 32],
        }
    }
}

impl Tables {
    /// The 64 string-table bucket heads, for the chunk header.
    pub(crate) fn string_buckets(&self) -> &[u32; 64] {
        &self.string_buckets
    }

    /// The 32 template-table bucket heads, for the chunk header.
    pub(crate) fn template_buckets(&self) -> &[u32; 32] {
        &self.template_buckets
    }

    /// Adds what a scope defined (see [`Scope::additions`]).
    pub(crate) fn commit(&mut self, additions: Additions) {
        self.strings.extend(additions.strings);
        self.templates.extend(additions.templates);
        self.string_buckets = additions.string_buckets;
        self.template_buckets = additions.template_buckets;
    }
}

/// What one record added to the tables, detached from them.
#[derive(Debug)]
pub(crate) struct Additions {
    strings: HashMap<String, u32>,
    string_buckets: [u32; 64],
    templates: HashMap<Vec<u8>, TemplateRef>,
    template_buckets: [u32; 32],
}

/// The tables as one record sees them while it is built: the committed ones plus its own
/// additions.
#[derive(Debug)]
pub(crate) struct Scope<'t> {
    committed: &'t Tables,
    strings: HashMap<String, u32>,
    string_buckets: [u32; 64],
    templates: HashMap<Vec<u8>, TemplateRef>,
    template_buckets: [u32; 32],
}

impl<'t> Scope<'t> {
    pub(crate) fn new(committed: &'t Tables) -> Self {
        Scope {
            committed,
            strings: HashMap::new(),
            string_buckets: committed.string_buckets,
            templates: HashMap::new(),
            template_buckets: committed.template_buckets,
        }
    }

    /// What this scope added, to [`Tables::commit`] once the record is in the chunk.
    pub(crate) fn additions(self) -> Additions {
        Additions {
            strings: self.strings,
            string_buckets: self.string_buckets,
            templates: self.templates,
            template_buckets: self.template_buckets,
        }
    }

    /// The offset of `name`'s string-table entry, if the chunk has one.
    pub(crate) fn string(&self, name: &str) -> Option<u32> {
        self.strings
            .get(name)
            .or_else(|| self.committed.strings.get(name))
            .copied()
    }

    /// Records that `name`'s entry (with hash `hash`) is at `offset`; returns the previous head
    /// of its bucket, which the entry must link to.
    pub(crate) fn add_string(&mut self, name: &str, hash: u16, offset: u32) -> u32 {
        let bucket = &mut self.string_buckets[usize::from(hash) % 64];
        let previous = *bucket;
        *bucket = offset;
        self.strings.insert(name.to_string(), offset);
        previous
    }

    /// The template whose canonical shape is `key`, if the chunk defines it.
    pub(crate) fn template(&self, key: &[u8]) -> Option<TemplateRef> {
        self.templates
            .get(key)
            .or_else(|| self.committed.templates.get(key))
            .copied()
    }

    /// Records a template definition at `template.offset`; returns the previous head of its
    /// bucket, which the definition must link to.
    pub(crate) fn add_template(&mut self, key: Vec<u8>, template: TemplateRef) -> u32 {
        let bucket = &mut self.template_buckets[usize::from(template_bucket(&template.guid))];
        let previous = *bucket;
        *bucket = template.offset;
        self.templates.insert(key, template);
        previous
    }
}

/// The 65599 hash Windows uses for names (over UTF-16 code units, low 16 bits kept).
pub(crate) fn name_hash(name: &str) -> u16 {
    let hash = name.encode_utf16().fold(0u32, |h, unit| {
        h.wrapping_mul(65599).wrapping_add(u32::from(unit))
    });
    (hash & 0xffff) as u16
}

/// The template-table bucket of a GUID: the same 65599 hash over its eight little-endian u16
/// words, modulo 32 (matches the bucket heads of real Windows chunks).
pub(crate) fn template_bucket(guid: &[u8; 16]) -> u8 {
    let hash = guid.chunks_exact(2).fold(0u32, |h, w| {
        h.wrapping_mul(65599)
            .wrapping_add(u32::from(u16::from_le_bytes([w[0], w[1]])))
    });
    (hash % 32) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_windows() {
        // Values from a real Bits-Client chunk.
        assert_eq!(name_hash("Event"), 0x0cba);
        assert_eq!(name_hash("System"), 0x546f);
        assert_eq!(name_hash("Computer"), 0x6e3b);
        assert_eq!(name_hash("Data"), 0x6f8a);
        let guid = [
            0x14, 0xec, 0xd3, 0x9a, 0x7d, 0x9c, 0xb0, 0x57, 0x52, 0x37, 0xd1, 0x9e, 0xcf, 0x2c,
            0x6d, 0x45,
        ];
        assert_eq!(template_bucket(&guid), 15);
    }

    #[test]
    fn scope_chains_buckets() {
        let tables = Tables::default();
        let mut scope = Scope::new(&tables);
        let h = name_hash("Data");
        assert_eq!(scope.add_string("Data", h, 100), 0);
        // A second name in the same bucket links to the first.
        assert_eq!(scope.add_string("Other", h, 200), 100);
        assert_eq!(scope.string("Data"), Some(100));
        let mut committed = Tables::default();
        committed.commit(scope.additions());
        assert_eq!(committed.string_buckets()[usize::from(h) % 64], 200);
    }
}

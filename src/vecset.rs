//! `VecSet`: an ordered set kept as a sorted vector. A job's URLs, proxies, files and sources
//! are one or two items each, and there are a hundred thousand jobs in a fleet: a `BTreeSet`
//! allocates a node of eleven slots for its first item, this allocates what it holds.
//! Inserting is linear, so it is meant for small sets only.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;

/// A set of `T` in ascending order, without repeats (iterates as a `BTreeSet` would).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct VecSet<T>(Vec<T>);

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        VecSet(Vec::new())
    }
}

impl<T: Ord> VecSet<T> {
    pub fn new() -> Self {
        VecSet(Vec::new())
    }

    /// Add `v`; false when it was there already.
    pub fn insert(&mut self, v: T) -> bool {
        match self.0.binary_search(&v) {
            Ok(_) => false,
            Err(at) => {
                if self.0.capacity() == 0 {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, v);
                true
            }
        }
    }

    pub fn contains<Q>(&self, v: &Q) -> bool
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0.binary_search_by(|x| x.borrow().cmp(v)).is_ok()
    }

    /// The item equal to `v`, if there is one.
    pub fn get<Q>(&self, v: &Q) -> Option<&T>
    where
        T: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let at = self.0.binary_search_by(|x| x.borrow().cmp(v)).ok()?;
        self.0.get(at)
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The items, in order.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    /// Remove and return the largest item.
    pub fn pop_last(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// Add `v` if it is among the `cap` smallest, dropping the largest past `cap` (see
    /// [`keep_smallest`]).
    pub fn keep_smallest(&mut self, v: &T, cap: usize)
    where
        T: Clone,
    {
        if self.0.capacity() == 0 {
            self.0.reserve_exact(1);
        }
        keep_smallest(&mut self.0, v, cap);
    }
}

/// Add `v` to `items` (ascending, without repeats) if it is among the `cap` smallest, dropping
/// the largest past `cap`: a capped sample of records that is the same whatever the order
/// they come in.
pub fn keep_smallest<T: Ord + Clone>(items: &mut Vec<T>, v: &T, cap: usize) {
    debug_assert!(items.windows(2).all(|w| w[0] < w[1]));
    let full = items.len() >= cap;
    if full && items.last().is_some_and(|last| v >= last) {
        return;
    }
    if let Err(at) = items.binary_search(v) {
        items.insert(at, v.clone());
        if full {
            items.pop();
        }
    }
}

impl<T> std::ops::Deref for VecSet<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for v in items {
            self.insert(v);
        }
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(items: I) -> Self {
        let mut v: Vec<T> = items.into_iter().collect();
        v.sort();
        v.dedup();
        v.shrink_to_fit();
        VecSet(v)
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Read as any list is (a saved summary may hold it in another order or with repeats).
impl<'de, T: Ord + Deserialize<'de>> Deserialize<'de> for VecSet<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<T>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn strings_are_found_by_str() {
        let mut s = VecSet::new();
        assert!(s.insert("http://b/".to_string()));
        assert!(s.insert("http://a/".to_string()));
        assert!(!s.insert("http://a/".to_string()));
        assert!(s.contains("http://a/"));
        assert!(!s.contains("http://c/"));
        assert_eq!(s.as_slice(), ["http://a/", "http://b/"]);
    }

    #[test]
    fn a_saved_list_is_read_back_sorted_and_without_repeats() {
        let s: VecSet<u32> = serde_json::from_str("[3, 1, 3, 2]").unwrap();
        assert_eq!(s.as_slice(), [1, 2, 3]);
        assert_eq!(serde_json::to_string(&s).unwrap(), "[1,2,3]");
    }

    proptest! {
        #[test]
        fn behaves_as_a_btreeset(ops in prop::collection::vec(0u8..40, 0..200)) {
            let mut v = VecSet::new();
            let mut b = BTreeSet::new();
            for x in &ops {
                prop_assert_eq!(v.insert(*x), b.insert(*x));
            }
            prop_assert!(v.iter().eq(b.iter()));
            for x in 0u8..40 {
                prop_assert_eq!(v.contains(&x), b.contains(&x));
            }
            let collected: VecSet<u8> = ops.iter().copied().collect();
            prop_assert_eq!(collected, v);
        }
    }
}

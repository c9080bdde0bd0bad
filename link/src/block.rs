//! Blocking: only records sharing at least one blocking key are compared, so the cost grows
//! with the number of records, not its square. Several keys, each robust to different
//! corruptions, keep recall:
//!
//! | key | survives |
//! |---|---|
//! | NIR body (13 digits) | everything but a missing NIR |
//! | birth date (day and month in increasing order) + phonetic code of any one name, surname or first | accents, case, most typos, usage name, day/month swap, names in the wrong column |
//! | surname core + first of the first names + birth year | day or month typos |
//! | e-mail address | names and dates drifting together |
//!
//! A key shared by more than [`MAX_BLOCK`] records is too common to mean anything and is
//! skipped (counted in the statistics).

use crate::record::Features;

/// Largest block compared pairwise.
pub const MAX_BLOCK: usize = 400;

fn fnv(kind: u8, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(kind);
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The blocking keys of a record (hashed; no clear value is kept).
pub fn keys(f: &Features) -> Vec<u64> {
    let mut keys = Vec::with_capacity(8);
    if let Some(body) = &f.nir_body {
        keys.push(fnv(1, &[body.as_bytes()]));
    }
    if f.birth != 0 {
        // Year, then day and month in increasing order: a day/month swap keeps the key.
        let (year, month, day) = (f.birth / 10_000, f.birth / 100 % 100, f.birth % 100);
        let date = (year * 10_000 + month.min(day) * 100 + month.max(day)).to_le_bytes();
        // Every name, surname or first, with the same kind: names put in the wrong column
        // still meet.
        for name in f.surnames.iter().chain(&f.first) {
            keys.push(fnv(2, &[&date, name.phonetic.as_bytes()]));
        }
    }
    if !f.first_token.is_empty() {
        // With the year: namesakes alone would make blocks that grow with the population.
        let year = (f.birth / 10_000).to_le_bytes();
        for s in &f.surnames {
            keys.push(fnv(
                4,
                &[s.core.as_bytes(), f.first_token.as_bytes(), &year],
            ));
        }
    }
    if !f.email.is_empty() {
        keys.push(fnv(5, &[f.email.as_bytes()]));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Statistics of candidate generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub keys: u64,
    pub oversized_blocks: u64,
    pub candidate_pairs: u64,
}

/// All candidate pairs `(i, j)`, `i < j`, of records sharing a key, each pair once, sorted.
pub fn candidate_pairs(keys: &[Vec<u64>]) -> (Vec<(u32, u32)>, BlockStats) {
    let entries = KeyIndex::build(keys).entries;
    let mut stats = BlockStats {
        keys: entries.len() as u64,
        ..Default::default()
    };
    let mut pairs: Vec<u64> = Vec::new();
    for block in entries.chunk_by(|a, b| a.0 == b.0) {
        if block.len() < 2 {
            continue;
        }
        if block.len() > MAX_BLOCK {
            stats.oversized_blocks += 1;
            continue;
        }
        for (x, &(_, i)) in block.iter().enumerate() {
            for &(_, j) in &block[x + 1..] {
                pairs.push((u64::from(i) << 32) | u64::from(j));
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    stats.candidate_pairs = pairs.len() as u64;
    (
        pairs
            .into_iter()
            .map(|p| ((p >> 32) as u32, p as u32))
            .collect(),
        stats,
    )
}

/// A sorted key index for matching new records against existing ones without recomputing
/// the existing pairs.
#[derive(Debug, Default, Clone)]
pub struct KeyIndex {
    entries: Vec<(u64, u32)>,
}

impl KeyIndex {
    pub fn build(keys: &[Vec<u64>]) -> KeyIndex {
        let mut entries: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .flat_map(|(i, ks)| ks.iter().map(move |&k| (k, i as u32)))
            .collect();
        entries.sort_unstable();
        KeyIndex { entries }
    }

    /// Records holding `key` (empty when the block is oversized).
    pub fn holders(&self, key: u64) -> &[(u64, u32)] {
        let start = self.entries.partition_point(|e| e.0 < key);
        let end = start + self.entries[start..].partition_point(|e| e.0 == key);
        if end - start > MAX_BLOCK {
            &[]
        } else {
            &self.entries[start..end]
        }
    }

    /// Adds records `first..first + keys.len()`.
    pub fn extend(&mut self, first: u32, keys: &[Vec<u64>]) {
        for (i, ks) in keys.iter().enumerate() {
            for &k in ks {
                self.entries.push((k, first + i as u32));
            }
        }
        self.entries.sort_unstable();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

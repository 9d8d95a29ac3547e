//! Sorting and competition ranking without per-call allocation: an LSD radix sort of
//! `(u64 key, u32 index)` pairs that reuses its buffers.

/// Maps an `f64` to a `u64` with the same order (for non-NaN values).
pub(crate) fn f64_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;

/// Reusable buffers for sorting `(key, index)` pairs by descending key.
#[derive(Debug, Default)]
pub(crate) struct RadixSorter {
    k0: Vec<u64>,
    k1: Vec<u64>,
    i0: Vec<u32>,
    i1: Vec<u32>,
    hist: Vec<usize>,
}

impl RadixSorter {
    /// Sorts the pairs by descending key; equal keys keep their input order. Returns the sorted
    /// keys and indices.
    pub(crate) fn sort_desc(
        &mut self,
        items: impl Iterator<Item = (u64, u32)>,
    ) -> (&[u64], &[u32]) {
        self.k0.clear();
        self.i0.clear();
        for (k, i) in items {
            self.k0.push(k);
            self.i0.push(i);
        }
        let n = self.k0.len();
        if n == 0 {
            return (&self.k0, &self.i0);
        }
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for &k in &self.k0 {
            lo = lo.min(k);
            hi = hi.max(k);
        }
        // Ascending order of `hi - k` is descending order of `k`.
        for k in &mut self.k0 {
            *k = hi - *k;
        }
        let bits = 64 - (hi - lo).leading_zeros();
        let passes = bits.div_ceil(DIGIT_BITS) as usize;
        self.k1.resize(n, 0);
        self.i1.resize(n, 0);
        self.hist.clear();
        self.hist.resize(passes * BUCKETS, 0);
        for &k in &self.k0 {
            for p in 0..passes {
                let d = ((k >> (p as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1);
                self.hist[p * BUCKETS + d] += 1;
            }
        }
        for p in 0..passes {
            let h = &mut self.hist[p * BUCKETS..(p + 1) * BUCKETS];
            if h.contains(&n) {
                continue; // every key has the same digit: nothing to move
            }
            let mut sum = 0;
            for c in h.iter_mut() {
                let t = *c;
                *c = sum;
                sum += t;
            }
            let shift = p as u32 * DIGIT_BITS;
            for (&k, &i) in self.k0.iter().zip(&self.i0) {
                let d = ((k >> shift) as usize) & (BUCKETS - 1);
                let pos = h[d];
                h[d] += 1;
                self.k1[pos] = k;
                self.i1[pos] = i;
            }
            std::mem::swap(&mut self.k0, &mut self.k1);
            std::mem::swap(&mut self.i0, &mut self.i1);
        }
        for k in &mut self.k0 {
            *k = hi - *k;
        }
        (&self.k0, &self.i0)
    }
}

/// Competition ranks ("1224"): `ranks[idx[p]]` for keys sorted descending.
pub(crate) fn competition_ranks(keys: &[u64], idx: &[u32], ranks: &mut [u32]) {
    let mut current = 0u32;
    for (p, (&k, &i)) in keys.iter().zip(idx).enumerate() {
        if p == 0 || k != keys[p - 1] {
            current = p as u32 + 1;
        }
        ranks[i as usize] = current;
    }
}

/// Competition ranks inside groups (`group[i]` < `groups`), from the global descending order.
pub(crate) fn group_ranks(
    keys: &[u64],
    idx: &[u32],
    group: &[u32],
    groups: usize,
    ranks: &mut [u32],
) {
    let mut seen = vec![0u32; groups];
    let mut last_key = vec![u64::MAX; groups];
    let mut last_rank = vec![0u32; groups];
    for (&k, &i) in keys.iter().zip(idx) {
        let g = group[i as usize] as usize;
        seen[g] += 1;
        if seen[g] == 1 || k != last_key[g] {
            last_rank[g] = seen[g];
            last_key[g] = k;
        }
        ranks[i as usize] = last_rank[g];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn key_order() {
        let xs = [-1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY];
        for w in xs.windows(2) {
            assert!(f64_key(w[0]) <= f64_key(w[1]));
        }
    }

    #[test]
    fn ranks_1224() {
        let keys = [5u64, 9, 7, 9, 1];
        let mut s = RadixSorter::default();
        let (k, i) = s.sort_desc(keys.iter().enumerate().map(|(i, &k)| (k, i as u32)));
        let (k, i) = (k.to_vec(), i.to_vec());
        assert_eq!(i, vec![1, 3, 2, 0, 4]);
        let mut r = vec![0; 5];
        competition_ranks(&k, &i, &mut r);
        assert_eq!(r, vec![4, 1, 3, 1, 5]);
        let mut g = vec![0; 5];
        group_ranks(&k, &i, &[0, 1, 0, 1, 0], 2, &mut g);
        assert_eq!(g, vec![2, 1, 1, 1, 3]);
    }

    proptest! {
        #[test]
        fn radix_matches_std_sort(v in proptest::collection::vec(any::<u64>(), 0..300), small in any::<bool>()) {
            let v: Vec<u64> = if small { v.iter().map(|x| x % 7).collect() } else { v };
            let mut s = RadixSorter::default();
            let (_, idx) = s.sort_desc(v.iter().enumerate().map(|(i, &k)| (k, i as u32)));
            let mut expect: Vec<u32> = (0..v.len() as u32).collect();
            expect.sort_by(|&a, &b| v[b as usize].cmp(&v[a as usize]).then(a.cmp(&b)));
            prop_assert_eq!(idx.to_vec(), expect);
        }
    }
}

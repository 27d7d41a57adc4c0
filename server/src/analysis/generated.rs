//! Inputs generated for tests that check a fast scan against a plain definition: the same
//! sequence on every run, from a small xorshift generator.

/// A xorshift generator: the same numbers on every run for one seed.
pub struct Xorshift(u64);

impl Xorshift {
    /// A generator from `seed`, which must not be zero.
    pub fn new(seed: u64) -> Self {
        debug_assert!(seed != 0, "zero stays zero");
        Self(seed)
    }

    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `count` texts, each of fewer than `max_pieces` (at most 14) pieces drawn from `alphabet`.
pub fn texts(alphabet: &[&str], seed: u64, max_pieces: u64, count: usize) -> Vec<String> {
    debug_assert!(
        max_pieces <= 14,
        "four bits of one number choose each piece"
    );
    let mut numbers = Xorshift::new(seed);
    (0..count)
        .map(|_| {
            let n = numbers.next();
            (0..n % max_pieces)
                .map(|k| alphabet[((n >> (4 * k + 8)) % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}

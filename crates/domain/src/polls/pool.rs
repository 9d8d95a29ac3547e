//! The ballots of an open poll are encrypted while they wait in the pool (投票期间的票池加密).
//!
//! A ballot is written in the transaction that marks its code used, so whoever reads the
//! database's write-ahead log, its transaction numbers or a statement log while a poll is open
//! sees a code's hash next to the pooled row. The pooled row therefore holds the choices only
//! encrypted (XChaCha20-Poly1305, a random 192-bit nonce per ballot, the poll and group bound
//! as associated data) under the deployment's ballot key, which is kept in a file outside the
//! database. The ballots are decrypted only when the poll is sealed, and sealed under new
//! random keys, so no stored or logged row links a code to choices without the ballot key.
//!
//! Everything here is pure: the caller draws the nonce and reads and writes the key file.

use crate::Code;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// Bytes of a ballot key.
pub const KEY_BYTES: usize = 32;
/// Bytes of a nonce.
pub const NONCE_BYTES: usize = 24;
/// The prefix of an encrypted pooled ballot: the format and its version.
const PREFIX: &str = "x1";

/// The deployment's ballot key (选票密钥): 256 bits from the operating system's random source,
/// kept in a file outside the database. It never appears in a log or a debug print.
#[derive(Clone, PartialEq, Eq)]
pub struct BallotKey([u8; KEY_BYTES]);

/// Why a key file's text is not a ballot key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    /// Not 64 hexadecimal digits (one line).
    #[error("a ballot key is 64 hexadecimal digits on one line; this text is not")]
    Format,
}

/// Why a pooled ballot cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The row is not an encrypted ballot of this format.
    #[error("a pooled ballot is not in the encrypted format")]
    Format,
    /// The ballot was encrypted under another key.
    #[error(
        "a pooled ballot was encrypted under ballot key {found}, the key given is {given}: \
         restore the key file in use when the poll was open"
    )]
    OtherKey {
        /// The key id written with the ballot.
        found: String,
        /// The id of the key given.
        given: String,
    },
    /// The ciphertext, its poll or its group was changed.
    #[error(
        "a pooled ballot does not authenticate: it was changed or moved to another poll or group"
    )]
    Forged,
}

impl BallotKey {
    /// A key from its bytes (drawn by the caller from the operating system's random source).
    #[must_use]
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// The key in a key file: 64 hexadecimal digits, surrounding white space ignored.
    ///
    /// # Errors
    /// [`KeyFormatError::Format`] for anything else.
    pub fn parse(text: &str) -> Result<Self, KeyFormatError> {
        let mut bytes = [0u8; KEY_BYTES];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| KeyFormatError::Format)?;
        Ok(Self(bytes))
    }

    /// The text of a key file: the key in hexadecimal and a line end.
    #[must_use]
    pub fn to_file_text(&self) -> String {
        format!("{}\n", hex::encode(self.0))
    }

    /// The key's id: eight hexadecimal digits of a hash of it, written with every ballot so
    /// that a wrong key file is named as such. It tells nothing of the key.
    #[must_use]
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"kaohe-ballot-key-id-v1\0");
        h.update(self.0);
        hex::encode(&h.finalize()[..4])
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Encrypts a ballot's encoded choices (`Poll::encode`) for the pool of `poll`, group
    /// `group`, with a fresh random `nonce`: `x1:<key id>:<nonce and ciphertext in hex>`.
    #[must_use]
    pub fn encrypt(
        &self,
        poll: &Code,
        group: &Code,
        choices: &str,
        nonce: [u8; NONCE_BYTES],
    ) -> String {
        let aad = associated(poll, group);
        let payload = Payload {
            msg: choices.as_bytes(),
            aad: &aad,
        };
        // Encryption fails only for messages beyond 256 GiB; a ballot is a few hundred bytes.
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        format!(
            "{PREFIX}:{}:{}{}",
            self.id(),
            hex::encode(nonce),
            hex::encode(sealed)
        )
    }

    /// Decrypts a pooled ballot of `poll`, group `group`, back to its encoded choices.
    ///
    /// # Errors
    /// [`PoolError`]: not this format, another key, or changed or moved.
    pub fn decrypt(&self, poll: &Code, group: &Code, pooled: &str) -> Result<String, PoolError> {
        let mut parts = pooled.splitn(3, ':');
        let (Some(PREFIX), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(PoolError::Format);
        };
        if key_id != self.id() {
            return Err(PoolError::OtherKey {
                found: key_id.to_owned(),
                given: self.id(),
            });
        }
        let bytes = hex::decode(body).map_err(|_| PoolError::Format)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(PoolError::Format);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let aad = associated(poll, group);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| PoolError::Forged)?;
        String::from_utf8(plain).map_err(|_| PoolError::Forged)
    }
}

impl std::fmt::Debug for BallotKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BallotKey({})", self.id())
    }
}

/// What binds a pooled ballot to its poll and group.
fn associated(poll: &Code, group: &Code) -> Vec<u8> {
    let mut aad = b"kaohe-ballot-v1\0".to_vec();
    aad.extend_from_slice(poll.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(group.as_str().as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> Code {
        Code::parse(s).unwrap()
    }

    #[test]
    fn a_key_file_round_trips_and_nothing_else_is_a_key() {
        let key = BallotKey::from_bytes([7; KEY_BYTES]);
        assert_eq!(BallotKey::parse(&key.to_file_text()), Ok(key.clone()));
        assert_eq!(key.to_file_text().len(), 2 * KEY_BYTES + 1);
        for bad in ["", "zz", &"0".repeat(63), &"0".repeat(66), &"g".repeat(64)] {
            assert_eq!(BallotKey::parse(bad), Err(KeyFormatError::Format), "{bad}");
        }
        assert!(!format!("{key:?}").contains(&hex::encode([7; KEY_BYTES])));
        assert_eq!(key.id().len(), 8);
        assert_ne!(key.id(), BallotKey::from_bytes([8; KEY_BYTES]).id());
    }

    #[test]
    fn a_ballot_opens_only_with_its_key_poll_and_group() {
        let key = BallotKey::from_bytes([1; KEY_BYTES]);
        let (p, g) = (code("P1"), code("peers"));
        let text = key.encrypt(&p, &g, "0123", [9; NONCE_BYTES]);
        assert!(!text.contains("0123"), "{text}");
        assert_eq!(key.decrypt(&p, &g, &text), Ok("0123".to_owned()));
        assert_eq!(
            key.decrypt(&code("P2"), &g, &text),
            Err(PoolError::Forged),
            "moved to another poll"
        );
        assert_eq!(
            key.decrypt(&p, &code("public"), &text),
            Err(PoolError::Forged),
            "moved to another group"
        );
        let other = BallotKey::from_bytes([2; KEY_BYTES]);
        assert!(matches!(
            other.decrypt(&p, &g, &text),
            Err(PoolError::OtherKey { .. })
        ));
        let mut flipped = text.into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            key.decrypt(&p, &g, &String::from_utf8(flipped).unwrap()),
            Err(PoolError::Forged)
        );
        for bad in [
            "0123",
            "x1:",
            "x1:abc",
            "y1:a:b",
            &format!("x1:{}:00", key.id()),
        ] {
            assert!(key.decrypt(&p, &g, bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn every_ballot_round_trips_and_hides_its_length_only_as_the_poll_does(
            choices in "[0-3]{1,60}",
            nonce in any::<[u8; NONCE_BYTES]>(),
            key in any::<[u8; KEY_BYTES]>(),
        ) {
            let key = BallotKey::from_bytes(key);
            let (p, g) = (code("P1"), code("peers"));
            let text = key.encrypt(&p, &g, &choices, nonce);
            prop_assert_eq!(key.decrypt(&p, &g, &text), Ok(choices.clone()));
            // The length depends on the length of the choices alone, which is the poll's.
            let same_length = key.encrypt(&p, &g, &"0".repeat(choices.len()), nonce);
            prop_assert_eq!(text.len(), same_length.len());
        }
    }
}

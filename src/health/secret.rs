//! BMC passwords encrypted at rest: XChaCha20-Poly1305 with a random 24-byte
//! nonce and the BMC's row id as associated data (a ciphertext copied to
//! another BMC row does not decrypt). The 32-byte master key comes from
//! `RACKLEDGER_MASTER_KEY` (base64) or the file named by
//! `RACKLEDGER_MASTER_KEY_FILE`; its `key_id` (first 8 bytes of its SHA-256, hex)
//! is stored beside each ciphertext so a rotation can tell old rows from new.
//! See `docs/health.md` for rotation (`rackledger bmc rekey`).

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Environment variable holding the base64 master key.
pub const KEY_ENV: &str = "RACKLEDGER_MASTER_KEY";
/// Environment variable naming a file that holds the base64 master key.
pub const KEY_FILE_ENV: &str = "RACKLEDGER_MASTER_KEY_FILE";

/// The key that encrypts BMC passwords. Its bytes never appear in `Debug`.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A password sealed for one BMC row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Which master key sealed it.
    pub key_id: String,
    /// Base64 24-byte nonce.
    pub nonce: String,
    /// Base64 ciphertext with its tag.
    pub ciphertext: String,
}

impl MasterKey {
    /// Parses a base64 key of exactly 32 bytes.
    pub fn from_base64(text: &str) -> anyhow::Result<MasterKey> {
        let raw = Zeroizing::new(
            B64.decode(text.trim())
                .context("the master key is not base64")?,
        );
        let Ok(arr) = <[u8; 32]>::try_from(raw.as_slice()) else {
            bail!(
                "the master key must be 32 bytes (base64 of 32 random bytes), got {}",
                raw.len()
            );
        };
        let digest = Sha256::digest(arr);
        let id = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(MasterKey {
            bytes: Zeroizing::new(arr),
            id,
        })
    }

    /// A fresh random key, as base64 (for `bmc keygen` and the demo).
    pub fn generate_base64() -> String {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::fill(&mut bytes[..]);
        B64.encode(bytes.as_slice())
    }

    /// The key from the environment: `RACKLEDGER_MASTER_KEY`, else the file in
    /// `RACKLEDGER_MASTER_KEY_FILE`. `Ok(None)` when neither is set.
    pub fn from_env() -> anyhow::Result<Option<MasterKey>> {
        if let Ok(v) = std::env::var(KEY_ENV)
            && !v.trim().is_empty()
        {
            return MasterKey::from_base64(&v).context(KEY_ENV).map(Some);
        }
        if let Ok(path) = std::env::var(KEY_FILE_ENV)
            && !path.trim().is_empty()
        {
            return MasterKey::from_file(Path::new(path.trim())).map(Some);
        }
        Ok(None)
    }

    /// Reads a key file (base64 text).
    pub fn from_file(path: &Path) -> anyhow::Result<MasterKey> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading master key file {}", path.display()))?,
        );
        MasterKey::from_base64(&text).with_context(|| format!("master key file {}", path.display()))
    }

    /// Short public identifier of this key (hex).
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> anyhow::Result<XChaCha20Poly1305> {
        XChaCha20Poly1305::new_from_slice(self.bytes.as_slice())
            .map_err(|_| anyhow::anyhow!("the master key has the wrong length"))
    }

    /// Encrypts `password` for the BMC row `bmc_id`.
    pub fn seal(&self, bmc_id: i64, password: &str) -> anyhow::Result<Sealed> {
        let cipher = self.cipher()?;
        let mut nonce_bytes = [0u8; 24];
        rand::fill(&mut nonce_bytes[..]);
        let nonce = XNonce::from(nonce_bytes);
        let aad = bmc_id.to_be_bytes();
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: password.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        Ok(Sealed {
            key_id: self.id.clone(),
            nonce: B64.encode(nonce_bytes),
            ciphertext: B64.encode(ct),
        })
    }

    /// Decrypts a password sealed for `bmc_id`; fails on a wrong key, row or tampering.
    pub fn open(&self, bmc_id: i64, sealed: &Sealed) -> anyhow::Result<Zeroizing<String>> {
        if sealed.key_id != self.id {
            bail!(
                "the BMC password was sealed with key {} but the master key is {} (run `rackledger bmc rekey`)",
                sealed.key_id,
                self.id
            );
        }
        let nonce_bytes = B64.decode(&sealed.nonce).context("nonce")?;
        let Ok(nonce_arr) = <[u8; 24]>::try_from(nonce_bytes.as_slice()) else {
            bail!("the stored nonce is not 24 bytes");
        };
        let ct = B64.decode(&sealed.ciphertext).context("ciphertext")?;
        let cipher = self.cipher()?;
        let aad = bmc_id.to_be_bytes();
        let plain = cipher
            .decrypt(
                &XNonce::from(nonce_arr),
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map_err(|_| anyhow::anyhow!("the BMC password does not decrypt (wrong key or row)"))?;
        Ok(Zeroizing::new(
            String::from_utf8(plain).context("password is not UTF-8")?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_round_trips_and_fails_for_another_row_or_key() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).expect("key");
        let sealed = key.seal(7, "s3cret").expect("seal");
        assert_eq!(key.open(7, &sealed).expect("open").as_str(), "s3cret");
        assert!(key.open(8, &sealed).is_err(), "AAD binds the row");
        let other = MasterKey::from_base64(&MasterKey::generate_base64()).expect("key");
        let e = other.open(7, &sealed).expect_err("other key").to_string();
        assert!(e.contains("rekey"), "{e}");
        assert!(!format!("{key:?}").contains(&sealed.ciphertext));
        assert_ne!(key.seal(7, "s3cret").expect("seal").nonce, sealed.nonce);
    }

    #[test]
    fn a_short_key_is_refused() {
        let e = MasterKey::from_base64(&B64.encode([1u8; 16]))
            .expect_err("short")
            .to_string();
        assert!(e.contains("32 bytes"), "{e}");
    }
}

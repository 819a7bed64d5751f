//! Witnessing another node's logs (C2SP tlog-cosignature): a witness checks that each new
//! checkpoint of a log extends the one it cosigned before, and cosigns it: a note signature
//! over `cosignature/v1`, the time, and the checkpoint's text, under the witness's name.
//! Anyone holding the witness's key checks the cosignature, and so knows that the witness saw
//! the same tree; a log that shows two trees of one size to two witnesses is caught.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::log::LogError;
use crate::multikey::{SigningKey, VerifyingKey};

/// The signature type of an Ed25519 cosignature/v1 in C2SP signed notes.
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The key id of a witness's key under its name: the first four bytes of SHA-256 over the
/// name, a newline, 0x04 and the public key.
pub fn cosigner_key_id(name: &str, key: &VerifyingKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([ALG_COSIGNATURE_V1]);
    hasher.update(key.to_bytes());
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// What a cosignature signs: the header line, the time line and the checkpoint's text.
fn signed_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// The text of a signed note: everything before the blank line that opens its signatures,
/// with its final newline.
pub fn note_text(note: &str) -> Result<&str, LogError> {
    note.find("\n\n")
        .map(|end| &note[..end + 1])
        .ok_or_else(|| LogError::MalformedNote("no blank line before the signatures".into()))
}

/// Cosigns a signed checkpoint: answers the note with the witness's signature line added.
pub fn cosign(
    note: &str,
    name: &str,
    key: &SigningKey,
    timestamp: u64,
) -> Result<String, LogError> {
    let text = note_text(note)?;
    let signature = key.sign(&signed_message(text, timestamp));
    let mut bytes = cosigner_key_id(name, &key.verifying_key())
        .to_be_bytes()
        .to_vec();
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(&signature);
    let mut cosigned = note.to_owned();
    if !cosigned.ends_with('\n') {
        cosigned.push('\n');
    }
    cosigned.push_str(&format!("— {name} {}\n", STANDARD.encode(bytes)));
    Ok(cosigned)
}

/// Checks the cosignature of the witness `name` with `key` on a note; answers when it was
/// made. A note the witness did not cosign, or whose cosignature does not verify, is refused.
pub fn open_cosignature(note: &str, name: &str, key: &VerifyingKey) -> Result<u64, LogError> {
    let text = note_text(note)?;
    let id = cosigner_key_id(name, key);
    let prefix = format!("— {name} ");
    for line in note[text.len() + 1..].lines() {
        let Some(encoded) = line.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(bytes) = STANDARD.decode(encoded) else {
            continue;
        };
        if bytes.len() != 4 + 8 + 64 || bytes[..4] != id.to_be_bytes() {
            continue;
        }
        let timestamp = u64::from_be_bytes(bytes[4..12].try_into().expect("eight bytes"));
        let signature: [u8; 64] = bytes[12..].try_into().expect("sixty-four bytes");
        return if key.verify(&signed_message(text, timestamp), &signature) {
            Ok(timestamp)
        } else {
            Err(LogError::BadSignature(format!("{name}+{id:08x}")))
        };
    }
    Err(LogError::Unsigned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Hash, open_checkpoint, sign_checkpoint};

    #[test]
    fn a_witness_cosigns_a_checkpoint_and_anyone_with_its_key_checks_it() {
        let log_key = SigningKey::from_seed([1; 32]);
        let witness = SigningKey::from_seed([2; 32]);
        let note = sign_checkpoint("node.example/log/421300", 7, Hash([3; 32]), &log_key).unwrap();
        let cosigned = cosign(&note, "witness.example/witness", &witness, 1_764_547_200).unwrap();
        assert_eq!(
            open_cosignature(
                &cosigned,
                "witness.example/witness",
                &witness.verifying_key()
            ),
            Ok(1_764_547_200)
        );
        // The log's own signature still opens the cosigned note.
        open_checkpoint(
            cosigned.as_bytes(),
            "node.example/log/421300",
            &[log_key.verifying_key()],
        )
        .unwrap();
        // Another witness's key, or a checkpoint changed after the cosignature, is refused.
        let other = SigningKey::from_seed([4; 32]).verifying_key();
        assert_eq!(
            open_cosignature(&cosigned, "witness.example/witness", &other),
            Err(LogError::Unsigned)
        );
        let changed = cosigned.replacen("\n7\n", "\n8\n", 1);
        assert!(matches!(
            open_cosignature(
                &changed,
                "witness.example/witness",
                &witness.verifying_key()
            ),
            Err(LogError::BadSignature(_))
        ));
    }

    #[test]
    fn the_key_id_is_c2sps() {
        // SHA-256("w" || "\n" || 0x04 || key)[:4], computed apart from the code above.
        let key = SigningKey::from_seed([5; 32]).verifying_key();
        let mut input = b"w\n\x04".to_vec();
        input.extend_from_slice(&key.to_bytes());
        let digest = Sha256::digest(&input);
        assert_eq!(
            cosigner_key_id("w", &key).to_be_bytes(),
            [digest[0], digest[1], digest[2], digest[3]]
        );
    }
}

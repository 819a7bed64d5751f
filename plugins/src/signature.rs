//! Plugin packages are signed with Ed25519 over their SHA-256 by a key the node trusts: an
//! operator signs with `zhiyuan plugin sign`, the node checks before it compiles anything.
//! Keys are Multikeys (`z6Mk...`), signatures multibase base58btc (`z...`).

use sha2::{Digest, Sha256};
use zhiyuan_domain::ports::PluginRefusal;
use zhiyuan_federation::multikey::{SigningKey, VerifyingKey};

/// Signs a package: the signature an upload carries beside it.
pub fn sign_package(key: &SigningKey, package: &[u8]) -> String {
    let digest = Sha256::digest(package);
    format!("z{}", bs58::encode(key.sign(&digest)).into_string())
}

/// Which trusted key signed the package, as a Multikey.
pub fn verify_package(
    package: &[u8],
    signature: &str,
    trusted: &[VerifyingKey],
) -> Result<String, PluginRefusal> {
    check_signature(&Sha256::digest(package).into(), signature, trusted)
}

pub(crate) fn check_signature(
    digest: &[u8; 32],
    signature: &str,
    trusted: &[VerifyingKey],
) -> Result<String, PluginRefusal> {
    let bytes = signature
        .trim()
        .strip_prefix('z')
        .and_then(|encoded| bs58::decode(encoded).into_vec().ok())
        .ok_or(PluginRefusal::BadSignature)?;
    let signature: [u8; 64] = bytes.try_into().map_err(|_| PluginRefusal::BadSignature)?;
    trusted
        .iter()
        .find(|key| key.verify(digest, &signature))
        .map(VerifyingKey::to_multibase)
        .ok_or(PluginRefusal::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_package_and_key_only() {
        let operator = SigningKey::from_seed([7; 32]);
        let stranger = SigningKey::from_seed([8; 32]);
        let package = b"\0asm\x0d\0\x01\0 a plugin";
        let signature = sign_package(&operator, package);
        let trusted = [operator.verifying_key()];

        assert_eq!(
            verify_package(package, &signature, &trusted),
            Ok(operator.verifying_key().to_multibase())
        );
        assert_eq!(
            verify_package(b"another package", &signature, &trusted),
            Err(PluginRefusal::BadSignature)
        );
        assert_eq!(
            verify_package(package, &sign_package(&stranger, package), &trusted),
            Err(PluginRefusal::BadSignature)
        );
        for garbage in ["", "z", "zzzz", "not multibase", &signature[..40]] {
            assert_eq!(
                verify_package(package, garbage, &trusted),
                Err(PluginRefusal::BadSignature)
            );
        }
    }
}

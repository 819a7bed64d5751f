//! What a tenant's transparency log holds of each credential it signed.

/// An entry of a tenant's transparency log: a credential's id and the SHA-256 of its canonical
/// form (RFC 8785). It carries no personal data: the credential itself stays with its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub credential_id: String,
    pub digest: [u8; 32],
}

impl LogEntry {
    /// The entry's bytes, as the log hashes them (RFC 9162 leaf) and its data tiles carry them:
    /// the credential's id and the digest in lower-case hex, each on a line of its own.
    pub fn to_bytes(&self) -> Vec<u8> {
        let digest: String = self
            .digest
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("{}\n{digest}\n", self.credential_id).into_bytes()
    }
}

/// What a credential attests.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A volunteer registered by real name and verified by the tenant.
    Registration,
    /// One entry of a volunteer's service time.
    ServiceRecord,
    /// A certificate of service the tenant issued.
    Certificate,
}

crate::stored::stored_names!(CredentialKind {
    Registration = "registration",
    ServiceRecord = "service_record",
    Certificate = "certificate",
});

//! The nonces of the signed requests this node accepted from other nodes (federation), so that
//! no request is accepted twice.

use zhiyuan_domain::Timestamp;

use crate::{Store, StoreError};

impl Store {
    /// Accepts the nonce of a signed request to `receiver` (a tenant, or the node's own realm):
    /// true the first time the signing key presents it, false for a replay. Nonces of
    /// signatures made before `forget_before` are dropped: the receiver refuses those
    /// signatures by their time, so their nonces need no keeping.
    pub async fn accept_nonce(
        &self,
        receiver: &str,
        key_id: &str,
        nonce: &str,
        created: Timestamp,
        forget_before: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM request_nonces WHERE tenant_code = $1 AND created_at < $2")
            .bind(receiver)
            .bind(forget_before.unix_millis())
            .execute(&mut *tx)
            .await?;
        let accepted = sqlx::query(
            "INSERT INTO request_nonces (tenant_code, key_id, nonce, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_code, key_id, nonce) DO NOTHING",
        )
        .bind(receiver)
        .bind(key_id)
        .bind(nonce)
        .bind(created.unix_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(accepted)
    }
}

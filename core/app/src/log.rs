//! Each tenant's transparency log as anyone reads it (federation, R6): its latest checkpoint,
//! signed with the tenant's key as a C2SP signed note (`docs/federation.md`).

use zhiyuan_domain::TenantCode;

use crate::{App, AppError};

/// The log's name in its checkpoints: the node's public host, `/log/` and the tenant's code.
pub fn origin(public_url: &str, tenant: &TenantCode) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/');
    format!("{host}/log/{tenant}")
}

/// The tenant's log at its latest size, as a signed checkpoint; an unknown tenant is not found.
pub async fn checkpoint(app: &App, tenant: &TenantCode) -> Result<String, AppError> {
    app.store.tenant(tenant).await?;
    let head = app.store.log_head(tenant).await?;
    app.log_signer
        .sign_checkpoint(
            tenant,
            &origin(&app.settings.public_url, tenant),
            head.size,
            head.root,
        )
        .map_err(AppError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_is_named_by_the_nodes_host_and_the_tenants_code() {
        let tenant = TenantCode::parse("421300").unwrap();
        for (url, name) in [
            ("https://zhiyuan.example", "zhiyuan.example/log/421300"),
            ("https://zhiyuan.example/", "zhiyuan.example/log/421300"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080/log/421300"),
        ] {
            assert_eq!(origin(url, &tenant), name);
        }
    }
}

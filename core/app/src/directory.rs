//! The tenants' directory as a node reads it: units, which registrations, team applications,
//! reports and every screen that offers a choice of unit read far more often than an office
//! changes them, kept in memory for a short while. A change made through this node replaces
//! what it kept at once; one made through another node sharing the database is seen once the
//! copy's short life ends, the same bound as a session's (`Settings::read_cache_ttl`).

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;
use zhiyuan_domain::{TenantCode, Unit};
use zhiyuan_store::Store;

use crate::AppError;

/// Units kept at most; beyond, the least used are dropped and read again.
const CAPACITY: u64 = 100_000;

/// A node's memory of the directory. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Directory {
    units: moka::sync::Cache<(TenantCode, Uuid), Arc<Unit>>,
}

impl Directory {
    pub fn new(ttl: Duration) -> Directory {
        Directory {
            units: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// A unit of the tenant, from memory or from the database. Units not found are not kept:
    /// one created through another node is found at once.
    pub async fn unit(
        &self,
        store: &Store,
        tenant: &TenantCode,
        id: Uuid,
    ) -> Result<Arc<Unit>, AppError> {
        let key = (tenant.clone(), id);
        if let Some(unit) = self.units.get(&key) {
            return Ok(unit);
        }
        let unit = Arc::new(store.unit(tenant, id).await?);
        self.units.insert(key, unit.clone());
        Ok(unit)
    }

    /// Forgets a unit this node changed, so that the next reading is of the change.
    pub fn forget_unit(&self, tenant: &TenantCode, id: Uuid) {
        self.units.invalidate(&(tenant.clone(), id));
    }
}

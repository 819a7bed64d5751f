//! How the domain's values that serialize as plain strings are described in the OpenAPI
//! document: the format or pattern a client can check them by.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};

use crate::{RegionCode, Scope, TenantCode, Timestamp};

/// A certificate's number (`CertificateNumber`).
pub const CERTIFICATE_NUMBER: &str =
    "^(0[1-9]|[1-9][0-9])([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-[0-9]{4}-[0-9]{6}$";

fn string(description: &str, pattern: Option<&str>, format: Option<KnownFormat>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(pattern)
        .format(format.map(SchemaFormat::KnownFormat))
        .into()
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string(
            "An instant, in RFC 3339 with the offset of China Standard Time (UTC+8).",
            None,
            Some(KnownFormat::DateTime),
        )
    }
}
impl utoipa::ToSchema for Timestamp {}

impl utoipa::PartialSchema for RegionCode {
    fn schema() -> RefOr<Schema> {
        string(
            "A division code of GB/T 2260: six digits, not beginning with 00.",
            Some(crate::region::REGION_CODE_PATTERN),
            None,
        )
    }
}
impl utoipa::ToSchema for RegionCode {}

impl utoipa::PartialSchema for TenantCode {
    fn schema() -> RefOr<Schema> {
        string(
            "A tenant: the GB/T 2260 division code of its city or county (a province's ends in 0000).",
            Some(crate::tenant::TENANT_CODE_PATTERN),
            None,
        )
    }
}
impl utoipa::ToSchema for TenantCode {}

impl utoipa::PartialSchema for Scope {
    fn schema() -> RefOr<Schema> {
        string(
            "What a grant applies to: node, tenant, reviewing_body:<id>, team:<id> or project:<id>.",
            Some("^(node|tenant|(reviewing_body|team|project):[0-9a-f-]{36})$"),
            None,
        )
    }
}
impl utoipa::ToSchema for Scope {}

impl utoipa::PartialSchema for crate::VolunteerNumber {
    fn schema() -> RefOr<Schema> {
        string(
            "A volunteer number: the tenant's code, nine digits and an ISO 7064 MOD 11-2 check character.",
            Some("^[0-9]{15}[0-9X]$"),
            None,
        )
    }
}
impl utoipa::ToSchema for crate::VolunteerNumber {}

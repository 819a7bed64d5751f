use std::fmt;

/// A rule of the domain that input broke. Each rule has a stable machine code (part of the API:
/// clients match on it) and a message in Chinese and in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    RegionCodeFormat,
    TenantCodeFormat,
    TenantRegionMissing,
    TenantRegionNotRoot,
    RegionParentUnknown,
    RegionParentMissing,
    RegionCodeDuplicate,
    RegionUnknown,
    PopulationPositive,
    StaffPositive,
    NameEmpty,
    NameTooLong,
    NameDuplicate,
    UsernameFormat,
    PasswordLength,
    ReviewerNeedsBody,
    ReviewingBodyUnknown,
    BodyOnlyForReviewer,
    OperatorHasNoTenant,
    TenantRoleNeedsTenant,
    TenantUnknown,
}

impl Rule {
    /// The stable machine code of the rule.
    pub fn code(self) -> &'static str {
        match self {
            Rule::RegionCodeFormat => "region_code_format",
            Rule::TenantCodeFormat => "tenant_code_format",
            Rule::TenantRegionMissing => "tenant_region_missing",
            Rule::TenantRegionNotRoot => "tenant_region_not_root",
            Rule::RegionParentUnknown => "region_parent_unknown",
            Rule::RegionParentMissing => "region_parent_missing",
            Rule::RegionCodeDuplicate => "region_code_duplicate",
            Rule::RegionUnknown => "region_unknown",
            Rule::PopulationPositive => "population_positive",
            Rule::StaffPositive => "staff_positive",
            Rule::NameEmpty => "name_empty",
            Rule::NameTooLong => "name_too_long",
            Rule::NameDuplicate => "name_duplicate",
            Rule::UsernameFormat => "username_format",
            Rule::PasswordLength => "password_length",
            Rule::ReviewerNeedsBody => "reviewer_needs_body",
            Rule::ReviewingBodyUnknown => "reviewing_body_unknown",
            Rule::BodyOnlyForReviewer => "body_only_for_reviewer",
            Rule::OperatorHasNoTenant => "operator_has_no_tenant",
            Rule::TenantRoleNeedsTenant => "tenant_role_needs_tenant",
            Rule::TenantUnknown => "tenant_unknown",
        }
    }

    /// What the rule says, in Chinese (zh-CN).
    pub fn message_zh(self) -> &'static str {
        match self {
            Rule::RegionCodeFormat => "行政区划代码应为6位数字(GB/T 2260)",
            Rule::TenantCodeFormat => "租户代码应为地市级或县级行政区划代码(6位数字)",
            Rule::TenantRegionMissing => "区划列表的第一项须是租户本级区划",
            Rule::TenantRegionNotRoot => "租户本级区划不能有上级区划",
            Rule::RegionParentUnknown => "上级区划须是本租户已列出的区划",
            Rule::RegionParentMissing => "除租户本级外,每个区划都须指明上级区划",
            Rule::RegionCodeDuplicate => "区划代码重复",
            Rule::RegionUnknown => "区划不属于本租户",
            Rule::PopulationPositive => "常住人口须为正整数",
            Rule::StaffPositive => "干部职工人数须为正整数",
            Rule::NameEmpty => "名称不能为空",
            Rule::NameTooLong => "名称过长(最多100个字符)",
            Rule::NameDuplicate => "名称在本租户内已被使用",
            Rule::UsernameFormat => "用户名须为3至64位小写字母、数字、点、下划线或连字符",
            Rule::PasswordLength => "密码长度须为10至128个字符",
            Rule::ReviewerNeedsBody => "审核员须绑定一个审核机构",
            Rule::ReviewingBodyUnknown => "审核机构不属于本租户",
            Rule::BodyOnlyForReviewer => "只有审核员可以绑定审核机构",
            Rule::OperatorHasNoTenant => "运营方账号不属于任何租户",
            Rule::TenantRoleNeedsTenant => "该角色的账号须属于一个租户",
            Rule::TenantUnknown => "本节点没有该租户",
        }
    }

    /// What the rule says, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            Rule::RegionCodeFormat => "a region code is six digits (GB/T 2260)",
            Rule::TenantCodeFormat => {
                "a tenant code is the six-digit division code of a city or county"
            }
            Rule::TenantRegionMissing => "the first region must be the tenant's own region",
            Rule::TenantRegionNotRoot => "the tenant's own region has no parent",
            Rule::RegionParentUnknown => "a parent must be a region listed earlier by the tenant",
            Rule::RegionParentMissing => "every region but the tenant's own must name its parent",
            Rule::RegionCodeDuplicate => "region codes must be unique",
            Rule::RegionUnknown => "the region is not one of the tenant's regions",
            Rule::PopulationPositive => "the resident population must be a positive integer",
            Rule::StaffPositive => "the staff count must be a positive integer",
            Rule::NameEmpty => "a name must not be empty",
            Rule::NameTooLong => "a name has at most 100 characters",
            Rule::NameDuplicate => "the name is already used in this tenant",
            Rule::UsernameFormat => {
                "a username is 3 to 64 lowercase letters, digits, dots, underscores or hyphens"
            }
            Rule::PasswordLength => "a password has 10 to 128 characters",
            Rule::ReviewerNeedsBody => "a reviewer must be bound to a reviewing body",
            Rule::ReviewingBodyUnknown => "the reviewing body is not one of the tenant's",
            Rule::BodyOnlyForReviewer => "only a reviewer is bound to a reviewing body",
            Rule::OperatorHasNoTenant => "an operator account belongs to no tenant",
            Rule::TenantRoleNeedsTenant => "an account of this role belongs to a tenant",
            Rule::TenantUnknown => "this node hosts no such tenant",
        }
    }
}

/// Input that breaks a rule of the domain, with the field at fault as a JSON Pointer into the
/// document that carried it (e.g. `/regions/2/parent`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidInput {
    pub field: String,
    pub rule: Rule,
}

impl InvalidInput {
    pub fn new(field: impl Into<String>, rule: Rule) -> Self {
        InvalidInput {
            field: field.into(),
            rule,
        }
    }

    /// The same error for a document nested under `prefix` in a larger one.
    pub fn under(self, prefix: &str) -> Self {
        InvalidInput {
            field: format!("{prefix}{}", self.field),
            rule: self.rule,
        }
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule.message_en())
    }
}

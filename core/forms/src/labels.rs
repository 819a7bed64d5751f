//! The words lists and forms use for the domain's kinds, in Chinese and by their codes.

use zhiyuan_domain::{
    AgeGroup, Gender, IdDocumentKind, LegalStatus, ServiceCategory, UnitKind, VolunteerStatus,
};

/// Service categories by their Chinese label and their code.
pub const CATEGORY_LABELS: [(ServiceCategory, &str, &str); 14] = [
    (ServiceCategory::Community, "社区服务", "community"),
    (
        ServiceCategory::PovertyAlleviation,
        "扶贫减贫",
        "poverty_alleviation",
    ),
    (
        ServiceCategory::ElderlyAndDisabled,
        "助老助残",
        "elderly_and_disabled",
    ),
    (ServiceCategory::Children, "关爱儿童", "children"),
    (ServiceCategory::Health, "卫生健康", "health"),
    (ServiceCategory::Environment, "生态环保", "environment"),
    (ServiceCategory::Culture, "文化艺术", "culture"),
    (ServiceCategory::Science, "科技科普", "science"),
    (ServiceCategory::Emergency, "应急救援", "emergency"),
    (ServiceCategory::PublicSafety, "平安综治", "public_safety"),
    (ServiceCategory::LegalAid, "法律服务", "legal_aid"),
    (ServiceCategory::Civility, "文明风尚", "civility"),
    (ServiceCategory::MajorEvents, "大型活动", "major_events"),
    (ServiceCategory::Other, "其他", "other"),
];

pub fn parse_category(text: &str) -> Option<ServiceCategory> {
    CATEGORY_LABELS
        .iter()
        .find(|(_, zh, code)| *zh == text || *code == text)
        .map(|(category, _, _)| *category)
}

pub fn category_label(category: ServiceCategory) -> &'static str {
    CATEGORY_LABELS
        .iter()
        .find(|(known, _, _)| *known == category)
        .map(|(_, zh, _)| *zh)
        .unwrap_or("其他")
}

/// A document kind by its Chinese name or code; an empty cell is a resident ID card, the
/// document of nearly every row.
pub fn parse_id_kind(text: &str) -> Option<IdDocumentKind> {
    Some(match text {
        "" | "居民身份证" | "身份证" | "resident_id_card" => IdDocumentKind::ResidentIdCard,
        "港澳居民来往内地通行证" | "hong_kong_macao_permit" => {
            IdDocumentKind::HongKongMacaoPermit
        }
        "台湾居民来往大陆通行证" | "taiwan_permit" => IdDocumentKind::TaiwanPermit,
        "护照" | "passport" => IdDocumentKind::Passport,
        "外国人永久居留身份证" | "foreign_permanent_resident_id" => {
            IdDocumentKind::ForeignPermanentResidentId
        }
        _ => return None,
    })
}

pub fn id_kind_label(kind: IdDocumentKind) -> &'static str {
    match kind {
        IdDocumentKind::ResidentIdCard => "居民身份证",
        IdDocumentKind::HongKongMacaoPermit => "港澳居民来往内地通行证",
        IdDocumentKind::TaiwanPermit => "台湾居民来往大陆通行证",
        IdDocumentKind::Passport => "护照",
        IdDocumentKind::ForeignPermanentResidentId => "外国人永久居留身份证",
    }
}

pub fn parse_unit_kind(text: &str) -> Option<UnitKind> {
    Some(match text {
        "党政机关" | "机关" | "organ" => UnitKind::Organ,
        "人民团体" | "peoples_organisation" => UnitKind::PeoplesOrganisation,
        "企业" | "enterprise" => UnitKind::Enterprise,
        "事业单位" | "public_institution" => UnitKind::PublicInstitution,
        "社会组织" | "social_organisation" => UnitKind::SocialOrganisation,
        "社区" | "community" => UnitKind::Community,
        "学校" | "school" => UnitKind::School,
        "其他" | "other" => UnitKind::Other,
        _ => return None,
    })
}

pub fn parse_legal_status(text: &str) -> Option<LegalStatus> {
    Some(match text {
        "未登记" | "unregistered" | "未登记的社会组织或其他组织" => {
            LegalStatus::Unregistered
        }
        "已登记" | "registered" | "已登记的社会组织" => LegalStatus::Registered,
        _ => return None,
    })
}

pub fn gender_label(gender: Option<Gender>) -> &'static str {
    match gender {
        Some(Gender::Male) => "男",
        Some(Gender::Female) => "女",
        None => "",
    }
}

pub fn age_group_label(group: Option<AgeGroup>) -> &'static str {
    match group {
        Some(AgeGroup::Minor) => "未满18岁",
        Some(AgeGroup::Youth) => "18至35岁",
        Some(AgeGroup::MiddleAged) => "36至59岁",
        Some(AgeGroup::Senior) => "60岁及以上",
        None => "",
    }
}

pub fn status_label(status: VolunteerStatus) -> &'static str {
    match status {
        VolunteerStatus::Pending => "待认证",
        VolunteerStatus::Verified => "已认证",
        VolunteerStatus::Rejected => "未通过",
        VolunteerStatus::Voided => "已作废",
        VolunteerStatus::Transferring => "转移中",
        VolunteerStatus::Transferred => "已转出",
    }
}

/// A cell holding several entries, separated as people type them: `;`, `、`, `,`, `|` and
/// their full-width forms.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([';', '；', '、', ',', '，', '|'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

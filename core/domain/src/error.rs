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
    UsernameHoldsNumber,
    CoordinatesOutsideChina,
    PasswordLength,
    GrantScope,
    GrantTargetUnknown,
    ReviewingBodyUnknown,
    TenantUnknown,
    ResidentIdFormat,
    ResidentIdCheck,
    ResidentIdArea,
    ResidentIdBirthDate,
    HongKongMacaoPermitFormat,
    TaiwanPermitFormat,
    PassportFormat,
    ForeignPermanentResidentIdFormat,
    ForeignPermanentResidentIdCheck,
    CardTokenFormat,
    CreditCodeFormat,
    CreditCodeCheck,
    OrgCodeFormat,
    OrgCodeCheck,
    PersonName,
    MobileFormat,
    TagsTooMany,
    TagLength,
    VolunteerNumberFormat,
    IdNumberRegistered,
    UnitUnknown,
    TextTooLong,
    ReasonRequired,
    AlreadyDecided,
    OutsideReviewerLevel,
    VolunteerNotVerified,
    LiaisonNotApproved,
    LiaisonNotAssociationOrParent,
    LiaisonSkipsLevel,
    LiaisonUnrelatedRegion,
    AuthorityNotOwnRegion,
    AuthorityWrongKind,
    RegisteredTeamTakesAuthority,
    UnregisteredTeamTakesLiaison,
    RegisteredTeamNeedsCode,
    CreditCodeNotCivilAffairs,
    CertificatesRequired,
    CertificateUnknown,
    ParentUnknown,
    LiaisonUnknown,
    FileType,
    PluginName,
    PluginVersion,
    PluginUnknown,
    PluginNotBundled,
    PluginLacksHook,
    HookBoundTwice,
    HookInput,
    PolicyRevisionUnknown,
    NotTeamAdmin,
    VolunteerNotVerifiedForTeam,
    TeamNotApproved,
    MembershipExists,
    NotTeamMember,
    IdDocumentKind,
    ServiceCategory,
    ControlCharacter,
    OwnApplication,
    UploadQuota,
    VolunteerRecordExists,
    AccountDetailsRequired,
    CertificatePath,
    RegistrationVoided,
    UnitKind,
    LegalStatus,
    OutsideGrantScope,
    TimeFormat,
    EndsBeforeStart,
    ProjectTooLong,
    ShiftOutsideProject,
    ShiftInPast,
    ShiftCapacity,
    ShiftCount,
    CheckInWindow,
    WithdrawalCutoff,
    CategoryRequired,
    CategoryNotOffered,
    CoordinatesNotNumbers,
    NeedUnit,
    NeedNotOpen,
    ProjectState,
    ProjectNotRecruiting,
    ShiftStarted,
    ShiftClash,
    EnrollmentExists,
    EnrollmentClosedByTeam,
    NotEnrolled,
    WithdrawalClosed,
    MinorsNotAllowed,
    GuardianConsentRequired,
    EnrollmentState,
    RadiusRange,
    CursorInvalid,
    SortNeedsPoint,
    PointIncomplete,
    PageSize,
    CardCodeForged,
    CardCodeOtherTenant,
    CardCodeExpired,
    CardCodeNotYetValid,
    CardCodeReplayed,
    CardRevoked,
    CardVolunteerUnknown,
    ScanOutsideWindow,
    CheckOutWithoutCheckIn,
    AlreadyCheckedIn,
    AlreadyCheckedOut,
    ScanIdTaken,
    ScanTime,
    ScanBatchSize,
    ServiceOverlaps,
    ServiceMinutes,
    ServiceInFuture,
    CorrectionOtherTeam,
    AlreadyCorrected,
    DisputeExists,
    DisputeState,
    NotOwnRecord,
    HoursNotConfirmed,
    NoServiceInPeriod,
    CertificateState,
    CertificateNumberFormat,
    CertificateIssuer,
    CertificateFontMissing,
    CheckpointRefused,
    TransferUnderWay,
    TransferConsentMissing,
    TransferDestinationUnknown,
    TransferToItself,
    RegistrationNotSigned,
    TransferBundleRefused,
    TransferIdentityMismatch,
    TransferReceivedAlready,
    TransferRegisteredHere,
    RequestSignatureRefused,
}

impl Rule {
    /// The stable machine code of the rule.
    pub fn code(self) -> &'static str {
        self.text().0
    }

    /// What the rule says, in Chinese (zh-CN).
    pub fn message_zh(self) -> &'static str {
        self.text().1
    }

    /// What the rule says, in English.
    pub fn message_en(self) -> &'static str {
        self.text().2
    }

    /// Code, Chinese and English, side by side so that none is forgotten.
    fn text(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Rule::RegionCodeFormat => (
                "region_code_format",
                "行政区划代码应为6位数字(GB/T 2260),且不以00开头",
                "a region code is six digits (GB/T 2260), not beginning with 00",
            ),
            Rule::TenantCodeFormat => (
                "tenant_code_format",
                "租户代码应为地市级或县级行政区划代码(6位数字,不以00开头,后四位不全为0)",
                "a tenant code is the six-digit division code of a city or county, not of a province (ending in 0000)",
            ),
            Rule::TenantRegionMissing => (
                "tenant_region_missing",
                "区划列表的第一项须是租户本级区划",
                "the first region must be the tenant's own region",
            ),
            Rule::TenantRegionNotRoot => (
                "tenant_region_not_root",
                "租户本级区划不能有上级区划",
                "the tenant's own region has no parent",
            ),
            Rule::RegionParentUnknown => (
                "region_parent_unknown",
                "上级区划须是本租户已列出的区划",
                "a parent must be a region listed earlier by the tenant",
            ),
            Rule::RegionParentMissing => (
                "region_parent_missing",
                "除租户本级外,每个区划都须指明上级区划",
                "every region but the tenant's own must name its parent",
            ),
            Rule::RegionCodeDuplicate => (
                "region_code_duplicate",
                "区划代码重复",
                "region codes must be unique",
            ),
            Rule::RegionUnknown => (
                "region_unknown",
                "区划不属于本租户",
                "the region is not one of the tenant's regions",
            ),
            Rule::PopulationPositive => (
                "population_positive",
                "常住人口须为正整数",
                "the resident population must be a positive integer",
            ),
            Rule::StaffPositive => (
                "staff_positive",
                "干部职工人数须为正整数",
                "the staff count must be a positive integer",
            ),
            Rule::NameEmpty => ("name_empty", "名称不能为空", "a name must not be empty"),
            Rule::NameTooLong => (
                "name_too_long",
                "名称过长(最多100个字符)",
                "a name has at most 100 characters",
            ),
            Rule::NameDuplicate => (
                "name_duplicate",
                "名称在本租户内已被使用",
                "the name is already used in this tenant",
            ),
            Rule::UsernameFormat => (
                "username_format",
                "用户名须为3至64位小写字母、数字、点、下划线或连字符",
                "a username is 3 to 64 lowercase letters, digits, dots, underscores or hyphens",
            ),
            Rule::UsernameHoldsNumber => (
                "username_holds_number",
                "用户名不能含有连续8位及以上的数字(请勿使用身份证号或手机号)",
                "a username must not hold a run of 8 or more digits (never an identity or mobile number)",
            ),
            Rule::CoordinatesOutsideChina => (
                "coordinates_outside_china",
                "坐标须为中国境内的经纬度数值(经度72.004至137.8347,纬度0.8293至55.8271)",
                "coordinates must be numbers within China (longitude 72.004 to 137.8347, latitude 0.8293 to 55.8271)",
            ),
            Rule::PasswordLength => (
                "password_length",
                "密码长度须为10至128个字符",
                "a password has 10 to 128 characters",
            ),
            Rule::GrantScope => (
                "grant_scope",
                "权限与其范围不符:运营方和全节点审计员属于节点,市文明办管理员和审计员属于租户,审核员对应一个审核机构,团队管理员对应一个团队",
                "a grant must fit its scope: operators and node auditors belong to the node, office admins and auditors to a tenant, a reviewer to a reviewing body, a team admin to a team",
            ),
            Rule::GrantTargetUnknown => (
                "grant_target_unknown",
                "权限所指的审核机构、团队或项目不属于本租户",
                "the reviewing body, team or project of the grant is not one of the tenant's",
            ),
            Rule::ReviewingBodyUnknown => (
                "reviewing_body_unknown",
                "审核机构不属于本租户",
                "the reviewing body is not one of the tenant's",
            ),
            Rule::TenantUnknown => (
                "tenant_unknown",
                "本节点没有该租户",
                "this node hosts no such tenant",
            ),
            Rule::ResidentIdFormat => (
                "resident_id_format",
                "居民身份证号码应为18位:17位数字加1位校验码(数字或X)",
                "a resident ID number is 17 digits and a check character (a digit or X)",
            ),
            Rule::ResidentIdCheck => (
                "resident_id_check",
                "居民身份证号码校验码不正确",
                "the check character of the resident ID number is wrong",
            ),
            Rule::ResidentIdArea => (
                "resident_id_area",
                "居民身份证号码的地址码不是有效的行政区划代码",
                "the first six digits of the resident ID number are no division code (GB/T 2260)",
            ),
            Rule::ResidentIdBirthDate => (
                "resident_id_birth_date",
                "居民身份证号码中的出生日期无效",
                "the birth date in the resident ID number is not a real past date",
            ),
            Rule::HongKongMacaoPermitFormat => (
                "hong_kong_macao_permit_format",
                "港澳居民来往内地通行证号码应为H或M加8位或10位数字",
                "a Hong Kong or Macao permit number is H or M and 8 or 10 digits",
            ),
            Rule::TaiwanPermitFormat => (
                "taiwan_permit_format",
                "台湾居民来往大陆通行证号码应为8位或10位数字",
                "a Taiwan permit number is 8 or 10 digits",
            ),
            Rule::PassportFormat => (
                "passport_format",
                "护照号码应为5至17位字母和数字",
                "a passport number is 5 to 17 letters and digits",
            ),
            Rule::ForeignPermanentResidentIdFormat => (
                "foreign_permanent_resident_id_format",
                "外国人永久居留身份证号码应为3位字母加12位数字,或以9开头的18位号码",
                "a foreign permanent resident ID is 3 letters and 12 digits, or 18 characters beginning with 9",
            ),
            Rule::CardTokenFormat => (
                "card_token_format",
                "不是志愿者证的二维码",
                "not the code of a volunteer card",
            ),
            Rule::ForeignPermanentResidentIdCheck => (
                "foreign_permanent_resident_id_check",
                "外国人永久居留身份证号码校验码不正确",
                "the check character of the foreign permanent resident ID is wrong",
            ),
            Rule::CreditCodeFormat => (
                "credit_code_format",
                "统一社会信用代码应为18位数字或大写字母(不含I、O、S、V、Z)",
                "a unified social credit code is 18 digits or capital letters other than I, O, S, V, Z",
            ),
            Rule::CreditCodeCheck => (
                "credit_code_check",
                "统一社会信用代码校验码不正确",
                "the check character of the unified social credit code is wrong",
            ),
            Rule::OrgCodeFormat => (
                "org_code_format",
                "组织机构代码应为8位数字或大写字母加1位校验码",
                "an organisation code is 8 digits or capital letters and a check character",
            ),
            Rule::OrgCodeCheck => (
                "org_code_check",
                "组织机构代码校验码不正确",
                "the check character of the organisation code is wrong",
            ),
            Rule::PersonName => (
                "person_name",
                "姓名应为证件上的中文或外文姓名(可含间隔号·),不超过50个字符",
                "a name is as on the identity document: Chinese or Latin letters, with · between parts, at most 50 characters",
            ),
            Rule::MobileFormat => (
                "mobile_format",
                "手机号码应为11位大陆手机号或以+开头的国际号码",
                "a mobile number is 11 mainland digits or + and 8 to 15 digits",
            ),
            Rule::TagsTooMany => ("tags_too_many", "最多填写20项", "at most 20 entries"),
            Rule::TagLength => (
                "tag_length",
                "每项须为1至30个字符",
                "each entry has 1 to 30 characters",
            ),
            Rule::VolunteerNumberFormat => (
                "volunteer_number_format",
                "志愿者编号应为16位且校验码正确",
                "a volunteer number has 16 characters and a valid check character",
            ),
            Rule::IdNumberRegistered => (
                "id_number_registered",
                "该证件已登记为志愿者",
                "this identity document is already registered",
            ),
            Rule::UnitUnknown => (
                "unit_unknown",
                "单位不属于本租户",
                "the unit is not one of the tenant's",
            ),
            Rule::TextTooLong => ("text_too_long", "内容过长", "the text is too long"),
            Rule::ReasonRequired => ("reason_required", "须说明理由", "a reason must be given"),
            Rule::AlreadyDecided => (
                "already_decided",
                "该申请已处理,不能重复审核",
                "the application has been decided already",
            ),
            Rule::OutsideReviewerLevel => (
                "outside_reviewer_level",
                "不在本审核机构的辖区或层级内,不能跨级审核",
                "this is outside the region and level of the reviewing body you act for",
            ),
            Rule::VolunteerNotVerified => (
                "volunteer_not_verified",
                "志愿者尚未通过实名认证",
                "the volunteer is not verified yet",
            ),
            Rule::LiaisonNotApproved => (
                "liaison_not_approved",
                "所选联络团体尚未通过审核",
                "the chosen liaison team is not approved",
            ),
            Rule::LiaisonNotAssociationOrParent => (
                "liaison_not_association_or_parent",
                "联络团体须为上级团体或本地区的志愿服务联合会、协会",
                "a liaison team is the team's parent or a volunteer service association",
            ),
            Rule::LiaisonSkipsLevel => (
                "liaison_skips_level",
                "不要跨级:须选择就近的联络团体",
                "do not skip a level: choose the nearest liaison team",
            ),
            Rule::LiaisonUnrelatedRegion => (
                "liaison_unrelated_region",
                "联络团体须属于本地区或上一级地区",
                "the liaison team must be of the team's own region or the one directly above",
            ),
            Rule::AuthorityNotOwnRegion => (
                "authority_not_own_region",
                "须选择本地区的登记机关",
                "choose the registration authority of the team's own region",
            ),
            Rule::AuthorityWrongKind => (
                "authority_wrong_kind",
                "所选机构不是登记机关(民政部门)",
                "the chosen body is not a registration authority (civil affairs)",
            ),
            Rule::RegisteredTeamTakesAuthority => (
                "registered_team_takes_authority",
                "已登记的社会组织须选择登记机关,而非联络团体",
                "a registered organisation chooses its registration authority, not a liaison team",
            ),
            Rule::UnregisteredTeamTakesLiaison => (
                "unregistered_team_takes_liaison",
                "未登记的组织须选择联络团体,而非登记机关",
                "an unregistered organisation chooses a liaison team, not a registration authority",
            ),
            Rule::RegisteredTeamNeedsCode => (
                "registered_team_needs_code",
                "已登记的社会组织须填写统一社会信用代码或组织机构代码",
                "a registered organisation gives its unified social credit code or organisation code",
            ),
            Rule::CreditCodeNotCivilAffairs => (
                "credit_code_not_civil_affairs",
                "民政部门登记的社会组织,统一社会信用代码以5开头",
                "a social organisation registered with civil affairs has a credit code beginning with 5",
            ),
            Rule::CertificatesRequired => (
                "certificates_required",
                "已登记的社会组织须上传登记证书图片",
                "a registered organisation uploads images of its certificates",
            ),
            Rule::CertificateUnknown => (
                "certificate_unknown",
                "证书文件未上传或不属于本租户",
                "the certificate file was not uploaded to this tenant",
            ),
            Rule::ParentUnknown => (
                "parent_unknown",
                "上级团体不属于本租户",
                "the parent team is not one of the tenant's",
            ),
            Rule::LiaisonUnknown => (
                "liaison_unknown",
                "联络团体不属于本租户",
                "the liaison team is not one of the tenant's",
            ),
            Rule::FileType => (
                "file_type",
                "只接受PNG、JPEG或PDF文件",
                "only PNG, JPEG or PDF files are accepted",
            ),
            Rule::PluginName => (
                "plugin_name",
                "插件名称须为小写字母开头的字母、数字和连字符,至多40个字符",
                "a plugin name is lower-case letters, digits and hyphens, beginning with a letter, at most 40 characters",
            ),
            Rule::PluginVersion => (
                "plugin_version",
                "插件版本须为“主.次.修订”形式的数字,如 1.2.0",
                "a plugin version is major.minor.patch in digits, such as 1.2.0",
            ),
            Rule::PluginUnknown => (
                "plugin_unknown",
                "本地区没有存储该SHA-256的插件",
                "the tenant has no stored plugin with this SHA-256",
            ),
            Rule::PluginNotBundled => (
                "plugin_not_bundled",
                "本节点没有随附该名称的插件(随附:suizhou-naming、suizhou-targets、star-levels)",
                "the node ships no plugin of this name (it ships suizhou-naming, suizhou-targets and star-levels)",
            ),
            Rule::PluginLacksHook => (
                "plugin_lacks_hook",
                "该插件未实现这个钩子",
                "the plugin does not implement this hook",
            ),
            Rule::HookBoundTwice => (
                "hook_bound_twice",
                "同一钩子在一个版本中只能绑定一次",
                "a hook is bound at most once in a revision",
            ),
            Rule::HookInput => (
                "hook_input",
                "输入不符合该钩子的参数,参见插件开发指南",
                "the input does not fit the hook; the plugin author's guide lists each hook's input",
            ),
            Rule::PolicyRevisionUnknown => (
                "policy_revision_unknown",
                "本地区没有该版本的策略",
                "the tenant has no policy revision with this number",
            ),
            Rule::NotTeamAdmin => (
                "not_team_admin",
                "只有本队管理员可以进行此操作",
                "only an admin of this team may do this",
            ),
            Rule::VolunteerNotVerifiedForTeam => (
                "volunteer_not_verified_for_team",
                "通过实名认证后才能加入团队",
                "a volunteer joins teams once verified",
            ),
            Rule::TeamNotApproved => (
                "team_not_approved",
                "团队尚未通过审核",
                "the team is not approved",
            ),
            Rule::MembershipExists => (
                "membership_exists",
                "已申请或已是该队成员",
                "already a member of the team or applying",
            ),
            Rule::NotTeamMember => (
                "not_team_member",
                "只能任命本队成员(且有账号)为管理员",
                "only a member of the team with an account can be appointed admin",
            ),
            Rule::IdDocumentKind => (
                "id_document_kind",
                "证件类型应为居民身份证、港澳居民来往内地通行证、台湾居民来往大陆通行证、护照或外国人永久居留身份证",
                "the document kind is a resident ID card, a Hong Kong/Macao or Taiwan permit, a passport or a foreign permanent resident ID",
            ),
            Rule::ServiceCategory => (
                "service_category",
                "服务类别不在全国志愿服务信息系统的类别之中",
                "not a service category of the national volunteer service system",
            ),
            Rule::ControlCharacter => (
                "control_character",
                "文本中不能含有控制字符(如空字符、退格、转义符)",
                "text must not contain control characters (NUL, backspace, escape, ...)",
            ),
            Rule::OwnApplication => (
                "own_application",
                "不能审核本人提出的申请,也不能审核本人将要管理的团队",
                "nobody decides an application they made or a team they will administer",
            ),
            Rule::UploadQuota => (
                "upload_quota",
                "上传文件数量或大小已达上限,请明天再试或联系市文明办",
                "the upload quota is used up; try again tomorrow or ask the city office",
            ),
            Rule::VolunteerRecordExists => (
                "volunteer_record_exists",
                "该账号已提交过志愿者实名注册",
                "this account has a volunteer registration already",
            ),
            Rule::AccountDetailsRequired => (
                "account_details_required",
                "未登录时须填写用户名和密码以创建账号",
                "without signing in, give a username and a password for the new account",
            ),
            Rule::CertificatePath => (
                "certificate_path",
                "证书文件须是名单所在文件夹中的文件,且不超过5 MiB",
                "a certificate file must be a file in the list's folder, at most 5 MiB",
            ),
            Rule::OutsideGrantScope => (
                "outside_grant_scope",
                "您的权限不涵盖此对象:审核员只审核本机构的申请,团队管理员只管理本队",
                "your grant does not reach this: a reviewer decides for their own body, a team admin for their own team",
            ),
            Rule::UnitKind => (
                "unit_kind",
                "类别应为党政机关、人民团体、企业、事业单位、社会组织、社区、学校或其他",
                "the kind is an organ, a people's organisation, an enterprise, a public institution, a social organisation, a community, a school or other",
            ),
            Rule::LegalStatus => (
                "legal_status",
                "登记状态应为“已登记”或“未登记”",
                "the legal status is registered or unregistered",
            ),
            Rule::TimeFormat => (
                "time_format",
                "时间格式应为带时区的RFC 3339,例如 2026-12-05T09:00:00+08:00",
                "a time is RFC 3339 with its offset, e.g. 2026-12-05T09:00:00+08:00",
            ),
            Rule::EndsBeforeStart => (
                "ends_before_start",
                "结束时间须晚于开始时间",
                "the end must come after the start",
            ),
            Rule::ProjectTooLong => (
                "project_too_long",
                "项目持续时间不能超过一年",
                "a project runs for at most a year",
            ),
            Rule::ShiftOutsideProject => (
                "shift_outside_project",
                "班次须在项目的起止时间之内",
                "a shift lies within its project's start and end",
            ),
            Rule::ShiftInPast => ("shift_in_past", "时间已过", "that time has passed"),
            Rule::ShiftCapacity => (
                "shift_capacity",
                "人数须在1到10000之间",
                "the number of people is between 1 and 10,000",
            ),
            Rule::ShiftCount => (
                "shift_count",
                "项目须有1到200个班次",
                "a project has 1 to 200 shifts",
            ),
            Rule::CheckInWindow => (
                "check_in_window",
                "签到时间窗不能超过720分钟",
                "a check-in window is at most 720 minutes",
            ),
            Rule::WithdrawalCutoff => (
                "withdrawal_cutoff",
                "退出截止时间不能超过开班前720小时",
                "withdrawal closes at most 720 hours before a shift",
            ),
            Rule::CategoryRequired => (
                "category_required",
                "至少选择一个服务类别",
                "choose at least one service category",
            ),
            Rule::CategoryNotOffered => (
                "category_not_offered",
                "本地未启用该服务类别",
                "the tenant does not use this service category",
            ),
            Rule::CoordinatesNotNumbers => (
                "coordinates_not_numbers",
                "经纬度须是数字",
                "longitude and latitude are numbers",
            ),
            Rule::NeedUnit => (
                "need_unit",
                "单位发布的需求须填写单位,其他需求不填",
                "a need posted by a unit names the unit; others name none",
            ),
            Rule::NeedNotOpen => (
                "need_not_open",
                "该需求未公开或已关闭,不能响应",
                "the need is not open: it cannot be answered",
            ),
            Rule::ProjectState => (
                "project_state",
                "项目当前状态不允许此操作",
                "the project is not in a state that allows this",
            ),
            Rule::ProjectNotRecruiting => (
                "project_not_recruiting",
                "该项目当前不接受报名",
                "the project is not taking sign-ups",
            ),
            Rule::ShiftStarted => (
                "shift_started",
                "该班次已开始,不能再报名",
                "the shift has started: sign-up is closed",
            ),
            Rule::ShiftClash => (
                "shift_clash",
                "与您已报名的班次时间冲突",
                "it overlaps a shift you have signed up for",
            ),
            Rule::EnrollmentExists => (
                "enrollment_exists",
                "您已报名该班次",
                "you have signed up for this shift already",
            ),
            Rule::EnrollmentClosedByTeam => (
                "enrollment_closed_by_team",
                "团队已拒绝或移除您在该班次的报名",
                "the team rejected or removed your sign-up for this shift",
            ),
            Rule::NotEnrolled => (
                "not_enrolled",
                "您没有该班次的有效报名",
                "you hold no sign-up for this shift",
            ),
            Rule::WithdrawalClosed => (
                "withdrawal_closed",
                "已过退出截止时间,请联系项目负责人",
                "withdrawal has closed: contact the project lead",
            ),
            Rule::MinorsNotAllowed => (
                "minors_not_allowed",
                "该项目不接受未成年人报名",
                "the project does not take minors",
            ),
            Rule::GuardianConsentRequired => (
                "guardian_consent_required",
                "未成年人报名须记录监护人同意",
                "a minor signs up with their guardian's consent recorded",
            ),
            Rule::EnrollmentState => (
                "enrollment_state",
                "报名当前状态不允许此操作",
                "the sign-up is not in a state that allows this",
            ),
            Rule::RadiusRange => (
                "radius_range",
                "搜索半径须在100米到50公里之间",
                "the radius is between 100 m and 50 km",
            ),
            Rule::CursorInvalid => (
                "cursor_invalid",
                "翻页标记无效,请从第一页重新查询",
                "the cursor is not one this search gave: start again from the first page",
            ),
            Rule::PageSize => (
                "page_size",
                "每页条数须在1到100之间",
                "a page holds 1 to 100 items",
            ),
            Rule::CardCodeForged => (
                "card_code_forged",
                "志愿者证二维码无效:签名不符",
                "the card's code is not signed by this tenant: forged, altered or of an unknown key",
            ),
            Rule::CardCodeOtherTenant => (
                "card_code_other_tenant",
                "该志愿者证属于其他地区",
                "the card belongs to another tenant",
            ),
            Rule::CardCodeExpired => (
                "card_code_expired",
                "志愿者证二维码已过期,请刷新后再扫",
                "the card's code has expired: refresh it and scan again",
            ),
            Rule::CardCodeNotYetValid => (
                "card_code_not_yet_valid",
                "志愿者证二维码尚未生效,请核对设备时间",
                "the card's code is not valid yet: check the device's clock",
            ),
            Rule::CardCodeReplayed => (
                "card_code_replayed",
                "该二维码已被扫描过,请刷新后再扫",
                "this code was scanned already: refresh it and scan again",
            ),
            Rule::CardRevoked => (
                "card_revoked",
                "该实体志愿者证已挂失作废",
                "the printed card was revoked",
            ),
            Rule::CardVolunteerUnknown => (
                "card_volunteer_unknown",
                "志愿者证所载志愿者不存在或未认证",
                "the card names no verified volunteer",
            ),
            Rule::ScanOutsideWindow => (
                "scan_outside_window",
                "不在该班次的签到时间内",
                "the scan is outside the shift's check-in window",
            ),
            Rule::CheckOutWithoutCheckIn => (
                "check_out_without_check_in",
                "尚未签到,不能签退",
                "a check-out needs a check-in first",
            ),
            Rule::AlreadyCheckedIn => (
                "already_checked_in",
                "已签到",
                "the volunteer is checked in already",
            ),
            Rule::AlreadyCheckedOut => (
                "already_checked_out",
                "该班次已签退",
                "the volunteer has checked out of this shift already",
            ),
            Rule::ScanIdTaken => (
                "scan_id_taken",
                "扫码编号已被其他扫码使用",
                "the scan id belongs to another scan",
            ),
            Rule::ScanTime => (
                "scan_time",
                "扫码时间不能晚于当前时间,也不能早于七天前",
                "a scan's time is not in the future nor more than seven days ago",
            ),
            Rule::ScanBatchSize => (
                "scan_batch_size",
                "一次最多上传1000条扫码记录",
                "a batch holds 1 to 1000 scans",
            ),
            Rule::ServiceOverlaps => (
                "service_overlaps",
                "与该志愿者已有的服务记录时间重叠",
                "the service overlaps one already recorded for the volunteer",
            ),
            Rule::ServiceMinutes => (
                "service_minutes",
                "服务时长须大于0且不超过起止时间之间的分钟数",
                "the minutes are more than 0 and at most the span from start to end",
            ),
            Rule::ServiceInFuture => (
                "service_in_future",
                "服务不能结束于将来",
                "the service cannot end in the future",
            ),
            Rule::CorrectionOtherTeam => (
                "correction_other_team",
                "只能更正本队记录的服务记录",
                "a team corrects only the entries it recorded",
            ),
            Rule::AlreadyCorrected => (
                "already_corrected",
                "该记录已被更正,请更正最新的记录",
                "this entry was corrected already: correct the newest entry",
            ),
            Rule::DisputeExists => (
                "dispute_exists",
                "该记录已有未处理的申诉",
                "this entry has a dispute that is not settled",
            ),
            Rule::DisputeState => (
                "dispute_state",
                "申诉当前状态不允许此操作",
                "the dispute is not in a state that allows this",
            ),
            Rule::NotOwnRecord => (
                "not_own_record",
                "只能对本人的服务记录申诉",
                "a volunteer disputes only their own entries",
            ),
            Rule::HoursNotConfirmed => (
                "hours_not_confirmed",
                "所列服务时长有未处理的申诉,尚未确认",
                "some of the hours are under a dispute and not confirmed",
            ),
            Rule::NoServiceInPeriod => (
                "no_service_in_period",
                "该期间内没有可证明的服务记录",
                "there is no confirmed service in the period",
            ),
            Rule::CertificateState => (
                "certificate_state",
                "证明当前状态不允许此操作",
                "the certificate is not in a state that allows this",
            ),
            Rule::CertificateNumberFormat => (
                "certificate_number_format",
                "证明编号格式错误",
                "a certificate number is the tenant, the year and six digits, as 421300-2026-000017",
            ),
            Rule::CertificateIssuer => (
                "certificate_issuer",
                "证明由记录服务的队伍或本地文明办出具",
                "a certificate is issued by the team that recorded the service or by the office",
            ),
            Rule::CertificateFontMissing => (
                "certificate_font_missing",
                "本节点未安装中文字体,暂不能生成PDF",
                "the node has no Chinese font installed: the PDF cannot be made",
            ),
            Rule::CheckpointRefused => (
                "checkpoint_refused",
                "检查点不是签发方日志的检查点,或未经其密钥签名",
                "the checkpoint is not one of an issuer's log signed with its key",
            ),
            Rule::TransferUnderWay => (
                "transfer_under_way",
                "该志愿者已转出或正在转移中",
                "the volunteer has been transferred, or a transfer is under way",
            ),
            Rule::TransferConsentMissing => (
                "transfer_consent_missing",
                "转移须经志愿者同意发送所列信息",
                "a transfer needs the volunteer's consent to what is sent",
            ),
            Rule::TransferDestinationUnknown => (
                "transfer_destination_unknown",
                "转入地不是本节点或已配置的对等节点的租户",
                "the destination is not a tenant of this node or of a peer it is configured with",
            ),
            Rule::TransferToItself => (
                "transfer_to_itself",
                "不能转移到当前所在的租户",
                "a volunteer cannot be transferred to the tenant they are registered with",
            ),
            Rule::RegistrationNotSigned => (
                "registration_not_signed",
                "注册记录尚在签名中,请稍后再试",
                "the registration is still being signed; try again in a minute",
            ),
            Rule::TransferBundleRefused => (
                "transfer_bundle_refused",
                "转移的记录未通过核验:签名、密钥有效期或日志收录不符",
                "a record of the transfer did not verify: its signature, its key's window or its inclusion in its issuer's log",
            ),
            Rule::TransferIdentityMismatch => (
                "transfer_identity_mismatch",
                "随转移发送的身份信息与注册记录不符",
                "the identity sent with the transfer is not the one its registration credential commits to",
            ),
            Rule::TransferReceivedAlready => (
                "transfer_received_already",
                "该注册记录已转入过",
                "this registration has been transferred here before",
            ),
            Rule::TransferRegisteredHere => (
                "transfer_registered_here",
                "该证件在转入地已有注册",
                "the identity document is registered here already",
            ),
            Rule::RequestSignatureRefused => (
                "request_signature_refused",
                "请求签名未通过核验",
                "the request's signature did not verify",
            ),
            Rule::PointIncomplete => (
                "point_incomplete",
                "位置须同时给出经度和纬度",
                "a point takes both a longitude and a latitude",
            ),
            Rule::SortNeedsPoint => (
                "sort_needs_point",
                "按距离排序须提供位置",
                "sorting by distance needs a point",
            ),
            Rule::RegistrationVoided => (
                "registration_voided",
                "该注册已作废",
                "the registration has been voided",
            ),
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

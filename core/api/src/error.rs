//! The one place where errors of every layer become HTTP responses: RFC 9457 problem+json with a
//! stable code, a message in Chinese and in English, and the field at fault. Messages never
//! repeat what the client sent, which may be personal data; the Chinese message is Chinese
//! throughout, and technical detail goes to `detail`, in English.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use zhiyuan_app::{AppError, UniqueField};
use zhiyuan_domain::ports::PluginRefusal;

/// What a request can fail with: what HTTP itself refuses, and what the use case refused.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("malformed JSON: {detail}")]
    MalformedJson { detail: String },
    /// A JSON object names a member twice.
    #[error("duplicate key {field}")]
    DuplicateKey { field: String },
    /// The body is JSON but breaks its schema: wrong type, missing or unknown field, ...
    #[error("{field}: {detail}")]
    Schema { field: String, detail: String },
    /// A path parameter is not what the route takes.
    #[error("path parameter {name}: {detail}")]
    BadPathParameter {
        name: &'static str,
        detail: &'static str,
    },
    /// A query parameter is not what the route takes.
    #[error("query: {detail}")]
    BadQuery { detail: String },
    /// A header is not what the route takes.
    #[error("header {name}: {detail}")]
    BadHeader {
        name: &'static str,
        detail: &'static str,
    },
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The client stopped sending its body.
    #[error("the body was not sent in time")]
    RequestTimeout,
    #[error("not signed in")]
    Unauthenticated,
    #[error("no such route")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    App(#[from] AppError),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A failure of the node, not of the request; its cause is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<zhiyuan_domain::InvalidInput> for ApiError {
    fn from(invalid: zhiyuan_domain::InvalidInput) -> Self {
        ApiError::App(AppError::Invalid(invalid))
    }
}

/// RFC 9457 problem details, with the members every Zhiyuan problem carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/{code}`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    /// What went wrong, in English, with technical detail where there is some.
    pub detail: String,
    /// A stable machine code: the rule broken, or the kind of failure.
    pub code: &'static str,
    /// The field at fault: a JSON Pointer into the body, or `path/<name>`, `query/<name>`,
    /// `header/<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `policy_violation` and `plugin_refused`: the local rule that refused, as its policy
    /// names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: Messages,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Messages {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson { .. }
            | ApiError::DuplicateKey { .. }
            | ApiError::BadPathParameter { .. }
            | ApiError::BadQuery { .. }
            | ApiError::BadHeader { .. } => StatusCode::BAD_REQUEST,
            ApiError::Schema { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::App(error) => match error {
                AppError::Invalid(_) | AppError::Policy(_) | AppError::PluginRefused(_) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                AppError::Conflict(_) | AppError::WrongState(_) => StatusCode::CONFLICT,
                AppError::NotFound => StatusCode::NOT_FOUND,
                AppError::Forbidden | AppError::Refused(_) => StatusCode::FORBIDDEN,
                AppError::BadCredentials => StatusCode::UNAUTHORIZED,
                AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::Busy { .. } | AppError::PluginFailed(_) | AppError::Unavailable(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                AppError::BadFile { .. } => StatusCode::BAD_REQUEST,
                AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (code, field, zh, en): (&'static str, Option<String>, String, String) = match self {
            ApiError::MalformedJson { detail } => (
                "malformed_json",
                None,
                "请求内容不是有效的JSON".into(),
                format!("the body is not valid JSON: {detail}"),
            ),
            ApiError::DuplicateKey { field } => (
                "duplicate_key",
                Some(field.clone()),
                format!("字段 {field} 重复出现"),
                format!("{field} appears more than once"),
            ),
            ApiError::Schema { field, detail } => (
                "schema_violation",
                Some(field.clone()),
                format!("字段 {field} 不符合接口规范"),
                format!("{field} does not match the schema: {detail}"),
            ),
            ApiError::BadPathParameter { name, detail } => (
                "bad_path_parameter",
                Some(format!("path/{name}")),
                format!("路径参数 {name} 无效"),
                format!("path parameter {name} is invalid: {detail}"),
            ),
            ApiError::BadQuery { detail } => (
                "bad_query",
                None,
                "查询参数无效".into(),
                format!("invalid query: {detail}"),
            ),
            ApiError::BadHeader { name, detail } => (
                "bad_header",
                Some(format!("header/{name}")),
                format!("请求头 {name} 无效"),
                format!("header {name} is invalid: {detail}"),
            ),
            ApiError::UnsupportedMediaType { expected } => (
                "unsupported_media_type",
                None,
                format!("请求内容类型须为 {expected}"),
                format!("the content type must be {expected}"),
            ),
            ApiError::PayloadTooLarge { limit } => (
                "payload_too_large",
                None,
                format!("请求内容过大(上限 {limit} 字节)"),
                format!("the body is larger than the limit of {limit} bytes"),
            ),
            ApiError::RequestTimeout => (
                "request_timeout",
                None,
                "请求内容发送超时".into(),
                "the body was not sent in time".into(),
            ),
            ApiError::Unauthenticated => (
                "unauthenticated",
                None,
                "请先登录".into(),
                "sign in first".into(),
            ),
            ApiError::NoRoute => ("not_found", None, "未找到".into(), "not found".into()),
            ApiError::MethodNotAllowed => (
                "method_not_allowed",
                None,
                "该路径不支持此请求方法".into(),
                "this path does not take this method".into(),
            ),
            ApiError::Unavailable(_) => (
                "unavailable",
                None,
                "服务暂不可用".into(),
                "the service is not available".into(),
            ),
            ApiError::Internal(_) => internal(),
            ApiError::App(error) => app_problem(error),
        };
        Problem {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: en.clone(),
            code,
            field,
            rule: match self {
                ApiError::App(AppError::Policy(violation)) => Some(violation.code.clone()),
                ApiError::App(AppError::PluginRefused(refusal)) => {
                    Some(refusal_code(refusal).to_owned())
                }
                _ => None,
            },
            message: Messages { zh_cn: zh, en },
        }
    }
}

fn internal() -> (&'static str, Option<String>, String, String) {
    (
        "internal",
        None,
        "服务器内部错误,已记录".into(),
        "internal error; it has been logged".into(),
    )
}

fn app_problem(error: &AppError) -> (&'static str, Option<String>, String, String) {
    match error {
        AppError::Invalid(invalid) => (
            invalid.rule.code(),
            Some(invalid.field.clone()),
            invalid.rule.message_zh().to_owned(),
            invalid.rule.message_en().to_owned(),
        ),
        AppError::Conflict(field) => {
            let (code, field, zh, en) = conflict(*field);
            (code, Some(field.to_owned()), zh.to_owned(), en.to_owned())
        }
        AppError::WrongState(rule) | AppError::Refused(rule) | AppError::Unavailable(rule) => (
            rule.code(),
            None,
            rule.message_zh().to_owned(),
            rule.message_en().to_owned(),
        ),
        AppError::NotFound => ("not_found", None, "未找到".into(), "not found".into()),
        AppError::Forbidden => (
            "forbidden",
            None,
            "无权进行此操作".into(),
            "your grants do not allow this".into(),
        ),
        AppError::BadCredentials => (
            "bad_credentials",
            None,
            "用户名或密码错误".into(),
            "wrong username or password".into(),
        ),
        AppError::TooManyAttempts {
            retry_after_seconds,
        } => (
            "too_many_attempts",
            None,
            format!("尝试次数过多,请 {retry_after_seconds} 秒后再试"),
            format!("too many attempts; try again in {retry_after_seconds} s"),
        ),
        AppError::Busy {
            retry_after_seconds,
        } => (
            "busy",
            None,
            format!("服务器繁忙,请 {retry_after_seconds} 秒后再试"),
            format!("the node is busy; try again in {retry_after_seconds} s"),
        ),
        AppError::Policy(violation) => (
            "policy_violation",
            violation.field.clone(),
            violation.message_zh.clone(),
            violation.message_en.clone(),
        ),
        AppError::PluginRefused(refusal) => (
            "plugin_refused",
            Some(refusal_field(refusal).to_owned()),
            format!("插件未被接受:{}", refusal_zh(refusal)),
            format!("plugin refused: {refusal}"),
        ),
        AppError::PluginFailed(failure) => (
            "plugin_failed",
            None,
            format!(
                "地区 {} 的策略插件 {} {} 在钩子 {} 中未能给出结果,请求已拒绝",
                failure.tenant, failure.plugin, failure.version, failure.hook
            ),
            failure.to_string(),
        ),
        AppError::BadFile { detail } => (
            "bad_file",
            None,
            "文件格式不符".into(),
            format!("the file is not as expected: {detail}"),
        ),
        AppError::Internal(_) => internal(),
    }
}

fn refusal_code(refusal: &PluginRefusal) -> &'static str {
    use PluginRefusal as R;
    match refusal {
        R::Unsigned => "unsigned",
        R::BadSignature => "bad_signature",
        R::NotAComponent(_) => "not_a_component",
        R::WrongWorld { .. } => "wrong_world",
        R::UnknownVersion { .. } => "unknown_wit_version",
        R::ForbiddenImport { .. } => "forbidden_import",
        R::Conformance { .. } => "conformance",
        R::MissingHook { .. } => "missing_hook",
        R::TooLarge { .. } => "too_large",
    }
}

/// The signature travels in a header; everything else is about the package, the body.
fn refusal_field(refusal: &PluginRefusal) -> &'static str {
    use PluginRefusal as R;
    match refusal {
        R::Unsigned | R::BadSignature => "header/zhiyuan-signature",
        R::MissingHook { .. } => "/bindings",
        _ => "/",
    }
}

/// The refusal in Chinese; what the WebAssembly tools said goes to `detail`, in English.
fn refusal_zh(refusal: &PluginRefusal) -> String {
    use PluginRefusal as R;
    match refusal {
        R::Unsigned => "本节点只接受经其信任的密钥签名的插件,该插件未签名".into(),
        R::BadSignature => "签名无效,或不是本节点信任的密钥所签".into(),
        R::NotAComponent(_) => "不是有效的WebAssembly组件".into(),
        R::WrongWorld { .. } => "组件未导出 zhiyuan:policy 的任何钩子".into(),
        R::UnknownVersion { version, supported } => {
            format!("组件基于 zhiyuan:policy@{version} 构建,本节点支持的版本为 {supported}")
        }
        R::ForbiddenImport { import } => format!("组件导入了 {import},插件只能导入日志接口"),
        R::Conformance { hook, .. } => format!("钩子 {hook} 未通过一致性测试"),
        R::MissingHook { hook } => format!("该插件未实现钩子 {hook}"),
        R::TooLarge { .. } => "组件超出本节点允许的规模(函数、代码或内存)".into(),
    }
}

fn conflict(field: UniqueField) -> (&'static str, &'static str, &'static str, &'static str) {
    match field {
        UniqueField::TenantCode => (
            "tenant_exists",
            "/code",
            "该租户已存在",
            "a tenant with this code exists",
        ),
        UniqueField::UnitName => (
            "unit_name_taken",
            "/name/zh",
            "本租户已有同名单位",
            "the tenant has a unit of this name",
        ),
        UniqueField::ReviewingBodyName => (
            "reviewing_body_name_taken",
            "/name/zh",
            "本租户已有同名审核机构",
            "the tenant has a reviewing body of this name",
        ),
        UniqueField::Username => (
            "username_taken",
            "/username",
            "用户名已被使用",
            "the username is taken",
        ),
        // Only a verification meets this: registration itself never tells.
        UniqueField::IdNumber => (
            "id_number_registered",
            "/id_number",
            "该证件已有通过认证的注册",
            "this identity document has a verified registration already",
        ),
        UniqueField::VolunteerNumber => (
            "volunteer_number_taken",
            "/volunteer_number",
            "志愿者编号冲突,请重试",
            "the volunteer number clashed; try again",
        ),
        UniqueField::Membership => (
            "membership_exists",
            "/",
            "已申请或已是该队成员",
            "already a member of the team or applying",
        ),
        UniqueField::TeamName => (
            "team_name_taken",
            "/name",
            "本租户已有同名团队",
            "the tenant has a team of this name",
        ),
        UniqueField::VolunteerAccount => (
            "volunteer_account_taken",
            "/username",
            "该账号已登记为志愿者",
            "this account already belongs to a volunteer",
        ),
        UniqueField::PolicyRevision => (
            "policy_changed_meanwhile",
            "/bindings",
            "策略刚被他人修改,请刷新后重试",
            "the policy was changed meanwhile; reload and try again",
        ),
        UniqueField::ScanId => (
            "scan_id_taken",
            "/scan_id",
            "扫码编号已被其他扫码使用",
            "the scan id belongs to another scan",
        ),
        UniqueField::CardToken => (
            "card_code_replayed",
            "/code",
            "该二维码已被扫描过,请刷新后再扫",
            "this code was scanned already: refresh it and scan again",
        ),
        UniqueField::Attendance => (
            "already_checked_in",
            "/code",
            "已签到",
            "the volunteer is checked in already",
        ),
        UniqueField::Correction => (
            "already_corrected",
            "/",
            "该记录已被更正,请更正最新的记录",
            "this entry was corrected already: correct the newest entry",
        ),
        UniqueField::UnsettledDispute => (
            "dispute_exists",
            "/",
            "该记录已有未处理的申诉",
            "this entry has a dispute that is not settled",
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) | ApiError::App(AppError::Internal(cause)) => {
                tracing::error!(cause = ?cause, "request failed")
            }
            ApiError::Unavailable(cause) => tracing::warn!(cause = ?cause, "not ready"),
            _ => {}
        }
        let problem = self.problem();
        let mut response = (self.status(), axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let retry_after = match self {
            ApiError::App(
                AppError::TooManyAttempts {
                    retry_after_seconds,
                }
                | AppError::Busy {
                    retry_after_seconds,
                },
            ) => Some(retry_after_seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

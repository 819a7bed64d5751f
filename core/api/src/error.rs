//! The one place where errors of every layer become HTTP responses: RFC 9457 problem+json with a
//! stable code, a message in Chinese and in English, and the field at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use zhiyuan_domain::InvalidInput;
use zhiyuan_store::{StoreError, UniqueField};

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("malformed JSON: {detail}")]
    MalformedJson { detail: String },
    /// The body is JSON but breaks its schema: wrong type, missing or unknown field, ...
    #[error("{field}: {detail}")]
    Schema { field: String, detail: String },
    /// A file given to a command is not what it takes (a CSV list without its columns).
    #[error("bad file: {detail}")]
    BadFile { detail: String },
    /// A path parameter is not what the route takes.
    #[error("path parameter {name}: {detail}")]
    BadPathParameter {
        name: &'static str,
        detail: &'static str,
    },
    /// A query parameter is not what the route takes.
    #[error("query: {detail}")]
    BadQuery { detail: String },
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("already exists: {0:?}")]
    Conflict(UniqueField),
    /// What was asked does not fit the state the resource is in (an application decided
    /// already, a card of a volunteer not verified yet).
    #[error("wrong state: {}", .0.code())]
    WrongState(zhiyuan_domain::Rule),
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many failed logins")]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A rule of local policy (a plugin or the built-in default) refused the request.
    #[error("policy: {}", .0.code)]
    Policy(zhiyuan_domain::ports::Violation),
    /// A plugin package refused at upload, or a binding to a plugin without the hook.
    #[error("plugin refused: {0}")]
    PluginRefused(zhiyuan_domain::ports::PluginRefusal),
    /// A plugin bound to fail closed gave no answer.
    #[error("{0}")]
    PluginFailed(zhiyuan_domain::ports::PolicyFailure),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A failure of the node, not of the request; its cause is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<zhiyuan_domain::ports::PolicyError> for ApiError {
    fn from(error: zhiyuan_domain::ports::PolicyError) -> Self {
        match error {
            zhiyuan_domain::ports::PolicyError::Violation(violation) => ApiError::Policy(violation),
            zhiyuan_domain::ports::PolicyError::Failed(failure) => ApiError::PluginFailed(failure),
        }
    }
}

impl From<zhiyuan_domain::ports::PolicyFailure> for ApiError {
    fn from(failure: zhiyuan_domain::ports::PolicyFailure) -> Self {
        ApiError::PluginFailed(failure)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Unique(field) => ApiError::Conflict(field),
            StoreError::Invalid(invalid)
                if invalid.rule == zhiyuan_domain::Rule::AlreadyDecided =>
            {
                ApiError::WrongState(invalid.rule)
            }
            StoreError::Invalid(invalid) => ApiError::Invalid(invalid),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// RFC 9457 problem details, with the members every Zhiyuan problem carries.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `policy_violation`: the code of the local rule that refused, as its policy names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub message: Messages,
}

#[derive(Debug, Serialize)]
pub struct Messages {
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    pub en: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson { .. }
            | ApiError::BadPathParameter { .. }
            | ApiError::BadQuery { .. }
            | ApiError::BadFile { .. } => StatusCode::BAD_REQUEST,
            ApiError::Schema { .. }
            | ApiError::Invalid(_)
            | ApiError::Policy(_)
            | ApiError::PluginRefused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PluginFailed(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) | ApiError::WrongState(_) => StatusCode::CONFLICT,
            ApiError::Unauthenticated | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (code, field, zh, en): (&'static str, Option<String>, String, String) = match self {
            ApiError::MalformedJson { detail } => (
                "malformed_json",
                None,
                format!("请求内容不是有效的JSON:{detail}"),
                format!("the body is not valid JSON: {detail}"),
            ),
            ApiError::Schema { field, detail } => (
                "schema_violation",
                Some(field.clone()),
                format!("字段 {field} 不符合接口规范:{detail}"),
                format!("{field} does not match the schema: {detail}"),
            ),
            ApiError::BadPathParameter { name, detail } => (
                "bad_path_parameter",
                Some(format!("path/{name}")),
                format!("路径参数 {name} 无效:{detail}"),
                format!("path parameter {name} is invalid: {detail}"),
            ),
            ApiError::BadFile { detail } => (
                "bad_file",
                None,
                format!("文件格式不符:{detail}"),
                format!("the file is not as expected: {detail}"),
            ),
            ApiError::BadQuery { detail } => (
                "bad_query",
                None,
                format!("查询参数无效:{detail}"),
                format!("invalid query: {detail}"),
            ),
            ApiError::Invalid(invalid) => (
                invalid.rule.code(),
                Some(invalid.field.clone()),
                invalid.rule.message_zh().to_owned(),
                invalid.rule.message_en().to_owned(),
            ),
            ApiError::UnsupportedMediaType => (
                "unsupported_media_type",
                None,
                "请求内容类型须为 application/json".into(),
                "the content type must be application/json".into(),
            ),
            ApiError::PayloadTooLarge { limit } => (
                "payload_too_large",
                None,
                format!("请求内容过大(上限 {limit} 字节)"),
                format!("the body is larger than the limit of {limit} bytes"),
            ),
            ApiError::Conflict(field) => {
                let (code, field, zh, en) = conflict(*field);
                (code, Some(field.to_owned()), zh.to_owned(), en.to_owned())
            }
            ApiError::WrongState(rule) => (
                rule.code(),
                None,
                rule.message_zh().to_owned(),
                rule.message_en().to_owned(),
            ),
            ApiError::Unauthenticated => (
                "unauthenticated",
                None,
                "请先登录".into(),
                "sign in first".into(),
            ),
            ApiError::BadCredentials => (
                "bad_credentials",
                None,
                "用户名或密码错误".into(),
                "wrong username or password".into(),
            ),
            ApiError::TooManyAttempts {
                retry_after_seconds,
            } => (
                "too_many_attempts",
                None,
                format!("登录失败次数过多,请 {retry_after_seconds} 秒后再试"),
                format!("too many failed logins; try again in {retry_after_seconds} s"),
            ),
            ApiError::Forbidden => (
                "forbidden",
                None,
                "无权进行此操作".into(),
                "your role does not allow this".into(),
            ),
            ApiError::NotFound => ("not_found", None, "未找到".into(), "not found".into()),
            ApiError::Policy(violation) => (
                "policy_violation",
                violation.field.clone(),
                violation.message_zh.clone(),
                violation.message_en.clone(),
            ),
            ApiError::PluginRefused(refusal) => (
                "plugin_refused",
                Some(refusal_field(refusal).to_owned()),
                format!("插件未被接受:{}", refusal_zh(refusal)),
                format!("plugin refused: {refusal}"),
            ),
            ApiError::PluginFailed(failure) => (
                "plugin_failed",
                None,
                format!(
                    "地区 {} 的策略插件 {} {} 在钩子 {} 中未能给出结果({}),请求已拒绝",
                    failure.tenant, failure.plugin, failure.version, failure.hook, failure.reason
                ),
                failure.to_string(),
            ),
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
            ApiError::Internal(_) => (
                "internal",
                None,
                "服务器内部错误,已记录".into(),
                "internal error; it has been logged".into(),
            ),
        };
        Problem {
            kind: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: en.clone(),
            code,
            field,
            rule: match self {
                ApiError::Policy(violation) => Some(violation.code.clone()),
                ApiError::PluginRefused(refusal) => Some(refusal_code(refusal).to_owned()),
                _ => None,
            },
            message: Messages { zh_cn: zh, en },
        }
    }
}

fn refusal_code(refusal: &zhiyuan_domain::ports::PluginRefusal) -> &'static str {
    use zhiyuan_domain::ports::PluginRefusal as R;
    match refusal {
        R::Unsigned => "unsigned",
        R::BadSignature => "bad_signature",
        R::NotAComponent(_) => "not_a_component",
        R::WrongWorld { .. } => "wrong_world",
        R::UnknownVersion { .. } => "unknown_wit_version",
        R::ForbiddenImport { .. } => "forbidden_import",
        R::Conformance { .. } => "conformance",
        R::MissingHook { .. } => "missing_hook",
    }
}

/// The signature travels in a header; everything else is about the package, the body.
fn refusal_field(refusal: &zhiyuan_domain::ports::PluginRefusal) -> &'static str {
    use zhiyuan_domain::ports::PluginRefusal as R;
    match refusal {
        R::Unsigned | R::BadSignature => "zhiyuan-signature",
        R::MissingHook { .. } => "/bindings",
        _ => "/",
    }
}

fn refusal_zh(refusal: &zhiyuan_domain::ports::PluginRefusal) -> String {
    use zhiyuan_domain::ports::PluginRefusal as R;
    match refusal {
        R::Unsigned => "本节点只接受经其信任的密钥签名的插件,该插件未签名".into(),
        R::BadSignature => "签名无效,或不是本节点信任的密钥所签".into(),
        R::NotAComponent(detail) => format!("不是WebAssembly组件({detail})"),
        R::WrongWorld { exports } => {
            format!("组件未导出 zhiyuan:policy 的任何钩子(导出:{exports})")
        }
        R::UnknownVersion { version, supported } => {
            format!("组件基于 zhiyuan:policy@{version} 构建,本节点支持的版本为 {supported}")
        }
        R::ForbiddenImport { import } => format!("组件导入了 {import},插件只能导入日志接口"),
        R::Conformance { hook, detail } => format!("钩子 {hook} 未通过一致性测试:{detail}"),
        R::MissingHook { hook } => format!("该插件未实现钩子 {hook}"),
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
        // Says that the document is registered, and nothing of the record that holds it.
        UniqueField::IdNumber => (
            "id_number_registered",
            "/id_number",
            "该证件已登记为志愿者",
            "this identity document is already registered",
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
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "not ready"),
            _ => {}
        }
        let problem = self.problem();
        let mut response = (self.status(), axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::TooManyAttempts {
            retry_after_seconds,
        } = self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}

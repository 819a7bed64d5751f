//! The pages' texts in each language the site speaks: Chinese first, English second. The
//! browser's choice (the `zhiyuan_lang` cookie, set by the language switch) wins over what
//! its Accept-Language header prefers; Chinese where neither says English.

use axum::http::HeaderMap;
use axum::http::header;

pub const COOKIE: &str = "zhiyuan_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(chosen) = zhiyuan_api::access::cookie(headers, COOKIE) {
            return Lang::parse(&chosen).unwrap_or(Lang::Zh);
        }
        let preferred = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(|first| first.trim().to_ascii_lowercase());
        match preferred {
            Some(first) if first.starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` attribute of a page.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The other language, which the switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// What a rule of the domain says, in this language: the same words as the API's.
    pub fn rule(self, rule: zhiyuan_domain::Rule) -> &'static str {
        match self {
            Lang::Zh => rule.message_zh(),
            Lang::En => rule.message_en(),
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

/// Every text a page shows, in one language.
pub struct Texts {
    pub site: &'static str,
    pub language_name: &'static str,
    pub skip_to_content: &'static str,
    pub home: &'static str,
    pub welcome: &'static str,
    pub cities: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub city: &'static str,
    pub node_account: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub bad_credentials: &'static str,
    pub too_many_attempts: &'static str,
    pub form_expired: &'static str,
    pub my_page: &'static str,
    pub volunteer_number: &'static str,
    pub name: &'static str,
    pub identity_document: &'static str,
    pub status: &'static str,
    pub no_volunteer_record: &'static str,
    pub my_card: &'static str,
    pub card_hint: &'static str,
    pub card_refresh: &'static str,
    pub card_not_verified: &'static str,
    pub card_qr_alt: &'static str,
    pub card_lapsed: &'static str,
    pub valid_until: &'static str,
    pub star_level: &'static str,
    pub stars: &'static str,
    pub not_found: &'static str,
    pub something_failed: &'static str,
    pub signed_in_as: &'static str,
    pub projects: &'static str,
    pub near_me: &'static str,
    pub near_me_hint: &'static str,
    pub location_failed: &'static str,
    pub soonest_first: &'static str,
    pub nearest_first: &'static str,
    pub no_projects: &'static str,
    pub when: &'static str,
    pub where_: &'static str,
    pub distance_km: &'static str,
    pub my_hours: &'static str,
    pub hours: &'static str,
    pub minutes: &'static str,
    pub entries: &'static str,
    pub date: &'static str,
    pub content: &'static str,
    pub replaced: &'static str,
    pub no_service_yet: &'static str,
    pub register: &'static str,
    pub register_intro: &'static str,
    pub id_kind: &'static str,
    pub id_number: &'static str,
    pub mobile: &'static str,
    pub region: &'static str,
    pub new_account: &'static str,
    pub username_taken: &'static str,
    pub already_registered: &'static str,
    pub form_has_errors: &'static str,
    pub id_kinds: [&'static str; 5],
}

pub static ZH: Texts = Texts {
    site: "志愿服务信息系统",
    language_name: "中文",
    skip_to_content: "跳到正文",
    home: "首页",
    welcome: "实名注册志愿者、查找志愿服务项目、扫码记录服务时长。",
    cities: "所在城市",
    sign_in: "登录",
    sign_out: "退出登录",
    city: "城市",
    node_account: "本节点账号（运营方、审计员）",
    username: "用户名",
    password: "密码",
    bad_credentials: "用户名或密码不正确。",
    too_many_attempts: "尝试次数过多，请稍后再试。",
    form_expired: "页面已过期，请重新提交。",
    my_page: "我的志愿服务",
    volunteer_number: "志愿者编号",
    name: "姓名",
    identity_document: "证件号码",
    status: "注册状态",
    no_volunteer_record: "此账号没有志愿者注册信息。",
    my_card: "我的志愿者证",
    card_hint: "服务时请出示此二维码，由项目扫码员扫描签到、签退。",
    card_refresh: "二维码每分钟更新一次，截图无效。",
    card_not_verified: "注册通过审核后才能使用志愿者证。",
    card_qr_alt: "志愿者证二维码",
    card_lapsed: "二维码已过期：请连接网络后刷新。",
    valid_until: "有效至",
    star_level: "星级",
    stars: "星",
    not_found: "找不到此页面。",
    something_failed: "出了点问题，请稍后再试。",
    signed_in_as: "已登录",
    projects: "志愿服务项目",
    near_me: "查找我附近的项目",
    near_me_hint: "需要浏览器允许获取位置；位置只用于这次查找，不会保存。",
    location_failed: "无法获取位置，仍按开始时间排列。",
    soonest_first: "按开始时间排列",
    nearest_first: "按距离排列",
    no_projects: "暂时没有正在招募的项目。",
    when: "时间",
    where_: "地点",
    distance_km: "公里",
    my_hours: "我的服务时长",
    hours: "小时",
    minutes: "分钟",
    entries: "服务记录",
    date: "日期",
    content: "服务内容",
    replaced: "已更正",
    no_service_yet: "还没有服务记录。",
    register: "志愿者实名注册",
    register_intro: "请如实填写本人证件信息，提交后由所在地文明办审核。",
    id_kind: "证件类型",
    id_number: "证件号码",
    mobile: "手机号码",
    region: "所在县市区",
    new_account: "登录账号",
    username_taken: "此用户名已被使用。",
    already_registered: "此证件已在本市注册。",
    form_has_errors: "提交的信息有误，请按提示修改：",
    id_kinds: [
        "居民身份证",
        "港澳居民来往内地通行证",
        "台湾居民来往大陆通行证",
        "护照",
        "外国人永久居留身份证",
    ],
};

pub static EN: Texts = Texts {
    site: "Volunteer Service",
    language_name: "English",
    skip_to_content: "Skip to content",
    home: "Home",
    welcome: "Register as a volunteer by real name, find projects, and have your service timed by scanning your card.",
    cities: "Cities",
    sign_in: "Sign in",
    sign_out: "Sign out",
    city: "City",
    node_account: "An account of this node (operators, auditors)",
    username: "Username",
    password: "Password",
    bad_credentials: "The username or the password is not right.",
    too_many_attempts: "Too many attempts; try again later.",
    form_expired: "The page had expired; please send it again.",
    my_page: "My volunteering",
    volunteer_number: "Volunteer number",
    name: "Name",
    identity_document: "Identity document",
    status: "Registration",
    no_volunteer_record: "This account has no volunteer registration.",
    my_card: "My volunteer card",
    card_hint: "Show this code when you serve; the project's scanner checks you in and out.",
    card_refresh: "The code changes every minute; a screenshot does not work.",
    card_not_verified: "The card works once your registration is verified.",
    card_qr_alt: "Volunteer card QR code",
    card_lapsed: "This code has lapsed: connect to the network and reload.",
    valid_until: "Valid until",
    star_level: "Star level",
    stars: "stars",
    not_found: "There is no such page.",
    something_failed: "Something went wrong; try again later.",
    signed_in_as: "Signed in as",
    projects: "Volunteer projects",
    near_me: "Find projects near me",
    near_me_hint: "Your browser asks to share your location; it is used for this search only and never kept.",
    location_failed: "Your location could not be read; projects stay in order of their start.",
    soonest_first: "Soonest first",
    nearest_first: "Nearest first",
    no_projects: "No project is recruiting at the moment.",
    when: "When",
    where_: "Where",
    distance_km: "km",
    my_hours: "My hours of service",
    hours: "hours",
    minutes: "minutes",
    entries: "Service records",
    date: "Date",
    content: "Service",
    replaced: "corrected",
    no_service_yet: "No service recorded yet.",
    register: "Register as a volunteer",
    register_intro: "Give your own identity document as it is; your district's civilisation office reviews the registration.",
    id_kind: "Identity document",
    id_number: "Document number",
    mobile: "Mobile number",
    region: "District or county",
    new_account: "Your account",
    username_taken: "This username is taken.",
    already_registered: "This document is registered in this city already.",
    form_has_errors: "Something you gave needs changing:",
    id_kinds: [
        "Resident identity card",
        "Mainland travel permit for Hong Kong and Macao residents",
        "Mainland travel permit for Taiwan residents",
        "Passport",
        "Foreign permanent resident ID card",
    ],
};

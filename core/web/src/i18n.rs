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
    pub valid_until: &'static str,
    pub star_level: &'static str,
    pub stars: &'static str,
    pub not_found: &'static str,
    pub something_failed: &'static str,
    pub signed_in_as: &'static str,
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
    valid_until: "有效至",
    star_level: "星级",
    stars: "星",
    not_found: "找不到此页面。",
    something_failed: "出了点问题，请稍后再试。",
    signed_in_as: "已登录",
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
    valid_until: "Valid until",
    star_level: "Star level",
    stars: "stars",
    not_found: "There is no such page.",
    something_failed: "Something went wrong; try again later.",
    signed_in_as: "Signed in as",
};

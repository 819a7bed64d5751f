//! What anyone may read: the home page with the cities, a city's projects, the language switch.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zhiyuan_api::AppState;
use zhiyuan_app::AppError;

use super::{City, Layout, Visit, cities, failure, shanghai};
use crate::i18n::Lang;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    cities: Vec<City>,
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let cities = cities(&state, lang).await?;
        Ok::<_, AppError>(visit.page(
            StatusCode::OK,
            &HomePage {
                l: visit.layout("/"),
                cities,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

/// A project as the list shows it.
pub struct ProjectItem {
    pub link: String,
    pub title: String,
    pub summary: String,
    pub address: String,
    pub starts: String,
    pub ends: String,
    /// Kilometres from the visitor, to a tenth, where they gave their place.
    pub distance_km: Option<String>,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    l: Layout,
    city: String,
    nearest: bool,
    location_failed: bool,
    projects: Vec<ProjectItem>,
}

#[derive(Deserialize)]
pub struct NearbyQuery {
    latitude: Option<String>,
    longitude: Option<String>,
    /// Set by the page's script when the browser would not give its place.
    located: Option<String>,
}

/// A city's projects taking sign-ups: soonest first, or nearest first from the place the
/// browser gave (WGS-84, as browsers give it), within the search's default radius.
pub async fn projects(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(near): Query<NearbyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let tenant = zhiyuan_domain::TenantCode::parse(&code).map_err(|_| AppError::NotFound)?;
        let city = cities(&state, lang)
            .await?
            .into_iter()
            .find(|city| city.code == code)
            .ok_or(AppError::NotFound)?;
        let nearest = near.latitude.is_some() && near.longitude.is_some();
        let search = zhiyuan_app::projects::ProjectSearch {
            latitude: near.latitude,
            longitude: near.longitude,
            sort: Some(if nearest {
                zhiyuan_app::projects::SearchOrder::Distance
            } else {
                zhiyuan_app::projects::SearchOrder::Start
            }),
            limit: Some(50),
            ..Default::default()
        };
        let found = match zhiyuan_app::projects::search(&state.app, &tenant, search).await {
            Ok(found) => found,
            // A place outside the country, or numbers that are none: the list by start.
            Err(AppError::Invalid(_)) => {
                return Ok(Redirect::to(&format!("/t/{code}/projects?located=no")).into_response());
            }
            Err(error) => return Err(error),
        };
        let projects = found
            .items
            .into_iter()
            .map(|project| ProjectItem {
                link: format!("/t/{code}/projects/{}", project.id),
                title: project.title,
                summary: project.summary,
                address: project.address,
                starts: shanghai(project.starts_at),
                ends: shanghai(project.ends_at),
                distance_km: project
                    .distance_m
                    .map(|metres| format!("{:.1}", f64::from(metres) / 1000.0)),
            })
            .collect();
        Ok(visit.page(
            StatusCode::OK,
            &ProjectsPage {
                l: visit.layout("/"),
                city: city.name,
                nearest,
                location_failed: near.located.as_deref() == Some("no"),
                projects,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[derive(Deserialize)]
pub struct LanguageChoice {
    to: String,
    back: Option<String>,
}

/// The language switch: remembered in a cookie, then back to the page it was used on (a path
/// of this site only).
pub async fn choose_language(
    State(state): State<AppState>,
    Query(choice): Query<LanguageChoice>,
) -> Response {
    let lang = Lang::parse(&choice.to).unwrap_or(Lang::Zh);
    let back = local_path(choice.back);
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        crate::i18n::COOKIE,
        lang.code()
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response()
}

/// A path of this site to go back to; anything else (another site, `//host`, a backslash a
/// browser reads as a slash) is the home page, so that the switch redirects nowhere else.
fn local_path(back: Option<String>) -> String {
    back.filter(|back| {
        back.starts_with('/')
            && !back.starts_with("//")
            && !back.contains('\\')
            && !back.chars().any(char::is_control)
    })
    .unwrap_or_else(|| "/".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_goes_back_only_to_a_page_of_this_site() {
        for (back, to) in [
            (Some("/me/card"), "/me/card"),
            (None, "/"),
            (Some("https://evil.example/"), "/"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example/"), "/"),
            (Some("/me\r\nSet-Cookie: x=1"), "/"),
        ] {
            assert_eq!(local_path(back.map(str::to_owned)), to, "{back:?}");
        }
    }
}

//! The city office's pages: the registration report against the targets, furthest behind
//! first, drawn as bars beside the figures they are drawn from.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use zhiyuan_api::AppState;
use zhiyuan_app::views::ReportLine;
use zhiyuan_domain::Action;

use super::{Layout, Visit, failure, to_sign_in};
use crate::i18n::Lang;

/// A line of the report as the page draws it.
pub struct Bar {
    pub name: String,
    pub verified: u64,
    pub denominator: u64,
    /// The ratio and the target in per cent, to two decimals.
    pub ratio: String,
    pub target: Option<String>,
    pub shortfall: u64,
    pub met: bool,
    /// The bar's length: progress toward the target, 0 to 100 (of the ratio itself where
    /// there is no target).
    pub progress: u32,
}

fn bar(line: ReportLine) -> Bar {
    let progress = match line.target {
        Some(target) if target > 0.0 => line.ratio / target,
        _ => line.ratio,
    };
    Bar {
        name: line.name,
        verified: line.verified,
        denominator: line.denominator,
        ratio: format!("{:.2}", line.ratio * 100.0),
        target: line.target.map(|target| format!("{:.2}", target * 100.0)),
        shortfall: line.shortfall,
        met: line.target.is_some() && line.shortfall == 0,
        progress: (progress.clamp(0.0, 1.0) * 100.0).round() as u32,
    }
}

/// Areas, or units, under their heading.
pub struct Section {
    pub heading: &'static str,
    pub bars: Vec<Bar>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    l: Layout,
    sections: [Section; 2],
}

/// The registration report of the signed-in account's city.
pub async fn report(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let Some((_, tenant)) = visit.allowed(Action::ReadRegistrationReport)? else {
            return Ok(to_sign_in());
        };
        let report = zhiyuan_app::stats::registration(&state.app, tenant).await?;
        let t = lang.texts();
        Ok(visit.page(
            StatusCode::OK,
            &ReportPage {
                l: visit.layout("/report"),
                sections: [
                    Section {
                        heading: t.report_regions,
                        bars: report.regions.into_iter().map(bar).collect(),
                    },
                    Section {
                        heading: t.report_units,
                        bars: report.units.into_iter().map(bar).collect(),
                    },
                ],
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(verified: u64, denominator: u64, target: Option<f64>, shortfall: u64) -> ReportLine {
        ReportLine {
            code: None,
            id: None,
            name: "曾都区".to_owned(),
            kind: None,
            civilisation_level: None,
            verified,
            denominator,
            ratio: verified as f64 / denominator as f64,
            target,
            shortfall,
        }
    }

    #[test]
    fn a_bar_is_the_progress_toward_the_target_and_never_longer() {
        let half = bar(line(65, 1000, Some(0.13), 65));
        assert_eq!(
            (half.progress, half.ratio.as_str(), half.met),
            (50, "6.50", false)
        );
        let beyond = bar(line(300, 1000, Some(0.13), 0));
        assert_eq!((beyond.progress, beyond.met), (100, true));
        let untargeted = bar(line(25, 100, None, 0));
        assert_eq!((untargeted.progress, untargeted.met), (25, false));
    }
}

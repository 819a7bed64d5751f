//! The node's page, for its operator and for anyone who checks it: each tenant's transparency
//! log as it stands, the peers' logs this node witnesses with any alarm, and, to the operator,
//! the messages waiting for each destination.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use zhiyuan_api::AppState;
use zhiyuan_domain::Action;

use super::{Layout, Visit, failure, shanghai};
use crate::i18n::Lang;

/// A tenant's log: its name, and the size and root hash of its latest checkpoint.
pub struct LogLine {
    pub name: String,
    pub origin: String,
    pub size: String,
    pub root: String,
}

/// A peer's log this node witnesses.
pub struct WitnessLine {
    pub origin: String,
    pub size: u64,
    pub checked: String,
    pub alarm: Option<String>,
}

/// The messages of one destination.
pub struct OutboxLine {
    pub destination: String,
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
}

#[derive(Template)]
#[template(path = "node.html")]
struct NodePage {
    l: Layout,
    logs: Vec<LogLine>,
    witnessed: Vec<WitnessLine>,
    /// Shown to the operator alone.
    outbox: Option<Vec<OutboxLine>>,
}

/// The origin, size and root hash a checkpoint's first three lines give (C2SP signed note).
fn checkpoint_lines(checkpoint: &str) -> (String, String, String) {
    let mut lines = checkpoint.lines();
    let mut next = || lines.next().unwrap_or_default().to_owned();
    let origin = next();
    let size = next();
    let root = next();
    (origin, size, root)
}

pub async fn node(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let page = async {
        let visit = Visit::read(&state, &headers).await?;
        let mut logs = Vec::new();
        for tenant in zhiyuan_app::tenants::list(&state.app).await? {
            let checkpoint = zhiyuan_app::log::checkpoint(&state.app, &tenant.code).await?;
            let (origin, size, root) = checkpoint_lines(&checkpoint);
            logs.push(LogLine {
                name: match lang {
                    Lang::En => tenant.name.en.unwrap_or(tenant.name.zh),
                    Lang::Zh => tenant.name.zh,
                },
                origin,
                size,
                root,
            });
        }
        let witnessed = zhiyuan_app::log::witnessed_logs(&state.app)
            .await?
            .into_iter()
            .map(|log| WitnessLine {
                origin: log.origin,
                size: log.size,
                checked: shanghai(log.checked_at),
                alarm: log.alarm,
            })
            .collect();
        let operator = visit
            .principal
            .as_ref()
            .is_some_and(|principal| principal.may(Action::ListOutbox, None));
        let outbox = if operator {
            Some(
                zhiyuan_app::transfers::outbox(&state.app)
                    .await?
                    .into_iter()
                    .map(|line| OutboxLine {
                        destination: line.destination,
                        pending: line.pending,
                        delivered: line.delivered,
                        dead: line.dead,
                    })
                    .collect(),
            )
        } else {
            None
        };
        Ok(visit.page(
            StatusCode::OK,
            &NodePage {
                l: visit.layout("/node"),
                logs,
                witnessed,
                outbox,
            },
        ))
    };
    page.await.unwrap_or_else(|error| failure(lang, &error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_gives_its_origin_size_and_root() {
        let note = "zhiyuan.example/421300\n12\nq6Yw6sDqZfZ8AqJrj0mVyXJ0hTmJwM4jv1b1N6o1a3A=\n\n— zhiyuan.example/421300 AbCd\n";
        assert_eq!(
            checkpoint_lines(note),
            (
                "zhiyuan.example/421300".to_owned(),
                "12".to_owned(),
                "q6Yw6sDqZfZ8AqJrj0mVyXJ0hTmJwM4jv1b1N6o1a3A=".to_owned()
            )
        );
        assert_eq!(
            checkpoint_lines(""),
            (String::new(), String::new(), String::new())
        );
    }
}

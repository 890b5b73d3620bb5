//! `GET /api/v1/usage?from=&to=`: the signed-in user's token usage by UTC day and by
//! provider and model, with their quota when one applies.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use lia_domain::ports::UsageRow;
use serde::Serialize;
use time::{Date, Duration};

use super::conversations::query;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::state::ApiState;

/// Days reported when `from` is not given (`to` and the 29 before it).
const DEFAULT_DAYS: i64 = 30;
/// The longest range one request may ask for.
const MAX_DAYS: i64 = 366;

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
struct Totals {
    prompt_tokens: u64,
    completion_tokens: u64,
    reasoning_tokens: u64,
    total_tokens: u64,
    turns: u64,
}

impl Totals {
    fn add(&mut self, row: &UsageRow) {
        self.prompt_tokens += row.prompt_tokens;
        self.completion_tokens += row.completion_tokens;
        self.reasoning_tokens += row.reasoning_tokens;
        self.total_tokens += row.total_tokens();
        self.turns += row.turns;
    }
}

#[derive(Debug, Serialize)]
struct DayTotals {
    day: String,
    #[serde(flatten)]
    totals: Totals,
}

#[derive(Debug, Serialize)]
struct ModelTotals {
    provider: String,
    model: String,
    #[serde(flatten)]
    totals: Totals,
}

#[derive(Debug, Serialize)]
struct Quota {
    daily_tokens: u64,
    remaining: u64,
    resets_at: String,
}

#[derive(Debug, Serialize)]
struct UsageResponse {
    from: String,
    to: String,
    total: Totals,
    by_day: Vec<DayTotals>,
    by_model: Vec<ModelTotals>,
    quota: Option<Quota>,
}

fn day(raw: &str, field: &'static str) -> Result<Date, ApiError> {
    Date::parse(raw.trim(), DAY)
        .map_err(|_| ApiError::invalid(field, "must be a date (YYYY-MM-DD)"))
}

fn format_day(day: Date) -> String {
    day.format(DAY).unwrap_or_default()
}

/// The range asked for: `to` defaults to today, `from` to 29 days before `to`.
fn range(request: &HttpRequest, today: Date) -> Result<(Date, Date), ApiError> {
    let query = query(request)?;
    let to = query
        .get("to")
        .map(|raw| day(raw, "to"))
        .transpose()?
        .unwrap_or(today);
    let from = match query.get("from") {
        Some(raw) => day(raw, "from")?,
        None => to - Duration::days(DEFAULT_DAYS - 1),
    };
    if from > to {
        return Err(ApiError::invalid("from", "must not be after to"));
    }
    if (to - from).whole_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "from",
            "the range may span at most 366 days",
        ));
    }
    Ok((from, to))
}

pub(super) async fn usage(
    request: HttpRequest,
    user: AuthUser,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let chat = super::chat::chat_service(&state)?;
    let (from, to) = range(&request, chat.today())?;
    let rows = chat
        .usage_between(user.0.id, from, to)
        .await
        .map_err(super::chat::chat_error)?;
    let quota = chat
        .quota(user.0.id)
        .await
        .map_err(super::chat::chat_error)?;
    let mut total = Totals::default();
    let mut by_day: BTreeMap<Date, Totals> = BTreeMap::new();
    let mut by_model: BTreeMap<(String, String), Totals> = BTreeMap::new();
    for row in &rows {
        total.add(row);
        by_day.entry(row.day).or_default().add(row);
        by_model
            .entry((row.provider.clone(), row.model.clone()))
            .or_default()
            .add(row);
    }
    Ok(HttpResponse::Ok().json(UsageResponse {
        from: format_day(from),
        to: format_day(to),
        total,
        by_day: by_day
            .into_iter()
            .map(|(day, totals)| DayTotals {
                day: format_day(day),
                totals,
            })
            .collect(),
        by_model: by_model
            .into_iter()
            .map(|((provider, model), totals)| ModelTotals {
                provider,
                model,
                totals,
            })
            .collect(),
        quota: quota.map(|status| Quota {
            daily_tokens: status.limit,
            remaining: status.remaining,
            resets_at: crate::wire::timestamp(status.resets_at),
        }),
    }))
}

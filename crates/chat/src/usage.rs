//! Tokens consumed by the turns of this process, by provider, model, kind and source, for
//! the `lia_llm_tokens_total` metric. Models outside the catalogue count under
//! `other`, so a client inventing model names cannot create unbounded series.

use std::collections::HashMap;
use std::sync::Mutex;

use lia_domain::TokenUsage;
use lia_llm::ProviderRegistry;

/// One series of `lia_llm_tokens_total`: provider, model, kind
/// (`prompt`, `completion`, `reasoning`) and source (`provider`, `estimated`).
pub type UsageSeries = (String, String, &'static str, &'static str);

/// Token counters.
#[derive(Debug, Default)]
pub struct UsageMeter {
    totals: Mutex<HashMap<UsageSeries, u64>>,
}

impl UsageMeter {
    /// Adds `usage` of a reply by `provider`'s `model`.
    pub(crate) fn record(
        &self,
        catalogue: &ProviderRegistry,
        provider: &str,
        model: &str,
        usage: &TokenUsage,
    ) {
        let catalogued = catalogue.offers(provider, model)
            || catalogue
                .catalogue()
                .values()
                .flatten()
                .any(|m| m.id == model);
        let model = if catalogued { model } else { "other" };
        let source = usage.source.as_str();
        let kinds = [
            ("prompt", Some(usage.prompt_tokens)),
            ("completion", Some(usage.completion_tokens)),
            ("reasoning", usage.reasoning_tokens),
        ];
        let Ok(mut totals) = self.totals.lock() else {
            return;
        };
        for (kind, tokens) in kinds {
            if let Some(tokens) = tokens {
                *totals
                    .entry((provider.to_owned(), model.to_owned(), kind, source))
                    .or_default() += u64::from(tokens);
            }
        }
    }

    /// Every series with its total, in no particular order.
    #[must_use]
    pub fn snapshot(&self) -> Vec<(UsageSeries, u64)> {
        self.totals.lock().map_or_else(
            |_| Vec::new(),
            |totals| totals.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        )
    }
}

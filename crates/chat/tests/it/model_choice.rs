//! Which provider and model a turn runs on, decided by the service rather than the handler.

use lia_chat::{ModelChoice, ModelChoiceError};
use lia_llm::LlmConfig;

use crate::support::chat_fixture;

#[tokio::test]
async fn absent_choices_fall_back_to_the_providers_first_model_then_the_default() {
    let fixture = chat_fixture(&LlmConfig::default()).await;
    let chat = &fixture.chat;
    let first_local = chat.llm().catalogue()["local"][0].id.clone();
    let expected = ModelChoice {
        provider: "local".into(),
        model: first_local,
    };
    assert_eq!(chat.choose_model(None, None), Ok(expected.clone()));
    assert_eq!(chat.choose_model(Some("local"), Some("  ")), Ok(expected));
    assert_eq!(
        chat.choose_model(Some("local"), Some("my-own-model")),
        Ok(ModelChoice {
            provider: "local".into(),
            model: "my-own-model".into()
        }),
        "a model the client names is kept"
    );
}

#[tokio::test]
async fn an_unknown_provider_or_a_malformed_model_names_the_field() {
    let fixture = chat_fixture(&LlmConfig::default()).await;
    let chat = &fixture.chat;
    let refused = chat.choose_model(Some("no-such-provider"), None);
    assert!(
        matches!(
            refused,
            Err(ModelChoiceError {
                field: "provider",
                ..
            })
        ),
        "{refused:?}"
    );
    let refused = chat.choose_model(Some("local"), Some("bad model\nname"));
    assert!(
        matches!(refused, Err(ModelChoiceError { field: "model", .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn with_strict_models_only_offered_models_are_accepted() {
    let llm = LlmConfig {
        strict_models: true,
        ..LlmConfig::default()
    };
    let fixture = chat_fixture(&llm).await;
    let chat = &fixture.chat;
    let offered = chat.llm().catalogue()["local"][0].id.clone();
    assert!(chat.choose_model(Some("local"), Some(&offered)).is_ok());
    let refused = chat.choose_model(Some("local"), Some("not-offered"));
    assert_eq!(
        refused,
        Err(ModelChoiceError {
            field: "model",
            reason: "is not offered by this provider"
        })
    );
}

//! The chat request as it arrives, and its conversion into what the chat service takes.

use lia_chat::GenerationSettings;
use serde::Deserialize;

use crate::error::ApiError;

/// The body of `POST /chat/stream`, in either of the frontend's formats: `message`, or the
/// AI SDK's message list.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamRequest {
    pub(crate) message: Option<String>,
    pub(crate) messages: Option<Vec<SdkMessage>>,
    pub(crate) conversation_id: Option<String>,
    pub(crate) provider: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) sentiment_method: Option<String>,
    pub(crate) model_settings: Option<ModelSettings>,
}

/// One item of the AI SDK's message list.
#[derive(Debug, Deserialize)]
pub(crate) struct SdkMessage {
    role: String,
    #[serde(default)]
    parts: Vec<SdkPart>,
}

/// One part of an AI SDK message; only `text` parts carry the user's words.
#[derive(Debug, Deserialize)]
pub(crate) struct SdkPart {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

/// `model_settings`: each absent value takes the default.
#[derive(Debug, Deserialize)]
pub(crate) struct ModelSettings {
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    top_p: Option<f32>,
    frequency_penalty: Option<f32>,
    presence_penalty: Option<f32>,
}

/// At most this many AI-SDK messages are accepted.
pub(crate) const MAX_SDK_MESSAGES: usize = 50;

impl StreamRequest {
    /// The user's text: `message` when non-empty, else the text parts of the last user item.
    pub(crate) fn text(&self) -> Result<String, ApiError> {
        if let Some(message) = self.message.as_ref().filter(|m| !m.is_empty()) {
            return Ok(message.clone());
        }
        let last_user = self
            .messages
            .as_deref()
            .unwrap_or_default()
            .iter()
            .rev()
            .find(|m| m.role == "user");
        let text = last_user.map(|m| {
            m.parts
                .iter()
                .filter(|p| p.kind == "text")
                .filter_map(|p| p.text.as_deref())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        });
        match text {
            Some(text) if !text.is_empty() => Ok(text),
            _ => Err(ApiError::BadRequest("No message content provided".into())),
        }
    }

    /// The generation settings asked for, validated.
    pub(crate) fn settings(&self) -> Result<GenerationSettings, ApiError> {
        self.model_settings.as_ref().map_or_else(
            || Ok(GenerationSettings::default()),
            GenerationSettings::try_from,
        )
    }
}

impl TryFrom<&ModelSettings> for GenerationSettings {
    type Error = ApiError;

    /// The given values over the defaults, refused with the field at fault when out of range.
    fn try_from(given: &ModelSettings) -> Result<Self, ApiError> {
        let defaults = GenerationSettings::default();
        let settings = GenerationSettings {
            temperature: given.temperature.unwrap_or(defaults.temperature),
            max_tokens: given.max_tokens.unwrap_or(defaults.max_tokens),
            top_p: given.top_p.unwrap_or(defaults.top_p),
            frequency_penalty: given
                .frequency_penalty
                .unwrap_or(defaults.frequency_penalty),
            presence_penalty: given.presence_penalty.unwrap_or(defaults.presence_penalty),
        };
        settings.validate().map_err(|error| {
            let text = error.to_string();
            let field = [
                "temperature",
                "max_tokens",
                "top_p",
                "frequency_penalty",
                "presence_penalty",
            ]
            .into_iter()
            .find(|f| text.contains(f))
            .unwrap_or("model_settings");
            ApiError::invalid(
                field,
                text.trim_start_matches("invalid request: ")
                    .trim_start_matches(field)
                    .trim(),
            )
        })?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: serde_json::Value) -> StreamRequest {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn the_text_is_the_message_or_the_last_user_items_text_parts() {
        let plain = request(serde_json::json!({"message": "hello"}));
        assert_eq!(plain.text().unwrap(), "hello");
        let sdk = request(serde_json::json!({"messages": [
            {"role": "user", "parts": [{"type": "text", "text": "first"}]},
            {"role": "assistant", "parts": [{"type": "text", "text": "reply"}]},
            {"role": "user", "parts": [
                {"type": "text", "text": "second"}, {"type": "file"}, {"type": "text", "text": "part"}
            ]}
        ]}));
        assert_eq!(sdk.text().unwrap(), "second part");
        let empty = request(serde_json::json!({"message": "", "messages": []}));
        assert!(matches!(empty.text(), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn settings_take_the_defaults_and_refuse_naming_the_field() {
        let none = request(serde_json::json!({"message": "x"}));
        assert_eq!(none.settings().unwrap(), GenerationSettings::default());
        let some = request(serde_json::json!({"model_settings": {"max_tokens": 64}}));
        let settings = some.settings().unwrap();
        assert_eq!(settings.max_tokens, 64);
        assert_eq!(
            settings.temperature,
            GenerationSettings::default().temperature
        );
        let hot = request(serde_json::json!({"model_settings": {"temperature": 50.0}}));
        let Err(ApiError::Validation(problems)) = hot.settings() else {
            panic!("expected a validation error")
        };
        assert_eq!(problems[0].field, "temperature");
    }
}

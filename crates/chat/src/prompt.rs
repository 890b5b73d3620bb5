//! The system prompt: the "Lia" persona, plus the structured-mode block. The user's text is
//! never pasted into the system prompt (the reference did, inviting prompt injection); the
//! model rates "the user's latest message", which it receives as a normal user turn.

/// The built-in persona.
pub const PERSONA: &str = "You are Lia, a helpful and friendly assistant.

Personality: warm, conversational and professional; curious; clear and concise; honest about \
the limits of what you know.

Guidelines: use Markdown when it helps; put a language tag on every code block; break complex \
topics into parts; refer to earlier context when relevant; ask a clarifying question when a \
request is ambiguous.

Tone: match the user's formality; encourage without condescending; light humour when it fits.";

/// Appended in structured mode: the reply's shape, from the protocol's owner.
pub const STRUCTURED: &str = lia_sentiment::structured::INSTRUCTIONS;

/// The system prompt for a turn.
#[must_use]
pub fn system_prompt(persona: Option<&str>, structured: bool) -> String {
    let persona = persona.unwrap_or(PERSONA);
    if structured {
        format!("{persona}\n\n{STRUCTURED}")
    } else {
        persona.to_owned()
    }
}

//! The binary's configuration behaviour: `--print-config` masks secrets, invalid values exit
//! with status 2 naming the key.

use std::process::Command;

fn server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lia-server"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn print_config_shows_the_effective_settings_with_secrets_masked() {
    let output = server()
        .arg("--print-config")
        .env("JWT_SECRET", "a-very-secret-value-that-is-long-enough")
        .env("DATABASE_URL", "postgres://lia:hunter2@db.example/lia")
        .env("LIA__SERVER__PORT", "9123")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let settings: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(settings["server"]["port"], 9123);
    assert_eq!(
        settings["database"]["database_url"],
        "postgres://lia:***@db.example/lia"
    );
    assert_eq!(settings["auth"]["jwt_secret"], "***");
    assert!(!text.contains("hunter2") && !text.contains("a-very-secret-value"));
}

#[test]
fn invalid_configuration_exits_with_status_2_naming_the_key() {
    let output = server()
        .env("LIA__SERVER__PORT", "eighty")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("server.port"));
    let output = server()
        .env("LIA__APP__ENV", "production")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("jwt_secret"));
}

const JWT: &str = "a-very-secret-value-that-is-long-enough";

#[test]
fn production_refuses_an_unprotected_metrics_endpoint() {
    let output = server()
        .env("LIA__APP__ENV", "production")
        .env("JWT_SECRET", JWT)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("METRICS_TOKEN") && stderr.contains("metrics.listen"),
        "{stderr}"
    );
}

#[test]
fn production_refuses_a_catalogued_provider_without_its_key() {
    let output = server()
        .env("LIA__APP__ENV", "production")
        .env("JWT_SECRET", JWT)
        .env("METRICS_TOKEN", "metrics-token-0123456789")
        .env("OPENAI_API_KEY", "sk-configured")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("GEMINI_API_KEY"), "{stderr}");
    assert!(!stderr.contains("sk-configured"), "{stderr}");
}

#[test]
fn print_config_holds_no_credential_of_any_kind() {
    let secrets = [
        ("JWT_SECRET", JWT),
        (
            "DATABASE_URL",
            "postgres://lia:pg-password-1@db.example/lia",
        ),
        (
            "REDIS_URL",
            "rediss://default:redis-password-2@cache.example:6380",
        ),
        ("OPENAI_API_KEY", "sk-openai-key-3"),
        ("GEMINI_API_KEY", "gemini-key-4"),
        ("METRICS_TOKEN", "metrics-token-5-long-enough"),
    ];
    let mut command = server();
    command.arg("--print-config");
    for (name, value) in secrets {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "a-very-secret",
        "pg-password-1",
        "redis-password-2",
        "sk-openai-key-3",
        "gemini-key-4",
        "metrics-token-5",
    ] {
        assert!(!text.contains(needle), "{needle} printed in\n{text}");
    }
    let settings: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        settings["cache"]["redis_url"],
        "rediss://default:***@cache.example:6380"
    );
    assert_eq!(settings["llm"]["openai"]["api_key"], "***");
}

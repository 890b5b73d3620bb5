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

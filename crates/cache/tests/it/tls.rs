//! `rediss://` is TLS with verified certificates: against a private `redis-server` with a
//! self-signed certificate, a connection that trusts that certificate works, one that does
//! not (the system's roots) fails, and plain `redis://` to the TLS port gets nowhere.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use lia_cache::{CacheConfig, CacheStats, RedisConnection};

struct TlsRedis {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` speaking only TLS, or `None` (saying so) without `redis-server` or
/// `openssl` on this machine.
fn tls_redis() -> Option<TlsRedis> {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    // A private CA, and a certificate for 127.0.0.1 it signs (certificate verification
    // refuses a CA certificate used as the server's own).
    let steps: [Vec<String>; 3] = [
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=Lia test CA",
            "-keyout",
            &path("ca-key.pem"),
            "-out",
            &path("ca.pem"),
        ]
        .map(String::from)
        .to_vec(),
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &path("key.pem"),
            "-out",
            &path("server.csr"),
        ]
        .map(String::from)
        .to_vec(),
        [
            "x509",
            "-req",
            "-in",
            &path("server.csr"),
            "-CA",
            &path("ca.pem"),
            "-CAkey",
            &path("ca-key.pem"),
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            &path("cert.pem"),
            "-extfile",
            &path("san.cnf"),
        ]
        .map(String::from)
        .to_vec(),
    ];
    std::fs::write(path("san.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    for step in steps {
        let made = Command::new("openssl")
            .args(&step)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !made.is_ok_and(|s| s.success()) {
            println!("skipping: openssl cannot make test certificates here");
            return None;
        }
    }
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--tls-ca-cert-file")
        .arg(dir.path().join("ca.pem"))
        .args([
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        println!("skipping: no redis-server here");
        return None;
    };
    Some(TlsRedis { child, port, dir })
}

async fn connect(url: &str, ca_file: Option<String>) -> RedisConnection {
    let config = CacheConfig {
        redis_tls_ca_file: ca_file,
        command_timeout_ms: 500,
        ..CacheConfig::default()
    };
    RedisConnection::connect(
        url,
        &config,
        Arc::new(CacheStats::default()),
        Duration::from_secs(2),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn rediss_verifies_the_certificate_and_never_falls_back_to_plaintext() {
    let Some(redis) = tls_redis() else {
        return;
    };
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let ca = redis.dir.path().join("ca.pem").display().to_string();
    // The server takes a moment to listen: the trusted connection waits for it.
    let trusted = connect(&url, Some(ca)).await;
    let mut answered = false;
    for _ in 0..100 {
        if trusted.ping().await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "TLS with the trusted certificate answers");

    let untrusted = connect(&url, None).await;
    assert!(
        untrusted.ping().await.is_err(),
        "a self-signed certificate the system does not trust is refused"
    );
    let plaintext = connect(&format!("redis://127.0.0.1:{}", redis.port), None).await;
    assert!(
        plaintext.ping().await.is_err(),
        "no plaintext to the TLS port"
    );
    let mismatch = RedisConnection::connect(
        &format!("redis://127.0.0.1:{}", redis.port),
        &CacheConfig {
            redis_tls_ca_file: Some("/nonexistent.pem".into()),
            ..CacheConfig::default()
        },
        Arc::new(CacheStats::default()),
        Duration::from_millis(100),
    )
    .await;
    assert!(
        mismatch.is_err(),
        "a CA file with a plain URL is a setup error"
    );
}

//! `lia-server`: reads the configuration (defaults < `lia.toml` < environment), builds every
//! service once and serves until SIGINT/SIGTERM, then drains and exits 0. `--print-config`
//! prints the effective configuration with secrets masked. A start-up failure prints one
//! line and exits with the status of its cause (see `errors.rs`: 2 configuration, 3 bind,
//! 4 database, 5 Redis when required, 1 anything else; 130 after a second signal).

use std::process::ExitCode;

use lia_server::{Application, Settings, StartupError, Stopped, telemetry};

/// mimalloc instead of the system allocator: the turn path allocates many small, short-lived
/// buffers from several threads, where glibc's per-thread arenas cost more CPU per turn and
/// hold on to freed memory (RSS that grows with uptime). Built without transparent huge
/// pages (`no_thp`): with them, a touched byte can make 2 MiB resident, which costs more
/// memory per open stream than the stream itself.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// jemalloc, built only to be measured against mimalloc and glibc (`cargo xtask bench` with
/// `LIA_BENCH_ALLOCATOR=jemalloc`).
#[cfg(all(feature = "jemalloc", not(feature = "mimalloc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let settings = match Settings::load(&env) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("lia-server: {error}");
            return ExitCode::from(2);
        }
    };
    if std::env::args().any(|arg| arg == "--print-config") {
        match serde_json::to_string_pretty(&settings.masked()) {
            Ok(text) => println!("{text}"),
            Err(error) => eprintln!("lia-server: {error}"),
        }
        return ExitCode::SUCCESS;
    }
    // The composition root picks the process's TLS stack, once: ring, which every client in
    // the binary (database, Redis, the trace exporter) then shares. The LLM and sentiment
    // clients carry their own configuration; an error only says a provider is already
    // installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let telemetry = telemetry::init(&settings.app, &env);
    let outcome = actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).await?;
        application
            .run_until_stopped()
            .await
            .map_err(StartupError::other)
    });
    telemetry.shutdown();
    match outcome {
        Ok(Stopped::Gracefully) => ExitCode::SUCCESS,
        Ok(Stopped::Forced) => ExitCode::from(FORCED_EXIT),
        Err(error) => {
            eprintln!("lia-server: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// The status of an exit cut short by a second signal (128 + SIGINT, as shells report it).
const FORCED_EXIT: u8 = 130;

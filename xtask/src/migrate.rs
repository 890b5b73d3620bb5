//! `cargo xtask migrate up [N] | down [N] | status | fresh`.

use anyhow::{Context, Result, bail};
use lia_migration::{Migrator, MigratorTrait};
use lia_store::StoreConfig;

pub(crate) async fn run(config: &StoreConfig, args: &[String]) -> Result<()> {
    let connection = lia_store::connect(config).await?;
    let steps = || -> Result<Option<u32>> {
        args.get(1)
            .map(|n| n.parse().context("the step count must be a number"))
            .transpose()
    };
    match args.first().map(String::as_str) {
        Some("up") => Migrator::up(&connection, steps()?).await?,
        Some("down") => Migrator::down(&connection, Some(steps()?.unwrap_or(1))).await?,
        Some("fresh") => Migrator::fresh(&connection).await?,
        Some("status") => {
            for migration in Migrator::get_migration_with_status(&connection).await? {
                println!("{:?}\t{}", migration.status(), migration.name());
            }
        }
        _ => bail!("usage: cargo xtask migrate up [N] | down [N] | status | fresh"),
    }
    println!("database: {}", config.masked_url());
    Ok(())
}

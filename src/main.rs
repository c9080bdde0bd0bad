//! `cep`: France compétences' regulation service for the CEP framework agreement.

mod config;
mod demo;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use config::Settings;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "cep",
    version,
    about = "CEP regulation service (France compétences)"
)]
struct Cli {
    /// Configuration file (TOML). Default: $CEP_CONFIG, else ./cep.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations (the service also does this on start).
    Migrate,
    /// Print the effective configuration, secrets masked, and where each part came from.
    Config,
    /// Run the demonstration end to end on an embedded SQLite database under DATA_DIR/demo.
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let (settings, sources) = Settings::load(cli.config.as_deref(), &|k| std::env::var(k).ok())?;
    init_tracing(&settings.log.filter)?;
    match cli.command {
        Command::Migrate => {
            let url = settings.database_url()?;
            let store = cep_store::Store::open(&url, 1)
                .with_context(|| format!("opening {}", url.masked()))?;
            let applied = store.migrate()?;
            if applied.is_empty() {
                println!("{}: schema is up to date", url.masked());
            } else {
                println!(
                    "{}: applied {} migration(s): {}",
                    url.masked(),
                    applied.len(),
                    applied.join(", ")
                );
            }
            Ok(())
        }
        Command::Config => {
            print!("{}", settings.to_masked_toml());
            println!();
            match &sources.file {
                Some(f) => println!("# file: {}", f.display()),
                None => println!("# file: none (defaults)"),
            }
            if !sources.env.is_empty() {
                println!("# environment: {}", sources.env.join(", "));
            }
            Ok(())
        }
        Command::Demo => demo::run(&settings),
    }
}

fn init_tracing(filter: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter {filter:?}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    Ok(())
}

//! Running the `cep` binary in the end-to-end tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// `cep ARGS` with its own data directory, the embedded database and no configuration file.
pub fn cep(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cep"))
        .env("CEP_DATA_DIR", data)
        .env_remove("CEP_DATABASE_URL")
        .env_remove("CEP_CONFIG")
        .env("CEP_LOG", "warn")
        .args(args)
        .output()
        .expect("cep runs")
}

//! Typed configuration: defaults, then a TOML file, then `CEP_*` environment variables.
//!
//! ```toml
//! data_dir = "cep-data"            # where the embedded database, inbox, archive and outputs live
//! [database]
//! url = "postgres://cep:secret@db/cep"   # or sqlite://relative/path.db, sqlite:///abs/path.db
//! pool_size = 8
//! [log]
//! filter = "info"                   # tracing filter, e.g. "info,cep_store=debug"
//! ```
//!
//! Environment overrides: `CEP_DATA_DIR`, `CEP_DATABASE_URL`, `CEP_DATABASE_POOL_SIZE`,
//! `CEP_LOG`. The configuration file is `--config FILE`, else `CEP_CONFIG`, else `cep.toml`
//! in the working directory when it exists.

use crate::{Context, Result, bail, invalid};
use cep_store::DatabaseUrl;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where the embedded database, the inbox, the archive and the outputs live.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub billing: BillingSettings,
    pub api: ApiSettings,
    pub reports: ReportSettings,
    pub retention: RetentionSettings,
    /// `[[pull]]`: the operators whose feed the daily job pulls from their endpoint (spec §1).
    #[serde(rename = "pull")]
    pub pulls: Vec<PullSettings>,
}

/// One `[[pull]]` table: a lot whose operator exposes `GET {url}/cep/v1/dossiers?since=…`
/// (spec §1, point 29). The bearer token is never written in the file: it is read from the
/// environment variable named by `token_env` when the pull runs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSettings {
    pub lot: String,
    pub url: String,
    pub token_env: String,
    /// Whole-request timeout.
    #[serde(default = "default_pull_timeout")]
    pub timeout_seconds: u64,
    /// Attempts per page after the first, with a doubling wait from 2 s.
    #[serde(default = "default_pull_retries")]
    pub retries: u32,
}

fn default_pull_timeout() -> u64 {
    60
}

fn default_pull_retries() -> u32 {
    4
}

impl PullSettings {
    /// A pull with the default timeout and retries.
    pub fn new(lot: cep_domain::Lot, url: String, token_env: &str) -> PullSettings {
        PullSettings {
            lot: lot.to_string(),
            url,
            token_env: token_env.to_owned(),
            timeout_seconds: default_pull_timeout(),
            retries: default_pull_retries(),
        }
    }

    /// The lot, checked.
    pub fn lot(&self) -> Result<cep_domain::Lot> {
        cep_domain::Lot::parse(&self.lot)
            .map_err(|e| invalid!("[[pull]] lot = {:?}: {e}", self.lot))
    }

    /// The client's configuration, with the token read from `token_env` now.
    pub fn config(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<cep_ingest::pull::PullConfig> {
        let token = env(&self.token_env)
            .filter(|t| !t.is_empty())
            .with_context(|| {
                format!(
                    "the bearer token of lot {} is read from ${}, which is not set",
                    self.lot, self.token_env
                )
            })?;
        let mut c = cep_ingest::pull::PullConfig::new(self.lot()?, self.url.clone(), token);
        c.timeout = std::time::Duration::from_secs(self.timeout_seconds);
        c.retries = self.retries;
        Ok(c)
    }
}

/// `[retention]` (RGPD): how long personal data and raw files are kept (issue 10).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// A person's identity is erased this many months after their latest fiche.
    pub personal_data_months: u32,
    /// Raw files (and quarantined lines, anomaly messages) are erased this many months after
    /// their reception.
    pub raw_files_months: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            personal_data_months: 36,
            raw_files_months: 36,
        }
    }
}

/// `[reports]`: the scheduler of `cep serve` (times in Europe/Paris) and e-mail delivery
/// (issue 9).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// Run the scheduler inside `cep serve`.
    pub schedule: bool,
    /// First month the scheduler produces documents for (`AAAA-MM`); earlier periods are never
    /// caught up.
    pub start: String,
    /// Hour of the scheduled runs, Paris time.
    pub hour: u32,
    /// Day of the month when the previous month's indicators and documents are made.
    pub monthly_day: u32,
    /// Day of the month after a quarter when its statements are issued.
    pub quarterly_day: u32,
    /// Day of January and July when the previous half-year's quality reviews are made.
    pub half_yearly_day: u32,
    /// Day of January when the previous year's steering and regulation files are made.
    pub yearly_day: u32,
    /// Hour of the daily inbox sweep and pulls, Paris time.
    pub sweep_hour: u32,
    /// A failed job is tried again on the first tick this many minutes after its failure.
    pub retry_minutes: u32,
    /// The SMTP server (none: documents are stored, not mailed).
    pub smtp: Option<SmtpConfig>,
    /// Who receives which documents.
    pub recipients: Vec<cep_reports::publish::Recipients>,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            schedule: true,
            start: "2025-01".into(),
            hour: 6,
            monthly_day: 5,
            quarterly_day: 10,
            half_yearly_day: 15,
            yearly_day: 20,
            sweep_hour: 2,
            retry_minutes: 30,
            smtp: None,
            recipients: vec![],
        }
    }
}

/// `[reports.smtp]`. The password may come from `CEP_SMTP_PASSWORD`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (default), `tls` (implicit) or `none` (a relay on the same host only).
    #[serde(default)]
    pub security: cep_reports::mail::Security,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    pub from: String,
    #[serde(default = "default_smtp_timeout")]
    pub timeout_seconds: u64,
    /// A PEM certificate to trust besides the public roots (a relay with a private CA).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

impl ReportSettings {
    /// `start` as a month.
    pub fn start_month(&self) -> Result<cep_domain::YearMonth> {
        self.start
            .parse()
            .map_err(|e| invalid!("[reports] start = {:?}: {e}", self.start))
    }
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_timeout() -> u64 {
    30
}

impl SmtpConfig {
    pub fn settings(&self) -> cep_reports::mail::SmtpSettings {
        cep_reports::mail::SmtpSettings {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            username: self.username.clone(),
            password: self.password.clone(),
            from: self.from.clone(),
            timeout_seconds: self.timeout_seconds,
            ca_file: self.ca_file.clone(),
        }
    }
}

/// `[api]`: `cep serve` (issue 8). The JWT secret has no default: `CEP_API_JWT_SECRET` or
/// `jwt_secret` (32 bytes at least).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    pub bind: String,
    pub issuer: String,
    pub audience: String,
    pub jwt_secret: String,
    pub token_ttl_seconds: u64,
    pub max_body_bytes: usize,
    pub max_failed_logins: i32,
    pub lockout_minutes: i64,
    /// An external OpenID Connect provider (empty: local issuer only). Its RS256 tokens must
    /// carry `role` (and `lot` for operators) claims.
    pub oidc_jwks_url: String,
    pub oidc_issuer: String,
    pub oidc_audience: String,
    /// Requests per second per client address (0: no limit) and the burst allowed at once.
    pub rate_limit_per_second: f64,
    pub rate_limit_burst: f64,
    /// Seconds a token's checks (revoked, account disabled) and the list of runs are trusted
    /// in memory; changes made through the API apply at once, others within this delay.
    pub cache_seconds: u64,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            bind: "127.0.0.1:8080".into(),
            issuer: "cep".into(),
            audience: "cep-api".into(),
            jwt_secret: String::new(),
            token_ttl_seconds: 900,
            max_body_bytes: 32 << 20,
            max_failed_logins: 5,
            lockout_minutes: 15,
            oidc_jwks_url: String::new(),
            oidc_issuer: String::new(),
            oidc_audience: "cep-api".into(),
            rate_limit_per_second: 50.0,
            rate_limit_burst: 100.0,
            cache_seconds: 5,
        }
    }
}

/// `[billing]`: the CCAP's billing choices (not in the CCTP); defaults documented in README.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingSettings {
    /// Abandonments are billable.
    pub bill_abandonments: bool,
    /// Units flagged CONCURRENT_CEP are held back until reviewed.
    pub hold_concurrent: bool,
    /// `[billing.bonus]`: the quality bonus scheme (CCAP article 16.2).
    pub bonus: BonusSettings,
}

/// The quality bonus scheme, rates in basis points (8000 = 80 %, 150 = 1.5 %).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BonusSettings {
    pub version: String,
    pub min_answers: u32,
    pub use_wilson: bool,
    pub tiers: Vec<TierSettings>,
    /// Work units (`01`, `2.1`, `2.2`, `00`) whose billed amount is the base.
    pub base_work_units: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    pub min_rate_bp: u32,
    pub bonus_bp: u32,
}

impl Default for BonusSettings {
    fn default() -> Self {
        let d = cep_billing::bonus::BonusScheme::default();
        BonusSettings {
            version: d.version,
            min_answers: d.min_answers,
            use_wilson: d.use_wilson,
            tiers: d
                .tiers
                .iter()
                .map(|t| TierSettings {
                    min_rate_bp: t.min_rate_bp,
                    bonus_bp: t.bonus_bp,
                })
                .collect(),
            base_work_units: d
                .base_work_units
                .iter()
                .map(|u| u.column_code().to_owned())
                .collect(),
        }
    }
}

impl BillingSettings {
    pub fn rules(&self) -> cep_domain::billable::BillingRules {
        cep_domain::billable::BillingRules {
            bill_abandonments: self.bill_abandonments,
            hold_concurrent: self.hold_concurrent,
        }
    }

    /// The bonus scheme, checked.
    pub fn scheme(&self) -> Result<cep_billing::bonus::BonusScheme> {
        let b = &self.bonus;
        let mut units = Vec::new();
        for u in &b.base_work_units {
            units.push(cep_domain::WorkUnit::from_column_code(u).map_err(|_| {
                invalid!("[billing.bonus] base_work_units: {u:?} is not 00, 01, 2.1 or 2.2")
            })?);
        }
        if let Some(t) = b.tiers.iter().find(|t| t.min_rate_bp > 10_000) {
            bail!(
                "[billing.bonus] tiers: min_rate_bp {} is over 10000 (100 %)",
                t.min_rate_bp
            );
        }
        Ok(cep_billing::bonus::BonusScheme {
            version: b.version.clone(),
            min_answers: b.min_answers,
            use_wilson: b.use_wilson,
            tiers: b
                .tiers
                .iter()
                .map(|t| cep_billing::bonus::Tier {
                    min_rate_bp: t.min_rate_bp,
                    bonus_bp: t.bonus_bp,
                })
                .collect(),
            base_work_units: units,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `postgres://…`, `sqlite://relative/path.db` or `sqlite:///absolute/path.db`; empty means
    /// the embedded SQLite file `{data_dir}/cep.db`.
    pub url: String,
    pub pool_size: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("cep-data"),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            billing: BillingSettings::default(),
            api: ApiSettings::default(),
            reports: ReportSettings::default(),
            retention: RetentionSettings::default(),
            pulls: vec![],
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: String::new(),
            pool_size: 8,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            filter: "info".into(),
        }
    }
}

/// Where the settings came from, for `cep config`.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub file: Option<PathBuf>,
    pub env: Vec<&'static str>,
}

impl Settings {
    /// Loads the configuration: defaults, the file (explicit, `CEP_CONFIG` or `./cep.toml`),
    /// then the environment.
    pub fn load(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Settings, Sources)> {
        let mut sources = Sources::default();
        let file = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => env("CEP_CONFIG").map(PathBuf::from).or_else(|| {
                let p = PathBuf::from("cep.toml");
                p.exists().then_some(p)
            }),
        };
        let mut settings = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read the configuration file {}", path.display())
                })?;
                toml::from_str(&text)
                    .with_context(|| format!("invalid configuration file {}", path.display()))?
            }
            None => Settings::default(),
        };
        sources.file = file;
        if let Some(v) = env("CEP_DATA_DIR") {
            settings.data_dir = PathBuf::from(v);
            sources.env.push("CEP_DATA_DIR");
        }
        if let Some(v) = env("CEP_DATABASE_URL") {
            settings.database.url = v;
            sources.env.push("CEP_DATABASE_URL");
        }
        if let Some(v) = env("CEP_DATABASE_POOL_SIZE") {
            settings.database.pool_size = v.parse().with_context(|| {
                format!("CEP_DATABASE_POOL_SIZE must be a positive integer, got {v:?}")
            })?;
            sources.env.push("CEP_DATABASE_POOL_SIZE");
        }
        if let Some(v) = env("CEP_API_JWT_SECRET") {
            settings.api.jwt_secret = v;
            sources.env.push("CEP_API_JWT_SECRET");
        }
        if let Some(v) = env("CEP_SMTP_PASSWORD")
            && let Some(smtp) = settings.reports.smtp.as_mut()
        {
            smtp.password = v;
            sources.env.push("CEP_SMTP_PASSWORD");
        }
        if let Some(v) = env("CEP_API_BIND") {
            settings.api.bind = v;
            sources.env.push("CEP_API_BIND");
        }
        if let Some(v) = env("CEP_LOG") {
            settings.log.filter = v;
            sources.env.push("CEP_LOG");
        }
        if settings.database.pool_size == 0 {
            bail!("database.pool_size must be at least 1");
        }
        // Checked now, not when a job first needs them.
        settings.billing.scheme()?;
        crate::schedule::Schedule::of(&settings)?;
        let mut pulled = std::collections::BTreeSet::new();
        for p in &settings.pulls {
            let lot = p.lot()?;
            if !pulled.insert(lot) {
                bail!("[[pull]]: lot {lot} is configured twice");
            }
            if !(p.url.starts_with("https://") || p.url.starts_with("http://")) {
                bail!(
                    "[[pull]] lot {lot}: url must start with https:// (or http://), got {:?}",
                    p.url
                );
            }
            if p.token_env.is_empty() {
                bail!(
                    "[[pull]] lot {lot}: token_env must name the environment variable holding the bearer token"
                );
            }
        }
        settings.database_url()?;
        Ok((settings, sources))
    }

    /// The database to use: the configured URL, or the embedded SQLite file under `data_dir`.
    pub fn database_url(&self) -> Result<DatabaseUrl> {
        if self.database.url.is_empty() {
            Ok(DatabaseUrl::Sqlite(self.data_dir.join("cep.db")))
        } else {
            DatabaseUrl::parse(&self.database.url)
                .context("invalid database.url (or CEP_DATABASE_URL)")
        }
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn to_masked_toml(&self) -> String {
        let url = self
            .database_url()
            .map(|u| u.masked())
            .unwrap_or_else(|_| "(invalid)".into());
        let b = &self.billing;
        let tiers: Vec<String> = b
            .bonus
            .tiers
            .iter()
            .map(|t| {
                format!(
                    "{{ min_rate_bp = {}, bonus_bp = {} }}",
                    t.min_rate_bp, t.bonus_bp
                )
            })
            .collect();
        format!(
            "data_dir = {:?}\n\n[database]\nurl = {:?}\npool_size = {}\n\n[log]\nfilter = {:?}\n\n[billing]\nbill_abandonments = {}\nhold_concurrent = {}\n\n[billing.bonus]\nversion = {:?}\nmin_answers = {}\nuse_wilson = {}\ntiers = [{}]\nbase_work_units = {:?}\n",
            self.data_dir.display().to_string(),
            url,
            self.database.pool_size,
            self.log.filter,
            b.bill_abandonments,
            b.hold_concurrent,
            b.bonus.version,
            b.bonus.min_answers,
            b.bonus.use_wilson,
            tiers.join(", "),
            b.bonus.base_work_units
        ) + &format!(
            "\n[api]\nbind = {:?}\nissuer = {:?}\naudience = {:?}\njwt_secret = {:?}\ntoken_ttl_seconds = {}\nmax_body_bytes = {}\nmax_failed_logins = {}\nlockout_minutes = {}\noidc_jwks_url = {:?}\noidc_issuer = {:?}\noidc_audience = {:?}\nrate_limit_per_second = {}\nrate_limit_burst = {}\ncache_seconds = {}\n",
            self.api.bind,
            self.api.issuer,
            self.api.audience,
            if self.api.jwt_secret.is_empty() {
                "(not set)"
            } else {
                "(set, masked)"
            },
            self.api.token_ttl_seconds,
            self.api.max_body_bytes,
            self.api.max_failed_logins,
            self.api.lockout_minutes,
            self.api.oidc_jwks_url,
            self.api.oidc_issuer,
            self.api.oidc_audience,
            self.api.rate_limit_per_second,
            self.api.rate_limit_burst,
            self.api.cache_seconds,
        ) + &{
            let r = &self.reports;
            format!(
                "\n[reports]\nschedule = {}\nstart = \"{}\"\nhour = {}\nmonthly_day = {}\nquarterly_day = {}\nhalf_yearly_day = {}\nyearly_day = {}\nsweep_hour = {}\nretry_minutes = {}\n# recipients: {} rule(s)\n{}",
                r.schedule,
                r.start,
                r.hour,
                r.monthly_day,
                r.quarterly_day,
                r.half_yearly_day,
                r.yearly_day,
                r.sweep_hour,
                r.retry_minutes,
                r.recipients.len(),
                match &r.smtp {
                    None => "# no [reports.smtp]: documents are stored, not mailed\n".to_owned(),
                    Some(m) => format!(
                        "\n[reports.smtp]\nhost = {:?}\nport = {}\nsecurity = {:?}\nusername = {:?}\npassword = {:?}\nfrom = {:?}\n",
                        m.host,
                        m.port,
                        format!("{:?}", m.security).to_lowercase(),
                        m.username,
                        if m.password.is_empty() {
                            "(not set)"
                        } else {
                            "(set, masked)"
                        },
                        m.from
                    ),
                }
            )
        } + &format!(
            "\n[retention]\npersonal_data_months = {}\nraw_files_months = {}\n",
            self.retention.personal_data_months, self.retention.raw_files_months
        ) + &self
            .pulls
            .iter()
            .map(|p| {
                format!(
                    "\n[[pull]]\nlot = {:?}\nurl = {:?}\ntoken_env = {:?}\ntimeout_seconds = {}\nretries = {}\n",
                    p.lot, p.url, p.token_env, p.timeout_seconds, p.retries
                )
            })
            .collect::<String>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn default_database_is_sqlite_under_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("none.toml");
        std::fs::write(&cfg, "").unwrap();
        let (s, _) = Settings::load(Some(&cfg), &env_of(&[])).unwrap();
        assert_eq!(
            s.database_url().unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("cep-data/cep.db"))
        );
    }

    #[test]
    fn the_bonus_scheme_comes_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cep.toml");
        std::fs::write(
            &cfg,
            "[billing]\nbill_abandonments = true\n[billing.bonus]\nversion = \"ccap-2026\"\nmin_answers = 50\nuse_wilson = false\ntiers = [{ min_rate_bp = 8500, bonus_bp = 200 }]\nbase_work_units = [\"01\"]\n",
        )
        .unwrap();
        let (s, _) = Settings::load(Some(&cfg), &env_of(&[])).unwrap();
        let scheme = s.billing.scheme().unwrap();
        assert_eq!(scheme.version, "ccap-2026");
        assert_eq!((scheme.min_answers, scheme.use_wilson), (50, false));
        assert_eq!(scheme.tiers[0].min_rate_bp, 8500);
        assert_eq!(scheme.base_work_units, [cep_domain::WorkUnit::Uo1]);
        assert!(s.billing.rules().bill_abandonments);
        // Shown back by `cep config`, and read back identically.
        let shown = s.to_masked_toml();
        let again = dir.path().join("again.toml");
        std::fs::write(&again, &shown).unwrap();
        assert_eq!(
            Settings::load(Some(&again), &env_of(&[]))
                .unwrap()
                .0
                .billing,
            s.billing
        );
        // The default is the documented assumption.
        assert_eq!(
            Settings::default().billing.scheme().unwrap(),
            cep_billing::bonus::BonusScheme::default()
        );
        // A wrong work unit is reported when the configuration is loaded.
        std::fs::write(&cfg, "[billing.bonus]\nbase_work_units = [\"3\"]\n").unwrap();
        let err = Settings::load(Some(&cfg), &env_of(&[])).unwrap_err();
        assert!(err.chain().contains("\"3\""), "{}", err.chain());
    }

    #[test]
    fn file_then_environment_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cep.toml");
        std::fs::write(
            &cfg,
            "data_dir = \"/srv/cep\"\n[database]\nurl = \"sqlite://a.db\"\npool_size = 3\n",
        )
        .unwrap();
        let (s, src) = Settings::load(
            Some(&cfg),
            &env_of(&[("CEP_DATABASE_URL", "postgres://cep:pw@db/cep")]),
        )
        .unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/srv/cep"));
        assert_eq!(s.database.pool_size, 3);
        assert_eq!(
            s.database_url().unwrap().backend(),
            cep_store::Backend::Postgres
        );
        assert_eq!(src.env, ["CEP_DATABASE_URL"]);
        let shown = s.to_masked_toml();
        assert!(
            shown.contains("postgres://cep:***@db/cep") && !shown.contains("pw@"),
            "{shown}"
        );
    }

    #[test]
    fn mistakes_are_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cep.toml");
        std::fs::write(&cfg, "[database]\nulr = \"sqlite://a.db\"\n").unwrap();
        let e = Settings::load(Some(&cfg), &env_of(&[]))
            .unwrap_err()
            .chain();
        assert!(e.contains("unknown field") && e.contains("ulr"), "{e}");
        let e = Settings::load(Some(&cfg.with_extension("missing")), &env_of(&[]))
            .unwrap_err()
            .chain();
        assert!(e.contains("cannot read the configuration file"), "{e}");
        std::fs::write(&cfg, "").unwrap();
        let e = Settings::load(Some(&cfg), &env_of(&[("CEP_DATABASE_URL", "mysql://x")]))
            .unwrap_err()
            .chain();
        assert!(e.contains("postgres://"), "{e}");
    }
}

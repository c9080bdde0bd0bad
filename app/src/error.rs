//! The use cases' error: the crates' own errors, or a message with its context (which file,
//! which setting, which step), the cause kept as its source. The binary prints the chain.

use std::fmt::Display;

/// Why a use case could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A setting or an argument that cannot be used as given (English, for the CLI).
    #[error("{0}")]
    Invalid(String),
    /// A step that failed, and why.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
    #[error(transparent)]
    Ingest(#[from] cep_ingest::IngestError),
    #[error(transparent)]
    Link(#[from] cep_link::run::LinkError),
    #[error(transparent)]
    Billing(#[from] cep_billing::BillingError),
    #[error(transparent)]
    Indicators(#[from] cep_indicators::IndicatorError),
    #[error(transparent)]
    Import(#[from] cep_ingest::buyer::ImportError),
    #[error(transparent)]
    Pull(#[from] cep_ingest::pull::PullError),
    #[error(transparent)]
    Reports(#[from] cep_reports::ReportError),
    #[error(transparent)]
    ReportData(#[from] cep_reports::context::ContextError),
    #[error(transparent)]
    Mail(#[from] cep_reports::mail::MailError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database: {0}")]
    Database(#[from] diesel::result::Error),
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    /// The error and its causes, `: `-separated (job details, logs).
    pub fn chain(&self) -> String {
        cep_ingest::pull::error_chain(self)
    }
}

/// Context for a failed step: `.context("reading X")?`.
pub trait Context<T> {
    fn context(self, context: impl Display) -> Result<T>;
    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E> Context<T> for std::result::Result<T, E>
where
    E: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| AppError::Context {
            context: context.to_string(),
            source: e.into(),
        })
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| AppError::Context {
            context: context().to_string(),
            source: e.into(),
        })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Display) -> Result<T> {
        self.ok_or_else(|| AppError::Invalid(context.to_string()))
    }

    fn with_context<C: Display>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| AppError::Invalid(context().to_string()))
    }
}

/// Returns an [`AppError::Invalid`] with a formatted message.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::AppError::Invalid(format!($($arg)*)))
    };
}

/// [`bail!`] unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::bail!($($arg)*);
        }
    };
}

/// An [`AppError::Invalid`] with a formatted message.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => {
        $crate::AppError::Invalid(format!($($arg)*))
    };
}

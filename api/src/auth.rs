//! Authentication with short-lived JWT access tokens from the local issuer (users with
//! Argon2-hashed passwords), roles, and the caller extracted from each request.
//!
//! Tokens are HS256-signed; validation accepts HS256 only (so `alg: none` and algorithm
//! confusion are refused), and checks issuer, audience, expiry and revocation.

use crate::problem::ApiError;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What a caller may do (issue 8's roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Buyer analysts: every lot, aggregated and pseudonymous data only.
    Analyst,
    /// An operator, bound to its lot.
    Operator,
    /// The médiateur: dossiers behind an open case assigned to them.
    Mediator,
    /// Users, purchase orders, populations, buyer-side imports.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Analyst, Role::Operator, Role::Mediator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Operator => "operator",
            Role::Mediator => "mediator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The access token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub role: Role,
    /// The operator's lot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

/// Token settings of the local issuer.
#[derive(Clone)]
pub struct Auth {
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: u64,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// `secret`: the HS256 key, at least 32 bytes.
    pub fn new(
        issuer: &str,
        audience: &str,
        secret: &[u8],
        ttl_seconds: u64,
    ) -> Result<Auth, String> {
        if secret.len() < 32 {
            return Err("the JWT secret must be at least 32 bytes".into());
        }
        Ok(Auth {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl_seconds,
            encoding: EncodingKey::from_secret(secret).map_err(|e| e.to_string())?,
            decoding: DecodingKey::from_secret(secret).map_err(|e| e.to_string())?,
        })
    }

    /// Issues an access token for a user.
    pub fn issue(
        &self,
        sub: &str,
        role: Role,
        lot: Option<String>,
    ) -> Result<(String, Claims), ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: sub.to_owned(),
            role,
            lot,
            iat: now,
            exp: now + self.ttl_seconds,
            jti: random_hex(16),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok((token, claims))
    }

    /// Checks signature (HS256 only), issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))
    }
}

/// `n` random bytes as hex (token ids).
pub fn random_hex(n: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut b = vec![0u8; n];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An Argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing a password: {e}"))
}

pub fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub claims: Claims,
}

impl Caller {
    pub fn role(&self) -> Role {
        self.claims.role
    }
    pub fn name(&self) -> &str {
        &self.claims.sub
    }
    /// The lot an operator is bound to.
    pub fn lot(&self) -> Option<&str> {
        self.claims.lot.as_deref()
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<crate::AppState>>().cloned();
        let header = req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no state".into()))?;
            let header = header.ok_or_else(|| ApiError::Unauthorized("no bearer token".into()))?;
            let token = header.strip_prefix("Bearer ").ok_or_else(|| {
                ApiError::Unauthorized("expected `Authorization: Bearer …`".into())
            })?;
            let claims = state.auth.verify(token.trim())?;
            let store = state.store.clone();
            let jti = claims.jti.clone();
            let sub = claims.sub.clone();
            let (revoked, user) = web::block(move || -> Result<_, cep_store::StoreError> {
                let mut c = store.conn()?;
                Ok((
                    cep_store::models::access::is_revoked(&mut c, &jti)?,
                    cep_store::models::access::User::by_name(&mut c, &sub)?,
                ))
            })
            .await??;
            if revoked {
                return Err(ApiError::Unauthorized("this token was revoked".into()));
            }
            // A disabled (or deleted) user's tokens stop working at once.
            if user.is_none_or(|u| u.disabled) {
                return Err(ApiError::Unauthorized("this account is disabled".into()));
            }
            if claims.role == Role::Operator && claims.lot.is_none() {
                return Err(ApiError::Unauthorized(
                    "an operator token must name its lot".into(),
                ));
            }
            Ok(Caller { claims })
        })
    }
}

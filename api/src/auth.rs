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

/// Token settings of the local issuer, and optionally an external OpenID Connect provider.
#[derive(Clone)]
pub struct Auth {
    pub issuer: String,
    pub audience: String,
    pub ttl_seconds: u64,
    encoding: EncodingKey,
    decoding: DecodingKey,
    oidc: Option<std::sync::Arc<Oidc>>,
}

/// An external OpenID Connect provider: its issuer and audience, and its signing keys fetched
/// from its JWKS URL, cached, and fetched again when a token names an unknown key (rotation),
/// at most once every `refetch_seconds`.
#[derive(Debug)]
pub struct Oidc {
    pub issuer: String,
    pub audience: String,
    pub jwks_url: String,
    pub refetch_seconds: u64,
    keys: std::sync::Mutex<(jsonwebtoken::jwk::JwkSet, Option<std::time::Instant>)>,
}

impl Oidc {
    pub fn new(issuer: &str, audience: &str, jwks_url: &str, refetch_seconds: u64) -> Oidc {
        Oidc {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            jwks_url: jwks_url.to_owned(),
            refetch_seconds,
            keys: std::sync::Mutex::new((jsonwebtoken::jwk::JwkSet { keys: vec![] }, None)),
        }
    }

    fn fetch(&self) -> Result<jsonwebtoken::jwk::JwkSet, ApiError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| ApiError::Unavailable(format!("JWKS client: {e}")))?;
        client
            .get(&self.jwks_url)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json::<jsonwebtoken::jwk::JwkSet>())
            .map_err(|e| {
                ApiError::Unavailable(format!("fetching the identity provider's keys: {e}"))
            })
    }

    /// The key `kid`, fetching the key set when it is unknown (blocking: call off the async
    /// workers).
    fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        let known = |set: &jsonwebtoken::jwk::JwkSet| {
            set.find(kid).map(|jwk| {
                DecodingKey::from_jwk(jwk)
                    .map_err(|e| ApiError::Unauthorized(format!("key {kid}: {e}")))
            })
        };
        {
            let guard = self.keys.lock().expect("jwks lock");
            if let Some(k) = known(&guard.0) {
                return k;
            }
            if guard
                .1
                .is_some_and(|t| t.elapsed().as_secs() < self.refetch_seconds)
            {
                return Err(ApiError::Unauthorized(format!("unknown signing key {kid}")));
            }
        }
        let set = self.fetch()?;
        let mut guard = self.keys.lock().expect("jwks lock");
        *guard = (set, Some(std::time::Instant::now()));
        known(&guard.0)
            .unwrap_or_else(|| Err(ApiError::Unauthorized(format!("unknown signing key {kid}"))))
    }

    /// Checks an RS256 token of the provider: signature by the key it names, issuer,
    /// audience, expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))?;
        let kid = header
            .kid
            .ok_or_else(|| ApiError::Unauthorized("the token names no signing key (kid)".into()))?;
        let key = self.key(&kid)?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &key, &v)
            .map(|d| d.claims)
            .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))
    }
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
            oidc: None,
        })
    }

    /// Also accepts RS256 tokens of an external OpenID Connect provider.
    pub fn with_oidc(mut self, oidc: Oidc) -> Auth {
        self.oidc = Some(std::sync::Arc::new(oidc));
        self
    }

    /// Whether a token is the provider's (RS256) rather than the local issuer's (HS256).
    fn is_external(token: &str) -> bool {
        jsonwebtoken::decode_header(token).is_ok_and(|h| h.alg == Algorithm::RS256)
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
            let token = token.trim().to_owned();
            let (claims, external) = match (&state.auth.oidc, Auth::is_external(&token)) {
                (Some(oidc), true) => {
                    let oidc = oidc.clone();
                    (web::block(move || oidc.verify(&token)).await??, true)
                }
                _ => (state.auth.verify(&token)?, false),
            };
            // Revocation and the account's state, from memory when checked less than the TTL
            // ago (changes made through this process clear the entry at once).
            let status = match state.token_checks.get(&claims.jti, state.ttl) {
                Some(s) => s,
                None => {
                    let store = state.store.clone();
                    let jti = claims.jti.clone();
                    let sub = claims.sub.clone();
                    let status = web::block(move || -> Result<_, cep_store::StoreError> {
                        let mut c = store.conn()?;
                        Ok(crate::cache::TokenStatus {
                            revoked: cep_store::models::access::is_revoked(&mut c, &jti)?,
                            disabled: cep_store::models::access::User::by_name(&mut c, &sub)?
                                .map(|u| u.disabled),
                        })
                    })
                    .await??;
                    state
                        .token_checks
                        .put(&claims.jti, &claims.sub, status, state.ttl);
                    status
                }
            };
            if status.revoked {
                return Err(ApiError::Unauthorized("this token was revoked".into()));
            }
            // A disabled (or deleted) local user's tokens stop working. The provider manages
            // its own users; a disabled local account of the same name blocks them.
            let blocked = match status.disabled {
                Some(disabled) => disabled,
                None => !external,
            };
            if blocked {
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

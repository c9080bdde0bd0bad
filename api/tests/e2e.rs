//! End to end: the real server on a free loopback port, against each backend, called over
//! HTTP: the role table, the médiateur's flow with its audit entries and the operator's report
//! line, the audit chain detecting tampering, JWT attacks, injection and traversal attempts,
//! lockout and body limits.

use cep_api::{AppState, Auth, ROUTES, Role};
use cep_store::models::access::{NewUser, User};
use cep_store::testing::{TestDb, each_backend};
use diesel::connection::SimpleConnection;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

const SECRET: &[u8] = b"test-secret-of-at-least-32-bytes-long!";
const PASSWORD: &str = "correct horse battery";

struct Server {
    base: String,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    client: Client,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let h = self.handle.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(h.stop(true)))
            .join()
            .ok();
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

fn start(db: &TestDb, max_body: usize) -> Server {
    start_with(
        db,
        max_body,
        Auth::new("cep", "cep-api", SECRET, 900).unwrap(),
    )
}

fn start_with(db: &TestDb, max_body: usize, auth: Auth) -> Server {
    start_configured(db, max_body, auth, |_| {})
}

/// A drill-down engine standing in for the binary's (which needs the indicators crate): for
/// code 1.2, two items named after the group; 1.1's denominator is read, not counted.
#[derive(Debug)]
struct FixedDrill;

impl cep_api::DrillDowns for FixedDrill {
    fn drill(
        &self,
        _: &cep_store::Store,
        run: &cep_store::models::indicators::IndicatorRun,
        code: &str,
        group: &str,
        _: &str,
        denominator: bool,
    ) -> Result<cep_api::Drilled, String> {
        match (code, denominator) {
            ("1.2", false) => Ok(cep_api::Drilled::Items(vec![
                format!("{group}-A-{}", run.id),
                format!("{group}-B-{}", run.id),
            ])),
            ("1.1", true) => Ok(cep_api::Drilled::External("the order's quantity".into())),
            // A regional value: a lot 08 dossier and one lot 19 opened in region 08.
            ("2.1", false) => Ok(cep_api::Drilled::Items(vec![
                "A7250301000001".into(),
                "S9250301000002".into(),
            ])),
            _ => Err(format!("unknown indicator {code}")),
        }
    }
}

/// A server whose state `configure` adjusts. By default: nothing cached across requests (so
/// that a change written straight into the store applies at once), no rate limit, the fixed
/// drill-down engine.
fn start_configured(
    db: &TestDb,
    max_body: usize,
    auth: Auth,
    configure: impl FnOnce(&mut AppState),
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut state = AppState::new(
        db.store.clone(),
        cep_ingest::Ingestor::new(db.store.clone(), dir.path()),
        auth,
    );
    state.ttl = cep_api::cache::Ttl(std::time::Duration::ZERO);
    state.drill = Some(std::sync::Arc::new(FixedDrill));
    configure(&mut state);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = cep_api::server(state, listener, max_body).unwrap();
            tx.send(server.handle()).unwrap();
            server.await.unwrap();
        })
    });
    let handle = rx.recv().unwrap();
    Server {
        base,
        handle,
        thread: Some(thread),
        client: Client::new(),
        _dir: dir,
    }
}

fn add_user(db: &TestDb, name: &str, role: Role, lot: Option<&str>) {
    let hash = cep_api::auth::hash_password(PASSWORD).unwrap();
    NewUser {
        username: name,
        role: role.as_str(),
        lot,
        password_hash: Some(&hash),
        disabled: false,
        created_at: cep_store::models::now_utc(),
    }
    .insert(&mut db.conn())
    .unwrap();
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn login(&self, name: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .unwrap()
    }

    fn token(&self, name: &str) -> String {
        let r = self.login(name, PASSWORD);
        assert_eq!(r.status(), 200, "login {name}");
        r.json::<Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut r = match method {
            "GET" => self.client.get(self.url(path)),
            _ => self.client.post(self.url(path)),
        };
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().unwrap()
    }
}

/// The four users of the tests: analyst, operator of lot 08, médiateur, admin.
fn users(db: &TestDb) {
    add_user(db, "ana", Role::Analyst, None);
    add_user(db, "op08", Role::Operator, Some("08"));
    add_user(db, "med", Role::Mediator, None);
    add_user(db, "adm", Role::Admin, None);
    add_user(db, "victim", Role::Analyst, None);
}

fn user_of(role: Role) -> &'static str {
    match role {
        Role::Analyst => "ana",
        Role::Operator => "op08",
        Role::Mediator => "med",
        Role::Admin => "adm",
    }
}

#[test]
fn every_route_answers_every_role_as_its_declaration_says() {
    each_backend(|db| {
        users(db);
        let s = start(db, 1 << 20);
        let tokens: Vec<(Role, String)> = Role::ALL
            .into_iter()
            .map(|r| (r, s.token(user_of(r))))
            .collect();
        let mut checked = 0;
        for route in ROUTES {
            let path = route
                .path
                .replace("{kind}", "dossiers")
                .replace("{id}", "1")
                .replace("{numero}", "A72503010000001")
                .replace("{username}", "victim")
                .replace("{name}", "A72503010000001_0000.pdf");
            if route.roles.is_empty() {
                let r = s.call(route.method, &path, None, Some(json!({})));
                assert_ne!(r.status(), 401, "{} {path} is public", route.method);
                assert_ne!(r.status(), 403, "{} {path} is public", route.method);
                continue;
            }
            let r = s.call(route.method, &path, None, Some(json!({})));
            assert_eq!(r.status(), 401, "{} {path} without a token", route.method);
            for (role, token) in &tokens {
                // Revoking would end the token the next routes use: revoke a fresh one.
                let fresh;
                let token = if route.path == "/api/v1/auth/revoke" {
                    fresh = s.token(user_of(*role));
                    &fresh
                } else {
                    token
                };
                let r = s.call(route.method, &path, Some(token), Some(json!({})));
                let allowed = route.roles.contains(role);
                let status = r.status().as_u16();
                let body: Value = r.json().unwrap_or(Value::Null);
                let role_refusal = status == 403
                    && body["type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("/forbidden-role"));
                if allowed {
                    // Allowed: anything but an authentication failure or a role refusal (a
                    // médiateur without an open case gets a 403 of another type).
                    assert!(
                        status != 401 && !role_refusal,
                        "{} {path} as {role:?}: {status} {body} but the role is allowed",
                        route.method
                    );
                } else {
                    assert!(
                        role_refusal,
                        "{} {path} as {role:?}: {status} {body}",
                        route.method
                    );
                    assert_eq!(body["status"], 403);
                }
                checked += 1;
            }
        }
        assert_eq!(
            checked,
            ROUTES.iter().filter(|r| !r.roles.is_empty()).count() * 4
        );
        assert!(checked >= 30 * 4, "{checked}");
    });
}

/// A valid UO1 fiche of lot 08 (operator A7) engaged today, as a §5 JSON record.
fn fiche_json(n: u32) -> Value {
    // The horodatage in Paris time, so that "today" is the same day for both (around midnight
    // UTC the two calendars differ).
    let now = chrono::Utc::now().naive_utc();
    let offset = cep_domain::paris::offset_hours(now);
    let local = now + chrono::Duration::hours(offset);
    let today = local.date();
    json!({
        "horodatage": format!("{}+{offset:02}:00", local.format("%Y-%m-%dT%H:%M:%S")),
        "numero_dossier": format!("A7{}01{n:06}", today.format("%y%m")),
        "uo": "01", "region_lot": "08", "identifiant_beneficiaire": format!("P-{n:04}"),
        "nom": "DUPONT", "prenom": "Marie", "sexe": "2", "date_naissance": "1985-04-12",
        "adresse_numero": "3", "adresse_type_voie": "RUE", "adresse_voie": "des Lilas",
        "adresse_commune": "Lyon", "adresse_code_postal": "69003", "structure": "SITE-01",
        "niveau_formation": "5", "secteur_activite": "C",
        "libelle_secteur": "Industrie manufacturière", "taille_entreprise": "50_249",
        "categorie_sociale": "5", "libelle_profession": "Technicienne", "statut": "CDI",
        "entree_entreprise": "2015-06", "email": "marie.dupont@example.fr",
        "date_engagement": today.to_string(),
        "reference_bc": format!("{}-Lot08-UO01-01-{n:05}", today.format("%Y")),
        "origine": "INDIVIDUELLE", "motif": "COMPETENCES", "motif_detaille": "SE_FORMER",
        "dates_interactions": [today.to_string()], "modes_contact": ["TELEPHONE"],
    })
}

fn registry(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("operators.csv");
    std::fs::write(
        &p,
        "lot;code_operateur;nom;date_debut;date_fin\n08;A7;Titulaire 08;2019-12-01;\n09;B9;Titulaire 09;2019-12-01;\n",
    )
    .unwrap();
    cep_ingest::buyer::import(&db.store, cep_ingest::buyer::ImportKind::Operators, &p).unwrap();
    let year = cep_domain::paris::date_of(cep_store::models::now_utc()).format("%Y");
    let p = dir.path().join("purchase-orders.csv");
    std::fs::write(
        &p,
        format!(
            "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n\
             {year}-Lot08-UO01-01;2024-12-15;500;250.00;0.20;{year}-01-01;{year}-12-31\n"
        ),
    )
    .unwrap();
    cep_ingest::buyer::import(&db.store, cep_ingest::buyer::ImportKind::PurchaseOrders, &p)
        .unwrap();
}

#[test]
fn the_mediateur_reads_a_dossier_only_through_an_open_case_and_every_read_is_audited() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 1 << 20);
        let op = s.token("op08");
        let med = s.token("med");
        let adm = s.token("adm");
        // The operator pushes a dossier.
        let body = json!({"lot": "08", "records": [fiche_json(1)]});
        let r = s.call(
            "POST",
            "/api/v1/feeds/dossiers",
            Some(&op),
            Some(body.clone()),
        );
        assert_eq!(r.status(), 200);
        let report: Value = r.json().unwrap();
        assert_eq!(report["accepted"], 1, "{report}");
        let numero = fiche_json(1)["numero_dossier"].as_str().unwrap().to_owned();
        // The same content again is idempotent.
        let again: Value = s
            .call("POST", "/api/v1/feeds/dossiers", Some(&op), Some(body))
            .json()
            .unwrap();
        assert_eq!(again["status"], "duplicate");

        // Without a case: 403, and the attempt is logged.
        let path = format!("/api/v1/mediation/cases/1/dossiers/{numero}");
        assert_eq!(s.call("GET", &path, Some(&med), None).status(), 403);
        // Open a case on the dossier, read it: personal data included.
        let case: Value = s
            .call(
                "POST",
                "/api/v1/mediation/cases",
                Some(&med),
                Some(json!({"lot": "08", "numero_dossier": numero, "complaint_reference": "R-2026-001"})),
            )
            .json()
            .unwrap();
        let id = case["id"].as_i64().unwrap();
        let path = format!("/api/v1/mediation/cases/{id}/dossiers/{numero}");
        let r = s.call("GET", &path, Some(&med), None);
        assert_eq!(r.status(), 200);
        let dossier: Value = r.json().unwrap();
        assert_eq!(dossier["fiches"][0]["identity"]["nom"], "DUPONT");
        // Another dossier is not behind this case.
        let other = format!("/api/v1/mediation/cases/{id}/dossiers/A7250301000009");
        assert_eq!(s.call("GET", &other, Some(&med), None).status(), 403);

        // The operator's next processing report carries the access request of the day.
        let body = json!({"lot": "08", "records": [fiche_json(2)]});
        let report: Value = s
            .call("POST", "/api/v1/feeds/dossiers", Some(&op), Some(body))
            .json()
            .unwrap();
        let requests = report["mediator_access_requests"].as_array().unwrap();
        assert_eq!(requests.len(), 1, "{report}");
        assert_eq!(requests[0]["dossier"], numero.as_str());

        // Closed: no more access.
        let r = s.call(
            "POST",
            &format!("/api/v1/mediation/cases/{id}/close"),
            Some(&med),
            None,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(s.call("GET", &path, Some(&med), None).status(), 403);

        // The audit log: opened, read, refused attempts, closed; the chain is intact.
        let entries = cep_store::models::access::audit_of_day(
            &mut db.conn(),
            "dossier_access",
            "08",
            cep_domain::paris::date_of(cep_store::models::now_utc()),
        )
        .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].actor, "med");
        let v: Value = s
            .call("GET", "/api/v1/admin/audit/verify", Some(&adm), None)
            .json()
            .unwrap();
        assert_eq!(v["intact"], true, "{v}");
        assert!(v["entries"].as_u64().unwrap() >= 6, "{v}");

        // An edited row breaks the chain at that row; so does a deleted one.
        db.conn()
            .batch_execute("UPDATE audit_log SET detail = 'nothing to see' WHERE id = 3")
            .unwrap();
        let v: Value = s
            .call("GET", "/api/v1/admin/audit/verify", Some(&adm), None)
            .json()
            .unwrap();
        assert_eq!(
            (v["intact"].clone(), v["broken_at"].clone()),
            (json!(false), json!(3)),
            "{v}"
        );
        let mut c = db.conn();
        let broken = cep_store::models::access::verify_audit(&mut c)
            .unwrap()
            .unwrap_err();
        assert_eq!(broken.id, 3);
        c.batch_execute("DELETE FROM audit_log WHERE id = 3")
            .unwrap();
        let broken = cep_store::models::access::verify_audit(&mut c)
            .unwrap()
            .unwrap_err();
        assert_eq!(
            broken.id, 4,
            "the entry after the deleted one no longer follows"
        );
    });
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn forged_expired_unsigned_and_misdirected_tokens_are_refused() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start(&db, 1 << 20);
    let good = s.token("ana");
    assert_eq!(s.call("GET", "/api/v1/me", Some(&good), None).status(), 200);
    let now = chrono::Utc::now().timestamp() as u64;
    let claims = |aud: &str, exp: u64| json!({"iss": "cep", "aud": aud, "sub": "adm", "role": "admin", "iat": now, "exp": exp, "jti": "x"});
    let sign = |key: &[u8], c: &Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            c,
            &jsonwebtoken::EncodingKey::from_secret(key).unwrap(),
        )
        .unwrap()
    };
    let attacks = [
        (
            "wrong key",
            sign(
                b"another-secret-of-at-least-32-bytes!!",
                &claims("cep-api", now + 600),
            ),
        ),
        ("expired", sign(SECRET, &claims("cep-api", now - 600))),
        (
            "wrong audience",
            sign(SECRET, &claims("other-api", now + 600)),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"none","typ":"JWT"}"#),
                b64(claims("cep-api", now + 600).to_string().as_bytes())
            ),
        ),
        (
            "HS512 with the right key",
            jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
                &claims("cep-api", now + 600),
                &jsonwebtoken::EncodingKey::from_secret(SECRET).unwrap(),
            )
            .unwrap(),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in attacks {
        let r = s.call("GET", "/api/v1/admin/users", Some(&token), None);
        assert_eq!(r.status(), 401, "{what}");
    }
    // A well-signed token for a user that does not exist is refused too.
    let r = s.call("GET", "/api/v1/admin/users", Some(&sign(SECRET, &json!({"iss": "cep", "aud": "cep-api", "sub": "ghost", "role": "admin", "iat": now, "exp": now + 600, "jti": "y"}))), None);
    assert_eq!(r.status(), 401);
    // Another lot's figures: 403 for an operator.
    let op = s.token("op08");
    assert_eq!(
        s.call("GET", "/api/v1/indicators?lot=09", Some(&op), None)
            .status(),
        403
    );
    assert_eq!(
        s.call("GET", "/api/v1/reports?lot=09", Some(&op), None)
            .status(),
        403
    );
    // Revoked, then disabled.
    assert_eq!(
        s.call("POST", "/api/v1/auth/revoke", Some(&good), None)
            .status(),
        204
    );
    assert_eq!(s.call("GET", "/api/v1/me", Some(&good), None).status(), 401);
    let fresh = s.token("ana");
    User::set_disabled(&mut db.conn(), "ana", true).unwrap();
    assert_eq!(
        s.call("GET", "/api/v1/me", Some(&fresh), None).status(),
        401
    );
}

#[test]
fn injection_and_traversal_attempts_change_nothing() {
    each_backend(|db| {
        users(db);
        let s = start(db, 1 << 20);
        let ana = s.token("ana");
        let med = s.token("med");
        let op = s.token("op08");
        // (caller, path, expected status)
        let attempts = [
            (&ana, "/api/v1/indicators?lot=08'%20OR%20'1'='1", 400),
            (
                &ana,
                "/api/v1/indicators?code=1.1'%3B%20DROP%20TABLE%20users%3B--",
                404,
            ),
            (
                &med,
                "/api/v1/mediation/cases/1%3BDROP%20TABLE%20users/dossiers/x",
                400,
            ),
            (
                &med,
                "/api/v1/mediation/cases/1/dossiers/..%2F..%2F..%2Fetc%2Fpasswd",
                403,
            ),
        ];
        for (token, path, expected) in attempts {
            assert_eq!(
                s.call("GET", path, Some(token), None).status(),
                expected,
                "{path}"
            );
        }
        let r = s
            .client
            .post(s.url("/api/v1/feeds/dossiers?file_name=..%2F..%2Fcep.db"))
            .bearer_auth(&op)
            .header("Content-Type", "text/csv")
            .body("a;b\n")
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = s.call(
            "POST",
            "/api/v1/feeds/..%2F..%2Fetc",
            Some(&op),
            Some(json!({})),
        );
        assert_eq!(r.status(), 404);
        // Everything is still there.
        assert_eq!(User::all(&mut db.conn()).unwrap().len(), 5);
        assert_eq!(s.call("GET", "/api/v1/me", Some(&ana), None).status(), 200);
    });
}

#[test]
fn repeated_failed_logins_lock_the_account_and_big_bodies_get_413() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start(&db, 1024);
    for _ in 0..5 {
        assert_eq!(s.login("ana", "wrong password!!").status(), 401);
    }
    let r = s.login("ana", PASSWORD);
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // An administrator's reset unlocks it.
    User::reset(
        &mut db.conn(),
        "ana",
        &cep_api::auth::hash_password(PASSWORD).unwrap(),
    )
    .unwrap();
    assert_eq!(s.login("ana", PASSWORD).status(), 200);
    assert_eq!(s.login("nobody", PASSWORD).status(), 401);

    let op = s.token("op08");
    let big = json!({"lot": "08", "records": [{"x": "y".repeat(2000)}]});
    let r = s.call("POST", "/api/v1/feeds/dossiers", Some(&op), Some(big));
    assert_eq!(r.status(), 413);
    let problem: Value = r.json().unwrap();
    assert_eq!(problem["status"], 413);

    assert_eq!(s.call("GET", "/health", None, None).status(), 200);
    let ready = s.call("GET", "/ready", None, None);
    assert_eq!(ready.status(), 200);
    assert!(ready.headers().contains_key("x-request-id"));
}

#[test]
fn lists_page_stably_and_export_injection_safe_csv() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start(&db, 1 << 20);
    let med = s.token("med");
    // Cases are opened on a beneficiary the service knows.
    cep_store::models::dossiers::OperatorPerson::get_or_create(
        &mut db.conn(),
        "08",
        "P-1",
        cep_store::models::now_utc(),
    )
    .unwrap();
    for reference in ["=HYPERLINK(\"http://x\")", "R-2", "+SUM(A1)"] {
        let r = s.call(
            "POST",
            "/api/v1/mediation/cases",
            Some(&med),
            Some(json!({"lot": "08", "identifiant_beneficiaire": "P-1", "complaint_reference": reference})),
        );
        assert_eq!(r.status(), 201);
    }
    let page = |offset: usize| -> Value {
        s.call(
            "GET",
            &format!("/api/v1/mediation/cases?limit=2&offset={offset}"),
            Some(&med),
            None,
        )
        .json()
        .unwrap()
    };
    let (a, b) = (page(0), page(2));
    assert_eq!(
        (a["total"].clone(), b["total"].clone()),
        (json!(3), json!(3))
    );
    let ids: Vec<i64> = a["cases"]
        .as_array()
        .unwrap()
        .iter()
        .chain(b["cases"].as_array().unwrap())
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![3, 2, 1], "newest first, each once");
    assert_eq!(page(0), a, "the same page twice");

    let r = s.call(
        "GET",
        "/api/v1/mediation/cases?format=csv",
        Some(&med),
        None,
    );
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = r.text().unwrap();
    assert!(text.starts_with("\u{feff}id;lot;"), "{text}");
    assert!(
        text.contains(";\"'=HYPERLINK(\"\"http://x\"\")\";"),
        "{text}"
    );
    assert!(text.contains(";'+SUM(A1);"), "{text}");
    assert_eq!(text.lines().count(), 4);
    let r = s.call(
        "GET",
        "/api/v1/mediation/cases?format=xml",
        Some(&med),
        None,
    );
    assert_eq!(r.status(), 400);
}

#[test]
fn the_openapi_document_is_served_and_matches_its_snapshot() {
    let db = TestDb::sqlite();
    let s = start(&db, 1024);
    let served: Value = s
        .call("GET", "/api/v1/openapi.json", None, None)
        .json()
        .unwrap();
    assert_eq!(served, cep_api::openapi());
    for route in ROUTES {
        assert!(
            served["paths"][route.path][route.method.to_ascii_lowercase()].is_object(),
            "{} {} missing",
            route.method,
            route.path
        );
    }
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&snapshot)
        .expect("api/openapi.json (run with UPDATE_SNAPSHOTS=1 to write it)");
    assert_eq!(
        text, expected,
        "the API changed: review and run with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn stored_indicator_runs_are_served_filtered_paged_and_scoped_to_the_operators_lot() {
    let db = TestDb::sqlite();
    users(&db);
    let row = |code: &str, lot: &str, n: i64| cep_store::models::indicators::IndicatorValueRow {
        run_id: 0,
        code: code.into(),
        lot: lot.into(),
        category: String::new(),
        numerator: n,
        denominator: Some(10.0),
        value: Some(n as f64 / 10.0),
        median: None,
        mean: None,
        wilson_lower: None,
    };
    let values = vec![
        row("1.2", "08", 3),
        row("1.2", "09", 4),
        row("1.2", "national", 7),
        row("6.1", "08", 1),
    ];
    let run = cep_store::models::indicators::IndicatorRun::store(
        &mut db.conn(),
        "2025-10",
        "2025-11-05T00:00:00".parse().unwrap(),
        cep_store::models::now_utc(),
        "test",
        "{}",
        &values,
    )
    .unwrap();
    let s = start(&db, 1 << 20);
    let ana = s.token("ana");
    let get = |path: &str, token: &str| -> Value {
        s.call("GET", path, Some(token), None).json().unwrap()
    };
    let all = get("/api/v1/indicators?period=2025-10", &ana);
    assert_eq!(all["run"]["id"], run.id);
    assert_eq!(all["total"], 4);
    let page = get(
        "/api/v1/indicators?period=2025-10&code=1.2&limit=2&offset=1",
        &ana,
    );
    assert_eq!(page["total"], 3);
    let lots: Vec<&str> = page["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["lot"].as_str().unwrap())
        .collect();
    assert_eq!(lots, vec!["09", "national"]);
    // An operator sees its own lot only, whatever it asks for without a lot.
    let op = s.token("op08");
    let own = get("/api/v1/indicators?period=2025-10", &op);
    assert_eq!(own["total"], 2);
    assert!(
        own["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["lot"] == "08")
    );
    let r = s.call(
        "GET",
        "/api/v1/indicators?period=2025-10&limit=ten",
        Some(&ana),
        None,
    );
    assert_eq!(r.status(), 400);
    let csv = s
        .call(
            "GET",
            "/api/v1/indicators?period=2025-10&code=6.1&format=csv",
            Some(&ana),
            None,
        )
        .text()
        .unwrap();
    assert_eq!(
        csv,
        "\u{feff}code;lot;category;numerator;denominator;value;median;mean;wilson_lower\n6.1;08;;1;10.0;0.1;;;\n"
    );
    assert_eq!(
        s.call("GET", "/api/v1/indicators?period=2030-01", Some(&ana), None)
            .status(),
        404
    );
}

/// An RSA key made by `openssl`, as a PEM (to sign) and a JWK (to publish).
fn rsa_key(dir: &std::path::Path, kid: &str) -> (Vec<u8>, Value) {
    let pem = dir.join(format!("{kid}.pem"));
    let ok = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&pem)
        .arg("2048")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = std::process::Command::new("openssl")
        .args(["rsa", "-noout", "-modulus", "-in"])
        .arg(&pem)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().trim_start_matches("Modulus=");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let jwk = json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(&bytes), "e": "AQAB"});
    (std::fs::read(&pem).unwrap(), jwk)
}

/// A real HTTP server on loopback serving `dir` (Python's `http.server`).
struct StaticServer(std::process::Child, String);

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn static_server(dir: &std::path::Path) -> StaticServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    StaticServer(child, base)
}

#[test]
fn tokens_of_an_openid_connect_provider_are_checked_against_its_rotating_key_set() {
    let db = TestDb::sqlite();
    users(&db);
    let keys = tempfile::tempdir().unwrap();
    let (pem_a, jwk_a) = rsa_key(keys.path(), "a");
    let (pem_b, jwk_b) = rsa_key(keys.path(), "b");
    let site = tempfile::tempdir().unwrap();
    let publish = |set: Vec<&Value>| {
        std::fs::write(
            site.path().join("jwks.json"),
            json!({"keys": set}).to_string(),
        )
        .unwrap()
    };
    publish(vec![&jwk_a]);
    let idp = static_server(site.path());

    let auth =
        Auth::new("cep", "cep-api", SECRET, 900)
            .unwrap()
            .with_oidc(cep_api::auth::Oidc::new(
                "https://idp.example",
                "cep-api",
                &format!("{}/jwks.json", idp.1),
                0,
            ));
    let s = start_with(&db, 1 << 20, auth);

    let now = chrono::Utc::now().timestamp() as u64;
    let token = |pem: &[u8], kid: &str, iss: &str| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some(kid.to_owned());
        let claims = json!({"iss": iss, "aud": "cep-api", "sub": "ext-analyst", "role": "analyst", "iat": now, "exp": now + 600, "jti": "e1"});
        jsonwebtoken::encode(
            &h,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(pem).unwrap(),
        )
        .unwrap()
    };
    let me = |t: &str| s.call("GET", "/api/v1/me", Some(t), None);
    let r = me(&token(&pem_a, "a", "https://idp.example"));
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["username"], "ext-analyst");
    // Not yet published, a key signed by another issuer, a key claiming another's kid.
    assert_eq!(me(&token(&pem_b, "b", "https://idp.example")).status(), 401);
    assert_eq!(
        me(&token(&pem_a, "a", "https://evil.example")).status(),
        401
    );
    assert_eq!(me(&token(&pem_b, "a", "https://idp.example")).status(), 401);
    // Rotation: the provider now publishes b only.
    publish(vec![&jwk_b]);
    assert_eq!(me(&token(&pem_b, "b", "https://idp.example")).status(), 200);
    assert_eq!(me(&token(&pem_a, "a", "https://idp.example")).status(), 401);
    // Local users keep working beside the provider.
    assert_eq!(
        s.call("GET", "/api/v1/me", Some(&s.token("ana")), None)
            .status(),
        200
    );
}

/// Two stored runs of 2025-09 and one of 2025-10 (values of 1.2 for lots 08 and national).
fn three_runs(db: &TestDb) -> Vec<i64> {
    let row = |lot: &str, n: i64| cep_store::models::indicators::IndicatorValueRow {
        run_id: 0,
        code: "1.2".into(),
        lot: lot.into(),
        category: String::new(),
        numerator: n,
        denominator: Some(10.0),
        value: Some(n as f64 / 10.0),
        median: None,
        mean: None,
        wilson_lower: None,
    };
    [
        ("2025-09", "2025-10-05T00:00:00", 2),
        ("2025-09", "2025-10-20T00:00:00", 3),
        ("2025-10", "2025-11-05T00:00:00", 5),
    ]
    .into_iter()
    .map(|(period, cutoff, n)| {
        cep_store::models::indicators::IndicatorRun::store(
            &mut db.conn(),
            period,
            cutoff.parse().unwrap(),
            cep_store::models::now_utc(),
            "test",
            "{}",
            &[row("08", n), row("national", 2 * n)],
        )
        .unwrap()
        .id
    })
    .collect()
}

#[test]
fn an_indicator_series_takes_the_latest_run_of_each_period_and_drill_downs_go_to_the_engine() {
    let db = TestDb::sqlite();
    users(&db);
    let runs = three_runs(&db);
    let s = start(&db, 1 << 20);
    let ana = s.token("ana");
    let get = |path: &str, token: &str| -> (u16, Value) {
        let r = s.call("GET", path, Some(token), None);
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    };
    // The series: 2025-09 from its later run (3), 2025-10 (5), in period order.
    let (status, series) = get("/api/v1/indicators/series?code=1.2&lot=08", &ana);
    assert_eq!(status, 200, "{series}");
    let points: Vec<(String, i64, i64)> = series["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_owned(),
                p["numerator"].as_i64().unwrap(),
                p["run"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            ("2025-09".into(), 3, runs[1]),
            ("2025-10".into(), 5, runs[2])
        ]
    );
    // As known at 2025-10-10: only the first run of 2025-09.
    let (_, early) = get(
        "/api/v1/indicators/series?code=1.2&lot=national&cutoff=2025-10-10T00:00:00%2B02:00",
        &ana,
    );
    assert_eq!(early["total"], 1);
    assert_eq!(early["series"][0]["numerator"], 4);
    // The operator's series is its lot's, and another lot is refused.
    let op = s.token("op08");
    let (_, own) = get("/api/v1/indicators/series?code=1.2", &op);
    assert_eq!(own["series"][1]["numerator"], 5);
    assert_eq!(get("/api/v1/indicators/series?code=1.2&lot=09", &op).0, 403);
    assert_eq!(
        get("/api/v1/indicators/series", &ana).0,
        400,
        "code required"
    );

    // Drill-downs: the engine's items, paged, as JSON or CSV; what a read denominator is.
    let (status, drill) = get(
        &format!(
            "/api/v1/indicators/drill?run={}&code=1.2&lot=08&limit=1&offset=1",
            runs[0]
        ),
        &ana,
    );
    assert_eq!(status, 200, "{drill}");
    assert_eq!(drill["total"], 2);
    assert_eq!(
        drill["items"],
        json!([{"item": format!("08-B-{}", runs[0])}])
    );
    assert_eq!(drill["run"]["id"], runs[0]);
    let (_, latest) = get("/api/v1/indicators/drill?period=2025-09&code=1.2", &ana);
    assert_eq!(latest["lot"], "national");
    assert_eq!(
        latest["items"][0]["item"],
        format!("national-A-{}", runs[1])
    );
    let (_, external) = get(
        "/api/v1/indicators/drill?period=2025-10&code=1.1&part=denominator",
        &ana,
    );
    assert_eq!(external["counted"], false);
    assert_eq!(external["what"], "the order's quantity");
    let (status, unknown) = get("/api/v1/indicators/drill?period=2025-10&code=9.9", &ana);
    assert_eq!(status, 400);
    assert!(unknown["detail"].as_str().unwrap().contains("9.9"));
    assert_eq!(
        get(
            "/api/v1/indicators/drill?period=2025-10&code=1.2&part=both",
            &ana
        )
        .0,
        400
    );
    let csv = s
        .call(
            "GET",
            "/api/v1/indicators/drill?period=2025-10&code=1.2&lot=08&format=csv",
            Some(&op),
            None,
        )
        .text()
        .unwrap();
    assert_eq!(csv, format!("\u{feff}item\n08-A-{0}\n08-B-{0}\n", runs[2]));
    assert_eq!(
        get(
            "/api/v1/indicators/drill?period=2025-10&code=1.2&lot=09",
            &op
        )
        .0,
        403
    );
    drop(s);
    // A server without an engine says so.
    let bare = start_configured(
        &db,
        1 << 20,
        Auth::new("cep", "cep-api", SECRET, 900).unwrap(),
        |st| st.drill = None,
    );
    let t = bare.token("ana");
    let r = bare.call(
        "GET",
        "/api/v1/indicators/drill?period=2025-10&code=1.2",
        Some(&t),
        None,
    );
    assert_eq!(r.status(), 501);
}

#[test]
fn administrators_import_buyer_files_and_analysts_review_identities_on_both_backends() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 1 << 20);
        let adm = s.token("adm");
        let ana = s.token("ana");
        let post_csv = |path: &str, token: &str, body: &str| -> (u16, Value) {
            let r = s
                .client
                .post(s.url(path))
                .bearer_auth(token)
                .header("Content-Type", "text/csv")
                .body(body.to_owned())
                .send()
                .unwrap();
            (r.status().as_u16(), r.json().unwrap_or(Value::Null))
        };
        // Populations through the API: recorded, then the same file again changes nothing.
        let pops = "lot;annee;dimension;code;population_active;population_active_occupee;population_cible_cep\n\
                    08;2025;total;;4000000;3600000;2500000\n";
        let (status, first) = post_csv(
            "/api/v1/admin/imports/populations?file_name=pop.csv",
            &adm,
            pops,
        );
        assert_eq!(status, 200, "{first}");
        assert_eq!(first["new"], 1);
        let (_, again) = post_csv("/api/v1/admin/imports/populations", &adm, pops);
        assert_eq!(
            (again["new"].clone(), again["unchanged"].clone()),
            (json!(0), json!(1))
        );
        let listed: Value = s
            .call("GET", "/api/v1/populations?lot=08", Some(&ana), None)
            .json()
            .unwrap();
        assert_eq!(listed["total"], 1);
        assert_eq!(listed["populations"][0]["population_cible_cep"], 2500000);
        // An invalid file records nothing and lists its errors.
        let (status, bad) = post_csv(
            "/api/v1/admin/imports/purchase-orders",
            &adm,
            "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n2025-Lot08-UO01-02;hier;-3;x;0.2;2025-01-01;2025-12-31\n",
        );
        assert_eq!(status, 422, "{bad}");
        assert!(!bad["errors"].as_array().unwrap().is_empty(), "{bad}");
        let orders: Value = s
            .call("GET", "/api/v1/orders", Some(&ana), None)
            .json()
            .unwrap();
        assert_eq!(orders["total"], 1, "only the registry's order");
        assert_eq!(
            post_csv("/api/v1/admin/imports/invoices", &adm, pops).0,
            404
        );
        assert_eq!(
            post_csv(
                "/api/v1/admin/imports/populations?file_name=../x.csv",
                &adm,
                pops
            )
            .0,
            400
        );

        // Two beneficiaries pushed by lot 08; an analyst decides they are not the same person.
        let op = s.token("op08");
        let r = s.call(
            "POST",
            "/api/v1/feeds/dossiers",
            Some(&op),
            Some(json!({"lot": "08", "records": [fiche_json(1), fiche_json(2)]})),
        );
        let report: Value = r.json().unwrap();
        assert_eq!(report["accepted"], 2, "{report}");
        let decide = |a: &str, b: &str, reason: &str| {
            s.call(
                "POST",
                "/api/v1/identity/decisions",
                Some(&ana),
                Some(json!({
                    "a": {"lot": "08", "identifiant_beneficiaire": a},
                    "b": {"lot": "08", "identifiant_beneficiaire": b},
                    "same": false, "reason": reason,
                })),
            )
        };
        let r = decide("P-0001", "P-0002", "homonymes");
        assert_eq!(r.status(), 201, "{}", r.text().unwrap());
        assert_eq!(decide("P-0001", "P-9999", "x").status(), 400, "unknown");
        assert_eq!(decide("P-0001", "P-0001", "x").status(), 400, "same one");
        assert_eq!(decide("P-0001", "P-0002", " ").status(), 400, "no reason");
        let decisions: Value = s
            .call("GET", "/api/v1/identity/decisions", Some(&adm), None)
            .json()
            .unwrap();
        assert_eq!(decisions["total"], 1);
        let d = &decisions["decisions"][0];
        assert_eq!(
            (
                d["identifiant_a"].as_str(),
                d["identifiant_b"].as_str(),
                d["same"].as_bool()
            ),
            (Some("P-0001"), Some("P-0002"), Some(false))
        );
        assert_eq!(d["decided_by"], "ana");
        let events: Value = s
            .call("GET", "/api/v1/identity/events", Some(&ana), None)
            .json()
            .unwrap();
        assert_eq!(events["total"], 0, "no linking run yet");
        // Nothing personal in what an analyst reads.
        let text = decisions.to_string() + &events.to_string();
        assert!(!text.contains("DUPONT") && !text.contains("1985-04-12"));
        // The import and the decision are in the audit log, whose chain holds.
        let verify: Value = s
            .call("GET", "/api/v1/admin/audit/verify", Some(&adm), None)
            .json()
            .unwrap();
        assert_eq!(verify["intact"], true);
        assert!(verify["entries"].as_i64().unwrap() >= 3, "{verify}");

        // Billing lists: the open dossiers are not closed units; parameters are checked.
        let get = |path: &str| -> (u16, Value) {
            let r = s.call("GET", path, Some(&ana), None);
            (r.status().as_u16(), r.json().unwrap_or(Value::Null))
        };
        let (status, units) = get("/api/v1/billing/units?billable=false");
        assert_eq!(status, 200, "{units}");
        assert_eq!(units["total"], 0);
        assert_eq!(get("/api/v1/billing/units?billable=maybe").0, 400);
        assert_eq!(get("/api/v1/billing/units?cutoff=yesterday").0, 400);
        let (status, consumption) = get("/api/v1/orders/consumption");
        assert_eq!(status, 200, "{consumption}");
        assert_eq!(consumption["orders"][0]["consumed"], 0);
        assert_eq!(consumption["orders"][0]["quantity"], 500);
        assert_eq!(get("/api/v1/billing/reconciliation?quarter=2025-T5").0, 400);
        let (status, findings) = get("/api/v1/billing/reconciliation?quarter=2025-T1");
        assert_eq!((status, findings["total"].clone()), (200, json!(0)));
        let (status, bonuses) = get("/api/v1/billing/bonuses?half=2025-S1");
        assert_eq!(status, 200, "{bonuses}");
        let (_, scheme) = get("/api/v1/billing/bonus-scheme");
        assert_eq!(scheme["min_answers"], 30);
    });
}

#[test]
fn token_checks_are_cached_but_changes_made_through_the_api_apply_at_once() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start_configured(
        &db,
        1 << 20,
        Auth::new("cep", "cep-api", SECRET, 900).unwrap(),
        |st| st.ttl = cep_api::cache::Ttl(std::time::Duration::from_secs(600)),
    );
    let me = |t: &str| s.call("GET", "/api/v1/me", Some(t), None).status().as_u16();
    let ana = s.token("ana");
    assert_eq!(me(&ana), 200);
    // Disabled by another process (straight in the store): trusted until the TTL.
    User::set_disabled(&mut db.conn(), "ana", true).unwrap();
    assert_eq!(me(&ana), 200, "cached for the TTL");
    User::set_disabled(&mut db.conn(), "ana", false).unwrap();
    // Disabled through the API: at once.
    let victim = s.token("victim");
    assert_eq!(me(&victim), 200);
    let adm = s.token("adm");
    let r = s.call(
        "POST",
        "/api/v1/admin/users/victim/disable",
        Some(&adm),
        None,
    );
    assert_eq!(r.status(), 200);
    assert_eq!(me(&victim), 401);
    assert_eq!(
        s.call(
            "POST",
            "/api/v1/admin/users/nobody/disable",
            Some(&adm),
            None
        )
        .status(),
        404
    );
    // Revoked through the API: at once.
    assert_eq!(me(&ana), 200);
    assert_eq!(
        s.call("POST", "/api/v1/auth/revoke", Some(&ana), None)
            .status(),
        204
    );
    assert_eq!(me(&ana), 401);
}

#[test]
fn a_client_over_its_rate_gets_429_with_retry_after_and_health_stays_free() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start_configured(
        &db,
        1 << 20,
        Auth::new("cep", "cep-api", SECRET, 900).unwrap(),
        |st| {
            st.limiter = cep_api::limit::RateLimiter::new(cep_api::limit::RateLimit {
                per_second: 0.01,
                burst: 3.0,
            })
        },
    );
    let ana = s.token("ana"); // 1
    for _ in 0..2 {
        assert_eq!(s.call("GET", "/api/v1/me", Some(&ana), None).status(), 200);
    }
    let r = s.call("GET", "/api/v1/me", Some(&ana), None);
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&retry), "{retry}");
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().unwrap();
    assert!(body["type"].as_str().unwrap().ends_with("/rate-limited"));
    assert_eq!(s.call("GET", "/health", None, None).status(), 200);
}

#[test]
fn documents_are_listed_and_downloaded_within_the_callers_scope() {
    each_backend(|db| {
        users(db);
        let now = cep_store::models::now_utc();
        let store = |lot: Option<&str>, name: &str, bytes: &[u8]| {
            cep_store::models::reports::NewDocument {
                kind: if lot.is_some() {
                    "comite-suivi"
                } else {
                    "synthese-nationale"
                }
                .into(),
                lot: lot.map(str::to_owned),
                period: "2025-10".into(),
                cutoff: now,
                file_name: name.into(),
                sha256: "s".into(),
                pdf: bytes.to_vec(),
                created_at: now,
            }
            .store(&mut db.conn())
            .unwrap()
            .0
        };
        let own = store(Some("08"), "comite-suivi_L08_2025-10.pdf", b"%PDF-08\xe2");
        let other = store(Some("09"), "comite-suivi_L09_2025-10.pdf", b"%PDF-09");
        let national = store(None, "synthese-nationale_2025-10.pdf", b"%PDF-N");
        cep_store::models::reports::OutboxEmail::enqueue(
            &mut db.conn(),
            own,
            "c08@example.fr",
            "CEP",
            now,
        )
        .unwrap();
        let s = start(db, 1 << 20);
        let (ana, op, adm) = (s.token("ana"), s.token("op08"), s.token("adm"));
        let list = |token: &str| -> Vec<i64> {
            let v: Value = s
                .call("GET", "/api/v1/documents", Some(token), None)
                .json()
                .unwrap();
            v["documents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_i64().unwrap())
                .collect()
        };
        let mut all = list(&ana);
        all.sort();
        assert_eq!(all, vec![own, other, national]);
        assert_eq!(
            list(&op),
            vec![own],
            "an operator: its lot's, no national document"
        );
        let r = s.call(
            "GET",
            &format!("/api/v1/documents/{own}/pdf"),
            Some(&op),
            None,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("comite-suivi_L08_2025-10.pdf")
        );
        assert_eq!(r.bytes().unwrap().as_ref(), b"%PDF-08\xe2");
        for id in [other, national] {
            let r = s.call(
                "GET",
                &format!("/api/v1/documents/{id}/pdf"),
                Some(&op),
                None,
            );
            assert_eq!(r.status(), 403, "document {id}");
        }
        assert_eq!(
            s.call("GET", "/api/v1/documents/99999/pdf", Some(&ana), None)
                .status(),
            404
        );
        let emails: Value = s
            .call("GET", "/api/v1/emails", Some(&adm), None)
            .json()
            .unwrap();
        assert_eq!(emails["emails"][0]["status"], "pending");
        assert_eq!(emails["emails"][0]["recipient"], "c08@example.fr");
    });
}

/// Issue 21: one configured body limit for every extractor, every error a problem document,
/// JSON routes refusing other media types, tenancy through regional drill-downs, mediation
/// cases only on known dossiers, user-facing 404 details.
fn is_problem(r: &Response) -> bool {
    r.headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

#[test]
fn the_body_limit_is_the_configured_one_for_raw_bodies_too() {
    let db = TestDb::sqlite();
    users(&db);
    // The default limit of actix-web is 256 KiB; the configured one is 32 MiB.
    let s = start(&db, 32 << 20);
    let adm = s.token("adm");
    let mut csv = String::from("numero_dossier;uo;date_reponse;qualite;utilite\n");
    let mut n = 0;
    while csv.len() < 386 * 1024 {
        n += 1;
        csv.push_str(&format!("A7250301{n:06};01;2025-04-01;O;O\n"));
    }
    let r = s
        .client
        .post(s.url("/api/v1/admin/imports/surveys"))
        .bearer_auth(&adm)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    // Over a small configured limit: 413 as a problem document.
    let small = start(&db, 1024);
    let med = small.token("med");
    let r = small
        .client
        .post(small.url("/api/v1/mediation/cases"))
        .bearer_auth(&med)
        .header("Content-Type", "application/json")
        .body(format!("{{\"lot\": \"{}\"}}", "0".repeat(4096)))
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(is_problem(&r));
    let p: Value = r.json().unwrap();
    assert_eq!(p["status"], 413);
    assert!(p["detail"].as_str().unwrap().contains("1024"), "{p}");
}

#[test]
fn json_routes_refuse_other_media_types_with_415() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start(&db, 1 << 20);
    for (user, path, body) in [
        (
            "med",
            "/api/v1/mediation/cases",
            r#"{"lot": "08", "numero_dossier": "A7250301000001", "complaint_reference": "R1"}"#,
        ),
        (
            "adm",
            "/api/v1/admin/users",
            r#"{"username": "x1", "role": "analyst", "password": "a long enough password"}"#,
        ),
        ("ana", "/api/v1/identity/decisions", "{}"),
    ] {
        let token = s.token(user);
        for media in ["text/plain", "application/xml"] {
            let r = s
                .client
                .post(s.url(path))
                .bearer_auth(&token)
                .header("Content-Type", media)
                .body(body)
                .send()
                .unwrap();
            assert_eq!(r.status(), 415, "{path} as {media}");
            assert!(is_problem(&r), "{path}");
        }
    }
    // The login route too (a JSON extractor).
    let r = s
        .client
        .post(s.url("/api/v1/auth/login"))
        .header("Content-Type", "text/plain")
        .body(r#"{"username": "ana", "password": "x"}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
    assert!(is_problem(&r));
}

#[test]
fn an_operator_never_sees_another_lots_dossiers_through_a_regional_value() {
    each_backend(|db| {
        users(db);
        let runs = three_runs(db);
        {
            let mut c = db.conn();
            for (lot, numero) in [("08", "A7250301000001"), ("19", "S9250301000002")] {
                let p = cep_store::models::dossiers::OperatorPerson::get_or_create(
                    &mut c,
                    lot,
                    "P-1",
                    cep_store::models::now_utc(),
                )
                .unwrap();
                cep_store::models::dossiers::NewDossier {
                    numero_dossier: numero,
                    lot,
                    uo: "00",
                    region_lot: "08",
                    operator_person_id: p,
                }
                .insert(&mut c)
                .unwrap();
            }
        }
        let s = start(db, 1 << 20);
        let drill = |user: &str| -> Vec<String> {
            let r = s.call(
                "GET",
                &format!("/api/v1/indicators/drill?run={}&code=2.1&lot=08", runs[0]),
                Some(&s.token(user)),
                None,
            );
            assert_eq!(r.status(), 200);
            let v: Value = r.json().unwrap();
            assert_eq!(v["total"], v["items"].as_array().unwrap().len());
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["item"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(drill("ana"), ["A7250301000001", "S9250301000002"]);
        assert_eq!(
            drill("op08"),
            ["A7250301000001"],
            "lot 19's dossier is not lot 08's"
        );
    });
}

#[test]
fn a_mediation_case_needs_a_known_dossier_and_404_details_are_for_people() {
    let db = TestDb::sqlite();
    users(&db);
    let s = start(&db, 1 << 20);
    let med = s.token("med");
    let r = s.call(
        "POST",
        "/api/v1/mediation/cases",
        Some(&med),
        Some(json!({"lot": "08", "numero_dossier": "A7250301999999", "complaint_reference": "R1"})),
    );
    assert_eq!(r.status(), 404);
    assert!(is_problem(&r));
    let r = s.call(
        "POST",
        "/api/v1/mediation/cases",
        Some(&med),
        Some(
            json!({"lot": "08", "identifiant_beneficiaire": "NOBODY", "complaint_reference": "R1"}),
        ),
    );
    assert_eq!(r.status(), 404);
    // No extractor debug text in a detail.
    let op = s.token("op08");
    for path in [
        "/api/v1/feeds/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/documents/not-a-number/pdf",
        "/api/v1/mediation/cases/x/close",
    ] {
        let method = if path.contains("documents") {
            "GET"
        } else {
            "POST"
        };
        let token = if path.contains("mediation") {
            &med
        } else {
            &op
        };
        let r = s.call(method, path, Some(token), Some(json!({})));
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        assert!(is_problem(&r), "{path}");
        let p: Value = r.json().unwrap();
        let detail = p["detail"].as_str().unwrap();
        assert!(
            !detail.contains("Path(") && !detail.contains("ParseIntError"),
            "{path}: {detail}"
        );
    }
    // A method the route does not have: 405 as a problem.
    let r = s.call("GET", "/api/v1/feeds/dossiers", Some(&op), None);
    assert!(r.status().is_client_error());
    assert!(is_problem(&r));
}

/// Every route of `ROUTES`, as a caller allowed to call it, with a malformed body, a body over
/// the limit and a wrong media type: a client error as a problem document, never a 5xx.
#[test]
fn every_route_refuses_bad_bodies_with_a_problem_and_never_a_5xx() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 4096);
        let tokens: std::collections::HashMap<Role, String> = Role::ALL
            .into_iter()
            .map(|r| (r, s.token(user_of(r))))
            .collect();
        let mut checked = 0;
        for route in ROUTES {
            let path = route
                .path
                .replace("{kind}", "dossiers")
                .replace("{id}", "1")
                .replace("{numero}", "A72503010000001")
                .replace("{username}", "victim")
                .replace("{name}", "A72503010000001_0000.pdf");
            let path = if route.path == "/api/v1/admin/imports/{kind}" {
                route.path.replace("{kind}", "surveys")
            } else {
                path
            };
            // Revoking a token would end it for the next routes: a fresh one there.
            let token = route.roles.first().map(|r| {
                if route.path == "/api/v1/auth/revoke" {
                    s.token(user_of(*r))
                } else {
                    tokens[r].clone()
                }
            });
            for (what, media, body) in [
                ("malformed", "application/json", "{\"lot\": ".to_owned()),
                (
                    "oversize",
                    "application/json",
                    format!("[{}]", "1,".repeat(4096) + "1"),
                ),
                (
                    "wrong media type",
                    "application/xml",
                    "<lot>08</lot>".to_owned(),
                ),
            ] {
                let mut r = match route.method {
                    "GET" => s.client.get(s.url(&path)),
                    _ => s.client.post(s.url(&path)),
                }
                .header("Content-Type", media)
                .body(body);
                if let Some(t) = &token {
                    r = r.bearer_auth(t);
                }
                let r = r.send().unwrap();
                let status = r.status();
                assert!(
                    !status.is_server_error(),
                    "{} {path} with a {what} body: {status}",
                    route.method
                );
                if status.is_client_error() {
                    assert!(
                        is_problem(&r),
                        "{} {path} {what}: not a problem",
                        route.method
                    );
                }
                // A route that reads a body refuses every one of these.
                let reads_body = route.method == "POST"
                    && [
                        "/api/v1/auth/login",
                        "/api/v1/feeds/{kind}",
                        "/api/v1/mediation/cases",
                        "/api/v1/admin/users",
                        "/api/v1/admin/imports/{kind}",
                        "/api/v1/identity/decisions",
                        "/api/v1/deliverables/{name}",
                    ]
                    .contains(&route.path);
                if reads_body {
                    assert!(
                        status.is_client_error(),
                        "{} {path} accepted a {what} body: {status}",
                        route.method
                    );
                }
                checked += 1;
            }
        }
        assert_eq!(checked, ROUTES.len() * 3);
    });
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    cep_ingest::dossier::hex(&sha2::Sha256::digest(bytes))
}

fn push_deliverable(s: &Server, token: &str, name: &str, media: &str, body: &[u8]) -> Response {
    s.client
        .post(s.url(&format!("/api/v1/deliverables/{name}")))
        .bearer_auth(token)
        .header("Content-Type", media)
        .body(body.to_vec())
        .send()
        .unwrap()
}

/// Feed spec point 34 (issue 23.1): a deliverable pushed by its operator is checked against
/// the SHA-256 of its name, kept, matched with the fiche declaring it; until it arrives it is
/// awaited; analysts read it for the deliverable controls and the médiateur through a case,
/// both audited.
#[test]
fn point_34_deliverables_are_checked_matched_awaited_and_read_through_a_case() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 1 << 20);
        let (op, ana, med) = (s.token("op08"), s.token("ana"), s.token("med"));
        let pdf = b"%PDF-1.7\n% etat des lieux partage, signe\n".to_vec();
        let sha = sha256_hex(&pdf);
        let mut fiche = fiche_json(1);
        fiche["livrable_sha256"] = json!(sha);
        let numero = fiche["numero_dossier"].as_str().unwrap().to_owned();
        let report: Value = s
            .call(
                "POST",
                "/api/v1/feeds/dossiers",
                Some(&op),
                Some(json!({"lot": "08", "records": [fiche]})),
            )
            .json()
            .unwrap();
        assert_eq!(report["accepted"], 1, "{report}");

        // Declared, not received: awaited, not yet late.
        let awaited: Value = s
            .call(
                "GET",
                "/api/v1/deliverables?state=awaited",
                Some(&ana),
                None,
            )
            .json()
            .unwrap();
        assert_eq!(awaited["items"].as_array().unwrap().len(), 1, "{awaited}");
        assert_eq!(awaited["items"][0]["numero_dossier"], numero.as_str());
        assert_eq!(awaited["items"][0]["late"], false);

        let name = format!("{numero}_{sha}.pdf");
        // Another media type: 415. Content that is not the one named: 422, nothing kept.
        let r = push_deliverable(&s, &op, &name, "text/plain", &pdf);
        assert_eq!(r.status(), 415);
        let mut altered = pdf.clone();
        altered.push(b' ');
        let r = push_deliverable(&s, &op, &name, "application/pdf", &altered);
        assert_eq!(r.status(), 422);
        let problem: Value = r.json().unwrap();
        assert_eq!(problem["report"]["status"], "rejected", "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("empreinte"),
            "{problem}"
        );
        // A ZIP named .pdf is not a PDF.
        let zip = b"PK\x03\x04 not a pdf".to_vec();
        let r = push_deliverable(
            &s,
            &op,
            &format!("{numero}_{}.pdf", sha256_hex(&zip)),
            "application/pdf",
            &zip,
        );
        assert_eq!(r.status(), 422);

        // The right file: kept and matched; again: 200, a duplicate.
        let r = push_deliverable(&s, &op, &name, "application/pdf", &pdf);
        assert_eq!(r.status(), 201);
        let kept: Value = r.json().unwrap();
        assert_eq!(kept["status"], "matched", "{kept}");
        let r = push_deliverable(&s, &op, &name, "application/pdf", &pdf);
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().unwrap()["status"], "duplicate");
        // A file for a dossier the lot never sent: kept and reported unmatched.
        let stray = b"%PDF-1.4\n% projet professionnel\n".to_vec();
        let r = push_deliverable(
            &s,
            &op,
            &format!("A7250321000077_{}.pdf", sha256_hex(&stray)),
            "application/octet-stream",
            &stray,
        );
        assert_eq!(r.status(), 201);
        let stray_report: Value = r.json().unwrap();
        assert_eq!(stray_report["status"], "unmatched");
        assert!(
            stray_report["message"]
                .as_str()
                .unwrap()
                .contains("aucun dossier"),
            "{stray_report}"
        );

        let awaited: Value = s
            .call(
                "GET",
                "/api/v1/deliverables?state=awaited",
                Some(&ana),
                None,
            )
            .json()
            .unwrap();
        assert_eq!(awaited["items"], json!([]), "{awaited}");
        let received: Value = s
            .call("GET", "/api/v1/deliverables?lot=08", Some(&op), None)
            .json()
            .unwrap();
        let items = received["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{received}");
        let mine = items.iter().find(|d| d["sha256"] == sha.as_str()).unwrap();
        assert_eq!(mine["matched"], true);
        assert!(items.iter().any(|d| d["matched"] == false));
        // An operator reads its own lot only.
        assert_eq!(
            s.call("GET", "/api/v1/deliverables?lot=09", Some(&op), None)
                .status(),
            403
        );

        // The analyst's deliverable control reads the file as it was received.
        let id = mine["id"].as_i64().unwrap();
        let r = s.call(
            "GET",
            &format!("/api/v1/deliverables/{id}/file"),
            Some(&ana),
            None,
        );
        assert_eq!(r.status(), 200);
        assert_eq!(r.bytes().unwrap().as_ref(), pdf.as_slice());

        // The médiateur: only through an open case on the dossier; the read is a dossier read
        // told to the operator.
        let path = format!("/api/v1/mediation/cases/1/dossiers/{numero}/deliverable");
        assert_eq!(s.call("GET", &path, Some(&med), None).status(), 403);
        let case: Value = s
            .call(
                "POST",
                "/api/v1/mediation/cases",
                Some(&med),
                Some(json!({"lot": "08", "numero_dossier": numero, "complaint_reference": "R-2026-034"})),
            )
            .json()
            .unwrap();
        let case_id = case["id"].as_i64().unwrap();
        let path = format!("/api/v1/mediation/cases/{case_id}/dossiers/{numero}/deliverable");
        let r = s.call("GET", &path, Some(&med), None);
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/pdf"
        );
        assert_eq!(r.bytes().unwrap().as_ref(), pdf.as_slice());
        let reads = cep_store::models::access::audit_of_day(
            &mut db.conn(),
            "dossier_access",
            "08",
            cep_domain::paris::date_of(cep_store::models::now_utc()),
        )
        .unwrap();
        assert_eq!(reads.len(), 1, "{reads:?}");
        assert_eq!(reads[0].target.as_deref(), Some(numero.as_str()));
    });
}

/// Annex 3 recette (issue 23.3): `?dry_run=true` answers the report a push would get and keeps
/// nothing, so the real push afterwards is processed, not a duplicate.
#[test]
fn annex_3_a_push_in_validation_only_mode_keeps_nothing() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 1 << 20);
        let op = s.token("op08");
        let body = json!({"lot": "08", "records": [fiche_json(5)]});
        let checked: Value = s
            .call(
                "POST",
                "/api/v1/feeds/dossiers?dry_run=true",
                Some(&op),
                Some(body.clone()),
            )
            .json()
            .unwrap();
        assert_eq!(checked["dry_run"], true, "{checked}");
        assert_eq!(checked["accepted"], 1, "{checked}");
        let listed: Value = s
            .call("GET", "/api/v1/reports", Some(&op), None)
            .json()
            .unwrap();
        assert_eq!(listed["total"], 0, "{listed}");
        let real: Value = s
            .call("POST", "/api/v1/feeds/dossiers", Some(&op), Some(body))
            .json()
            .unwrap();
        assert_eq!(
            (real["status"].clone(), real["accepted"].clone()),
            (json!("accepted"), json!(1)),
            "{real}"
        );
    });
}

/// CCTP 3.7 (issue 23.2): complaints against their 7-day acknowledgment and 45-day answer
/// deadlines, counted per lot, with the médiateur's case linked to the complaint it escalates.
#[test]
fn cctp_3_7_complaints_are_monitored_against_their_deadlines_and_linked_to_cases() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 1 << 20);
        let (op, ana, med) = (s.token("op08"), s.token("ana"), s.token("med"));
        let today = cep_domain::paris::date_of(cep_store::models::now_utc());
        let day = |back: i64| (today - chrono::Duration::days(back)).to_string();
        let horodatage = fiche_json(1)["horodatage"].clone();
        let complaint =
            |id: &str, person: &str, received: i64, ack: Option<i64>, answer: Option<i64>| {
                let mut v = json!({
                    "horodatage": horodatage, "identifiant_reclamation": id,
                    "identifiant_beneficiaire": person, "date_reception": day(received),
                    "motif_reclamation": "DELAI_RDV",
                });
                if let Some(a) = ack {
                    v["date_accuse_reception"] = json!(day(a));
                }
                if let Some(a) = answer {
                    v["date_reponse"] = json!(day(a));
                }
                v
            };
        let records = json!([
            // Acknowledged after 3 days, answered after 20: on time.
            complaint("R-1", "P-0001", 60, Some(57), Some(40)),
            // Acknowledged after 10 days: late; not answered 60 days on: overdue.
            complaint("R-2", "P-0002", 60, Some(50), None),
            // Received 3 days ago, nothing yet: pending.
            complaint("R-3", "P-0003", 3, None, None),
        ]);
        let r: Value = s
            .call(
                "POST",
                "/api/v1/feeds/reclamations",
                Some(&op),
                Some(json!({"lot": "08", "records": records})),
            )
            .json()
            .unwrap();
        assert_eq!(r["accepted"], 3, "{r}");
        // R-2's beneficiary has a dossier (a case is opened on a known beneficiary only).
        let f: Value = s
            .call(
                "POST",
                "/api/v1/feeds/dossiers",
                Some(&op),
                Some(json!({"lot": "08", "records": [fiche_json(2)]})),
            )
            .json()
            .unwrap();
        assert_eq!(f["accepted"], 1, "{f}");
        // The médiateur opens a case for the beneficiary of R-2.
        let case: Value = s
            .call(
                "POST",
                "/api/v1/mediation/cases",
                Some(&med),
                Some(json!({"lot": "08", "identifiant_beneficiaire": "P-0002", "complaint_reference": "R-2"})),
            )
            .json()
            .unwrap();
        let case_id = case["id"].as_i64().unwrap();

        let all: Value = s
            .call("GET", "/api/v1/complaints?lot=08", Some(&ana), None)
            .json()
            .unwrap();
        assert_eq!(
            all["lots"],
            json!([{"lot": "08", "complaints": 3, "acknowledgment_missed": 1,
                    "acknowledgment_overdue": 0, "answer_missed": 1, "answer_overdue": 1,
                    "answer_pending": 1, "escalated": 1}]),
            "{all}"
        );
        let by_id = |v: &Value, id: &str| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["identifiant_reclamation"] == id)
                .cloned()
                .unwrap()
        };
        assert_eq!(by_id(&all, "R-1")["answer"]["state"], "met");
        let r2 = by_id(&all, "R-2");
        assert_eq!(r2["acknowledgment"]["state"], "late");
        assert_eq!(r2["acknowledgment"]["days_late"], 3);
        assert_eq!(r2["answer"]["state"], "overdue");
        assert_eq!(r2["answer"]["days_over"], 15);
        assert_eq!(r2["mediation_cases"], json!([case_id]));
        assert_eq!(by_id(&all, "R-3")["acknowledgment"]["state"], "pending");

        let overdue: Value = s
            .call("GET", "/api/v1/complaints?state=overdue", Some(&med), None)
            .json()
            .unwrap();
        let ids: Vec<&str> = overdue["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["identifiant_reclamation"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec!["R-2"]);
        // The operator reads its own lot only.
        assert_eq!(
            s.call("GET", "/api/v1/complaints?lot=09", Some(&op), None)
                .status(),
            403
        );
        // The médiateur's case names the complaint it escalates.
        let cases: Value = s
            .call("GET", "/api/v1/mediation/cases", Some(&med), None)
            .json()
            .unwrap();
        assert_eq!(cases["cases"][0]["complaints"], json!(["R-2"]), "{cases}");
    });
}

/// Annex 3 (issue 23.3): a day's feed monitoring, an operator seeing its own lot only.
#[test]
fn annex_3_feed_monitoring_flags_a_lot_that_sent_nothing_today() {
    each_backend(|db| {
        users(db);
        registry(db);
        let s = start(db, 1 << 20);
        let (op, ana) = (s.token("op08"), s.token("ana"));
        let r: Value = s
            .call(
                "POST",
                "/api/v1/feeds/dossiers",
                Some(&op),
                Some(json!({"lot": "08", "records": [fiche_json(7)]})),
            )
            .json()
            .unwrap();
        assert_eq!(r["accepted"], 1, "{r}");
        let all: Value = s
            .call("GET", "/api/v1/monitoring/feeds", Some(&ana), None)
            .json()
            .unwrap();
        let lots = all["lots"].as_array().unwrap();
        let of = |l: &str| lots.iter().find(|x| x["lot"] == l).cloned().unwrap();
        assert_eq!(of("08")["missing"], false, "{all}");
        assert_eq!(of("08")["feeds"], 1);
        assert_eq!(of("09")["missing"], true, "{all}");
        let mine: Value = s
            .call("GET", "/api/v1/monitoring/feeds", Some(&op), None)
            .json()
            .unwrap();
        assert_eq!(mine["lots"].as_array().unwrap().len(), 1, "{mine}");
        assert_eq!(
            s.call("GET", "/api/v1/monitoring/feeds?lot=09", Some(&op), None)
                .status(),
            403
        );
    });
}

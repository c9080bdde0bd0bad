-- Foundation schema (issue 2). Kept side by side with its twin for the other backend:
-- the two files differ only in the id, timestamp and boolean type names.
-- Instants are stored in UTC; dates as dates; amounts in integer cents; FTE in hundredths.

CREATE TABLE operators (                  -- titulaires: operator code per lot and period (spec §9)
    id              BIGSERIAL PRIMARY KEY,
    lot             TEXT NOT NULL,
    code_operateur  TEXT NOT NULL,
    nom             TEXT NOT NULL,
    date_debut      DATE NOT NULL,
    date_fin        DATE,
    import_id       BIGINT,
    recorded_at     TIMESTAMP NOT NULL,
    superseded_at   TIMESTAMP
);
CREATE INDEX operators_lot ON operators (lot, date_debut) ;

CREATE TABLE buyer_imports (              -- every buyer-side import (cep import KIND FILE)
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    rows_total  INTEGER NOT NULL,
    rows_new    INTEGER NOT NULL,
    rows_amended INTEGER NOT NULL
);

CREATE TABLE receipts (                   -- every received file or body, before parsing
    id            BIGSERIAL PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,
    lot           TEXT,
    kind          TEXT,
    channel       TEXT NOT NULL,          -- inbox, cli, api, pull
    file_name     TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    received_at_override BOOLEAN NOT NULL,
    archive_path  TEXT NOT NULL,
    status        TEXT NOT NULL,          -- received, accepted, rejected
    processed_at  TIMESTAMP,
    lines_total   INTEGER NOT NULL,
    lines_accepted INTEGER NOT NULL,
    lines_quarantined INTEGER NOT NULL,
    warnings      INTEGER NOT NULL
);

CREATE TABLE operator_persons (           -- an operator's own person id, per lot
    id                    BIGSERIAL PRIMARY KEY,
    lot                   TEXT NOT NULL,
    identifiant_beneficiaire TEXT NOT NULL,
    national_person_id    TEXT,           -- pseudonymous, assigned by identity resolution
    first_seen_at         TIMESTAMP NOT NULL,
    UNIQUE (lot, identifiant_beneficiaire)
);
CREATE INDEX operator_persons_national ON operator_persons (national_person_id);

-- Personal data, apart from activity data (DESIGN decision 6): one row per distinct set of
-- identity values received for an operator person.
CREATE TABLE identity_records (
    id                 BIGSERIAL PRIMARY KEY,
    operator_person_id BIGINT NOT NULL REFERENCES operator_persons (id),
    identity_hash      TEXT NOT NULL,
    nom                TEXT,
    nom_usage          TEXT,
    prenom             TEXT,
    sexe               TEXT,
    date_naissance     DATE,
    nir                TEXT,
    adresse_numero     TEXT,
    adresse_type_voie  TEXT,
    adresse_voie       TEXT,
    adresse_commune    TEXT,
    adresse_code_postal TEXT,
    email              TEXT,
    telephone          TEXT,
    first_seen_at      TIMESTAMP NOT NULL,
    UNIQUE (operator_person_id, identity_hash)
);

CREATE TABLE dossiers (                   -- one work-unit dossier; its state is its latest fiche
    id                 BIGSERIAL PRIMARY KEY,
    numero_dossier     TEXT NOT NULL UNIQUE,
    lot                TEXT NOT NULL,     -- lot of its first accepted fiche (point 13)
    uo                 TEXT NOT NULL,
    region_lot         TEXT NOT NULL,
    operator_person_id BIGINT NOT NULL REFERENCES operator_persons (id),
    current_fiche_id   BIGINT,
    current_horodatage_utc TIMESTAMP
);
CREATE INDEX dossiers_person ON dossiers (operator_person_id);

CREATE TABLE fiches (                     -- every accepted fiche, kept forever
    id                 BIGSERIAL PRIMARY KEY,
    dossier_id         BIGINT NOT NULL REFERENCES dossiers (id),
    receipt_id         BIGINT NOT NULL REFERENCES receipts (id),
    line_number        BIGINT NOT NULL,
    horodatage         TEXT NOT NULL,     -- as received, with its offset
    horodatage_utc     TIMESTAMP NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    content_hash       TEXT NOT NULL,
    identity_record_id BIGINT REFERENCES identity_records (id),
    residence_departement TEXT,           -- from adresse_code_postal: calendars (Alsace-Moselle)
    uo                 TEXT NOT NULL,
    region_lot         TEXT,
    entreprise_departement TEXT,
    entreprise_code_postal TEXT,
    entreprise_commune TEXT,
    structure          TEXT,
    handicap           TEXT,
    niveau_formation   TEXT,
    secteur_activite   TEXT,
    libelle_secteur    TEXT,
    taille_entreprise  TEXT,
    categorie_sociale  TEXT,
    libelle_profession TEXT,
    statut             TEXT NOT NULL,
    entree_entreprise  TEXT,
    date_engagement    DATE NOT NULL,
    date_cloture       DATE,
    motif_cloture      TEXT,
    numero_decompte    TEXT,
    reference_bc       TEXT,
    origine            TEXT,
    motif              TEXT,
    motif_detaille     TEXT,
    aiguillage         TEXT,
    date_demande_rdv   DATE,
    dates_interactions TEXT,              -- lists: normalised values joined with |
    modes_contact      TEXT,
    numero_dossier_uo21 TEXT,
    types_service      TEXT,
    description_service TEXT,
    prestations_complementaires TEXT,
    auto_prescription  BOOLEAN,
    financement_formation TEXT,
    decouvertes_metiers TEXT,
    projet_reconversion_cpir BOOLEAN,
    etat_projet_cloture TEXT,
    livrable_sha256    TEXT
);
CREATE UNIQUE INDEX fiches_dossier ON fiches (dossier_id, horodatage_utc);  -- point 12: one fiche per instant
CREATE INDEX fiches_received ON fiches (received_at);

CREATE TABLE quarantined_lines (          -- lines with a blocking anomaly: never a fiche
    id              BIGSERIAL PRIMARY KEY,
    receipt_id      BIGINT NOT NULL REFERENCES receipts (id),
    line_number     BIGINT NOT NULL,
    numero_dossier  TEXT,
    raw             TEXT NOT NULL,
    superseded_by_fiche_id BIGINT
);
CREATE INDEX quarantined_dossier ON quarantined_lines (numero_dossier);

CREATE TABLE anomalies (
    id              BIGSERIAL PRIMARY KEY,
    receipt_id      BIGINT NOT NULL REFERENCES receipts (id),
    line_number     BIGINT,               -- CSV physical line, or JSON index; null for the file
    numero_dossier  TEXT,
    column_name     TEXT,
    code            TEXT NOT NULL,
    severity        TEXT NOT NULL,        -- blocking, warning
    message         TEXT NOT NULL,
    fiche_id        BIGINT,
    quarantined_line_id BIGINT
);
CREATE INDEX anomalies_receipt ON anomalies (receipt_id);
CREATE INDEX anomalies_code ON anomalies (code);

CREATE TABLE purchase_orders (            -- bons de commande (spec §9)
    id              BIGSERIAL PRIMARY KEY,
    reference       TEXT NOT NULL,        -- AAAA-Lotww-UOxx-yy
    lot             TEXT NOT NULL,
    uo              TEXT NOT NULL,
    date_notification DATE NOT NULL,
    quantite        BIGINT NOT NULL,
    prix_unitaire_ht_cents BIGINT NOT NULL,
    taux_tva_bp     INTEGER NOT NULL,     -- VAT rate in ten-thousandths (0.20 = 2000)
    date_debut      DATE NOT NULL,
    date_fin        DATE NOT NULL,
    import_id       BIGINT,
    recorded_at     TIMESTAMP NOT NULL,
    superseded_at   TIMESTAMP
);
CREATE INDEX purchase_orders_ref ON purchase_orders (reference);

CREATE TABLE survey_answers (             -- indicator 8.1 and the quality bonus
    id              BIGSERIAL PRIMARY KEY,
    numero_dossier  TEXT NOT NULL,
    uo              TEXT NOT NULL,
    date_reponse    DATE NOT NULL,
    qualite         BOOLEAN NOT NULL,
    utilite         BOOLEAN NOT NULL,
    import_id       BIGINT,
    recorded_at     TIMESTAMP NOT NULL,
    superseded_at   TIMESTAMP
);
CREATE INDEX survey_answers_dossier ON survey_answers (numero_dossier);

CREATE TABLE mystery_contacts (           -- indicator 8.3
    id              BIGSERIAL PRIMARY KEY,
    lot             TEXT NOT NULL,
    date_contact    DATE NOT NULL,
    numero          INTEGER NOT NULL,
    conforme        BOOLEAN NOT NULL,
    import_id       BIGINT,
    recorded_at     TIMESTAMP NOT NULL,
    superseded_at   TIMESTAMP
);

CREATE TABLE deliverable_controls (       -- indicator 8.5
    id              BIGSERIAL PRIMARY KEY,
    numero_dossier  TEXT NOT NULL,
    date_controle   DATE NOT NULL,
    conforme        BOOLEAN NOT NULL,
    import_id       BIGINT,
    recorded_at     TIMESTAMP NOT NULL,
    superseded_at   TIMESTAMP
);

CREATE TABLE reference_populations (      -- indicators 2.1–2.4
    id              BIGSERIAL PRIMARY KEY,
    lot             TEXT NOT NULL,
    annee           INTEGER NOT NULL,
    dimension       TEXT NOT NULL,        -- total, categorie_sociale, statut
    code            TEXT NOT NULL,        -- empty for total
    population_active BIGINT,
    population_active_occupee BIGINT,
    population_cible_cep BIGINT,
    import_id       BIGINT,
    recorded_at     TIMESTAMP NOT NULL,
    superseded_at   TIMESTAMP
);

CREATE TABLE complaints (                 -- RECLAMATIONS: every accepted version
    id              BIGSERIAL PRIMARY KEY,
    receipt_id      BIGINT NOT NULL REFERENCES receipts (id),
    line_number     BIGINT NOT NULL,
    lot             TEXT NOT NULL,
    identifiant_reclamation TEXT NOT NULL,
    horodatage      TEXT NOT NULL,
    horodatage_utc  TIMESTAMP NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    content_hash    TEXT NOT NULL,
    numero_dossier  TEXT,
    identifiant_beneficiaire TEXT NOT NULL,
    date_reception  DATE NOT NULL,
    motif_reclamation TEXT NOT NULL,
    date_accuse_reception DATE,
    date_reponse    DATE
);
CREATE INDEX complaints_key ON complaints (lot, identifiant_reclamation);

CREATE TABLE means (                      -- MOYENS: means and costs per lot and half-year
    id              BIGSERIAL PRIMARY KEY,
    receipt_id      BIGINT NOT NULL REFERENCES receipts (id),
    line_number     BIGINT NOT NULL,
    lot             TEXT NOT NULL,
    periode         TEXT NOT NULL,
    horodatage      TEXT NOT NULL,
    horodatage_utc  TIMESTAMP NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    content_hash    TEXT NOT NULL,
    etp_uo0_hundredths BIGINT NOT NULL,
    etp_uo1_hundredths BIGINT NOT NULL,
    etp_uo21_hundredths BIGINT NOT NULL,
    etp_uo22_hundredths BIGINT NOT NULL,
    nb_implantations INTEGER NOT NULL,
    implantations   TEXT NOT NULL,
    autres_points_acces TEXT NOT NULL,
    cout_jour_etp_uo0_cents BIGINT NOT NULL,
    cout_jour_etp_uo1_cents BIGINT NOT NULL,
    cout_jour_etp_uo21_cents BIGINT NOT NULL,
    cout_jour_etp_uo22_cents BIGINT NOT NULL,
    masse_salariale_cents BIGINT NOT NULL,
    frais_immobiliers_cents BIGINT NOT NULL,
    frais_si_cents  BIGINT NOT NULL,
    frais_promotion_cents BIGINT NOT NULL,
    frais_partenariats_cents BIGINT NOT NULL,
    autres_frais_cents BIGINT NOT NULL
);
CREATE INDEX means_key ON means (lot, periode);

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,        -- analyst, operator, mediator, admin
    lot             TEXT,                 -- for operators
    password_hash   TEXT,
    disabled        BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

// The Diesel schema. Kept in step by hand with migrations/postgres and migrations/sqlite (same
// tables and columns on both); `tests/schema.rs` checks every column here exists in both.
// Instants are UTC `Timestamp`s; dates `Date`; lists `|`-joined `Text`; money in cents.

diesel::table! {
    operators (id) {
        id -> BigInt,
        lot -> Text,
        code_operateur -> Text,
        nom -> Text,
        date_debut -> Date,
        date_fin -> Nullable<Date>,
        import_id -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    buyer_imports (id) {
        id -> BigInt,
        kind -> Text,
        file_name -> Text,
        sha256 -> Text,
        imported_at -> Timestamp,
        rows_total -> Integer,
        rows_new -> Integer,
        rows_amended -> Integer,
    }
}

diesel::table! {
    receipts (id) {
        id -> BigInt,
        sha256 -> Text,
        lot -> Nullable<Text>,
        kind -> Nullable<Text>,
        channel -> Text,
        file_name -> Text,
        size_bytes -> BigInt,
        received_at -> Timestamp,
        received_at_override -> Bool,
        archive_path -> Text,
        status -> Text,
        processed_at -> Nullable<Timestamp>,
        lines_total -> Integer,
        lines_accepted -> Integer,
        lines_quarantined -> Integer,
        warnings -> Integer,
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    operator_persons (id) {
        id -> BigInt,
        lot -> Text,
        identifiant_beneficiaire -> Text,
        national_person_id -> Nullable<Text>,
        first_seen_at -> Timestamp,
    }
}

diesel::table! {
    identity_records (id) {
        id -> BigInt,
        operator_person_id -> BigInt,
        identity_hash -> Text,
        nom -> Nullable<Text>,
        nom_usage -> Nullable<Text>,
        prenom -> Nullable<Text>,
        sexe -> Nullable<Text>,
        date_naissance -> Nullable<Date>,
        nir -> Nullable<Text>,
        adresse_numero -> Nullable<Text>,
        adresse_type_voie -> Nullable<Text>,
        adresse_voie -> Nullable<Text>,
        adresse_commune -> Nullable<Text>,
        adresse_code_postal -> Nullable<Text>,
        email -> Nullable<Text>,
        telephone -> Nullable<Text>,
        first_seen_at -> Timestamp,
    }
}

diesel::table! {
    dossiers (id) {
        id -> BigInt,
        numero_dossier -> Text,
        lot -> Text,
        uo -> Text,
        region_lot -> Text,
        operator_person_id -> BigInt,
        current_horodatage_utc -> Nullable<Timestamp>,
        date_engagement -> Nullable<Date>,
        date_cloture -> Nullable<Date>,
        motif_cloture -> Nullable<Text>,
        ever_eligible -> Bool,
    }
}

diesel::table! {
    fiches (id) {
        id -> BigInt,
        dossier_id -> BigInt,
        receipt_id -> BigInt,
        line_number -> BigInt,
        horodatage -> Text,
        horodatage_utc -> Timestamp,
        received_at -> Timestamp,
        content_hash -> Text,
        identity_record_id -> Nullable<BigInt>,
        residence_departement -> Nullable<Text>,
        uo -> Text,
        region_lot -> Nullable<Text>,
        entreprise_departement -> Nullable<Text>,
        entreprise_code_postal -> Nullable<Text>,
        entreprise_commune -> Nullable<Text>,
        structure -> Nullable<Text>,
        handicap -> Nullable<Text>,
        niveau_formation -> Nullable<Text>,
        secteur_activite -> Nullable<Text>,
        libelle_secteur -> Nullable<Text>,
        taille_entreprise -> Nullable<Text>,
        categorie_sociale -> Nullable<Text>,
        libelle_profession -> Nullable<Text>,
        statut -> Text,
        entree_entreprise -> Nullable<Text>,
        date_engagement -> Date,
        date_cloture -> Nullable<Date>,
        motif_cloture -> Nullable<Text>,
        numero_decompte -> Nullable<Text>,
        reference_bc -> Nullable<Text>,
        origine -> Nullable<Text>,
        motif -> Nullable<Text>,
        motif_detaille -> Nullable<Text>,
        aiguillage -> Nullable<Text>,
        date_demande_rdv -> Nullable<Date>,
        dates_interactions -> Nullable<Text>,
        modes_contact -> Nullable<Text>,
        numero_dossier_uo21 -> Nullable<Text>,
        types_service -> Nullable<Text>,
        description_service -> Nullable<Text>,
        prestations_complementaires -> Nullable<Text>,
        auto_prescription -> Nullable<Bool>,
        financement_formation -> Nullable<Text>,
        decouvertes_metiers -> Nullable<Text>,
        projet_reconversion_cpir -> Nullable<Bool>,
        etat_projet_cloture -> Nullable<Text>,
        livrable_sha256 -> Nullable<Text>,
    }
}

diesel::table! {
    quarantined_lines (id) {
        id -> BigInt,
        receipt_id -> BigInt,
        line_number -> BigInt,
        numero_dossier -> Nullable<Text>,
        raw -> Text,
        superseded_by_fiche_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    anomalies (id) {
        id -> BigInt,
        receipt_id -> BigInt,
        line_number -> Nullable<BigInt>,
        numero_dossier -> Nullable<Text>,
        column_name -> Nullable<Text>,
        code -> Text,
        severity -> Text,
        message -> Text,
        fiche_id -> Nullable<BigInt>,
        quarantined_line_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    purchase_orders (id) {
        id -> BigInt,
        reference -> Text,
        lot -> Text,
        uo -> Text,
        date_notification -> Date,
        quantite -> BigInt,
        prix_unitaire_ht_cents -> BigInt,
        taux_tva_bp -> Integer,
        date_debut -> Date,
        date_fin -> Date,
        import_id -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    survey_answers (id) {
        id -> BigInt,
        numero_dossier -> Text,
        uo -> Text,
        date_reponse -> Date,
        qualite -> Bool,
        utilite -> Bool,
        import_id -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mystery_contacts (id) {
        id -> BigInt,
        lot -> Text,
        date_contact -> Date,
        numero -> Integer,
        conforme -> Bool,
        import_id -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deliverable_controls (id) {
        id -> BigInt,
        numero_dossier -> Text,
        date_controle -> Date,
        conforme -> Bool,
        import_id -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reference_populations (id) {
        id -> BigInt,
        lot -> Text,
        annee -> Integer,
        dimension -> Text,
        code -> Text,
        population_active -> Nullable<BigInt>,
        population_active_occupee -> Nullable<BigInt>,
        population_cible_cep -> Nullable<BigInt>,
        import_id -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    complaints (id) {
        id -> BigInt,
        receipt_id -> BigInt,
        line_number -> BigInt,
        lot -> Text,
        identifiant_reclamation -> Text,
        horodatage -> Text,
        horodatage_utc -> Timestamp,
        received_at -> Timestamp,
        content_hash -> Text,
        numero_dossier -> Nullable<Text>,
        identifiant_beneficiaire -> Text,
        date_reception -> Date,
        motif_reclamation -> Text,
        date_accuse_reception -> Nullable<Date>,
        date_reponse -> Nullable<Date>,
    }
}

diesel::table! {
    means (id) {
        id -> BigInt,
        receipt_id -> BigInt,
        line_number -> BigInt,
        lot -> Text,
        periode -> Text,
        horodatage -> Text,
        horodatage_utc -> Timestamp,
        received_at -> Timestamp,
        content_hash -> Text,
        etp_uo0_hundredths -> BigInt,
        etp_uo1_hundredths -> BigInt,
        etp_uo21_hundredths -> BigInt,
        etp_uo22_hundredths -> BigInt,
        nb_implantations -> Integer,
        implantations -> Text,
        autres_points_acces -> Text,
        cout_jour_etp_uo0_cents -> BigInt,
        cout_jour_etp_uo1_cents -> BigInt,
        cout_jour_etp_uo21_cents -> BigInt,
        cout_jour_etp_uo22_cents -> BigInt,
        masse_salariale_cents -> BigInt,
        frais_immobiliers_cents -> BigInt,
        frais_si_cents -> BigInt,
        frais_promotion_cents -> BigInt,
        frais_partenariats_cents -> BigInt,
        autres_frais_cents -> BigInt,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        role -> Text,
        lot -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        disabled -> Bool,
        created_at -> Timestamp,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        role -> Text,
        action -> Text,
        lot -> Nullable<Text>,
        target -> Nullable<Text>,
        detail -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    revoked_tokens (jti) {
        jti -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    consumption_refs (reference) {
        reference -> Text,
        dossier_id -> BigInt,
        receipt_id -> BigInt,
    }
}

diesel::table! {
    processing_reports (receipt_id) {
        receipt_id -> BigInt,
        lot -> Nullable<Text>,
        file_name -> Text,
        status -> Text,
        report_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pull_cursors (lot) {
        lot -> Text,
        since -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    link_runs (id) {
        id -> BigInt,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        mode -> Text,
        records -> BigInt,
        new_records -> BigInt,
        candidate_pairs -> BigInt,
        matched_pairs -> BigInt,
        ids_changed -> BigInt,
        model -> Text,
    }
}

diesel::table! {
    link_events (id) {
        id -> BigInt,
        run_id -> BigInt,
        kind -> Text,
        national_person_id -> Text,
        other_national_person_id -> Text,
        records -> BigInt,
        reason -> Text,
    }
}

diesel::table! {
    consumption_statements (number, cutoff) {
        number -> Text,
        cutoff -> Timestamp,
        body_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    order_alerts (id) {
        id -> BigInt,
        order_reference -> Text,
        level -> Integer,
        consumed -> BigInt,
        quantity -> BigInt,
        cutoff -> Timestamp,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    link_keys (key, operator_person_id) {
        key -> BigInt,
        operator_person_id -> BigInt,
    }
}

diesel::table! {
    link_decisions (id) {
        id -> BigInt,
        operator_person_a -> BigInt,
        operator_person_b -> BigInt,
        same -> Bool,
        decided_by -> Text,
        reason -> Text,
        decided_at -> Timestamp,
    }
}

diesel::joinable!(identity_records -> operator_persons (operator_person_id));
diesel::joinable!(dossiers -> operator_persons (operator_person_id));
diesel::joinable!(fiches -> dossiers (dossier_id));
diesel::joinable!(fiches -> receipts (receipt_id));
diesel::joinable!(quarantined_lines -> receipts (receipt_id));
diesel::joinable!(anomalies -> receipts (receipt_id));
diesel::joinable!(complaints -> receipts (receipt_id));
diesel::joinable!(means -> receipts (receipt_id));
diesel::joinable!(consumption_refs -> dossiers (dossier_id));
diesel::joinable!(processing_reports -> receipts (receipt_id));
diesel::joinable!(link_events -> link_runs (run_id));
diesel::table! {
    indicator_runs (id) {
        id -> BigInt,
        period -> Text,
        cutoff -> Timestamp,
        computed_at -> Timestamp,
        code_version -> Text,
        rules_json -> Text,
    }
}

diesel::table! {
    indicator_values (run_id, code, lot, category) {
        run_id -> BigInt,
        code -> Text,
        lot -> Text,
        category -> Text,
        numerator -> BigInt,
        denominator -> Nullable<Double>,
        value -> Nullable<Double>,
        median -> Nullable<Double>,
        mean -> Nullable<Double>,
        wilson_lower -> Nullable<Double>,
    }
}

diesel::table! {
    mediation_cases (id) {
        id -> BigInt,
        lot -> Text,
        numero_dossier -> Nullable<Text>,
        identifiant_beneficiaire -> Nullable<Text>,
        complaint_reference -> Text,
        mediator -> Text,
        opened_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(indicator_values -> indicator_runs (run_id));

diesel::table! {
    documents (id) {
        id -> BigInt,
        kind -> Text,
        lot -> Nullable<Text>,
        period -> Text,
        cutoff -> Timestamp,
        file_name -> Text,
        sha256 -> Text,
        pdf -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    job_runs (id) {
        id -> BigInt,
        job -> Text,
        period -> Text,
        status -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        detail -> Text,
    }
}

diesel::table! {
    email_outbox (id) {
        id -> BigInt,
        document_id -> BigInt,
        recipient -> Text,
        subject -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mediator_read_cursors (lot) {
        lot -> Text,
        last_audit_id -> BigInt,
    }
}

diesel::table! {
    deliverables (id) {
        id -> BigInt,
        lot -> Text,
        numero_dossier -> Text,
        sha256 -> Text,
        format -> Text,
        file_name -> Text,
        size_bytes -> BigInt,
        channel -> Text,
        received_at -> Timestamp,
        archive_path -> Text,
    }
}

diesel::joinable!(email_outbox -> documents (document_id));

diesel::allow_tables_to_appear_in_same_query!(
    operators,
    deliverables,
    mediator_read_cursors,
    buyer_imports,
    receipts,
    operator_persons,
    identity_records,
    dossiers,
    fiches,
    quarantined_lines,
    anomalies,
    purchase_orders,
    survey_answers,
    mystery_contacts,
    deliverable_controls,
    reference_populations,
    complaints,
    means,
    users,
    consumption_refs,
    processing_reports,
    pull_cursors,
    link_runs,
    link_events,
    link_decisions,
    link_keys,
    order_alerts,
    consumption_statements,
    indicator_runs,
    indicator_values,
    mediation_cases,
    audit_log,
    revoked_tokens,
    documents,
    job_runs,
    email_outbox,
);

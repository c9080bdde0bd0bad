//! PDF rendering with Typst used as a library: the layouts are the `.typ` files in
//! `reports/templates/` (compiled into the binary), fonts come embedded from typst-assets, and
//! nothing is fetched at build or run time. A document's data reaches its template as JSON
//! (`sys.inputs.data`), its charts as SVG bytes (`sys.inputs.charts`).

use std::collections::BTreeMap;
use typst::foundations::{Bytes, Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

/// The templates, by file name (each document type's layout and the shared one).
const TEMPLATES: &[(&str, &str)] = &[
    ("common.typ", include_str!("../templates/common.typ")),
    (
        "comite-suivi.typ",
        include_str!("../templates/comite-suivi.typ"),
    ),
    (
        "synthese-nationale.typ",
        include_str!("../templates/synthese-nationale.typ"),
    ),
    (
        "revue-qualite.typ",
        include_str!("../templates/revue-qualite.typ"),
    ),
    (
        "comite-pilotage.typ",
        include_str!("../templates/comite-pilotage.typ"),
    ),
    (
        "comite-regulation.typ",
        include_str!("../templates/comite-regulation.typ"),
    ),
    ("releve.typ", include_str!("../templates/releve.typ")),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {template}: {detail}")]
    Typst { template: String, detail: String },
    #[error("PDF export of {template}: {detail}")]
    Pdf { template: String, detail: String },
}

/// The Typst engine with every template and the embedded fonts, built once.
pub struct Renderer {
    engine: TypstEngine,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Renderer")
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    pub fn new() -> Renderer {
        let engine = TypstEngine::builder()
            .fonts(typst_assets::fonts())
            .with_static_source_file_resolver(TEMPLATES.iter().copied())
            .build();
        Renderer { engine }
    }

    /// Compiles `template` with `data` and `charts` (name → SVG) into a PDF.
    pub fn pdf(
        &self,
        template: &str,
        data: &serde_json::Value,
        charts: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, RenderError> {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), data.to_string().into_value());
        let mut svgs = Dict::new();
        for (name, svg) in charts {
            svgs.insert(
                name.as_str().into(),
                Bytes::new(svg.clone().into_bytes()).into_value(),
            );
        }
        inputs.insert("charts".into(), svgs.into_value());
        let compiled = self.engine.compile_with_input(template, inputs);
        let doc: PagedDocument = compiled.output.map_err(|e| RenderError::Typst {
            template: template.to_owned(),
            detail: format!("{e:?}"),
        })?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default()).map_err(|e| RenderError::Pdf {
            template: template.to_owned(),
            detail: format!("{e:?}"),
        })
    }
}

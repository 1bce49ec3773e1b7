//! `slogate import`: reads the files, runs the pure importer, prints the
//! report, checks the result as `validate --offline` would, and writes it.

use anyhow::{Context, Result};

use super::UsageError;
use crate::cli::ImportArgs;
use crate::import::{self, Input, NoteKind, Options};

/// Exit code when a field was dropped or approximated (the config is still written).
const EXIT_LOSSY: u8 = 3;

pub fn import(args: ImportArgs) -> Result<u8> {
    let mut inputs = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("{name}: cannot read the file: {e}")))?;
        inputs.push(Input { name, text });
    }
    let options = Options {
        raw_as_probe: args.raw_as_probe,
    };
    let imported =
        import::import(args.from, &inputs, options).map_err(|e| UsageError(e.to_string()))?;
    for note in &imported.notes {
        eprintln!("{note}");
    }
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    let rendered = import::render(&imported, args.from, &names);
    eprintln!("{}", summary(&imported, inputs.len()));
    if rendered.slos > 0 {
        // Each SLO was checked on its own; a whole that does not validate is
        // slogate's bug, not the user's (exit 1): say so rather than hand over
        // a config that will not load.
        if let Err(e) = crate::config::parse("the imported config", &rendered.text) {
            anyhow::bail!(
                "the imported config does not validate; please report this with the input files: {e}"
            );
        }
    }
    match &args.output_file {
        Some(path) => std::fs::write(path, &rendered.text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{}", rendered.text),
    }
    Ok(if imported.lossy() || imported.slos.is_empty() {
        EXIT_LOSSY
    } else {
        0
    })
}

/// `imported 3 SLOs from 2 files; 4 fields dropped, 1 approximated`.
pub fn summary(imported: &import::Imported, files: usize) -> String {
    let count = |kind| imported.notes.iter().filter(|n| n.kind == kind).count();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "slogate import: {} from {}; {} not imported, {} dropped, {} approximated",
        plural(imported.slos.len(), "SLO", "SLOs"),
        plural(files, "file", "files"),
        count(NoteKind::NotImported),
        plural(count(NoteKind::Dropped), "field", "fields"),
        count(NoteKind::Approximated),
    )
}

//! `flowmeter init [PATH]`: write a commented flowmeter.toml guessed from the
//! branch and tag names of a repository (or of the store's `refs` table).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use flowmeter_analysis::{fast_forward_warnings, guess_config};
use flowmeter_store::{Store, REFS, REPOS};

use crate::cli::GlobalOpts;
use crate::cmd::status;

pub const EXAMPLES: &str = "\
Examples:
  flowmeter init .                    # from this repo's branches and tags
  flowmeter init                      # from the refs already in the store
  flowmeter init ~/src/api --out api.toml --force

It recognises develop/dev, test/qa, staging/beta/stage, main/master and
production/prod branches, and release tags such as v*, release-* or dated tags.
Without PATH it reads the store, and warns about each environment branch that
was only fast-forwarded (its deployments cannot be read from it: add tags or a
deploy log).";

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// A git work tree or bare repository (default: the store's refs table).
    pub path: Option<PathBuf>,
    /// Where to write the config.
    #[arg(long, default_value = "flowmeter.toml")]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(global: &GlobalOpts, args: InitArgs) -> Result<ExitCode> {
    if args.out.exists() && !args.force {
        bail!(
            "{} already exists; use --force to overwrite it",
            args.out.display()
        );
    }
    let (mut branches, mut tags) = (vec![], vec![]);
    let default = match &args.path {
        Some(p) => {
            let repo = flowmeter_ingest::git::open_repo(p)?;
            let refs = repo
                .references()
                .with_context(|| format!("{}: listing references", p.display()))?;
            for r in refs.flatten() {
                let Ok(name) = r.name() else { continue };
                if let Some(b) = name.strip_prefix("refs/heads/") {
                    branches.push(b.to_string());
                } else if let Some(b) = name.strip_prefix("refs/remotes/origin/") {
                    if b != "HEAD" {
                        branches.push(b.to_string());
                    }
                } else if let Some(t) = name.strip_prefix("refs/tags/") {
                    tags.push(t.to_string());
                }
            }
            repo.find_reference("HEAD").ok().and_then(|h| {
                h.symbolic_target()
                    .ok()
                    .flatten()
                    .map(|t| t.trim_start_matches("refs/heads/").to_string())
            })
        }
        None => {
            let store = Store::open(&global.data)?;
            let refs = store.read(&REFS)?;
            if refs.height() == 0 {
                bail!("the store has no refs yet: give a repository PATH, or run `flowmeter ingest git PATH` first");
            }
            let kind = refs.column("kind")?.str()?.clone();
            let name = refs.column("name")?.str()?.clone();
            for (k, n) in kind.iter().zip(name.iter()) {
                match (k, n) {
                    (Some("branch"), Some(n)) => branches.push(n.to_string()),
                    (Some("tag"), Some(n)) => tags.push(n.to_string()),
                    _ => {}
                }
            }
            let repos = store.read(&REPOS)?;
            let d = repos
                .column("default_branch")?
                .str()?
                .iter()
                .flatten()
                .next()
                .map(str::to_string);
            d
        }
    };
    branches.sort();
    branches.dedup();
    let text = guess_config(&branches, &tags, default.as_deref());
    // What we write must parse.
    let config = flowmeter_analysis::parse_config(&text, &args.out)?;
    // With history in the store, say which written branches were only
    // fast-forwarded: their deployments cannot be read from them.
    if args.path.is_none() {
        let store = Store::open(&global.data)?;
        for w in fast_forward_warnings(&store, &config)? {
            status(global.quiet, format!("warning: {w}"));
        }
    }
    flowmeter_store::write_atomic(&args.out, text.as_bytes())?;
    status(
        global.quiet,
        format!(
            "wrote {} ({} branches, {} tags seen); review the environments before `flowmeter analyze`",
            args.out.display(),
            branches.len(),
            tags.len()
        ),
    );
    Ok(ExitCode::SUCCESS)
}

//! Deployment and incident logs (CSV or JSON) into the store. The format and
//! its checks are `flowmeter_parse::logs`; this module reads the file, names
//! it in errors, and upserts the rows by id, so importing a file twice adds
//! nothing. The whole file is checked before anything is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use flowmeter_parse::logs::{parse_deployments, parse_incidents};
use flowmeter_store::{WriteGuard, DEPLOYMENTS, INCIDENTS};
use polars::prelude::*;

use crate::error::{polars_err, Error, Result};

pub use flowmeter_parse::logs::parse_time;

/// What an import wrote.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub rows: usize,
    /// Rows per repo (`None`: rows without a repo).
    pub repos: BTreeMap<Option<String>, usize>,
}

/// The file's text and whether it is named `.json`; errors name the file.
fn read_text(path: &Path) -> Result<(String, bool)> {
    let text = std::fs::read_to_string(path).map_err(|e| input_err(path, e.to_string()))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    Ok((text, json))
}

fn input_err(path: &Path, message: impl ToString) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn write_by_repo(
    guard: &WriteGuard,
    path: &Path,
    table: &'static flowmeter_store::TableDef,
    key: &str,
    repos: Vec<Option<String>>,
    df: DataFrame,
) -> Result<FileReport> {
    let mut counts: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for r in &repos {
        *counts.entry(r.clone()).or_default() += 1;
    }
    let pe = polars_err(format!("importing {}", path.display()));
    for repo in counts.keys() {
        let mask: BooleanChunked = repos.iter().map(|r| r == repo).collect();
        let part = df.filter(&mask).map_err(&pe)?;
        guard.upsert(table, repo.as_deref(), part, &[key])?;
    }
    Ok(FileReport {
        path: path.to_path_buf(),
        rows: repos.len(),
        repos: counts,
    })
}

fn time_series(name: &str, v: Vec<Option<i64>>) -> Result<Column> {
    Series::new(name.into(), v)
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .map(|s| s.into_column())
        .map_err(polars_err(format!("building `{name}`")))
}

/// Reads and checks a deployment log without writing anything.
pub fn read_deployments(path: &Path) -> Result<(Vec<Option<String>>, DataFrame)> {
    let (text, json) = read_text(path)?;
    let rows = parse_deployments(&text, json).map_err(|e| input_err(path, e))?;
    let repo: Vec<Option<String>> = rows.iter().map(|r| r.repo.clone()).collect();
    let col = |f: fn(&flowmeter_parse::logs::Deployment) -> Option<&str>| -> Vec<Option<&str>> {
        rows.iter().map(f).collect()
    };
    let mut df = df!(
        "repo" => repo.clone(),
        "deployment_id" => col(|r| Some(&r.deployment_id)),
        "environment" => col(|r| Some(&r.environment)),
        "sha" => col(|r| Some(&r.sha)),
        "status" => col(|r| Some(&r.status)),
        "source" => vec!["file"; rows.len()],
        "ref" => col(|r| r.git_ref.as_deref()),
        "actor" => col(|r| r.actor.as_deref()),
        "trigger" => col(|r| r.trigger.as_deref()),
        "tests_passed" => rows.iter().map(|r| r.tests_passed).collect::<Vec<_>>(),
    )
    .map_err(polars_err("building deployments"))?;
    df.with_column(time_series(
        "deployed_at",
        rows.iter().map(|r| Some(r.deployed_at)).collect(),
    )?)
    .map_err(polars_err("building deployments"))?;
    Ok((repo, df))
}

/// Imports a deployment log (source `file`) into `deployments`.
pub fn ingest_deployments(guard: &WriteGuard, path: &Path) -> Result<FileReport> {
    let (repos, df) = read_deployments(path)?;
    write_by_repo(guard, path, &DEPLOYMENTS, "deployment_id", repos, df)
}

/// Reads and checks an incident log without writing anything.
pub fn read_incidents(path: &Path) -> Result<(Vec<Option<String>>, DataFrame)> {
    let (text, json) = read_text(path)?;
    let rows = parse_incidents(&text, json).map_err(|e| input_err(path, e))?;
    let repo: Vec<Option<String>> = rows.iter().map(|r| r.repo.clone()).collect();
    let col = |f: fn(&flowmeter_parse::logs::Incident) -> Option<&str>| -> Vec<Option<&str>> {
        rows.iter().map(f).collect()
    };
    let mut df = df!(
        "repo" => repo.clone(),
        "incident_id" => col(|r| Some(&r.incident_id)),
        "title" => col(|r| r.title.as_deref()),
        "severity" => col(|r| r.severity.as_deref()),
        "source" => vec!["file"; rows.len()],
        "caused_by_sha" => col(|r| r.caused_by_sha.as_deref()),
        "deployment_id" => col(|r| r.deployment_id.as_deref()),
    )
    .map_err(polars_err("building incidents"))?;
    for (name, v) in [
        (
            "opened_at",
            rows.iter().map(|r| Some(r.opened_at)).collect(),
        ),
        ("resolved_at", rows.iter().map(|r| r.resolved_at).collect()),
    ] {
        df.with_column(time_series(name, v)?)
            .map_err(polars_err("building incidents"))?;
    }
    Ok((repo, df))
}

/// Imports an incident log (source `file`) into `incidents`.
pub fn ingest_incidents(guard: &WriteGuard, path: &Path) -> Result<FileReport> {
    let (repos, df) = read_incidents(path)?;
    write_by_repo(guard, path, &INCIDENTS, "incident_id", repos, df)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_then_the_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(
            &p,
            "deployed_at,environment,sha\n2024-13-01 12:00:00,production,abcdef2\n",
        )
        .unwrap();
        let e = read_deployments(&p).unwrap_err().to_string();
        assert!(
            e.contains("d.csv: row 1 (line 2), column `deployed_at`"),
            "{e}"
        );
        let p = dir.path().join("i.json");
        std::fs::write(&p, r#"[{"incident_id": "I1", "opened_at": "2024-03-01 12:00:00", "resolved_at": "2024-03-01 11:00:00"}]"#).unwrap();
        let e = read_incidents(&p).unwrap_err().to_string();
        assert!(
            e.contains("i.json: row 1, column `resolved_at`: is before opened_at"),
            "{e}"
        );
    }
}

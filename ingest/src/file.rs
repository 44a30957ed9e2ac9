//! Deployment and incident logs from any CD or incident tool, as CSV (with a
//! header row) or a JSON array of objects.
//!
//! Deployments: `deployed_at, environment, sha[, status, repo, deployment_id,
//! ref, actor, trigger, tests_passed]`. `trigger` is `automated` or `manual`
//! (how a rollback or any deployment was started); `tests_passed` is `true` or
//! `false` (whether the tests passed on what it shipped, for CI outside GitHub).
//! Incidents: `incident_id, opened_at[, resolved_at, title, severity, repo,
//! caused_by_sha, deployment_id]`.
//!
//! Times are RFC 3339 with an offset (`2024-03-01T12:00:00+01:00`) or
//! `YYYY-MM-DD HH:MM:SS`, read as UTC. The whole file is parsed and checked
//! before anything is written; an error names the file, the row and the
//! column. Rows are upserted by id, so importing a file twice adds nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime};
use flowmeter_store::{WriteGuard, DEPLOYMENTS, INCIDENTS};
use polars::prelude::*;

use crate::error::{Error, Result};

/// What an import wrote.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub rows: usize,
    /// Rows per repo (`None`: rows without a repo).
    pub repos: BTreeMap<Option<String>, usize>,
}

const DEPLOY_COLS: &[(&str, bool)] = &[
    ("deployed_at", true),
    ("environment", true),
    ("sha", true),
    ("status", false),
    ("repo", false),
    ("deployment_id", false),
    ("ref", false),
    ("actor", false),
    ("trigger", false),
    ("tests_passed", false),
];

const INCIDENT_COLS: &[(&str, bool)] = &[
    ("incident_id", true),
    ("opened_at", true),
    ("resolved_at", false),
    ("title", false),
    ("severity", false),
    ("repo", false),
    ("caused_by_sha", false),
    ("deployment_id", false),
];

/// One record: its 1-based row number, the line it starts on, and its fields.
struct Record {
    row: usize,
    line: Option<u64>,
    fields: HashMap<String, String>,
}

fn input_err(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

fn read_records(path: &Path, cols: &[(&str, bool)]) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| input_err(path, e.to_string()))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    let known: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let check_col = |name: &str| -> Result<()> {
        if known.contains(&name) {
            Ok(())
        } else {
            Err(input_err(
                path,
                format!(
                    "unknown column `{name}`; the columns are: {}",
                    known.join(", ")
                ),
            ))
        }
    };
    let mut out = vec![];
    if is_json {
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| input_err(path, format!("not valid JSON: {e}")))?;
        let serde_json::Value::Array(items) = v else {
            return Err(input_err(path, "expected a JSON array of objects".into()));
        };
        for (i, item) in items.into_iter().enumerate() {
            let row = i + 1;
            let serde_json::Value::Object(obj) = item else {
                return Err(input_err(path, format!("row {row}: not a JSON object")));
            };
            let mut fields = HashMap::new();
            for (k, v) in obj {
                check_col(&k)?;
                let s = match v {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(input_err(
                            path,
                            format!("row {row}, column `{k}`: expected a string, got {other}"),
                        ))
                    }
                };
                fields.insert(k, s);
            }
            out.push(Record {
                row,
                line: None,
                fields,
            });
        }
    } else {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| input_err(path, format!("reading the header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        for h in &header {
            check_col(h)?;
        }
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 1;
            let rec = rec.map_err(|e| input_err(path, format!("row {row}: {e}")))?;
            let fields = header
                .iter()
                .zip(rec.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect();
            out.push(Record {
                row,
                line: rec.position().map(|p| p.line()),
                fields,
            });
        }
    }
    for r in &out {
        for (name, required) in cols {
            if *required && !r.fields.contains_key(*name) {
                return Err(at(path, r, name, "is required but empty or missing".into()));
            }
        }
    }
    Ok(out)
}

fn at(path: &Path, r: &Record, col: &str, msg: String) -> Error {
    let line = r.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    input_err(path, format!("row {}{line}, column `{col}`: {msg}", r.row))
}

/// Parses RFC 3339 with an offset, or `YYYY-MM-DD HH:MM:SS` (also with `T`) as UTC,
/// into microseconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    None
}

fn time(path: &Path, r: &Record, col: &str) -> Result<Option<i64>> {
    match r.fields.get(col) {
        None => Ok(None),
        Some(v) => parse_time(v).map(Some).ok_or_else(|| {
            at(path, r, col, format!("`{v}` is not a time; use RFC 3339 with an offset (2024-03-01T12:00:00Z) or YYYY-MM-DD HH:MM:SS (UTC)"))
        }),
    }
}

fn sha(path: &Path, r: &Record, col: &str) -> Result<Option<String>> {
    match r.fields.get(col) {
        None => Ok(None),
        Some(v) => {
            let v = v.to_ascii_lowercase();
            if (4..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit()) {
                Ok(Some(v))
            } else {
                Err(at(
                    path,
                    r,
                    col,
                    format!("`{v}` is not a commit sha (4 to 40 hex digits)"),
                ))
            }
        }
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
    let pe = |source| Error::Polars {
        context: format!("importing {}", path.display()),
        source,
    };
    for repo in counts.keys() {
        let mask: BooleanChunked = repos.iter().map(|r| r == repo).collect();
        let part = df.filter(&mask).map_err(pe)?;
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
        .map_err(|source| Error::Polars {
            context: format!("building `{name}`"),
            source,
        })
}

/// Reads and checks a deployment log without writing anything.
pub fn read_deployments(path: &Path) -> Result<(Vec<Option<String>>, DataFrame)> {
    let recs = read_records(path, DEPLOY_COLS)?;
    let (mut repo, mut id, mut env, mut shas, mut ats, mut status, mut rf) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut actor, mut trigger, mut tests) = (vec![], vec![], vec![]);
    let mut seen: HashMap<(Option<String>, String), usize> = HashMap::new();
    for r in &recs {
        let t = time(path, r, "deployed_at")?.expect("required");
        let s = sha(path, r, "sha")?.expect("required");
        let e = r.fields["environment"].clone();
        let st = r
            .fields
            .get("status")
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_else(|| "success".into());
        if !["success", "failure", "error", "unknown"].contains(&st.as_str()) {
            return Err(at(
                path,
                r,
                "status",
                format!("`{st}` is not one of success, failure, error, unknown"),
            ));
        }
        let rp = r.fields.get("repo").cloned();
        let i = r
            .fields
            .get("deployment_id")
            .cloned()
            .unwrap_or_else(|| format!("file:{e}:{}:{}", &s[..s.len().min(12)], t / 1_000_000));
        if let Some(prev) = seen.insert((rp.clone(), i.clone()), r.row) {
            return Err(at(
                path,
                r,
                "deployment_id",
                format!("`{i}` is also on row {prev}"),
            ));
        }
        let trig = match r.fields.get("trigger").map(|v| v.to_ascii_lowercase()) {
            None => None,
            Some(v) if v == "automated" || v == "manual" => Some(v),
            Some(v) => {
                return Err(at(
                    path,
                    r,
                    "trigger",
                    format!("`{v}` is not one of automated, manual"),
                ))
            }
        };
        let tp = match r.fields.get("tests_passed").map(|v| v.to_ascii_lowercase()) {
            None => None,
            Some(v) => Some(match v.as_str() {
                "true" | "yes" | "1" | "passed" | "success" => true,
                "false" | "no" | "0" | "failed" | "failure" => false,
                _ => {
                    return Err(at(
                        path,
                        r,
                        "tests_passed",
                        format!("`{v}` is not one of true, false"),
                    ))
                }
            }),
        };
        repo.push(rp);
        id.push(i);
        env.push(e);
        shas.push(s);
        ats.push(Some(t));
        status.push(st);
        rf.push(r.fields.get("ref").cloned());
        actor.push(r.fields.get("actor").cloned());
        trigger.push(trig);
        tests.push(tp);
    }
    let n = recs.len();
    let mut df = df!(
        "repo" => repo.clone(),
        "deployment_id" => id,
        "environment" => env,
        "sha" => shas,
        "status" => status,
        "source" => vec!["file"; n],
        "ref" => rf,
        "actor" => actor,
        "trigger" => trigger,
        "tests_passed" => tests,
    )
    .map_err(|source| Error::Polars {
        context: "building deployments".into(),
        source,
    })?;
    df.with_column(time_series("deployed_at", ats)?)
        .map_err(|source| Error::Polars {
            context: "building deployments".into(),
            source,
        })?;
    Ok((repo, df))
}

/// Imports a deployment log (source `file`) into `deployments`.
pub fn ingest_deployments(guard: &WriteGuard, path: &Path) -> Result<FileReport> {
    let (repos, df) = read_deployments(path)?;
    write_by_repo(guard, path, &DEPLOYMENTS, "deployment_id", repos, df)
}

/// Reads and checks an incident log without writing anything.
pub fn read_incidents(path: &Path) -> Result<(Vec<Option<String>>, DataFrame)> {
    let recs = read_records(path, INCIDENT_COLS)?;
    let (mut repo, mut id, mut title, mut opened, mut resolved, mut sev, mut caused, mut dep) = (
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let mut seen: HashMap<(Option<String>, String), usize> = HashMap::new();
    for r in &recs {
        let o = time(path, r, "opened_at")?.expect("required");
        let res = time(path, r, "resolved_at")?;
        if res.is_some_and(|x| x < o) {
            return Err(at(path, r, "resolved_at", "is before opened_at".into()));
        }
        let rp = r.fields.get("repo").cloned();
        let i = r.fields["incident_id"].clone();
        if let Some(prev) = seen.insert((rp.clone(), i.clone()), r.row) {
            return Err(at(
                path,
                r,
                "incident_id",
                format!("`{i}` is also on row {prev}"),
            ));
        }
        repo.push(rp);
        id.push(i);
        title.push(r.fields.get("title").cloned());
        opened.push(Some(o));
        resolved.push(res);
        sev.push(r.fields.get("severity").cloned());
        caused.push(sha(path, r, "caused_by_sha")?);
        dep.push(r.fields.get("deployment_id").cloned());
    }
    let n = recs.len();
    let mut df = df!(
        "repo" => repo.clone(),
        "incident_id" => id,
        "title" => title,
        "severity" => sev,
        "source" => vec!["file"; n],
        "caused_by_sha" => caused,
        "deployment_id" => dep,
    )
    .map_err(|source| Error::Polars {
        context: "building incidents".into(),
        source,
    })?;
    for (name, v) in [("opened_at", opened), ("resolved_at", resolved)] {
        df.with_column(time_series(name, v)?)
            .map_err(|source| Error::Polars {
                context: "building incidents".into(),
                source,
            })?;
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
    fn times() {
        assert_eq!(
            parse_time("2024-03-01T12:00:00Z"),
            Some(1_709_294_400_000_000)
        );
        assert_eq!(
            parse_time("2024-03-01T13:00:00+01:00"),
            Some(1_709_294_400_000_000)
        );
        assert_eq!(
            parse_time("2024-03-01 12:00:00"),
            Some(1_709_294_400_000_000)
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn bad_rows_name_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, "deployed_at,environment,sha\n2024-03-01 12:00:00,production,abcdef1\n2024-13-01 12:00:00,production,abcdef2\n").unwrap();
        let e = read_deployments(&p).unwrap_err().to_string();
        assert!(
            e.contains("d.csv: row 2 (line 3), column `deployed_at`"),
            "{e}"
        );
        let p = dir.path().join("i.json");
        std::fs::write(&p, r#"[{"incident_id": "I1", "opened_at": "2024-03-01 12:00:00", "resolved_at": "2024-03-01 11:00:00"}]"#).unwrap();
        let e = read_incidents(&p).unwrap_err().to_string();
        assert!(
            e.contains("i.json: row 1, column `resolved_at`: is before opened_at"),
            "{e}"
        );
        std::fs::write(&p, r#"[{"incident_id": "I1", "opened": "x"}]"#).unwrap();
        let e = read_incidents(&p).unwrap_err().to_string();
        assert!(e.contains("unknown column `opened`"), "{e}");
    }
}

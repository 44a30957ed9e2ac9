//! Deployment and incident logs from any CD or incident tool, as CSV (with a
//! header row) or a JSON array of objects, parsed and checked into typed rows.
//!
//! Deployments: `deployed_at, environment, sha[, status, repo, deployment_id,
//! ref, actor, trigger, tests_passed]`. `trigger` is `automated` or `manual`
//! (how a rollback or any deployment was started); `tests_passed` is `true` or
//! `false` (whether the tests passed on what it shipped, for CI outside GitHub).
//! Incidents: `incident_id, opened_at[, resolved_at, title, severity, repo,
//! caused_by_sha, deployment_id]`.
//!
//! Times are RFC 3339 with an offset (`2024-03-01T12:00:00+01:00`) or
//! `YYYY-MM-DD HH:MM:SS`, read as UTC. The whole text is checked before a row
//! is returned; an error names the row and the column (the caller adds the
//! file).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime};

/// Why a log was refused: the row, the line where known, the column, and
/// what is wrong, without the file (the caller names it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LogError(pub String);

type Result<T> = std::result::Result<T, LogError>;

/// One deployment row, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub repo: Option<String>,
    pub deployment_id: String,
    pub environment: String,
    /// Lower-case hex, 4 to 64 digits.
    pub sha: String,
    /// `success`, `failure`, `error` or `unknown`.
    pub status: String,
    /// Microseconds since the epoch.
    pub deployed_at: i64,
    pub git_ref: Option<String>,
    pub actor: Option<String>,
    /// `automated` or `manual`.
    pub trigger: Option<String>,
    pub tests_passed: Option<bool>,
}

/// One incident row, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub repo: Option<String>,
    pub incident_id: String,
    pub title: Option<String>,
    /// Microseconds since the epoch.
    pub opened_at: i64,
    /// Not before `opened_at`.
    pub resolved_at: Option<i64>,
    pub severity: Option<String>,
    pub caused_by_sha: Option<String>,
    pub deployment_id: Option<String>,
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

fn read_records(text: &str, json: bool, cols: &[(&str, bool)]) -> Result<Vec<Record>> {
    let is_json = json || text.trim_start().starts_with('[');
    let known: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let check_col = |name: &str| -> Result<()> {
        if known.contains(&name) {
            Ok(())
        } else {
            Err(LogError(format!(
                "unknown column `{name}`; the columns are: {}",
                known.join(", ")
            )))
        }
    };
    let mut out = vec![];
    if is_json {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| LogError(format!("not valid JSON: {e}")))?;
        let serde_json::Value::Array(items) = v else {
            return Err(LogError("expected a JSON array of objects".into()));
        };
        for (i, item) in items.into_iter().enumerate() {
            let row = i + 1;
            let serde_json::Value::Object(obj) = item else {
                return Err(LogError(format!("row {row}: not a JSON object")));
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
                        return Err(LogError(format!(
                            "row {row}, column `{k}`: expected a string, got {other}"
                        )))
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
            .map_err(|e| LogError(format!("reading the header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        for h in &header {
            check_col(h)?;
        }
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 1;
            let rec = rec.map_err(|e| LogError(format!("row {row}: {e}")))?;
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
                return Err(at(r, name, "is required but empty or missing".into()));
            }
        }
    }
    Ok(out)
}

fn at(r: &Record, col: &str, msg: String) -> LogError {
    let line = r.line.map(|l| format!(" (line {l})")).unwrap_or_default();
    LogError(format!("row {}{line}, column `{col}`: {msg}", r.row))
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

fn time(r: &Record, col: &str) -> Result<Option<i64>> {
    match r.fields.get(col) {
        None => Ok(None),
        Some(v) => parse_time(v).map(Some).ok_or_else(|| {
            at(r, col, format!("`{v}` is not a time; use RFC 3339 with an offset (2024-03-01T12:00:00Z) or YYYY-MM-DD HH:MM:SS (UTC)"))
        }),
    }
}

fn sha(r: &Record, col: &str) -> Result<Option<String>> {
    match r.fields.get(col) {
        None => Ok(None),
        Some(v) => {
            let v = v.to_ascii_lowercase();
            if (4..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_hexdigit()) {
                Ok(Some(v))
            } else {
                Err(at(
                    r,
                    col,
                    format!("`{v}` is not a commit sha (4 to 40 hex digits)"),
                ))
            }
        }
    }
}

/// Parses and checks a deployment log. `json`: the file is named `.json`
/// (text starting with `[` is read as JSON either way).
pub fn parse_deployments(text: &str, json: bool) -> Result<Vec<Deployment>> {
    let recs = read_records(text, json, DEPLOY_COLS)?;
    let mut out = Vec::with_capacity(recs.len());
    let mut seen: HashMap<(Option<String>, String), usize> = HashMap::new();
    for r in &recs {
        let t = time(r, "deployed_at")?.expect("required");
        let s = sha(r, "sha")?.expect("required");
        let e = r.fields["environment"].clone();
        let st = r
            .fields
            .get("status")
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_else(|| "success".into());
        if !["success", "failure", "error", "unknown"].contains(&st.as_str()) {
            return Err(at(
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
                        r,
                        "tests_passed",
                        format!("`{v}` is not one of true, false"),
                    ))
                }
            }),
        };
        out.push(Deployment {
            repo: rp,
            deployment_id: i,
            environment: e,
            sha: s,
            status: st,
            deployed_at: t,
            git_ref: r.fields.get("ref").cloned(),
            actor: r.fields.get("actor").cloned(),
            trigger: trig,
            tests_passed: tp,
        });
    }
    Ok(out)
}

/// Parses and checks an incident log, as [`parse_deployments`] does.
pub fn parse_incidents(text: &str, json: bool) -> Result<Vec<Incident>> {
    let recs = read_records(text, json, INCIDENT_COLS)?;
    let mut out = Vec::with_capacity(recs.len());
    let mut seen: HashMap<(Option<String>, String), usize> = HashMap::new();
    for r in &recs {
        let o = time(r, "opened_at")?.expect("required");
        let res = time(r, "resolved_at")?;
        if res.is_some_and(|x| x < o) {
            return Err(at(r, "resolved_at", "is before opened_at".into()));
        }
        let rp = r.fields.get("repo").cloned();
        let i = r.fields["incident_id"].clone();
        if let Some(prev) = seen.insert((rp.clone(), i.clone()), r.row) {
            return Err(at(r, "incident_id", format!("`{i}` is also on row {prev}")));
        }
        out.push(Incident {
            repo: rp,
            incident_id: i,
            title: r.fields.get("title").cloned(),
            opened_at: o,
            resolved_at: res,
            severity: r.fields.get("severity").cloned(),
            caused_by_sha: sha(r, "caused_by_sha")?,
            deployment_id: r.fields.get("deployment_id").cloned(),
        });
    }
    Ok(out)
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
        let e = parse_deployments("deployed_at,environment,sha\n2024-03-01 12:00:00,production,abcdef1\n2024-13-01 12:00:00,production,abcdef2\n", false).unwrap_err().to_string();
        assert!(e.starts_with("row 2 (line 3), column `deployed_at`"), "{e}");
        let e = parse_incidents(r#"[{"incident_id": "I1", "opened_at": "2024-03-01 12:00:00", "resolved_at": "2024-03-01 11:00:00"}]"#, true).unwrap_err().to_string();
        assert_eq!(e, "row 1, column `resolved_at`: is before opened_at");
        let e = parse_incidents(r#"[{"incident_id": "I1", "opened": "x"}]"#, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown column `opened`"), "{e}");
    }

    #[test]
    fn rows_come_back_typed() {
        let d = parse_deployments("deployed_at,environment,sha,trigger,tests_passed\n2024-03-01T13:00:00+01:00,production,ABCDEF1,Manual,yes\n", false).unwrap();
        assert_eq!(
            d,
            vec![Deployment {
                repo: None,
                deployment_id: "file:production:abcdef1:1709294400".into(),
                environment: "production".into(),
                sha: "abcdef1".into(),
                status: "success".into(),
                deployed_at: 1_709_294_400_000_000,
                git_ref: None,
                actor: None,
                trigger: Some("manual".into()),
                tests_passed: Some(true),
            }]
        );
    }
}

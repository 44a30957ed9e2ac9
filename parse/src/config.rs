//! `flowmeter.toml`: environments in promotion order, their deployment sources,
//! failure signals and metric settings.
//!
//! The CLI reads the file and hands its text and path to [`Config::parse`].
//! Every error names the file, the 1-based line and the key at fault. What
//! the file is checked against that the analysis owns (its benchmark years
//! and Quick Check populations) comes in as [`Known`].

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A malformed `flowmeter.toml`: the file, the 1-based line and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: `{key}`: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

type Result<T> = std::result::Result<T, ConfigError>;

/// What a config is checked against that the analysis owns.
#[derive(Clone, Copy)]
pub struct Known<'a> {
    /// The benchmark years there are tables or scores for.
    pub years: &'a [u16],
    /// `Err(why)` when a population's key is not in its benchmark file.
    pub population: fn(&Population) -> std::result::Result<(), String>,
}

/// Which 2025 population a team is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(tag = "by", content = "key", rename_all = "snake_case")]
pub enum Population {
    /// Everyone: the `"all"` row of the industry file (the Quick Check's default).
    #[default]
    All,
    /// One key of `industry_metrics.json`.
    Industry(String),
    /// One key of `organization_size_metrics.json`.
    OrgSize(String),
}

/// The parsed, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub environments: Vec<Environment>,
    pub failure: Failure,
    pub lead_time_start: LeadTimeStart,
    /// How rollback and revert deployments are told automated from manual.
    pub rollback: Rollback,
    /// How incidents are weighed as defects.
    pub defects: Defects,
    /// `[tests] workflows`: the CI workflows (GitHub Actions names, globs)
    /// whose successful runs are test evidence.
    pub test_workflows: Vec<Pattern>,
    /// The DORA report year whose benchmarks are used: 2023 or 2024 (tier
    /// tables) or 2025 (the Quick Check's scores).
    pub tiers: u16,
    /// The 2025 population the Quick Check scores are compared with
    /// (`industry = ...` or `org_size = ...`; default: everyone).
    pub population: Population,
    /// The day a process changed (`[process_change]`): the deck compares the
    /// periods before and after it.
    pub process_change: Option<ProcessChange>,
    /// Where the config came from (`None`: the built-in default).
    pub path: Option<PathBuf>,
    /// The text it was parsed from (part of the analysis fingerprint).
    pub text: String,
}

/// `[process_change]`: the first day of a new way of working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessChange {
    /// The first day after the change (UTC): the "after" period starts here.
    pub date: chrono::NaiveDate,
    /// What changed, as the deck prints it (e.g. "trunk-based delivery").
    pub label: Option<String>,
}

/// Where a change's lead time starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadTimeStart {
    Authored,
    Committed,
}

impl LeadTimeStart {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadTimeStart::Authored => "authored",
            LeadTimeStart::Committed => "committed",
        }
    }
}

/// One environment and its deployment sources.
#[derive(Debug, Clone)]
pub struct Environment {
    pub name: String,
    /// Every first-parent commit on this branch is a deployment.
    pub branch: Option<String>,
    /// Use each repo's default branch (`repos.default_branch`): the built-in default.
    pub default_branch: bool,
    /// Matching tags are deployments.
    pub tags: Option<Pattern>,
    /// A deploy log; its rows are those of `deployments` with `source = 'file'`
    /// and this environment's name.
    pub file: Option<String>,
    /// GitHub deployments whose environment matches.
    pub github_deployments: Option<Pattern>,
    /// Successful GitHub Actions runs of matching workflows.
    pub workflow: Option<Pattern>,
    pub production: bool,
}

/// Failure signals and their windows.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Seconds.
    pub incident_window_s: i64,
    /// Seconds.
    pub revert_window_s: i64,
    pub hotfix_branch: Option<Pattern>,
    pub hotfix_message: Option<regex::Regex>,
    pub hotfix_label: Option<String>,
    pub signals: Signals,
}

/// `[rollback]`: which rollback and revert deployments were automated.
#[derive(Debug, Clone, Default)]
pub struct Rollback {
    /// Matched against the deployment's actor and, for a revert, the revert
    /// commit's committer (`name <email>`): a match is automated.
    pub automated_actors: Vec<Pattern>,
    /// A rollback or revert deployment at most this long (seconds) after the
    /// failure was detected is automated: no person reacts that fast.
    pub automated_within_s: Option<i64>,
}

/// `[defects]`: incidents as defects.
#[derive(Debug, Clone, Default)]
pub struct Defects {
    /// Weight per severity (keys lower-cased). Empty: every incident weighs 1
    /// and no weighted rate is reported.
    pub severity_weights: std::collections::BTreeMap<String, f64>,
}

impl Defects {
    /// The weight of an incident of `severity`: its configured weight, 1 when
    /// its severity is not listed or missing.
    pub fn weight(&self, severity: Option<&str>) -> f64 {
        severity
            .and_then(|s| self.severity_weights.get(&s.trim().to_ascii_lowercase()))
            .copied()
            .unwrap_or(1.0)
    }
}

/// Each failure signal can be switched off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Signals {
    /// The deployment's own status is failure or error.
    pub status: bool,
    /// An incident names a shipped sha (`caused_by_sha`) or the deployment (`deployment_id`).
    pub incident: bool,
    /// An incident opens within `incident_window` of the latest production deployment.
    pub incident_window: bool,
    /// A revert of a shipped commit lands within `revert_window`.
    pub revert: bool,
    /// A later deployment ships an ancestor of this one's sha.
    pub rollback: bool,
    /// A hotfix deployment follows before the next regular one.
    pub hotfix: bool,
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            status: true,
            incident: true,
            incident_window: true,
            revert: true,
            rollback: true,
            hotfix: true,
        }
    }
}

/// A glob (`v*`, `release-*`) or a regex (`re:^v\d+` or anything starting with `^`).
#[derive(Debug, Clone)]
pub enum Pattern {
    Glob(String, globset::GlobMatcher),
    Regex(regex::Regex),
}

impl Pattern {
    pub fn new(text: &str) -> std::result::Result<Pattern, String> {
        if let Some(re) = text.strip_prefix("re:") {
            return regex::Regex::new(re)
                .map(Pattern::Regex)
                .map_err(|e| e.to_string());
        }
        if text.starts_with('^') {
            return regex::Regex::new(text)
                .map(Pattern::Regex)
                .map_err(|e| e.to_string());
        }
        globset::GlobBuilder::new(text)
            .literal_separator(false)
            .build()
            .map(|g| Pattern::Glob(text.to_string(), g.compile_matcher()))
            .map_err(|e| e.to_string())
    }

    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Pattern::Glob(_, g) => g.is_match(s),
            Pattern::Regex(r) => r.is_match(s),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Pattern::Glob(s, _) => s,
            Pattern::Regex(r) => r.as_str(),
        }
    }
}

// ---- the file format -------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    environment: Vec<RawEnv>,
    failure: Option<RawFailure>,
    rollback: Option<RawRollback>,
    defects: Option<RawDefects>,
    tests: Option<RawTests>,
    lead_time_start: Option<Spanned<String>>,
    tiers: Option<Spanned<i64>>,
    industry: Option<Spanned<String>>,
    org_size: Option<Spanned<String>>,
    process_change: Option<RawProcessChange>,
    /// Owned by the teams feature; accepted here so the file stays one file.
    #[serde(default)]
    #[allow(dead_code)]
    teams: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    name: Spanned<String>,
    branch: Option<Spanned<String>>,
    tags: Option<Spanned<String>>,
    file: Option<Spanned<String>>,
    github_deployments: Option<Spanned<String>>,
    workflow: Option<Spanned<String>>,
    #[serde(default)]
    production: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcessChange {
    date: Spanned<RawDate>,
    label: Option<Spanned<String>>,
}

/// `date = "2025-07-01"` or the TOML date `date = 2025-07-01`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawDate {
    Text(String),
    Toml(toml::value::Datetime),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFailure {
    incident_window: Option<Spanned<String>>,
    revert_window: Option<Spanned<String>>,
    hotfix: Option<RawHotfix>,
    #[serde(default)]
    signals: Signals,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRollback {
    #[serde(default)]
    automated_actors: Vec<Spanned<String>>,
    automated_within: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTests {
    #[serde(default)]
    workflows: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefects {
    #[serde(default)]
    severity_weights: std::collections::BTreeMap<String, Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHotfix {
    branch: Option<Spanned<String>>,
    message: Option<Spanned<String>>,
    label: Option<Spanned<String>>,
}

/// The default incident window: 7 days.
pub const DEFAULT_INCIDENT_WINDOW_S: i64 = 7 * 86_400;
/// The default revert window: 14 days.
pub const DEFAULT_REVERT_WINDOW_S: i64 = 14 * 86_400;
/// The default benchmark year: the 2025 Quick Check scores.
pub const DEFAULT_TIERS: u16 = 2025;

/// Parses `7d`, `12h`, `30m`, `45s`, `2w` into seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    Some(n * mult)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The key on the line containing `offset` (`key = ...`), or the table header.
fn key_at(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[start..end].trim();
    if let Some((k, _)) = line.split_once('=') {
        k.trim().to_string()
    } else {
        line.trim_matches(|c| c == '[' || c == ']').to_string()
    }
}

impl Config {
    /// Parses and validates a `flowmeter.toml`. `path` is only used in errors.
    pub fn parse(text: &str, path: &Path, known: &Known) -> Result<Config> {
        let err = |span: std::ops::Range<usize>, key: &str, message: String| ConfigError {
            path: path.to_path_buf(),
            line: line_of(text, span.start),
            key: key.to_string(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().to_string();
            // serde names unknown keys in its message; otherwise take the key from the line.
            let key = message
                .strip_prefix("unknown field `")
                .and_then(|m| m.split('`').next())
                .map(str::to_string)
                .unwrap_or_else(|| key_at(text, span.start));
            err(span, &key, message)
        })?;
        let pattern = |v: &Spanned<String>, key: &str| -> Result<Pattern> {
            Pattern::new(v.get_ref())
                .map_err(|m| err(v.span(), key, format!("bad pattern `{}`: {m}", v.get_ref())))
        };
        let mut environments = vec![];
        for e in &raw.environment {
            let name = e.name.get_ref().trim().to_string();
            if name.is_empty() {
                return Err(err(e.name.span(), "environment.name", "is empty".into()));
            }
            if environments.iter().any(|x: &Environment| x.name == name) {
                return Err(err(
                    e.name.span(),
                    "environment.name",
                    format!("environment `{name}` is listed twice"),
                ));
            }
            let env = Environment {
                name: name.clone(),
                branch: e.branch.as_ref().map(|b| b.get_ref().clone()),
                default_branch: false,
                tags: e
                    .tags
                    .as_ref()
                    .map(|t| pattern(t, "environment.tags"))
                    .transpose()?,
                file: e.file.as_ref().map(|f| f.get_ref().clone()),
                github_deployments: e
                    .github_deployments
                    .as_ref()
                    .map(|t| pattern(t, "environment.github_deployments"))
                    .transpose()?,
                workflow: e
                    .workflow
                    .as_ref()
                    .map(|t| pattern(t, "environment.workflow"))
                    .transpose()?,
                production: e.production,
            };
            if env.branch.is_none()
                && env.tags.is_none()
                && env.file.is_none()
                && env.github_deployments.is_none()
                && env.workflow.is_none()
            {
                return Err(err(
                    e.name.span(),
                    "environment",
                    format!(
                        "environment `{name}` has no deployment source; give one of branch, tags, file, github_deployments, workflow"
                    ),
                ));
            }
            environments.push(env);
        }
        if environments.is_empty() {
            return Err(ConfigError {
                path: path.to_path_buf(),
                line: 1,
                key: "environment".into(),
                message: "no [[environment]] is configured".into(),
            });
        }
        // Without an explicit production environment, the last one (promotion order) is.
        if !environments.iter().any(|e| e.production) {
            environments.last_mut().expect("not empty").production = true;
        }
        let mut failure = Failure::default();
        if let Some(f) = &raw.failure {
            let dur = |v: &Option<Spanned<String>>, key: &str, dflt: i64| -> Result<i64> {
                match v {
                    None => Ok(dflt),
                    Some(v) => parse_duration(v.get_ref()).ok_or_else(|| {
                        err(
                            v.span(),
                            key,
                            format!(
                                "bad duration `{}`: use a number and a unit (s, m, h, d, w), like \"7d\"",
                                v.get_ref()
                            ),
                        )
                    }),
                }
            };
            failure.incident_window_s = dur(
                &f.incident_window,
                "failure.incident_window",
                DEFAULT_INCIDENT_WINDOW_S,
            )?;
            failure.revert_window_s = dur(
                &f.revert_window,
                "failure.revert_window",
                DEFAULT_REVERT_WINDOW_S,
            )?;
            failure.signals = f.signals;
            if let Some(h) = &f.hotfix {
                failure.hotfix_branch = h
                    .branch
                    .as_ref()
                    .map(|b| pattern(b, "failure.hotfix.branch"))
                    .transpose()?;
                failure.hotfix_message = h
                    .message
                    .as_ref()
                    .map(|m| {
                        regex::Regex::new(m.get_ref()).map_err(|e| {
                            err(
                                m.span(),
                                "failure.hotfix.message",
                                format!("bad regex: {e}"),
                            )
                        })
                    })
                    .transpose()?;
                failure.hotfix_label = h.label.as_ref().map(|l| l.get_ref().clone());
            }
        }
        let mut rollback = Rollback::default();
        if let Some(r) = &raw.rollback {
            for a in &r.automated_actors {
                if a.get_ref().contains("[bot]")
                    && !a.get_ref().starts_with("re:")
                    && !a.get_ref().starts_with('^')
                {
                    return Err(err(
                        a.span(),
                        "rollback.automated_actors",
                        format!(
                            "in the glob `{}`, `[bot]` is a character class (one of b, o, t), not GitHub's app suffix; escape it: '{}'",
                            a.get_ref(),
                            a.get_ref().replace("[bot]", "\\[bot\\]")
                        ),
                    ));
                }
                rollback
                    .automated_actors
                    .push(pattern(a, "rollback.automated_actors")?);
            }
            if let Some(v) = &r.automated_within {
                rollback.automated_within_s = Some(parse_duration(v.get_ref()).ok_or_else(|| {
                    err(
                        v.span(),
                        "rollback.automated_within",
                        format!(
                            "bad duration `{}`: use a number and a unit (s, m, h, d, w), like \"15m\"",
                            v.get_ref()
                        ),
                    )
                })?);
            }
        }
        let mut test_workflows = vec![];
        for w in raw.tests.iter().flat_map(|t| &t.workflows) {
            let p = pattern(w, "tests.workflows")?;
            if matches!(p, Pattern::Regex(_)) {
                return Err(err(
                    w.span(),
                    "tests.workflows",
                    format!("`{}` is a regex; workflow names are matched by glob (as `ingest github` fetches them), like \"ci*\"", w.get_ref()),
                ));
            }
            test_workflows.push(p);
        }
        let mut defects = Defects::default();
        if let Some(d) = &raw.defects {
            for (k, v) in &d.severity_weights {
                let w = *v.get_ref();
                if !w.is_finite() || w < 0.0 {
                    return Err(err(
                        v.span(),
                        &format!("defects.severity_weights.{k}"),
                        format!("weight {w} is not a finite number >= 0"),
                    ));
                }
                defects
                    .severity_weights
                    .insert(k.trim().to_ascii_lowercase(), w);
            }
        }
        let lead_time_start = match &raw.lead_time_start {
            None => LeadTimeStart::Authored,
            Some(v) => match v.get_ref().as_str() {
                "authored" => LeadTimeStart::Authored,
                "committed" => LeadTimeStart::Committed,
                other => {
                    return Err(err(
                        v.span(),
                        "lead_time_start",
                        format!("`{other}` is not one of \"authored\", \"committed\""),
                    ))
                }
            },
        };
        let tiers = match &raw.tiers {
            None => DEFAULT_TIERS,
            Some(v) => {
                let y = *v.get_ref();
                if y < 0 || !known.years.contains(&(y as u16)) {
                    return Err(err(
                        v.span(),
                        "tiers",
                        format!("no benchmarks for {y}; known years: {:?}", known.years),
                    ));
                }
                y as u16
            }
        };
        let checked = |p: Population, v: &Spanned<String>, key: &str| {
            (known.population)(&p)
                .map(|()| p)
                .map_err(|m| err(v.span(), key, m))
        };
        let population = match (&raw.industry, &raw.org_size) {
            (Some(_), Some(o)) => {
                return Err(err(
                    o.span(),
                    "org_size",
                    "give `industry` or `org_size`, not both (the Quick Check compares with one)"
                        .into(),
                ))
            }
            (Some(v), None) => checked(Population::Industry(v.get_ref().clone()), v, "industry")?,
            (None, Some(v)) => checked(Population::OrgSize(v.get_ref().clone()), v, "org_size")?,
            (None, None) => Population::All,
        };
        let process_change = match &raw.process_change {
            None => None,
            Some(p) => {
                let text = match p.date.get_ref() {
                    RawDate::Text(t) => t.trim().to_string(),
                    RawDate::Toml(d) => d.to_string(),
                };
                let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
                    err(
                        p.date.span(),
                        "process_change.date",
                        format!("`{text}` is not a date: use YYYY-MM-DD, like \"2025-07-01\""),
                    )
                })?;
                let label = p
                    .label
                    .as_ref()
                    .map(|l| l.get_ref().trim().to_string())
                    .filter(|l| !l.is_empty());
                Some(ProcessChange { date, label })
            }
        };
        Ok(Config {
            environments,
            failure,
            lead_time_start,
            rollback,
            defects,
            test_workflows,
            tiers,
            population,
            process_change,
            path: Some(path.to_path_buf()),
            text: text.to_string(),
        })
    }

    /// The configuration used when there is no `flowmeter.toml`: one
    /// `production` environment whose deployments are the first-parent commits
    /// of each repo's default branch.
    pub fn default_for_repos() -> Config {
        Config {
            environments: vec![Environment {
                name: "production".into(),
                branch: None,
                default_branch: true,
                tags: None,
                file: None,
                github_deployments: None,
                workflow: None,
                production: true,
            }],
            failure: Failure::default(),
            lead_time_start: LeadTimeStart::Authored,
            rollback: Rollback::default(),
            defects: Defects::default(),
            test_workflows: vec![],
            tiers: DEFAULT_TIERS,
            population: Population::All,
            process_change: None,
            path: None,
            text: String::new(),
        }
    }

    /// One line saying where the configuration came from.
    pub fn describe(&self) -> String {
        match &self.path {
            Some(p) => format!("config: {}", p.display()),
            None => "config: none found, so one `production` environment made of each repo's default branch (first-parent commits); write one with `flowmeter init`".into(),
        }
    }

    /// The environment named `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The production environments' names.
    /// The production environment every command reads: `asked`, else the
    /// first production environment, else `production`.
    pub fn production_env(&self, asked: Option<&str>) -> String {
        asked
            .map(str::to_string)
            .or_else(|| self.production_envs().into_iter().next())
            .unwrap_or_else(|| "production".into())
    }

    pub fn production_envs(&self) -> Vec<String> {
        self.environments
            .iter()
            .filter(|e| e.production)
            .map(|e| e.name.clone())
            .collect()
    }
}

impl Default for Failure {
    fn default() -> Self {
        Failure {
            incident_window_s: DEFAULT_INCIDENT_WINDOW_S,
            revert_window_s: DEFAULT_REVERT_WINDOW_S,
            hotfix_branch: Pattern::new("hotfix/*").ok(),
            hotfix_message: regex::Regex::new(r"(?i)\bhotfix\b").ok(),
            hotfix_label: Some("hotfix".into()),
            signals: Signals::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every population, and the years there are benchmarks for.
    const KNOWN: Known = Known {
        years: &[2023, 2024, 2025],
        population: |_| Ok(()),
    };

    const GOOD: &str = r#"
lead_time_start = "committed"
tiers = 2023

[[environment]]
name = "develop"
branch = "develop"

[[environment]]
name = "production"
branch = "production"
tags = "release-*"
file = "deploys.csv"
production = true

[failure]
incident_window = "2d"
revert_window = "36h"
hotfix = { branch = "hotfix/*", message = "(?i)\\bhotfix\\b", label = "hotfix" }

[failure.signals]
rollback = false
"#;

    #[test]
    fn parses_the_design_format() {
        let c = Config::parse(GOOD, Path::new("flowmeter.toml"), &KNOWN).unwrap();
        assert_eq!(c.environments.len(), 2);
        assert_eq!(c.production_envs(), vec!["production".to_string()]);
        assert_eq!(c.lead_time_start, LeadTimeStart::Committed);
        assert_eq!(c.tiers, 2023);
        assert_eq!(c.failure.incident_window_s, 2 * 86_400);
        assert_eq!(c.failure.revert_window_s, 36 * 3600);
        assert!(!c.failure.signals.rollback);
        assert!(c.failure.signals.hotfix);
        let tags = c.environments[1].tags.as_ref().unwrap();
        assert!(tags.is_match("release-1.2"));
        assert!(!tags.is_match("v1.2"));
        assert!(Pattern::new("^v\\d+$").unwrap().is_match("v12"));
    }

    #[test]
    fn errors_name_line_and_key() {
        let bad = GOOD.replace("revert_window = \"36h\"", "revert_window = \"36 parsecs\"");
        let e = Config::parse(&bad, Path::new("f.toml"), &KNOWN)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.toml:18: `failure.revert_window`: bad duration"),
            "{e}"
        );
        let bad = GOOD.replace("production = true", "prod = true");
        let e = Config::parse(&bad, Path::new("f.toml"), &KNOWN)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.toml:14: `prod`: unknown field `prod`"),
            "{e}"
        );
        let bad = GOOD.replace("rollback = false", "rollback = \"no\"");
        let e = Config::parse(&bad, Path::new("f.toml"), &KNOWN)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml:22: `rollback`: invalid type"), "{e}");
        let bad = GOOD.replace("tiers = 2023", "tiers = 2019");
        let e = Config::parse(&bad, Path::new("f.toml"), &KNOWN)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "f.toml:3: `tiers`: no benchmarks for 2019; known years: [2023, 2024, 2025]"
            ),
            "{e}"
        );
    }

    #[test]
    fn rollback_and_defect_rules() {
        let base = "[[environment]]\nname = \"production\"\nbranch = \"main\"\n";
        let text = format!(
            "{base}[rollback]\nautomated_actors = ['*\\[bot\\]', \"re:^deploy-\"]\nautomated_within = \"10m\"\n\
             [defects]\nseverity_weights = {{ SEV1 = 5, sev2 = 2.5 }}\n"
        );
        let c = Config::parse(&text, Path::new("f.toml"), &KNOWN).unwrap();
        let a = &c.rollback.automated_actors;
        assert!(a[0].is_match("rollback[bot]") && !a[0].is_match("robot"));
        assert!(a[1].is_match("deploy-robot"));
        assert_eq!(c.rollback.automated_within_s, Some(600));
        assert_eq!(
            c.defects.weight(Some("sev1")),
            5.0,
            "keys are case-insensitive"
        );
        assert_eq!(c.defects.weight(Some(" Sev2 ")), 2.5);
        assert_eq!(c.defects.weight(Some("sev9")), 1.0);
        assert_eq!(c.defects.weight(None), 1.0);
        let none = Config::parse(base, Path::new("f.toml"), &KNOWN).unwrap();
        assert!(
            none.rollback.automated_actors.is_empty() && none.defects.severity_weights.is_empty()
        );

        let e = Config::parse(
            &format!("{base}[rollback]\nautomated_actors = [\"*[bot]\"]\n"),
            Path::new("f.toml"),
            &KNOWN,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("f.toml:5: `rollback.automated_actors`:"),
            "{e}"
        );
        assert!(e.contains("escape it: '*\\[bot\\]'"), "{e}");
        let e = Config::parse(
            &format!("{base}[rollback]\nautomated_within = \"soon\"\n"),
            Path::new("f.toml"),
            &KNOWN,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("f.toml:5: `rollback.automated_within`: bad duration"),
            "{e}"
        );
        let e = Config::parse(
            &format!("{base}[defects]\nseverity_weights = {{ sev1 = -1 }}\n"),
            Path::new("f.toml"),
            &KNOWN,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("`defects.severity_weights.sev1`: weight -1"),
            "{e}"
        );
    }

    #[test]
    fn process_change_takes_a_date_and_an_optional_label() {
        let c = Config::parse(GOOD, Path::new("f.toml"), &KNOWN).unwrap();
        assert_eq!(c.process_change, None);
        let with =
            |extra: &str| Config::parse(&format!("{GOOD}\n{extra}"), Path::new("f.toml"), &KNOWN);
        let c = with("[process_change]\ndate = \"2025-07-01\"\nlabel = \"trunk-based delivery\"\n")
            .unwrap();
        assert_eq!(
            c.process_change,
            Some(ProcessChange {
                date: chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
                label: Some("trunk-based delivery".into()),
            })
        );
        // A TOML date works too, and the label is optional.
        let c = with("[process_change]\ndate = 2025-07-01\n").unwrap();
        let p = c.process_change.unwrap();
        assert_eq!(p.date.to_string(), "2025-07-01");
        assert_eq!(p.label, None);
        // A bad date names the file, the line and the key.
        let e = with("[process_change]\ndate = \"2025-13-01\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("f.toml:25: `process_change.date`: `2025-13-01` is not a date"),
            "{e}"
        );
        let e = with("[process_change]\nlabel = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("f.toml:") && e.contains("date"), "{e}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Some(604_800));
        assert_eq!(parse_duration("30m"), Some(1800));
        assert_eq!(parse_duration("2w"), Some(1_209_600));
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}

//! `flowmeter ingest github` against a wiremock GitHub on 127.0.0.1, through
//! the real binary (`--api-url` points it at the mock). GitHub's example
//! payloads are served from `tests/data/github/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, Request, ResponseTemplate};

use crate::common::*;

const REPO: &str = "octo/demo";

fn data_file(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/github")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn data_json(name: &str) -> Value {
    serde_json::from_str(&data_file(name)).unwrap()
}

/// A mock GitHub with its own runtime.
struct Gh(MockHttp);

impl std::ops::Deref for Gh {
    type Target = MockHttp;
    fn deref(&self) -> &MockHttp {
        &self.0
    }
}

impl Gh {
    /// A server that answers every endpoint with an empty list, at low
    /// priority, so each test mounts only what it cares about.
    fn new() -> Gh {
        let gh = Gh(MockHttp::start());
        gh.mount_defaults();
        gh
    }

    /// What [`Gh::new`] mounts (again after a `reset`).
    fn mount_defaults(&self) {
        let gh = self;
        let empty = || ResponseTemplate::new(200).set_body_json(json!([]));
        let r = "/repos/octo/demo";
        gh.mount(
            Mock::given(method("GET"))
                .and(path(r))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({"default_branch": "main"})),
                )
                .with_priority(10),
        );
        gh.mount(
            Mock::given(method("GET"))
                .and(path("/rate_limit"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_string(data_file("rate_limit.json")),
                )
                .with_priority(10),
        );
        for p in ["pulls", "deployments", "releases", "tags", "issues"] {
            gh.mount(
                Mock::given(method("GET"))
                    .and(path(format!("{r}/{p}")))
                    .respond_with(empty())
                    .with_priority(10),
            );
        }
        gh.mount(
            Mock::given(method("GET"))
                .and(path(format!("{r}/actions/workflows")))
                .respond_with(
                    ResponseTemplate::new(200)
                        .set_body_json(json!({"total_count": 0, "workflows": []})),
                )
                .with_priority(10),
        );
        gh.mount(
            Mock::given(method("POST"))
                .and(path("/graphql"))
                .respond_with(ResponseTemplate::new(200).set_body_json(graphql_page(vec![], None)))
                .with_priority(10),
        );
    }

    /// Requests whose path starts with `prefix`.
    fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.url.path().starts_with(prefix))
            .count()
    }

    /// Runs `flowmeter ingest github octo/demo --api-url <mock> ARGS` with
    /// `token` in GITHUB_TOKEN (or none).
    fn ingest(&self, data: &Path, token: Option<&str>, args: &[&str]) -> Output {
        self.ingest_at(data, &self.uri(), token, args)
    }

    fn ingest_at(&self, data: &Path, api_url: &str, token: Option<&str>, args: &[&str]) -> Output {
        self.command(data, api_url, token, args)
            .output()
            .expect("flowmeter runs")
    }

    fn command(&self, data: &Path, api_url: &str, token: Option<&str>, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowmeter"));
        cmd.arg("--data")
            .arg(data)
            .args(["ingest", "github", REPO, "--api-url", api_url])
            .args(args)
            .env_remove("FLOWMETER_DATA")
            .env_remove("FLOWMETER_CONFIG")
            .env_remove("GITHUB_TOKEN")
            .env("NO_COLOR", "1");
        if let Some(t) = token {
            cmd.env("GITHUB_TOKEN", t);
        }
        cmd
    }

    fn ingest_ok(&self, data: &Path, token: Option<&str>, args: &[&str]) -> String {
        let out = self.ingest(data, token, args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "ingest failed:\n{stderr}");
        stderr
    }
}

fn json_ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn store_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    (dir, data)
}

fn graphql_page(nodes: Vec<Value>, cursor: Option<&str>) -> Value {
    json!({"data": {"repository": {"pullRequests": {
        "pageInfo": {"hasNextPage": cursor.is_some(), "endCursor": cursor},
        "nodes": nodes,
    }}}})
}

/// A PR as the REST list shows it, built from GitHub's example.
fn rest_pull(number: i64, updated_at: &str, merged: bool) -> Value {
    let mut p = data_json("pulls_list_closed.json")[0].clone();
    p["number"] = json!(number);
    p["title"] = json!(format!("PR {number}"));
    p["updated_at"] = json!(updated_at);
    p["created_at"] = json!("2024-01-01T00:00:00Z");
    p["merged_at"] = if merged {
        json!("2024-01-03T00:00:00Z")
    } else {
        Value::Null
    };
    p["merge_commit_sha"] = json!(format!("{number:040x}"));
    p
}

/// Mounts the per-PR endpoints (detail, commits, reviews) for any number,
/// answering from the number in the path.
fn mount_pr_details(gh: &Gh) {
    gh.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/octo/demo/pulls/\d+$"))
            .respond_with(|req: &Request| {
                let n: i64 = req.url.path().rsplit('/').next().unwrap().parse().unwrap();
                let mut p = rest_pull(n, "2024-01-03T00:00:00Z", true);
                p["additions"] = json!(n * 10);
                p["deletions"] = json!(n);
                p["changed_files"] = json!(2);
                p["commits"] = json!(1);
                json_ok(p)
            })
            .with_priority(5),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/octo/demo/pulls/\d+/commits$"))
            .respond_with(|req: &Request| {
                let n: i64 = req.url.path().split('/').nth(5).unwrap().parse().unwrap();
                json_ok(json!([{"sha": format!("{:040x}", n + 1_000_000),
                    "commit": {"author": {"date": "2024-01-01T00:00:00Z"},
                               "committer": {"date": "2024-01-01T00:00:00Z"}}}]))
            })
            .with_priority(5),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/octo/demo/pulls/\d+/reviews$"))
            .respond_with(json_ok(json!([
                {"user": {"login": "octocat"}, "submitted_at": "2024-01-01T12:00:00Z", "state": "COMMENTED"},
                {"user": {"login": "hubot"}, "submitted_at": "2024-01-02T00:00:00Z", "state": "APPROVED"},
            ])))
            .with_priority(5),
    );
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

#[test]
fn every_example_payload_is_parsed_with_its_quirks() {
    let gh = Gh::new();
    let r = "/repos/octo/demo";
    // PRs: the list item says state "open" with merged_at set; the detail
    // says merged: false with merged_at set. merged_at wins: it is merged.
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls")))
            .and(query_param("state", "closed"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(data_file("pulls_list_closed.json")),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls/1347")))
            .respond_with(ResponseTemplate::new(200).set_body_string(data_file("pull_1347.json"))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls/1347/commits")))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(data_file("pull_1347_commits.json")),
            ),
    );
    // The author's own review does not count as the first review.
    gh.mount(Mock::given(method("GET")).and(path(format!("{r}/pulls/1347/reviews")))
        .respond_with(json_ok(json!([
            {"user": {"login": "octocat"}, "submitted_at": "2011-01-26T18:00:00Z", "state": "COMMENTED"},
            {"user": {"login": "hubot"}, "submitted_at": "2011-01-26T18:30:00Z", "state": "APPROVED"},
            {"user": {"login": "monalisa"}, "state": "PENDING"},
        ]))));
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/deployments")))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(data_file("deployments.json")),
            ),
    );
    // The statuses example points at deployment 42, not 1: it is left out.
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/deployments/1/statuses")))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(data_file("deployment_statuses.json")),
            ),
    );
    // Releases on two pages: the OpenAPI example, then octocrab's real ones.
    let page2 = format!("{}{r}/releases?per_page=100&page=2", gh.uri());
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/releases")))
            .and(query_param_is_missing("page"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(data_file("releases.json"))
                    .insert_header(
                        "link",
                        format!("<{page2}>; rel=\"next\", <{page2}>; rel=\"last\"").as_str(),
                    ),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/releases")))
            .and(query_param("page", "2"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(data_file("releases_octocrab_real.json")),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/tags")))
            .respond_with(ResponseTemplate::new(200).set_body_string(data_file("tags.json"))),
    );
    gh.mount(Mock::given(method("GET")).and(path(format!("{r}/actions/workflows")))
        .respond_with(json_ok(json!({"total_count": 2, "workflows": [
            {"id": 159038, "name": "Build", "path": ".github/workflows/build.yml", "state": "active"},
            {"id": 7, "name": "Lint", "path": ".github/workflows/lint.yml", "state": "active"},
        ]}))));
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/actions/workflows/159038/runs")))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(data_file("actions_runs.json")),
            ),
    );
    // The issues example is a PR (it has a `pull_request` key): not an incident.
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/issues")))
            .and(query_param("labels", "incident"))
            .respond_with(
                ResponseTemplate::new(200).set_body_string(data_file("issues_incident.json")),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/issues")))
            .and(query_param("labels", "outage"))
            .respond_with(json_ok(json!([{
                "number": 77, "title": "Checkout down", "state": "closed",
                "body": "Started after deploy of a1b2c3d4e5. Order 1234567 failed.",
                "labels": [{"name": "outage"}, {"name": "sev1"}],
                "created_at": "2024-02-01T10:00:00Z", "updated_at": "2024-02-01T12:30:00Z",
                "closed_at": "2024-02-01T12:00:00Z"
            }]))),
    );

    let (_dir, data) = store_dir();
    let stderr = gh.ingest_ok(
        &data,
        None,
        &[
            "--pr-api",
            "rest",
            "--workflow",
            "build",
            "--incident-label",
            "incident",
            "--incident-label",
            "outage",
        ],
    );
    assert!(stderr.contains("anonymous"), "{stderr}");
    // rate_limit.json: core 4999 of 5000, reset 1691591363 = 2023-08-09 14:29:23 UTC.
    assert!(
        stderr.contains("4999/5000 requests left, window resets 2023-08-09 14:29:23 UTC"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 PRs in the issue list skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 deployment statuses named another deployment"),
        "{stderr}"
    );

    let prs = query(&data, "select * from pull_requests");
    assert_eq!(prs.len(), 1, "{prs:?}");
    let p = &prs[0];
    assert_eq!(p["repo"], json!(REPO));
    assert_eq!(p["number"], json!(1347));
    assert_eq!(p["title"], json!("Amazing new feature"));
    assert_eq!(p["author"], json!("octocat"));
    assert_eq!(p["created_at"], json!("2011-01-26T19:01:12Z"));
    assert_eq!(p["merged_at"], json!("2011-01-26T19:01:12Z"));
    assert_eq!(p["closed_at"], json!("2011-01-26T19:01:12Z"));
    assert_eq!(p["base_ref"], json!("master"));
    assert_eq!(p["head_ref"], json!("new-topic"));
    assert_eq!(
        p["merge_commit_sha"],
        json!("e5bd3914e2e596debea16f433f57875b5b90bcd6")
    );
    assert_eq!(
        (
            &p["additions"],
            &p["deletions"],
            &p["changed_files"],
            &p["commits"]
        ),
        (&json!(100), &json!(3), &json!(5), &json!(3))
    );
    assert_eq!(
        p["commit_shas"],
        json!(["6dcb09b5b57875f334f61aebed695e2e4193db5e"])
    );
    assert_eq!(p["first_commit_at"], json!("2011-04-14T16:00:49Z"));
    assert_eq!(p["first_review_at"], json!("2011-01-26T18:30:00Z"));
    assert_eq!(p["labels"], json!(["bug"]));

    let deps = query(&data, "select * from deployments");
    assert_eq!(deps.len(), 1, "{deps:?}");
    let d = &deps[0];
    assert_eq!(d["deployment_id"], json!("1"));
    assert_eq!(d["environment"], json!("production"));
    assert_eq!(d["sha"], json!("a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d"));
    assert_eq!(d["ref"], json!("topic-branch"));
    assert_eq!(d["source"], json!("github_deployment"));
    // No status of its own: unknown, at the deployment's creation time.
    assert_eq!(d["status"], json!("unknown"));
    assert_eq!(d["deployed_at"], json!("2012-07-20T01:19:13Z"));

    let rel = query(&data, "select * from releases order by release_id");
    let tags: Vec<&str> = rel.iter().map(|r| str_of(&r["tag_name"])).collect();
    assert_eq!(tags, ["v1.0.0", "v0.37.0", "v0.38.0"]);
    assert_eq!(rel[0]["target_commitish"], json!("master"));
    assert_eq!(rel[2]["release_id"], json!(150372594));
    assert_eq!(rel[2]["published_at"], json!("2024-04-09T10:50:08Z"));
    assert_eq!(rel[2]["draft"], json!(false));

    let refs = query(&data, "select * from refs");
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0]["name"], json!("v0.1"));
    assert_eq!(refs[0]["kind"], json!("tag"));
    assert_eq!(
        refs[0]["sha"],
        json!("c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc")
    );
    assert_eq!(refs[0]["tagged_at"], Value::Null);

    // Runs come wrapped in an object; conclusion is null while queued. Only
    // the matching workflow ("Build" for --workflow build) was asked for.
    let runs = query(&data, "select * from workflow_runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["run_id"], json!(30433642));
    assert_eq!(run["workflow_name"], json!("Build"));
    assert_eq!(run["head_branch"], json!("master"));
    assert_eq!(
        run["head_sha"],
        json!("acb5820ced9479c074f688cc328bf03f341a511d")
    );
    assert_eq!(run["event"], json!("push"));
    assert_eq!(run["status"], json!("queued"));
    assert_eq!(run["conclusion"], Value::Null);
    assert_eq!(run["created_at"], json!("2020-01-22T19:33:08Z"));
    assert_eq!(gh.count("/repos/octo/demo/actions/workflows/7"), 0);

    let inc = query(&data, "select * from incidents");
    assert_eq!(
        inc.len(),
        1,
        "the PR in the issues example must not be an incident: {inc:?}"
    );
    let i = &inc[0];
    assert_eq!(i["incident_id"], json!("77"));
    assert_eq!(i["title"], json!("Checkout down"));
    assert_eq!(i["opened_at"], json!("2024-02-01T10:00:00Z"));
    assert_eq!(i["resolved_at"], json!("2024-02-01T12:00:00Z"));
    assert_eq!(i["severity"], json!("sev1"));
    assert_eq!(i["source"], json!("github_issue"));
    assert_eq!(i["caused_by_sha"], json!("a1b2c3d4e5"));

    let repos = query(&data, "select * from repos");
    assert_eq!(repos[0]["source"], json!("github"));
    assert_eq!(repos[0]["default_branch"], json!("main"));
}

#[test]
fn three_pages_are_joined_through_link_headers() {
    let gh = Gh::new();
    let base = format!("{}/repos/octo/demo/pulls", gh.uri());
    let link = |page: u32| {
        format!("<{base}?state=closed&sort=updated&direction=desc&per_page=100&page={page}>; rel=\"next\", <{base}?page=3>; rel=\"last\"")
    };
    let list = || Mock::given(method("GET")).and(path("/repos/octo/demo/pulls"));
    gh.mount(
        list().and(query_param_is_missing("page")).respond_with(
            json_ok(json!([
                rest_pull(1, "2024-03-03T00:00:00Z", true),
                rest_pull(2, "2024-03-02T12:00:00Z", false)
            ]))
            .insert_header("link", link(2).as_str()),
        ),
    );
    gh.mount(
        list().and(query_param("page", "2")).respond_with(
            json_ok(json!([rest_pull(3, "2024-03-02T00:00:00Z", true)]))
                .insert_header("link", link(3).as_str()),
        ),
    );
    gh.mount(
        list()
            .and(query_param("page", "3"))
            .respond_with(json_ok(json!([rest_pull(4, "2024-03-01T00:00:00Z", true)]))),
    );
    mount_pr_details(&gh);
    let (_dir, data) = store_dir();
    gh.ingest_ok(&data, None, &["--resources", "pull_requests"]);
    let rows = query(
        &data,
        "select number, additions, first_review_at from pull_requests order by number",
    );
    let numbers: Vec<i64> = rows.iter().map(|r| r["number"].as_i64().unwrap()).collect();
    // PR 2 was closed without merging.
    assert_eq!(numbers, [1, 3, 4]);
    assert_eq!(rows[1]["additions"], json!(30));
    // octocat is the author; hubot's review is the first one that counts.
    assert_eq!(rows[0]["first_review_at"], json!("2024-01-02T00:00:00Z"));
    let pages: Vec<String> = gh
        .requests()
        .iter()
        .filter(|r| r.url.path() == "/repos/octo/demo/pulls")
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(pages, ["", "2", "3"]);
}

#[test]
fn a_rate_limit_is_waited_out() {
    let gh = Gh::new();
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/releases"))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_json(json!({"message": "API rate limit exceeded"}))
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-limit", "5000")
                    .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/releases"))
            .respond_with(ResponseTemplate::new(200).set_body_string(data_file("releases.json")))
            .with_priority(2),
    );
    let (_dir, data) = store_dir();
    let started = Instant::now();
    let stderr = gh.ingest_ok(&data, None, &["--resources", "releases"]);
    let took = started.elapsed();
    assert!(
        stderr.contains(
            "rate limited on GET /repos/octo/demo/releases?per_page=100 (403 Forbidden): waiting"
        ),
        "{stderr}"
    );
    // The reset was 2 s ahead (whole seconds): the run waited at least 1 s past now.
    assert!(took >= Duration::from_millis(1500), "took {took:?}");
    assert_eq!(gh.count("/repos/octo/demo/releases"), 2);
    assert_eq!(
        query(&data, "select tag_name from releases"),
        vec![json!({"tag_name": "v1.0.0"})]
    );
}

#[test]
fn a_502_is_retried() {
    let gh = Gh::new();
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/tags"))
            .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad gateway</html>"))
            .up_to_n_times(1)
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/tags"))
            .respond_with(ResponseTemplate::new(200).set_body_string(data_file("tags.json")))
            .with_priority(2),
    );
    let (_dir, data) = store_dir();
    let stderr = gh.ingest_ok(&data, None, &["--resources", "tags"]);
    assert!(
        stderr.contains(
            "GET /repos/octo/demo/tags?per_page=100: GitHub answered 502 Bad Gateway; retry 1/4"
        ),
        "{stderr}"
    );
    assert_eq!(gh.count("/repos/octo/demo/tags"), 2);
    assert_eq!(
        query(&data, "select name from refs"),
        vec![json!({"name": "v0.1"})]
    );
}

#[test]
fn persistent_5xx_fails_after_bounded_retries() {
    let gh = Gh::new();
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/tags"))
            .respond_with(ResponseTemplate::new(503))
            .with_priority(1),
    );
    let (_dir, data) = store_dir();
    let out = gh.ingest(&data, None, &["--resources", "tags"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("GET /repos/octo/demo/tags?per_page=100: request failed after 5 attempts: GitHub answered 503"), "{stderr}");
    assert_eq!(gh.count("/repos/octo/demo/tags"), 5);
}

#[test]
fn truncated_json_names_the_endpoint() {
    let gh = Gh::new();
    let full = data_file("deployments.json");
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/deployments"))
            .respond_with(ResponseTemplate::new(200).set_body_string(&full[..full.len() / 2]))
            .with_priority(1),
    );
    let (_dir, data) = store_dir();
    let out = gh.ingest(&data, None, &["--resources", "deployments"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Error: ingesting octo/demo from GitHub: GET /repos/octo/demo/deployments?per_page=100: the response is not the expected JSON (malformed or truncated?): EOF while parsing"),
        "{stderr}"
    );
}

/// Three merged PRs over two list pages, two deployments, one deploy
/// workflow with one run, one incident.
fn mount_repo_history(gh: &Gh) {
    let r = "/repos/octo/demo";
    let next = format!(
        "<{}{r}/pulls?state=closed&sort=updated&direction=desc&per_page=100&page=2>; rel=\"next\"",
        gh.uri()
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls")))
            .and(query_param_is_missing("page"))
            .respond_with(
                json_ok(json!([
                    rest_pull(3, "2024-03-03T00:00:00Z", true),
                    rest_pull(2, "2024-03-02T00:00:00Z", true)
                ]))
                .insert_header("link", next.as_str()),
            ),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls")))
            .and(query_param("page", "2"))
            .respond_with(json_ok(json!([rest_pull(1, "2024-03-01T00:00:00Z", true)]))),
    );
    mount_pr_details(gh);
    let dep = |id: i64, at: &str| {
        json!({"id": id, "sha": format!("{id:040x}"), "ref": "main",
        "environment": "production", "created_at": at, "updated_at": at})
    };
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/deployments")))
            .respond_with(json_ok(json!([
                dep(11, "2024-03-05T00:00:00Z"),
                dep(10, "2024-03-04T00:00:00Z")
            ]))),
    );
    gh.mount(Mock::given(method("GET")).and(path_regex(r"^/repos/octo/demo/deployments/\d+/statuses$"))
        .respond_with(|req: &Request| {
            let id = req.url.path().split('/').nth(5).unwrap().to_string();
            json_ok(json!([{"state": "success", "created_at": "2024-03-05T00:05:00Z",
                "deployment_url": format!("https://api.github.com/repos/octo/demo/deployments/{id}")}]))
        }));
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/actions/workflows")))
            .respond_with(json_ok(
                json!({"total_count": 1, "workflows": [{"id": 5, "name": "Deploy production"}]}),
            )),
    );
    let mut runs = data_json("actions_runs.json");
    runs["workflow_runs"][0]["status"] = json!("completed");
    runs["workflow_runs"][0]["conclusion"] = json!("success");
    runs["workflow_runs"][0]["name"] = json!("Deploy production");
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/actions/workflows/5/runs")))
            .respond_with(json_ok(runs)),
    );
    gh.mount(Mock::given(method("GET")).and(path(format!("{r}/issues")))
        .respond_with(json_ok(json!([{"number": 9, "title": "API errors", "body": null, "labels": ["incident"],
            "created_at": "2024-03-06T00:00:00Z", "updated_at": "2024-03-06T02:00:00Z", "closed_at": null}]))));
}

#[test]
fn a_second_run_makes_fewer_requests_and_adds_no_duplicates() {
    let gh = Gh::new();
    mount_repo_history(&gh);
    let (_dir, data) = store_dir();
    gh.ingest_ok(&data, None, &[]);
    let first = gh.requests().len();
    // rate_limit + repo + PRs (2 list pages + 3 × (PR, commits, reviews)) +
    // deployments (list + 2 statuses) + releases + tags + workflows + runs + issues.
    assert_eq!(
        first,
        2 + (2 + 9) + 3 + 1 + 1 + 2 + 1,
        "{:#?}",
        gh.requests()
            .iter()
            .map(|r| r.url.to_string())
            .collect::<Vec<_>>()
    );

    let before = gh.requests().len();
    gh.ingest_ok(&data, None, &[]);
    let all = gh.requests();
    let second: Vec<_> = all[before..].iter().map(|r| r.url.clone()).collect();
    // The PR list stops at the mark on page 1 and refetches only the PR
    // updated at the mark itself; deployments refetch only the newest one's
    // statuses; runs and issues pass the mark to the API.
    assert_eq!(second.len(), 2 + (1 + 3) + 2 + 1 + 1 + 2 + 1, "{second:#?}");
    assert!(second.len() < first);
    let q = |p: &str| {
        second
            .iter()
            .find(|u| u.path() == p)
            .unwrap()
            .query()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        q("/repos/octo/demo/issues").contains("since=2024-03-06T02%3A00%3A00Z"),
        "{}",
        q("/repos/octo/demo/issues")
    );
    assert!(q("/repos/octo/demo/actions/workflows/5/runs")
        .contains("created=%3E%3D2020-01-22T19%3A33%3A08Z"));

    for (table, n) in [
        ("pull_requests", 3),
        ("deployments", 2),
        ("workflow_runs", 1),
        ("incidents", 1),
        ("releases", 0),
        ("sync_state", 5),
    ] {
        let rows = query(&data, &format!("select count(*) as n from {table}"));
        assert_eq!(rows[0]["n"], json!(n), "{table}");
    }
}

#[test]
fn an_interrupted_run_keeps_its_pages_and_the_next_resumes_without_duplicates() {
    let gh = Gh::new();
    mount_repo_history(&gh);
    // Page 2 of the PR list breaks: the run dies after writing page 1.
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/pulls"))
            .and(query_param("page", "2"))
            .respond_with(ResponseTemplate::new(200).set_body_string("[{\"number\": 1, \"title\""))
            .with_priority(1),
    );
    let (_dir, data) = store_dir();
    let out = gh.ingest(&data, None, &["--resources", "pull_requests"]);
    assert!(!out.status.success());
    let kept = query(&data, "select number from pull_requests order by number");
    assert_eq!(kept, vec![json!({"number": 2}), json!({"number": 3})]);
    assert_eq!(
        query(&data, "select count(*) as n from sync_state")[0]["n"],
        json!(0)
    );

    gh.reset();
    mount_repo_history(&gh);
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo"))
            .respond_with(json_ok(json!({"default_branch": "main"}))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/rate_limit"))
            .respond_with(ResponseTemplate::new(404)),
    );
    gh.ingest_ok(&data, None, &["--resources", "pull_requests"]);
    let rows = query(&data, "select number from pull_requests order by number");
    assert_eq!(
        rows,
        vec![
            json!({"number": 1}),
            json!({"number": 2}),
            json!({"number": 3})
        ]
    );
}

/// A repo with `n` merged PRs, served both ways, for the request counts.
/// PR `i` of `n` as the GraphQL query returns it (the same facts as
/// `rest_pull` plus `mount_pr_details`).
fn gql_node(i: i64, n: i64) -> Value {
    json!({
        "number": i, "title": format!("PR {i}"), "author": {"login": "octocat"},
        "createdAt": "2024-01-01T00:00:00Z", "mergedAt": "2024-01-03T00:00:00Z",
        "closedAt": "2011-01-26T19:01:12Z",
        "updatedAt": format!("2024-03-01T00:{:02}:{:02}Z", (n - i) / 60, (n - i) % 60),
        "baseRefName": "master", "headRefName": "new-topic",
        "mergeCommit": {"oid": format!("{i:040x}")},
        "additions": i * 10, "deletions": i, "changedFiles": 2,
        "commits": {"totalCount": 1, "nodes": [{"commit": {"oid": format!("{:040x}", i + 1_000_000), "authoredDate": "2024-01-01T00:00:00Z"}}]},
        "reviews": {"nodes": [
            {"author": {"login": "octocat"}, "submittedAt": "2024-01-01T12:00:00Z"},
            {"author": {"login": "hubot"}, "submittedAt": "2024-01-02T00:00:00Z"}]},
        "labels": {"nodes": [{"name": "bug"}]},
    })
}

fn mount_many_prs(gh: &Gh, n: i64) {
    let list: Vec<Value> = (1..=n)
        .map(|i| {
            rest_pull(
                i,
                &format!("2024-03-01T00:{:02}:{:02}Z", (n - i) / 60, (n - i) % 60),
                true,
            )
        })
        .collect();
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/pulls"))
            .respond_with(json_ok(json!(list)))
            .with_priority(1),
    );
    mount_pr_details(gh);
    let nodes: Vec<Value> = (1..=n).map(|i| gql_node(i, n)).collect();
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(json_ok(graphql_page(nodes, None)))
            .with_priority(1),
    );
}

#[test]
fn requests_per_100_merged_prs_rest_versus_graphql() {
    let gh = Gh::new();
    mount_many_prs(&gh, 100);
    let (_d1, rest_store) = store_dir();
    gh.ingest_ok(
        &rest_store,
        None,
        &["--resources", "pull_requests", "--pr-api", "rest"],
    );
    let rest = gh.count("/repos/octo/demo/pulls");
    let before = gh.count("/graphql");
    let (_d2, gql_store) = store_dir();
    gh.ingest_ok(
        &gql_store,
        Some("gql-needs-a-token"),
        &["--resources", "pull_requests"],
    );
    let graphql = gh.count("/graphql") - before;
    let rest_after = gh.count("/repos/octo/demo/pulls");
    eprintln!("requests per 100 merged PRs: REST {rest}, GraphQL {graphql}");
    assert_eq!(rest, 1 + 3 * 100);
    assert_eq!(graphql, 1);
    assert_eq!(rest_after, rest, "auto with a token uses GraphQL only");
    // Both strategies store the same rows.
    let sql = "select number, title, author, created_at, merged_at, closed_at, base_ref, head_ref, merge_commit_sha, additions, deletions, changed_files, commits, commit_shas, first_commit_at, first_review_at, labels from pull_requests order by number";
    let a = query(&rest_store, sql);
    let b = query(&gql_store, sql);
    assert_eq!(a.len(), 100);
    assert_eq!(a, b);
}

#[test]
fn the_token_never_appears_in_output_or_the_store() {
    let token = "ghp_FLOWMETERtestTOKEN0123456789abcdef";
    let gh = Gh::new();
    mount_repo_history(&gh);
    mount_many_prs(&gh, 3);
    // Things that make it talk: a rate-limit wait, a retry, an error.
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/releases"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "1")
                    .set_body_json(json!({"message": format!("secondary rate limit for {token}")})),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/tags"))
            .respond_with(
                ResponseTemplate::new(500)
                    .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
            )
            .up_to_n_times(1)
            .with_priority(1),
    );
    let (_dir, data) = store_dir();
    let mut outputs = vec![];
    let out = gh.ingest(&data, Some(token), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    outputs.push(out);
    // A failing run: GitHub echoes the token in an error message.
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/deployments"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(json!({"message": format!("Bad credentials: {token}")})),
            )
            .with_priority(1),
    );
    let out = gh.ingest(&data, Some(token), &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(stderr.contains("GitHub answered 401"), "{stderr}");
    assert!(stderr.contains("[redacted]"), "{stderr}");
    outputs.push(out);
    outputs.push(gh.ingest(&data, Some(token), &["--token-env", "NOT_SET_ANYWHERE"]));

    // The token was really sent, to REST and GraphQL alike...
    let auth = format!("Bearer {token}");
    let sent: Vec<String> = gh
        .requests()
        .iter()
        .filter_map(|r| {
            r.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
        })
        .collect();
    assert!(
        sent.iter().any(|a| a == &auth),
        "the token was not used: {sent:?}"
    );
    assert!(gh
        .requests()
        .iter()
        .any(|r| r.url.path() == "/graphql" && r.headers.get("authorization").is_some()));
    // ...and is nowhere in what flowmeter printed or stored.
    for out in &outputs {
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains(token), "token leaked: {text}");
        }
    }
    let files = snapshot_dir(&data);
    assert!(files.len() > 5);
    for (p, bytes) in files {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token in {}",
            p.display()
        );
    }
    let rows = query(&data, "select count(*) as n from pull_requests");
    assert_eq!(rows[0]["n"], json!(3));

    // Every other command, with the token in the environment and backtraces
    // on, prints none of it, and neither do the reports it writes.
    let out_dir = tempfile::tempdir().unwrap();
    let cfg = out_dir.path().join("flowmeter.toml");
    std::fs::write(
        &cfg,
        "[[environment]]\nname = \"production\"\ngithub_deployments = \"production\"\nproduction = true\n",
    )
    .unwrap();
    let month = out_dir.path().join("month");
    let deck = out_dir.path().join("deck");
    let commands: Vec<Vec<&str>> = vec![
        vec!["analyze"],
        vec!["metrics", "--format", "json"],
        vec!["flow", "--format", "json"],
        vec!["risk", "--format", "json"],
        vec!["whatif", "--format", "json"],
        vec![
            "compare",
            "--before",
            "2024-01-01..2024-06-30",
            "--after",
            "2024-07-01..2024-12-31",
        ],
        vec!["explain", "deployment", "1"],
        vec!["sql", "select * from pull_requests", "--format", "json"],
        vec![
            "report",
            "monthly",
            "--month",
            "2024-03",
            "--out",
            month.to_str().unwrap(),
        ],
        vec!["report", "deck", "--out", deck.to_str().unwrap()],
        vec!["sql", "select * from nowhere"],
    ];
    for args in &commands {
        let out = Command::new(env!("CARGO_BIN_EXE_flowmeter"))
            .arg("--data")
            .arg(&data)
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .env_remove("FLOWMETER_DATA")
            .env_remove("FLOWMETER_CONFIG")
            .env("GITHUB_TOKEN", token)
            .env("RUST_BACKTRACE", "1")
            .current_dir(out_dir.path())
            .output()
            .unwrap();
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains(token), "token leaked by {args:?}: {text}");
            assert!(!text.contains("panicked"), "{args:?} panicked: {text}");
        }
    }
    let written = snapshot_dir(out_dir.path());
    assert!(
        written.iter().any(|(p, _)| p.ends_with("summary.json"))
            && written.iter().any(|(p, _)| p.ends_with("deck.json")),
        "the monthly report and the deck were written: {:?}",
        written.iter().map(|w| &w.0).collect::<Vec<_>>()
    );
    for (p, bytes) in written.iter().chain(&snapshot_dir(&data)) {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token in {}",
            p.display()
        );
    }
}

#[test]
fn enterprise_server_paths_and_a_graphql_rate_limit() {
    let gh = Gh::new();
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/api/v3/repos/octo/demo"))
            .respond_with(json_ok(json!({"default_branch": "trunk"}))),
    );
    // A GHES with rate limiting off has no /rate_limit.
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/api/v3/rate_limit"))
            .respond_with(ResponseTemplate::new(404)),
    );
    // GraphQL's primary limit is a 200 with a RATE_LIMITED error.
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    gh.mount(Mock::given(method("POST")).and(path("/api/graphql"))
        .respond_with(json_ok(json!({"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}))
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.to_string().as_str()))
        .up_to_n_times(1).with_priority(1));
    gh.mount(
        Mock::given(method("POST"))
            .and(path("/api/graphql"))
            .respond_with(json_ok(graphql_page(
                vec![gql_node(1, 2), gql_node(2, 2)],
                None,
            )))
            .with_priority(2),
    );
    let (_dir, data) = store_dir();
    let api = format!("{}/api/v3", gh.uri());
    let out = gh.ingest_at(
        &data,
        &api,
        Some("ghes-token"),
        &["--resources", "pull_requests"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("rate limited on POST /graphql (RATE_LIMITED): waiting"),
        "{stderr}"
    );
    assert_eq!(gh.count("/api/graphql"), 2);
    assert_eq!(gh.count("/graphql"), 0);
    assert_eq!(gh.count("/repos/"), 0, "REST must go under /api/v3");
    let repos = query(&data, "select default_branch, location from repos");
    assert_eq!(
        repos,
        vec![json!({"default_branch": "trunk", "location": format!("{api}/repos/octo/demo")})]
    );
    assert_eq!(
        query(&data, "select count(*) as n from pull_requests")[0]["n"],
        json!(2)
    );
}

#[test]
fn prs_and_incidents_join_the_git_history() {
    // main: base, then a --no-ff merge of one feature commit, as GitHub's merge button does.
    let fx = Fixture::new();
    fx.commit("2024-03-01T09:00:00Z", &ALICE, "base", &[("a", b"1\n")]);
    fx.git(&["checkout", "-q", "-b", "feature"]);
    let work = fx.commit(
        "2024-03-01T10:00:00Z",
        &ALICE,
        "feature work",
        &[("b", b"2\n")],
    );
    fx.git(&["checkout", "-q", "main"]);
    fx.git_at(
        "2024-03-02T10:00:00Z",
        &BOB,
        &[
            "merge",
            "--no-ff",
            "-q",
            "-m",
            "Merge pull request #5 from octo/feature",
            "feature",
        ],
    );
    let merge = fx.head();
    let data = fx.dir.path().join("store");
    ok(
        &data,
        &["ingest", "git", fx.path.to_str().unwrap(), "--name", REPO],
    );

    let gh = Gh::new();
    let r = "/repos/octo/demo";
    let mut pr = rest_pull(5, "2024-03-02T10:00:05Z", true);
    pr["created_at"] = json!("2024-03-01T11:00:00Z");
    pr["merged_at"] = json!("2024-03-02T10:00:00Z");
    pr["merge_commit_sha"] = json!(merge);
    pr["user"]["login"] = json!("alice");
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls")))
            .respond_with(json_ok(json!([pr.clone()])))
            .with_priority(1),
    );
    pr["additions"] = json!(1);
    pr["deletions"] = json!(0);
    pr["changed_files"] = json!(1);
    pr["commits"] = json!(1);
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls/5")))
            .respond_with(json_ok(pr))
            .with_priority(1),
    );
    gh.mount(Mock::given(method("GET")).and(path(format!("{r}/pulls/5/commits"))).respond_with(json_ok(json!([
        {"sha": work, "commit": {"author": {"date": "2024-03-01T10:00:00Z"}, "committer": {"date": "2024-03-01T10:00:00Z"}}}
    ]))).with_priority(1));
    gh.mount(Mock::given(method("GET")).and(path(format!("{r}/pulls/5/reviews"))).respond_with(json_ok(json!([
        {"user": {"login": "bob"}, "submitted_at": "2024-03-01T15:00:00Z", "state": "APPROVED"}
    ]))).with_priority(1));
    // The incident names the feature commit by a 12-digit prefix.
    gh.mount(Mock::given(method("GET")).and(path(format!("{r}/issues"))).respond_with(json_ok(json!([{
        "number": 6, "title": "Errors after release", "body": format!("Reverting {} fixes it", &work[..12]),
        "labels": [{"name": "incident"}], "created_at": "2024-03-03T00:00:00Z",
        "updated_at": "2024-03-03T01:00:00Z", "closed_at": "2024-03-03T01:00:00Z"
    }]))).with_priority(1));
    gh.ingest_ok(&data, None, &[]);

    // The PR joins its merge commit and its own commits in `commits`.
    let joined = query(&data, "select p.number, c.author_name, c.is_merge from pull_requests p join commits c on p.merge_commit_sha = c.sha");
    assert_eq!(
        joined,
        vec![json!({"number": 5, "author_name": "Bob", "is_merge": true})]
    );
    let prs = query(
        &data,
        "select commit_shas, first_commit_at, first_review_at from pull_requests",
    );
    assert_eq!(prs[0]["commit_shas"], json!([work]));
    let authored = query(
        &data,
        &format!("select authored_at from commits where sha = '{work}'"),
    );
    assert_eq!(prs[0]["first_commit_at"], authored[0]["authored_at"]);
    assert_eq!(prs[0]["first_review_at"], json!("2024-03-01T15:00:00Z"));
    // The abbreviated sha was expanded against the ingested history.
    let inc = query(&data, "select caused_by_sha, resolved_at from incidents");
    assert_eq!(
        inc,
        vec![json!({"caused_by_sha": work, "resolved_at": "2024-03-03T01:00:00Z"})]
    );

    // End to end: the PR's lead time breaks down in `metrics` and `explain`.
    // Production is a deploy log: the base ships first (so it is the baseline),
    // then the merge ships at 03-02 14:00 with the feature commit in its batch.
    let base = fx.rev("HEAD~1");
    let cfg = fx.dir.path().join("flowmeter.toml");
    std::fs::write(
        &cfg,
        "[[environment]]\nname = \"production\"\nfile = \"deploys.csv\"\nproduction = true\n",
    )
    .unwrap();
    let deploys = fx.dir.path().join("deploys.csv");
    std::fs::write(
        &deploys,
        format!(
            "deployed_at,environment,sha,repo\n\
             2024-03-01T09:30:00Z,production,{base},{REPO}\n\
             2024-03-02T14:00:00Z,production,{merge},{REPO}\n"
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    ok(
        &data,
        &[
            "--config",
            cfg,
            "ingest",
            "deployments",
            deploys.to_str().unwrap(),
        ],
    );
    // coding: first commit 03-01 10:00 -> PR opened 11:00 = 1 h
    // pickup: opened 11:00 -> first review by someone else 15:00 = 4 h
    // review: 15:00 -> merged 03-02 10:00 = 19 h
    // waiting: merged 10:00 -> deployed 14:00 = 4 h
    let out = ok(&data, &["--config", cfg, "metrics", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let m = &v["periods"][0];
    for (k, w) in [
        ("prs", 1.0),
        ("coding_median_h", 1.0),
        ("pickup_median_h", 4.0),
        ("review_median_h", 19.0),
        ("waiting_median_h", 4.0),
    ] {
        assert_eq!(m[k].as_f64(), Some(w), "{k}: {m}");
    }
    let text = ok(&data, &["--config", cfg, "explain", "commit", &work]);
    assert!(text.contains("PR #5"), "{text}");
    assert!(
        text.contains("coding 1h  pickup 4h  review 19h  waiting for deploy 4h"),
        "{text}"
    );
}

#[test]
fn a_killed_run_keeps_its_pages_and_the_next_resumes_without_duplicates() {
    let gh = Gh::new();
    mount_repo_history(&gh);
    // Page 2 of the PR list takes long enough for the process to be killed
    // while it waits.
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo/pulls"))
            .and(query_param("page", "2"))
            .respond_with(json_ok(json!([])).set_delay(Duration::from_secs(60)))
            .with_priority(1),
    );
    let (_dir, data) = store_dir();
    let mut child = gh
        .command(&data, &gh.uri(), None, &["--resources", "pull_requests"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !gh.requests().iter().any(|r| {
        r.url.path() == "/repos/octo/demo/pulls" && r.url.query().unwrap_or("").contains("page=2")
    }) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "page 2 was never asked for"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Page 1 (PRs 3 and 2) was written before page 2 was asked for.
    let kept = query(&data, "select number from pull_requests order by number");
    assert_eq!(kept, vec![json!({"number": 2}), json!({"number": 3})]);
    assert_eq!(
        query(&data, "select count(*) as n from sync_state")[0]["n"],
        json!(0)
    );

    gh.reset();
    mount_repo_history(&gh);
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/repos/octo/demo"))
            .respond_with(json_ok(json!({"default_branch": "main"}))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path("/rate_limit"))
            .respond_with(ResponseTemplate::new(404)),
    );
    gh.ingest_ok(&data, None, &["--resources", "pull_requests"]);
    let rows = query(
        &data,
        "select number, count(*) as n from pull_requests group by number order by number",
    );
    assert_eq!(
        rows,
        vec![
            json!({"number": 1, "n": 1}),
            json!({"number": 2, "n": 1}),
            json!({"number": 3, "n": 1})
        ]
    );
}

#[test]
fn releases_are_asked_for_conditionally() {
    let gh = Gh::new();
    let r = "/repos/octo/demo/releases";
    gh.mount(
        Mock::given(method("GET"))
            .and(path(r))
            .and(header("if-none-match", "\"rel-v1\""))
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(r))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_string(data_file("releases.json"))
                    .insert_header("etag", "\"rel-v1\""),
            )
            .with_priority(2),
    );
    let (_dir, data) = store_dir();
    gh.ingest_ok(&data, None, &["--resources", "releases"]);
    let state = query(
        &data,
        "select resource, etag, high_water_mark from sync_state",
    );
    // The mark is the newest release's creation time.
    assert_eq!(
        state,
        vec![
            json!({"resource": "releases", "etag": "\"rel-v1\"", "high_water_mark": "2013-02-27T19:35:32Z"})
        ]
    );
    let stderr = gh.ingest_ok(&data, None, &["--resources", "releases"]);
    assert!(
        stderr.contains("releases unchanged (304 Not Modified)"),
        "{stderr}"
    );
    let sent: Vec<Option<String>> = gh
        .requests()
        .iter()
        .filter(|q| q.url.path() == r)
        .map(|q| {
            q.headers
                .get("if-none-match")
                .map(|v| v.to_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(sent, [None, Some("\"rel-v1\"".to_string())]);
    assert_eq!(
        query(&data, "select count(*) as n from releases")[0]["n"],
        json!(1)
    );
}

/// The GitHub-only store, as a user gets it: `ingest github` against the mock
/// and no `ingest git`. `metrics` gives frequency and the change fail rate,
/// lead time stays empty with a note naming the missing ingest, and no
/// command panics.
#[test]
fn a_github_only_store_gives_frequency_and_change_fail_rate() {
    let gh = Gh::new();
    mount_repo_history(&gh);
    let (dir, data) = store_dir();
    gh.ingest_ok(&data, None, &[]);
    let cfg = dir.path().join("flowmeter.toml");
    std::fs::write(
        &cfg,
        "[[environment]]\nname = \"production\"\ngithub_deployments = \"production\"\nproduction = true\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let analyze = flowmeter(&data, &["--config", cfg, "analyze"]);
    let err = String::from_utf8_lossy(&analyze.stderr);
    assert!(analyze.status.success(), "{err}");
    assert!(err.contains("ingest git PATH --name octo/demo"), "{err}");

    let m: Value =
        serde_json::from_str(&ok(&data, &["--config", cfg, "metrics", "-f", "json"])).unwrap();
    let all = m["periods"].as_array().unwrap().last().unwrap().clone();
    // Deployments 10 and 11, each with a `success` status at 03-05 00:05,
    // which is when they went live: two deployments on one day. Incident #9
    // opens 03-06 00:00, within the default window of deployment 11, the one
    // live then: one failure of two.
    assert_eq!(all["deployments"], 2, "{all}");
    assert_eq!(all["deploy_days"], 1, "{all}");
    assert_eq!(all["failed"], 1, "{all}");
    assert_eq!(all["change_fail_rate"].as_f64(), Some(0.5), "{all}");
    assert_eq!(all["lead_time_median_h"], Value::Null, "{all}");
    let charged: Vec<Value> = serde_json::from_str(&ok(
        &data,
        &[
            "--config",
            cfg,
            "sql",
            "select deployment_id from deployment_stats where failed",
            "--format",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(charged.len(), 1, "{charged:?}");
    assert!(
        charged[0]["deployment_id"]
            .as_str()
            .unwrap()
            .ends_with("11"),
        "{charged:?}"
    );

    answer_without_panic(
        &data,
        cfg,
        &[
            &["flow"][..],
            &["risk"],
            &["whatif"],
            &["sql", "select * from changes"],
        ],
    );
}

/// CI runs as test evidence: `[tests] workflows` makes `ingest github` fetch
/// the CI workflow's runs too, and analysis marks each production deployment
/// green when a run of it concluded `success` before the deployment, on the
/// deployed sha or on the head of the PR whose merge commit it is.
#[test]
fn ci_runs_are_test_evidence_for_each_deployment() {
    let gh = Gh::new();
    let r = "/repos/octo/demo";
    let sha = |n: i64| format!("{n:040x}");
    // PR 4: merge commit sha(4), head commit sha(1_000_004) (mount_pr_details).
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/pulls")))
            .respond_with(json_ok(json!([rest_pull(4, "2024-03-06T00:00:00Z", true)]))),
    );
    mount_pr_details(&gh);
    // d10 ships sha(10), d11 sha(11), d12 the merge commit of PR 4; live at
    // 03-04, 03-05 and 03-06 00:05.
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/deployments")))
            .respond_with(json_ok(json!([
                {"id": 12, "sha": sha(4), "ref": "main", "environment": "production", "created_at": "2024-03-06T00:00:00Z"},
                {"id": 11, "sha": sha(11), "ref": "main", "environment": "production", "created_at": "2024-03-05T00:00:00Z"},
                {"id": 10, "sha": sha(10), "ref": "main", "environment": "production", "created_at": "2024-03-04T00:00:00Z"},
            ]))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/octo/demo/deployments/\d+/statuses$"))
            .respond_with(|req: &Request| {
                let id: i64 = req.url.path().split('/').nth(5).unwrap().parse().unwrap();
                let at = format!("2024-03-{:02}T00:05:00Z", id - 6);
                json_ok(json!([{"state": "success", "created_at": at,
                    "deployment_url": format!("https://api.github.com/repos/octo/demo/deployments/{id}")}]))
            }),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/actions/workflows")))
            .respond_with(json_ok(json!({"total_count": 3, "workflows": [
                {"id": 5, "name": "Deploy production"}, {"id": 6, "name": "CI"}, {"id": 7, "name": "Lint"}]}))),
    );
    let template = data_json("actions_runs.json")["workflow_runs"][0].clone();
    let run = |id: i64, head: &str, conclusion: &str, at: &str| {
        let mut v = template.clone();
        v["id"] = json!(id);
        v["name"] = json!("CI");
        v["workflow_id"] = json!(6);
        v["head_sha"] = json!(head);
        v["head_branch"] = json!("main");
        v["status"] = json!("completed");
        v["conclusion"] = json!(conclusion);
        v["created_at"] = json!(at);
        v["run_started_at"] = json!(at);
        v["updated_at"] = json!(at);
        v
    };
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/actions/workflows/6/runs")))
            .respond_with(json_ok(json!({"total_count": 4, "workflow_runs": [
                // d10: green the evening before.
                run(1, &sha(10), "success", "2024-03-03T23:00:00Z"),
                // d11: red before, green only an hour after it went live.
                run(2, &sha(11), "failure", "2024-03-04T23:00:00Z"),
                run(3, &sha(11), "success", "2024-03-05T01:00:00Z"),
                // d12: green on PR 4's head, five minutes before.
                run(4, &sha(1_000_004), "success", "2024-03-06T00:00:00Z"),
            ]}))),
    );
    gh.mount(
        Mock::given(method("GET"))
            .and(path(format!("{r}/actions/workflows/5/runs")))
            .respond_with(json_ok(json!({"total_count": 0, "workflow_runs": []}))),
    );
    let (dir, data) = store_dir();
    let cfg = dir.path().join("flowmeter.toml");
    std::fs::write(
        &cfg,
        "[[environment]]\nname = \"production\"\ngithub_deployments = \"production\"\n\n[tests]\nworkflows = [\"ci*\"]\n",
    )
    .unwrap();
    // The test workflows come from the config's [tests] (FLOWMETER_CONFIG here).
    let out = gh
        .command(&data, &gh.uri(), None, &[])
        .env("FLOWMETER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        gh.count("/repos/octo/demo/actions/workflows/7"),
        0,
        "Lint is not fetched"
    );
    let runs = query(
        &data,
        "select run_id, workflow_name, conclusion from workflow_runs order by run_id",
    );
    assert_eq!(runs.len(), 4, "{runs:?}");
    assert!(runs.iter().all(|r| r["workflow_name"] == "CI"));

    let cfg = cfg.to_str().unwrap();
    let rows = ok(
        &data,
        &[
            "--config",
            cfg,
            "sql",
            "select deployment_id, tests_passed from deployment_stats order by deployed_at",
            "--format",
            "json",
        ],
    );
    let rows: Value = serde_json::from_str(&rows).unwrap();
    assert_eq!(
        rows,
        json!([
            {"deployment_id": "10", "tests_passed": true},
            {"deployment_id": "11", "tests_passed": false},
            {"deployment_id": "12", "tests_passed": true},
        ])
    );
    // Green tests on 2 of 3 deployments.
    let all = metrics_all(&data, cfg, &[]);
    assert_eq!(all["tests_green"], json!(2));
    let share = all["tests_green_share"].as_f64().unwrap();
    assert!((share - 2.0 / 3.0).abs() < 1e-12, "{share}");
    // Without [tests], the same runs say nothing.
    std::fs::write(
        dir.path().join("plain.toml"),
        "[[environment]]\nname = \"production\"\ngithub_deployments = \"production\"\n",
    )
    .unwrap();
    let plain = dir.path().join("plain.toml");
    let rows = ok(
        &data,
        &[
            "--config",
            plain.to_str().unwrap(),
            "sql",
            "select count(*) as n from deployment_stats where tests_passed is not null",
            "--format",
            "json",
        ],
    );
    assert!(
        rows.contains("\"n\":0") || rows.contains("\"n\": 0"),
        "{rows}"
    );
}

// ---- crash safety: killed mid-pagination, and a connection dropped mid-body ----

/// `pages` pages of five merged PRs (newest first) on the REST list, each
/// page answered after `delay`, linked through `base` (the mock, or the
/// proxy in front of it), over the rest of `mount_repo_history`.
fn mount_paged_history(gh: &Gh, base: &str, pages: u32, delay: Duration) {
    mount_repo_history(gh);
    let r = "/repos/octo/demo";
    for page in 1..=pages {
        let prs: Vec<Value> = (0..5)
            .map(|i| {
                let n = i64::from((pages - page) * 5 + 5 - i);
                rest_pull(n, &format!("2024-03-01T00:{:02}:00Z", n % 60), true)
            })
            .collect();
        let mut answer = json_ok(json!(prs)).set_delay(delay);
        if page < pages {
            let next = format!(
                "<{base}{r}/pulls?state=closed&sort=updated&direction=desc&per_page=100&page={}>; rel=\"next\"",
                page + 1
            );
            answer = answer.insert_header("link", next.as_str());
        }
        let m = Mock::given(method("GET")).and(path(format!("{r}/pulls")));
        let m = if page == 1 {
            m.and(query_param_is_missing("page"))
        } else {
            m.and(query_param("page", page.to_string()))
        };
        gh.mount(m.respond_with(answer).with_priority(1));
    }
}

/// What `ingest github` writes, as the crash harness compares it. The
/// releases mark in `sync_state` is the run's own clock (releases have no
/// update time to resume from), so it is left out like `synced_at`; `base`,
/// the API URL the run used, is written as `<api>`.
fn github_rows(data: &Path, base: &str) -> Vec<(&'static str, Vec<String>)> {
    use flowmeter_store::*;
    let mut rows = crate::crash::rows_of(
        data,
        &[
            &PULL_REQUESTS,
            &DEPLOYMENTS,
            &RELEASES,
            &REFS,
            &WORKFLOW_RUNS,
            &INCIDENTS,
            &REPOS,
            &SYNC_STATE,
        ],
    );
    for (name, rows) in &mut rows {
        for r in rows.iter_mut() {
            *r = r.replace(base, "<api>");
        }
        if *name == "sync_state" {
            for r in rows.iter_mut() {
                if r.starts_with("\"octo/demo\"|\"releases\"|") {
                    *r = "\"octo/demo\"|\"releases\"|(the run's clock)".into();
                }
            }
        }
    }
    rows
}

/// Ten kills of `ingest github` at seeded moments while it pages through
/// the PR list (six pages, 80 ms each), each followed by a run to
/// completion: every GitHub table equals an uninterrupted run's, row for
/// row, with no duplicates and no temporary files.
#[test]
fn ingest_github_killed_mid_pagination_leaves_the_uninterrupted_store() {
    let gh = Gh::new();
    mount_paged_history(&gh, &gh.uri(), 6, Duration::from_millis(80));
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    let started = Instant::now();
    gh.ingest_ok(&reference, None, &[]);
    let took = started.elapsed();
    let want = github_rows(&reference, &gh.uri());
    assert_eq!(want[0].1.len(), 30, "30 PRs");
    crate::crash::kill_rounds(
        "ingest github",
        0x617_b0b5,
        10,
        took,
        dir.path(),
        |data, at| crate::crash::kill_command_after(gh.command(data, &gh.uri(), None, &[]), at),
        |data, k| {
            gh.ingest_ok(data, None, &[]);
            crate::crash::assert_same_store(data, &github_rows(data, &gh.uri()), &want, k);
        },
    );
}

/// A proxy in front of the mock that, for requests whose path and query
/// contain `target`, sends the status line, the headers and half the body,
/// then closes the connection, the first `drops` times. Each connection
/// carries one request (it answers `connection: close`).
struct DroppingProxy {
    addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl DroppingProxy {
    fn start(upstream: &str, target: &'static str, drops: usize) -> DroppingProxy {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        let upstream: std::net::SocketAddr =
            upstream.trim_start_matches("http://").parse().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicUsize::new(0));
        let (stop2, dropped2) = (stop.clone(), dropped.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let (mut client, _) = match listener.accept() {
                    Ok(c) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                let dropped = dropped2.clone();
                std::thread::spawn(move || {
                    client.set_nonblocking(false).unwrap();
                    client
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .unwrap();
                    let mut head = vec![];
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        match client.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    let target_hit = text.lines().next().unwrap_or("").contains(target);
                    let forwarded: String = text
                        .split("\r\n")
                        .filter(|l| {
                            !l.to_ascii_lowercase().starts_with("connection:") && !l.is_empty()
                        })
                        .map(|l| format!("{l}\r\n"))
                        .collect::<String>()
                        + "connection: close\r\n\r\n";
                    let mut up = std::net::TcpStream::connect(upstream).unwrap();
                    up.write_all(forwarded.as_bytes()).unwrap();
                    let mut response = vec![];
                    up.read_to_end(&mut response).unwrap();
                    let body_at = response
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map(|p| p + 4)
                        .unwrap_or(response.len());
                    let cut = target_hit && dropped.fetch_add(1, Ordering::SeqCst) < drops;
                    let end = if cut {
                        body_at + (response.len() - body_at) / 2
                    } else {
                        response.len()
                    };
                    let _ = client.write_all(&response[..end]);
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        DroppingProxy {
            addr,
            stop,
            dropped,
        }
    }

    fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many target requests came through (cut or not).
    fn hits(&self) -> usize {
        self.dropped.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for DroppingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The connection drops in the middle of page 3's body. Dropped once, the
/// retry reads it and the run ends with the uninterrupted run's store.
/// Dropped every time, the run fails after its bounded retries with one
/// line naming the endpoint, keeps pages 1 and 2 and leaves no temporary
/// file; the next run through a sound connection completes the store.
#[test]
fn ingest_github_with_a_connection_dropped_mid_body_keeps_the_store_whole() {
    let gh = Gh::new();
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    mount_paged_history(&gh, &gh.uri(), 4, Duration::ZERO);
    gh.ingest_ok(&reference, None, &[]);
    let want = github_rows(&reference, &gh.uri());

    // Once: the retry recovers.
    let proxy = DroppingProxy::start(&gh.uri(), "page=3", 1);
    gh.reset();
    gh.mount_defaults();
    mount_paged_history(&gh, &proxy.uri(), 4, Duration::ZERO);
    let data = dir.path().join("once");
    let out = gh.ingest_at(&data, &proxy.uri(), None, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("retry 1/4"), "{stderr}");
    assert_eq!(proxy.hits(), 2, "page 3 cut once, then read");
    assert_eq!(
        github_rows(&data, &proxy.uri()),
        want,
        "a recovered run equals the reference"
    );
    drop(proxy);

    // Every time: the run fails, and what it kept is whole.
    let proxy = DroppingProxy::start(&gh.uri(), "page=3", usize::MAX);
    gh.reset();
    gh.mount_defaults();
    mount_paged_history(&gh, &proxy.uri(), 4, Duration::ZERO);
    let data = dir.path().join("always");
    let out = gh.ingest_at(&data, &proxy.uri(), None, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let error = stderr
        .lines()
        .filter(|l| l.starts_with("Error:"))
        .collect::<Vec<_>>();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].contains("/repos/octo/demo/pulls?")
            && error[0].contains("page=3")
            && error[0].contains("after 5 attempts"),
        "{stderr}"
    );
    assert_eq!(proxy.hits(), 5);
    let kept = query(&data, "select count(*) as n from pull_requests");
    assert_eq!(kept[0]["n"], json!(10), "pages 1 and 2 are kept");
    assert_eq!(crate::crash::temporaries(&data), Vec::<PathBuf>::new());
    drop(proxy);
    gh.reset();
    gh.mount_defaults();
    mount_paged_history(&gh, &gh.uri(), 4, Duration::ZERO);
    gh.ingest_ok(&data, None, &[]);
    assert_eq!(
        github_rows(&data, &gh.uri()),
        want,
        "the rerun completes the store"
    );
}

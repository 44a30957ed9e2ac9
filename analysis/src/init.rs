//! `flowmeter init`: guess environments from branch and tag names and write a
//! commented `flowmeter.toml`.

/// Stages in promotion order, each with the branch names that suggest it.
const STAGES: &[(&str, &[&str])] = &[
    ("develop", &["develop", "development", "dev"]),
    ("test", &["test", "testing", "qa"]),
    ("staging", &["staging", "stage", "beta", "preprod", "uat"]),
    ("main", &["main", "master", "trunk"]),
    ("production", &["production", "prod", "release", "live"]),
];

/// Tag patterns that look like releases, best first, with a glob for each.
fn tag_pattern(tags: &[String]) -> Option<(&'static str, usize)> {
    let dated = |t: &str| {
        let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
        digits.len() >= 8 && (digits.starts_with("20") || digits.starts_with("19"))
    };
    type Test<'a> = &'a dyn Fn(&str) -> bool;
    let candidates: [(&str, Test); 4] = [
        ("v[0-9]*", &|t: &str| {
            t.starts_with('v') && t[1..].starts_with(|c: char| c.is_ascii_digit())
        }),
        ("release-*", &|t: &str| t.starts_with("release-")),
        ("[0-9]*.[0-9]*", &|t: &str| {
            t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.') && !dated(t)
        }),
        (
            "re:^(deploy|release|prod)?[-_/]?20[0-9]{2}[-._]?[0-9]{2}[-._]?[0-9]{2}",
            &|t: &str| dated(t),
        ),
    ];
    candidates
        .iter()
        .map(|(glob, f)| (*glob, tags.iter().filter(|t| f(t)).count()))
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
}

/// A commented config for a repo with these branches and tags.
pub fn guess_config(branches: &[String], tags: &[String], default_branch: Option<&str>) -> String {
    let mut envs: Vec<(&str, String)> = vec![];
    for (stage, names) in STAGES {
        if let Some(b) = names.iter().find(|n| branches.iter().any(|b| b == *n)) {
            envs.push((stage, b.to_string()));
        }
    }
    let tag = tag_pattern(tags);
    let mut out = String::from(
        "# flowmeter.toml: written by `flowmeter init` from the branch and tag names it found.\n\
         # Check it: environments are listed in promotion order, and each takes its\n\
         # deployments from one or more sources:\n\
         #   branch = \"name\"              each first-parent commit on the branch, at its committer time\n\
         #   tags = \"v*\"                  matching tags (a glob, or a regex as \"re:^v\\\\d+\"), at the tag date\n\
         #   file = \"deploys.csv\"         rows loaded with `flowmeter ingest deployments` for this environment\n\
         #   github_deployments = \"prod*\" GitHub deployments (from `flowmeter ingest github`)\n\
         #   workflow = \"deploy*\"         successful GitHub Actions runs of matching workflows\n\n\
         # Where lead time starts: \"authored\" (default) or \"committed\".\n\
         lead_time_start = \"authored\"\n\
         # The DORA benchmarks: 2025 (default) scores each metric 0-10 as the dora.dev Quick\n\
         # Check does, beside the 2025 population mean +/- sd; 2023 or 2024 use tier tables.\n\
         tiers = 2025\n\
         # Compare with one 2025 population instead of everyone (see docs/metrics.md):\n\
         # industry = \"technology\"   or   org_size = \"fewer_than_500\"\n",
    );
    let mainline = default_branch.map(str::to_string).or_else(|| {
        ["main", "master"]
            .iter()
            .find(|m| branches.iter().any(|b| b == *m))
            .map(|s| s.to_string())
    });
    let has_prod_branch = envs.iter().any(|(s, _)| *s == "production");
    if envs.is_empty() {
        if let Some(m) = &mainline {
            envs.push(("main", m.clone()));
        }
    }
    // Without a production branch, release tags (or the last stage) are production.
    for (k, (stage, branch)) in envs.iter().enumerate() {
        let last = k + 1 == envs.len();
        out.push_str("\n[[environment]]\n");
        out.push_str(&format!("name = \"{stage}\"\n"));
        if *stage == "main" && tag.is_some() && !has_prod_branch {
            out.push_str(&format!(
                "branch = \"{branch}\"      # merges here are not deployments yet: release tags below are\n"
            ));
        } else {
            out.push_str(&format!("branch = \"{branch}\"\n"));
        }
        if last && (has_prod_branch || tag.is_none()) {
            out.push_str("production = true\n");
        }
        if last && has_prod_branch {
            if let Some((glob, n)) = tag {
                out.push_str(&format!("tags = \"{glob}\"         # {n} matching tags\n"));
            }
        }
    }
    if !has_prod_branch {
        if let Some((glob, n)) = tag {
            out.push_str(&format!(
                "\n[[environment]]\nname = \"production\"\ntags = \"{glob}\"         # {n} matching tags\nproduction = true\n"
            ));
        }
    }
    if envs.is_empty() && tag.is_none() {
        out.push_str(
            "\n# No environment branch or release tag was recognised: deployments come from a deploy log.\n\
             [[environment]]\nname = \"production\"\nfile = \"deploys.csv\"\nproduction = true\n",
        );
    }
    out.push_str(
        "\n[failure]                   # which signals mark a production deployment as failed\n\
         incident_window = \"7d\"      # an incident within this long after the latest production deployment\n\
         revert_window = \"14d\"       # a revert of a shipped commit within this long\n\
         hotfix = { branch = \"hotfix/*\", message = \"(?i)\\\\bhotfix\\\\b\", label = \"hotfix\" }\n\n\
         [failure.signals]           # switch single signals off with false\n\
         status = true               # the deployment's own status is failure or error\n\
         incident = true             # an incident names a shipped commit or the deployment\n\
         incident_window = true      # otherwise, an incident opens within incident_window\n\
         revert = true               # a shipped commit is reverted within revert_window\n\
         rollback = true             # a later deployment goes back to an older sha\n\
         hotfix = true               # a hotfix deployment follows before the next regular one\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn guesses_stages_and_tags_and_parses() {
        let text = guess_config(
            &s(&["feature/x", "develop", "qa", "beta", "main", "production"]),
            &s(&["v1.0.0", "v1.1.0", "nightly"]),
            Some("main"),
        );
        let c = crate::parse_config(&text, "flowmeter.toml".as_ref()).unwrap();
        let names: Vec<_> = c.environments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["develop", "test", "staging", "main", "production"]);
        assert_eq!(c.production_envs(), ["production"]);
        assert_eq!(c.environments[4].tags.as_ref().unwrap().as_str(), "v[0-9]*");

        let text = guess_config(
            &s(&["master"]),
            &s(&["release-2024-01", "release-2024-02"]),
            None,
        );
        let c = crate::parse_config(&text, "f.toml".as_ref()).unwrap();
        let names: Vec<_> = c.environments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["main", "production"]);
        assert!(c.environments[1]
            .tags
            .as_ref()
            .unwrap()
            .is_match("release-2024-03"));

        let text = guess_config(&s(&[]), &s(&[]), None);
        assert!(crate::parse_config(&text, "f.toml".as_ref())
            .unwrap()
            .environments[0]
            .file
            .is_some());
    }
}

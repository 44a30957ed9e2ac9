//! GitHub's payloads: any bytes parse into our models or are refused, and
//! the rows built from what parses never panic.
#![no_main]

use flowmeter_parse::github::graphql;
use flowmeter_parse::github::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, json)) = data.split_first() else {
        return;
    };
    match kind % 8 {
        0 | 1 => {
            // A list item, the single-PR answer, its commits and reviews.
            type Payload = (Pull, Option<Pull>, Vec<PullCommit>, Vec<Review>);
            if let Ok((p, detail, commits, reviews)) = serde_json::from_slice::<Payload>(json) {
                if let Some(row) = PrRow::from_rest(&p, detail.as_ref(), &commits, &reviews) {
                    assert_eq!(row.number, detail.as_ref().unwrap_or(&p).number);
                }
            }
        }
        2 => {
            if let Ok(pulls) = serde_json::from_slice::<Vec<Pull>>(json) {
                for p in &pulls {
                    let _ = PrRow::from_rest(p, None, &[], &[]);
                }
            }
        }
        3 => {
            if let Ok((d, s)) = serde_json::from_slice::<(Deployment, Vec<DeploymentStatus>)>(json)
            {
                let _ = DeploymentRow::new(&d, &s);
            }
        }
        4 => {
            let _ = serde_json::from_slice::<Runs>(json);
            let _ = serde_json::from_slice::<Workflows>(json);
        }
        5 => {
            if let Ok(issues) = serde_json::from_slice::<Vec<Issue>>(json) {
                for i in &issues {
                    let _ = i.labels();
                }
            }
        }
        6 => {
            if let Ok(data) = serde_json::from_slice::<graphql::Data>(json) {
                for pr in data.repository.iter().flat_map(|r| &r.pull_requests.nodes) {
                    let _ = pr.commits_truncated();
                    let _ = pr.row(None);
                    let _ = pr.row(Some(vec![]));
                }
            }
        }
        _ => {
            let _ = serde_json::from_slice::<Vec<Release>>(json);
            let _ = serde_json::from_slice::<Vec<Tag>>(json);
            let _ = serde_json::from_slice::<RateLimit>(json);
            let _ = serde_json::from_slice::<Repository>(json);
        }
    }
});

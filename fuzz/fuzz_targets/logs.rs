//! Deployment and incident logs: any bytes, as CSV or JSON, give checked
//! rows or an error, and never a panic. The rows keep the promises the
//! analysis relies on.
#![no_main]

use std::collections::HashSet;

use flowmeter_parse::logs::{parse_deployments, parse_incidents};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let json = flags & 1 == 1;
    if flags & 2 == 0 {
        if let Ok(rows) = parse_deployments(text, json) {
            let mut ids = HashSet::new();
            for r in &rows {
                assert!((4..=64).contains(&r.sha.len()), "sha {}", r.sha);
                assert!(r
                    .sha
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                assert!(["success", "failure", "error", "unknown"].contains(&r.status.as_str()));
                assert!(r
                    .trigger
                    .as_deref()
                    .is_none_or(|t| t == "automated" || t == "manual"));
                assert!(
                    ids.insert((r.repo.clone(), r.deployment_id.clone())),
                    "duplicate id"
                );
            }
        }
    } else if let Ok(rows) = parse_incidents(text, json) {
        let mut ids = HashSet::new();
        for r in &rows {
            assert!(r.resolved_at.is_none_or(|t| t >= r.opened_at));
            assert!(
                ids.insert((r.repo.clone(), r.incident_id.clone())),
                "duplicate id"
            );
        }
    }
});

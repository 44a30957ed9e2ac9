//! `flowmeter.toml`: any text gives a config or an error that names a line
//! of the file and a key, and never a panic.
#![no_main]

use std::path::Path;

use flowmeter_parse::config::{Config, Known};
use libfuzzer_sys::fuzz_target;

const KNOWN: Known = Known {
    years: &[2023, 2024, 2025],
    population: |p| match p {
        flowmeter_parse::config::Population::Industry(k) if k == "banking" => {
            Err("not a key".into())
        }
        _ => Ok(()),
    },
};

fuzz_target!(|text: &str| {
    match Config::parse(text, Path::new("flowmeter.toml"), &KNOWN) {
        Ok(c) => {
            assert!(!c.environments.is_empty(), "a config has an environment");
            assert!(
                c.environments.iter().any(|e| e.production),
                "some environment is production"
            );
        }
        Err(e) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines).contains(&e.line),
                "line {} of a {lines}-line file: {e}",
                e.line
            );
            assert!(!e.message.is_empty(), "an error says what is wrong");
        }
    }
});

//! Is the analysis stale? A fingerprint of the base tables' files and the
//! config, stored in the data directory after each run.

use std::path::Path;

pub use flowmeter_store::FINGERPRINT_FILE;
use flowmeter_store::{Store, TableKind, WriteGuard, TABLES};

use crate::config::Config;

fn fnv(hash: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *hash ^= *b as u64;
        *hash = hash.wrapping_mul(0x100_0000_01b3);
    }
}

fn walk(dir: &Path, out: &mut Vec<(String, u64, i128)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else if let Ok(m) = e.metadata() {
            let mtime = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            out.push((p.to_string_lossy().into_owned(), m.len(), mtime));
        }
    }
}

/// A fingerprint of every base table file (name, size, mtime), the config
/// text, this version of flowmeter, its stage list and its derived tables' columns.
pub fn fingerprint(store: &Store, config: &Config) -> String {
    let mut files = vec![];
    for t in TABLES.iter().filter(|t| t.kind == TableKind::Base) {
        walk(&store.root().join(t.name), &mut files);
    }
    // Paths inside the store, so that `--data store` and `--data /abs/store`
    // (or a copy) agree.
    for f in &mut files {
        if let Ok(rest) = Path::new(&f.0).strip_prefix(store.root()) {
            f.0 = rest.to_string_lossy().into_owned();
        }
    }
    files.sort();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    fnv(&mut h, env!("CARGO_PKG_VERSION").as_bytes());
    // A store analysed before a stage existed lacks its table: the stage list counts.
    fnv(&mut h, crate::pipeline::STAGES.join(",").as_bytes());
    // ... and one analysed before a derived column existed lacks the column.
    for t in TABLES.iter().filter(|t| t.kind == TableKind::Derived) {
        let cols: Vec<&str> = t.column_names().collect();
        fnv(
            &mut h,
            format!("{}:{}\n", t.name, cols.join(",")).as_bytes(),
        );
    }
    fnv(&mut h, config.text.as_bytes());
    let config_path = config
        .path
        .as_ref()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()));
    fnv(&mut h, format!("{config_path:?}").as_bytes());
    for (p, len, mtime) in files {
        fnv(&mut h, format!("{p}\0{len}\0{mtime}\n").as_bytes());
    }
    format!("{h:016x}")
}

/// True when the last analysis ran on exactly these base tables and config.
pub fn is_fresh(store: &Store, config: &Config) -> bool {
    std::fs::read_to_string(store.root().join(FINGERPRINT_FILE))
        .is_ok_and(|s| s.trim() == fingerprint(store, config))
}

/// Records `fp` (taken before the run) as the fingerprint of the current
/// analysis, under the writer lock.
pub fn mark_fresh(guard: &WriteGuard, fp: &str) -> flowmeter_store::Result<()> {
    guard.write_fingerprint(format!("{fp}\n").as_bytes())
}

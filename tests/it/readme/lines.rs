//! The shell lines of the README and the user guide (`docs/*.md`), split
//! into words: every line of their ```sh blocks and every `$ ` line of their
//! ```text blocks. Shared by the parse test in `src/cli.rs` (which includes
//! this file with `#[path]`) and by `tests/it/readme.rs`, which runs them, so
//! both agree on what the documented commands are.

#![allow(dead_code)]

/// How many flowmeter commands the README and the user guide show. Both
/// tests check it, so a command added to (or dropped from) a page is a
/// deliberate change here.
pub const FLOWMETER_COMMANDS: usize = 52;

/// The pages whose commands are run, in the order a reader follows them: the
/// README, then the user guide in the order of its index (`docs/README.md`).
/// The order matters: each code block starts a new shell, but the store in
/// the work tree carries over, so a later page may use what an earlier one
/// ingested. `tests/it/readme.rs` checks that every `docs/*.md` is here.
pub const PAGES: &[(&str, &str)] = &[
    ("README.md", include_str!("../../../README.md")),
    ("docs/README.md", include_str!("../../../docs/README.md")),
    ("docs/git.md", include_str!("../../../docs/git.md")),
    ("docs/sql.md", include_str!("../../../docs/sql.md")),
    ("docs/store.md", include_str!("../../../docs/store.md")),
    ("docs/metrics.md", include_str!("../../../docs/metrics.md")),
    (
        "docs/risk-whatif-compare.md",
        include_str!("../../../docs/risk-whatif-compare.md"),
    ),
    ("docs/github.md", include_str!("../../../docs/github.md")),
    ("docs/reports.md", include_str!("../../../docs/reports.md")),
    ("docs/flow.md", include_str!("../../../docs/flow.md")),
    ("docs/demo.md", include_str!("../../../docs/demo.md")),
    (
        "docs/notebooks.md",
        include_str!("../../../docs/notebooks.md"),
    ),
    (
        "docs/guarantees.md",
        include_str!("../../../docs/guarantees.md"),
    ),
];

/// One shell line of a page.
#[derive(Debug, Clone)]
pub struct ShellLine {
    /// The page, e.g. `README.md` or `docs/git.md`.
    pub page: &'static str,
    /// 1-based line number in the page.
    pub number: usize,
    /// Which code block it is in (0, 1, ... in page order, counted on over
    /// [`PAGES`], so a block number is unique across pages).
    pub block: usize,
    /// The line as written (without a text block's `$ `).
    pub text: String,
}

/// What a shell line does, as far as the documented commands need a shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// `flowmeter ARGS` (or `cargo run -- ARGS`), with its leading `VAR=value`
    /// assignments and the file of a `> FILE` redirection.
    Flowmeter {
        env: Vec<(String, String)>,
        args: Vec<String>,
        stdout_to: Option<String>,
    },
    /// `cd DIR`
    Cd(String),
    /// `export NAME=VALUE`
    Export(String, String),
    /// Anything else (cargo test, pip, ...): not a flowmeter command.
    Other,
}

/// Every shell line of every page in [`PAGES`], in order.
pub fn all_shell_lines() -> Vec<ShellLine> {
    let mut out: Vec<ShellLine> = vec![];
    for (page, text) in PAGES {
        let first = out.last().map_or(0, |l| l.block + 1);
        out.extend(shell_lines(page, text, first));
    }
    out
}

/// Every shell line of one page, in order; its code blocks are numbered from
/// `first_block`.
pub fn shell_lines(page: &'static str, text: &str, first_block: usize) -> Vec<ShellLine> {
    let (mut out, mut lang, mut block) = (vec![], None::<String>, first_block);
    for (i, line) in text.lines().enumerate() {
        if let Some(info) = line.strip_prefix("```") {
            if lang.take().is_some() {
                block += 1;
            } else {
                lang = Some(info.trim().to_string());
            }
            continue;
        }
        let text = match lang.as_deref() {
            Some("sh") => line,
            Some("text") => match line.strip_prefix("$ ") {
                Some(cmd) => cmd,
                None => continue,
            },
            _ => continue,
        };
        if !text.trim().is_empty() {
            out.push(ShellLine {
                page,
                number: i + 1,
                block,
                text: text.to_string(),
            });
        }
    }
    out
}

/// Splits a shell command line: quotes group, `#` outside quotes starts a comment.
pub fn shell_words(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (vec![], String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '#') if cur.is_empty() => break,
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (_, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What `line` does. A flowmeter line with shell syntax other than `> FILE`
/// (pipes, `&&`, other redirections) is an error: the tests could not run it
/// as written.
pub fn parse(line: &str) -> Result<Parsed, String> {
    let mut words = shell_words(line);
    let mut env = vec![];
    // Leading VAR=value assignments are the shell's, not the command's.
    while let Some((k, v)) = words.first().and_then(|w| assignment(w)) {
        env.push((k, v));
        words.remove(0);
    }
    let args: Vec<String> = match words.first().map(String::as_str) {
        Some("flowmeter") => words[1..].to_vec(),
        Some("cargo") if words.get(1).map(String::as_str) == Some("run") => {
            match words.iter().position(|w| w == "--") {
                Some(i) => words[i + 1..].to_vec(),
                None => return Err("`cargo run` without `--`".into()),
            }
        }
        Some("cd") if env.is_empty() && words.len() == 2 => {
            return Ok(Parsed::Cd(words[1].clone()))
        }
        Some("export") if env.is_empty() && words.len() == 2 => {
            return match assignment(&words[1]) {
                Some((k, v)) => Ok(Parsed::Export(k, v)),
                None => Err("`export` without NAME=VALUE".into()),
            };
        }
        _ => return Ok(Parsed::Other),
    };
    let mut stdout_to = None;
    let mut kept = vec![];
    let mut it = args.into_iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            ">" => match (it.next(), it.next()) {
                (Some(file), None) => stdout_to = Some(file),
                _ => return Err("`>` must be followed by exactly one file".into()),
            },
            ">>" | "<" | "|" | "2>" | "&>" | "&&" | "||" | ";" | "&" => {
                return Err(format!("shell syntax `{w}` in a flowmeter line"));
            }
            _ => kept.push(w),
        }
    }
    Ok(Parsed::Flowmeter {
        env,
        args: kept,
        stdout_to,
    })
}

fn assignment(word: &str) -> Option<(String, String)> {
    let (k, v) = word.split_once('=')?;
    let name_ok = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    name_ok.then(|| (k.to_string(), v.to_string()))
}

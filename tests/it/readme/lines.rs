//! The shell lines of README.md, split into words: every line of its ```sh
//! blocks and every `$ ` line of its ```text blocks. Shared by the parse test
//! in `src/cli.rs` (which includes this file with `#[path]`) and by
//! `tests/it/readme.rs`, which runs them, so both agree on what the README's
//! commands are.

#![allow(dead_code)]

/// How many flowmeter commands the README shows. Both tests check it, so a
/// command added to (or dropped from) the README is a deliberate change here.
pub const FLOWMETER_COMMANDS: usize = 50;

/// One shell line of the README.
#[derive(Debug, Clone)]
pub struct ShellLine {
    /// 1-based line number in README.md.
    pub number: usize,
    /// Which code block it is in (0, 1, ... in README order).
    pub block: usize,
    /// The line as written (without a text block's `$ `).
    pub text: String,
}

/// What a shell line does, as far as the README's commands need a shell.
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

/// Every shell line of the README, in order.
pub fn shell_lines(readme: &str) -> Vec<ShellLine> {
    let (mut out, mut lang, mut block) = (vec![], None::<String>, 0);
    for (i, line) in readme.lines().enumerate() {
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

//! Progress bars on stderr, only when stderr is a terminal that wants them.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to draw bars: stderr is a terminal, `TERM` is not `dumb`, and
/// `--quiet` was not given.
pub fn enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Whether colour is allowed (`NO_COLOR` unset and a terminal).
#[allow(dead_code)]
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && enabled(false)
}

/// A counting bar with a rate and an ETA, or a hidden one.
pub fn bar(show: bool, len: u64, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    }
    let template = if std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
        "{prefix:>12.cyan.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg} ({per_sec}, ETA {eta})"
    } else {
        "{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({per_sec}, ETA {eta})"
    };
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

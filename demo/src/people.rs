//! The demo organisation: three services, about 35 engineers in two offices,
//! and the words their commit messages are made of.

use super::calendar::Tz;
use super::rng::Rng;

/// One service: one repository.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    pub name: &'static str,
    pub prefix: &'static str,
    pub modules: &'static [&'static str],
    pub nouns: &'static [&'static str],
}

pub const SERVICES: [Service; 3] = [
    Service {
        name: "payments-api",
        prefix: "PAY",
        modules: &[
            "checkout", "capture", "refunds", "ledger", "fraud", "webhooks",
        ],
        nouns: &[
            "card token",
            "capture retry",
            "refund reason",
            "ledger entry",
            "currency rounding",
            "3DS challenge",
            "webhook signature",
            "chargeback",
            "payout batch",
            "fraud score",
        ],
    },
    Service {
        name: "storefront",
        prefix: "WEB",
        modules: &["catalog", "cart", "search", "account", "promotions", "i18n"],
        nouns: &[
            "product card",
            "cart badge",
            "search facet",
            "login form",
            "coupon banner",
            "price label",
            "image carousel",
            "wishlist",
            "locale switcher",
            "checkout button",
        ],
    },
    Service {
        name: "inventory",
        prefix: "INV",
        modules: &[
            "stock",
            "warehouse",
            "reservations",
            "suppliers",
            "forecast",
            "sync",
        ],
        nouns: &[
            "stock level",
            "pick list",
            "reservation timeout",
            "supplier feed",
            "reorder point",
            "bin location",
            "sync cursor",
            "forecast model",
            "transfer order",
            "SKU mapping",
        ],
    },
];

/// An engineer.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub email: String,
    pub tz: Tz,
    /// Index into [`SERVICES`].
    pub team: usize,
    /// Another service they sometimes work on.
    pub secondary: Option<usize>,
}

const FIRST: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Elif", "Felix", "Greta", "Hannah", "Ivan", "Jonas", "Katrin",
    "Lukas", "Mara", "Nils", "Olga", "Paul", "Rosa", "Sven", "Tobias", "Ute", "Aisha", "Brandon",
    "Chloe", "Diego", "Emily", "Frank", "Grace", "Hector", "Isabel", "Jamal", "Kayla", "Liam",
    "Maya", "Noah", "Priya", "Ryan", "Sofia", "Tyler", "Zoe",
];
const LAST: &[&str] = &[
    "Becker", "Schmidt", "Wagner", "Hoffmann", "Yilmaz", "Keller", "Fischer", "Koch", "Petrov",
    "Richter", "Lange", "Wolf", "Neumann", "Krause", "Novak", "Brandt", "Johnson", "Garcia",
    "Nguyen", "Okafor", "Patel", "Rivera", "Cohen", "Kim", "Murphy", "Brooks", "Lopez", "Reyes",
    "Sullivan", "Walker",
];

/// The roster: `(berlin, new_york)` engineers per team, 35 in all for the full story.
pub fn roster(rng: &mut Rng, small: bool) -> Vec<Person> {
    let teams: [(usize, usize); 3] = if small {
        [(3, 1), (1, 3), (3, 1)]
    } else {
        [(9, 3), (3, 9), (8, 3)]
    };
    let mut used = std::collections::BTreeSet::new();
    let mut people = Vec::new();
    for (team, &(berlin, ny)) in teams.iter().enumerate() {
        for i in 0..berlin + ny {
            let tz = if i < berlin { Tz::Berlin } else { Tz::NewYork };
            // Berlin names from the first half of the lists, New York from the second.
            let (first, last) = loop {
                let (f, l) = match tz {
                    Tz::Berlin => (rng.below(20), rng.below(16)),
                    Tz::NewYork => (
                        20 + rng.below(FIRST.len() - 20),
                        16 + rng.below(LAST.len() - 16),
                    ),
                };
                if used.insert((f, l)) {
                    break (FIRST[f], LAST[l]);
                }
            };
            let secondary = if rng.chance(0.3) {
                Some((team + 1 + rng.below(2)) % 3)
            } else {
                None
            };
            people.push(Person {
                name: format!("{first} {last}"),
                email: format!(
                    "{}.{}@acme.example",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
                tz,
                team,
                secondary,
            });
        }
    }
    people
}

const VERBS: &[&str] = &[
    "Add", "Add", "Support", "Improve", "Refactor", "Update", "Handle", "Cache", "Validate", "Log",
    "Simplify", "Speed up",
];
const FOLLOW_UPS: &[&str] = &[
    "Address review comments",
    "Add tests",
    "Fix lint",
    "Rename for clarity",
    "Handle edge case",
    "Update docs",
    "Tidy up",
    "Add metrics",
];

/// A feature title, a fix ("Fix ...") 25% of the time.
pub fn title(rng: &mut Rng, svc: &Service) -> String {
    let module = rng.pick(svc.modules);
    let noun = rng.pick(svc.nouns);
    if rng.chance(0.25) {
        let what = rng.pick(&[
            "race in",
            "crash on empty",
            "off-by-one in",
            "timeout in",
            "wrong",
            "missing",
        ]);
        format!("Fix {what} {noun} ({module})")
    } else {
        format!("{} {noun} in {module}", rng.pick(VERBS))
    }
}

pub fn follow_up(rng: &mut Rng) -> &'static str {
    let s: &&'static str = rng.pick(FOLLOW_UPS);
    s
}

/// A kebab-case slug for branch names.
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-')
        .chars()
        .take(40)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

const WORDS: &[&str] = &[
    "order", "amount", "cursor", "client", "config", "retry", "limit", "state", "event", "batch",
    "token", "price", "entry", "result", "buffer", "queue", "window", "record",
];

/// One line of plausible source code.
pub fn code_line(rng: &mut Rng) -> String {
    let a = rng.pick(WORDS);
    let b = rng.pick(WORDS);
    let n = rng.range(0, 999);
    match rng.below(5) {
        0 => format!("    let {a}_{n} = {b}::load({n})?;"),
        1 => format!("    if {a}.is_empty() {{ return Err(Error::{b}({n})); }}"),
        2 => format!("    // {b}: keep {a} below {n}"),
        3 => format!("    metrics::counter!(\"{a}_{b}\").increment({n});"),
        _ => format!("    {a}.push({b}_{n}.clone());"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roster_has_35_engineers_in_two_offices_with_unique_emails() {
        for (small, total, berlin) in [(false, 35, 20), (true, 12, 7)] {
            let people = roster(&mut Rng::stream(42, "roster"), small);
            assert_eq!(people.len(), total);
            assert_eq!(people.iter().filter(|p| p.tz == Tz::Berlin).count(), berlin);
            let emails: std::collections::BTreeSet<_> = people.iter().map(|p| &p.email).collect();
            assert_eq!(emails.len(), total);
        }
    }

    #[test]
    fn slugs_are_kebab_case() {
        assert_eq!(
            slug("Fix race in 3DS challenge (fraud)"),
            "fix-race-in-3ds-challenge-fraud"
        );
    }
}

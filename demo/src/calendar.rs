//! Dates without the clock: civil dates, two time zones with their 2025 DST
//! rules, and a working-hours clock per engineer.

pub const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (Hinnant's `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds of a UTC date and time.
pub fn utc(y: i64, m: i64, d: i64, hh: i64, mm: i64) -> i64 {
    days_from_civil(y, m, d) * DAY + hh * 3600 + mm * 60
}

/// 0 = Monday .. 6 = Sunday.
pub fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// `2025-03-12T14:03:00Z`.
pub fn iso(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A Monday-to-Friday working day, outside the new-year and Christmas breaks.
pub fn is_workday(day: i64) -> bool {
    if weekday(day) >= 5 {
        return false;
    }
    let (_, m, d) = civil_from_days(day);
    !((m == 1 && d == 1) || (m == 12 && d >= 24))
}

/// The two offices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tz {
    Berlin,
    NewYork,
}

impl Tz {
    /// The UTC offset in minutes at instant `t` (2024-2026 DST rules).
    pub fn offset_min(self, t: i64) -> i32 {
        let (y, _, _) = civil_from_days(t.div_euclid(DAY));
        match self {
            Tz::Berlin => {
                // Last Sunday of March 01:00 UTC .. last Sunday of October 01:00 UTC.
                let start = last_sunday(y, 3) * DAY + 3600;
                let end = last_sunday(y, 10) * DAY + 3600;
                if (start..end).contains(&t) {
                    120
                } else {
                    60
                }
            }
            Tz::NewYork => {
                // Second Sunday of March 07:00 UTC .. first Sunday of November 06:00 UTC.
                let start = (first_sunday(y, 3) + 7) * DAY + 7 * 3600;
                let end = first_sunday(y, 11) * DAY + 6 * 3600;
                if (start..end).contains(&t) {
                    -240
                } else {
                    -300
                }
            }
        }
    }

    /// The UTC instant of a local wall-clock time on `day`.
    pub fn to_utc(self, day: i64, minute_of_day: i64) -> i64 {
        let guess = day * DAY + minute_of_day * 60;
        let off = i64::from(self.offset_min(guess - 3 * 3600));
        guess - off * 60
    }
}

fn first_sunday(y: i64, m: i64) -> i64 {
    let d = days_from_civil(y, m, 1);
    d + (6 - weekday(d)).rem_euclid(7)
}

fn last_sunday(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = next - 1;
    last - (weekday(last) + 1) % 7
}

/// Working hours, local time: 09:00 to 18:00.
pub const WORK_START: i64 = 9 * 60;
pub const WORK_END: i64 = 18 * 60;

/// A position on one engineer's working clock (local day and minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkTime {
    pub day: i64,
    pub minute: i64,
}

impl WorkTime {
    /// The first working minute at or after `day` 09:00.
    pub fn start_of(mut day: i64) -> WorkTime {
        while !is_workday(day) {
            day += 1;
        }
        WorkTime {
            day,
            minute: WORK_START,
        }
    }

    /// Moves forward by `minutes` of working time, skipping nights, weekends and breaks.
    pub fn advance(self, minutes: i64) -> WorkTime {
        let mut day = self.day;
        let mut minute = self.minute + minutes;
        while minute >= WORK_END || !is_workday(day) {
            if is_workday(day) {
                minute -= WORK_END - WORK_START;
            }
            day += 1;
        }
        WorkTime { day, minute }
    }

    pub fn utc(self, tz: Tz) -> i64 {
        tz.to_utc(self.day, self.minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_weekdays() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2025, 1, 1), 20_089);
        assert_eq!(civil_from_days(20_089), (2025, 1, 1));
        assert_eq!(weekday(20_089), 2, "2025-01-01 was a Wednesday");
        assert_eq!(iso(utc(2025, 7, 1, 13, 5)), "2025-07-01T13:05:00Z");
    }

    #[test]
    fn dst_2025() {
        // Europe: 2025-03-30 .. 2025-10-26; US: 2025-03-09 .. 2025-11-02.
        assert_eq!(last_sunday(2025, 3), days_from_civil(2025, 3, 30));
        assert_eq!(last_sunday(2025, 10), days_from_civil(2025, 10, 26));
        assert_eq!(first_sunday(2025, 3) + 7, days_from_civil(2025, 3, 9));
        assert_eq!(first_sunday(2025, 11), days_from_civil(2025, 11, 2));
        assert_eq!(Tz::Berlin.offset_min(utc(2025, 1, 15, 12, 0)), 60);
        assert_eq!(Tz::Berlin.offset_min(utc(2025, 7, 15, 12, 0)), 120);
        assert_eq!(Tz::NewYork.offset_min(utc(2025, 3, 8, 12, 0)), -300);
        assert_eq!(Tz::NewYork.offset_min(utc(2025, 3, 10, 12, 0)), -240);
        // 09:00 in New York on 2025-07-01 is 13:00 UTC.
        assert_eq!(
            Tz::NewYork.to_utc(days_from_civil(2025, 7, 1), 9 * 60),
            utc(2025, 7, 1, 13, 0)
        );
    }

    #[test]
    fn work_clock_skips_nights_and_weekends() {
        // Friday 2025-01-03 17:30 + 60 working minutes = Monday 2025-01-06 09:30.
        let fri = WorkTime {
            day: days_from_civil(2025, 1, 3),
            minute: 17 * 60 + 30,
        };
        let t = fri.advance(60);
        assert_eq!(t.day, days_from_civil(2025, 1, 6));
        assert_eq!(t.minute, 9 * 60 + 30);
    }
}

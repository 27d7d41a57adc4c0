//! Rate limits and soft lockout for sign-in, sign-up, password reset and MFA.
//!
//! Two mechanisms, both in process memory and both driven by the injected clock:
//! - **Attempt windows** per key (an IP address or an account): at most `limit` attempts per
//!   fixed window.
//! - **Failure lockout** per account: after [`LOCKOUT_AFTER`] consecutive failures, further
//!   attempts are refused for 30 s, doubling with each further failure up to 15 minutes. A
//!   success clears the count.
//!
//! Refusals carry the seconds to wait, answered as `429` with `Retry-After`. The table is
//! pruned when it grows past [`MAX_ENTRIES`], so a flood of distinct keys cannot exhaust memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;

/// Consecutive failures before the first lockout.
pub const LOCKOUT_AFTER: u32 = 5;
/// First lockout, in milliseconds.
pub const FIRST_LOCKOUT_MS: i64 = 30_000;
/// Longest lockout, in milliseconds.
pub const MAX_LOCKOUT_MS: i64 = 15 * 60_000;
/// Entries kept before expired ones are pruned.
pub const MAX_ENTRIES: usize = 100_000;

/// A fixed-window limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// What the limit protects; keys of different rules never collide.
    pub name: &'static str,
    /// Attempts allowed per window.
    pub limit: u32,
    /// Window length in milliseconds.
    pub window_ms: i64,
}

/// Sign-in attempts per IP address.
pub const LOGIN_PER_IP: Rule = Rule {
    name: "login-ip",
    limit: 30,
    window_ms: 5 * 60_000,
};
/// Sign-ups per IP address.
pub const SIGNUP_PER_IP: Rule = Rule {
    name: "signup-ip",
    limit: 10,
    window_ms: 60 * 60_000,
};
/// Password-reset requests per IP address.
pub const RESET_PER_IP: Rule = Rule {
    name: "reset-ip",
    limit: 10,
    window_ms: 60 * 60_000,
};
/// Password-reset requests per account.
pub const RESET_PER_ACCOUNT: Rule = Rule {
    name: "reset-account",
    limit: 3,
    window_ms: 60 * 60_000,
};
/// MFA code attempts per IP address.
pub const MFA_PER_IP: Rule = Rule {
    name: "mfa-ip",
    limit: 30,
    window_ms: 5 * 60_000,
};

/// The caller must wait this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    started_ms: i64,
    count: u32,
}

#[derive(Debug, Default, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until_ms: i64,
    last_ms: i64,
}

#[derive(Default)]
struct Tables {
    windows: HashMap<(&'static str, String), Window>,
    failures: HashMap<String, Failures>,
}

/// The process-wide limiter.
pub struct Limiter {
    clock: Arc<dyn Clock>,
    tables: Mutex<Tables>,
}

fn wait(until_ms: i64, now_ms: i64) -> RetryAfter {
    RetryAfter(
        u64::try_from((until_ms - now_ms + 999) / 1000)
            .unwrap_or(1)
            .max(1),
    )
}

impl Limiter {
    /// A limiter reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            tables: Mutex::new(Tables::default()),
        }
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts one attempt against `rule` for `key`; refuses once the window is full.
    pub fn attempt(&self, rule: Rule, key: &str) -> Result<(), RetryAfter> {
        let now = self.clock.now_ms();
        let mut tables = self.tables();
        if tables.windows.len() >= MAX_ENTRIES {
            tables.windows.retain(|(name, _), w| {
                let window = rule_window(name);
                now - w.started_ms < window
            });
        }
        let window = tables
            .windows
            .entry((rule.name, key.to_owned()))
            .or_default();
        if now - window.started_ms >= rule.window_ms {
            *window = Window {
                started_ms: now,
                count: 0,
            };
        }
        if window.count >= rule.limit {
            return Err(wait(window.started_ms + rule.window_ms, now));
        }
        window.count += 1;
        Ok(())
    }

    /// Refuses while `account` is locked out.
    pub fn check_lockout(&self, account: &str) -> Result<(), RetryAfter> {
        let now = self.clock.now_ms();
        match self.tables().failures.get(account) {
            Some(f) if f.locked_until_ms > now => Err(wait(f.locked_until_ms, now)),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt on `account`, locking it out once failures pile up.
    pub fn record_failure(&self, account: &str) {
        let now = self.clock.now_ms();
        let mut tables = self.tables();
        if tables.failures.len() >= MAX_ENTRIES {
            tables
                .failures
                .retain(|_, f| now - f.last_ms < MAX_LOCKOUT_MS * 2);
        }
        let entry = tables.failures.entry(account.to_owned()).or_default();
        // A long quiet spell forgives earlier failures.
        if now - entry.last_ms > MAX_LOCKOUT_MS * 2 {
            *entry = Failures::default();
        }
        entry.count += 1;
        entry.last_ms = now;
        if entry.count >= LOCKOUT_AFTER {
            let doublings = (entry.count - LOCKOUT_AFTER).min(10);
            let lockout = (FIRST_LOCKOUT_MS << doublings).min(MAX_LOCKOUT_MS);
            entry.locked_until_ms = now + lockout;
        }
    }

    /// Clears the failure count of `account` after a success.
    pub fn record_success(&self, account: &str) {
        self.tables().failures.remove(account);
    }
}

fn rule_window(name: &str) -> i64 {
    [
        LOGIN_PER_IP,
        SIGNUP_PER_IP,
        RESET_PER_IP,
        RESET_PER_ACCOUNT,
        MFA_PER_IP,
    ]
    .iter()
    .find(|r| r.name == name)
    .map_or(60 * 60_000, |r| r.window_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn limiter() -> (Arc<ManualClock>, Limiter) {
        let clock = ManualClock::new(1_000_000);
        (clock.clone(), Limiter::new(clock))
    }

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_ends() {
        let (clock, limiter) = limiter();
        let rule = Rule {
            name: "t",
            limit: 3,
            window_ms: 60_000,
        };
        for _ in 0..3 {
            assert_eq!(limiter.attempt(rule, "ip"), Ok(()));
        }
        assert_eq!(limiter.attempt(rule, "ip"), Err(RetryAfter(60)));
        assert_eq!(limiter.attempt(rule, "other-ip"), Ok(()));
        clock.advance_secs(59);
        assert_eq!(limiter.attempt(rule, "ip"), Err(RetryAfter(1)));
        clock.advance_secs(1);
        assert_eq!(limiter.attempt(rule, "ip"), Ok(()));
    }

    #[test]
    fn lockout_starts_after_five_failures_and_grows() {
        let (clock, limiter) = limiter();
        for _ in 0..4 {
            limiter.record_failure("a");
        }
        assert_eq!(limiter.check_lockout("a"), Ok(()));
        limiter.record_failure("a");
        assert_eq!(limiter.check_lockout("a"), Err(RetryAfter(30)));
        clock.advance_secs(30);
        assert_eq!(limiter.check_lockout("a"), Ok(()));
        limiter.record_failure("a");
        assert_eq!(limiter.check_lockout("a"), Err(RetryAfter(60)));
        clock.advance_secs(60);
        limiter.record_failure("a");
        assert_eq!(limiter.check_lockout("a"), Err(RetryAfter(120)));
        for _ in 0..20 {
            limiter.record_failure("a");
        }
        assert_eq!(
            limiter.check_lockout("a"),
            Err(RetryAfter(900)),
            "capped at 15 minutes"
        );
        limiter.record_success("a");
        assert_eq!(limiter.check_lockout("a"), Ok(()));
    }

    #[test]
    fn the_table_stays_bounded() {
        let (clock, limiter) = limiter();
        let rule = Rule {
            name: "login-ip",
            limit: 1,
            window_ms: 1_000,
        };
        for i in 0..MAX_ENTRIES + 10 {
            if i == MAX_ENTRIES / 2 {
                clock.advance_secs(3600);
            }
            let _ = limiter.attempt(rule, &i.to_string());
        }
        assert!(limiter.tables().windows.len() <= MAX_ENTRIES);
    }
}

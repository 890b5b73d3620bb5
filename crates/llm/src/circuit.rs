//! A circuit breaker per provider: after `failures` consecutive transient failures, calls
//! skip the provider for `cooldown_ms`; then one trial call is let through, and its outcome
//! closes the circuit or opens it again. State is per process (each instance learns on its
//! own, which is enough to stop hammering a provider that is down and costs no round trip).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// When a circuit opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CircuitConfig {
    /// Consecutive transient failures that open the circuit; 0 turns breakers off.
    pub failures: u32,
    /// How long an open circuit skips its provider before letting one trial through.
    pub cooldown_ms: u64,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        Self {
            failures: 5,
            cooldown_ms: 30_000,
        }
    }
}

/// Where a circuit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls skip the provider until the cool-down ends.
    Open,
    /// The cool-down ended: one trial call decides.
    HalfOpen,
}

/// The time source; [`Instant::now`] unless a test injects its own.
pub type Now = Arc<dyn Fn() -> Instant + Send + Sync>;

#[derive(Debug, Default)]
struct State {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_started: Option<Instant>,
}

/// One provider's breaker.
pub struct CircuitBreaker {
    config: CircuitConfig,
    now: Now,
    state: Mutex<State>,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("config", &self.config)
            .field("state", &self.state())
            .finish()
    }
}

impl CircuitBreaker {
    /// A closed breaker on the system clock.
    #[must_use]
    pub fn new(config: CircuitConfig) -> Self {
        Self::with_clock(config, Arc::new(Instant::now))
    }

    /// A closed breaker reading time from `now`.
    #[must_use]
    pub fn with_clock(config: CircuitConfig, now: Now) -> Self {
        Self {
            config,
            now,
            state: Mutex::new(State::default()),
        }
    }

    fn cooldown(&self) -> Duration {
        Duration::from_millis(self.config.cooldown_ms)
    }

    /// Whether a call may go to the provider now. After the cool-down, one trial is admitted
    /// at a time (a trial that never reports back stops blocking after another cool-down).
    pub fn admit(&self) -> bool {
        if self.config.failures == 0 {
            return true;
        }
        let now = (self.now)();
        let Ok(mut state) = self.state.lock() else {
            return true;
        };
        match state.open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) => match state.trial_started {
                Some(started) if now < started + self.cooldown() => false,
                _ => {
                    state.trial_started = Some(now);
                    true
                }
            },
        }
    }

    /// The provider answered: the circuit closes.
    pub fn succeeded(&self) {
        if let Ok(mut state) = self.state.lock() {
            *state = State::default();
        }
    }

    /// The provider failed transiently: one more towards opening (or re-opening after a
    /// failed trial).
    pub fn failed(&self) {
        if self.config.failures == 0 {
            return;
        }
        let now = (self.now)();
        if let Ok(mut state) = self.state.lock() {
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
            state.trial_started = None;
            if state.consecutive_failures >= self.config.failures {
                state.open_until = Some(now + self.cooldown());
            }
        }
    }

    /// The state now, with the count of consecutive failures.
    #[must_use]
    pub fn state(&self) -> (CircuitState, u32) {
        let now = (self.now)();
        self.state
            .lock()
            .map_or((CircuitState::Closed, 0), |state| {
                let circuit = match state.open_until {
                    None => CircuitState::Closed,
                    Some(until) if now < until => CircuitState::Open,
                    Some(_) => CircuitState::HalfOpen,
                };
                (circuit, state.consecutive_failures)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual() -> (Arc<Mutex<Instant>>, Now) {
        let at = Arc::new(Mutex::new(Instant::now()));
        let clock = Arc::clone(&at);
        (at, Arc::new(move || *clock.lock().unwrap()))
    }

    #[test]
    fn opens_after_n_failures_admits_one_trial_after_the_cooldown_and_closes_on_success() {
        let (at, now) = manual();
        let breaker = CircuitBreaker::with_clock(
            CircuitConfig {
                failures: 3,
                cooldown_ms: 1_000,
            },
            now,
        );
        for _ in 0..2 {
            assert!(breaker.admit());
            breaker.failed();
        }
        assert_eq!(breaker.state(), (CircuitState::Closed, 2));
        breaker.failed();
        assert_eq!(breaker.state(), (CircuitState::Open, 3));
        assert!(!breaker.admit(), "open: skipped");

        *at.lock().unwrap() += Duration::from_millis(1_000);
        assert_eq!(breaker.state().0, CircuitState::HalfOpen);
        assert!(breaker.admit(), "one trial");
        assert!(!breaker.admit(), "only one at a time");
        breaker.failed();
        assert_eq!(
            breaker.state().0,
            CircuitState::Open,
            "a failed trial re-opens"
        );

        *at.lock().unwrap() += Duration::from_millis(1_000);
        assert!(breaker.admit());
        breaker.succeeded();
        assert_eq!(breaker.state(), (CircuitState::Closed, 0));
        assert!(breaker.admit());
    }

    #[test]
    fn a_success_resets_the_count_and_zero_failures_turns_it_off() {
        let breaker = CircuitBreaker::new(CircuitConfig {
            failures: 2,
            cooldown_ms: 1_000,
        });
        breaker.failed();
        breaker.succeeded();
        breaker.failed();
        assert_eq!(breaker.state(), (CircuitState::Closed, 1));
        let off = CircuitBreaker::new(CircuitConfig {
            failures: 0,
            cooldown_ms: 1_000,
        });
        for _ in 0..10 {
            off.failed();
        }
        assert!(off.admit());
    }

    #[test]
    fn a_trial_that_never_reports_stops_blocking_after_another_cooldown() {
        let (at, now) = manual();
        let breaker = CircuitBreaker::with_clock(
            CircuitConfig {
                failures: 1,
                cooldown_ms: 100,
            },
            now,
        );
        breaker.failed();
        *at.lock().unwrap() += Duration::from_millis(100);
        assert!(breaker.admit());
        assert!(!breaker.admit());
        *at.lock().unwrap() += Duration::from_millis(100);
        assert!(breaker.admit());
    }
}

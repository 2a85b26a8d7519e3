//! Dromo's documented rate limits, enforced when asked: 20 creates per minute, 12 status polls
//! per minute per import, over a sliding window whose length tests may scale down. A request
//! over the limit is answered 429 with `Retry-After` (whole seconds, rounded up) and DRF's body.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

/// Creates allowed per window, as Dromo documents.
pub const CREATES_PER_MINUTE: u32 = 20;
/// Status polls allowed per window for each import, as Dromo documents.
pub const POLLS_PER_MINUTE: u32 = 12;

/// The last `limit` hits in a sliding window of `period`.
#[derive(Debug)]
struct Window {
    hits: VecDeque<Instant>,
}

impl Window {
    fn new() -> Self {
        Self {
            hits: VecDeque::new(),
        }
    }

    /// Counts a hit at `now` if fewer than `limit` fell in the last `period`; else how long
    /// until one leaves the window.
    fn hit(&mut self, now: Instant, limit: u32, period: Duration) -> Result<(), Duration> {
        while self
            .hits
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= period)
        {
            self.hits.pop_front();
        }
        if self.hits.len() < limit as usize {
            self.hits.push_back(now);
            return Ok(());
        }
        let oldest = self.hits.front().copied().unwrap_or(now);
        Err(period.saturating_sub(now.saturating_duration_since(oldest)))
    }
}

/// The windows of one stand-in.
#[derive(Debug)]
pub(crate) struct Limits {
    period: Duration,
    creates: Window,
    polls: HashMap<Uuid, Window>,
    /// Requests answered 429 so far.
    pub(crate) refused: u64,
}

impl Limits {
    /// Limits over a window of `period` (a minute, as Dromo's, or shorter in tests).
    pub(crate) fn new(period: Duration) -> Self {
        Self {
            period,
            creates: Window::new(),
            polls: HashMap::new(),
            refused: 0,
        }
    }

    /// Counts a create; `Err(retry after)` when over the limit.
    pub(crate) fn create(&mut self) -> Result<(), Duration> {
        let refused = self
            .creates
            .hit(Instant::now(), CREATES_PER_MINUTE, self.period);
        self.refused += u64::from(refused.is_err());
        refused
    }

    /// Counts a poll of import `id`; `Err(retry after)` when over the limit.
    pub(crate) fn poll(&mut self, id: Uuid) -> Result<(), Duration> {
        let refused = self.polls.entry(id).or_insert_with(Window::new).hit(
            Instant::now(),
            POLLS_PER_MINUTE,
            self.period,
        );
        self.refused += u64::from(refused.is_err());
        refused
    }
}

/// `Retry-After` in whole seconds, rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_the_limit_then_says_when() {
        let mut window = Window::new();
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        for _ in 0..3 {
            assert!(window.hit(start, 3, minute).is_ok());
        }
        let later = start + Duration::from_secs(20);
        assert_eq!(window.hit(later, 3, minute), Err(Duration::from_secs(40)));
        assert!(window.hit(start + minute, 3, minute).is_ok());
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}

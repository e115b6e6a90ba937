//! Deliveries under way, per hall, so that a clean handoff (SIGTERM on one
//! of several nodes) writes its webhook positions only after the requests
//! it already sent were answered. Without this, a receiver that had taken
//! an event but not yet answered when the positions were written got it
//! again from the hall's next owner (the cluster test saw seq 14 twice).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
pub struct InFlight {
    count: Arc<Mutex<HashMap<Arc<str>, usize>>>,
    done: Arc<tokio::sync::Notify>,
}

/// One delivery under way; ends when dropped (after its position is set).
pub struct Delivery {
    of: InFlight,
    hall: Arc<str>,
}

impl InFlight {
    fn count(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, usize>> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a delivery for `hall` if `owner()` still says this node
    /// delivers it. Asked under the same lock [`InFlight::settle`] counts
    /// under: once a handoff has disowned the hall and found no delivery,
    /// no new one starts.
    pub fn begin(&self, hall: &Arc<str>, owner: impl Fn() -> bool) -> Option<Delivery> {
        let mut c = self.count();
        if !owner() {
            return None;
        }
        *c.entry(hall.clone()).or_insert(0) += 1;
        Some(Delivery {
            of: self.clone(),
            hall: hall.clone(),
        })
    }

    /// Waits until no delivery for `hall` is under way, at most `patience`;
    /// false if some still were.
    pub async fn settle(&self, hall: &str, patience: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let done = self.done.notified();
            tokio::pin!(done);
            done.as_mut().enable();
            if self.count().get(hall).copied().unwrap_or(0) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return false;
            }
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        let mut c = self.of.count();
        if let Some(n) = c.get_mut(&self.hall) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.remove(&self.hall);
            }
        }
        drop(c);
        self.of.done.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_handoff_waits_for_the_delivery_under_way_and_then_none_starts() {
        let f = InFlight::default();
        let hall: Arc<str> = Arc::from("h1");
        let owner = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let is_owner = {
            let o = owner.clone();
            move || o.load(std::sync::atomic::Ordering::Acquire)
        };
        let d = f.begin(&hall, &is_owner).expect("owner delivers");
        assert!(
            !f.settle("h1", Duration::from_millis(30)).await,
            "one under way"
        );
        let ends = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            drop(d);
        });
        assert!(f.settle("h1", Duration::from_secs(5)).await);
        ends.await.expect("task");
        owner.store(false, std::sync::atomic::Ordering::Release);
        assert!(
            f.begin(&hall, &is_owner).is_none(),
            "disowned: no new delivery"
        );
        assert!(
            f.settle("h2", Duration::ZERO).await,
            "another hall has none"
        );
    }
}

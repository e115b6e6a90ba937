//! [`Durable`]: the future an append returns.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::StoreError;

/// Resolves when the flush covering an append has returned (`Ok`), or with
/// the error that kept it from being durable. Only after `Ok` may the command
/// be acknowledged and its events broadcast.
///
/// With sled it waits for the writer thread. With PostgreSQL it is itself
/// the committer when nobody else is (leader/follower group commit), so it
/// must be polled for the append to be committed — as awaiting does.
#[must_use = "an append is durable only when its Durable resolves Ok"]
pub struct Durable {
    state: State,
}

type Commit = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

enum State {
    Ready(Option<Result<(), StoreError>>),
    Waiting(oneshot::Receiver<Result<(), StoreError>>),
    /// The committing future, and the runtime to drive it on when waited for
    /// outside one.
    Committing(Commit, tokio::runtime::Handle),
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.state {
            State::Ready(r) => return f.debug_tuple("Durable::Ready").field(r).finish(),
            State::Waiting(_) => "Durable::Waiting",
            State::Committing(..) => "Durable::Committing",
        };
        f.write_str(what)
    }
}

impl Durable {
    pub(crate) fn ready(r: Result<(), StoreError>) -> Durable {
        Durable {
            state: State::Ready(Some(r)),
        }
    }

    pub(crate) fn waiting(rx: oneshot::Receiver<Result<(), StoreError>>) -> Durable {
        Durable {
            state: State::Waiting(rx),
        }
    }

    pub(crate) fn committing(commit: Commit, rt: tokio::runtime::Handle) -> Durable {
        Durable {
            state: State::Committing(commit, rt),
        }
    }

    /// Blocks the current thread until durable (for code outside an async
    /// runtime; never call it on a runtime thread).
    pub fn wait_blocking(self) -> Result<(), StoreError> {
        match self.state {
            State::Ready(r) => r.unwrap_or(Err(StoreError::Closed)),
            State::Waiting(rx) => rx.blocking_recv().unwrap_or(Err(StoreError::Closed)),
            State::Committing(commit, rt) => rt.block_on(commit),
        }
    }
}

impl Future for Durable {
    type Output = Result<(), StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            State::Ready(r) => Poll::Ready(r.take().unwrap_or(Err(StoreError::Closed))),
            State::Waiting(rx) => Pin::new(rx)
                .poll(cx)
                .map(|r| r.unwrap_or(Err(StoreError::Closed))),
            State::Committing(commit, _) => commit.as_mut().poll(cx),
        }
    }
}

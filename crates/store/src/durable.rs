//! [`Durable`]: the future an append returns.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::StoreError;

/// Resolves when the flush covering an append has returned (`Ok`), or with
/// the error that kept it from being durable. Only after `Ok` may the command
/// be acknowledged and its events broadcast.
///
/// On both backends it is itself the committer when nobody else is
/// (leader/follower group commit: sled writes and flushes in the waiting
/// task, PostgreSQL sends the group's statement from it), so it must be
/// polled for the append to be committed — as awaiting does.
#[must_use = "an append is durable only when its Durable resolves Ok"]
pub struct Durable {
    state: State,
}

type Commit = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

enum State {
    Ready(Option<Result<(), StoreError>>),
    /// sled: the committing future, which needs no runtime (waited for
    /// outside one, the calling thread drives it).
    Leading(Commit),
    /// The committing future, and the runtime to drive it on when waited for
    /// outside one.
    Committing(Commit, tokio::runtime::Handle),
}

impl std::fmt::Debug for Durable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.state {
            State::Ready(r) => return f.debug_tuple("Durable::Ready").field(r).finish(),
            State::Leading(_) => "Durable::Leading",
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

    pub(crate) fn leading(commit: Commit) -> Durable {
        Durable {
            state: State::Leading(commit),
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
            State::Committing(commit, rt) => rt.block_on(commit),
            State::Leading(commit) => block_on_thread(commit),
        }
    }
}

impl Future for Durable {
    type Output = Result<(), StoreError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            State::Ready(r) => Poll::Ready(r.take().unwrap_or(Err(StoreError::Closed))),
            State::Committing(commit, _) | State::Leading(commit) => commit.as_mut().poll(cx),
        }
    }
}

/// Drives `f` on the calling thread, parking it while `f` waits (its wakers
/// — tokio's mutex and oneshot — work with any executor).
fn block_on_thread<F: Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(r) = f.as_mut().poll(&mut cx) {
            return r;
        }
        std::thread::park();
    }
}

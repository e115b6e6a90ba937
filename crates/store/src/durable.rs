//! [`Durable`]: the future an append returns.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use crate::StoreError;

/// Resolves when the flush covering an append has returned (`Ok`), or with
/// the error that kept it from being durable. Only after `Ok` may the command
/// be acknowledged and its events broadcast.
#[must_use = "an append is durable only when its Durable resolves Ok"]
#[derive(Debug)]
pub struct Durable {
    state: State,
}

#[derive(Debug)]
enum State {
    Ready(Option<Result<(), StoreError>>),
    Waiting(oneshot::Receiver<Result<(), StoreError>>),
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

    /// Blocks the current thread until durable (for code outside an async
    /// runtime; never call it on a runtime thread).
    pub fn wait_blocking(self) -> Result<(), StoreError> {
        match self.state {
            State::Ready(r) => r.unwrap_or(Err(StoreError::Closed)),
            State::Waiting(rx) => rx.blocking_recv().unwrap_or(Err(StoreError::Closed)),
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
        }
    }
}

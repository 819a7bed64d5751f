//! Limits on connections, so that slow or idle clients cannot hold a node's sockets: at most so
//! many at once (more are closed at once), and a deadline for the first bytes of a connection
//! (hyper's header timeout starts only once it knows the protocol, which a silent client never
//! lets it learn). Hyper's own header read timeout, which also ends idle keep-alive connections,
//! is set where the server is built.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Sleep, sleep};

/// Bytes after which hyper knows whether a connection speaks HTTP/2 (the length of its
/// preface); any real HTTP/1.1 request is longer.
const PROTOCOL_SNIFF: usize = 24;

/// Wraps an acceptor: refuses connections beyond the limit, and gives each a deadline for its
/// first bytes.
#[derive(Clone)]
pub struct LimitAcceptor<A> {
    inner: A,
    permits: Arc<Semaphore>,
    first_bytes: Duration,
}

impl<A> LimitAcceptor<A> {
    pub fn new(inner: A, max_connections: usize, first_bytes: Duration) -> Self {
        LimitAcceptor {
            inner,
            permits: Arc::new(Semaphore::new(max_connections)),
            first_bytes,
        }
    }
}

impl<A, I, S> Accept<I, S> for LimitAcceptor<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Limited<A::Stream>;
    type Service = A::Service;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Self::Stream, Self::Service)>> + Send>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            drop(stream);
            return Box::pin(std::future::ready(Err(io::Error::other(
                "connection limit reached",
            ))));
        };
        let accepting = self.inner.accept(stream, service);
        let first_bytes = self.first_bytes;
        Box::pin(async move {
            let (inner, service) = accepting.await?;
            Ok((
                Limited {
                    _permit: permit,
                    inner,
                    deadline: Some(Box::pin(sleep(first_bytes))),
                    seen: 0,
                },
                service,
            ))
        })
    }
}

/// A connection holding its place among the node's connections until hyper drops it. Until
/// the protocol is known from the bytes read (or anything was written), a read still waiting
/// past the deadline fails, which ends the connection.
pub struct Limited<T> {
    // Declared before the connection, so dropped before it: by the time a client sees its
    // connection closed, the place it held is free again.
    _permit: OwnedSemaphorePermit,
    inner: T,
    deadline: Option<Pin<Box<Sleep>>>,
    seen: usize,
}

impl<T: AsyncRead + Unpin> AsyncRead for Limited<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.seen += buf.filled().len() - before;
                if this.seen >= PROTOCOL_SNIFF {
                    this.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                if let Some(deadline) = this.deadline.as_mut()
                    && deadline.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Limited<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, bytes);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.deadline = None;
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bytes);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.deadline = None;
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

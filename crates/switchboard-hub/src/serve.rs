//! The hub's HTTP server loop, bounded: at most so many connections at once (the rest wait in
//! the listen backlog), a client that takes too long to send its request headers is
//! disconnected (slowloris; the same clock closes idle keep-alive connections), and every
//! request has a deadline for its answer to begin (a streamed answer such as `events` begins
//! at once). Bodies are bounded where they are read (`api::Body`, `api::WebhookBody`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What one hub accepts from the network.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at once (each desktop holds one for its events stream, plus a few).
    pub max_connections: usize,
    /// A client must send its whole request head within this (also: idle keep-alive ends).
    pub header_timeout: Duration,
    /// A request must have its answer begin within this.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open requests.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let app = app.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| deadline(req, next, limits.request_timeout),
    ));
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    // HTTP/1.1 only (desktops, the provider and Bitrix24 speak it; plain-text HTTP/2 would
    // need a version sniff with no deadline of its own). The header clock starts when the
    // connection opens, so a socket that never sends a byte is closed too.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned = false;
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        if permits.available_permits() == 0 && !warned {
            tracing::warn!(
                limit = limits.max_connections,
                "connection limit reached: new connections wait"
            );
        }
        warned = permits.available_permits() == 0;
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// How long a file upload may take in all (its body's pauses are bounded on their own,
/// `media::receive`): 10 MB over a slow uplink takes minutes, not the API's seconds.
pub const UPLOAD_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// Whether a request is a file upload (`POST /api/v1/chats/{id}/files`).
fn is_upload(req: &Request) -> bool {
    req.method() == axum::http::Method::POST
        && req.uri().path().starts_with("/api/v1/chats/")
        && req.uri().path().ends_with("/files")
}

async fn deadline(req: Request, next: Next, limit: Duration) -> Response {
    let limit = if is_upload(&req) {
        UPLOAD_DEADLINE
    } else {
        limit
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => crate::error::ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("no answer within {} s; try again", limit.as_secs()),
        )
        .into_response(),
    }
}

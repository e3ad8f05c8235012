//! Serving connections, so that slow or idle clients cannot starve the console: each connection must send a
//! request's headers within `ConnectionLimits::header_read_timeout` (counted from when the server starts
//! waiting for them: a new connection, or one kept alive after an answer) or it is closed, and at most
//! `max_connections` are served at once; further ones wait in the listen queue until one closes. Without the
//! timeout, a client that sends half a request holds its connection forever (axum::serve sets none).
//!
//! Connections are HTTP/1.1, served by hyper's http1 builder (with a Tokio timer, which the timeout needs)
//! rather than hyper_util's auto builder, which would add HTTP/2 and its dependencies: the console is served
//! on loopback or behind a proxy that terminates TLS, and axum::serve served HTTP/1.1 only here too. Each
//! request gets the peer's address as `ConnectInfo<SocketAddr>`, sockets are set to TCP_NODELAY (an answer
//! is written in one go; Nagle's delay would only hold its last segment back), and on shutdown the server
//! stops accepting, lets the requests in progress finish and closes idle connections.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How long a client may take to send a request's headers, and how many connections are served at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a new connection may take to send a request's headers before it is closed.
    pub header_read_timeout: Duration,
    /// Connections served at once; a further one waits, not yet accepted, until one closes.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    /// 10 seconds for the headers (a browser sends them at once), and 512 connections: far more than the
    /// console's users keep open, and well within a default limit of 1,024 open files with the database
    /// connections and stored files beside them.
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
        }
    }
}

/// Serves `app` on the connections `listener` accepts, within `limits`, until `shutdown` completes; then
/// stops accepting and returns once the open connections have finished.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let place = tokio::select! {
            place = open.clone().acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = accept(&listener) => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    pause_after_accept_error(&err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone().map_request(
            move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %peer, "connection closed on an error");
            }
            drop(place);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The next connection, with TCP_NODELAY set: an answer's head and body may leave in two writes, and with
/// Nagle's algorithm the second would wait for the client's delayed acknowledgement (40 ms on Linux).
async fn accept(listener: &TcpListener) -> std::io::Result<(TcpStream, SocketAddr)> {
    let (stream, peer) = listener.accept().await?;
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(error = %err, "cannot set TCP_NODELAY");
    }
    Ok((stream, peer))
}

/// After a failed accept: nothing for a connection the client gave up on; otherwise (out of file
/// descriptors, most likely) a log line and a second's pause, so that the loop does not spin while connections
/// close.
async fn pause_after_accept_error(err: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(error = %err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    async fn peer_echo() -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    ) {
        let app = Router::new().route(
            "/",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_connections(
            listener,
            app,
            ConnectionLimits::default(),
            async {
                let _ = stopped.await;
            },
        ));
        (address, stop, server)
    }

    #[tokio::test]
    async fn accepted_connections_do_not_wait_for_acknowledgements() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let client = TcpStream::connect(address).await.unwrap();
        let (accepted, peer) = accept(&listener).await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert!(accepted.nodelay().unwrap(), "TCP_NODELAY is set");
    }

    #[tokio::test]
    async fn handlers_see_the_peer_address_and_shutdown_ends_the_server() {
        let (address, stop, server) = peer_echo().await;
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let local = stream.local_addr().unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: console\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&local.to_string()), "{answer}");
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops")
            .unwrap();
        assert!(tokio::net::TcpStream::connect(address).await.is_err());
    }
}

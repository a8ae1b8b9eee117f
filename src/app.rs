//! Application state, the router, and serving it.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::db::Db;
pub use crate::web::AppState;

/// The process-wide Prometheus recorder (installed once, on first use).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; metrics then go there.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Header carrying the request id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Default)]
struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id: String = crate::auth::random_token().chars().take(16).collect();
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The whole application router with every layer.
pub fn router(state: AppState) -> Router {
    metrics_handle();
    // HSTS only where users reach rackledger over HTTPS (`public_url`).
    let hsts = state
        .config
        .https()
        .then(|| HeaderValue::from_static("max-age=31536000"));
    let protected = Router::new()
        .merge(crate::web::routes())
        .nest("/api/v1", crate::api::routes())
        .merge(crate::api::docs())
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn(crate::web::auth::require_login));
    let public = Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::web::auth::public_routes())
        .merge(crate::web::assets::routes());
    Router::new()
        .merge(protected)
        .merge(public)
        .fallback(crate::web::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::once::once_per_form,
        ))
        .layer(middleware::from_fn(crate::web::input::refuse_hidden_characters))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::auth::csrf_guard,
        ))
        .layer(middleware::from_fn(crate::web::errors::render_errors))
        .layer(middleware::from_fn_with_state(state.clone(), crate::web::auth::authenticate))
        .layer(middleware::from_fn(record_metrics))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let path = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map_or(req.uri().path(), MatchedPath::as_str);
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                tracing::info_span!("request", method = %req.method(), path, request_id = id, user = tracing::field::Empty)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeId))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Pages and API answers carry prices and names: no cache keeps them
        // (static files set their own caching).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        .with_state(state)
}

/// The pages' Content-Security-Policy: scripts and styles from rackledger
/// only (styles may be inline: the label sheet's print rules, the rack
/// legend's swatches), no frames, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

async fn record_metrics(req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("rackledger_http_requests_total", "method" => method.clone(), "path" => path.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("rackledger_http_request_duration_seconds", "method" => method, "path" => path)
        .record(start.elapsed().as_secs_f64());
    resp
}

async fn healthz(State(state): State<AppState>) -> Response {
    if let Err(e) = state.db.ping().await {
        tracing::error!(error = %e, "health probe: database unreachable");
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable\n",
        )
            .into_response();
    }
    match state.db.can_write().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health probe: database cannot write");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database cannot write (disk full or read-only?)\n",
            )
                .into_response()
        }
    }
}

async fn metrics() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics_handle().render(),
    )
        .into_response()
}

/// Limits on what one client may hold of the server (`[server]` in
/// rackledger.toml), so slow or half-open connections cannot starve the rest.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Connections served at once; further ones wait in the kernel's queue.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (also how long an
    /// idle kept-alive connection is held).
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may stall between two chunks.
    pub body_idle_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_connections: 512,
            header_read_timeout_secs: 15,
            body_idle_timeout_secs: 30,
        }
    }
}

/// Serves the application on `listener` until `shutdown` resolves, sweeping
/// expired sessions and forgotten login back-offs every ten minutes.
///
/// HTTP/1.1 only (a reverse proxy speaks HTTP/2 to browsers), with a
/// header-read timeout, a body idle timeout and a cap on connections held at
/// once: a connection slot is claimed before a connection is accepted, so a
/// flood of half-open connections waits in the kernel's queue instead of
/// taking file descriptors the database and `/healthz` need.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower_http::add_extension::AddExtension;
    use tower_http::timeout::RequestBodyTimeout;

    let limits = state.config.server.clone();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let sweeper = tokio::spawn(sweep_sessions(state.db.clone(), state.config.clone()));
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs))
        .max_headers(100);
    let body_idle = Duration::from_secs(limits.body_idle_timeout_secs);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little
                    // rather than spin, and keep serving who is connected.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = AddExtension::new(
            RequestBodyTimeout::new(app.clone(), body_idle),
            axum::extract::ConnectInfo(peer),
        );
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Requests in flight finish; idle connections close at once.
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open 30 s after shutdown began; closing them");
    }
    sweeper.abort();
    Ok(())
}

async fn sweep_sessions(db: Db, cfg: std::sync::Arc<crate::config::Config>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = crate::clock::now();
        if let Err(e) = crate::auth::purge_expired(&db, now).await {
            tracing::warn!(error = %e, "session sweep failed");
        }
        if let Err(e) = crate::auth::throttle::purge(&db, &cfg, now).await {
            tracing::warn!(error = %e, "login back-off sweep failed");
        }
        if let Err(e) = crate::auth::submissions::sweep(&db, now - time::Duration::days(1)).await {
            tracing::warn!(error = %e, "sent-form sweep failed");
        }
    }
}

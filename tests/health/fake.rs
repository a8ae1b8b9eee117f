//! Fake BMCs on 127.0.0.1 port 0: one serving a mockup tree from disk (with
//! optional X-Auth-Token sessions), and faulty ones that hang, answer 500,
//! send malformed JSON, send a huge body, or redirect to another host.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::sushy::mockup_dir;

/// What a fake BMC does.
#[derive(Clone, Debug)]
pub enum Behavior {
    /// Serves the mockup tree; with `Some(token)` it requires a session.
    Mockup(&'static str, Option<&'static str>),
    /// Accepts the connection and never answers.
    Hang,
    /// 500 on everything.
    Error500,
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with 8 MiB streamed without a Content-Length.
    Huge,
    /// 200 with a 5 MiB body and its Content-Length.
    HugeDeclared,
    /// 302 to another host.
    Redirect,
    /// Serves the mockup tree, each answer after this many milliseconds.
    Slow(&'static str, u64),
    /// Serves the tree in this directory (a copy a test may change between polls).
    Dir(PathBuf),
    /// Serves the mockup tree, and a collection asked with `$expand` with its
    /// members inline.
    Expanding(&'static str),
    /// Serves the mockup tree, and refuses (400) any request with `$expand`,
    /// although the service root offers it.
    RefusingExpand(&'static str),
    /// Serves the mockup tree, but the document at this path is broken JSON and
    /// the first member of the Memory collection links to another host.
    Lying(&'static str, &'static str),
}

/// A running fake BMC; stopped on drop.
pub struct FakeBmc {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Requests for the service root.
    pub root_hits: Arc<AtomicUsize>,
    /// Every request.
    pub hits: Arc<AtomicUsize>,
    /// Sessions opened (POST .../Sessions).
    pub logins: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBmc {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct St {
    dir: PathBuf,
    token: Option<&'static str>,
    root_hits: Arc<AtomicUsize>,
    hits: Arc<AtomicUsize>,
    logins: Arc<AtomicUsize>,
    behavior: Behavior,
}

async fn serve(State(st): State<St>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    st.hits.fetch_add(1, Ordering::SeqCst);
    let path = uri.path().to_owned();
    let expand = uri.query().is_some_and(|q| q.contains("$expand="));
    if path.trim_end_matches('/') == "/redfish/v1" {
        st.root_hits.fetch_add(1, Ordering::SeqCst);
    }
    match st.behavior {
        Behavior::Hang => return std::future::pending::<Response>().await,
        Behavior::Error500 => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Behavior::Malformed => {
            return (
                StatusCode::OK,
                [("content-type", "application/json")],
                "{\"Systems\": {\"@odata.id\": ",
            )
                .into_response();
        }
        Behavior::HugeDeclared => {
            return (StatusCode::OK, vec![b' '; 5 * 1024 * 1024]).into_response();
        }
        Behavior::Redirect => {
            return (
                StatusCode::FOUND,
                [("location", "http://127.0.0.2:9/redfish/v1/")],
                "",
            )
                .into_response();
        }
        Behavior::Lying(_, broken) if path.trim_end_matches('/').ends_with(broken) => {
            return (StatusCode::OK, "{\"Id\": ").into_response();
        }
        // The slowness under test (a BMC that takes `ms` to answer), not a wait.
        Behavior::Slow(_, ms) => tokio::time::sleep(std::time::Duration::from_millis(ms)).await,
        Behavior::RefusingExpand(_) if expand => return StatusCode::BAD_REQUEST.into_response(),
        Behavior::Huge
        | Behavior::Mockup(..)
        | Behavior::Lying(..)
        | Behavior::Dir(_)
        | Behavior::Expanding(_)
        | Behavior::RefusingExpand(_) => {}
    }
    if method == Method::POST && path.ends_with("/Sessions") {
        st.logins.fetch_add(1, Ordering::SeqCst);
        return match st.token {
            Some(t) => (
                StatusCode::CREATED,
                [
                    ("x-auth-token", t),
                    ("location", "/redfish/v1/SessionService/Sessions/1"),
                ],
                "{}",
            )
                .into_response(),
            None => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        };
    }
    let rel = path.trim_start_matches("/redfish/v1").trim_matches('/');
    // The service root is public (Redfish), everything else needs the session.
    if let Some(t) = st.token
        && !rel.is_empty()
        && headers.get("x-auth-token").and_then(|v| v.to_str().ok()) != Some(t)
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let mut root = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(st.dir.join("index.json")).unwrap(),
    )
    .unwrap();
    if rel.is_empty() && st.token.is_some() {
        root["Links"]["Sessions"]["@odata.id"] = "/redfish/v1/SessionService/Sessions".into();
        return axum::Json(root).into_response();
    }
    match std::fs::read_to_string(st.dir.join(rel).join("index.json")) {
        Ok(text) if matches!(st.behavior, Behavior::Lying(..)) && rel.ends_with("Memory") => {
            let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            doc["Members"][0]["@odata.id"] =
                "http://127.0.0.2:9/redfish/v1/Systems/1/Memory/x".into();
            axum::Json(doc).into_response()
        }
        Ok(text) if expand && matches!(st.behavior, Behavior::Expanding(_)) => {
            let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            if let Some(members) = doc["Members"].as_array_mut() {
                for m in members {
                    let link = m["@odata.id"].as_str().unwrap_or_default().to_owned();
                    let member = link.trim_start_matches("/redfish/v1").trim_matches('/');
                    if let Ok(t) = std::fs::read_to_string(st.dir.join(member).join("index.json")) {
                        *m = serde_json::from_str(&t).unwrap();
                    }
                }
            }
            axum::Json(doc).into_response()
        }
        Ok(text) => (StatusCode::OK, [("content-type", "application/json")], text).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A raw server streaming a body of `size` bytes without Content-Length.
async fn huge(
    listener: tokio::net::TcpListener,
    hits: Arc<AtomicUsize>,
    root_hits: Arc<AtomicUsize>,
) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let (hits, root_hits) = (hits.clone(), root_hits.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            hits.fetch_add(1, Ordering::SeqCst);
            root_hits.fetch_add(1, Ordering::SeqCst);
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..128 {
                if sock.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        });
    }
}

impl FakeBmc {
    pub async fn start(behavior: Behavior) -> FakeBmc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (hits, root_hits) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let logins = Arc::new(AtomicUsize::new(0));
        let task = if let Behavior::Huge = behavior {
            tokio::spawn(huge(listener, hits.clone(), root_hits.clone()))
        } else {
            let (dir, token) = match &behavior {
                Behavior::Mockup(tree, token) => (mockup_dir(tree), *token),
                Behavior::Dir(dir) => (dir.clone(), None),
                Behavior::Lying(tree, _)
                | Behavior::Slow(tree, _)
                | Behavior::Expanding(tree)
                | Behavior::RefusingExpand(tree) => (mockup_dir(tree), None),
                _ => (mockup_dir("public-localstorage"), None),
            };
            let st = St {
                dir,
                token,
                root_hits: root_hits.clone(),
                hits: hits.clone(),
                logins: logins.clone(),
                behavior,
            };
            let app = Router::new().fallback(serve).with_state(st);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            })
        };
        FakeBmc {
            url,
            root_hits,
            hits,
            logins,
            task,
        }
    }
}

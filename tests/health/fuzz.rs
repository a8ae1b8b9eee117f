//! Fuzzing the Redfish readers (issue #9) with proptest, which runs in CI with
//! a bounded number of cases (`FUZZ_CASES` raises it; `cargo fuzz` needs a
//! nightly toolchain CI does not have, see `docs/operations.md`).
//!
//! A BMC may send anything: the field readers get arbitrary JSON values, and
//! `collect` walks a real mockup tree in which one document is replaced by an
//! arbitrary JSON value or arbitrary bytes, or has one field replaced. It must
//! return a snapshot or an error, never panic or hang.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use proptest::prelude::*;
use rackledger::health::redfish::model::{
    health_rank, integer, is_absent, link, links, number, status, text,
};
use rackledger::health::redfish::{Limits, RedfishClient, Schema, TlsPolicy, collect};
use serde_json::Value;

use crate::sushy::mockup_dir;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Any JSON value, nested a few levels, with Redfish-looking keys often.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("Absent"),
            Just("Critical"),
            Just("OK"),
            Just(" "),
            Just("/redfish/v1/Systems/1")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            Just("@odata.id".to_owned()),
            Just("Members".to_owned()),
            Just("Status".to_owned()),
            Just("Health".to_owned()),
            Just("State".to_owned()),
            Just("Links".to_owned()),
            Just("ReadingCelsius".to_owned()),
            Just("SerialNumber".to_owned()),
            "[A-Za-z@.]{1,10}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The documents of a mockup tree by URL path (`/redfish/v1/...`, no trailing slash).
fn tree(name: &str) -> HashMap<String, Vec<u8>> {
    fn walk(dir: &Path, url: &str, out: &mut HashMap<String, Vec<u8>>) {
        if let Ok(body) = std::fs::read(dir.join("index.json")) {
            out.insert(url.to_owned(), body);
        }
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                walk(&path, &format!("{url}/{name}"), out);
            }
        }
    }
    let mut out = HashMap::new();
    walk(&mockup_dir(name), "/redfish/v1", &mut out);
    assert!(out.len() > 20, "mockup {name} read");
    out
}

type Docs = Arc<RwLock<HashMap<String, Vec<u8>>>>;

/// One runtime and one fake BMC for all cases; each case swaps its documents.
struct Bmc {
    rt: tokio::runtime::Runtime,
    url: String,
    docs: Docs,
}

fn bmc() -> &'static Bmc {
    static BMC: OnceLock<Bmc> = OnceLock::new();
    BMC.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let docs: Docs = Arc::default();
        let served = docs.clone();
        let url = rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let app = axum::Router::new().fallback(move |uri: Uri| {
                let served = served.clone();
                async move { serve(&served, &uri) }
            });
            tokio::spawn(async move { axum::serve(listener, app).await });
            url
        });
        Bmc { rt, url, docs }
    })
}

fn serve(docs: &Docs, uri: &Uri) -> Response {
    let path = uri.path().trim_end_matches('/');
    match docs.read().unwrap().get(path) {
        Some(body) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            body.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Runs `collect` over `docs`; every part of the snapshot is then used.
fn collect_over(docs: HashMap<String, Vec<u8>>, schema: Schema) {
    let bmc = bmc();
    *bmc.docs.write().unwrap() = docs;
    let limits = Limits {
        request_timeout: Duration::from_secs(5),
        ..Limits::default()
    };
    let client = Arc::new(RedfishClient::new(&bmc.url, &TlsPolicy::Verify, None, limits).unwrap());
    let result = bmc.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), collect(client, schema)).await
    });
    let Ok(result) = result else {
        panic!("collect hung");
    };
    if let Ok(snap) = result {
        let _ = (
            snap.cpu_count(),
            snap.max_temp_c(),
            snap.inlet_temp_c(),
            snap.worst(),
        );
        for c in snap.components() {
            let _ = (c.failed(), c.severity());
        }
        serde_json::to_string(&snap).unwrap();
    }
}

const TREES: [&str; 3] = ["XL675d_A100", "public-rackmount1", "public-localstorage"];

fn trees() -> &'static [HashMap<String, Vec<u8>>; 3] {
    static TREES_READ: OnceLock<[HashMap<String, Vec<u8>>; 3]> = OnceLock::new();
    TREES_READ.get_or_init(|| TREES.map(tree))
}

/// Sets the value at one path of object keys in `doc`, creating objects on the way.
fn set_at(doc: &mut Value, keys: &[String], value: Value) {
    let Some((last, init)) = keys.split_last() else {
        *doc = value;
        return;
    };
    let mut at = doc;
    for k in init {
        if !at.is_object() {
            *at = Value::Object(serde_json::Map::new());
        }
        at = at
            .as_object_mut()
            .unwrap()
            .entry(k.clone())
            .or_insert(Value::Null);
    }
    if !at.is_object() {
        *at = Value::Object(serde_json::Map::new());
    }
    at.as_object_mut().unwrap().insert(last.clone(), value);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn field_readers_never_panic_on_any_json(v in json(), pointer in "(/[A-Za-z@.~0-9]{0,8}){0,4}", property in "[A-Za-z@.]{0,10}") {
        let _ = (text(&v, &pointer), number(&v, &pointer), integer(&v, &pointer));
        let _ = (link(&v, &property), links(&v, &property), status(&v), is_absent(&v));
        let _ = health_rank(text(&v, &pointer).as_deref());
    }

    #[test]
    fn collect_survives_a_document_replaced_by_any_json(which in 0usize..3, index in any::<prop::sample::Index>(), doc in json(), subsystem in any::<bool>()) {
        let mut docs = trees()[which].clone();
        let mut paths: Vec<String> = docs.keys().cloned().collect();
        paths.sort();
        let path = index.get(&paths).clone();
        docs.insert(path, serde_json::to_vec(&doc).unwrap());
        collect_over(docs, if subsystem { Schema::Subsystem } else { Schema::Auto });
    }

    #[test]
    fn collect_survives_a_document_replaced_by_any_bytes(which in 0usize..3, index in any::<prop::sample::Index>(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut docs = trees()[which].clone();
        let mut paths: Vec<String> = docs.keys().cloned().collect();
        paths.sort();
        let path = index.get(&paths).clone();
        docs.insert(path, bytes);
        collect_over(docs, Schema::Auto);
    }

    #[test]
    fn collect_survives_one_field_of_a_document_replaced(
        which in 0usize..3,
        index in any::<prop::sample::Index>(),
        keys in proptest::collection::vec(prop_oneof![
            Just("Members".to_owned()), Just("Status".to_owned()), Just("Health".to_owned()),
            Just("@odata.id".to_owned()), Just("Links".to_owned()), Just("Chassis".to_owned()),
            Just("Temperatures".to_owned()), Just("PowerSupplies".to_owned()), Just("Fans".to_owned()),
            Just("Processors".to_owned()), Just("Memory".to_owned()), Just("Storage".to_owned()),
            Just("Drives".to_owned()), Just("CapacityGiB".to_owned()), Just("ReadingCelsius".to_owned()),
            Just("PowerConsumedWatts".to_owned()), Just("SerialNumber".to_owned()),
        ], 1..4),
        value in json(),
    ) {
        let mut docs = trees()[which].clone();
        let mut paths: Vec<String> = docs.keys().cloned().collect();
        paths.sort();
        let path = index.get(&paths).clone();
        let mut doc: Value = serde_json::from_slice(&docs[&path]).unwrap();
        set_at(&mut doc, &keys, value);
        docs.insert(path, serde_json::to_vec(&doc).unwrap());
        collect_over(docs, Schema::Auto);
    }
}

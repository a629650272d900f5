//! The in-process cost of one invocation of the hello component: a fresh store and
//! instance from the `InstancePre`, the call, and the buffered response, without the network.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::Full;
use joule_runtime::engine::EngineSettings;
use joule_runtime::{Invocation, Manifest, Runtime, RuntimeOptions};

fn hello_request() -> http::Request<Full<Bytes>> {
    http::Request::get("http://localhost/hello").body(Full::new(Bytes::new())).unwrap()
}

fn invocation(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let manifest_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("hello.toml");
    let manifest = Manifest::load(&manifest_path).expect("run `joule build -f bench/hello.toml` first");
    let state = tempfile::tempdir().unwrap();
    let options = RuntimeOptions {
        state_dir: state.path().to_path_buf(),
        compile_cache: false,
        pool_resident_budget: EngineSettings::default().pool_resident_budget,
        backends: Default::default(),
    };
    let runtime = Arc::new(tokio.block_on(Runtime::start(manifest, options)).unwrap());
    let hello = runtime.component("hello").unwrap();

    c.bench_function("instantiate hello", |b| {
        b.to_async(&tokio).iter(|| async {
            let mut invocation = Invocation::start(&hello, Default::default()).unwrap();
            let handler = hello.http_handler().unwrap();
            handler.instantiate_async(invocation.store()).await.unwrap();
        })
    });
    c.bench_function("instantiate and call hello", |b| {
        b.to_async(&tokio).iter(|| async {
            let response = joule_trigger_http::invoke(hello.clone(), hello_request(), Default::default()).await;
            assert_eq!(response.status(), 200);
        })
    });
}

criterion_group!(benches, invocation);
criterion_main!(benches);

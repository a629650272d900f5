//! The whole `wit/` package resolves, including the `http-component` world that names
//! WASI. Bindings are generated from `platform.wit` alone, so this is where the rest is checked.
//!
//! WASI 0.2.0's own WIT is not part of this repository; it is taken from the spin-sdk
//! crate that the components workspace already depends on.

use std::path::{Path, PathBuf};
use std::process::Command;

use wit_parser::{Resolve, WorldItem};

const WASI_PACKAGES: [&str; 7] = ["cli", "clocks", "filesystem", "http", "io", "random", "sockets"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The `wit/deps` directory of the spin-sdk source the components workspace resolves to.
fn spin_sdk_wit_deps() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(repo_root().join("components/Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "spin-sdk")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("the components workspace depends on spin-sdk");
    Path::new(manifest).parent().unwrap().join("wit/deps")
}

fn resolve_package() -> (Resolve, wit_parser::PackageId) {
    let sources = spin_sdk_wit_deps();
    let dir = tempfile::tempdir().unwrap();
    let wit = dir.path().join("wit");
    std::fs::create_dir_all(wit.join("deps")).unwrap();
    for entry in std::fs::read_dir(repo_root().join("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wit") {
            std::fs::copy(&path, wit.join(path.file_name().unwrap())).unwrap();
        }
    }
    for package in WASI_PACKAGES {
        std::os::unix::fs::symlink(sources.join(format!("{package}@0.2.0")), wit.join("deps").join(package)).unwrap();
    }
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(&wit).expect("the wit/ package resolves");
    // Parsing is done; the copied files are no longer needed.
    drop(dir);
    (resolve, package)
}

fn names(resolve: &Resolve, items: &wit_parser::IndexMap<wit_parser::WorldKey, WorldItem>) -> Vec<String> {
    items
        .iter()
        .filter(|(_, item)| matches!(item, WorldItem::Interface { .. }))
        .map(|(key, _)| resolve.name_world_key(key))
        .collect()
}

#[test]
fn every_world_resolves_with_the_documented_imports_and_exports() {
    let (resolve, package) = resolve_package();
    let world = |name: &str| &resolve.worlds[resolve.select_world(&[package], Some(name)).unwrap()];

    let capabilities =
        ["database", "kv", "events", "variables", "pricing", "templates", "email"].map(|i| format!("joule:platform/{i}@0.1.0"));

    let http = world("http-component");
    assert_eq!(names(&resolve, &http.exports), ["wasi:http/incoming-handler@0.2.0"]);
    let imports = names(&resolve, &http.imports);
    for capability in &capabilities {
        assert!(imports.contains(capability), "http-component imports {capability}: {imports:?}");
    }

    let handler = world("event-handler");
    assert_eq!(names(&resolve, &handler.exports), ["joule:platform/handler@0.1.0"]);
    let imports = names(&resolve, &handler.imports);
    assert!(capabilities.iter().all(|c| imports.contains(c)), "{imports:?}");

    // Pricing rules and templates import no capability: only the types they exchange.
    for (name, export, types) in [
        ("pricing-rule", "joule:platform/rule@0.1.0", "joule:platform/pricing-types@0.1.0"),
        ("notification-template", "joule:platform/template@0.1.0", "joule:platform/event-types@0.1.0"),
    ] {
        let world = world(name);
        assert_eq!(names(&resolve, &world.exports), [export], "{name}");
        let imports = names(&resolve, &world.imports);
        assert!(imports.contains(&types.to_string()), "{name}: {imports:?}");
        for import in world.imports.values() {
            let WorldItem::Interface { id, .. } = import else { unreachable!() };
            assert!(resolve.interfaces[*id].functions.is_empty(), "{name} imports no function");
        }
    }
}

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Compiled components on disk, keyed by the wasm's sha256 and the engine's configuration,
/// so a restart or a redeploy of known bytes skips compilation.
pub struct CompileCache {
    dir: Option<PathBuf>,
    engine_key: String,
}

/// A compiled component and the digest of the bytes it came from.
pub struct Compiled {
    pub component: Component,
    pub sha256: String,
    /// Whether it came from the cache rather than from cranelift.
    pub cached: bool,
}

impl CompileCache {
    pub(super) fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = hex::encode(&hasher.0.finalize()[..8]);
        Self { dir, engine_key }
    }

    /// Compiles `wasm`, or loads its compiled form from the cache.
    pub fn compile(&self, engine: &Engine, wasm: &[u8]) -> anyhow::Result<Compiled> {
        let sha256 = hex::encode(Sha256::digest(wasm));
        let Some(dir) = &self.dir else {
            let component = compile(engine, wasm)?;
            return Ok(Compiled { component, sha256, cached: false });
        };
        let path = dir.join(format!("{sha256}-{}.cwasm", self.engine_key));
        if path.exists() {
            match deserialize(engine, &path) {
                Ok(component) => return Ok(Compiled { component, sha256, cached: true }),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "ignoring unusable compile cache entry"),
            }
        }
        let component = compile(engine, wasm)?;
        if let Err(e) = store(dir, &path, &component) {
            tracing::warn!(path = %path.display(), error = %e, "failed to write the compile cache");
        }
        Ok(Compiled { component, sha256, cached: false })
    }
}

fn compile(engine: &Engine, wasm: &[u8]) -> anyhow::Result<Component> {
    if is_core_module(wasm) {
        anyhow::bail!("this is a core wasm module, not a component; build it for wasm32-wasip2");
    }
    Component::new(engine, wasm).map_err(|e| anyhow::Error::from(e).context("failed to compile the component"))
}

/// A core module starts with the same magic as a component but a different layer byte.
fn is_core_module(wasm: &[u8]) -> bool {
    wasm.len() >= 8 && wasm[..4] == *b"\0asm" && wasm[6..8] == [0, 0]
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    // SAFETY: the cache directory belongs to the platform and holds only files this
    // process serialised; wasmtime still checks that they match the engine's configuration.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}

fn store(dir: &Path, path: &Path, component: &Component) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let bytes = component.serialize()?;
    // Write then rename, so a concurrent reader never sees half a file.
    let temp = tempfile_path(path);
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path)?;
    Ok(())
}

fn tempfile_path(path: &Path) -> PathBuf {
    path.with_extension(format!("tmp{}", std::process::id()))
}

/// Feeds `Hash` output into sha256, which, unlike `DefaultHasher`, is stable across builds.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        unreachable!("only the full digest is used")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPONENT: &[u8] = b"\0asm\x0d\0\x01\0";
    const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";

    #[test]
    fn a_core_module_is_refused_with_a_hint() {
        let engine = Engine::default();
        let cache = CompileCache::new(&engine, None);
        let error = cache.compile(&engine, CORE_MODULE).err().unwrap();
        assert!(error.to_string().contains("not a component"), "{error}");
    }

    #[test]
    fn a_second_compile_comes_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let cache = CompileCache::new(&engine, Some(dir.path().to_path_buf()));
        let first = cache.compile(&engine, COMPONENT).unwrap();
        assert!(!first.cached);
        let second = cache.compile(&engine, COMPONENT).unwrap();
        assert!(second.cached);
        assert_eq!(first.sha256, second.sha256);
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "one entry, no temp files left behind");
    }

    #[test]
    fn the_key_changes_with_the_engine_configuration() {
        let plain = Engine::default();
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        let fueled = Engine::new(&config).unwrap();
        assert_ne!(CompileCache::new(&plain, None).engine_key, CompileCache::new(&fueled, None).engine_key);
    }
}

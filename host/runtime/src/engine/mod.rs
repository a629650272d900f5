//! The wasmtime engine: pooling allocator, epoch-based timeouts, and the compile cache.

mod cache;
mod epoch;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

pub use cache::{CompileCache, Compiled};
use epoch::EpochTicker;

/// Written pages of a linear memory reset in place, up to this much; past it, the rest is
/// decommitted. Covers the working set of the EV components with room to spare.
const KEEP_RESIDENT_MEMORY: usize = 8 << 20;
/// The same for tables, which are small.
const KEEP_RESIDENT_TABLE: usize = 64 << 10;

/// How the engine is set up; the compile cache is keyed by the result.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Instances the pooling allocator keeps slots for; more at once wait on the pool.
    pub pooled_instances: u32,
    /// The largest linear memory any component may grow to.
    pub max_memory_bytes: u64,
    /// Whether any component runs with a fuel limit; fuel metering costs every component.
    pub fuel: bool,
    /// How often the epoch advances; timeouts are checked at this granularity.
    pub epoch_tick: Duration,
    /// Where compiled components are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            pooled_instances: 1000,
            max_memory_bytes: 128 << 20,
            fuel: false,
            epoch_tick: Duration::from_millis(10),
            cache_dir: None,
        }
    }
}

/// A configured wasmtime engine with its epoch ticker and compile cache.
pub struct JouleEngine {
    engine: Engine,
    cache: Arc<CompileCache>,
    epoch_tick: Duration,
    _ticker: EpochTicker,
}

impl JouleEngine {
    pub fn new(settings: &EngineSettings) -> anyhow::Result<Self> {
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(settings.pooled_instances)
            .total_core_instances(settings.pooled_instances * 4)
            .total_memories(settings.pooled_instances * 2)
            .total_tables(settings.pooled_instances * 4)
            .total_stacks(settings.pooled_instances)
            .max_memory_size(usize::try_from(settings.max_memory_bytes).context("memory limit too large")?)
            // Reset a slot by copying back only the pages the guest wrote (found with
            // PAGEMAP_SCAN, Linux 6.7+), keeping them mapped. The default, madvise, flushes
            // every core's TLB on each invocation and faults the pages in again on the next:
            // it took a third of the CPU time serving the hello component.
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(KEEP_RESIDENT_MEMORY)
            .table_keep_resident(KEEP_RESIDENT_TABLE);

        let mut config = Config::new();
        config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pooling))
            .epoch_interruption(true)
            .consume_fuel(settings.fuel)
            .cranelift_opt_level(OptLevel::Speed)
            .memory_init_cow(true);
        let engine = Engine::new(&config).map_err(|e| anyhow::Error::from(e).context("failed to create the wasmtime engine"))?;
        let cache = Arc::new(CompileCache::new(&engine, settings.cache_dir.clone()));
        let ticker = EpochTicker::start(engine.clone(), settings.epoch_tick);
        Ok(Self { engine, cache, epoch_tick: settings.epoch_tick, _ticker: ticker })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles a component off the async executor, through the compile cache.
    pub async fn compile(&self, wasm: Vec<u8>) -> anyhow::Result<Compiled> {
        let (engine, cache) = (self.engine.clone(), self.cache.clone());
        tokio::task::spawn_blocking(move || cache.compile(&engine, &wasm))
            .await
            .context("the compile task panicked")?
    }

    pub fn epoch_tick(&self) -> Duration {
        self.epoch_tick
    }
}

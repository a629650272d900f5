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

/// The most of a linear memory's written pages reset in place, whatever the budget; past it,
/// the rest is decommitted.
const MAX_KEEP_RESIDENT_MEMORY: usize = 8 << 20;
/// The same for tables, which are small.
const MAX_KEEP_RESIDENT_TABLE: usize = 64 << 10;
/// Table slots in the pool for each instance slot.
const TABLES_PER_INSTANCE: u32 = 4;
/// Linear memory slots in the pool for each instance slot: components built from several
/// core modules (componentize-py's) have more than one memory.
const MEMORIES_PER_INSTANCE: u32 = 2;
/// The host's page size, which the share of each memory slot is rounded to.
const PAGE: usize = 4096;

/// How the engine is set up; the compile cache is keyed by the result.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Instances the pooling allocator keeps slots for; more at once wait on the pool.
    pub pooled_instances: u32,
    /// The largest linear memory any component may grow to.
    pub max_memory_bytes: u64,
    /// What the pool's idle memory slots may keep resident, all together. A slot keeps the
    /// pages a guest wrote mapped, up to its share, and resets them by copying: no page faults
    /// and no TLB shootdown on the next invocation. Pages past its share are given back.
    pub pool_resident_budget: u64,
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
            pool_resident_budget: 256 << 20,
            fuel: false,
            epoch_tick: Duration::from_millis(10),
            cache_dir: None,
        }
    }
}

impl EngineSettings {
    /// Each memory slot's share of the resident budget (seven eighths of it go to memories):
    /// every slot may have been used by the time the host goes idle, so the shares of all
    /// slots, memories and tables, add up to the budget at most.
    pub fn memory_slot_keep_resident(&self) -> usize {
        self.share(self.pool_resident_budget / 8 * 7, MEMORIES_PER_INSTANCE, MAX_KEEP_RESIDENT_MEMORY)
    }

    /// Each table slot's share of the resident budget: the last eighth.
    pub fn table_slot_keep_resident(&self) -> usize {
        self.share(self.pool_resident_budget / 8, TABLES_PER_INSTANCE, MAX_KEEP_RESIDENT_TABLE)
    }

    fn share(&self, bytes: u64, per_instance: u32, most: usize) -> usize {
        let slots = u64::from(self.pooled_instances.max(1)) * u64::from(per_instance);
        usize::try_from(bytes / slots).unwrap_or(usize::MAX).min(most) / PAGE * PAGE
    }
}

/// A configured wasmtime engine with its epoch ticker and compile cache.
pub struct JouleEngine {
    engine: Engine,
    cache: Arc<CompileCache>,
    epoch_tick: Duration,
    fuel: bool,
    _ticker: EpochTicker,
}

impl JouleEngine {
    pub fn new(settings: &EngineSettings) -> anyhow::Result<Self> {
        let mut pooling = PoolingAllocationConfig::default();
        pooling
            .total_component_instances(settings.pooled_instances)
            .total_core_instances(settings.pooled_instances * 4)
            .total_memories(settings.pooled_instances * MEMORIES_PER_INSTANCE)
            .total_tables(settings.pooled_instances * TABLES_PER_INSTANCE)
            .total_stacks(settings.pooled_instances)
            .max_memory_size(usize::try_from(settings.max_memory_bytes).context("memory limit too large")?)
            // Reset a slot by copying back only the pages the guest wrote (found with
            // PAGEMAP_SCAN, Linux 6.7+), keeping them mapped. The default, madvise, flushes
            // every core's TLB on each invocation and faults the pages in again on the next:
            // it took a third of the CPU time serving the hello component.
            .pagemap_scan(Enabled::Auto)
            .linear_memory_keep_resident(settings.memory_slot_keep_resident())
            .table_keep_resident(settings.table_slot_keep_resident());

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
        Ok(Self { engine, cache, epoch_tick: settings.epoch_tick, fuel: settings.fuel, _ticker: ticker })
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

    /// Whether every store on this engine consumes fuel, limited or not.
    pub fn meters_fuel(&self) -> bool {
        self.fuel
    }

    /// What the pool's idle slots keep resident now: pages guests wrote, kept for the next
    /// instance in the slot.
    pub fn pool_idle_resident_bytes(&self) -> u64 {
        self.engine.pooling_allocator_metrics().map_or(0, |pool| {
            (pool.unused_memory_bytes_resident() + pool.unused_table_bytes_resident()) as u64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slots_shares_add_up_to_the_budget_at_most() {
        let settings = EngineSettings { pool_resident_budget: 256 << 20, ..EngineSettings::default() };
        let memories = settings.memory_slot_keep_resident() * (1000 * MEMORIES_PER_INSTANCE) as usize;
        let tables = settings.table_slot_keep_resident() * (1000 * TABLES_PER_INSTANCE) as usize;
        assert!(memories + tables <= 256 << 20, "{memories} + {tables}");
        assert_eq!(settings.memory_slot_keep_resident() % PAGE, 0);

        let generous = EngineSettings { pool_resident_budget: 1 << 40, ..EngineSettings::default() };
        assert_eq!(generous.memory_slot_keep_resident(), MAX_KEEP_RESIDENT_MEMORY);
        let none = EngineSettings { pool_resident_budget: 0, ..EngineSettings::default() };
        assert_eq!((none.memory_slot_keep_resident(), none.table_slot_keep_resident()), (0, 0));
    }
}

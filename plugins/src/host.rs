//! The WebAssembly host: one wasmtime `Engine` a node, compiled components cached by their
//! SHA-256 in memory and as serialized artifacts in a folder only the node writes, pre-instantiated
//! once, and run in a fresh `Store` a call under fuel, an epoch deadline and a memory cap.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasSelf, Instance, InstancePre, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};
use zhiyuan_domain::TenantCode;
use zhiyuan_domain::ports::{
    Binding, FailureReason, Hook, HookAnswer, HookCall, OnFailure, PluginManifest, PluginPackage,
    PluginRefusal, Policy, PolicyFailure, PolicyHost, PolicyRevision, SwitchOff,
};
use zhiyuan_federation::multikey::VerifyingKey;

use crate::BuiltinPolicy;
use crate::conformance;
use crate::signature::check_signature;
use crate::tenant::TenantPolicy;
use crate::wit::{self, CallState};

/// How the host runs plugins.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where compiled artifacts are kept between runs; none keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// CPU time a call may use.
    pub deadline: Duration,
    /// Linear memory a call may use.
    pub memory_cap: usize,
    /// Consecutive failures after which a bound hook is switched off for its tenant.
    pub failure_threshold: u32,
    /// Keys whose signatures the node accepts on uploaded plugins.
    pub trusted_keys: Vec<VerifyingKey>,
    /// Refuse unsigned plugins (the default outside demo mode).
    pub require_signatures: bool,
    /// Calls that may run at once across the node, when the pooling allocator is available.
    pub pool_size: u32,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            deadline: Duration::from_millis(10),
            memory_cap: 16 << 20,
            failure_threshold: 5,
            trusted_keys: Vec::new(),
            require_signatures: true,
            pool_size: 256,
        }
    }
}

/// Calls stopped by the wall clock rather than their own CPU time run at most this many deadlines.
const BACKSTOP_DEADLINES: u32 = 20;

/// More WebAssembly operators a second than any core executes (a trillion: hundreds of times
/// what today's fastest cores reach). Fuel is a backstop for the epoch deadline, never a
/// limit that could fire first: a call gets this rate over its whole wall-clock backstop.
const FUEL_PER_SECOND_BOUND: u128 = 1_000_000_000_000;

impl HostConfig {
    /// Fuel a call starts with: more than any machine burns before the deadline and its
    /// wall-clock backstop have both passed, so that running out of it means the epoch
    /// interruption itself failed.
    pub fn fuel(&self) -> u64 {
        let backstop = self.deadline * BACKSTOP_DEADLINES;
        u64::try_from(backstop.as_nanos() * FUEL_PER_SECOND_BOUND / 1_000_000_000)
            .unwrap_or(u64::MAX)
    }
}

/// SHA-256 of each bundled package: they need no signature.
static BUNDLED_DIGESTS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    crate::BUNDLED
        .iter()
        .map(|(_, _, bytes)| hex::encode(Sha256::digest(bytes)))
        .collect()
});

/// The versions of the zhiyuan:policy package this node runs, oldest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["0.1.0"];

/// A compiled, pre-instantiated plugin with the hooks it exports.
pub struct Compiled {
    pub(crate) sha256: String,
    /// Bytes of the package, as the in-memory cache weighs it.
    size: usize,
    pub(crate) wit_version: &'static str,
    pub(crate) hooks: Vec<Hook>,
    pub(crate) pre: InstancePre<CallState>,
    pub(crate) exports: wit::Exports,
}

/// Why a call gave no answer, before the tenant's binding decides what that means.
pub(crate) type CallResult<R> = Result<R, FailureReason>;

pub(crate) struct HostInner {
    pub(crate) engine: Engine,
    linker: Linker<CallState>,
    pub(crate) config: HostConfig,
    compiled: moka::sync::Cache<String, Arc<Compiled>>,
    artifact_dir: Option<PathBuf>,
    pub(crate) switch_offs: Mutex<Vec<SwitchOff>>,
    pub(crate) pooling: bool,
    /// Held while a package compiles.
    compiling: Mutex<()>,
}

/// Runs tenants' policies. Cheap to clone; clones share the engine and caches.
#[derive(Clone)]
pub struct WasmHost {
    inner: Arc<HostInner>,
    tenants: Arc<RwLock<HashMap<TenantCode, Arc<dyn Policy>>>>,
}

impl std::fmt::Debug for WasmHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmHost")
            .field("pooling", &self.inner.pooling)
            .field("artifact_dir", &self.inner.artifact_dir)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot use the plugin cache folder {path}: {source}")]
    CacheDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl WasmHost {
    pub fn new(config: HostConfig) -> Result<WasmHost, HostError> {
        let (engine, pooling) = engine(&config)?;
        let mut linker = Linker::new(&engine);
        wit::v0_1_0::Policy::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(|e| HostError::Engine(e.to_string()))?;
        let artifact_dir = match &config.cache_dir {
            Some(dir) => Some(artifact_dir(dir, &engine)?),
            None => None,
        };
        start_epoch_ticker(&engine);
        let compiled = moka::sync::Cache::builder()
            .max_capacity(256 << 20)
            .weigher(|_: &String, plugin: &Arc<Compiled>| {
                plugin.size.try_into().unwrap_or(u32::MAX)
            })
            .build();
        Ok(WasmHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                config,
                compiled,
                artifact_dir,
                switch_offs: Mutex::new(Vec::new()),
                pooling,
                compiling: Mutex::new(()),
            }),
            tenants: Arc::default(),
        })
    }

    /// Whether calls take their instances from the pooling allocator.
    pub fn pooling(&self) -> bool {
        self.inner.pooling
    }

    /// A stored package, as a revision binds it: it passed its checks when it was stored; where
    /// signatures are required its signature must still hold under the keys trusted now, unless
    /// it ships with the node.
    pub(crate) fn compile_stored(
        &self,
        package: &PluginPackage,
    ) -> Result<Arc<Compiled>, PluginRefusal> {
        if self.inner.config.require_signatures && !BUNDLED_DIGESTS.contains(&package.sha256) {
            let signature = package
                .signature
                .as_deref()
                .ok_or(PluginRefusal::Unsigned)?;
            check_signature(
                &Sha256::digest(&package.bytes).into(),
                signature,
                &self.inner.config.trusted_keys,
            )?;
        }
        let compiled = self.compile(&package.bytes)?;
        self.keep_artifact(&compiled);
        Ok(compiled)
    }

    /// Compiles a package (or takes it from the caches) and checks what it exports and imports.
    pub fn compile(&self, package: &[u8]) -> Result<Arc<Compiled>, PluginRefusal> {
        let sha256 = hex::encode(Sha256::digest(package));
        if let Some(compiled) = self.inner.compiled.get(&sha256) {
            return Ok(compiled);
        }
        let component = self.load_component(&sha256, package)?;
        let compiled = Arc::new(self.inspect(sha256.clone(), package.len(), component)?);
        self.inner.compiled.insert(sha256, compiled.clone());
        Ok(compiled)
    }

    fn load_component(&self, sha256: &str, package: &[u8]) -> Result<Component, PluginRefusal> {
        let engine = &self.inner.engine;
        let artifact = self
            .inner
            .artifact_dir
            .as_ref()
            .map(|dir| dir.join(format!("{sha256}.cwasm")));
        if let Some(path) = &artifact
            && path.exists()
        {
            // SAFETY: the folder is the node's own, named after this engine's compatibility hash,
            // and only `Component::serialize` output of this package's bytes is written there.
            #[allow(unsafe_code)]
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(component) => return Ok(component),
                Err(error) => {
                    tracing::warn!(%sha256, %error, "recompiling a plugin whose cached artifact does not load")
                }
            }
        }
        crate::screen::screen(package, self.inner.config.memory_cap)?;
        // One compile at a time on a node: a queue of uploads waits rather than taking every
        // core.
        let _compiling = self
            .inner
            .compiling
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Component::new(engine, package)
            .map_err(|error| PluginRefusal::NotAComponent(first_line(&error)))
    }

    /// Keeps the compiled artifact of a package that passed its checks for the next start. A
    /// refused package leaves nothing on disk.
    fn keep_artifact(&self, compiled: &Compiled) {
        let Some(dir) = &self.inner.artifact_dir else {
            return;
        };
        let path = dir.join(format!("{}.cwasm", compiled.sha256));
        if path.exists() {
            return;
        }
        let sha256 = &compiled.sha256;
        match compiled.pre.component().serialize() {
            Ok(bytes) => {
                if let Err(error) = write_atomically(&path, &bytes) {
                    tracing::warn!(%sha256, %error, "cannot cache a compiled plugin");
                }
            }
            Err(error) => tracing::warn!(%sha256, %error, "cannot serialize a compiled plugin"),
        }
    }

    /// Reads the version and hooks from the component's type, before instantiating anything.
    fn inspect(
        &self,
        sha256: String,
        size: usize,
        component: Component,
    ) -> Result<Compiled, PluginRefusal> {
        let engine = &self.inner.engine;
        let ty = component.component_type();
        let mut version = None;
        let mut others = Vec::new();
        for (name, item) in ty.exports(engine) {
            let policy_export = name
                .strip_prefix("zhiyuan:policy/")
                .and_then(|rest| rest.split_once('@'));
            match (policy_export, item.ty) {
                (Some((_, v)), ComponentItem::ComponentInstance(_)) => {
                    if !SUPPORTED_VERSIONS.contains(&v) {
                        return Err(PluginRefusal::UnknownVersion {
                            version: v.to_owned(),
                            supported: SUPPORTED_VERSIONS.join(", "),
                        });
                    }
                    version = Some(v);
                }
                _ => others.push(name.to_owned()),
            }
        }
        let Some(version) = version else {
            return Err(PluginRefusal::WrongWorld {
                exports: if others.is_empty() {
                    "nothing".into()
                } else {
                    others.join(", ")
                },
            });
        };
        for (name, _) in ty.imports(engine) {
            let allowed = [
                format!("zhiyuan:policy/log@{version}"),
                format!("zhiyuan:policy/types@{version}"),
            ];
            if !allowed.iter().any(|a| a == name) {
                return Err(PluginRefusal::ForbiddenImport {
                    import: name.to_owned(),
                });
            }
        }
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|error| PluginRefusal::NotAComponent(first_line(&error)))?;
        let exports =
            wit::Exports::find(&pre).map_err(|(hook, error)| PluginRefusal::Conformance {
                hook,
                detail: first_line(&error),
            })?;
        let wit_version = SUPPORTED_VERSIONS
            .iter()
            .find(|v| **v == version)
            .copied()
            .unwrap_or("0.1.0");
        Ok(Compiled {
            sha256,
            size,
            wit_version,
            hooks: exports.hooks(),
            pre,
            exports,
        })
    }

    /// Runs `call` in a fresh store under the node's limits, and says why when it gives no answer.
    pub(crate) fn invoke<R>(
        inner: &HostInner,
        plugin: &Compiled,
        call_state: CallState,
        call: impl FnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
    ) -> CallResult<R> {
        let mut store = Store::new(&inner.engine, call_state);
        store.limiter(|state| &mut state.limiter);
        store
            .set_fuel(inner.config.fuel())
            .expect("fuel is enabled on the engine");
        // The deadline is the call's own CPU time: on a busy machine a thread may wait for a core
        // longer than a plugin runs, and that wait is not the plugin's fault. Each epoch deadline
        // checks the thread's CPU clock and extends by what is left; a wall-clock backstop of
        // twenty deadlines bounds a call whatever the machine's load.
        let budget = inner.config.deadline;
        let started = thread_cpu_time();
        let backstop = Instant::now() + budget * BACKSTOP_DEADLINES;
        store.set_epoch_deadline(deadline_ticks(budget));
        store.epoch_deadline_callback(move |mut context| {
            let used = thread_cpu_time().saturating_sub(started);
            if used >= budget {
                return Err(Trap::Interrupt.into());
            }
            if Instant::now() >= backstop {
                context.data_mut().host_busy = true;
                return Err(Trap::Interrupt.into());
            }
            Ok(UpdateDeadline::Continue(deadline_ticks(budget - used)))
        });
        // An instance the pool cannot give (every slot in use) is the node's trouble, not the
        // plugin's; a trap while instantiating is the plugin's.
        let instance = match plugin.pre.instantiate(&mut store) {
            Ok(instance) => instance,
            Err(error)
                if error.downcast_ref::<Trap>().is_none() && !store.data().limiter.hit_cap =>
            {
                return Err(FailureReason::HostBusy {
                    detail: first_line(&error),
                });
            }
            Err(error) => return Err(classify(inner, &store, &error)),
        };
        call(&mut store, &instance).map_err(|error| classify(inner, &store, &error))
    }

    /// Checks a package that ships with the node. It is trusted as the node's binary is, so it
    /// needs no signature; it must still compile and pass conformance.
    pub fn admit_bundled(&self, package: &[u8]) -> Result<PluginManifest, PluginRefusal> {
        let compiled = self.compile(package)?;
        conformance::check(self, "bundled", &compiled)?;
        self.keep_artifact(&compiled);
        Ok(PluginManifest {
            sha256: compiled.sha256.clone(),
            wit_version: compiled.wit_version.to_owned(),
            hooks: compiled.hooks.clone(),
            signed_by: None,
        })
    }

    /// Puts back switch-offs the node could not store yet, for the next try.
    pub fn requeue_switch_offs(&self, switch_offs: Vec<SwitchOff>) {
        if switch_offs.is_empty() {
            return;
        }
        let mut queue = self
            .inner
            .switch_offs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        queue.extend(switch_offs);
    }

    pub(crate) fn inner(&self) -> &Arc<HostInner> {
        &self.inner
    }
}

impl PolicyHost for WasmHost {
    fn for_tenant(&self, tenant: &TenantCode) -> Arc<dyn Policy> {
        let tenants = self
            .tenants
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match tenants.get(tenant) {
            Some(policy) => policy.clone(),
            None => Arc::new(BuiltinPolicy),
        }
    }

    fn admit(
        &self,
        tenant: &TenantCode,
        package: &[u8],
        signature: Option<&str>,
    ) -> Result<PluginManifest, PluginRefusal> {
        let digest: [u8; 32] = Sha256::digest(package).into();
        let signed_by = match signature {
            Some(signature) => Some(check_signature(
                &digest,
                signature,
                &self.inner.config.trusted_keys,
            )?),
            None if self.inner.config.require_signatures => return Err(PluginRefusal::Unsigned),
            None => None,
        };
        let compiled = self.compile(package)?;
        conformance::check(self, tenant.as_str(), &compiled)?;
        self.keep_artifact(&compiled);
        Ok(PluginManifest {
            sha256: compiled.sha256.clone(),
            wit_version: compiled.wit_version.to_owned(),
            hooks: compiled.hooks.clone(),
            signed_by,
        })
    }

    fn dry_run(
        &self,
        tenant: &TenantCode,
        package: &PluginPackage,
        binding: &Binding,
        call: &HookCall,
    ) -> Result<Result<HookAnswer, PolicyFailure>, PluginRefusal> {
        let plugin = self.compile_stored(package)?;
        if !plugin.hooks.contains(&binding.hook) {
            return Err(PluginRefusal::MissingHook { hook: binding.hook });
        }
        let policy = TenantPolicy::trial(
            self,
            tenant.as_str(),
            plugin,
            &package.name,
            &package.version,
            &binding.settings,
            OnFailure::FailClosed,
        );
        Ok(call.run(&policy))
    }

    fn bundled(
        &self,
        name: &str,
    ) -> Option<Result<(PluginPackage, PluginManifest), PluginRefusal>> {
        let (name, version, bytes) = crate::BUNDLED
            .iter()
            .find(|(bundled, _, _)| *bundled == name)?;
        let package = PluginPackage {
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            signature: None,
            sha256: hex::encode(Sha256::digest(bytes)),
            bytes: Arc::from(*bytes),
        };
        Some(
            self.admit_bundled(bytes)
                .map(|manifest| (package, manifest)),
        )
    }

    fn prepare(&self, revision: &PolicyRevision) -> Result<Arc<dyn Policy>, PluginRefusal> {
        Ok(Arc::new(TenantPolicy::new(self, revision)?))
    }

    fn install(&self, tenant: &TenantCode, policy: Arc<dyn Policy>) {
        let mut tenants = self
            .tenants
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tenants.insert(tenant.clone(), policy);
    }

    fn take_switch_offs(&self) -> Vec<SwitchOff> {
        let mut queue = self
            .inner
            .switch_offs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *queue)
    }
}

/// Why a call gave no answer, from what it stopped with.
fn classify(inner: &HostInner, store: &Store<CallState>, error: &wasmtime::Error) -> FailureReason {
    if store.data().limiter.hit_cap {
        return FailureReason::MemoryCap {
            bytes: inner.config.memory_cap as u64,
        };
    }
    if store.data().host_busy {
        return FailureReason::HostBusy {
            detail: "the machine gave the call no CPU time within twenty deadlines".into(),
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => FailureReason::Deadline {
            ms: inner.config.deadline.as_millis() as u64,
        },
        Some(Trap::OutOfFuel) => FailureReason::Fuel {
            fuel: inner.config.fuel(),
        },
        _ => FailureReason::Trap {
            message: first_line(error),
        },
    }
}

/// The pooling allocator where the machine gives it the address space; on-demand otherwise.
fn engine(config: &HostConfig) -> Result<(Engine, bool), HostError> {
    let base = || {
        let mut wasm = Config::new();
        wasm.wasm_component_model(true);
        wasm.consume_fuel(true);
        wasm.epoch_interruption(true);
        wasm
    };
    let mut pooled = base();
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(config.pool_size)
        .total_core_instances(config.pool_size * 4)
        .total_memories(config.pool_size * 2)
        .total_tables(config.pool_size * 2)
        .max_memory_size(config.memory_cap)
        // A call touches a few pages of the memory it starts with (the bundled plugins start
        // with 192 KiB and allocate from it). Zeroing those in place is cheaper than handing
        // them back to the kernel and faulting them in again on the next call; what lies beyond
        // is handed back in batches.
        .linear_memory_keep_resident(192 << 10)
        .table_keep_resident(16 << 10)
        .decommit_batch_size(64);
    pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&pooled) {
        Ok(engine) => Ok((engine, true)),
        Err(error) => {
            tracing::warn!(%error, "the pooling allocator is not available; instances are allocated on demand");
            Engine::new(&base())
                .map(|engine| (engine, false))
                .map_err(|e| HostError::Engine(e.to_string()))
        }
    }
}

/// The epoch advances once a millisecond, so a deadline is a number of ticks.
const TICK: Duration = Duration::from_millis(1);

fn deadline_ticks(deadline: Duration) -> u64 {
    deadline.as_micros().div_ceil(TICK.as_micros()).max(1) as u64
}

/// CPU time the current thread has used.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given, and CLOCK_THREAD_CPUTIME_ID is
    // available on every Linux the node runs on.
    #[allow(unsafe_code)]
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(TICK);
            }
        })
        .expect("spawn the epoch thread");
}

/// `<cache>/<engine hash>/`: artifacts of another engine build are never looked at.
fn artifact_dir(cache_dir: &Path, engine: &Engine) -> Result<PathBuf, HostError> {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let dir = cache_dir.join(format!("{:016x}", hasher.finish()));
    create_private_dir(&dir).map_err(|source| HostError::CacheDir {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a file under a name of its own, then renames it into place, so that a reader never
/// sees a partial artifact, whoever else writes the same one at the same time.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let partial = path.with_extension(format!("partial-{}-{write}", std::process::id()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// A component's preamble: magic, then version 0x0d with layer 1 (a core module has layer 0).
pub(crate) fn first_line(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

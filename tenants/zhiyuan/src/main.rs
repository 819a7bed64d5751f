use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};
use rand::Rng;
use rand::distributions::Alphanumeric;
use tracing_subscriber::EnvFilter;
use zhiyuan::{Node, NodeConfig, Overrides, SystemClock, demo, open_store, tenants};
use zhiyuan_api::Schemas;
use zhiyuan_api::service::{AccountRequest, create_account};
use zhiyuan_domain::{Actor, Clock, Role, TenantCode};
use zhiyuan_forms::ImportMode;

/// Zhiyuan (志愿): a volunteer service information system node.
#[derive(Debug, Parser)]
#[command(name = "zhiyuan", version)]
struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the node's tenants over HTTP(S) (the default).
    Serve {
        /// Seed demo accounts of every role and print their credentials.
        #[arg(long)]
        demo: bool,
    },
    /// Serve with the demo data set (same as `serve --demo`).
    Demo,
    /// Apply database migrations and exit.
    Migrate,
    /// Tenant administration.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Account administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Data keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Bulk registration from the CSV lists units keep (UTF-8 or GB18030).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Forms for units and offices.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Policy plugins: operator keys, signatures, and what a package is.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Create an operator signing key in FILE (readable by its owner only) and print its public
    /// Multikey, for the `plugins.trusted_keys` of the nodes that should accept its signatures.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a plugin package with an operator key: writes PACKAGE.sig and prints the signature.
    Sign {
        #[arg(long)]
        key: PathBuf,
        package: PathBuf,
    },
    /// Check a package's signature against trusted keys (the node's `plugins.trusted_keys`
    /// unless --trusted-key is given).
    Verify {
        /// The signature file (default PACKAGE.sig).
        #[arg(long)]
        signature: Option<PathBuf>,
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
        package: PathBuf,
    },
    /// Show a package's SHA-256, WIT version and hooks, after the checks an upload makes (but
    /// the signature).
    Inspect { package: PathBuf },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import volunteers. Columns (Chinese or English headers): 姓名/name, 证件类型/id_kind,
    /// 证件号码/id_number, 手机号码/mobile, 所属区划/region (code or name), 所属单位/unit (name),
    /// 技能/skills, 服务类别/service_categories (separated by 、or ;), 可服务时间/availability.
    /// All rows or none unless --valid-only.
    Volunteers {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
        /// Import the valid rows and report the others, instead of all or nothing.
        #[arg(long)]
        valid_only: bool,
    },
    /// Import team registrations. Columns: 队伍名称/name, 类别/kind, 所属单位/unit, 所属区划/region,
    /// 联系人/contact_name, 联系电话/contact_mobile, 登记状态/legal_status (已登记, 未登记),
    /// 联络团体/liaison_team (name), 登记机关/registration_authority (name),
    /// 统一社会信用代码/credit_code, 组织机构代码/org_code, 证书文件/certificates (paths relative
    /// to the list, separated by ;). Each row passes the rules of an application over the API.
    Teams {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
        /// The account that becomes the first admin of every imported team.
        #[arg(long)]
        admin: String,
        #[arg(long)]
        valid_only: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// The volunteer registration form (志愿者注册登记表) of a tenant or one of its units.
    RegistrationForm {
        #[arg(long)]
        tenant: String,
        /// Only this unit's volunteers (its name).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, value_parser = ["csv", "xlsx"], default_value = "xlsx")]
        format: String,
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a new random data key (base64) for a tenant's entry in `data_keys`.
    Generate,
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Create a tenant from its TOML file, unless it exists.
    Load { file: PathBuf },
    /// Check a tenant file without touching any database.
    Check { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an account, e.g. the first office admin of a tenant. The password is read from
    /// standard input when it is not a terminal, and generated and printed otherwise.
    CreateUser {
        /// Tenant code; leave out for a node-wide operator.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        display_name: Option<String>,
        /// Reviewing body a reviewer acts for (its id).
        #[arg(long)]
        reviewing_body: Option<uuid::Uuid>,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::from_db(value).ok_or_else(|| {
        let roles: Vec<_> = Role::ALL.iter().map(|role| role.as_str()).collect();
        format!("one of {}", roles.join(", "))
    })
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = NodeConfig::load(&cli.overrides)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => serve(&config, clock, demo).await,
        Command::Demo => serve(&config, clock, true).await,
        Command::Import(ImportCommand::Volunteers {
            file,
            tenant,
            valid_only,
        }) => {
            let store = open_store(&config).await?;
            tenants::load_configured(&store, &config, clock.as_ref()).await?;
            let tenant = TenantCode::parse(&tenant).map_err(|rule| anyhow!(rule.message_en()))?;
            store
                .tenant(&tenant)
                .await
                .with_context(|| format!("tenant {tenant}"))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = zhiyuan_forms::decode(bytes);
            let mode = if valid_only {
                ImportMode::ValidRowsOnly
            } else {
                ImportMode::AllOrNothing
            };
            let bar = progress_bar(text.matches('\n').count().saturating_sub(1) as u64);
            let mut progress = |read: u64, _imported: u64| bar.set_position(read);
            let source = file.display().to_string();
            let actor = Actor::system("import volunteers");
            let options = zhiyuan_forms::ImportOptions {
                mode,
                actor: &actor,
                at: clock.now(),
                source: &source,
            };
            let report =
                zhiyuan_forms::import_volunteers(&store, &tenant, text, options, &mut progress)
                    .await?;
            bar.finish_and_clear();
            for error in report.errors.iter().take(100) {
                eprintln!("{error}");
            }
            if report.errors.len() > 100 {
                eprintln!(
                    "... and {} more rows with errors",
                    report.errors.len() - 100
                );
            }
            println!(
                "{} rows read, {} imported, {} refused",
                report.rows,
                report.imported,
                report.errors.len()
            );
            if !report.errors.is_empty() && mode == ImportMode::AllOrNothing {
                anyhow::bail!("nothing was imported: fix the rows above, or pass --valid-only");
            }
            Ok(())
        }
        Command::Import(ImportCommand::Teams {
            file,
            tenant,
            admin,
            valid_only,
        }) => {
            let store = open_store(&config).await?;
            tenants::load_configured(&store, &config, clock.as_ref()).await?;
            let tenant = TenantCode::parse(&tenant).map_err(|rule| anyhow!(rule.message_en()))?;
            let username =
                zhiyuan_domain::Username::parse(&admin, "--admin").map_err(|e| anyhow!("{e}"))?;
            let (admin, _) = store
                .user_for_login(Some(&tenant), &username)
                .await?
                .with_context(|| format!("tenant {tenant} has no account {admin}"))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = zhiyuan_forms::decode(bytes);
            let base = file.parent().map(PathBuf::from).unwrap_or_default();
            let policies = zhiyuan::policy::open_host(&config)?;
            zhiyuan::policy::activate_all(&store, &policies).await?;
            let state = zhiyuan_api::AppState::new(
                store.clone(),
                clock.clone(),
                zhiyuan_api::ApiConfig::default(),
                Arc::new(policies),
            )
            .map_err(|e| anyhow!(e))?;
            let actor = Actor::system("import teams");
            let report = zhiyuan_api::team_import::import_teams(
                &state, &tenant, &text, &base, admin.id, &actor, valid_only,
            )
            .await
            .map_err(|e| anyhow!("{}", e.problem().message.en))?;
            for error in &report.errors {
                eprintln!("{error}");
            }
            println!(
                "{} rows read, {} imported, {} refused",
                report.rows,
                report.imported,
                report.errors.len()
            );
            if !report.errors.is_empty() && !valid_only {
                anyhow::bail!("nothing was imported: fix the rows above, or pass --valid-only");
            }
            Ok(())
        }
        Command::Export(ExportCommand::RegistrationForm {
            tenant,
            unit,
            format,
            output,
        }) => {
            let store = open_store(&config).await?;
            let tenant = TenantCode::parse(&tenant).map_err(|rule| anyhow!(rule.message_en()))?;
            let summary = store
                .tenant(&tenant)
                .await
                .with_context(|| format!("tenant {tenant}"))?;
            let unit = match unit {
                None => None,
                Some(name) => Some(
                    store
                        .units(&tenant)
                        .await?
                        .into_iter()
                        .find(|candidate| candidate.name.zh == name)
                        .with_context(|| format!("tenant {tenant} has no unit named {name}"))?,
                ),
            };
            let rows = zhiyuan_forms::registration_form(
                &store,
                &tenant,
                unit.as_ref().map(|unit| unit.id),
            )
            .await?;
            let title = format!(
                "{}志愿者注册登记表{}",
                summary.name.zh,
                unit.as_ref()
                    .map(|unit| format!("({})", unit.name.zh))
                    .unwrap_or_default()
            );
            let bytes = match format.as_str() {
                "csv" => zhiyuan_forms::to_csv(&rows)?,
                _ => zhiyuan_forms::to_xlsx(&rows, &title)?,
            };
            std::fs::write(&output, bytes)
                .with_context(|| format!("writing {}", output.display()))?;
            println!("{} volunteers written to {}", rows.len(), output.display());
            Ok(())
        }
        Command::Plugin(command) => plugin_command(&config, command),
        Command::Keys(KeysCommand::Generate) => {
            println!("{}", zhiyuan_store::KeyRing::generate());
            Ok(())
        }
        Command::Migrate => {
            open_store(&config).await?;
            println!("migrated {}", describe_database(&config));
            Ok(())
        }
        Command::Tenant(TenantCommand::Check { file }) => {
            let schemas = Schemas::compile().map_err(|e| anyhow!(e))?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let spec = tenants::parse_tenant_toml(&schemas, &text)
                .with_context(|| format!("in {}", file.display()))?;
            println!(
                "{} {}: {} regions, {} units, {} reviewing bodies",
                spec.code,
                spec.name.zh,
                spec.regions.len(),
                spec.units.len(),
                spec.reviewing_bodies.len()
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::Load { file }) => {
            let store = open_store(&config).await?;
            tenants::load_configured(&store, &config, clock.as_ref()).await?;
            let schemas = Schemas::compile().map_err(|e| anyhow!(e))?;
            let actor = Actor::system("tenant load");
            let created =
                tenants::load_file(&store, &config, &schemas, &file, &actor, clock.as_ref())
                    .await?;
            println!(
                "{}",
                if created {
                    "created"
                } else {
                    "exists already; unchanged"
                }
            );
            Ok(())
        }
        Command::Admin(AdminCommand::CreateUser {
            tenant,
            username,
            role,
            display_name,
            reviewing_body,
        }) => {
            let store = open_store(&config).await?;
            tenants::load_configured(&store, &config, clock.as_ref()).await?;
            let tenant = tenant
                .map(|code| TenantCode::parse(&code).map_err(|rule| anyhow!(rule.message_en())))
                .transpose()?;
            let (password, generated) = read_or_generate_password()?;
            let request = AccountRequest {
                tenant,
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                role,
                reviewing_body,
                password: password.clone(),
            };
            let actor = Actor::system("admin create-user");
            let user = create_account(&store, request, &actor, clock.now())
                .await
                .map_err(|error| {
                    let problem = error.problem();
                    anyhow!(
                        "{} ({}{})",
                        problem.message.en,
                        problem.code,
                        problem
                            .field
                            .map(|f| format!(" at {f}"))
                            .unwrap_or_default()
                    )
                })?;
            println!("created {} ({}) id {}", user.username, user.role, user.id);
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
    }
}

fn plugin_command(config: &NodeConfig, command: PluginCommand) -> anyhow::Result<()> {
    use zhiyuan_federation::multikey::{SigningKey, VerifyingKey};
    let read =
        |path: &PathBuf| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    match command {
        PluginCommand::Keygen { out } => {
            let key = SigningKey::from_seed(rand::random());
            write_private(&out, &format!("{}\n", key.to_multibase()))?;
            println!("{}", key.verifying_key().to_multibase());
            eprintln!(
                "secret key written to {}; add the line above to plugins.trusted_keys",
                out.display()
            );
            Ok(())
        }
        PluginCommand::Sign { key, package } => {
            let secret = String::from_utf8(read(&key)?).context("the key file is not text")?;
            let key = SigningKey::from_multibase(secret.trim())
                .map_err(|e| anyhow!("{}: {e}", key.display()))?;
            let signature = zhiyuan_plugins::sign_package(&key, &read(&package)?);
            let out = signature_path(&package);
            std::fs::write(&out, format!("{signature}\n"))
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{signature}");
            Ok(())
        }
        PluginCommand::Verify {
            signature,
            trusted_keys,
            package,
        } => {
            let keys = if trusted_keys.is_empty() {
                config.plugins.trusted_keys.clone()
            } else {
                trusted_keys
            };
            if keys.is_empty() {
                anyhow::bail!("no trusted keys: give --trusted-key or set plugins.trusted_keys");
            }
            let keys = keys
                .iter()
                .map(|key| VerifyingKey::from_multibase(key).map_err(|e| anyhow!("{key}: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let signature_file = signature.unwrap_or_else(|| signature_path(&package));
            let signature = String::from_utf8(read(&signature_file)?)
                .context("the signature file is not text")?;
            let signer =
                zhiyuan_plugins::verify_package(&read(&package)?, signature.trim(), &keys)?;
            println!("good signature by {signer}");
            Ok(())
        }
        PluginCommand::Inspect { package } => {
            let bytes = read(&package)?;
            let host = zhiyuan_plugins::WasmHost::new(zhiyuan_plugins::HostConfig {
                require_signatures: false,
                ..Default::default()
            })?;
            let manifest = host.admit_bundled(&bytes)?;
            let hooks: Vec<&str> = manifest.hooks.iter().map(|hook| hook.as_str()).collect();
            println!("sha256       {}", manifest.sha256);
            println!("size         {} bytes", bytes.len());
            println!("wit version  zhiyuan:policy@{}", manifest.wit_version);
            println!("hooks        {}", hooks.join(", "));
            println!("conformance  passed");
            Ok(())
        }
    }
}

fn signature_path(package: &std::path::Path) -> PathBuf {
    let mut name = package.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// Writes a secret readable by its owner only.
fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {} (it must not exist)", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

async fn serve(config: &NodeConfig, clock: Arc<dyn Clock>, demo: bool) -> anyhow::Result<()> {
    let mut config = config.clone();
    if demo {
        // The demo takes unsigned plugins, so that a first look needs no operator key.
        config.plugins.require_signatures = false;
    }
    let config = &config;
    let node = Node::start(config, clock.clone()).await?;
    if demo {
        let accounts = demo::seed(&node.store, clock.as_ref()).await?;
        let people = demo::seed_people(&node.store, clock.as_ref()).await?;
        println!("{}", demo::credentials_table(&accounts));
        if people > 0 {
            println!("Demo volunteers registered in 随州市: {people}, most of them verified.\n");
        }
    }
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    println!(
        "zhiyuan listening on {scheme}://{} ({})",
        node.local_addr,
        describe_database(config)
    );
    node.run_until_signal().await
}

/// The database in words, without a password that a URL may carry.
fn describe_database(config: &NodeConfig) -> String {
    match &config.database_url {
        None => format!("SQLite in {}", config.data_dir.display()),
        Some(url) => {
            let host = url.rsplit('@').next().unwrap_or(url);
            format!("PostgreSQL at {}", host.trim_start_matches("postgres://"))
        }
    }
}

/// A progress bar on a terminal; nothing when the output goes elsewhere.
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  {eta}")
    {
        bar.set_style(style);
    }
    bar
}

fn read_or_generate_password() -> anyhow::Result<(String, bool)> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let password: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(20)
            .map(char::from)
            .collect();
        return Ok((password, true));
    }
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    Ok((password.trim_end_matches(['\n', '\r']).to_owned(), false))
}

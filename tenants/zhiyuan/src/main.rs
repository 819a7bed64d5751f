use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};
use rand::Rng;
use rand::distributions::Alphanumeric;
use tracing_subscriber::EnvFilter;
use zhiyuan::{Node, NodeConfig, Overrides, SystemClock, demo, open_app, open_store, tenants};
use zhiyuan_api::Schemas;
use zhiyuan_app::accounts::{AccountRequest, GrantRequest};
use zhiyuan_app::imports::ImportMode;
use zhiyuan_domain::{Actor, Clock, GrantKind, Scope, TenantCode};

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
        /// Seed demo accounts of every kind of grant and print their credentials.
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
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Audit a tenant's transparency log at URL (`https://<node>/log/<code>`): the tenant's DID
    /// document (and its operator's proof, with --operator-key), the checkpoint's signature, its
    /// consistency with the checkpoint kept in --state from the last audit (which it then
    /// replaces), and the tree's root rebuilt from every tile. Exits non-zero on any failure.
    Log {
        url: String,
        /// A key (Multikey) of the node's operator, as the auditor obtained it.
        #[arg(long = "operator-key")]
        operator_keys: Vec<String>,
        /// Where the last audited checkpoint is kept.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Verify every credential in FILE offline, against the DID documents of their issuers:
    /// the proof, the key, and the key's validity when the credential was signed. FILE holds
    /// one credential, a list, or a node's answer listing them; where it also holds the log's
    /// checkpoint and a proof for each credential (as a volunteer's download does), each of
    /// that tenant's credentials must also be in the log. With --operator, each issuer's DID
    /// document must carry a proof by one of those operators. Exits non-zero when any
    /// credential is refused.
    Verify {
        file: PathBuf,
        /// A tenant's DID document (`/tenants/<code>/did.json`), as many as there are issuers.
        #[arg(long = "did", required = true)]
        dids: Vec<PathBuf>,
        /// An operator's DID document (`/.well-known/did.json`) the auditor trusts.
        #[arg(long = "operator")]
        operators: Vec<PathBuf>,
        /// A checkpoint of the tenant's log (a signed note) the auditor kept, in place of the
        /// one FILE holds: the proofs must be for its size.
        #[arg(long, conflicts_with = "log")]
        checkpoint: Option<PathBuf>,
        /// A tenant's log (`https://<node>/log/<code>`): its credentials must also be in it, at
        /// its current checkpoint, by proofs fetched from it.
        #[arg(long)]
        log: Option<String>,
    },
    /// Walk each tenant's audit trail (or one tenant's) from its first event and name the first
    /// event that was changed, removed or moved. Exits non-zero when a trail is broken.
    Check {
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Create an operator signing key in FILE (readable by its owner only) and print its public
    /// Multikey, for the `plugins.trusted_keys` of the nodes that should accept its signatures.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a plugin package: writes PACKAGE.sig and prints the signature. Signed with the key
    /// in --key, or else with the node operator's signing key (the one its DID document
    /// publishes and its nodes trust without configuration).
    Sign {
        #[arg(long)]
        key: Option<PathBuf>,
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
    /// Show each tenant's keys by their check values and public halves (never the keys), and
    /// whether the data key is the one the tenant's records were sealed with: the check after
    /// restoring keys from a backup.
    Show {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Replace a tenant's data key: reseal its identity numbers under a new key file, keeping
    /// the old file as retired. Stop the tenant's nodes first; copy the new key file to every
    /// node that shares the database, and back it up.
    RotateData {
        #[arg(long)]
        tenant: String,
    },
    /// Add a version of a tenant's signing key (or, with --operator, of the operator's); older
    /// versions stay to verify what they signed. The node signs with the new version from its
    /// next start, which closes the old version's window in the DID document.
    #[command(alias = "rotate-signing")]
    Rotate {
        #[arg(
            long,
            required_unless_present = "operator",
            conflicts_with = "operator"
        )]
        tenant: Option<String>,
        #[arg(long)]
        operator: bool,
    },
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
    /// Create an account with its grants, e.g. the first office admin of a tenant. The password
    /// is read from standard input when it is not a terminal, and generated and printed
    /// otherwise.
    CreateAccount {
        /// Tenant code; leave out for an account of the node (an operator).
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        username: String,
        /// A grant: its kind (operator, auditor, office_admin, reviewer, team_admin, ...), and
        /// for a kind scoped to one thing, `=` and the scope (reviewer=reviewing_body:<id>).
        /// Repeat for several.
        #[arg(long = "grant", value_parser = parse_grant)]
        grants: Vec<GrantRequest>,
        #[arg(long)]
        display_name: Option<String>,
    },
}

fn parse_grant(value: &str) -> Result<GrantRequest, String> {
    let (kind, scope) = match value.split_once('=') {
        Some((kind, scope)) => (kind, Some(scope)),
        None => (value, None),
    };
    let kind = GrantKind::from_db(kind).ok_or_else(|| {
        let kinds: Vec<_> = GrantKind::ALL.iter().map(|kind| kind.as_str()).collect();
        format!("a grant kind is one of {}", kinds.join(", "))
    })?;
    let scope = scope
        .map(|scope| {
            Scope::parse(scope).ok_or_else(|| {
                "a scope is node, tenant, reviewing_body:<id>, team:<id> or project:<id>".to_owned()
            })
        })
        .transpose()?;
    Ok(GrantRequest { kind, scope })
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
            let app = command_app(&config, clock).await?;
            let tenant = parse_tenant(&tenant)?;
            app.store
                .tenant(&tenant)
                .await
                .with_context(|| format!("tenant {tenant}"))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = zhiyuan_forms::decode(bytes);
            let mode = import_mode(valid_only);
            let bar = progress_bar(text.matches('\n').count().saturating_sub(1) as u64);
            let mut progress = |read: u64, _imported: u64| bar.set_position(read);
            let source = file.display().to_string();
            let actor = Actor::system("import volunteers");
            let report = zhiyuan_app::imports::import_volunteers(
                &app,
                &tenant,
                text,
                mode,
                &actor,
                &source,
                &mut progress,
            )
            .await
            .map_err(described)?;
            bar.finish_and_clear();
            finish_import(&report, mode)
        }
        Command::Import(ImportCommand::Teams {
            file,
            tenant,
            admin,
            valid_only,
        }) => {
            let app = command_app(&config, clock).await?;
            let tenant = parse_tenant(&tenant)?;
            let username =
                zhiyuan_domain::Username::parse(&admin, "--admin").map_err(|e| anyhow!("{e}"))?;
            let (admin, _) = app
                .store
                .account_for_sign_in(Some(&tenant), &username)
                .await?
                .with_context(|| format!("tenant {tenant} has no account {admin}"))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let text = zhiyuan_forms::decode(bytes);
            let folder = file
                .parent()
                .map(PathBuf::from)
                .filter(|folder| !folder.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from("."));
            let actor = Actor::system("import teams");
            let mode = import_mode(valid_only);
            let report = zhiyuan_app::imports::import_teams(
                &app, &tenant, &text, &folder, admin.id, &actor, mode,
            )
            .await
            .map_err(described)?;
            finish_import(&report, mode)
        }
        Command::Export(ExportCommand::RegistrationForm {
            tenant,
            unit,
            format,
            output,
        }) => {
            let (app, _) = open_app(&config, open_store(&config).await?, clock).await?;
            let store = &app.store;
            let tenant = parse_tenant(&tenant)?;
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
            let rows = zhiyuan_app::imports::registration_form(
                &app,
                &tenant,
                unit.as_ref().map(|unit| unit.id),
            )
            .await
            .map_err(described)?;
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
            println!("{}", zhiyuan_keys::Secret::generate().to_base64());
            Ok(())
        }
        Command::Keys(KeysCommand::Show { tenant }) => {
            let ring = config.key_ring()?;
            let store = open_store(&config).await?;
            let tenants = match tenant {
                Some(code) => vec![parse_tenant(&code)?],
                None => store.tenants().await?.into_iter().map(|t| t.code).collect(),
            };
            for tenant in tenants {
                let keys = ring.data_keys(tenant.as_str())?;
                let source = if config.data_keys.contains_key(tenant.as_str()) {
                    "configuration".to_owned()
                } else {
                    config
                        .data_dir
                        .join("keys")
                        .join(format!("{tenant}.key"))
                        .display()
                        .to_string()
                };
                println!(
                    "{tenant}: data key {} ({source}), matches its records",
                    keys.check_value()
                );
                for signing in ring.signing_secrets(tenant.as_str())? {
                    let key = zhiyuan_federation::SigningKey::from_secret(&signing.secret);
                    println!(
                        "{tenant}: signing key version {} {}",
                        signing.version,
                        key.verifying_key().to_multibase()
                    );
                }
            }
            // The operator's keys, which peers and auditors pin.
            for signing in ring.signing_secrets(zhiyuan_store::NODE_REALM)? {
                let key = zhiyuan_federation::SigningKey::from_secret(&signing.secret);
                println!(
                    "node (operator): signing key version {} {}",
                    signing.version,
                    key.verifying_key().to_multibase()
                );
            }
            Ok(())
        }
        Command::Keys(KeysCommand::RotateData { tenant }) => {
            let tenant = parse_tenant(&tenant)?;
            let store = open_store(&config).await?;
            let rotation = store
                .rotate_data_key(&tenant, &Actor::system("keys rotate-data"), clock.now())
                .await?;
            println!(
                "{tenant}: data key {} replaced by {}; {} identity numbers resealed",
                rotation.old_check, rotation.new_check, rotation.resealed
            );
            println!(
                "back up {} now, and copy it to every node that shares this database",
                config
                    .data_dir
                    .join("keys")
                    .join(format!("{tenant}.key"))
                    .display()
            );
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { tenant, .. }) => {
            let signer = match tenant {
                Some(tenant) => zhiyuan_domain::ports::Signer::Tenant(parse_tenant(&tenant)?),
                None => zhiyuan_domain::ports::Signer::Operator,
            };
            let signing = config.key_ring()?.rotate_signing_secret(signer.realm())?;
            let key = zhiyuan_federation::SigningKey::from_secret(&signing.secret);
            println!(
                "{}: signing key version {} {}; restart the node to sign with it",
                signer.realm(),
                signing.version,
                key.verifying_key().to_multibase()
            );
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
            tenants::load_configured(&store, &config, clock.clone()).await?;
            let schemas = Schemas::compile().map_err(|e| anyhow!(e))?;
            let actor = Actor::system("tenant load");
            let created =
                tenants::load_file(&store, &config, &schemas, &file, &actor, clock).await?;
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
        Command::Admin(AdminCommand::CreateAccount {
            tenant,
            username,
            grants,
            display_name,
        }) => {
            let app = command_app(&config, clock).await?;
            let tenant = tenant.as_deref().map(parse_tenant).transpose()?;
            let (password, generated) = read_or_generate_password()?;
            let request = AccountRequest {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                password: password.clone(),
                grants,
            };
            let actor = Actor::system("admin create-account");
            let account =
                zhiyuan_app::accounts::create_account(&app, tenant.as_ref(), request, &actor)
                    .await
                    .map_err(described)?;
            let grants: Vec<String> = account
                .grants
                .iter()
                .map(|grant| format!("{}={}", grant.kind, grant.scope.to_text()))
                .collect();
            println!(
                "created {} ({}) id {}",
                account.username,
                grants.join(", "),
                account.id
            );
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Log {
            url,
            operator_keys,
            state,
        }) => {
            let audit = zhiyuan::audit::audit_log(&url, &operator_keys, state.as_deref()).await?;
            println!(
                "{}: {} entries, root {}, signed by the tenant's key",
                audit.origin, audit.size, audit.root
            );
            if let Some(kept) = audit.extends {
                println!("extends the checkpoint of {kept} entries kept from the last audit");
            }
            println!(
                "the tree rebuilt from {} tiles has the checkpoint's root",
                audit.tiles
            );
            Ok(())
        }
        Command::Audit(AuditCommand::Verify {
            file,
            dids,
            operators,
            checkpoint,
            log,
        }) => {
            let issuers = zhiyuan::audit::read_issuers(&dids, &operators)?;
            let mut bundle = zhiyuan::audit::read_bundle(&file, checkpoint.as_deref())?;
            if let Some(log) = log {
                let size = zhiyuan::audit::fetch_log_evidence(&mut bundle, &log).await?;
                println!("checked against the log {log} at {size} entries");
            }
            let findings = zhiyuan::audit::verify_bundle(&bundle, &issuers)?;
            for finding in &findings {
                match (&finding.result, finding.logged_in) {
                    (Ok(verified), Some(size)) => println!(
                        "verified {} (issued by {}, in its log of {size} entries)",
                        finding.id, verified.issuer
                    ),
                    (Ok(verified), None) => {
                        println!("verified {} (issued by {})", finding.id, verified.issuer)
                    }
                    (Err(error), _) => println!("REFUSED {}: {error}", finding.id),
                }
            }
            let refused = findings
                .iter()
                .filter(|finding| finding.result.is_err())
                .count();
            println!(
                "{} credentials: {} verified, {refused} refused",
                findings.len(),
                findings.len() - refused,
            );
            if refused > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Check { tenant }) => {
            let store = open_store(&config).await?;
            let tenant = tenant.as_deref().map(parse_tenant).transpose()?;
            let reports = store.check_audit_trails(tenant.as_ref()).await?;
            let mut broken = 0;
            for report in &reports {
                match &report.first_break {
                    None => println!("{}: {} events, chain intact", report.trail, report.events),
                    Some(found) => {
                        broken += 1;
                        let problem = match found.problem {
                            zhiyuan_store::ChainProblem::Changed => "changed or moved",
                            zhiyuan_store::ChainProblem::Removed => "missing (removed)",
                            zhiyuan_store::ChainProblem::HeadChanged => {
                                "the last; the trail's head no longer names it (head changed or removed)"
                            }
                        };
                        println!(
                            "{}: chain broken at event {}{}: {problem}",
                            report.trail,
                            found.seq,
                            found.id.map(|id| format!(" ({id})")).unwrap_or_default()
                        );
                    }
                }
            }
            if broken > 0 {
                anyhow::bail!("{broken} audit trail(s) broken");
            }
            Ok(())
        }
    }
}

/// The use cases for a command: the database opened, the configured tenants there, each
/// tenant's policy in force.
async fn command_app(
    config: &NodeConfig,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<zhiyuan_app::App> {
    let store = open_store(config).await?;
    tenants::load_configured(&store, config, clock.clone()).await?;
    Ok(open_app(config, store, clock).await?.0)
}

fn parse_tenant(code: &str) -> anyhow::Result<TenantCode> {
    TenantCode::parse(code).map_err(|rule| anyhow!("tenant {code}: {}", rule.message_en()))
}

/// A refusal of a use case, as the command line says it: the message, the code, the field.
fn described(error: zhiyuan_app::AppError) -> anyhow::Error {
    let problem = zhiyuan_api::ApiError::from(error).problem();
    anyhow!(
        "{} ({}{})",
        problem.message.en,
        problem.code,
        problem
            .field
            .map(|field| format!(" at {field}"))
            .unwrap_or_default()
    )
}

fn import_mode(valid_only: bool) -> ImportMode {
    if valid_only {
        ImportMode::ValidRowsOnly
    } else {
        ImportMode::AllOrNothing
    }
}

/// Reports an import's rows: the first hundred errors, then the totals.
fn finish_import(
    report: &zhiyuan_app::imports::ImportReport,
    mode: ImportMode,
) -> anyhow::Result<()> {
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
            let key = match key {
                Some(key) => {
                    let secret =
                        String::from_utf8(read(&key)?).context("the key file is not text")?;
                    SigningKey::from_multibase(secret.trim())
                        .map_err(|e| anyhow!("{}: {e}", key.display()))?
                }
                None => SigningKey::from_secret(
                    &config
                        .key_ring()?
                        .signing_secret(zhiyuan_store::NODE_REALM)?
                        .secret,
                ),
            };
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
            // As the node trusts them: its configured keys and its operator's, unless told.
            let keys = if trusted_keys.is_empty() {
                let mut keys = config.plugins.trusted_keys.clone();
                for version in config
                    .key_ring()?
                    .signing_secrets(zhiyuan_store::NODE_REALM)?
                {
                    keys.push(
                        SigningKey::from_secret(&version.secret)
                            .verifying_key()
                            .to_multibase(),
                    );
                }
                keys
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
        let accounts = demo::seed(&node.app).await?;
        let people = demo::seed_people(&node.app).await?;
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
    if let Some(address) = node.metrics_addr {
        println!("zhiyuan metrics on http://{address}/metrics");
    }
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

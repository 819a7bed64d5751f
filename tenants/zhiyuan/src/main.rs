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
                tenants::load_file(&store, &schemas, &file, &actor, clock.as_ref()).await?;
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

async fn serve(config: &NodeConfig, clock: Arc<dyn Clock>, demo: bool) -> anyhow::Result<()> {
    let node = Node::start(config, clock.clone()).await?;
    if demo {
        let accounts = demo::seed(&node.store, clock.as_ref()).await?;
        println!("{}", demo::credentials_table(&accounts));
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

//! The `leash` command line: `serve`, `migrate`, `keys create|list|revoke`, `keys
//! rotate-encryption`, `audit verify`, `providers list`. Flags and what they configure are in [`flags`], the
//! configuration file in [`config_file`]; `serve`'s wiring in [`serve`]. Logs go to
//! stderr so stdout carries only what scripts read.

mod config_file;
mod flags;
pub mod instance_lock;
mod serve;

use std::sync::Arc;

use chrono::TimeDelta;

use crate::clock::{Clock as _, SystemClock};
use crate::domain::actor::Actor;
use crate::domain::id::ApiKeyId;
use crate::domain::provider::Provider;
use crate::store::{Db, StoreError};
use crate::usecase::{self, App, UsecaseError};
pub use config_file::parse_from;
pub use flags::{AuditCommand, Cli, Command, KeysCommand, ProvidersCommand, RoleArg};
use instance_lock::InstanceLock;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Usecase(#[from] UsecaseError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error(transparent)]
    CommandLine(clap::Error),
    #[error(transparent)]
    SecretBox(#[from] crate::secret_box::SecretBoxError),
    #[error(transparent)]
    AuditChain(#[from] usecase::audit::VerifyError),
    #[error(transparent)]
    InstanceLock(#[from] instance_lock::InstanceLockError),
    #[error("admin key file {path}: {source} (remove it, or choose another --admin-key-file)")]
    AdminKeyFile {
        path: String,
        source: std::io::Error,
    },
}

/// The database migrated and the use cases' context, as the flags configure them,
/// with an encryption key set that holds every key the database may need.
async fn open(cli: &Cli) -> Result<App, CliError> {
    let settings = cli.settings()?;
    let db = Db::connect(&cli.database_url).await?;
    db.migrate().await?;
    let app = App::new(db, Arc::new(SystemClock), settings);
    usecase::rotate_encryption::adopt(&app).await?;
    Ok(app)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Migrate => {
            open(&cli).await?;
            tracing::info!("migrations applied");
        }
        Command::Keys(KeysCommand::Create {
            role,
            expires_in_days,
        }) => {
            let app = open(&cli).await?;
            let expires_at = expires_in_days.map(|days| SystemClock.now() + TimeDelta::days(days));
            let (key, secret) = usecase::create_api_key::create_api_key(
                &app,
                &Actor::operator(),
                (*role).into(),
                expires_at,
            )
            .await?;
            tracing::info!(key_id = %key.id, role = key.role.as_str(), "API key created");
            println!("{}", secret.expose());
        }
        Command::Keys(KeysCommand::List) => {
            let app = open(&cli).await?;
            list_keys(&app).await?;
        }
        Command::Keys(KeysCommand::Revoke { id }) => {
            // On SQLite a running server caches verified keys and hears nothing from
            // this process: revoke through its API instead.
            let _one_instance = InstanceLock::acquire(&cli.database_url)?;
            let app = open(&cli).await?;
            let id = ApiKeyId::parse(id)
                .ok_or_else(|| CliError::Config(format!("{id:?} is not an API key id")))?;
            let key =
                usecase::revoke_api_key::revoke_api_key(&app, &Actor::operator(), &id).await?;
            println!("revoked {}", key.id);
        }
        Command::Keys(KeysCommand::RotateEncryption { batch }) => {
            let app = open(&cli).await?;
            let rotated = usecase::rotate_encryption::rotate(&app, *batch, |column, resealed| {
                tracing::info!(column = column.describe(), resealed, "re-sealing");
                std::ops::ControlFlow::Continue(())
            })
            .await?
            .ok_or_else(|| CliError::Config("the rotation was stopped".to_owned()))?;
            let retired: Vec<String> = rotated.retired.iter().map(ToString::to_string).collect();
            println!(
                "re-sealed {} value(s) with key {}; no longer used: {}",
                rotated.resealed,
                app.settings.encryption_keys.current_id(),
                if retired.is_empty() {
                    "none".to_owned()
                } else {
                    retired.join(", ")
                }
            );
        }
        Command::Audit(AuditCommand::Verify) => {
            let db = Db::connect(&cli.database_url).await?;
            db.migrate().await?;
            let verified = usecase::audit::verify(&db).await?;
            println!(
                "audit chain intact: {} entries sealed, {} waiting to be sealed",
                verified.sealed, verified.unsealed
            );
        }
        Command::Providers(ProvidersCommand::List) => {
            list_providers(
                &cli.providers,
                &flags::redirect_uri(&flags::public_url(&cli.public_url)?),
            );
        }
        Command::Serve => serve::serve(&cli).await?,
    }
    Ok(())
}

/// Prints every configured provider, one per line, with the redirect URI to register at
/// it; never its client secret.
fn list_providers(providers: &[Provider], redirect_uri: &str) {
    println!(
        "id\tauthorization_url\ttoken_url\trevocation_url\tissuer\tclient_id\tscopes\tpkce\ttoken_auth_method\tprivate_network\textra_ca\tredirect_uri"
    );
    for p in providers {
        let or_dash = |value: Option<&str>| value.unwrap_or("-").to_owned();
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{redirect_uri}",
            p.id,
            p.authorization_url,
            p.token_url,
            or_dash(p.revocation_url.as_ref().map(url::Url::as_str)),
            or_dash(p.issuer.as_deref()),
            p.client_id,
            p.scopes.join(&p.scope_separator),
            p.pkce.as_str(),
            p.token_auth_method.as_str(),
            p.allow_private_network,
            p.extra_roots_pem.is_some(),
        );
    }
}

/// Prints every key, one per line, newest first.
async fn list_keys(app: &App) -> Result<(), CliError> {
    let now = app.clock.now();
    let mut cursor: Option<String> = None;
    println!("id\trole\tstatus\tcreated\tlast_used\texpires");
    loop {
        let page = usecase::api_keys::list(app, cursor.as_deref(), Some(200)).await?;
        for key in &page.items {
            let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339())
            };
            println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                key.id,
                key.role.as_str(),
                key.status(now).as_str(),
                key.created_at.to_rfc3339(),
                when(key.last_used_at),
                when(key.expires_at),
            );
        }
        match page.next {
            Some(next) => cursor = Some(next.encode()),
            None => return Ok(()),
        }
    }
}

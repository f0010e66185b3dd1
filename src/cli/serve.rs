//! `leash serve`: one instance per SQLite file, migrations, the first admin key, the
//! background workers and the HTTP server, stopped in order on SIGTERM or Ctrl-C.

use std::path::Path;

use tokio::sync::watch;

use super::instance_lock::InstanceLock;
use super::{Cli, CliError};
use crate::http::{self, AppState};
use crate::usecase::{self, App};
use crate::workers;

pub(super) async fn serve(cli: &Cli) -> Result<(), CliError> {
    let _one_instance = InstanceLock::acquire(&cli.database_url)?;
    let app = super::open(cli).await?;
    write_first_admin_key(&app, &cli.admin_key_file).await?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let tasks = [
        tokio::spawn(workers::invalidation_listener::run(
            app.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(workers::last_use_writer::run(
            app.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(workers::audit_sealer::run(app.clone(), shutdown_rx.clone())),
        tokio::spawn(workers::webhook_delivery::run(
            app.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(workers::upstream_revocation::run(
            app.clone(),
            shutdown_rx.clone(),
        )),
        tokio::spawn(workers::ssf_poll::run(app.clone(), shutdown_rx.clone())),
        tokio::spawn(workers::event_retention::run(app.clone(), shutdown_rx)),
    ];
    let tcp = tokio::net::TcpListener::bind(cli.listen).await?;
    tracing::info!(listen = %tcp.local_addr()?, backend = ?app.db.backend(), "leash is serving");
    let router = http::router(AppState::new(app.clone()));
    let stop = shutdown_signal();
    axum::serve(
        tcp,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        stop.await;
        tracing::info!("shutting down: draining requests");
    })
    .await?;
    // Workers stop after the last request, so the final last-use flush and audit seal
    // cover it.
    let _ = shutdown_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    app.db.close().await;
    Ok(())
}

/// On a first start (no API key exists), creates an admin key and writes its secret to
/// `path`, readable by its owner only. Stdout is usually a log stream that others read,
/// so the secret never goes there; only the path does.
async fn write_first_admin_key(app: &App, path: &Path) -> Result<(), CliError> {
    let file_error = |source| CliError::AdminKeyFile {
        path: path.display().to_string(),
        source,
    };
    if usecase::api_keys::any_exists(app).await? {
        return Ok(());
    }
    // The file first: if it cannot be written, no key is created that nobody can read.
    let mut file = crate::private_file::open_new(path).map_err(file_error)?;
    let Some((key, secret)) = usecase::create_api_key::create_first_admin_key(app).await? else {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Ok(());
    };
    std::io::Write::write_all(&mut file, format!("{}\n", secret.expose()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(file_error)?;
    println!(
        "No API key existed, so an admin key was created ({}). Its secret is in {} \
         (readable by this user only): read it, then delete the file.",
        key.id,
        path.display()
    );
    Ok(())
}

/// Listens for SIGTERM and Ctrl-C from the moment it is called, and resolves when one
/// arrives. Called before the server starts: a listener set up on the future's first
/// poll left a window, as the server began answering, in which SIGTERM still killed the
/// process outright.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listening = signal(SignalKind::terminate())
            .and_then(|term| Ok((term, signal(SignalKind::interrupt())?)));
        async move {
            match listening {
                Ok((mut term, mut interrupt)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C still works");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

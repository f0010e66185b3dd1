use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = match leash::cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(leash::cli::CliError::CommandLine(error)) => error.exit(),
        Err(error) => {
            eprintln!("error: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match leash::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "leash failed");
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

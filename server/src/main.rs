use std::process::ExitCode;

use server::{
    config::{Cli, Command, ServeArgs},
    startup::{Application, Settings, shutdown_signal},
    telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::from_env();
    if let Err(message) = telemetry::init(cli.global.log_format, &cli.global.log_level) {
        eprintln!("keyport: {message}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Some(Command::Serve(args)) => serve(cli.global.database_url, args).await,
        Some(Command::Migrate) => migrate(&cli.global.database_url).await,
        None => Err("no command given".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("keyport: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(database_url: String, args: ServeArgs) -> Result<(), String> {
    let settings = Settings {
        database_url,
        addr: args.addr,
        issuer: args.issuer,
        site_root: args.site_root,
    };
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(addr = %app.local_addr(), issuer = app.issuer(), "keyport listening");
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let db = app::store::Database::connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    tracing::info!(engine = db.engine().as_str(), "migrations applied");
    db.close().await;
    Ok(())
}

use std::{io::Read, process::ExitCode};

use server::{
    config::{
        BackupArgs, Cli, ClientCommand, ClientCreateArgs, Command, KeysCommand, KeysRewrapArgs,
        KeysRotateArgs, KeysWithdrawArgs, ServeArgs, SigningAlg, UserCommand, UserCreateArgs,
    },
    http::{assets::PortalAssets, client_address::TrustedProxies},
    master_key::{self, open_database},
    startup::{Application, Settings, shutdown_signal},
    telemetry,
};

/// See the workspace Cargo.toml: glibc's allocator was the portal's bottleneck under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        Some(Command::User(UserCommand::Create(args))) => {
            create_user(&cli.global.database_url, args).await
        }
        Some(Command::Client(ClientCommand::Create(args))) => {
            create_client(&cli.global.database_url, args).await
        }
        Some(Command::Keys(KeysCommand::Rotate(args))) => {
            rotate_keys(&cli.global.database_url, args).await
        }
        Some(Command::Backup(args)) => backup(&cli.global.database_url, args).await,
        Some(Command::Keys(KeysCommand::Rewrap(args))) => {
            rewrap_keys(&cli.global.database_url, args).await
        }
        Some(Command::Keys(KeysCommand::Withdraw(args))) => {
            withdraw_key(&cli.global.database_url, args).await
        }
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
    let master_key = args.master_key.source(&database_url)?;
    let assets = match &args.site_root {
        Some(dir) => PortalAssets::from_dir(dir),
        None => PortalAssets::built_in(),
    }
    .map_err(|e| e.to_string())?;
    let settings = Settings {
        database_url,
        addr: args.addr,
        metrics_addr: args.metrics_addr,
        public_url: args.public_url_or_older_name()?,
        assets,
        secret_hash_key: args.secret_hash_key,
        master_key,
        signing_alg: args.signing_alg.map(SigningAlg::alg),
        change_poll_interval: app::services::oauth::POLL_INTERVAL,
        trusted_proxies: TrustedProxies::new(args.trusted_proxies, args.forwarded_header),
        clock: std::sync::Arc::new(app::services::oauth::SystemClock),
        refresh_lifetimes: app::services::oauth::RefreshLifetimes {
            idle_secs: i64::from(args.refresh_idle_days) * 86_400,
            absolute_secs: i64::from(args.refresh_absolute_days) * 86_400,
        },
        key_rotation: app::services::key_rotation::AutoRotation {
            policy: app::domain::key_rotation::RotationPolicy::every_days(args.key_rotation_days),
            ..Default::default()
        },
    };
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        addr = %app.local_addr(),
        public_url = app.public_url(),
        metrics_addr = app.metrics_addr().map(tracing::field::display),
        "keyport listening"
    );
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn rotate_keys(database_url: &str, args: KeysRotateArgs) -> Result<(), String> {
    let (db, master) = open_database(database_url, &args.master_key.source(database_url)?)
        .await
        .map_err(|e| e.to_string())?;
    let rotated = app::services::keys::rotate_keys(
        &db,
        &master,
        args.signing_alg.map(SigningAlg::alg),
        args.lead_secs,
        app::store::unix_now(),
    )
    .await;
    db.close().await;
    let rotated = rotated.map_err(one_line)?;
    println!(
        "{}",
        serde_json::json!({
            "kid": rotated.new_kid,
            "alg": rotated.alg.as_str(),
            "signs_from": rotated.signs_from,
            "retired": rotated.retired,
        })
    );
    Ok(())
}

/// Needs no master key: it opens no key, it only stops publishing one.
async fn withdraw_key(database_url: &str, args: KeysWithdrawArgs) -> Result<(), String> {
    let db = connect_migrated(database_url).await?;
    let withdrawn = app::services::keys::withdraw_key(&db, &args.kid, app::store::unix_now()).await;
    db.close().await;
    let withdrawn = withdrawn.map_err(one_line)?;
    println!(
        "{}",
        serde_json::json!({ "kid": withdrawn.kid, "was_published": withdrawn.was_published })
    );
    Ok(())
}

async fn backup(database_url: &str, args: BackupArgs) -> Result<(), String> {
    let done = app::services::backup::backup_sqlite(database_url, &args.to)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        serde_json::json!({ "to": done.to.display().to_string(), "bytes": done.bytes })
    );
    eprintln!(
        "keyport: note: the copy does not hold the master key (KEYPORT_MASTER_KEY_FILE, \
         by default keyport.master-key beside the database) nor a KEYPORT_SECRET_HASH_KEY \
         you set: back them up too, stored apart; a restore needs them"
    );
    Ok(())
}

/// Seals every stored key under the key in --new-master-key-file (made there when missing),
/// and says on standard error what the operator must do next.
async fn rewrap_keys(database_url: &str, args: KeysRewrapArgs) -> Result<(), String> {
    let (db, current) = open_database(database_url, &args.master_key.source(database_url)?)
        .await
        .map_err(|e| e.to_string())?;
    let path = &args.new_master_key_file;
    let (new, created) = match master_key::read_or_create(path) {
        Ok(made) => made,
        Err(e) => {
            db.close().await;
            return Err(e.to_string());
        }
    };
    let done = app::services::sealing::rewrap(&db, &current, &new, app::store::unix_now()).await;
    db.close().await;
    let done = done.map_err(|e| {
        if created {
            // Nothing was sealed under it: leave no key file that looks like it matters.
            let _ = std::fs::remove_file(path);
        }
        one_line(e)
    })?;
    println!(
        "{}",
        serde_json::json!({
            "values": done.values,
            "master_key_id": done.to,
            "previous_master_key_id": done.from,
        })
    );
    eprintln!(
        "keyport: the stored keys are now sealed under master key {} in {}: start every \
         instance with KEYPORT_MASTER_KEY_FILE={} (master key {} no longer opens them; keep it \
         while you keep backups made before now)",
        done.to,
        path.display(),
        path.display(),
        done.from
    );
    Ok(())
}

/// The database, its schema brought up to date; for the commands that need no master key.
async fn connect_migrated(database_url: &str) -> Result<app::store::Database, String> {
    let db = app::store::Database::connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    Ok(db)
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let db = connect_migrated(database_url).await?;
    tracing::info!(engine = db.engine().as_str(), "migrations applied");
    db.close().await;
    Ok(())
}

async fn create_user(database_url: &str, args: UserCreateArgs) -> Result<(), String> {
    let password = read_password()?;
    let db = connect_migrated(database_url).await?;
    let created = app::services::accounts::create_user(
        &db,
        &args.email,
        args.name.as_deref(),
        &password,
        args.tenant.as_deref(),
        args.admin,
        app::store::unix_now(),
    )
    .await;
    db.close().await;
    let created = created.map_err(one_line)?;
    println!(
        "{}",
        serde_json::json!({ "user_id": created.user_id, "tenant_id": created.tenant_id })
    );
    Ok(())
}

/// The password is the first line of standard input, so it never appears in the process list
/// or shell history.
fn read_password() -> Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = input.lines().next().unwrap_or_default().to_string();
    if password.is_empty() {
        return Err(
            "give the password on standard input, e.g. `echo \"$PW\" | keyport user create …`"
                .into(),
        );
    }
    Ok(password)
}

/// A service error as the one line a command prints.
fn one_line(error: app::services::ServiceError) -> String {
    match error {
        app::services::ServiceError::Invalid(f) | app::services::ServiceError::Conflict(f) => {
            format!("{}: {}", f.field, f.message)
        }
        other => other.to_string(),
    }
}

async fn create_client(database_url: &str, args: ClientCreateArgs) -> Result<(), String> {
    use app::services::{accounts, apps, keys};
    let (db, master) = open_database(database_url, &args.master_key.source(database_url)?)
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        let hasher = keys::secret_hasher(&db, &master, args.secret_hash_key.as_deref()).await?;
        let now = app::store::unix_now();
        let tenant_id = if args.create_tenant {
            accounts::find_or_create_tenant(&db, &args.tenant, now).await?
        } else {
            accounts::find_tenant(&db, &args.tenant).await?
        };
        let draft = apps::AppDraft {
            tool: args.tool,
            scopes: args.scopes,
            roles: args.roles,
            callback_url: args.callback_url,
            ..apps::AppDraft::new(args.name)
        };
        let created = apps::create_app_for_tenant(&db, &hasher, &tenant_id, draft, now).await?;
        Ok::<_, app::services::ServiceError>((tenant_id, created))
    }
    .await;
    db.close().await;
    let (tenant_id, created) = result.map_err(one_line)?;
    let secret = created
        .first_secret
        .map(|s| s.plaintext)
        .unwrap_or_default();
    println!(
        "{}",
        serde_json::json!({
            "tenant_id": tenant_id,
            "client_id": created.app.client_id,
            "client_secret": secret,
        })
    );
    Ok(())
}

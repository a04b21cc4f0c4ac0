use clap::Parser;
use emedia_server::auth::Keys;
use emedia_server::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    if let Some(Command::Token(t)) = cli.command {
        let now = emedia_server::hub::now_ms() / 1000;
        println!(
            "{}",
            Keys::new(&t.app_id, t.app_secret.as_bytes()).mint_user_token(&t.user, now, t.ttl)
        );
        return;
    }
    let running = match emedia_server::start(cli.serve).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("emedia-server: {e}");
            std::process::exit(2);
        }
    };
    if running.dev_mode {
        tracing::warn!("*** DEV MODE: no --app-secret given. A random secret signs tokens and ***");
        tracing::warn!(
            "*** GET /dev/token?user=NAME hands a token to anyone. Never expose this. ***"
        );
    }
    // Scripts read this line to find the port when started with :0.
    println!("emedia-server listening on http://{}", running.addr);
    tokio::select! {
        _ = running.wait() => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
    }
}

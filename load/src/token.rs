//! Login tokens, minted here as an app's backend would: HS256 over `{sub, app, exp}`
//! with the server's app secret.

use jsonwebtoken::{encode, EncodingKey, Header};
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    app: &'a str,
    iat: u64,
    exp: u64,
}

pub struct Minter {
    app_id: String,
    key: EncodingKey,
}

impl Minter {
    pub fn new(app_id: &str, secret: &str) -> Self {
        Self {
            app_id: app_id.to_owned(),
            key: EncodingKey::from_secret(secret.as_bytes()),
        }
    }

    pub fn token(&self, user: &str) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            sub: user,
            app: &self.app_id,
            iat: now,
            exp: now + 3600,
        };
        encode(&Header::default(), &claims, &self.key).expect("HS256 signing cannot fail")
    }
}

//! Tokens, tickets and role tokens: HS256 JWTs made and checked with `jsonwebtoken`.
//!
//! Expiry is checked here against the caller's clock rather than by the library,
//! so that the sans-IO core decides with the time it was handed.
//!
//! Tickets and role tokens are signed with a key derived from the app secret, so a
//! ticket can never pass as a login token or the other way round.

use emedia_protocol::{ConferenceId, ErrorBody, ErrorCode, Role};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Leeway for clock skew between the app's token minter and this server.
pub const LEEWAY_SECS: u64 = 60;

/// The claims of a login token, as the app's backend mints them.
#[derive(Debug, Serialize, Deserialize)]
pub struct UserClaims {
    /// The user id.
    pub sub: String,
    /// The app id; must be this server's.
    pub app: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// What a ticket or role token grants: this user may join this conference with this role.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Grant {
    pub sub: String,
    pub cid: ConferenceId,
    pub role: Role,
    /// When it was issued, in milliseconds, so a kick or a role change in the same
    /// second can still tell older grants apart.
    pub iat_ms: u64,
    pub exp: u64,
}

/// What an RTMP URL's token lets its holder do: push or play one stream. The RTMP
/// server hands it back in its on_publish / on_play callbacks.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RtmpAction {
    Push,
    Play,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RtmpClaims {
    pub cid: ConferenceId,
    /// The stream id, which is also the RTMP stream name.
    pub stream: String,
    pub act: RtmpAction,
    pub exp: u64,
}

/// The app's identity and signing keys.
#[derive(Clone)]
pub struct Keys {
    app_id: String,
    user_enc: EncodingKey,
    user_dec: DecodingKey,
    grant_enc: EncodingKey,
    grant_dec: DecodingKey,
    rtmp_enc: EncodingKey,
    rtmp_dec: DecodingKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Keys")
            .field("app_id", &self.app_id)
            .finish()
    }
}

impl Keys {
    pub fn new(app_id: &str, secret: &[u8]) -> Self {
        let grant_secret = [secret, b"/emedia-grant"].concat();
        let rtmp_secret = [secret, b"/emedia-rtmp"].concat();
        Self {
            app_id: app_id.to_owned(),
            user_enc: EncodingKey::from_secret(secret),
            user_dec: DecodingKey::from_secret(secret),
            grant_enc: EncodingKey::from_secret(&grant_secret),
            grant_dec: DecodingKey::from_secret(&grant_secret),
            rtmp_enc: EncodingKey::from_secret(&rtmp_secret),
            rtmp_dec: DecodingKey::from_secret(&rtmp_secret),
        }
    }

    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// Mints a login token, as `emedia-server token` and `/dev/token` do.
    pub fn mint_user_token(&self, user: &str, now_secs: u64, ttl_secs: u64) -> String {
        let claims = UserClaims {
            sub: user.to_owned(),
            app: self.app_id.clone(),
            exp: now_secs + ttl_secs,
            nbf: None,
            iat: Some(now_secs),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.user_enc)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Checks a login token and returns the user id.
    pub fn verify_user_token(&self, token: &str, now_secs: u64) -> Result<String, ErrorBody> {
        let fail = |why: &str| ErrorBody::new(ErrorCode::TokenInvalid, format!("token {why}"));
        let claims = decode::<UserClaims>(token, &self.user_dec, &strict_hs256(&["exp", "sub"]))
            .map_err(|e| fail(&format!("rejected: {e}")))?
            .claims;
        if claims.exp + LEEWAY_SECS < now_secs {
            return Err(fail("expired"));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now_secs + LEEWAY_SECS) {
            return Err(fail("not valid yet"));
        }
        if claims.app != self.app_id {
            return Err(fail("is for another app"));
        }
        if !valid_user_id(&claims.sub) {
            return Err(fail("has an invalid user id"));
        }
        Ok(claims.sub)
    }

    pub fn mint_grant(&self, grant: &Grant) -> String {
        encode(&Header::new(Algorithm::HS256), grant, &self.grant_enc)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Checks a ticket or role token for `user` and `confr`.
    pub fn verify_grant(
        &self,
        token: &str,
        user: &str,
        confr: &ConferenceId,
        now_secs: u64,
    ) -> Result<Grant, ErrorBody> {
        let invalid = |why: &str| ErrorBody::new(ErrorCode::TicketInvalid, format!("ticket {why}"));
        let grant = decode::<Grant>(token, &self.grant_dec, &strict_hs256(&["exp", "sub"]))
            .map_err(|e| invalid(&format!("rejected: {e}")))?
            .claims;
        if grant.cid != *confr {
            return Err(invalid("is for another conference"));
        }
        if grant.sub != user {
            return Err(invalid("is for another user"));
        }
        if grant.exp + LEEWAY_SECS < now_secs {
            return Err(ErrorBody::new(ErrorCode::TicketExpired, "ticket expired"));
        }
        Ok(grant)
    }
}

impl Keys {
    pub fn mint_rtmp(&self, claims: &RtmpClaims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.rtmp_enc)
            .expect("HS256 encoding of plain claims cannot fail")
    }

    /// Checks an RTMP URL's token for `act` on the stream `stream`.
    pub fn verify_rtmp(
        &self,
        token: &str,
        stream: &str,
        act: RtmpAction,
        now_secs: u64,
    ) -> Result<RtmpClaims, ErrorBody> {
        let invalid =
            |why: &str| ErrorBody::new(ErrorCode::TokenInvalid, format!("stream token {why}"));
        let claims = decode::<RtmpClaims>(token, &self.rtmp_dec, &strict_hs256(&["exp"]))
            .map_err(|e| invalid(&format!("rejected: {e}")))?
            .claims;
        if claims.stream != stream || claims.act != act {
            return Err(invalid("is for another stream or action"));
        }
        if claims.exp + LEEWAY_SECS < now_secs {
            return Err(invalid("expired"));
        }
        Ok(claims)
    }
}

/// HS256 only (never `none` or another algorithm); the time checks are ours.
fn strict_hs256(required: &[&str]) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.set_required_spec_claims(required);
    v
}

/// User ids are what members are called on screen and in kick lists: keep them printable.
pub fn valid_user_id(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 64
        && user
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn keys() -> Keys {
        Keys::new("app1", b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn user_token_round_trip() {
        let k = keys();
        let t = k.mint_user_token("alice", NOW, 3600);
        assert_eq!(k.verify_user_token(&t, NOW).unwrap(), "alice");
    }

    #[test]
    fn user_token_rejections() {
        let k = keys();
        let expired = k.mint_user_token("alice", NOW - 7200, 3600);
        let e = k.verify_user_token(&expired, NOW).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::TokenInvalid, "token expired")
        );

        let other_secret = Keys::new("app1", b"another secret, also 32 bytes...");
        let forged = other_secret.mint_user_token("alice", NOW, 3600);
        assert_eq!(
            k.verify_user_token(&forged, NOW).unwrap_err().code,
            ErrorCode::TokenInvalid
        );

        let other_app = Keys::new("app2", b"0123456789abcdef0123456789abcdef");
        let t = other_app.mint_user_token("alice", NOW, 3600);
        assert!(k
            .verify_user_token(&t, NOW)
            .unwrap_err()
            .message
            .contains("another app"));

        assert!(k.verify_user_token("not.a.jwt", NOW).is_err());
    }

    #[test]
    fn grants_are_bound_to_user_and_conference() {
        let k = keys();
        let g = Grant {
            sub: "bob".into(),
            cid: "C1".into(),
            role: Role::Talker,
            iat_ms: NOW * 1000,
            exp: NOW + 600,
        };
        let t = k.mint_grant(&g);
        assert_eq!(k.verify_grant(&t, "bob", &"C1".into(), NOW).unwrap(), g);
        let wrong_conf = k.verify_grant(&t, "bob", &"C2".into(), NOW).unwrap_err();
        assert_eq!(wrong_conf.code, ErrorCode::TicketInvalid);
        let wrong_user = k.verify_grant(&t, "eve", &"C1".into(), NOW).unwrap_err();
        assert_eq!(wrong_user.code, ErrorCode::TicketInvalid);
        let late = k
            .verify_grant(&t, "bob", &"C1".into(), NOW + 3600)
            .unwrap_err();
        assert_eq!(late.code, ErrorCode::TicketExpired);
        // A ticket is not a login token.
        assert!(k.verify_user_token(&t, NOW).is_err());
    }
}

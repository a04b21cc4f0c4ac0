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
        if claims.exp.saturating_add(LEEWAY_SECS) < now_secs {
            return Err(fail("expired"));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now_secs.saturating_add(LEEWAY_SECS))
        {
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
        if grant.exp.saturating_add(LEEWAY_SECS) < now_secs {
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
        if claims.exp.saturating_add(LEEWAY_SECS) < now_secs {
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

    // Tokens built by hand, so each is wrong in exactly one way.

    /// base64url without padding, as JWT segments are written.
    fn b64(bytes: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            // 1, 2 or 3 bytes make 2, 3 or 4 characters.
            for i in 0..=chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            }
        }
        out
    }

    /// A JWT of these header and payload JSON texts, signed with `key` using `alg`,
    /// or with an empty signature.
    fn forge(header: &str, payload: &str, key: Option<(&EncodingKey, Algorithm)>) -> String {
        let msg = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let sig = key.map_or(String::new(), |(k, alg)| {
            jsonwebtoken::crypto::sign(msg.as_bytes(), k, alg).unwrap()
        });
        format!("{msg}.{sig}")
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    fn user_claims(sub: &str, exp: u64) -> serde_json::Value {
        serde_json::json!({ "sub": sub, "app": "app1", "exp": exp })
    }

    /// Signed properly: only the claims can be wrong.
    fn signed(k: &Keys, claims: &serde_json::Value) -> String {
        forge(
            HS256,
            &claims.to_string(),
            Some((&k.user_enc, Algorithm::HS256)),
        )
    }

    #[test]
    fn the_base64url_helper_matches_the_library() {
        let k = keys();
        let claims = user_claims("alice", NOW + 600);
        let ours = signed(&k, &claims);
        let theirs = encode(&Header::new(Algorithm::HS256), &claims, &k.user_enc).unwrap();
        assert_eq!(k.verify_user_token(&ours, NOW).unwrap(), "alice");
        // The payload segment is byte for byte what the library writes.
        assert_eq!(ours.split('.').nth(1), theirs.split('.').nth(1));
        assert_eq!(b64(b"a"), "YQ");
        assert_eq!(b64(b"ab"), "YWI");
        assert_eq!(b64(b"abc"), "YWJj");
        assert_eq!(b64(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn login_tokens_are_hs256_only_with_their_claims_and_clock() {
        let k = keys();
        let good = user_claims("alice", NOW + 600);
        let payload = good.to_string();
        let hs = |alg| encode(&Header::new(alg), &good, &k.user_enc).unwrap();
        let valid = signed(&k, &good);
        let (head, rest) = valid.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let with_payload = |claims: serde_json::Value| {
            format!("{head}.{}.{sig}", b64(claims.to_string().as_bytes()))
        };
        let mut flipped_sig = sig.to_owned();
        let first = if sig.starts_with('A') { "B" } else { "A" };
        flipped_sig.replace_range(..1, first);
        let without = |field: &str| {
            let mut c = good.clone();
            c.as_object_mut().unwrap().remove(field);
            signed(&k, &c)
        };
        let with = |field: &str, v: serde_json::Value| {
            let mut c = good.clone();
            c[field] = v;
            signed(&k, &c)
        };
        let other = Keys::new("app1", b"another secret, also 32 bytes...");
        let hmac = Some((&k.user_enc, Algorithm::HS256));

        // (what, token, words the refusal must contain)
        #[rustfmt::skip]
        let refused: Vec<(&str, String, &str)> = vec![
            ("alg none, unsigned", forge(r#"{"alg":"none","typ":"JWT"}"#, &payload, None), "none"),
            ("alg None, unsigned", forge(r#"{"alg":"None"}"#, &payload, None), "None"),
            ("alg none with an HS256 signature", forge(r#"{"alg":"none"}"#, &payload, hmac), "none"),
            ("no alg", forge(r#"{"typ":"JWT"}"#, &payload, hmac), "alg"),
            ("alg in lower case", forge(r#"{"alg":"hs256"}"#, &payload, hmac), "hs256"),
            ("HS384", hs(Algorithm::HS384), "InvalidAlgorithm"),
            ("HS512", hs(Algorithm::HS512), "InvalidAlgorithm"),
            // The classic confusion: an RS256 header over an HMAC made with the secret.
            ("RS256 header, HMAC signature", forge(r#"{"alg":"RS256","typ":"JWT"}"#, &payload, hmac), "InvalidAlgorithm"),
            ("another secret", other.mint_user_token("alice", NOW, 600), "InvalidSignature"),
            ("a ticket", k.mint_grant(&Grant { sub: "alice".into(), cid: "C1".into(), role: Role::Talker, iat_ms: 0, exp: NOW + 600 }), "InvalidSignature"),
            ("no signature", format!("{head}.{}.", b64(payload.as_bytes())), "InvalidSignature"),
            ("a changed signature", format!("{head}.{}.{flipped_sig}", b64(payload.as_bytes())), "InvalidSignature"),
            ("payload: another user", with_payload(user_claims("mallory", NOW + 600)), "InvalidSignature"),
            ("payload: a later expiry", with_payload(user_claims("alice", NOW + 999_999)), "InvalidSignature"),
            ("two segments", format!("{head}.{}", b64(payload.as_bytes())), "InvalidToken"),
            ("four segments", format!("{valid}.{sig}"), "Base64"),
            ("empty", String::new(), "InvalidToken"),
            // Parsers that keep the first or the last of two keys must not disagree here.
            ("a duplicated sub", forge(HS256, r#"{"sub":"alice","sub":"admin","app":"app1","exp":1800000600}"#, hmac), "duplicate field"),
            ("no exp", without("exp"), "exp"),
            ("exp as text", with("exp", serde_json::json!((NOW + 600).to_string())), "exp"),
            ("no sub", without("sub"), "sub"),
            ("no app", without("app"), "app"),
            ("another app", with("app", "app2".into()), "another app"),
            ("an invalid user id", with("sub", "bob smith".into()), "invalid user id"),
            ("expired beyond the leeway", signed(&k, &user_claims("alice", NOW - LEEWAY_SECS - 1)), "expired"),
            ("nbf beyond the leeway", with("nbf", (NOW + LEEWAY_SECS + 1).into()), "not valid yet"),
        ];
        for (what, token, why) in refused {
            let e = k
                .verify_user_token(&token, NOW)
                .expect_err(&format!("{what}: accepted"));
            assert_eq!(e.code, ErrorCode::TokenInvalid, "{what}");
            assert!(
                e.message.starts_with("token ") && e.message.contains(why),
                "{what}: {:?} does not say {why:?}",
                e.message
            );
        }

        // Clock skew within the leeway is forgiven.
        let accepted = [
            (
                "expired within the leeway",
                user_claims("alice", NOW - LEEWAY_SECS),
            ),
            ("nbf within the leeway", {
                let mut c = good.clone();
                c["nbf"] = (NOW + LEEWAY_SECS).into();
                c
            }),
            ("nbf in the past", {
                let mut c = good.clone();
                c["nbf"] = (NOW - 10).into();
                c
            }),
        ];
        for (what, claims) in accepted {
            let r = k.verify_user_token(&signed(&k, &claims), NOW);
            assert_eq!(r.as_deref(), Ok("alice"), "{what}");
        }
    }

    /// A token that names the largest expiry there is has not expired: the leeway must
    /// not overflow (a panic in debug builds, and "expired" in release ones).
    #[test]
    fn the_largest_expiry_does_not_overflow() {
        let k = keys();
        let t = signed(&k, &user_claims("alice", u64::MAX));
        assert_eq!(k.verify_user_token(&t, NOW).as_deref(), Ok("alice"));
        let g = Grant {
            sub: "bob".into(),
            cid: "C1".into(),
            role: Role::Talker,
            iat_ms: 0,
            exp: u64::MAX,
        };
        assert!(k
            .verify_grant(&k.mint_grant(&g), "bob", &"C1".into(), NOW)
            .is_ok());
    }

    #[test]
    fn tickets_refuse_other_conferences_users_algorithms_and_old_age() {
        let k = keys();
        let grant = |exp| Grant {
            sub: "bob".into(),
            cid: "C1".into(),
            role: Role::Talker,
            iat_ms: NOW * 1000,
            exp,
        };
        let good = grant(NOW + 600);
        let payload = serde_json::to_string(&good).unwrap();
        let other = Keys::new("app1", b"another secret, also 32 bytes...");
        let c1: ConferenceId = "C1".into();

        // (what, ticket, user, conference, code, words the refusal must contain)
        #[rustfmt::skip]
        let refused: Vec<(&str, String, &str, &str, ErrorCode, &str)> = vec![
            ("another conference", k.mint_grant(&good), "bob", "C2", ErrorCode::TicketInvalid, "another conference"),
            ("another user", k.mint_grant(&good), "eve", "C1", ErrorCode::TicketInvalid, "another user"),
            ("HS384", encode(&Header::new(Algorithm::HS384), &good, &k.grant_enc).unwrap(), "bob", "C1", ErrorCode::TicketInvalid, "InvalidAlgorithm"),
            ("HS512", encode(&Header::new(Algorithm::HS512), &good, &k.grant_enc).unwrap(), "bob", "C1", ErrorCode::TicketInvalid, "InvalidAlgorithm"),
            ("alg none", forge(r#"{"alg":"none"}"#, &payload, None), "bob", "C1", ErrorCode::TicketInvalid, "none"),
            ("RS256 header", forge(r#"{"alg":"RS256"}"#, &payload, Some((&k.grant_enc, Algorithm::HS256))), "bob", "C1", ErrorCode::TicketInvalid, "InvalidAlgorithm"),
            ("signed as a login token", forge(HS256, &payload, Some((&k.user_enc, Algorithm::HS256))), "bob", "C1", ErrorCode::TicketInvalid, "InvalidSignature"),
            ("another secret", other.mint_grant(&good), "bob", "C1", ErrorCode::TicketInvalid, "InvalidSignature"),
            ("no cid", forge(HS256, r#"{"sub":"bob","role":3,"iat_ms":0,"exp":1800000600}"#, Some((&k.grant_enc, Algorithm::HS256))), "bob", "C1", ErrorCode::TicketInvalid, "cid"),
            ("no such role", forge(HS256, r#"{"sub":"bob","cid":"C1","role":5,"iat_ms":0,"exp":1800000600}"#, Some((&k.grant_enc, Algorithm::HS256))), "bob", "C1", ErrorCode::TicketInvalid, "Role"),
            ("expired beyond the leeway", k.mint_grant(&grant(NOW - LEEWAY_SECS - 1)), "bob", "C1", ErrorCode::TicketExpired, "expired"),
        ];
        for (what, ticket, user, confr, code, why) in refused {
            let e = k
                .verify_grant(&ticket, user, &confr.into(), NOW)
                .expect_err(&format!("{what}: accepted"));
            assert_eq!(e.code, code, "{what}: {}", e.message);
            assert!(
                e.message.starts_with("ticket ") && e.message.contains(why),
                "{what}: {:?} does not say {why:?}",
                e.message
            );
        }

        // Expired, but within the leeway.
        let late = k.mint_grant(&grant(NOW - LEEWAY_SECS));
        assert_eq!(
            k.verify_grant(&late, "bob", &c1, NOW).unwrap().exp,
            NOW - LEEWAY_SECS
        );
    }
}

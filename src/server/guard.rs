//! Basic auth and extra headers of the web config, on every endpoint.
//! bcrypt is slow on purpose: one check at a time, off the async workers, and a
//! verified password is remembered (by its SHA-256) so a scraper costs one check.
//! An unknown user costs a check too, so timing does not tell who exists.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::web::Watched;

/// Compared against when the user is unknown (a hash of nothing in particular).
const DUMMY: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Verified (user, hash, SHA-256 of password) triples, at most this many.
const REMEMBERED: usize = 1024;

/// A verified login: user, bcrypt hash, SHA-256 of the password.
type Login = (String, String, Vec<u8>);

static VERIFIED: Mutex<Option<HashSet<Login>>> = Mutex::new(None);
static BCRYPT: Mutex<()> = Mutex::new(());

fn credentials(request: &Request) -> Option<(String, String)> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

async fn verified(user: String, password: String, hash: Option<String>) -> bool {
    let digest = ring::digest::digest(&ring::digest::SHA256, password.as_bytes())
        .as_ref()
        .to_vec();
    if let Some(h) = &hash {
        let key = (user.clone(), h.clone(), digest.clone());
        let seen = VERIFIED.lock().unwrap_or_else(|e| e.into_inner());
        if seen.as_ref().is_some_and(|s| s.contains(&key)) {
            return true;
        }
    }
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY.to_string());
    let checked = hash.clone();
    let ok = tokio::task::spawn_blocking(move || {
        let _one_at_a_time = BCRYPT.lock().unwrap_or_else(|e| e.into_inner());
        bcrypt::verify(password, &checked).unwrap_or(false)
    })
    .await
    .unwrap_or(false)
        && known;
    if ok {
        let mut seen = VERIFIED.lock().unwrap_or_else(|e| e.into_inner());
        let set = seen.get_or_insert_with(HashSet::new);
        if set.len() >= REMEMBERED {
            set.clear();
        }
        set.insert((user, hash, digest));
    }
    ok
}

pub async fn guard(State(web): State<Arc<Watched>>, request: Request, next: Next) -> Response {
    let config = web.current();
    if !config.users.is_empty() {
        let allowed = match credentials(&request) {
            Some((user, password)) => {
                let hash = config.users.get(&user).cloned();
                verified(user, password, hash).await
            }
            None => false,
        };
        if !allowed {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic")],
                "Unauthorized\n",
            )
                .into_response();
        }
    }
    let mut response = next.run(request).await;
    for (name, value) in &config.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().insert(n, v);
        }
    }
    response
}

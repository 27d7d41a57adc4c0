//! Who is signed in, shared by the header and every page: a resource that refetches whenever
//! something changes the session (sign-in, sign-out, joining an organisation).

use leptos::prelude::*;

use crate::api::account::{Me, current_user};
use crate::api::error::ApiError;

/// The session context.
#[derive(Clone, Copy)]
pub struct Session {
    version: RwSignal<u32>,
    /// The signed-in account, `None` when signed out.
    pub user: Resource<Result<Option<Me>, ApiError>>,
}

impl Session {
    /// Refetches the account after a change.
    pub fn changed(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// Creates the session context; call once at the root.
pub fn provide_session() {
    let version = RwSignal::new(0_u32);
    let user = Resource::new(move || version.get(), |_| current_user());
    provide_context(Session { version, user });
}

/// The session context.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Where to go after signing in: the `next` query parameter if it is a path on this site.
pub fn safe_next(next: Option<String>, fallback: &str) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => fallback.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/orgs/acme".into()), "/orgs"), "/orgs/acme");
        for evil in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(evil.into()), "/orgs"), "/orgs", "{evil}");
        }
        assert_eq!(safe_next(None, "/orgs"), "/orgs");
    }
}

//! Parsed input: values that passed their checks once, at the edge, and are trusted after.

use std::fmt;

/// A normalised (trimmed, lower-cased) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Accepts `local@domain.tld` with no spaces or control characters.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.");
        }
        if email.len() > Self::MAX_LEN {
            return Err("That email address is too long.");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("Enter an email address like name@example.com.");
        };
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        let clean = email.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && c != '<' && c != '>' && c != ',' && c != '"'
        });
        if local.is_empty() || local.len() > 64 || !valid_domain || local.contains('@') || !clean {
            return Err("Enter an email address like name@example.com.");
        }
        Ok(Self(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (organisation, team, role, token): 1–100 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Enter a name.");
    }
    if name.chars().count() > 100 {
        return Err("Use at most 100 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("Names cannot contain control characters.");
    }
    Ok(name.to_owned())
}

/// An organisation's URL name: 2–48 of `a-z`, `0-9` and inner hyphens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSlug(String);

impl OrgSlug {
    /// Parses a slug given explicitly.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let slug = raw.trim();
        let ok_chars = slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        // A slug shaped like an organisation id could shadow another organisation in URLs.
        if uuid::Uuid::parse_str(slug).is_ok() {
            return Err("Choose an address that does not look like an organisation id.");
        }
        if !(2..=48).contains(&slug.len())
            || !ok_chars
            || slug.starts_with('-')
            || slug.ends_with('-')
        {
            return Err(
                "Use 2–48 lower-case letters, digits and hyphens, not starting or ending with a hyphen.",
            );
        }
        Ok(Self(slug.to_owned()))
    }

    /// Derives a slug from a display name (`"Acme Corp."` → `acme-corp`).
    pub fn from_name(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= 40 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        Self(if slug.len() < 2 {
            format!("org-{slug}").trim_end_matches('-').to_owned()
        } else {
            slug.to_owned()
        })
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.io",
            "ada@localhost",
            "a b@x.io",
            "ada@x..io",
            "a<b>@x.io",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@x.io", "a".repeat(65))).is_err());
    }

    #[test]
    fn slugs() {
        assert_eq!(OrgSlug::from_name("Acme Corp.").as_str(), "acme-corp");
        assert_eq!(OrgSlug::from_name("Ünïcode Ltd").as_str(), "n-code-ltd");
        assert_eq!(OrgSlug::from_name("!").as_str(), "org");
        assert!(OrgSlug::parse("acme-1").is_ok());
        for bad in ["a", "-acme", "acme-", "Acme", "ac me", &"a".repeat(49)] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn derived_slugs_always_parse(name in "\\PC{0,80}") {
            let slug = OrgSlug::from_name(&name);
            prop_assert!(OrgSlug::parse(slug.as_str()).is_ok(), "{:?} -> {:?}", name, slug);
        }

        #[test]
        fn parsed_emails_are_stable(raw in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
        }
    }
}
